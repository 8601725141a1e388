"""Stories a deployed E2E_SCENARIO cloud tells through any Icinga 2 (2.13 here, 2.14 in a Debian 13 root):
an HA router's L3 agents, and the nova-conductor cluster. Each returns the seconds its steps took.
"""

from __future__ import annotations

import time

from .core import Core
from .icinga2 import Icinga2
from .scenario import CRITICAL, DOWN, OK, PREFIX, UP, WARNING, assert_one_parent_each

# --- the HA router story (any Icinga 2 version: 2.13 here, 2.14 in a Debian 13 root) ----------------------

#: The E2E_SCENARIO's HA router, its active and standby L3 agents (the simulator makes the first alive one
#: active), and the single-agent router that shares the active one.
HA_ROUTER, ACTIVE_AGENT, STANDBY_AGENT = "router-a", "neutron-l3-agent@vio-network-01", "neutron-l3-agent@vio-network-02"


def problem_lines(core: Core, name: str, state: str | None = None) -> list[str]:
    """The PROBLEM notifications the core sent for one object (in one state, when given)."""
    return [line for line in core.notifications() if line.split()[0] == name and line.split()[1] == "PROBLEM"
            and (state is None or line.split()[2:3] == [state])]


def ha_router_story(cloud, icinga: Icinga2) -> dict[str, float]:
    """An HA router's L3 agents on a deployed E2E_SCENARIO cloud, as Icinga itself decides (any version):

    0. healthy: everything UP/OK and quiet; the router's one parent is its l3-agents set, every Dependency
       child has one parent (no redundancy_group).
    1. the standby L3 agent dies: the router stays UP and reachable, so do the interfaces behind it; the
       l3-agents service WARNs and is the only notification.
    2. the router then goes ERROR: it is DOWN, reachable, and notified once (nothing else).
    3. the active agent dies too (the router ACTIVE again in Neutron): the l3-agents service turns CRITICAL
       and pages once; the router is unreachable and quiet, so is everything behind it; the dead active
       agent's own service (it also hosts router-b) pages once for router-b's loss.

    Returns the seconds each step took (drive included)."""
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == [], icinga.report()
    router = icinga.one("router", vio_name=HA_ROUTER).name
    agents = icinga.one("l3-agents", vio_router=HA_ROUTER).name
    parents = assert_one_parent_each(icinga)
    assert parents[router] == agents and agents not in parents, parents
    behind = [o.name for o in icinga.below(router)]
    assert behind and all(o.vars["vio_kind"] == "interface" for o in icinga.below(router)), behind
    timings["healthy"] = time.monotonic() - t0

    # 1. the standby dies
    t0 = time.monotonic()
    cloud.sim.patch("agents", STANDBY_AGENT, alive=False)
    cloud.sweep()
    objs = icinga.drive()
    a, r = objs[agents], objs[router]
    assert (a.state, a.hard, a.reachable) == (WARNING, True, True), str(a)
    assert "at risk: 1 of 2 L3 agents up" in a.output and STANDBY_AGENT in a.output, str(a)
    assert (r.state, r.reachable) == (UP, True), str(r)
    for name in behind:
        assert objs[name].state == OK and objs[name].reachable, str(objs[name])
    assert icinga.notified() == [agents], icinga.report()
    assert len(problem_lines(icinga, agents)) == 1, icinga.report()
    timings["standby dies"] = time.monotonic() - t0

    # 2. the router goes ERROR: reachable (its set is only WARNING), notified once
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.patch("routers", HA_ROUTER, status="ERROR")
    cloud.sweep()
    objs = icinga.drive()
    r = objs[router]
    assert (r.state, r.hard, r.reachable) == (DOWN, True, True), str(r)
    assert "is ERROR" in r.output, str(r)
    assert icinga.notified() == [router], icinga.report()
    assert len(problem_lines(icinga, router)) == 1, icinga.report()
    timings["router ERROR"] = time.monotonic() - t0

    # 3. both agents dead: the set is CRITICAL and pages once; the router is cut off and quiet
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.patch("routers", HA_ROUTER, status="ACTIVE")
    cloud.sim.patch("agents", ACTIVE_AGENT, alive=False)
    cloud.sweep()
    objs = icinga.drive()
    a, r = objs[agents], objs[router]
    assert (a.state, a.hard, a.reachable) == (CRITICAL, True, True), str(a)
    assert "all 2 L3 agents down" in a.output, str(a)
    assert (r.state, r.reachable) == (DOWN, False), str(r)
    own = f"{PREFIX}!{ACTIVE_AGENT}"
    assert objs[own].state == CRITICAL and objs[own].reachable, str(objs[own])
    assert icinga.notified() == sorted([agents, own]), icinga.report()
    assert len(problem_lines(icinga, agents, "CRITICAL")) == 1 and len(problem_lines(icinga, own)) == 1, \
        icinga.report()
    for name in [router, *behind]:
        assert not objs[name].reachable and not problem_lines(icinga, name), str(objs[name])
    timings["both agents dead"] = time.monotonic() - t0
    return timings


