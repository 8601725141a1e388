"""The fault suite for images (Glance) and stacks (Heat): their lists failing, hanging, malformed or with
fields left out or undocumented give clear answers, never OK; a failing list is the service's finding (the
rest of the sweep stands) and keeps the last known records (a list that fails is not proof of deletion)."""

from __future__ import annotations

import json

import pytest

SCENARIO = {
    "projects": [{"name": "admin"}, {"name": "webshop"}],
    "images": [{"name": "cirros", "status": "active"}, {"name": "ubuntu", "status": "active"}],
    "stacks": [{"name": "shop", "project": "webshop", "status": "CREATE_COMPLETE"}],
}
LISTS = {"image": r"^/image/v2/images$", "stack": r"^/orchestration/v1/[^/]+/stacks$"}
NAMES = {"image": "Glance image list", "stack": "Heat stack list"}


@pytest.fixture
def cloud(make_cloud):
    c = make_cloud(SCENARIO)
    c.sweep()
    for check in ("check_vio_image", "check_vio_stack"):
        assert c.run(check).rc == 0
    return c


def _not_ok(r) -> None:
    assert r.rc in (1, 2, 3) and " OK - " not in r.status and "Traceback" not in r.stdout + r.stderr, r


@pytest.mark.parametrize("kind", sorted(LISTS))
@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 403}, {"malformed": True},
                                   {"endless_paging": True}])
def test_a_failing_list_is_the_services_finding_and_keeps_the_last_records(cloud, kind, fault):
    cloud.sim.fault(path=LISTS[kind], **fault)
    out = json.loads(cloud.sweep().stdout)  # the sweep stands
    assert out["counts"]["servers"] == 0 or out["counts"]["servers"] >= 0
    r = cloud.run(f"check_vio_{kind}")
    _not_ok(r)
    assert r.rc == 3 and NAMES[kind] in r.stdout, r
    assert "none of" in r.status and "verified" in r.status, r  # the last known records, unverified
    assert r.perfdata["total"] == (2 if kind == "image" else 1), r
    one = cloud.run(f"check_vio_{kind}", "--name", "cirros" if kind == "image" else "shop")
    assert one.rc == 3 and "unverified" in one.status and "last known state kept" in one.status, one
    d = cloud.run("check_vio_discovery")
    assert d.rc == 1 and d.status.startswith(f"VIO DISCOVERY WARNING - {NAMES[kind]}: "), d
    other = "stack" if kind == "image" else "image"
    assert cloud.run(f"check_vio_{other}").rc == 0  # the other service's list stands
    cloud.sim.clear_faults()
    cloud.sweep()
    assert cloud.run(f"check_vio_{kind}").rc == 0 and cloud.run("check_vio_discovery").rc == 0


def test_a_list_that_fails_on_the_first_sweep_is_never_ok(make_cloud):
    c = make_cloud(SCENARIO)
    c.sim.fault(path=LISTS["image"], status=503)
    c.sweep()
    r = c.run("check_vio_image")
    assert r.rc == 3 and r.status.startswith("VIO IMAGE UNKNOWN - Glance image list: image /images: HTTP 503"), r
    assert "no images in the inventory" not in r.status.split(";")[0], r


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_a_hanging_list_is_its_services_finding_within_t_and_never_reads_ok(cloud, kind):
    """The hanging list may use a share of what is left of -t (optional_sweep.budget_share): the sweep
    stands with the rest of the cloud current, and the service's check is not OK."""
    cloud.sim.fault(path=LISTS[kind], hang=True)
    r = cloud.run("vio-discover", "-t", "6", timeout=30)
    assert r.rc == 0 and "Traceback" not in r.stdout + r.stderr, r
    _not_ok(cloud.run(f"check_vio_{kind}", "--max-age", "1h"))
    _not_ok(cloud.run("check_vio_discovery"))


@pytest.mark.parametrize("kind, field", [("images", "status"), ("stacks", "stack_status")])
def test_a_status_left_out_or_undocumented_is_unverified(cloud, kind, field):
    check = "check_vio_image" if kind == "images" else "check_vio_stack"
    cloud.sim.fault(missing_fields={kind: [field]})
    cloud.sweep()
    r = cloud.run(check)
    _not_ok(r)
    assert "none of" in r.status and f"reported no {field}" in r.status, r
    cloud.sim.clear_faults()
    cloud.sim.fault(replace_fields={kind: {field: "SHINY"}})
    cloud.sweep()
    r = cloud.run(check)
    _not_ok(r)
    assert "undocumented" in r.status, r
    cloud.sim.clear_faults()
    cloud.sim.fault(replace_fields={kind: {field: ["active"]}})
    cloud.sweep()
    _not_ok(cloud.run(check))


def test_a_record_without_an_id_fails_the_services_list_only(cloud):
    cloud.sim.fault(replace_fields={"stacks": {"id": None}})
    cloud.sweep()
    r = cloud.run("check_vio_stack")
    assert r.rc == 3 and "malformed stack record" in r.stdout, r
    assert cloud.run("check_vio_image").rc == 0


def test_hostile_names_and_reasons_stay_inert(make_cloud):
    hostile = "x\n| evil=1 \x1b[31m$(id)"
    c = make_cloud({"projects": [{"name": "admin"}],
                    "images": [{"name": hostile, "status": "killed"}],
                    "stacks": [{"name": hostile, "status": "CREATE_FAILED", "status_reason": hostile}]})
    c.sweep()
    for check in ("check_vio_image", "check_vio_stack"):
        r = c.run(check)
        assert r.rc == 2, r
        for line in r.lines:
            assert "\x1b" not in line and "evil=1" not in line.split("|", 1)[-1] or "|" not in line, line
        assert len([line for line in r.lines if "|" in line]) == 1, r
