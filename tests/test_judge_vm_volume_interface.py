"""In-process tests of the VM, volume and interface judges: hand-built records, frozen time."""

import time

import pytest
from freezegun import freeze_time

from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.interface import InterfaceOptions, judge_port
from vio_checks.judge.interface import status_perf as port_status_perf
from vio_checks.judge.verdict import State
from vio_checks.judge.vm import VmOptions, hypervisor_label, judge_vm, status_perf
from vio_checks.judge.volume import VolumeOptions, judge_volume, volume_perf
from vio_checks.model import Attachment, Hypervisor, Network, Port, Server, Service, Volume

FROZEN = "2026-11-24 10:42:00"
HV = "domain-c8.5f2e0a1b"
OLD_HV = "domain-c9(Cluster-B)"


@pytest.fixture
def now():
    """The judges' `now`: a fixed instant read from a frozen clock (judges never read the clock)."""
    with freeze_time(FROZEN):
        return time.time()


def hyp(hostname=HV, state="up", status="enabled", reason=None):
    return Hypervisor(id="h1", hostname=hostname, state=state, status=status, service_host="vio-compute-01",
                      disabled_reason=reason)


def svc(state="up", status="enabled", reason=None, forced=False):
    return Service(id="s1", component="nova", binary="nova-compute", host="vio-compute-01", state=state,
                   status=status, disabled_reason=reason, forced_down=forced, updated=1795516000.0)


def vm(now, **kw):
    base = dict(id="11111111-aaaa", name="web-01", status="ACTIVE", power_state=1, host="vio-compute-01",
                hypervisor_hostname=HV, host_status="UP", updated=now - 3600, flavor="m1.small",
                flavor_vcpus=2, flavor_ram_mb=2048)
    base.update(kw)
    return Server(**base)


# --- VM --------------------------------------------------------------------------------------------


def test_vm_active_running_is_ok_and_names_hypervisor(now):
    v = judge_vm(vm(now), hyp(), svc(), VmOptions(), now)
    assert v.state == State.OK and not v.unverified
    assert v.summary == f"web-01 is ACTIVE and running (on {HV})"
    perf = {p.label: (p.value, p.uom) for p in v.perf}
    assert perf == {"vcpus": (2, ""), "ram": (2048 * 1024 * 1024, "B")}


def test_vm_hypervisor_label_uses_cluster_name(now):
    s = vm(now, hypervisor_hostname=OLD_HV)
    assert hypervisor_label(s, None) == "Cluster-B"
    assert hypervisor_label(s, hyp(OLD_HV)) == "Cluster-B"
    assert judge_vm(s, None, None, VmOptions(), now).summary.endswith("(on Cluster-B)")


def test_vm_error_with_fault(now):
    s = vm(now, status="ERROR", fault_message="No valid host was found. |x\nmore", fault_code=500)
    v = judge_vm(s, hyp(), svc(), VmOptions(), now)
    assert v.state == State.CRITICAL
    assert v.summary == f"web-01 is ERROR: No valid host was found. /x more (on {HV})"
    assert any(d.startswith("fault 500:") for d in v.details)


def test_vm_error_never_scheduled_has_no_host(now):
    s = vm(now, status="ERROR", host=None, hypervisor_hostname=None, host_status="", power_state=0,
           fault_message="No valid host was found.")
    v = judge_vm(s, None, None, VmOptions(), now)
    assert (v.state, v.unverified) == (State.CRITICAL, False)
    assert v.summary == "web-01 is ERROR: No valid host was found."


@pytest.mark.parametrize("power,name", [(4, "SHUTDOWN"), (6, "CRASHED"), (3, "PAUSED"), (0, "NOSTATE")])
def test_vm_active_but_not_running(now, power, name):
    v = judge_vm(vm(now, power_state=power), hyp(), svc(), VmOptions(), now)
    assert v.state == State.CRITICAL
    assert v.summary == f"web-01 is ACTIVE but its power state is {name} (on {HV})"


