"""The stale-record rule (vio_checks/judge/stale.py) and the registration windows it reads (firstseen.py)."""

from __future__ import annotations

import time

import pytest

from vio_checks import normalize
from vio_checks.firstseen import FORGET_AFTER, carry, registered
from vio_checks.judge.stale import STALE_AFTER, remove_command, split
from vio_checks.model import Agent, Inventory, Meta, Service

NOW = 1_800_000_000.0
H = 3600.0


def svc(host: str, state: str, hb: float | None, window: tuple | None = (None, NOW - 30 * H),
        sid: str | None = None, binary: str = "nova-conductor", component: str = "nova", **kw) -> Service:
    """A service record; `window` is its registration window (firstseen.registered), None: unknown."""
    s = Service(sid or f"id-{host}", component, binary, host, "internal", kw.pop("status", "enabled"), state,
                hb, **kw)
    if window is not None:
        s.registered = window
    return s


def new(at: float) -> tuple[float, float]:
    """The window of a record first listed by the sweep at `at`, absent from the one 5 minutes before."""
    return (at - 300, at)


def names(records) -> list[str]:
    return [r.host for r in records]


def test_a_pod_restart_leaves_the_old_record_stale_after_stale_after() -> None:
    old = svc("conductor-abc", "down", NOW - 2 * H, window=(None, NOW - 30 * H))
    replacement = svc("conductor-xyz", "up", NOW - 10, window=new(NOW - 2 * H + 60))
    sibling = svc("conductor-def", "up", NOW - 10, window=(None, NOW - 30 * H))
    out = split([old, replacement, sibling], NOW)
    assert names(out.members) == ["conductor-xyz", "conductor-def"]
    [stale] = out.stale
    assert stale.record is old and stale.successor is replacement
    assert stale.down.text == "for 2 h 0 min"
    assert stale.command == "openstack compute service delete id-conductor-abc"


@pytest.mark.parametrize(("down_for", "is_stale"), [
    (STALE_AFTER - 1, False), (STALE_AFTER, True), (STALE_AFTER + 1, True)])
def test_the_boundary_at_stale_after(down_for: float, is_stale: bool) -> None:
    old = svc("a", "down", NOW - down_for)
    out = split([old, svc("b", "up", NOW, window=new(NOW - down_for + 60))], NOW)
    assert [s.record.host for s in out.stale] == (["a"] if is_stale else [])
    assert names(out.members) == (["b"] if is_stale else ["a", "b"])
    # replaced, not yet stale: a member that is down, and pending
    assert [(s.record.host, s.successor.host) for s in out.pending] == ([] if is_stale else [("a", "b")])


def test_stale_after_is_a_parameter() -> None:
    records = [svc("a", "down", NOW - 2 * H), svc("b", "up", NOW, window=new(NOW - 2 * H + 60))]
    assert len(split(records, NOW, stale_after=3 * H).stale) == 0
    assert len(split(records, NOW, stale_after=H).stale) == 1


def test_a_successor_registered_before_the_heartbeat_is_no_successor() -> None:
    hb = NOW - 5 * H
    # listed by a sweep before (or at) the heartbeat: it ran alongside, the down record is a member that died
    for window in (new(hb - 60), new(hb)):
        out = split([svc("a", "down", hb), svc("b", "up", NOW, window=window)], NOW)
        assert out.stale == [] and names(out.members) == ["a", "b"]
    out = split([svc("a", "down", hb), svc("b", "up", NOW, window=new(hb + 1))], NOW)
    assert [s.record.host for s in out.stale] == ["a"]


def test_a_record_of_the_first_sweep_may_be_of_any_age_and_replaces_nothing() -> None:
    # the cache's first sweep lists a long-dead member beside its live siblings: they are not its successors
    first = NOW - 60
    records = [svc("a", "down", NOW - 48 * H, window=(None, first)),
               svc("b", "up", NOW, window=(None, first)), svc("c", "up", NOW, window=(None, first))]
    out = split(records, NOW)
    assert out.stale == [] and out.pending == [] and names(out.members) == ["a", "b", "c"]


def test_a_successor_that_is_down_replaces_nothing() -> None:
    records = [svc("a", "down", NOW - 5 * H), svc("b", "down", NOW - 2 * H, window=new(NOW - 4 * H))]
    out = split(records, NOW)
    assert out.stale == [] and names(out.members) == ["a", "b"]


