"""Several regions behind one Keystone: --os-region-name picks the region every command sweeps.

The simulator's built-in "regions" scenario has RegionOne (services at /compute/v2.1, /network, /volume/v3)
and RegionTwo (the same under /regions/RegionTwo/), each with its own objects; Keystone (/identity) is
shared. The request counters show which region a sweep talked to. Real openstacksdk over HTTP throughout.
"""

from __future__ import annotations

import json

import openstack
import pytest
from conftest import CloudEnv

from vio_sim import Simulator
from vio_sim.generator import generate
from vio_sim.regions import identity_in_primary_only

R2 = ("--os-region-name", "RegionTwo")


def service_paths(env: CloudEnv) -> list[str]:
    """The paths of the requests that reached a region's services (Keystone's left out)."""
    paths = [p.split(" ", 1)[1] for p in env.sim.counters()["paths"]]
    return [p for p in paths if not p.startswith("/identity")]


def region_one_paths(env: CloudEnv) -> list[str]:
    return [p for p in service_paths(env) if not p.startswith("/regions/")]


@pytest.fixture
def regions(tmp_path):
    """The two-region simulator with a clouds.yaml listing both regions (RegionOne the default)."""
    with Simulator(scenario="regions") as sim:
        yield CloudEnv(sim, tmp_path)


def test_simulator_serves_two_regions_behind_one_keystone(regions):
    sim = regions.sim
    assert sim.regions == ["RegionOne", "RegionTwo"]
    assert sim.region_url("RegionTwo") == sim.url + "/regions/RegionTwo"
    assert "regions:" in regions.clouds_yaml.read_text()
    names = {r: {s["name"] for s in sim.state_of(r).objects["servers"].values()} for r in sim.regions}
    assert names == {"RegionOne": {"r1-web-01", "r1-web-02", "r1-db-01"},
                     "RegionTwo": {"r2-etl-01", "r2-etl-02", "r2-report-01", "r2-shop-cache-01"}}
    # Keystone's projects are shared: the same ids in both regions
    assert sim.state_of("RegionTwo").objects["projects"].keys() == sim.state.objects["projects"].keys()
    # the admin API and the Python API take a region, the default stays the primary one
    assert sim.get("servers", "r2-etl-01", region="RegionTwo")["name"] == "r2-etl-01"
    with pytest.raises(Exception, match="404"):
        sim.get("servers", "r2-etl-01")
    with pytest.raises(Exception, match="no region"):
        sim.get("servers", "r1-web-01", region="RegionNine")


def test_region_two_is_swept_alone_by_check_and_discover(regions):
    """Nothing but Keystone and RegionTwo's endpoints is asked, and what comes back is RegionTwo's."""
    r = regions.run("check_vio_vm", *R2)
    assert r.rc == 0 and r.status == "VIO VM OK - all 4 VMs OK", r
    assert region_one_paths(regions) == [] and service_paths(regions), regions.sim.counters()
    counters = regions.sim.counters()
    region_two = sum(n for p, n in counters["paths"].items() if " /regions/RegionTwo/" in p)
    assert counters["regions"] == {"RegionOne": 0, "RegionTwo": region_two} and region_two > 10
    regions.sim.reset_counters()
    out = json.loads(regions.sweep(*R2).stdout)
    assert out["region"] == "RegionTwo" and out["counts"]["servers"] == 4 and out["counts"]["hypervisors"] == 3
    assert region_one_paths(regions) == [], regions.sim.counters()
    # objects are the region's own: by name, RegionTwo's are found and RegionOne's are not
    r = regions.run("check_vio_vm", *R2, "--cache-only", "--name", "r2-etl-01")
    assert r.rc == 0 and r.status.startswith("VIO VM OK - r2-etl-01 is ACTIVE"), r
    r = regions.run("check_vio_vm", *R2, "--cache-only", "--name", "r1-web-01")
    assert r.rc == 3 and "r1-web-01" in r.status, r
    r = regions.run("check_vio_service", *R2, "--cache-only")
    # Keystone's endpoint and RegionTwo's three (RegionOne's three would make it seven)
    assert r.rc == 0 and "2 nova clusters OK (nova-conductor 1 up, nova-scheduler 1 up); all 3 nova services OK" \
        in r.status and "all 4 public endpoints OK" in r.status, r


