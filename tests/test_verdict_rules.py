"""In-process tests of the verdict rules that live in one place: vCenter lost, missing fields, reserved
volumes, placement, the --stuck-after rule, disabled defaults, parsed thresholds, and inert cloud strings."""

from __future__ import annotations

import pytest

from vio_checks import normalize
from vio_checks.changes import Event, describe
from vio_checks.judge import verdict as verdict_mod
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor
from vio_checks.judge.interface import InterfaceOptions, judge_port, port_label
from vio_checks.judge.interface import status_perf as port_perf
from vio_checks.judge.service import ServiceOptions, Services, judge_agent, judge_service, judge_services
from vio_checks.judge.timefmt import elapsed
from vio_checks.judge.verdict import State, Threshold
from vio_checks.judge.vm import VmOptions, history_notes, judge_vm, status_perf
from vio_checks.judge.volume import VolumeOptions, judge_volume, volume_perf
from vio_checks.model import Hypervisor, Network, Server, Service, unreported, vcenter_lost
from vio_checks.placement import Placement

NOW = 1_800_000_000.0
LOST = "set by vmwareapi host_state"
HV = "domain-c8.5f2e"


def hyp(**kw) -> Hypervisor:
    base = dict(id="h1", hostname=HV, state="up", status="enabled", service_host="cmp-01",
                memory_mb=1000, memory_mb_used=100, local_gb=100, local_gb_used=10, vcpus=10, vcpus_used=1)
    base.update(kw)
    return Hypervisor(**base)


def svc(**kw) -> Service:
    base = dict(id="s1", component="nova", binary="nova-compute", host="cmp-01", status="enabled", state="up",
                updated=NOW - 60)
    base.update(kw)
    return Service(**base)


def server(**kw) -> Server:
    base = dict(id="vm-1", name="vm-x", status="ACTIVE", power_state=1, host="cmp-01", hypervisor_hostname=HV,
                host_status="UP", updated=NOW - 3600)
    base.update(kw)
    return Server(**base)


# --- 1. vCenter lost: the reason AND the service disabled (or down) ------------------------------------


@pytest.mark.parametrize("status,state,reason,lost", [
    ("disabled", "up", LOST, True),
    ("enabled", "down", LOST, True),
    ("disabled", "up", " Set by VMwareAPI host_state ", True),
    ("enabled", "up", LOST, False),  # the driver re-enabled it and left its reason
    ("disabled", "up", "maintenance", False),
    ("disabled", "up", None, False),
])
def test_vcenter_lost_rule(status, state, reason, lost):
    assert vcenter_lost(status, state, reason) is lost
    assert svc(status=status, state=state, disabled_reason=reason).vcenter_lost is lost
    assert hyp(status=status, state=state, disabled_reason=reason).vcenter_lost is lost


def test_vm_error_on_recovered_cluster_is_critical_not_unverified():
    s = server(status="ERROR", fault_message="boom")
    h, c = hyp(disabled_reason=LOST), svc(disabled_reason=LOST)
    v = judge_vm(s, h, c, VmOptions(), NOW)
    assert (v.state, v.unverified) == (State.CRITICAL, False)
    assert v.summary == f"vm-x is ERROR: boom (on {HV})"
    agg = aggregate([Member("vm-1", "vm-x", v)], "VMs")
    assert agg.state == State.CRITICAL
    assert judge_hypervisor(h, c, HypervisorOptions(), NOW).state == State.OK
    assert judge_service(c, ServiceOptions(), NOW).state == State.OK


def test_vcenter_lost_still_unverifies_vms_and_is_critical():
    h = hyp(status="disabled", disabled_reason=LOST)
    c = svc(status="disabled", disabled_reason=LOST)
    v = judge_vm(server(status="ERROR"), h, c, VmOptions(), NOW)
    assert v.unverified and "cut off from vCenter" in v.summary
    hv = judge_hypervisor(h, c, HypervisorOptions(), NOW)
    assert hv.state == State.CRITICAL and "vCenter unreachable" in hv.summary
    assert judge_service(c, ServiceOptions(), NOW).state == State.CRITICAL


# --- 2. missing fields are unverified, never OK --------------------------------------------------------