def test_vm_power_state_not_reported_is_not_judged(now):
    assert judge_vm(vm(now, power_state=None), hyp(), svc(), VmOptions(), now).state == State.OK


def test_vm_migrating_young_is_ok(now):
    s = vm(now, status="MIGRATING", task_state="migrating", updated=now - 4 * 60)
    v = judge_vm(s, hyp(), svc(), VmOptions(), now)
    assert v.state == State.OK
    assert v.summary == f"web-01 migrating for 4 min (on {HV})"


def test_vm_migrating_stuck_is_warning(now):
    s = vm(now, status="MIGRATING", task_state="migrating", updated=now - 2 * 3600)
    v = judge_vm(s, hyp(), svc(), VmOptions(), now)
    assert v.state == State.WARNING
    assert v.summary.startswith("web-01 stuck migrating for 2 h 0 min since ")
    # the threshold is an option, and the boundary is inclusive
    assert judge_vm(s, hyp(), svc(), VmOptions(stuck_after=3 * 3600), now).state == State.OK
    assert judge_vm(s, hyp(), svc(), VmOptions(stuck_after=2 * 3600), now).state == State.WARNING


def test_judges_use_now_not_the_clock(now):
    """Judges are pure: the same records and `now` give the same verdict whatever the clock says."""
    s = vm(now, status="BUILD", task_state="spawning", updated=now - 600)
    volume = vol(now, status="creating", updated=now - 600)
    p = port(now, status="BUILD", updated=now - 600)
    for clock_time in ("2030-01-01", FROZEN, "2000-01-01"):
        with freeze_time(clock_time):
            v = judge_vm(s, None, None, VmOptions(), now)
            assert v.state == State.OK and v.summary == f"web-01 BUILD (spawning) for 10 min (on {HV})"
            assert judge_volume(volume, {}, VolumeOptions(), now).summary == "db-data creating for 10 min"
            assert judge_port(p, vm(now), NET, InterfaceOptions(), now).state == State.OK
    # and time moving on (a later `now`) is what makes them stuck
    with freeze_time(FROZEN) as frozen:
        frozen.tick(3600)
        later = time.time()
    assert judge_vm(s, None, None, VmOptions(), later).state == State.WARNING
    assert judge_volume(volume, {}, VolumeOptions(), later).state == State.WARNING
    assert judge_port(p, vm(now), NET, InterfaceOptions(), later).state == State.WARNING


@pytest.mark.parametrize("status,task,text", [
    ("ACTIVE", "image_snapshot", "ACTIVE (image_snapshot)"),
    ("SHUTOFF", "powering-on", "SHUTOFF (powering-on)"),
    ("RESIZE", "resize_migrating", "RESIZE (resize_migrating)"),
    ("REBOOT", None, "reboot"),
    ("HARD_REBOOT", "reboot_started_hard", "HARD_REBOOT (reboot_started_hard)"),
    ("REBUILD", "rebuilding", "REBUILD (rebuilding)"),
    ("REVERT_RESIZE", "resize_reverting", "REVERT_RESIZE (resize_reverting)"),
    ("PASSWORD", None, "password"),
])
def test_vm_transitional_statuses_and_tasks(now, status, task, text):
    s = vm(now, status=status, task_state=task, power_state=1, updated=now - 3 * 3600)
    v = judge_vm(s, hyp(), svc(), VmOptions(), now)
    assert v.state == State.WARNING
    assert v.summary.startswith(f"web-01 stuck {text} for 3 h 0 min")


def test_vm_transitional_without_updated_is_ok(now):
    v = judge_vm(vm(now, status="BUILD", updated=None), None, None, VmOptions(), now)
    assert v.state == State.OK and "(since ?)" in v.summary


@pytest.mark.parametrize("status", ["SHUTOFF", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED", "PAUSED",
                                    "RESCUE", "SOFT_DELETED"])