def test_unknown_state_or_heartbeat_is_never_stale_and_never_a_successor() -> None:
    successor = svc("new", "up", NOW, window=new(NOW - 4 * H))
    no_heartbeat = svc("a", "down", None)
    no_state = svc("b", "", NOW - 5 * H, missing=("state",))
    odd_state = svc("c", "sleeping", NOW - 5 * H)
    out = split([no_heartbeat, no_state, odd_state, successor], NOW)
    assert out.stale == [] and names(out.members) == ["a", "b", "c", "new"]
    # a successor whose state is unknown replaces nothing
    out = split([svc("a", "down", NOW - 5 * H), svc("new", "", NOW, window=new(NOW - 4 * H),
                                                     missing=("state",))], NOW)
    assert out.stale == []
    # nor one whose registration is unknown (no window: a record stored before the mechanism)
    out = split([svc("a", "down", NOW - 5 * H), svc("new", "up", NOW, window=None)], NOW)
    assert out.stale == []


def test_a_heartbeat_in_the_future_is_not_down_for_long() -> None:
    out = split([svc("a", "down", NOW + H), svc("b", "up", NOW, window=new(NOW + 2 * H))], NOW)
    assert out.stale == []


def test_several_generations_of_one_pod() -> None:
    gen1 = svc("pod-1", "down", NOW - 9 * H)
    gen2 = svc("pod-2", "down", NOW - 6 * H, window=new(NOW - 9 * H + 120))
    gen3 = svc("pod-3", "down", NOW - 3 * H, window=new(NOW - 6 * H + 120))
    gen4 = svc("pod-4", "up", NOW, window=new(NOW - 3 * H + 120))
    out = split([gen1, gen2, gen3, gen4], NOW)
    assert [s.record.host for s in out.stale] == ["pod-1", "pod-2", "pod-3"]
    assert {s.successor.host for s in out.stale} == {"pod-4"}  # the generation that is up
    assert names(out.members) == ["pod-4"]
    # the newest dead generation still within stale_after is a member that is down; the older ones stale
    gen3 = svc("pod-3", "down", NOW - 600, window=new(NOW - 6 * H + 120))
    gen4 = svc("pod-4", "up", NOW, window=new(NOW - 300))
    out = split([gen1, gen2, gen3, gen4], NOW)
    assert [s.record.host for s in out.stale] == ["pod-1", "pod-2"]
    assert names(out.members) == ["pod-3", "pod-4"]


def test_one_successor_replaces_one_dead_member_not_two() -> None:
    # a pod that cannot be scheduled (its old record down for two days, no new one) and another pod that was
    # recreated: one new record, so one member is still down
    pending = svc("pod-a", "down", NOW - 48 * H)
    restarted = svc("pod-b", "down", NOW - 2 * H)
    replacement = svc("pod-b2", "up", NOW, window=new(NOW - 2 * H + 60))
    out = split([pending, restarted, svc("pod-c", "up", NOW), replacement], NOW)
    assert [s.record.host for s in out.stale] == ["pod-b"]
    assert names(out.members) == ["pod-a", "pod-c", "pod-b2"]
    # two new records replace both
    other = svc("pod-a2", "up", NOW, window=new(NOW - 40 * H))
    out = split([pending, restarted, replacement, other], NOW)
    assert sorted(s.record.host for s in out.stale) == ["pod-a", "pod-b"]
    # but a record that registered after pod-a died, died itself and was replaced is indistinguishable from
    # generations of one pod: all replaced
    restarted.registered = new(NOW - 40 * H)
    out = split([pending, restarted, replacement], NOW)
    assert sorted(s.record.host for s in out.stale) == ["pod-a", "pod-b"]


def test_admin_state_does_not_decide() -> None:
    # a disabled record that is down and was replaced is stale; a disabled successor that reports replaces
    old = svc("a", "down", NOW - 5 * H, status="disabled", disabled_reason="replaced")
    out = split([old, svc("b", "up", NOW, window=new(NOW - 4 * H), status="disabled")], NOW)
    assert [s.record.host for s in out.stale] == ["a"]


