"""Distributed monitoring on real daemons: an Icinga 2 master and satellites (tests/icinga_cluster.py).

What a satellite zone must give us, read from the daemons' own APIs: config written on the master (files in
its zones.d/<zone>/, and the zones.d/<zone>/ files of the config package `vio-icinga deploy` uploads) reaches
the satellite through Icinga's config sync; the satellite runs the checks of its zone's objects (our real
check_vio_* against the simulator, with its own inventory cache) and the master shows the results; and when
a satellite goes away, the master says so with one `cluster-zone` problem and treats what depends on it as
unreachable instead of showing its last, stale states as current.
"""

from __future__ import annotations

import copy
import json
import os

import pytest
from icinga_cluster import MASTER_ZONE, Cluster, cluster_pki
from icinga_e2e import CRITICAL, E2E_SCENARIO, HARD, ICINGA2, OK, PREFIX, UP, require

pytestmark = pytest.mark.distributed

ONE, TWO = "vio-regionone", "vio-regiontwo"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """One CA and a certificate per endpoint (master and both satellites), made once by `icinga2 pki`."""
    require(ICINGA2, "icinga2-bin icinga2-common")
    return cluster_pki(tmp_path_factory.mktemp("cluster-pki"))


@pytest.fixture
def make_cluster(pki, tmp_path, request):
    """make_cluster(env, zones, files) → a started Cluster; every daemon stopped at teardown, even on failure.

    `files` maps (zone, file name) → text, written to the master's zones.d/ before it starts."""
    started: list[Cluster] = []

    def make(env: dict[str, str], zones: list[str], files: dict[tuple[str, str], str] | None = None) -> Cluster:
        cluster = Cluster(tmp_path / f"cluster{len(started)}", pki, env, zones)
        started.append(cluster)
        for (zone, name), text in (files or {}).items():
            cluster.write_zone_file(zone, name, text)
        return cluster.start()

    try:
        yield make
    finally:
        for cluster in started:
            cluster.stop()
            timings = {k: round(v, 2) for k, v in {**cluster.timings, **cluster.master.timings}.items()}
            print("cluster timings (s):", timings)  # shown with -s; in junit XML as a property
            request.node.user_properties.append(("timings", json.dumps(timings)))


# --- (a) config sync, the satellite runs our checks, the master sees the results ----------------------------


def test_deployed_zones_sync_to_their_satellites_which_run_the_checks(make_cloud, make_cluster):
    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()  # the inventory `vio-icinga deploy` renders (the master's side: cloud.cache_dir)
    cluster = make_cluster(cloud.env, [ONE, TWO])
    master, one, two = cluster.master, cluster.satellites[ONE], cluster.satellites[TWO]
    try:
        # two deployments into one config package: every object of RegionOne, the hypervisors for RegionTwo
        master.deploy(cloud, "--zone", ONE, expect_host=PREFIX)
        master.deploy(cloud, "--zone", TWO, "--prefix", "vio-two", "--kinds", "hypervisors", expect_host="vio-two")
        cluster.wait_synced(ONE, PREFIX)
        cluster.wait_synced(TWO, "vio-two")

        # every object is in its deployment's zone on the master; each satellite got its own zone, only
        zones = master.zone_of()
        assert {zones[n] for n in zones if n.split("!")[0].startswith(PREFIX)} == {ONE}, zones
        assert {zones[n] for n in zones if n.split("!")[0].startswith("vio-two")} == {TWO}, zones
        assert one.zone_of() == {n: z for n, z in zones.items() if z == ONE}
        assert two.zone_of() == {n: z for n, z in zones.items() if z == TWO}
        assert len(two.zone_of()) < len(one.zone_of())

        objs = master.drive()
        bad = [str(o) for o in objs.values() if o.state != OK or not o.reachable or not o.hard]
        assert not bad, "not everything UP/OK on the healthy cloud, as the master sees it:\n" + "\n".join(bad)
        kinds = {o.vars.get("vio_kind") for n, o in objs.items() if zones[n] == ONE}
        assert {"cloud", "hypervisor", "vm", "router", "interface", "volume"} <= kinds
        assert {o.vars.get("vio_kind") for n, o in objs.items() if zones[n] == TWO} >= {"cloud", "hypervisor"}

        # the satellite of each zone ran every check of that zone (the master runs none of them) ...
        sources = master.check_sources()
        assert set(sources) == set(objs)
        wrong = {n: s for n, s in sources.items() if s != cluster.satellites[zones[n]].node}
        assert not wrong, f"checks not run by their zone's satellite: {wrong}"
        # ... each with its own inventory cache (filled by its own discovery check) ...
        for sat in (one, two):
            assert sat.cache_dir.is_dir() and any(sat.cache_dir.iterdir()), f"{sat.node}'s checks left no cache"
        # ... and the master shows the satellites' results
        for sat in (one, two):
            sat_last = sat.last_checks()
            assert all(sat_last[n] == objs[n].last_check for n in sat_last), f"master and {sat.node} disagree"
    except BaseException:
        print(cluster.log_tail())
        raise


# --- (b) a satellite goes away: one cluster-zone problem, its zone unreachable ------------------------------