def test_vm_resting_statuses_ok_unless_listed(now, status):
    s = vm(now, status=status, power_state=4)
    assert judge_vm(s, hyp(), svc(), VmOptions(), now).summary == f"web-01 is {status} (on {HV})"
    assert judge_vm(s, hyp(), svc(), VmOptions(), now).state == State.OK
    warn = VmOptions(warning_states=frozenset({status}))
    crit = VmOptions(critical_states=frozenset({status}), warning_states=frozenset({status}))
    assert judge_vm(s, hyp(), svc(), warn, now).state == State.WARNING
    assert judge_vm(s, hyp(), svc(), crit, now).state == State.CRITICAL


def test_vm_verify_resize_is_resting(now):
    s = vm(now, status="VERIFY_RESIZE", updated=now - 5 * 3600)
    v = judge_vm(s, hyp(), svc(), VmOptions(), now)
    assert v.state == State.OK
    assert "awaiting confirm or revert for 5 h 0 min" in v.summary


@pytest.mark.parametrize("hv,service,host_status,why", [
    (hyp(state="down"), svc(), "UP", "down"),
    (hyp(), svc(state="down"), "UP", "down"),
    (hyp(), svc(forced=True), "DOWN", "down"),
    (hyp(), svc(), "UNKNOWN", "down"),
    (None, None, "DOWN", "down"),
    (hyp(status="disabled"), svc(status="disabled", reason="set by vmwareapi host_state"), "MAINTENANCE",
     "cut off from vCenter"),
    (hyp(status="disabled", reason="Set by VMwareAPI host_state "), None, "MAINTENANCE", "cut off from vCenter"),
])
def test_vm_on_unverifiable_host(now, hv, service, host_status, why):
    s = vm(now, status="ERROR", fault_message="boom", host_status=host_status)
    v = judge_vm(s, hv, service, VmOptions(), now)
    assert v.unverified is True
    assert v.state == State.UNKNOWN
    assert v.summary == f"web-01: hypervisor {HV} {why}: state unverified (Nova last reported ERROR)"


def test_vm_admin_disabled_host_is_still_verified(now):
    s = vm(now, host_status="MAINTENANCE")
    v = judge_vm(s, hyp(status="disabled", reason="patching"), svc(status="disabled", reason="patching"),
                 VmOptions(), now)
    assert (v.state, v.unverified) == (State.OK, False)


def test_vm_nova_status_unknown_is_unverified(now):
    v = judge_vm(vm(now, status="UNKNOWN"), hyp(), svc(), VmOptions(), now)
    assert (v.state, v.unverified) == (State.UNKNOWN, True)


def test_vm_notes_seam(now):
    ok = judge_vm(vm(now), hyp(), svc(), VmOptions(), now, notes=["moved from A to B 4 min ago"])
    assert ok.summary.endswith("; moved from A to B 4 min ago")
    assert "moved from A to B 4 min ago" in ok.details
    bad = judge_vm(vm(now, status="ERROR"), hyp(), svc(), VmOptions(), now, notes=["moved"])
    assert "moved" not in bad.summary and "moved" in bad.details


def test_vm_aggregate_counts_unverified_and_statuses(now):
    servers = [vm(now, id="a", name="a"), vm(now, id="b", name="b", status="ERROR", fault_message="x"),
               vm(now, id="c", name="c", status="SHUTOFF", power_state=4),
               vm(now, id="d", name="d", host_status="UNKNOWN"), vm(now, id="e", name="e", status="UNKNOWN")]
    items = [Member(s.id, s.name, judge_vm(s, hyp(), svc(), VmOptions(), now)) for s in servers]
    v = aggregate(items, "VMs")
    assert v.state == State.CRITICAL
    assert v.summary == (f"1 CRITICAL of 5 VMs, 2 unverified (Nova reports status UNKNOWN: 1; hypervisor {HV} "
                         f"down: 1): b is ERROR: x (on {HV})")
    perf = {p.label: p.value for p in v.perf + status_perf(servers)}
    assert perf["unverified"] == 2 and perf["unknown"] == 0 and perf["ok"] == 2
    assert perf["active"] == 2 and perf["error"] == 1 and perf["shutoff"] == 1 and perf["build"] == 0
    assert perf["status_unknown"] == 1