def test_neutron_agents_use_created_at() -> None:
    def agent(host: str, alive: bool, hb: float, created: float | None) -> Agent:
        return Agent(f"agent-{host}", "neutron-dhcp-agent", "DHCP agent", host, alive=alive, heartbeat=hb,
                     created=created)

    old = agent("dhcp-0", False, NOW - 5 * H, NOW - 100 * H)
    assert [s.record.host for s in split([old, agent("dhcp-1", True, NOW, NOW - 4 * H)], NOW).stale] == ["dhcp-0"]
    # created before the heartbeat (started_at, which moves at every restart, is not read)
    assert split([old, agent("dhcp-1", True, NOW, NOW - 6 * H)], NOW).stale == []
    # created_at wins over the sweeps' window; without it, the window is read
    late = agent("dhcp-1", True, NOW, NOW - 6 * H)
    late.registered = new(NOW - H)
    assert split([old, late], NOW).stale == []
    unknown = agent("dhcp-1", True, NOW, None)
    unknown.registered = new(NOW - H)
    [stale] = split([old, unknown], NOW).stale
    assert stale.command == "openstack network agent delete agent-dhcp-0"
    dead = Agent("x", "neutron-dhcp-agent", host="dhcp-2", heartbeat=NOW - 5 * H, missing=("alive",))
    assert split([dead, agent("dhcp-1", True, NOW, NOW - H)], NOW).stale == []


def test_normalize_reads_an_agents_created_at() -> None:
    raw = {"id": "a1", "binary": "neutron-dhcp-agent", "host": "h", "alive": False, "admin_state_up": True,
           "created_at": "2026-12-01 10:00:00", "started_at": "2026-12-05 10:00:00",
           "heartbeat_timestamp": "2026-12-05 11:00:00"}
    a = normalize.agent(raw)
    assert a.created is not None and a.heartbeat is not None and a.heartbeat - a.created == 4 * 86400 + 3600


def test_remove_commands() -> None:
    uuid = "2f6a86b4-8d5c-4a66-9a7e-d5aa1b8d9a3c"
    assert remove_command(svc("h", "down", 0, sid=uuid)) == (
        f"openstack --os-compute-api-version 2.53 compute service delete {uuid}")
    assert remove_command(svc("h", "down", 0, sid="17")) == "openstack compute service delete 17"
    cinder = svc("cinder-scheduler-7f9c4; rm -rf /", "down", 0, binary="cinder-scheduler", component="cinder")
    assert remove_command(cinder) == "cinder-manage service remove cinder-scheduler 'cinder-scheduler-7f9c4; rm -rf /'"


def test_records_of_several_binaries_are_refused() -> None:
    with pytest.raises(ValueError):
        split([svc("a", "up", NOW), svc("b", "up", NOW, binary="nova-scheduler")], NOW)
    assert split([], NOW).members == []


# --- the registration windows the sweeps keep ----------------------------------------------------------


def _inv(at: float, **kinds) -> Inventory:
    return Inventory(meta=Meta(cloud="c", region=None, fetched_at=at, seconds=0, requests=0), **kinds)


def test_the_sweeps_keep_when_each_record_first_registered() -> None:
    def records():
        return [Service("1", "nova", "nova-conductor", "c-1", state="up")]

    one = _inv(100.0, compute_services=records(), agents=[Agent("a", "neutron-dhcp-agent", host="n-1")])
    carry(None, one)
    assert registered(one.compute_services[0]) == (None, 100.0) and registered(one.agents[0]) == (None, 100.0)
    two = _inv(200.0, compute_services=[*records(), Service("2", "nova", "nova-conductor", "c-2")],
               volume_services=[Service("cinder-scheduler@s-1", "cinder", "cinder-scheduler", "s-1")],
               agents=[Agent("a", "neutron-dhcp-agent", host="n-1", alive=True)])
    carry(one, two)
    assert [registered(s) for s in two.compute_services] == [(None, 100.0), (100.0, 200.0)]
    assert registered(two.volume_services[0]) == (100.0, 200.0)
    assert registered(two.agents[0]) == (None, 100.0)  # a change of state keeps the window
    three = _inv(300.0, compute_services=[*records(), Service("2", "nova", "nova-conductor", "c-2")])
    carry(two, three)
    assert [registered(s) for s in three.compute_services] == [(None, 100.0), (100.0, 200.0)]
    # a record stored before the mechanism (no window) existed by the previous sweep, since when unknown
    old = _inv(400.0, compute_services=records())
    carry(None, old)
    del old.compute_services[0].registered
    four = _inv(500.0, compute_services=records())
    carry(old, four)
    assert registered(four.compute_services[0]) == (None, 400.0)
    # a record one list left out keeps its birth when listed again (the sweep's Meta remembers it)
    missing = _inv(600.0, compute_services=[])
    carry(four, missing)
    again = _inv(700.0, compute_services=records())
    carry(missing, again)
    assert registered(again.compute_services[0]) == (None, 400.0)
    # ... for FORGET_AFTER after it was last listed
    late = _inv(500.0 + FORGET_AFTER + 1, compute_services=[])
    carry(four, late)
    assert late.meta.registered["compute_services"] == {}
    # a clock that went back proves no order
    back = _inv(450.0, compute_services=[Service("9", "nova", "nova-conductor", "c-9")])
    carry(four, back)
    assert registered(back.compute_services[0]) == (None, 450.0)


