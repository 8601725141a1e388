"""The verdict rules end to end: check commands as subprocesses against the simulator (real openstacksdk).

vCenter recovered (the VMware driver's reason left on an enabled, up service), records with missing
fields (the simulator's missing_fields fault), reserved volumes, the disabled defaults, and cloud strings
that try to break the plugin output.
"""

from __future__ import annotations

import pytest
from conftest import CloudEnv

VC = "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11"
C8 = f"domain-c8.{VC}"
C10 = f"domain-c10.{VC}"
C12 = f"domain-c12.{VC}"
LOST = "set by vmwareapi host_state"

SCENARIO = {
    "description": "verdict rule tests",
    "settings": {"vcenter_uuid": VC},
    "projects": [{"name": "admin"}],
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"}],
    "volume_services": [{"binary": "cinder-scheduler", "host": "vio-controller-01"}],
    "hypervisors": [
        {"hypervisor_hostname": C8, "host": "vio-compute-01"},
        {"hypervisor_hostname": C10, "host": "vio-compute-02"},
        {"hypervisor_hostname": C12, "host": "vio-compute-03"},
    ],
    "agents": [{"agent_type": "DHCP agent", "host": "vio-network-01"}],
    "networks": [{"name": "private", "cidr": "10.0.0.0/24"}],
    "servers": [
        {"name": "web-01", "host": "vio-compute-01"},
        {"name": "err-01", "host": "vio-compute-02"},
    ],
    "ports": [{"name": "web-01-eth0", "network_id": "private", "device_id": "web-01"}],
    "volumes": [{"name": "data", "size": 5}],
}


def check(env: CloudEnv, command: str, *args: str):
    r = env.run(command, "--cache-only", *args)
    assert r.rc in (0, 1, 2, 3) and "Traceback" not in r.stdout + r.stderr, str(r)
    return r


def test_vm_error_after_vcenter_came_back_is_critical(make_cloud):
    env = make_cloud(SCENARIO)
    # The driver re-enabled its service and left its reason behind; the VM really is ERROR.
    env.sim.patch("compute_services", "nova-compute@vio-compute-02", status="enabled", state="up",
                  disabled_reason=LOST)
    env.sim.patch("servers", "err-01", status="ERROR", fault={"message": "disk full", "code": 500})
    env.sweep()
    r = check(env, "check_vio_vm", "--name", "err-01")
    assert (r.rc, r.status) == (2, f"VIO VM CRITICAL - err-01 is ERROR: disk full (on {C10})"), str(r)
    r = check(env, "check_vio_vm")
    assert r.rc == 2 and r.perfdata["unverified"] == 0 and r.perfdata["critical"] == 1, str(r)
    r = check(env, "check_vio_hypervisor", "--id", C10, "--state-only")
    assert r.rc == 0, str(r)
    r = check(env, "check_vio_service", "--binary", "nova-compute", "--host", "vio-compute-02")
    assert (r.rc, r.status) == (0, "VIO SERVICE OK - nova-compute@vio-compute-02 is up"), str(r)
    # ... while a lost vCenter (reason AND disabled) still leaves the VM unverified
    env.sim.patch("compute_services", "nova-compute@vio-compute-02", status="disabled")
    env.sweep()
    r = check(env, "check_vio_vm", "--name", "err-01")
    assert r.rc == 3 and "cut off from vCenter: state unverified" in r.status, str(r)
    assert check(env, "check_vio_hypervisor", "--id", C10).rc == 2


def test_missing_fields_fault_shape_is_validated(make_cloud):
    env = make_cloud(SCENARIO)
    for bad in ({"missing_fields": {"flavours": ["x"]}}, {"missing_fields": {"servers": "status"}},
                {"missing_fields": ["servers"]}):
        with pytest.raises(Exception, match="missing_fields"):
            env.sim.fault(**bad)