def test_normalize_keeps_missing_distinguishable():
    assert normalize.server({"id": "1", "name": "a"}).missing == ("status",)
    assert normalize.server({"id": "1", "name": "a", "status": None}).missing == ("status",)
    assert normalize.server({"id": "1", "name": "a", "status": "ACTIVE"}).missing == ()
    assert normalize.hypervisor({"id": "1", "status": "enabled"}).missing == ("state",)
    agent = normalize.agent({"id": "1", "binary": "neutron-dhcp-agent", "host": "n", "alive": False,
                             "admin_state_up": True})
    assert agent.missing == () and agent.alive is False  # a real False is a value, not a gap
    assert normalize.agent({"id": "1", "binary": "b", "host": "n"}).missing == ("alive", "admin_state_up")
    assert normalize.service({"binary": "cinder-volume", "host": "c", "state": "up"}, "cinder").missing == (
        "status",)
    assert normalize.volume({"id": "1"}).missing == ("status",)
    assert normalize.port({"id": "1"}).missing == ("status",)


def test_server_without_status_is_unverified():
    s = normalize.server({"id": "vm-1", "name": "vm-x", "OS-EXT-SRV-ATTR:hypervisor_hostname": HV,
                          "OS-EXT-SRV-ATTR:host": "cmp-01"})
    v = judge_vm(s, hyp(), svc(), VmOptions(), NOW)
    assert (v.state, v.unverified) == (State.UNKNOWN, True)
    assert v.summary == f"vm-x: Nova reported no status: state unverified (on {HV})"
    agg = aggregate([Member("vm-1", "vm-x", v),
                     Member("vm-2", "ok", judge_vm(server(id="vm-2"), hyp(), svc(), VmOptions(), NOW))], "VMs")
    # not OK: the member it could not verify is named with its cause
    assert (agg.state, agg.summary) == (State.WARNING, "1 of 2 VMs OK, 1 unverified (Nova reported no status: 1)")
    assert "unverified (1): vm-x" in agg.details


def test_hypervisor_without_state_or_status_is_unverified():
    for raw, field in (({"status": "enabled"}, "state"), ({"state": "up"}, "status")):
        h = normalize.hypervisor({"id": "h1", "hypervisor_hostname": HV, **raw})
        v = judge_hypervisor(h, svc(), HypervisorOptions(), NOW)
        assert (v.state, v.unverified) == (State.UNKNOWN, True)
        assert v.summary == f"{HV}: Nova reported no {field}: state unverified"


def test_services_and_agents_with_missing_fields_are_counted_unverified():
    nova = normalize.service({"id": "1", "binary": "nova-scheduler", "host": "c1", "status": "enabled"}, "nova")
    cinder = normalize.service({"binary": "cinder-volume", "host": "c1", "state": "up"}, "cinder")
    agent = normalize.agent({"id": "a", "binary": "neutron-dhcp-agent", "host": "n1", "admin_state_up": True})
    for v, text in ((judge_service(nova, ServiceOptions(), NOW), "Nova reported no state"),
                    (judge_service(cinder, ServiceOptions(), NOW), "Cinder reported no status"),
                    (judge_agent(agent, ServiceOptions(), NOW), "Neutron reported no alive")):
        assert (v.state, v.unverified) == (State.UNKNOWN, True)
        assert text in v.summary
    found = Services(nova=[nova], cinder=[cinder], agents=[agent])
    v = judge_services(found, ServiceOptions(expect={"nova-scheduler": 1}), NOW, ("nova", "neutron", "cinder"))
    # the one scheduler cannot be vouched for: not up; its cluster (judge/cluster.py) is UNKNOWN, and the
    # cinder-volume record beside it is counted unverified
    assert v.state == State.UNKNOWN
    assert "cluster nova-scheduler: none of 1 member verified up" in v.summary
    assert "1 unverified" in " ".join(f.text for f in v.findings)


def test_volume_and_port_without_status_are_unverified():
    vol = normalize.volume({"id": "v1", "name": "data"})
    v = judge_volume(vol, {}, VolumeOptions(), NOW)
    assert (v.state, v.unverified, v.summary) == (State.UNKNOWN, True,
                                                  "data: Cinder reported no status: state unverified")
    p = normalize.port({"id": "p1", "name": "eth0", "device_owner": "compute:nova", "device_id": "vm-1",
                        "network_id": "n1"})
    v = judge_port(p, server(), Network(id="n1", name="private"), InterfaceOptions(), NOW)
    assert (v.state, v.unverified) == (State.UNKNOWN, True)
    assert v.summary == "vm-x port eth0 on private: Neutron reported no status: state unverified"
    assert unreported(p) == "Neutron reported no status"