def health_objects(zone: str) -> dict[tuple[str, str], str]:
    """Small hand-written objects for one satellite zone.

    Master zone: a host `zone-<zone>` with the `cluster-zone` service for that zone, a host `<zone>-watch`
    the master checks that depends on it, and the Dependency of the zone's root host on it. Satellite zone:
    a root host `<zone>-cloud` with a service, and `<zone>-vm` below it."""
    master = f"""
object Host "zone-{zone}" {{
  check_command = "dummy"
}}
object Service "cluster-zone" {{
  host_name = "zone-{zone}"
  check_command = "cluster-zone"
  vars.cluster_zone = "{zone}"
  max_check_attempts = 1
}}
object Host "{zone}-watch" {{
  check_command = "dummy"
}}
object Dependency "cluster-zone" {{
  child_host_name = "{zone}-watch"
  parent_host_name = "zone-{zone}"
  parent_service_name = "cluster-zone"
}}
// The satellite never sees this one (its parent is in the master zone): the master evaluates it.
object Dependency "cluster-zone" {{
  child_host_name = "{zone}-cloud"
  parent_host_name = "zone-{zone}"
  parent_service_name = "cluster-zone"
}}
"""
    satellite = f"""
object Host "{zone}-cloud" {{
  check_command = "dummy"
}}
object Service "api" {{
  host_name = "{zone}-cloud"
  check_command = "dummy"
}}
object Host "{zone}-vm" {{
  check_command = "dummy"
}}
object Dependency "cloud" {{
  child_host_name = "{zone}-vm"
  parent_host_name = "{zone}-cloud"
}}
object Dependency "host" {{
  child_host_name = "{zone}-cloud"
  child_service_name = "api"
  parent_host_name = "{zone}-cloud"
}}
"""
    return {(MASTER_ZONE, f"{zone}-health.conf"): master, (zone, "objects.conf"): satellite}


#: A master-zone service that counts what the master itself finds unreachable right now (Icinga's own
#: reachability, evaluated live: satellite-zone objects get no fresh result to carry it once it is gone).
SELF = """
object Host "master-self" {
  check_command = "dummy"
}
object Service "icinga" {
  host_name = "master-self"
  check_command = "icinga"
}
"""


def test_stopped_satellite_is_one_cluster_zone_problem_and_its_zone_unreachable(make_cluster):
    files = {**health_objects(ONE), **health_objects(TWO), (MASTER_ZONE, "self.conf"): SELF}
    cluster = make_cluster(dict(os.environ), [ONE, TWO], files)
    master = cluster.master
    try:
        for zone in (ONE, TWO):
            cluster.wait_synced(zone, f"{zone}-cloud", f"{zone}-cloud!api", f"{zone}-vm")
        objs = master.drive()
        assert all(o.state == OK and o.reachable for o in objs.values()), master.report()
        sources = master.check_sources()
        for zone in (ONE, TWO):
            for name in (f"{zone}-cloud", f"{zone}-cloud!api", f"{zone}-vm"):
                assert sources[name] == cluster.satellites[zone].node, (name, sources[name])
            assert sources[f"zone-{zone}!cluster-zone"] == master.node
        assert unreachable(master) == (0, 0)

        cluster.stop_satellite(TWO)
        link = f"zone-{TWO}!cluster-zone"
        master.settle([link, f"zone-{ONE}!cluster-zone"])
        objs = master.drive([f"{TWO}-watch"])
        assert (objs[link].state, objs[link].state_type) == (CRITICAL, HARD), str(objs[link])
        assert f"Zone '{TWO}' is not connected" in objs[link].output, str(objs[link])
        problems = sorted(o.name for o in objs.values() if o.problem)
        assert problems == [link], master.report()  # the only problem: everything else is UP/OK or stale
        assert objs[f"{TWO}-watch"].state == UP and not objs[f"{TWO}-watch"].reachable, str(objs[f"{TWO}-watch"])
        # the zone's own objects: unreachable in the master's eyes (its root host, the host below it, the
        # root's service) plus the watch host; RegionOne untouched
        assert unreachable(master) == (3, 1), master.report()
        assert objs[f"zone-{ONE}!cluster-zone"].state == OK

        # back: the zone is connected again, nothing unreachable
        cluster.start_satellites(TWO)
        master.settle([link])
        master.drive([f"{TWO}-watch"])
        assert master.objects()[link].state == OK
        assert unreachable(master) == (0, 0), master.report()
    except BaseException:
        print(cluster.log_tail())
        raise


def unreachable(master) -> tuple[int, int]:
    """(hosts, services) the master finds unreachable now, from the `icinga` check it runs itself."""
    master.check(["master-self!icinga"])
    perf = master.perfdata("master-self!icinga")
    return int(perf["num_hosts_unreachable"]), int(perf["num_services_unreachable"])


def test_zones_conf_example_has_the_harness_zones(tmp_path):
    """icinga/zones.conf.example documents the zones these tests run: same names, same parents."""
    import re

    from icinga_cluster import SATELLITES
    from icinga_e2e import ICINGA_DIR

    def zones(text: str) -> dict[str, str]:
        found = re.findall(r'object Zone "([^"]+)" \{(.*?)\n\}', text, re.S)
        return {name: (re.findall(r'parent = "([^"]+)"', body) or re.findall(r"(global) = true", body)
                       or [""])[0] for name, body in found}

    cluster = Cluster(tmp_path, tmp_path / "no-pki", {}, list(SATELLITES))
    example = zones((ICINGA_DIR / "zones.conf.example").read_text())
    assert example == zones(cluster.zones_conf(cluster.master))
    assert example == {MASTER_ZONE: "", ONE: MASTER_ZONE, TWO: MASTER_ZONE, "global-templates": "global"}