def test_fault_in_region_two_stays_there_and_caches_are_separate(regions):
    sim = regions.sim
    sim.patch("compute_services", "nova-compute@r2-compute-02", region="RegionTwo", state="down")
    sim.patch("servers", "r2-etl-01", region="RegionTwo", status="ERROR")
    sim.fault("/os-migrations", region="RegionTwo", status=503, count=1)  # retried: the sweep still succeeds
    one = json.loads(regions.sweep().stdout)
    two = json.loads(regions.sweep(*R2).stdout)
    assert (one["region"], one["counts"]["servers"]) == ("RegionOne", 3)
    assert (two["region"], two["counts"]["servers"]) == ("RegionTwo", 4)
    assert sim.admin("GET", "/_sim/faults", region="RegionTwo")["faults"] == []  # used up in RegionTwo
    assert sim.counters()["paths"]["GET /regions/RegionTwo/compute/v2.1/os-migrations"] == 2
    assert sim.counters()["paths"]["GET /compute/v2.1/os-migrations"] == 1
    # two namespaces in the cache dir: one per cloud+region
    assert sorted(p.name for p in regions.cache_dir.iterdir() if p.is_dir()) == ["vio-sim", "vio-sim+RegionTwo"]
    r = regions.run("check_vio_vm", "--cache-only")
    assert r.rc == 0 and r.status == "VIO VM OK - all 3 VMs OK", r
    r = regions.run("check_vio_vm", *R2, "--cache-only")
    assert r.rc == 2 and "r2-etl-01 is ERROR" in r.status and "1 unverified" in r.status, r
    r = regions.run("check_vio_hypervisor", "--cache-only")
    assert r.rc == 0, r
    r = regions.run("check_vio_hypervisor", *R2, "--cache-only")
    assert r.rc == 2 and "r2-compute-02" in r.stdout, r
    r = regions.run("check_vio_service", "--cache-only")
    assert r.rc == 0, r
    r = regions.run("check_vio_service", *R2, "--cache-only")
    assert r.rc == 2 and "nova-compute" in r.status, r


def test_region_missing_from_the_catalog_is_one_unknown_line(regions):
    # listed in clouds.yaml, so openstacksdk accepts it; the catalog has no such region
    regions.sim.write_clouds_yaml(regions.clouds_yaml, regions=["RegionOne", "RegionTwo", "RegionThree"])
    message = "region RegionThree is not in the service catalog (its regions: RegionOne, RegionTwo)"
    r = regions.run("check_vio_vm", "--os-region-name", "RegionThree")
    assert r.rc == 3 and len(r.lines) == 1 and r.status == f"VIO VM UNKNOWN - no inventory: sweep failed: {message}", r
    r = regions.run("vio-discover", "--json", "--os-region-name", "RegionThree")
    assert r.rc == 2 and json.loads(r.stdout) == {"error": f"sweep failed: {message}"}, r
    assert "Traceback" not in r.stderr
    assert service_paths(regions) == []


def test_region_clouds_yaml_does_not_allow_is_one_unknown_line_with_a_hint(regions):
    regions.sim.write_clouds_yaml(regions.clouds_yaml, region="RegionOne")  # region_name: pins the cloud
    r = regions.run("check_vio_vm", *R2)
    assert r.rc == 3 and len(r.lines) == 1, r
    assert "Region RegionTwo is not a valid region name" in r.status and "under regions:" in r.status, r


def test_multi_region_catalog_without_a_region_is_refused_not_mixed(regions):
    """keystoneauth would take each service's first endpoint: an inventory could mix the regions."""
    text = regions.clouds_yaml.read_text().split("    regions:")[0] + "    interface: public\n"
    regions.clouds_yaml.write_text(text)
    r = regions.run("vio-discover", "--json")
    assert r.rc == 2, r
    assert json.loads(r.stdout)["error"] == (
        "sweep failed: the service catalog has several regions (RegionOne, RegionTwo): name one with "
        "--os-region-name or region_name in clouds.yaml")
    assert service_paths(regions) == []
    r = regions.run("check_vio_service")
    assert r.rc == 3 and r.status.startswith("VIO SERVICE UNKNOWN - ") and len(r.lines) == 1, r
    out = json.loads(regions.sweep(*R2).stdout)  # naming the region is enough
    assert out["region"] == "RegionTwo" and region_one_paths(regions) == []


@pytest.mark.parametrize("how", ["region_name", "regions"])
def test_discover_json_reports_the_clouds_yaml_region(regions, how):
    if how == "region_name":
        regions.sim.write_clouds_yaml(regions.clouds_yaml, region="RegionTwo")
    else:
        regions.sim.write_clouds_yaml(regions.clouds_yaml, regions=["RegionTwo", "RegionOne"])
    out = json.loads(regions.sweep().stdout)
    assert out["region"] == "RegionTwo" and out["counts"]["servers"] == 4
    assert region_one_paths(regions) == []
    # the cache namespace (and so every generated object name) still follows the options only
    assert sorted(p.name for p in regions.cache_dir.iterdir() if p.is_dir()) == ["vio-sim"]


def test_one_region_cloud_reports_its_clouds_yaml_region(demo_cloud):
    assert json.loads(demo_cloud.sweep().stdout)["region"] == "RegionOne"