# --- volume ----------------------------------------------------------------------------------------


def vol(now, **kw):
    base = dict(id="v1", name="db-data", status="available", size_gb=10, backend_host="vio-ctl-01@vmdk#vmdk",
                volume_type="vmdk", updated=now - 7200)
    base.update(kw)
    return Volume(**base)


@pytest.mark.parametrize("status", ["error", "error_deleting", "error_backing-up", "error_restoring",
                                    "error_extending", "error_managing"])
def test_volume_error_statuses_are_critical(now, status):
    v = judge_volume(vol(now, status=status), {}, VolumeOptions(), now)
    assert v.state == State.CRITICAL
    assert v.summary == f"db-data is {status} (10 GiB, backend vio-ctl-01@vmdk)"
    assert [(p.label, p.value, p.uom) for p in v.perf] == [("size", 10 * 1024**3, "B")]


@pytest.mark.parametrize("status", ["creating", "attaching", "detaching", "deleting", "extending", "backing-up",
                                    "restoring-backup", "downloading", "uploading", "retyping",
                                    "maintenance"])
def test_volume_transitional(now, status):
    young = judge_volume(vol(now, status=status, updated=now - 240), {}, VolumeOptions(), now)
    assert (young.state, young.summary) == (State.OK, f"db-data {status} for 4 min")
    old = judge_volume(vol(now, status=status), {}, VolumeOptions(), now)
    assert old.state == State.WARNING
    assert old.summary.startswith(f"db-data stuck {status} for 2 h 0 min (since ")
    assert judge_volume(vol(now, status=status), {}, VolumeOptions(stuck_after=3 * 3600), now).state == State.OK


def test_volume_in_use_ok_names_server(now):
    s = vm(now)
    v = judge_volume(vol(now, status="in-use", attachments=[Attachment(s.id, "/dev/sdb")]), {s.id: s},
                     VolumeOptions(), now)
    assert (v.state, v.summary) == (State.OK, "db-data is in-use on web-01 as /dev/sdb, 10 GiB")


def test_volume_attached_to_deleted_server(now):
    a = [Attachment("gone-1", "/dev/sdb")]
    v = judge_volume(vol(now, status="in-use", attachments=a), {"gone-1": None}, VolumeOptions(), now)
    assert v.state == State.WARNING
    assert v.summary.startswith("db-data is in-use, attached to server gone-1 which no longer exists")
    # within the grace (a VM created during the sweep) it is not flagged yet
    young = judge_volume(vol(now, status="in-use", attachments=a, updated=now - 30), {"gone-1": None},
                         VolumeOptions(), now)
    assert young.state == State.OK


def test_volume_in_use_without_attachment(now):
    v = judge_volume(vol(now, status="in-use"), {}, VolumeOptions(), now)
    assert v.state == State.WARNING and "has no attachment" in v.summary


@pytest.mark.parametrize("status", ["available", "awaiting-transfer"])
def test_volume_resting(now, status):
    assert judge_volume(vol(now, status=status), {}, VolumeOptions(), now).state == State.OK


def test_volume_unexpected_status(now):
    assert judge_volume(vol(now, status="weird"), {}, VolumeOptions(), now).state == State.UNKNOWN


def test_volume_aggregate_perf_per_backend(now):
    vols = [vol(now, id="1", size_gb=10), vol(now, id="2", status="error", size_gb=5),
            vol(now, id="3", status="in-use", size_gb=1, backend_host="vio-ctl-02@vmdk#vmdk",
                attachments=[Attachment("x")]),
            vol(now, id="4", status="error", backend_host=None, size_gb=1)]
    judged = [(x, judge_volume(x, {"x": vm(now)}, VolumeOptions(), now)) for x in vols]
    perf = {p.label: (p.value, p.uom) for p in volume_perf(judged)}
    gib = 1024**3
    assert perf["size"] == (17 * gib, "B")
    assert perf["available"] == (1, "") and perf["in_use"] == (1, "") and perf["error"] == (2, "")
    assert perf["vio-ctl-01@vmdk_volumes"] == (2, "") and perf["vio-ctl-01@vmdk_problems"] == (1, "")
    assert perf["vio-ctl-01@vmdk_size"] == (15 * gib, "B")
    assert perf["vio-ctl-02@vmdk_volumes"] == (1, "") and perf["vio-ctl-02@vmdk_problems"] == (0, "")
    assert perf["unscheduled_volumes"] == (1, "") and perf["unscheduled_problems"] == (1, "")


