"""Partial visibility is not deletion (issue 20, item 5), on the simulator through the installed commands.

- A list that comes back shorter than the last sweep's (a cell down, a lost role, a filtering proxy: the
  simulator's `hide` fault leaves objects out of a list while a direct GET still finds them) deletes
  nothing unless a direct GET answers 404 (bounded, counted in the sweep's requests) or the drop is small
  in an otherwise healthy sweep; the other missing objects keep their last known state, and say so.
- Every kind that had objects and lists none distrusts the sweep, agents included; whether Neutron has
  agents is what its extensions say, not one empty list.
- A stamp in the future (a sweeper's clock ahead) is an unknown age: refreshed, never "0 s old".
"""

from __future__ import annotations

import json
import time

import pytest

#: kind → (the list's path in the simulator, as a fault regex; the direct GET's path prefix of one object)
LISTS = {
    "hypervisors": (r"^/compute/v2\.1/os-hypervisors/detail$", "GET /compute/v2.1/os-hypervisors/"),
    "servers": (r"^/compute/v2\.1/servers/detail$", "GET /compute/v2.1/servers/"),
    "compute_services": (r"^/compute/v2\.1/os-services$", "GET /compute/v2.1/os-services"),
    "volumes": (r"^/volume/v3/[^/]+/volumes/detail$", "/volumes/"),
    "volume_services": (r"^/volume/v3/[^/]+/os-services$", "/os-services"),
    "ports": (r"^/network/v2\.0/ports$", "GET /network/v2.0/ports/"),
    "networks": (r"^/network/v2\.0/networks$", "GET /network/v2.0/networks/"),
    "routers": (r"^/network/v2\.0/routers$", "GET /network/v2.0/routers/"),
    "agents": (r"^/network/v2\.0/agents$", "GET /network/v2.0/agents/"),
}


def _objects(sim, kind):
    return sim.admin("GET", f"/_sim/{kind}")[kind]


def _gets(sim, prefix, ids=None):
    """Direct GETs (not list requests) the sweep sent whose path starts with / contains `prefix`."""
    paths = sim.counters()["paths"]
    found = {p: n for p, n in paths.items()
             if prefix in p and not p.endswith(("/detail", "/os-services", "/ports", "/networks", "/routers",
                                                "/agents", "/l3-routers", "/l3-agents"))}
    if ids is not None:
        found = {p: n for p, n in found.items() if any(p.endswith("/" + i) for i in ids)}
    return found


def _sweep_json(cloud, *args):
    r = cloud.run("vio-discover", "--json", *args)
    assert r.rc == 0, str(r)
    return json.loads(r.stdout)


def _events(cloud):
    return cloud.run("vio-discover", "--events").stdout


def test_the_small_drop_rule():
    from vio_checks.visibility import small

    assert small(5, 8) and small(5, 50) and not small(6, 50)
    assert small(10, 100) and not small(11, 100) and small(100, 1000) and not small(101, 1000)


# --- a list that hides objects ------------------------------------------------------------------------


