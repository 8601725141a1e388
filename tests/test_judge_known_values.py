"""In-process tests of issue 20's items 2 and 4: only documented values are judged (normalize.py's one check,
and every judge's own last branch), the first-seen record (firstseen.py) that stuck detection falls back on
when a timestamp does not parse, and vCenter's power state believed over Nova's ACTIVE."""

from __future__ import annotations

import time

import pytest
from freezegun import freeze_time

from vio_checks import normalize
from vio_checks.firstseen import carry, since, state_key
from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor
from vio_checks.judge.interface import InterfaceOptions, judge_port
from vio_checks.judge.router import RouterOptions, judge_router
from vio_checks.judge.verdict import State, Verdict
from vio_checks.judge.vm import VmOptions, judge_vm, vsphere_power
from vio_checks.judge.volume import VolumeOptions, judge_volume
from vio_checks.model import Agent, Hypervisor, Inventory, Meta, Port, Router, Server, Volume, unreported
from vio_checks.vsphere.records import VsVm

FROZEN = "2026-11-24 10:42:00"


@pytest.fixture
def now() -> float:
    with freeze_time(FROZEN):
        return time.time()


# --- normalize.py: the one type and value check -----------------------------------------------------

BASE = {
    "server": {"id": "s1", "status": "ACTIVE"},
    "hypervisor": {"id": "h1", "state": "up", "status": "enabled"},
    "volume": {"id": "v1", "status": "available"},
    "port": {"id": "p1", "status": "ACTIVE"},
    "router": {"id": "r1", "status": "ACTIVE"},
    "agent": {"id": "a1", "alive": True, "admin_state_up": True},
    "service": {"id": "c1", "status": "enabled", "state": "up"},
}
#: (normalize function, API field, a value that must not be judged, what unreported() says)
UNUSABLE = [
    ("server", "status", "SHINY", "Nova reported an undocumented status 'SHINY'"),
    ("server", "status", ["ACTIVE"], "Nova reported status as a list: ['ACTIVE']"),
    ("server", "status", 1, "Nova reported status as a number: 1"),
    ("server", "OS-EXT-STS:task_state", {"x": 1}, "Nova reported task_state as an object: {'x': 1}"),
    ("server", "OS-EXT-STS:power_state", True, "Nova reported power_state as a boolean: True"),
    ("server", "host_status", "LOST", "Nova reported an undocumented host_status 'LOST'"),
    ("hypervisor", "state", "UP!", "Nova reported an undocumented state 'UP!'"),
    ("hypervisor", "status", ["enabled"], "Nova reported status as a list: ['enabled']"),
    ("volume", "status", "shiny", "Cinder reported an undocumented status 'shiny'"),
    ("volume", "status", 3.5, "Cinder reported status as a number: 3.5"),
    ("port", "status", "UP", "Neutron reported an undocumented status 'UP'"),
    ("port", "admin_state_up", "sure", "Neutron reported admin_state_up as a string: 'sure'"),
    ("port", "binding:vif_type", ["ovs"], "Neutron reported vif_type as a list: ['ovs']"),
    ("router", "status", "FROZEN", "Neutron reported an undocumented status 'FROZEN'"),
    ("router", "ha", "yes please", "Neutron reported ha as a string: 'yes please'"),
    ("agent", "alive", [True], "Neutron reported alive as a list: [True]"),
    ("agent", "admin_state_up", 1, "Neutron reported admin_state_up as a number: 1"),
    ("service", "state", "sleeping", "Nova reported an undocumented state 'sleeping'"),
    ("service", "forced_down", "perhaps", "Nova reported forced_down as a string: 'perhaps'"),
]


def _normalized(kind: str, raw: dict):
    return normalize.service(raw, "nova") if kind == "service" else getattr(normalize, kind)(raw)


@pytest.mark.parametrize(("kind", "field", "value", "text"), UNUSABLE)
def test_a_judged_field_of_the_wrong_type_or_undocumented_is_named_in_missing(kind, field, value, text) -> None:
    record = _normalized(kind, {**BASE[kind], field: value})
    assert unreported(record) == text
    assert _normalized(kind, BASE[kind]).missing == ()


def test_a_hostile_value_is_rendered_inert() -> None:
    record = normalize.server({"id": "s1", "status": ["ACTIVE\n|x=1", "\u202eevil"]})
    text = unreported(record)
    assert "\n" not in text and "|" not in text and "\u202e" not in text
    assert text.startswith("Nova reported status as a list: ")