# --- the controller cluster story (any Icinga 2 version: 2.13 here, 2.14 in a Debian 13 root) ----------------

#: The nova-conductors of the story: E2E_SCENARIO's one, and a second the story adds (issue 23: "one down
#: conductor of two"). The cluster's service is keyed by binary, so the deployed config needs no change.
CONDUCTORS = ("nova-conductor@vio-controller-01", "nova-conductor@vio-controller-02")


def cluster_story(cloud, icinga: Icinga2) -> dict[str, float]:
    """The nova-conductor cluster on a deployed E2E_SCENARIO cloud, as Icinga itself decides (any version):

    0. a second conductor registers (the deployed config stays as it is: the cluster is keyed by binary);
       healthy: everything UP/OK and quiet; one service for the cluster, the parent of each nova-compute
       service (every child has one parent).
    1. one conductor of two stops: the cluster WARNs ("reduced redundancy" is not possible with two: "at
       risk: 1 of 2") and is the only notification; nothing is unreachable.
    2. both stop: nova-compute stops reporting (its state goes through nova-conductor); the cluster is
       CRITICAL "all components down" and the only notification; every nova-compute service, hypervisor
       and VM is unreachable in Icinga's own state.
    3. both start again: everything UP/OK and reachable, the cluster recovers.

    Returns the seconds each step took (drive included)."""
    timings: dict[str, float] = {}
    cloud.sim.admin("PATCH", "/_sim/settings", {"service_down_time": 0})
    t0 = time.monotonic()
    records = cloud.sim.admin("GET", "/_sim/compute_services")["compute_services"]
    listed = {f"{s['binary']}@{s['host']}" for s in records}
    for ref in CONDUCTORS:
        if ref not in listed:
            binary, host = ref.split("@")
            cloud.sim.admin("POST", "/_sim/compute_services", {"binary": binary, "host": host})
    cloud.sweep()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == [], icinga.report()
    cluster = icinga.one("cluster", vio_binary="nova-conductor").name
    computes = [o.name for o in icinga.find("compute-service")]
    parents = assert_one_parent_each(icinga)
    assert computes and all(parents[c] == cluster for c in computes), parents
    below = {o.name for o in icinga.below(cluster)}
    hypervisors = [o.name for o in icinga.find("hypervisor")]
    vms = [o.name for o in icinga.find("vm")]
    assert set(computes + hypervisors + vms) <= below, below
    timings["healthy"] = time.monotonic() - t0

    # 1. one conductor of two stops: one WARNING, nothing else
    t0 = time.monotonic()
    cloud.sim.admin("POST", f"/_sim/compute_services/{CONDUCTORS[0]}/stop")
    cloud.sweep()
    objs = icinga.drive()
    c = objs[cluster]
    assert (c.state, c.hard, c.reachable) == (WARNING, True, True), str(c)
    assert "at risk: 1 of 2 members up" in c.output and CONDUCTORS[0] in c.output, str(c)
    others = [str(o) for n, o in objs.items() if n != cluster and (o.state != 0 or not o.reachable)]
    assert not others, "\n".join(others)
    assert icinga.notified() == [cluster], icinga.report()
    assert len(problem_lines(icinga, cluster)) == 1, icinga.report()
    timings["one conductor down"] = time.monotonic() - t0

    # 2. all down: one CRITICAL notification (the cluster); its dependents unreachable and quiet
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.admin("POST", f"/_sim/compute_services/{CONDUCTORS[1]}/stop")
    cloud.sweep()
    objs = icinga.drive()
    c = objs[cluster]
    assert (c.state, c.hard, c.reachable) == (CRITICAL, True, True), str(c)
    assert "all components down: 0 of 2 members up" in c.output, str(c)
    for name in computes:
        assert objs[name].state == CRITICAL and not objs[name].reachable, str(objs[name])
    for name in hypervisors + vms:
        assert not objs[name].reachable, str(objs[name])
    assert icinga.notified() == [cluster], icinga.report()
    assert len(problem_lines(icinga, cluster, "CRITICAL")) == 1, icinga.report()
    timings["all conductors down"] = time.monotonic() - t0

    # 3. recovery
    t0 = time.monotonic()
    icinga.clear_notifications()
    for conductor in CONDUCTORS:
        cloud.sim.admin("POST", f"/_sim/compute_services/{conductor}/start")
    cloud.sweep()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything recovered:\n" + "\n".join(bad)
    assert icinga.notified() == [], icinga.report()
    assert [line for line in icinga.notifications() if line.split()[1] == "RECOVERY"
            and line.split()[0] == cluster], icinga.report()
    timings["recovery"] = time.monotonic() - t0
    return timings
