"""Images (Glance) and stacks (Heat) against the simulator: the sweep's requests with and without the
services in the catalog, check_vio_image and check_vio_stack end to end, and the generated aggregates."""

from __future__ import annotations

import json

import pytest

PROJECTS = [{"name": "admin"}, {"name": "webshop"}, {"name": "analytics"}]
IMAGES = [
    {"name": "cirros", "status": "active"},
    {"name": "ubuntu", "status": "active", "project": "webshop", "visibility": "private"},
    {"name": "broken-upload", "status": "killed", "updated_at": "-3h"},
    {"name": "stuck-upload", "status": "queued", "updated_at": "-2h"},
    {"name": "fresh-upload", "status": "saving", "updated_at": "-2m"},
    {"name": "retired", "status": "deactivated"},
]
STACKS = [
    {"name": "shop", "project": "webshop", "status": "CREATE_FAILED",
     "status_reason": "Resource CREATE failed: ResourceInError: resources.web: No valid host was found"},
    {"name": "shop-db", "project": "webshop", "status": "CREATE_COMPLETE"},
    {"name": "etl", "project": "analytics", "status": "UPDATE_IN_PROGRESS", "updated_time": "-3h"},
]


def _scenario(glance: bool = True, heat: bool = True) -> dict:
    return {"settings": {"glance": glance, "heat": heat}, "projects": PROJECTS, "images": IMAGES,
            "stacks": STACKS}


def _optional_requests(paths: dict) -> dict[str, int]:
    """Requests per optional service (the endpoint probe, version discovery and lists)."""
    out = {"image": 0, "orchestration": 0}
    for key, n in paths.items():
        path = key.split(" ", 1)[1]
        for service in out:
            if path.startswith(f"/{service}"):
                out[service] += n
    return out


def test_the_checks_judge_images_and_stacks_end_to_end(make_cloud):
    cloud = make_cloud(_scenario())
    cloud.sweep()
    r = cloud.run("check_vio_image")
    assert r.rc == 2 and r.status.startswith("VIO IMAGE CRITICAL - 1 CRITICAL, 1 WARNING of 6 images: "
                                             "image broken-upload is killed"), r
    assert "image stuck-upload stuck queued for 2 h" in r.status, r
    assert r.perfdata["total"] == 6 and r.perfdata["killed"] == 1 and r.perfdata["queued"] == 1, r
    assert cloud.run("check_vio_image", "--name", "cirros").status == "VIO IMAGE OK - image cirros is active"
    r = cloud.run("check_vio_image", "--name", "retired")
    assert r.rc == 0 and "deactivated by an admin" in r.status, r
    r = cloud.run("check_vio_image", "--name", "fresh-upload")
    assert r.rc == 0 and "image fresh-upload saving for 2 min" in r.status, r
    r = cloud.run("check_vio_image", "--include-projects", "webshop")
    assert r.rc == 0 and r.status == "VIO IMAGE OK - 1 image OK", r

    r = cloud.run("check_vio_stack")
    assert r.rc == 2 and "1 CRITICAL, 1 WARNING of 3 stacks" in r.status, r
    assert "stack shop is CREATE_FAILED: Resource CREATE failed: ResourceInError" in r.status, r
    r = cloud.run("check_vio_stack", "--project", "analytics")
    assert r.rc == 1 and r.status.startswith("VIO STACK WARNING - project analytics: 1 WARNING of 1 stack"), r
    assert "stuck UPDATE_IN_PROGRESS for 3 h" in r.status, r
    r = cloud.run("check_vio_stack", "--name", "shop-db")
    assert r.rc == 0 and r.status == "VIO STACK OK - stack shop-db is CREATE_COMPLETE", r
    r = cloud.run("check_vio_stack", "--name", "nosuch")
    assert r.rc == 3 and "not found" in r.status, r

    # the admin API patches their status; the next sweep judges it
    cloud.sim.patch("images", "broken-upload", status="active")
    cloud.sim.patch("stacks", "shop", status="UPDATE_COMPLETE", status_reason="done")
    cloud.sweep()
    assert cloud.run("check_vio_image", "--name", "broken-upload").rc == 0
    assert cloud.run("check_vio_stack", "--project", "webshop").rc == 0


