"""Distributed monitoring on real daemons: an Icinga 2 master and a satellite per region
(tests/icinga_cluster.py), the two-region simulator (vio-sim's `regions` scenario) behind them.

Each region is deployed on the master as in production, `vio-icinga deploy --os-region-name R --zone Z`:
its objects go to the package's zones.d/Z/ (synced to that zone's satellite only), the master zone's watch
on Z (host `<prefix>-zone`, check `cluster-zone`, which every root of the region's tree depends on) to
zones.d/master/. What must follow, read from the daemons' own APIs:

- every object is in its region's zone (the zone hosts in the master's), each satellite loads its zone only;
- each satellite runs its zone's checks (check_source = its endpoint; our real check_vio_* against the
  simulator, with its own inventory cache, of its own region) and the master shows the results;
- a hypervisor failure in RegionTwo: one notification on the master (the nova-compute service), the
  hypervisor's children unreachable, RegionOne untouched;
- RegionTwo's satellite stops: its zone host DOWN, the one problem and the one notification; every object
  of RegionTwo unreachable in the master's eyes. Asserted through the master's own `icinga` check
  (num_hosts_unreachable / num_services_unreachable, computed live): the API's `last_reachable` of a
  satellite-zone object only changes when a result arrives, and a stopped satellite sends none;
- a region whose catalog lists no Keystone of its own (the identity endpoint in RegionOne only, as clouds
  sharing one Keystone register it) is swept and checked by its satellite all the same;
- `vio-icinga push` on a satellite, against its own API (127.0.0.1 + --tls-server-name <endpoint>),
  delivers results the master shows.

A generator that puts a region's objects in the wrong zone fails `start_regions` at once (proved by
mutation: RegionTwo's hosts and services rendered with zone = "vio-regionone").
"""

from __future__ import annotations

import json

import pytest
from icinga_cluster import MASTER_ZONE, Cluster, cluster_pki
from icinga_e2e import (
    API_PASSWORD,
    CRITICAL,
    DOWN,
    HARD,
    ICINGA2,
    OK,
    UP,
    log_tail_on_failure,
    require,
    wait_for,
)

from vio_sim.regions import identity_in_primary_only

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


# --- two regions, a satellite each -------------------------------------------------------------------------

#: satellite zone → the region its satellite checks (one `vio-icinga deploy --os-region-name R --zone Z` each)
REGIONS = {ONE: "RegionOne", TWO: "RegionTwo"}
#: zone → the generated prefix (the cloud host's name): the region is part of it, so two regions never collide
PREFIXES = {zone: f"vio-vio-sim-{region}" for zone, region in REGIONS.items()}

#: A master-zone service that counts what the master itself finds unreachable right now: the `icinga` check's
#: num_hosts_unreachable / num_services_unreachable are evaluated live (CIB::CalculateHostCheckStats ->
#: Checkable::IsReachable), while the API's `last_reachable` of a satellite-zone object only changes when a
#: result arrives, which a stopped satellite never sends.
SELF = """
object Host "master-self" {
  check_command = "dummy"
}
object Service "icinga" {
  host_name = "master-self"
  check_command = "icinga"
}
"""


@pytest.fixture
def regions(make_cloud):
    """The two-region simulator (vio-sim's `regions` scenario), each region swept into the master's cache
    (what `vio-icinga deploy` renders from)."""
    cloud = make_cloud("regions")
    for region in REGIONS.values():
        cloud.sweep("--os-region-name", region)
    return cloud


def start_regions(make_cluster, cloud, zones=(ONE, TWO), *extra: str) -> Cluster:
    """A master and a satellite per zone; each zone's region deployed on the master, every object in its
    region's zone (the zone hosts in the master's), and synced."""
    cluster = make_cluster(cloud.env, list(zones), {(MASTER_ZONE, "self.conf"): SELF})
    with log_tail_on_failure(cluster):
        for zone in zones:
            cluster.master.deploy(cloud, "--os-region-name", REGIONS[zone], "--zone", zone, *extra,
                                  expect_host=PREFIXES[zone])
        loaded = cluster.master.zone_of()
        wrong = {n: z for n, z in loaded.items() if z != expected_zone(n)}
        assert not wrong, f"objects in the wrong zone: {wrong}"
        for zone in zones:
            cluster.wait_synced(zone, PREFIXES[zone])
    return cluster


def expected_zone(name: str) -> str:
    """Where an object must be: its region's zone, or the master zone (zone hosts, master-self)."""
    host = name.split("!")[0]
    for zone, prefix in PREFIXES.items():
        if host == prefix or host.startswith(prefix + "-"):
            return MASTER_ZONE if host == f"{prefix}-zone" else zone
    return MASTER_ZONE


def sweep_on(cloud, sat, region: str) -> None:
    """A sweep into the satellite's own inventory cache (what its checks read)."""
    r = cloud.run("vio-discover", "--json", "--os-region-name", region, env={"VIO_CHECKS_CACHE_DIR": str(sat.cache_dir)})
    assert r.rc == 0, str(r)