def test_records_with_missing_fields_are_unverified(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("hypervisors", C12, status="disabled")
    env.sim.fault(missing_fields={
        "servers": ["status"], "hypervisors": ["state"], "compute_services": ["state"],
        "volume_services": ["status"], "agents": ["alive"], "volumes": ["status"], "ports": ["status"],
    })
    env.sweep()
    env.sim.clear_faults()

    r = check(env, "check_vio_vm", "--name", "web-01")
    assert (r.rc, r.status) == (3, f"VIO VM UNKNOWN - web-01: Nova reported no status: state unverified "
                                   f"(on {C8})"), str(r)
    r = check(env, "check_vio_vm")
    # nothing judged is never OK (round 3): UNKNOWN, naming the cause
    assert (r.rc, r.status) == (3, "VIO VM UNKNOWN - none of 2 VMs verified, 2 unverified (Nova reported no "
                                   "status: 2)"), str(r)
    assert r.perfdata["unverified"] == 2 and any("unverified (2): err-01, web-01" in x for x in r.lines)

    r = check(env, "check_vio_hypervisor", "--id", C8)
    assert (r.rc, r.status) == (3, f"VIO HYPERVISOR UNKNOWN - {C8}: Nova reported no state: state "
                                   "unverified"), str(r)
    r = check(env, "check_vio_hypervisor")
    assert r.perfdata["unverified"] == 3 and r.perfdata["ok"] == 0, str(r)

    r = check(env, "check_vio_service", "--binary", "nova-scheduler", "--host", "vio-controller-01")
    assert (r.rc, r.status) == (3, "VIO SERVICE UNKNOWN - nova-scheduler@vio-controller-01: Nova reported "
                                   "no state: state unverified"), str(r)
    r = check(env, "check_vio_service", "--component", "cinder")
    assert "unverified" in r.status and "cinder" in r.status, str(r)
    r = check(env, "check_vio_service", "--component", "neutron", "--expect", "neutron-dhcp-agent=1")
    # a cluster (judge/cluster.py) none of whose members is verified up is UNKNOWN, never OK
    assert r.rc == 3 and "cluster neutron-dhcp-agent: none of 1 member verified up (unverified: " \
        "neutron-dhcp-agent@vio-network-01)" in r.status, str(r)
    r = check(env, "check_vio_service", "--binary", "neutron-dhcp-agent", "--host", "vio-network-01")
    assert r.rc == 3 and "Neutron reported no alive: state unverified" in r.status, str(r)

    r = check(env, "check_vio_volume", "--name", "data")
    assert (r.rc, r.status) == (3, "VIO VOLUME UNKNOWN - data: Cinder reported no status: state unverified")
    r = check(env, "check_vio_interface", "--name", "web-01-eth0")
    assert (r.rc, r.status) == (3, "VIO INTERFACE UNKNOWN - web-01 port web-01-eth0 on private: Neutron "
                                   "reported no status: state unverified"), str(r)


def test_reserved_volume_stays_ok(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("volumes", "data", status="reserved", updated_at="-3d")
    env.sweep()
    r = check(env, "check_vio_volume", "--name", "data")
    assert r.rc == 0 and r.status.startswith("VIO VOLUME OK - data is reserved for 3 d"), str(r)


def test_disabled_defaults(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("compute_services", "nova-compute@vio-compute-03", status="disabled",
                  disabled_reason="maintenance")
    env.sim.patch("ports", "web-01-eth0", admin_state_up=False, status="DOWN")
    env.sweep()
    r = check(env, "check_vio_hypervisor", "--id", C12)
    assert r.rc == 0 and r.status.startswith(f"VIO HYPERVISOR OK - {C12} is disabled: maintenance"), str(r)
    r = check(env, "check_vio_hypervisor", "--id", C12, "--warn-disabled")
    assert (r.rc, r.status) == (1, f"VIO HYPERVISOR WARNING - {C12} is disabled: maintenance"), str(r)
    r = check(env, "check_vio_hypervisor", "--id", C12, "--ignore-disabled")  # deprecated, accepted
    assert r.rc == 0, str(r)
    r = check(env, "check_vio_interface", "--name", "web-01-eth0")
    assert r.rc == 0 and "(admin down)" in r.status, str(r)
    r = check(env, "check_vio_interface", "--name", "web-01-eth0", "--warn-disabled")
    assert r.rc == 1 and "(admin down)" in r.status, str(r)


NASTY = "evil\nVIO VM OK - fake|x=1 nul\x00 " + "\ud800" + "y" * 10_000


def test_hostile_names_stay_on_one_line(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("servers", "err-01", name=NASTY, status="ERROR", fault={"message": NASTY, "code": 500})
    env.sim.patch("volumes", "data", name=NASTY, status="error")
    env.sweep()
    for cmd in (["check_vio_vm"], ["check_vio_vm", "--name", "web-01"], ["check_vio_volume"],
                ["check_vio_interface", "--server", "web-01"]):
        r = check(env, *cmd)
        first = r.lines[0]
        assert first.count("|") <= 1 and "fake" not in first.split("|")[0][:30], str(r)
        assert "\x00" not in r.stdout and len(first) < 4000, str(r)
    r = check(env, "check_vio_vm")
    assert r.rc == 2 and r.lines[0].startswith("VIO VM CRITICAL - 1 CRITICAL of 2 VMs: evil VIO VM OK - fake/x=1"), str(r)
    assert all(len(line) < 4000 for line in r.lines), str(r)