def test_a_catalog_without_glance_and_heat_costs_no_request_and_writes_nothing(make_cloud, tmp_path):
    cloud = make_cloud(_scenario(glance=False, heat=False))
    cloud.sim.reset_counters()
    out = json.loads(cloud.sweep("--page-size", "2").stdout)
    assert _optional_requests(cloud.sim.counters()["paths"]) == {"image": 0, "orchestration": 0}
    assert out["requests"] == cloud.sim.counters()["total"]
    r = cloud.run("check_vio_image")
    assert (r.rc, r.lines[0]) == (3, "VIO IMAGE UNKNOWN - no image service (Glance) in this region's catalog: "
                                     "no images to check"), r
    r = cloud.run("check_vio_stack", "--name", "shop")
    assert r.rc == 3 and r.lines[0] == ("VIO STACK UNKNOWN - no orchestration service (Heat) in this region's "
                                        "catalog: no stacks to check"), r
    assert cloud.run("check_vio_discovery").rc == 0
    conf = tmp_path / "without.conf"
    assert cloud.run("vio-icinga", "generate", "--output", conf).rc == 1  # 1: written (changed)
    text = conf.read_text()
    assert "vio_image" not in text and "vio_stack" not in text


def test_the_generator_writes_the_images_and_stacks_aggregates_when_the_catalog_has_them(make_cloud, tmp_path):
    cloud = make_cloud(_scenario())
    cloud.sweep()
    conf = tmp_path / "with.conf"
    r = cloud.run("vio-icinga", "generate", "--output", conf, "--include-projects", "webshop")
    assert r.rc == 1, r  # 1: written (changed)
    text = conf.read_text()
    for name, command in (("images", "vio_image"), ("stacks", "vio_stack")):
        assert f'display_name = "{name}"' in text and f'check_command = "{command}"' in text, text[:3000]
    assert text.count("vio_image_include_projects") == 1 and text.count("vio_stack_include_projects") == 1
    only_glance = make_cloud(_scenario(heat=False))
    only_glance.sweep()
    conf = tmp_path / "glance.conf"
    assert only_glance.run("vio-icinga", "generate", "--output", conf).rc == 1
    text = conf.read_text()
    assert 'check_command = "vio_image"' in text and "vio_stack" not in text


@pytest.mark.parametrize("page_size", [2, 1000])
def test_the_sweep_costs_the_documented_requests_for_glance_and_heat(make_cloud, page_size):
    """Per service: its endpoint probe (as every catalog endpoint), Glance's version discovery, and one
    list request per full page plus the last (BENCHMARKS.md's request formula)."""
    totals = {}
    for present in (True, False):
        cloud = make_cloud(_scenario(glance=present, heat=present))
        cloud.sweep()  # a token kept: the second sweep is the one counted
        cloud.sim.reset_counters()
        out = json.loads(cloud.sweep("--page-size", str(page_size)).stdout)
        paths = cloud.sim.counters()["paths"]
        totals[present] = out["requests"]
        assert out["requests"] == cloud.sim.counters()["total"]
        if present:
            lists = {k: n for k, n in paths.items() if k.endswith(("/v2/images", "/stacks"))}
            assert lists == {"GET /image/v2/images": len(IMAGES) // page_size + 1,
                             **{k: len(STACKS) // page_size + 1 for k in lists if k.endswith("/stacks")}}
            assert _optional_requests(paths) == {"image": 1 + 1 + len(IMAGES) // page_size + 1,
                                                 "orchestration": 1 + len(STACKS) // page_size + 1}
    pages = len(IMAGES) // page_size + 1 + len(STACKS) // page_size + 1
    assert totals[True] - totals[False] == pages + 3  # 2 endpoint probes, 1 version discovery