# --- interface -------------------------------------------------------------------------------------


NET = Network(id="n1", name="private")


def port(now, **kw):
    base = dict(id="p1", name="eth0", network_id="n1", device_id="11111111-aaaa", device_owner="compute:nova",
                status="ACTIVE", vif_type="ovs", binding_host="vio-compute-01", updated=now - 7200)
    base.update(kw)
    return Port(**base)


def test_port_active_names_vm_and_network(now):
    v = judge_port(port(now), vm(now), NET, InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.OK, "web-01 port eth0 on private is ACTIVE")


def test_port_down_while_vm_active(now):
    v = judge_port(port(now, status="DOWN"), vm(now), NET, InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.CRITICAL, "web-01 port eth0 on private is DOWN while the VM is ACTIVE")


def test_port_down_while_vm_shutoff_is_ok(now):
    v = judge_port(port(now, status="DOWN"), vm(now, status="SHUTOFF"), NET, InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.OK, "web-01 port eth0 on private is DOWN (VM SHUTOFF)")


def test_port_admin_down_is_ok(now):
    v = judge_port(port(now, status="DOWN", admin_state_up=False, vif_type="binding_failed"), vm(now), NET,
                   InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.OK, "web-01 port eth0 on private is DOWN (admin down)")


def test_port_binding_failed(now):
    v = judge_port(port(now, status="DOWN", vif_type="binding_failed"), vm(now), NET, InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.CRITICAL, "web-01 port eth0 on private: binding failed on host "
                                                    "vio-compute-01")


def test_port_unbound(now):
    p = port(now, status="DOWN", vif_type="unbound", binding_host=None)
    assert judge_port(p, vm(now), NET, InterfaceOptions(), now).state == State.CRITICAL
    offloaded = vm(now, status="SHELVED_OFFLOADED", host=None)
    assert judge_port(p, offloaded, NET, InterfaceOptions(), now).state == State.OK


def test_port_error(now):
    assert judge_port(port(now, status="ERROR"), vm(now), NET, InterfaceOptions(), now).state == State.CRITICAL


def test_port_build(now):
    young = judge_port(port(now, status="BUILD", updated=now - 120), vm(now), NET, InterfaceOptions(), now)
    assert (young.state, young.summary) == (State.OK, "web-01 port eth0 on private is BUILD for 2 min")
    old = judge_port(port(now, status="BUILD"), vm(now), NET, InterfaceOptions(), now)
    assert old.state == State.WARNING
    assert old.summary.startswith("web-01 port eth0 on private stuck in BUILD for 2 h 0 min")


def test_port_of_deleted_vm(now):
    v = judge_port(port(now, status="DOWN"), None, NET, InterfaceOptions(), now)
    assert v.state == State.WARNING
    assert v.summary.startswith("port eth0 on private: server 11111111-aaaa no longer exists (port last updated ")
    young = judge_port(port(now, status="DOWN", updated=now - 10), None, NET, InterfaceOptions(), now)
    assert young.state == State.OK


def test_port_non_vm_down_is_not_judged(now):
    p = port(now, name="", id="p9", device_owner="network:router_interface", device_id="r1", status="DOWN")
    v = judge_port(p, None, NET, InterfaceOptions(), now)
    assert (v.state, v.summary) == (State.OK, "port p9 (network:router_interface) on private is DOWN")


def test_port_status_perf(now):
    perf = {p.label: p.value for p in port_status_perf([port(now), port(now, status="N/A")])}
    assert perf == {"active": 1, "down": 0, "build": 0, "error": 0, "n_a": 1}