def test_every_error_status_cinder_may_add_is_known() -> None:
    assert normalize.volume({"id": "v1", "status": "error_managing"}).missing == ()


# --- every judge: a record normalize.py did not make ------------------------------------------------


def test_judges_ok_only_documented_values_of_records_built_by_hand(now) -> None:
    v = judge_vm(Server(id="s1", name="web-01", status="SHINY"), None, None, VmOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True) and "'SHINY'" in v.summary
    h = Hypervisor(id="h1", hostname="c1", state="sideways", status="enabled")
    v = judge_hypervisor(h, None, HypervisorOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True) and "'sideways'" in v.summary
    v = judge_port(Port(id="p1", name="eth0", status="UP"), None, None, InterfaceOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True) and "'UP'" in v.summary
    v = judge_volume(Volume(id="v1", name="data", status="shiny"), {}, VolumeOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True) and "'shiny'" in v.summary
    v = judge_router(Router(id="r1", name="r1", status="FROZEN"), {}, RouterOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True) and "'FROZEN'" in v.summary


def test_a_router_without_status_is_unknown(now) -> None:
    r = normalize.router({"id": "r1", "name": "r1"})
    v = judge_router(r, {}, RouterOptions(), now)
    assert (v.state, v.summary) == (State.UNKNOWN, "r1: Neutron reported no status: state unverified")


def test_a_vm_port_down_whose_vm_state_is_unknown_stays_critical(now) -> None:
    port = Port(id="p1", name="eth0", status="DOWN", device_owner="compute:nova", device_id="s1")
    for server in (Server(id="s1", name="web-01", status="UNKNOWN"),
                   Server(id="s1", name="web-01", status="", missing=("status",)),
                   Server(id="s1", name="web-01", status="SHINY")):
        v = judge_port(port, server, None, InterfaceOptions(), now)
        assert v.state == State.CRITICAL and "is DOWN, and its VM's state is unknown" in v.summary, v
    v = judge_port(port, Server(id="s1", name="web-01", status="SHUTOFF"), None, InterfaceOptions(), now)
    assert v.state == State.OK


# --- first seen --------------------------------------------------------------------------------------


def _inv(at: float, **kinds) -> Inventory:
    return Inventory(meta=Meta(cloud="c", region=None, fetched_at=at, seconds=0, requests=0), **kinds)


def test_first_seen_carries_over_an_unchanged_state_and_restarts_on_a_change() -> None:
    one = _inv(100.0, servers=[Server(id="a", name="a", status="ACTIVE", task_state="migrating"),
                               Server(id="b", name="b", status="ACTIVE")],
               volumes=[Volume(id="v", name="v", status="creating")],
               vsphere_vms=[VsVm("vm-1", "a", power_state="poweredOff")])
    carry(None, one)
    assert [since(s) for s in one.servers] == [100.0, 100.0]
    two = _inv(200.0, servers=[Server(id="a", name="a", status="ACTIVE", task_state="migrating"),
                               Server(id="b", name="b", status="SHUTOFF"), Server(id="c", name="c")],
               volumes=[Volume(id="v", name="v", status="creating")],
               vsphere_vms=[VsVm("vm-1", "a", power_state="poweredOff")])
    carry(one, two)
    assert [since(s) for s in two.servers] == [100.0, 200.0, 200.0]
    assert since(two.volumes[0]) == 100.0 and since(two.vsphere_vms[0]) == 100.0
    # a record whose state changed after the time was set has no first-seen time (never a wrong one)
    assert since(two.servers[0].replace(task_state="resize_prep")) is None
    assert since(Server(id="x", name="x")) is None


def _seen(obj, at: float):
    obj.seen = (state_key(obj), at)
    return obj