def healthy(cluster: Cluster) -> dict:
    """Drive every check through the master: all UP/OK, reachable, HARD, no notification."""
    objs = cluster.master.drive()
    bad = [str(o) for o in objs.values() if o.state != OK or not o.reachable or not o.hard]
    assert not bad, "not everything UP/OK on the healthy cloud, as the master sees it:\n" + "\n".join(bad)
    assert cluster.master.notifications() == []
    return objs


def unreachable(master) -> tuple[int, int]:
    """(hosts, services) the master finds unreachable now, from the `icinga` check it runs itself."""
    master.check(["master-self!icinga"])
    perf = master.perfdata("master-self!icinga")
    return int(perf["num_hosts_unreachable"]), int(perf["num_services_unreachable"])


def test_each_region_is_checked_by_its_satellite_and_a_hypervisor_failure_stays_in_its_region(regions,
                                                                                           make_cluster):
    cloud = regions
    cluster = start_regions(make_cluster, cloud)
    master, one, two = cluster.master, cluster.satellites[ONE], cluster.satellites[TWO]
    with log_tail_on_failure(cluster):
        # every region's objects in its zone, the zone hosts in the master zone; each satellite got its own
        zones = master.zone_of()
        wrong = {n: z for n, z in zones.items() if z != expected_zone(n)}
        assert not wrong, f"objects in the wrong zone: {wrong}"
        for zone, prefix in PREFIXES.items():
            assert zones[prefix] == zone and zones[f"{prefix}-zone"] == MASTER_ZONE
            sat = cluster.satellites[zone]
            assert sat.zone_of() == {n: z for n, z in zones.items() if z == zone}, f"{sat.node} loaded others'"
        assert master.parents()[PREFIXES[TWO]] == {f"{PREFIXES[TWO]}-zone"}

        objs = healthy(cluster)
        kinds = {z: {o.vars.get("vio_kind") for n, o in objs.items() if zones[n] == z} for z in REGIONS}
        for zone in REGIONS:
            assert {"cloud", "hypervisor", "vm", "router", "interface", "volume"} <= kinds[zone], kinds
        # the satellite of each zone ran every check of its zone, the master the zone hosts ...
        sources = master.check_sources()
        assert set(sources) == set(objs)
        runner = {z: (cluster.satellites[z].node if z in cluster.satellites else master.node) for z in set(zones.values())}
        wrong = {n: s for n, s in sources.items() if s != runner[zones[n]]}
        assert not wrong, f"checks not run by their zone's endpoint: {wrong}"
        # ... each against its own inventory cache, of its own region only ...
        for sat in (one, two):
            spaces = sorted(p.name for p in sat.cache_dir.iterdir() if p.is_dir())
            assert len(spaces) == 1 and REGIONS[sat.zone] in spaces[0], (sat.node, spaces)
        # ... and the master shows the satellites' results
        for sat in (one, two):
            sat_last = sat.last_checks()
            assert all(sat_last[n] == objs[n].last_check for n in sat_last), f"master and {sat.node} disagree"

        # a hypervisor fails in RegionTwo: the satellite's sweep sees it, the master pages once
        cloud.sim.patch("compute_services", "nova-compute@r2-compute-02", region="RegionTwo", state="down")
        sweep_on(cloud, two, "RegionTwo")
        objs = master.drive()
        root = f"{PREFIXES[TWO]}!nova-compute@r2-compute-02"
        assert (objs[root].state, objs[root].state_type, objs[root].reachable) == (CRITICAL, HARD, True), str(objs[root])
        assert master.notified() == [root], master.report()
        hv = master.one("hypervisor", vio_compute_host="r2-compute-02")
        assert (hv.state, hv.state_type, hv.reachable) == (DOWN, HARD, False), str(hv)
        below = master.below(hv.name)
        assert {o.vars.get("vio_kind") for o in below} >= {"vm", "capacity"}, [str(o) for o in below]
        assert all(not o.reachable for o in below), [str(o) for o in below if o.reachable]
        assert sources[root] == two.node and master.check_sources()[hv.name] == two.node
        # RegionOne untouched
        bad = [str(o) for n, o in objs.items() if zones[n] == ONE and (o.state != OK or not o.reachable)]
        assert not bad, bad


