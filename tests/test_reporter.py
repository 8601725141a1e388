"""The reporter rule (vio_checks/reporter.py) on its own and through the judges (pure, no simulator)."""

from __future__ import annotations

from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor
from vio_checks.judge.interface import InterfaceOptions, judge_port
from vio_checks.judge.router import RouterOptions, judge_router
from vio_checks.judge.verdict import State
from vio_checks.judge.volume import VolumeOptions, judge_volume
from vio_checks.model import Agent, Hypervisor, Port, Router, Service, Volume
from vio_checks.reporter import Reporters

NOW = 1_800_000_000.0


def cinder(host: str, state: str = "up", status: str = "enabled", **kw) -> Service:
    return Service(id=host, component="cinder", binary="cinder-volume", host=host, state=state, status=status,
                   updated=NOW - 600, **kw)


def ovs(host: str, alive: bool = True, **kw) -> Agent:
    return Agent(id=f"ovs-{host}", binary="neutron-openvswitch-agent", agent_type="Open vSwitch agent",
                 host=host, alive=alive, heartbeat=NOW - 600, **kw)


def l3(aid: str, alive: bool = True, admin: bool = True, **kw) -> Agent:
    return Agent(id=aid, binary="neutron-l3-agent", agent_type="L3 agent", host=f"net-{aid}", alive=alive,
                 admin_state_up=admin, heartbeat=NOW - 600, **kw)


VOL = Volume("v1", "db-data", status="in-use", size_gb=5, backend_host="b1@vmdk#vmdk", updated=NOW - 60)
PORT = Port("p1", "eth0", network_id="n1", status="ACTIVE", binding_host="compute-1", vif_type="ovs",
            updated=NOW - 60)


def test_volume_reporter():
    up = Reporters([cinder("b1@vmdk")]).volume(VOL, NOW)
    assert up.can_vouch and up.reporters == ["cinder-volume b1@vmdk"]
    # disabled still reports; down does not; an unlisted backend among listed ones is nobody's
    assert Reporters([cinder("b1@vmdk", status="disabled")]).volume(VOL, NOW).can_vouch
    down = Reporters([cinder("b1@vmdk", state="down")]).volume(VOL, NOW)
    assert down.trouble.startswith("backend b1@vmdk: cinder-volume b1@vmdk down since ")
    assert not Reporters([cinder("b2@vmdk")]).volume(VOL, NOW).can_vouch
    assert not Reporters([cinder("b1@vmdk", state="", missing=("state",))]).volume(VOL, NOW).can_vouch
    # no backend (never scheduled), or no cinder-volume listed at all: no reporter named
    assert Reporters([cinder("b1@vmdk", state="down")]).volume(Volume("v2", "x", status="error"), NOW).can_vouch
    assert Reporters([]).volume(VOL, NOW).can_vouch


def test_volume_on_a_down_backend_is_unverified_even_in_error():
    for status in ("in-use", "error"):
        vol = VOL.replace(status=status)
        v = judge_volume(vol, {}, VolumeOptions(), NOW, Reporters([cinder("b1@vmdk", state="down")]).volume(vol, NOW))
        assert v.state == State.UNKNOWN and v.unverified
        assert v.summary.endswith(f": state unverified (Cinder last reported {status})")


def test_port_reporter():
    assert Reporters(agents=[ovs("compute-1")]).port(PORT, NOW).can_vouch
    dead = Reporters(agents=[ovs("compute-1", alive=False)]).port(PORT, NOW)
    assert dead.trouble.startswith("L2 agent neutron-openvswitch-agent@compute-1 dead (last heartbeat ")
    # one alive L2 agent on the host vouches; admin down still reports
    assert Reporters(agents=[ovs("compute-1", alive=False), Agent(
        "lb", "neutron-linuxbridge-agent", "Linux bridge agent", "compute-1", alive=True)]).port(PORT, NOW).can_vouch
    assert Reporters(agents=[ovs("compute-1", admin_state_up=False)]).port(PORT, NOW).can_vouch
    # another host's agent, non-L2 agents, an unbound port: no reporter named
    assert Reporters(agents=[ovs("compute-2", alive=False)]).port(PORT, NOW).can_vouch
    dhcp = Agent("d", "neutron-dhcp-agent", "DHCP agent", "compute-1", alive=False)
    assert Reporters(agents=[dhcp]).port(PORT, NOW).can_vouch
    assert Reporters(agents=[ovs("compute-1", alive=False)]).port(PORT.replace(vif_type="unbound"), NOW).can_vouch


def test_port_with_a_dead_l2_agent_is_unverified_but_binding_failed_stays_critical():
    agents = Reporters(agents=[ovs("compute-1", alive=False)])
    v = judge_port(PORT, None, None, InterfaceOptions(), NOW, agents.port(PORT, NOW))
    assert v.state == State.UNKNOWN and v.unverified
    assert v.summary.endswith("state unverified (Neutron last reported ACTIVE)")
    failed = PORT.replace(vif_type="binding_failed", status="DOWN")
    v = judge_port(failed, None, None, InterfaceOptions(), NOW, agents.port(failed, NOW))
    assert v.state == State.CRITICAL and not v.unverified


def test_router_served_by_nobody():
    def judge(*agents):
        r = Router("r1", "router-a", status="ACTIVE", agent_ids=[a.id for a in agents])
        return judge_router(r, {a.id: a for a in agents}, RouterOptions(), NOW)

    v = judge(l3("a1", admin=False))
    assert v.state == State.CRITICAL and v.summary.startswith(
        "router-a: no L3 agent serves it (1 hosting: neutron-l3-agent@net-a1 admin down")
    v = judge(l3("a1", admin=False), l3("a2", alive=False))
    assert v.state == State.CRITICAL and "neutron-l3-agent@net-a2 dead (last heartbeat " in v.summary
    v = judge(l3("a1", admin=False), l3("a2"))
    assert v.state == State.WARNING and "1 of 2 hosting L3 agents not serving" in v.summary
    # whether the only other agent serves is not known: unverified, not CRITICAL and not OK
    v = judge(l3("a1", admin=False), l3("a2", alive=False, missing=("alive",)))
    assert v.state == State.UNKNOWN and v.unverified and "state unverified" in v.summary


def test_hypervisor_whose_compute_service_is_down_is_critical():
    h = Hypervisor("1", "domain-c8", state="up", status="enabled", service_host="c1")
    svc = Service("s", "nova", "nova-compute", "c1", status="enabled", state="down", updated=NOW - 600)
    v = judge_hypervisor(h, svc, HypervisorOptions(), NOW)
    assert v.state == State.CRITICAL and v.summary.startswith("domain-c8 is down; compute service c1 down since ")