# --- end to end: real sweeps of the simulator across a pod restart -------------------------------------


def _stored(env, kind: str):
    from vio_checks.cache import Store, namespace

    snap = Store(env.cache_dir / namespace(env.cloud, None)).current()
    assert snap is not None
    return snap.meta.fetched_at, snap.all(kind)


def _of(records, binary: str):
    return [r for r in records if r.binary == binary]


def test_sweeps_across_a_pod_restart_find_the_old_record_stale(make_cloud) -> None:
    from vio_sim.services import with_layout
    from vio_sim.store import load_scenario

    env = make_cloud(with_layout(load_scenario("healthy"), "ha", pods=True))
    env.sim.admin("PATCH", "/_sim/settings", {"service_down_time": 0, "agent_down_time": 0})
    env.sweep()
    first, listed = _stored(env, "compute_services")
    conductors = _of(listed, "nova-conductor")
    assert len(conductors) == 3 and all(registered(c) == (None, first) for c in conductors)
    # the first sweep knows no birth: nothing it listed replaces anything, however long down
    assert split(conductors, first + 10 * H).stale == []

    old = conductors[0]
    env.sim.admin("POST", f"/_sim/compute_services/{old.id}/restart")
    dhcp = _of(_stored(env, "agents")[1], "neutron-dhcp-agent")[0]
    env.sim.admin("POST", f"/_sim/agents/{dhcp.id}/restart")
    cinder = _of(_stored(env, "volume_services")[1], "cinder-scheduler")[0]
    env.sim.admin("POST", f"/_sim/volume_services/{cinder.id}/restart")
    time.sleep(0.2)
    env.sweep()
    second, listed = _stored(env, "compute_services")
    conductors = _of(listed, "nova-conductor")
    assert len(conductors) == 4
    new = next(c for c in conductors if registered(c) == (first, second))
    down = next(c for c in conductors if c.id == old.id)
    assert down.state == "down" and new.state == "up"
    # down for less than --stale-after: a member that is down; past it: stale, with its remove command
    assert split(conductors, second).stale == []
    out = split(conductors, second + 2 * H)
    [stale] = out.stale
    assert stale.record.id == old.id and stale.successor.id == new.id and len(out.members) == 3
    assert stale.command == f"openstack --os-compute-api-version 2.53 compute service delete {old.id}"
    [stale] = split(_of(_stored(env, "agents")[1], "neutron-dhcp-agent"), second + 2 * H).stale
    assert stale.record.id == dhcp.id and stale.successor.created is not None
    [stale] = split(_of(_stored(env, "volume_services")[1], "cinder-scheduler"), second + 2 * H).stale
    assert stale.command == f"cinder-manage service remove cinder-scheduler {cinder.host}"
    # a third sweep keeps the windows
    env.sweep()
    third, listed = _stored(env, "compute_services")
    assert registered(next(c for c in listed if c.id == new.id)) == (first, second)
    # a sweep whose list leaves a live conductor out (a small drop: taken for a deletion), then one that
    # lists it again: it keeps its birth, and never looks like a successor
    sibling = next(c for c in conductors if c.id not in (old.id, new.id))
    env.sim.fault("/os-services", hide=[sibling.id])
    env.sweep()
    assert sibling.id not in {c.id for c in _stored(env, "compute_services")[1]}
    env.sim.clear_faults()
    env.sweep()
    listed = _stored(env, "compute_services")[1]
    assert registered(next(c for c in listed if c.id == sibling.id)) == (None, first)