def test_region_without_its_own_keystone_is_swept_and_checked_by_its_satellite(make_cloud, make_cluster):
    """The usual layout of regions sharing one Keystone: the catalog lists the identity endpoint in RegionOne
    only. RegionTwo's satellite sweeps its region (identity calls go to the Keystone its token came from)
    and checks it; a fault there reaches the master."""
    cloud = make_cloud(identity_in_primary_only("regions"))
    cloud.sweep("--os-region-name", REGIONS[TWO])
    cluster = start_regions(make_cluster, cloud, (TWO,))
    master, two = cluster.master, cluster.satellites[TWO]
    with log_tail_on_failure(cluster):
        cloud.sim.reset_counters()
        objs = healthy(cluster)  # every check run by RegionTwo's satellite, sweeping into its own cache
        zones = master.zone_of()
        kinds = {o.vars.get("vio_kind") for n, o in objs.items() if zones[n] == TWO}
        assert {"cloud", "hypervisor", "vm", "router", "interface", "volume"} <= kinds, kinds
        sources = master.check_sources()
        assert {sources[n] for n, z in zones.items() if z == TWO} == {two.node}
        spaces = sorted(p.name for p in two.cache_dir.iterdir() if p.is_dir())
        assert len(spaces) == 1 and REGIONS[TWO] in spaces[0], spaces
        paths = cloud.sim.counters()["paths"]
        assert paths.get("GET /identity/v3/projects"), paths  # Keystone's, not RegionTwo's (it has none)
        assert not [p for p in paths if "/regions/RegionTwo/identity" in p or " /compute/" in p], paths

        cloud.sim.patch("servers", "r2-etl-01", region="RegionTwo", status="ERROR")
        sweep_on(cloud, two, "RegionTwo")
        vm = master.one("vm", vio_name="r2-etl-01")
        assert vm.vars["vio_project"] == "analytics"  # the project's name, read from the shared Keystone
        objs = master.drive([vm.name])
        assert (objs[vm.name].state, objs[vm.name].state_type) == (DOWN, HARD), str(objs[vm.name])
        assert master.check_sources()[vm.name] == two.node and master.notified() == [vm.name], master.report()


def test_stopped_satellite_is_its_zone_host_down_and_its_region_unreachable_on_the_master(regions, make_cluster):
    cluster = start_regions(make_cluster, regions)
    master = cluster.master
    with log_tail_on_failure(cluster):
        objs = healthy(cluster)
        assert unreachable(master) == (0, 0)
        zones = master.zone_of()
        hosts_two = sorted(n for n, z in zones.items() if z == TWO and "!" not in n)
        services_two = sorted(n for n, z in zones.items() if z == TWO and "!" in n)

        cluster.stop_satellite(TWO)
        link, other = f"{PREFIXES[TWO]}-zone", f"{PREFIXES[ONE]}-zone"
        master.settle([link, other])
        master.quiet()
        objs = master.objects()
        assert (objs[link].state, objs[link].state_type) == (DOWN, HARD), str(objs[link])
        assert f"Zone '{TWO}' is not connected" in objs[link].output, str(objs[link])
        # the one root problem, the one notification: RegionTwo's own objects keep their last (OK) states
        assert sorted(o.name for o in objs.values() if o.problem) == [link], master.report()
        assert master.notified() == [link], master.report()
        # ... but the master treats all of them as unreachable (its own live counters, see SELF)
        assert unreachable(master) == (len(hosts_two), len(services_two)), (hosts_two, services_two)
        # RegionOne untouched: its satellite still checks it, all reachable
        assert objs[other].state == UP
        ones = [n for n, z in zones.items() if z == ONE]
        objs = master.drive(ones)
        assert all(objs[n].state == OK and objs[n].reachable for n in ones), master.report()
        assert master.notified() == [link]

        # back: the zone is connected again, nothing unreachable, the zone host recovers
        cluster.start_satellites(TWO)
        master.settle([link])
        master.quiet()
        assert master.objects()[link].state == UP
        assert unreachable(master) == (0, 0), master.report()
        assert master.notified("RECOVERY") == [link]


def test_bulk_push_to_a_satellites_own_api_reaches_the_master(regions, make_cluster):
    """`vio-icinga push` on the satellite, against its own API (127.0.0.1, certificate for its endpoint
    name): the satellite relays the results to the master."""
    cloud = regions
    cluster = start_regions(make_cluster, cloud, (ONE,), "--mode", "passive")
    master, one = cluster.master, cluster.satellites[ONE]
    with log_tail_on_failure(cluster):
        sweep_on(cloud, one, "RegionOne")
        env = {"VIO_ICINGA_API_PASSWORD": API_PASSWORD, "VIO_CHECKS_CACHE_DIR": str(one.cache_dir)}
        push = ["vio-icinga", "push", "--once", "--mode", "passive", "--os-region-name", "RegionOne",
                "--check-source", one.node]
        args = one.api_args()
        # the endpoint name is no DNS name and 127.0.0.1 is not in the certificate: refused without the option
        i = args.index("--tls-server-name")
        r = cloud.run(*push, *args[:i], *args[i + 2:], "--retries", "0", env=env)
        assert r.rc == 2 and "TLS error" in r.stderr and "--tls-server-name" in r.stderr, str(r)
        r = cloud.run(*push, *args, env=env)
        assert r.rc == 0 and r.stdout.startswith("vio-icinga push: "), str(r)

        names = [n for n, z in master.zone_of().items() if z == ONE]
        wait_for(lambda: set(names) <= {n for n, s in master.check_sources().items() if s == one.node}, 30,
                 "the pushed results on the master", interval=0.1)
        objs = master.objects()
        bad = [str(objs[n]) for n in names if objs[n].state != OK]
        assert not bad, bad
        assert {objs[n].vars.get("vio_kind") for n in names} >= {"cloud", "hypervisor", "vm", "interface"}


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