def test_hidden_servers_keep_their_last_known_state_and_the_error_stays_critical(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    servers = _objects(sim, "servers")
    broken, fine = servers[0], servers[1]
    sim.admin("PATCH", f"/_sim/servers/{broken['id']}", {"status": "ERROR"})
    cloud.sweep()
    hidden = [s["id"] for s in servers[:6]]  # 6 of 8: more than max(5, 10 %)
    sim.fault(LISTS["servers"][0], hide=hidden)
    sim.reset_counters()

    out = _sweep_json(cloud)
    # Every missing server was asked for once, and those requests are in the sweep's count.
    assert _gets(sim, "GET /compute/v2.1/servers/") == {f"GET /compute/v2.1/servers/{i}": 1 for i in hidden}
    assert out["confirmations"] == 6 and out["requests"] == sim.counters()["total"]
    assert out["counts"]["servers"] == 8 and sorted(out["kept"]["servers"]) == sorted(hidden)

    r = cloud.run("check_vio_discovery")
    assert r.rc == 2, str(r)
    assert "sweep distrusted: 6 of 8 servers not in its lists and not confirmed deleted" in r.status, str(r)
    assert f"kept: servers {broken['name']} ({broken['id']})" in r.stdout, str(r)
    r = cloud.run("check_vio_vm", "--id", broken["id"])
    assert r.rc == 2 and "is ERROR" in r.status and "last known state kept" in r.status, str(r)
    assert "deleted" not in r.stdout, str(r)
    r = cloud.run("check_vio_vm", "--id", fine["id"])
    assert r.rc == 3 and "unverified, not in the last sweep's list" in r.status, str(r)
    assert "vm_deleted" not in _events(cloud)

    # The next sweep asks again; once the list shows them again nothing is kept.
    sim.clear_faults()
    sim.reset_counters()
    out = _sweep_json(cloud)
    assert out["kept"] == {} and out["confirmations"] == 0 and not _gets(sim, "GET /compute/v2.1/servers/")
    assert cloud.run("check_vio_discovery").rc == 0
    assert "vm_deleted" not in _events(cloud)


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_every_kind_is_kept_when_its_list_hides_it_in_a_distrusted_sweep(healthy_cloud, kind):
    """One object of `kind` hidden (a small drop on its own) while 6 servers are hidden too: the sweep is
    not healthy, so it is asked for directly and kept."""
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    victim = _objects(sim, kind)[0 if kind == "servers" else -1]
    if kind == "volume_services":  # Cinder lists its services without ids
        victim = {"id": f"{victim['binary']}@{victim['host']}"}
    servers = [s["id"] for s in _objects(sim, "servers")]
    hide_servers = servers[:6] if kind != "servers" else servers[:7]
    if kind != "servers":
        # the confirmation of a service reads the same (filtered) list: only the sweep's read hides it
        sim.fault(LISTS[kind][0], hide=[victim["id"]], count=1)
    sim.fault(LISTS["servers"][0], hide=hide_servers)
    sim.reset_counters()

    out = _sweep_json(cloud)
    assert victim["id"] in out["kept"].get(kind, []), out
    assert out["confirmations"] == len(hide_servers) + (kind != "servers")
    assert out["requests"] == sim.counters()["total"]
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and "sweep distrusted:" in r.status and kind in r.status, str(r)


def test_deleted_servers_are_confirmed_by_404_within_the_bound(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    servers = _objects(sim, "servers")
    gone = [s["id"] for s in servers[:6]]
    for sid in gone:
        sim.admin("DELETE", f"/_sim/servers/{sid}")
    sim.reset_counters()

    out = _sweep_json(cloud)
    assert out["kept"] == {} and out["confirmations"] == 6 and out["counts"]["servers"] == 2
    assert _gets(sim, "GET /compute/v2.1/servers/") == {f"GET /compute/v2.1/servers/{i}": 1 for i in gone}
    events = _events(cloud)
    assert all(f"vm_deleted {s['name']} ({s['id']})" in events for s in servers[:6]), events
    r = cloud.run("check_vio_vm", "--id", gone[0])
    assert r.rc == 0 and "deleted at" in r.status, str(r)
    assert cloud.run("check_vio_discovery").rc == 0


def test_a_small_drop_in_a_healthy_sweep_is_deletion_without_a_request(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    servers = _objects(sim, "servers")
    sim.fault(LISTS["servers"][0], hide=[servers[0]["id"], servers[1]["id"]])  # 2 of 8 <= 5
    sim.reset_counters()
    out = _sweep_json(cloud)
    assert out["kept"] == {} and out["confirmations"] == 0 and out["counts"]["servers"] == 6
    assert not _gets(sim, "GET /compute/v2.1/servers/")


def test_confirmations_are_bounded_and_rotate(demo_cloud):
    from vio_checks.visibility import MAX_CONFIRM

    cloud, sim = demo_cloud, demo_cloud.sim
    for i in range(MAX_CONFIRM):
        sim.admin("POST", "/_sim/servers", {"name": f"extra-{i:02}"})
    cloud.sweep()
    servers = [s["id"] for s in _objects(sim, "servers")]
    assert len(servers) > MAX_CONFIRM + 5
    hidden = servers[:MAX_CONFIRM + 5]
    sim.fault(LISTS["servers"][0], hide=hidden)
    sim.reset_counters()
    out = _sweep_json(cloud)
    first = set(_gets(sim, "GET /compute/v2.1/servers/"))
    assert out["confirmations"] == MAX_CONFIRM == len(first)
    assert sorted(out["kept"]["servers"]) == sorted(hidden)
    # The next sweep asks first for those never asked for.
    sim.reset_counters()
    out = _sweep_json(cloud)
    second = set(_gets(sim, "GET /compute/v2.1/servers/"))
    assert out["confirmations"] == MAX_CONFIRM and {f"GET /compute/v2.1/servers/{i}" for i in hidden} - first <= \
        second


def test_a_failing_confirmation_keeps_the_object(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    servers = [s["id"] for s in _objects(sim, "servers")]
    sim.fault(LISTS["servers"][0], hide=servers[:6])
    sim.fault(r"^/compute/v2\.1/servers/[0-9a-f-]+$", status=500)
    out = _sweep_json(cloud)
    assert sorted(out["kept"]["servers"]) == sorted(servers[:6])
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and "its direct GET failed" in r.stdout, str(r)


# --- every kind that empties distrusts the sweep ----------------------------------------------------


@pytest.mark.parametrize("kind", ["agents", "networks", "routers", "compute_services", "hypervisors"])
def test_a_kind_dropping_to_none_distrusts_the_sweep(healthy_cloud, kind):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    n = len(_objects(sim, kind))
    sim.fault(LISTS[kind][0], hide=["*"])
    r = cloud.run("vio-discover")
    assert r.rc == 2 and f"sweep distrusted: {kind} {n} → 0" in r.stderr, str(r)
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and f"sweep distrusted: {kind} {n} → 0" in r.status, str(r)


def test_an_empty_agents_list_is_not_nsx_when_neutron_announces_agents(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    router = _objects(sim, "routers")[0]
    sim.fault(LISTS["agents"][0], hide=["*"])
    sim.reset_counters()
    cloud.sweep()  # the first sweep: nothing to compare with
    assert sim.counters()["paths"].get("GET /network/v2.0/extensions") == 1
    r = cloud.run("check_vio_router", "--id", router["id"])
    assert r.rc == 3 and "announces the agent extension but listed no agents" in r.status, str(r)
    assert "(NSX" not in r.status
    r = cloud.run("check_vio_service", "--component", "neutron")
    assert r.rc == 3 and "(NSX)" not in r.status and "announces the agent extension" in r.status, str(r)


def test_without_the_agent_extension_no_agents_is_nsx(make_cloud):
    cloud = make_cloud("healthy", agents=False)
    cloud.sweep()
    router = _objects(cloud.sim, "routers")[0]
    r = cloud.run("check_vio_router", "--id", router["id"])
    assert r.rc == 0 and "(NSX, no L3 agents)" in r.status, str(r)
    r = cloud.run("check_vio_service", "--component", "neutron")
    assert r.rc == 0 and "(NSX)" in r.status, str(r)


# --- a stamp in the future ----------------------------------------------------------------------------


def _shift(cloud, seconds, error=False):
    """Move the stored inventory's stamp (or a failure's) by `seconds`: a sweeper whose clock is ahead."""
    from vio_checks.cache import Store, key

    store = Store(cloud.cache_dir / "vio-sim")
    snap = store.current()
    if error:
        store.record_failure("compute /servers/detail: HTTP 503", when=time.time() + seconds)
    else:
        meta = snap.meta
        meta.fetched_at += seconds
        store.cache.set(key(snap.gen, "meta"), meta)
    store.close()


def test_an_inventory_stamped_in_the_future_is_refreshed(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    _shift(cloud, 3600)
    r = cloud.run("check_vio_discovery", "--cache-only")
    assert r.rc == 2 and "in the future" in r.status and "age is unknown" in r.status, str(r)
    sim.reset_counters()
    r = cloud.run("check_vio_discovery", "-v")
    assert sim.counters()["paths"].get("GET /compute/v2.1/servers/detail") == 1, "it swept"
    assert r.rc == 0, str(r)
    assert "swept by this run (inventory stamped 59 min in the future" in r.stdout, str(r)


def test_a_failure_stamped_in_the_future_does_not_block_sweeps(healthy_cloud):
    cloud, sim = healthy_cloud, healthy_cloud.sim
    cloud.sweep()
    _shift(cloud, 3600, error=True)
    sim.reset_counters()
    r = cloud.run("check_vio_vm", "--max-age", "0")
    assert sim.counters()["paths"].get("GET /compute/v2.1/servers/detail") == 1, str(r)
    assert "retry in" not in r.stdout, str(r)