# --- 3. reserved volumes ------------------------------------------------------------------------------


def test_reserved_volume_stays_ok():
    vol = normalize.volume({"id": "v1", "name": "shelved-data", "status": "reserved", "size": 5,
                            "updated_at": "2020-01-01T00:00:00Z"})
    v = judge_volume(vol, {}, VolumeOptions(), NOW)
    assert v.state == State.OK and v.summary.startswith("shelved-data is reserved for ")


# --- 4. one rule, one place ---------------------------------------------------------------------------


def test_placement():
    a = hyp(id="a", hostname="domain-c8.x", service_host="cmp-01")
    b = hyp(id="b", hostname="domain-c9(Cluster-B)", service_host="cmp-02")
    c = hyp(id="c", hostname="domain-c10.x", service_host="cmp-02")
    compute = svc(host="cmp-01")
    where = Placement([a, b, c], [compute, svc(id="s2", binary="nova-scheduler", host="cmp-02")])
    assert where.hypervisor_of(server(hypervisor_hostname="domain-c8.x", host="cmp-01")) is a
    assert where.hypervisor_of(server(hypervisor_hostname=None, host="cmp-01")) is a  # the only one on cmp-01
    assert where.hypervisor_of(server(hypervisor_hostname=None, host="cmp-02")) is None  # two clusters
    assert where.hypervisor_of(server(hypervisor_hostname=None, host=None)) is None
    assert where.service_of(server(hypervisor_hostname="domain-c8.x", host=None)) is compute
    assert where.service_of(server(host="cmp-02", hypervisor_hostname="domain-c9(Cluster-B)")) is None
    assert where.service_of_hypervisor(a) is compute
    assert where.label_of(server(hypervisor_hostname="domain-c9(Cluster-B)")) == "Cluster-B"
    assert where.label_of(server(hypervisor_hostname="domain-c11(New)", host="cmp-09")) == "New"
    assert where.label(None, "cmp-09") == "cmp-09"


@pytest.mark.parametrize("updated,stuck,text", [
    (None, False, "(since ?)"), (NOW - 60, False, "for 60 s"), (NOW - 1800, True, "for 30 min"),
])
def test_one_stuck_rule(updated, stuck, text):
    e = elapsed(updated, NOW, 1800)
    assert (e.stuck, e.text) == (stuck, text)


def test_disabled_defaults_ok_with_reason_warn_disabled_warning():
    h = hyp(status="disabled", disabled_reason="maintenance")
    c = svc(status="disabled", disabled_reason="maintenance")
    ok = judge_hypervisor(h, c, HypervisorOptions(), NOW)
    assert ok.state == State.OK and ok.summary.startswith(f"{HV} is disabled: maintenance; {HV} is up: ")
    warn = judge_hypervisor(h, c, HypervisorOptions(warn_disabled=True), NOW)
    assert (warn.state, warn.summary) == (State.WARNING, f"{HV} is disabled: maintenance")
    down = normalize.port({"id": "p", "name": "eth0", "status": "DOWN", "admin_state_up": False,
                           "device_owner": "compute:nova", "device_id": "vm-1"})
    assert judge_port(down, server(), None, InterfaceOptions(), NOW).state == State.OK
    assert judge_port(down, server(), None, InterfaceOptions(warn_disabled=True), NOW).state == State.WARNING


def test_thresholds_are_parsed_once(monkeypatch):
    opts = HypervisorOptions(memory=Threshold.parse("5", "8"))
    calls = []
    monkeypatch.setattr(verdict_mod, "Range", lambda text: calls.append(text))
    v = judge_hypervisor(hyp(), svc(), opts, NOW)  # RAM 10 %
    assert v.state == State.CRITICAL and not calls
    perf = {p.label: p for p in v.perf}
    assert (perf["memory_usage"].warn, perf["memory_usage"].crit) == ("5", "8")
    assert verdict_mod.parse_range("90") is verdict_mod.parse_range(" 90 ")