def test_generator_builds_a_two_region_cloud(make_cloud):
    scenario = generate(vms=40, clusters=2, volumes=10, ports=60, routers=2, projects=3, seed=3,
                        regions=["RegionOne", "RegionTwo"])
    assert set(scenario["regions"]) == {"RegionTwo"}
    assert scenario == generate(vms=40, clusters=2, volumes=10, ports=60, routers=2, projects=3, seed=3,
                                regions=["RegionOne", "RegionTwo"])  # deterministic
    one_region = generate(vms=40, clusters=2, volumes=10, ports=60, routers=2, projects=3, seed=3)
    assert {k: v for k, v in scenario.items() if k not in ("regions", "settings")} == {
        k: v for k, v in one_region.items() if k != "settings"}  # RegionOne as in a one-region cloud
    env = make_cloud(scenario)
    one, two = json.loads(env.sweep().stdout), json.loads(env.sweep(*R2).stdout)
    assert one["counts"]["servers"] == two["counts"]["servers"] == 40
    ids = [{s["id"] for s in env.sim.state_of(r).objects["servers"].values()} for r in env.sim.regions]
    assert not ids[0] & ids[1]


# --- one Keystone, listed in the first region's catalog only (the usual Kolla-style layout) ---------------

@pytest.fixture
def keystone_in_one(tmp_path):
    """The two-region simulator whose catalog lists the identity endpoint in RegionOne only."""
    with Simulator(scenario=identity_in_primary_only("regions")) as sim:
        yield CloudEnv(sim, tmp_path)


def catalog_regions(sim: Simulator) -> dict[str, set[str]]:
    """service type → the regions of its endpoints, in a new token's catalog."""
    conn = openstack.connect(**sim.credentials)
    catalog = conn.session.auth.get_access(conn.session).service_catalog.catalog
    return {s["type"]: {e["region_id"] for e in s["endpoints"]} for s in catalog}


def test_simulator_lists_keystone_in_the_primary_region_only(keystone_in_one):
    sim = keystone_in_one.sim
    regions = catalog_regions(sim)
    assert regions["identity"] == {"RegionOne"}
    assert regions["compute"] == regions["network"] == {"RegionOne", "RegionTwo"}
    assert sim.state_of("RegionTwo").settings["identity_endpoint"] is False
    assert sim.state.settings["identity_endpoint"] is True
    # the admin API switches it for one region at run time
    sim.admin("PATCH", "/_sim/settings", {"identity_endpoint": True}, region="RegionTwo")
    assert catalog_regions(sim)["identity"] == {"RegionOne", "RegionTwo"}


@pytest.mark.parametrize("auth_path", ["/identity/v3", "/identity"])
def test_region_without_its_own_keystone_is_swept_through_the_tokens_keystone(keystone_in_one, auth_path):
    """Identity calls of RegionTwo go to the Keystone the token came from (versioned auth_url or not);
    RegionTwo's objects come from RegionTwo's services only."""
    env = keystone_in_one
    text = env.clouds_yaml.read_text()
    env.clouds_yaml.write_text(text.replace(env.sim.auth_url, env.sim.url + auth_path))
    out = json.loads(env.sweep(*R2).stdout)
    assert out["region"] == "RegionTwo" and out["counts"]["servers"] == 4, out
    paths = env.sim.counters()["paths"]
    assert paths.get("GET /identity/v3/projects") == 1, paths
    assert region_one_paths(env) == [] and not any("/regions/RegionTwo/identity" in p for p in paths), paths
    # the projects were read: a project filter by name finds RegionTwo's analytics VMs
    r = env.run("check_vio_vm", *R2, "--cache-only", "--include-projects", "analytics")
    assert r.rc == 0 and r.status == "VIO VM OK - all 3 VMs OK", r
    r = env.run("check_vio_vm", *R2)
    assert r.rc == 0 and r.status == "VIO VM OK - all 4 VMs OK", r
    # RegionTwo's catalog has its own three endpoints (compute, network, block storage): Keystone is RegionOne's
    r = env.run("check_vio_service", *R2, "--cache-only")
    assert r.rc == 0 and "all 3 public endpoints OK" in r.status, r
    # RegionOne, which lists Keystone, still uses its catalog entry
    out = json.loads(env.sweep().stdout)
    assert out["region"] == "RegionOne" and out["counts"]["servers"] == 3, out
    r = env.run("check_vio_service", "--cache-only")
    assert r.rc == 0 and "all 4 public endpoints OK" in r.status, r


def test_vio_sim_cli_puts_keystone_in_the_primary_region_only(tmp_path):
    from vio_sim.cli import main

    path = tmp_path / "scenario.json"
    assert main(["--generate", "10", "--regions", "RegionOne,RegionTwo,RegionThree",
                 "--identity-in-primary-only", "--dump-scenario", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["settings"].get("identity_endpoint", True) is True
    assert {r: s["settings"]["identity_endpoint"] for r, s in data["regions"].items()} == {
        "RegionTwo": False, "RegionThree": False}
    assert main(["--scenario", "demo", "--identity-in-primary-only", "--dump-scenario", str(path)]) == 2