def test_stuck_detection_falls_back_to_first_seen_when_the_timestamp_does_not_parse(now) -> None:
    opts = VmOptions(stuck_after=1800)
    server = _seen(Server(id="s1", name="mig-01", status="MIGRATING", task_state="migrating"), now - 7200)
    v = judge_vm(server, None, None, opts, now)
    assert v.state == State.WARNING and v.summary.startswith("mig-01 stuck migrating for 2 h 0 min since first "
                                                             "seen ") and "Nova's timestamp unreadable" in v.summary
    server = _seen(Server(id="s1", name="mig-01", status="MIGRATING", task_state="migrating"), now - 60)
    v = judge_vm(server, None, None, opts, now)
    assert v.state == State.OK and "migrating for 60 s (since first seen " in v.summary
    assert "; Nova's timestamp unreadable)" in v.summary
    volume = _seen(Volume(id="v1", name="data", status="creating"), now - 7200)
    v = judge_volume(volume, {}, VolumeOptions(), now)
    assert v.state == State.WARNING and "Cinder's timestamp unreadable" in v.summary
    port = _seen(Port(id="p1", name="eth0", status="BUILD"), now - 7200)
    v = judge_port(port, None, None, InterfaceOptions(), now)
    assert v.state == State.WARNING and "Neutron's timestamp unreadable" in v.summary
    # neither time known: as before, never stuck
    v = judge_vm(Server(id="s1", name="mig-01", status="MIGRATING"), None, None, opts, now)
    assert v.state == State.OK and "(since ?)" in v.summary


# --- vCenter's power state over Nova's ACTIVE ---------------------------------------------------------


def _ok() -> Verdict:
    v = Verdict()
    v.add(State.OK, "web-01 is ACTIVE and running")
    return v


@pytest.mark.parametrize(("server_seen", "vm_seen", "state"), [
    (0.0, 0.0, State.CRITICAL),  # both already so in the previous sweep
    (0.0, 1.0, State.WARNING),  # vCenter's power changed in this sweep
    (1.0, 0.0, State.WARNING),  # Nova's status changed in this sweep
    (None, 0.0, State.WARNING),  # no first-seen record: one sweep is all we know of
])
def test_vcenter_power_off_under_an_active_vm(now, server_seen, vm_seen, state) -> None:
    fetched = now - 30
    server = Server(id="s1", name="web-01", status="ACTIVE", power_state=1)
    vm = VsVm("vm-1", "web-01", power_state="poweredOff")
    if server_seen is not None:
        _seen(server, fetched - 300 * (1 - server_seen))
    _seen(vm, fetched - 300 * (1 - vm_seen))
    v = vsphere_power(_ok(), server, vm, fetched, now)
    assert v.state == state and v.summary.startswith("web-01: Nova says ACTIVE, vCenter says poweredOff since ")
    assert all(f.state != State.OK for f in v.findings)


def test_vcenter_power_rule_leaves_what_it_cannot_tell(now) -> None:
    vm = _seen(VsVm("vm-1", "web-01", power_state="poweredOff"), now - 600)
    busy = _seen(Server(id="s1", name="web-01", status="ACTIVE", task_state="rebooting"), now - 600)
    assert vsphere_power(_ok(), busy, vm, now, now).state == State.OK
    server = _seen(Server(id="s1", name="web-01", status="ACTIVE"), now - 600)
    on = _seen(VsVm("vm-1", "web-01", power_state="poweredOn"), now - 600)
    assert vsphere_power(_ok(), server, on, now, now).state == State.OK
    unverified = Verdict(unverified=True)
    unverified.add(State.UNKNOWN, "web-01: ESXi host esx-01 is not responding: state unverified")
    assert vsphere_power(unverified, server, vm, now, now).state == State.UNKNOWN
    assert vsphere_power(_ok(), server, None, now, now).state == State.OK


@pytest.mark.parametrize("kind", sorted(BASE))
def test_every_judged_field_of_every_kind_takes_no_list(kind) -> None:
    """The class, not the examples: any field a judgement reads (BASE's, id aside) given a list is named."""
    for field, value in BASE[kind].items():
        if field != "id":
            record = _normalized(kind, {**BASE[kind], field: [value]})
            assert unreported(record) and "as a list" in unreported(record), (kind, field)


def test_an_undocumented_ha_state_is_unknown(now) -> None:
    agents = {i: Agent(id=i, binary="neutron-l3-agent", agent_type="L3 agent", host=i, alive=True)
              for i in ("a1", "a2")}
    r = Router(id="r1", name="r1", status="ACTIVE", ha=True, agent_ids=["a1", "a2"],
               ha_states={"a1": "active", "a2": "leader"})
    v = judge_router(r, agents, RouterOptions(), now)
    assert v.state == State.UNKNOWN and "undocumented ha_state" in v.summary and "'leader'" in v.summary