# --- 5. every cloud string inert ---------------------------------------------------------------------

NASTY = ["evil\nVIO VM OK - fake", "a|b=c 'q'", "nul\x00byte", "lone\ud800surrogate", "x" * 10_000,
         "bidi\u202egnp.exe", "esc\x1b[31m"]


def _assert_inert(texts):
    for t in texts:
        assert "\n" not in t and "\r" not in t and "|" not in t and "\x00" not in t and "\x1b" not in t, t
        assert "\u202e" not in t, t
        t.encode("utf-8")  # no lone surrogates left
        assert len(t) < 2000, len(t)


def _lines(v):
    return [f.text for f in v.findings] + v.details


@pytest.mark.parametrize("nasty", NASTY)
def test_cloud_strings_are_inert_in_every_judge(nasty):
    s = server(name=nasty, status="ERROR", fault_message=nasty, host=nasty, hypervisor_hostname=nasty,
               project_id=nasty, flavor=nasty, task_state=nasty)
    _assert_inert(_lines(judge_vm(s, None, None, VmOptions(), NOW)))
    _assert_inert(_lines(judge_vm(server(name=nasty), None, None, VmOptions(), NOW,
                                  notes=history_notes([Event(NOW - 60, "vm_moved", "vm-1", from_=nasty,
                                                             to=nasty, cause=nasty)], NOW))))
    _assert_inert(_lines(judge_vm(server(name=nasty, status=None, missing=("status",)), None, None,
                                  VmOptions(), NOW)))
    h = hyp(hostname=nasty, status="disabled", disabled_reason=nasty, service_host=nasty, type=nasty)
    _assert_inert(_lines(judge_hypervisor(h, svc(host=nasty, status="disabled", disabled_reason=nasty),
                                          HypervisorOptions(warn_disabled=True), NOW)))
    vol = normalize.volume({"id": "v1", "name": nasty, "status": nasty, "os-vol-host-attr:host": nasty,
                            "volume_type": nasty, "attachments": [{"server_id": nasty, "device": nasty}]})
    judged = judge_volume(vol, {}, VolumeOptions(), NOW)
    _assert_inert(_lines(judged))
    for p in volume_perf([(vol, judged)]):
        assert all(ch not in p.label for ch in "'= |\n\x00"), p.label
    port = normalize.port({"id": "p1", "name": nasty, "status": nasty, "device_owner": nasty,
                           "device_id": nasty, "binding:host_id": nasty, "binding:vif_type": "binding_failed",
                           "fixed_ips": [{"ip_address": nasty}], "mac_address": nasty})
    net = Network(id="n", name=nasty)
    _assert_inert(_lines(judge_port(port, server(name=nasty), net, InterfaceOptions(), NOW)))
    _assert_inert([port_label(port, server(name=nasty), net)])
    for p in port_perf([port]) + status_perf([server(status=nasty)]):
        assert all(ch not in p.label for ch in "'= |\n\x00"), p.label
    svc_bad = svc(binary=nasty, host=nasty, status="disabled", disabled_reason=nasty, zone=nasty)
    agent = normalize.agent({"id": nasty, "binary": nasty, "host": nasty, "alive": False,
                             "admin_state_up": True, "agent_type": nasty})
    _assert_inert(_lines(judge_service(svc_bad, ServiceOptions(), NOW)))
    _assert_inert(_lines(judge_agent(agent, ServiceOptions(), NOW)))
    v = judge_services(Services(nova=[svc_bad], agents=[agent]), ServiceOptions(expect={nasty: 3}), NOW,
                       ("nova", "neutron"))
    _assert_inert(_lines(v))
    for p in v.perf:
        assert all(ch not in p.label for ch in "'= |\n\x00"), p.label
    # the aggregate's unverified list names objects by their (cloud) labels
    unverified = judge_vm(server(name=nasty, status=None, missing=("status",)), None, None, VmOptions(), NOW)
    _assert_inert(_lines(aggregate([Member(nasty, nasty, unverified)] * 2, "VMs")))
    _assert_inert([describe(Event(NOW, "vm_moved", nasty, nasty, nasty, nasty, nasty, nasty), "10:42")])
