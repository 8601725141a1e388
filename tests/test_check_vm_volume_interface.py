"""check_vio_vm, check_vio_volume and check_vio_interface as subprocesses against the simulator.

One simulator per phase: a healthy cloud (everything OK), then the same cloud broken through the
simulator's admin API (one patch per state under test) and swept once; every check then reads that cache.
"""

from __future__ import annotations

import re

import pytest
from conftest import CloudEnv

from vio_sim import Simulator

VC = "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11"
C8 = f"domain-c8.{VC}"
C10 = f"domain-c10.{VC}"
GIB = 1024**3

SCENARIO = {
    "description": "vm/volume/interface check tests",
    "settings": {"vcenter_uuid": VC},
    "projects": [{"name": "admin"}, {"name": "webshop"}],
    "flavors": [{"name": "m1.small", "vcpus": 2, "ram": 2048, "disk": 20}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"}],
    "hypervisors": [
        {"hypervisor_hostname": C8, "host": "vio-compute-01"},
        {"hypervisor_hostname": "domain-c9(Cluster-B)", "host": "vio-compute-02"},
        {"hypervisor_hostname": C10, "host": "vio-compute-03"},
    ],
    "networks": [{"name": "private", "cidr": "10.0.0.0/24"}],
    "routers": [{"name": "r1"}],
    "servers": [
        {"name": "web-01", "host": "vio-compute-01"},
        {"name": "web-02", "host": "vio-compute-01"},
        {"name": "mig-old", "host": "vio-compute-01"},
        {"name": "mig-new", "host": "vio-compute-01"},
        {"name": "off-01", "host": "vio-compute-01"},
        {"name": "app-01", "host": "vio-compute-01"},
        {"name": "gone-01", "host": "vio-compute-01"},
        {"id": "d0000000-0000-4000-8000-000000000001", "name": "dup", "host": "vio-compute-01"},
        {"id": "d0000000-0000-4000-8000-000000000002", "name": "dup", "host": "vio-compute-01"},
        {"name": "db-01", "host": "Cluster-B"},
        {"name": "vc-01", "host": C10},
    ],
    "ports": [
        {"name": f"{vm}-eth{i}", "network_id": "private", "device_id": vm}
        for vm, i in (("app-01", 0), ("app-01", 1), ("off-01", 0), ("web-02", 0), ("mig-old", 0),
                      ("mig-new", 0), ("db-01", 0), ("gone-01", 0))
    ] + [{"name": "r1-if", "network_id": "private", "device_id": "r1",
          "device_owner": "network:router_interface"}],
    "volumes": [
        {"name": "vol-err", "size": 10},
        {"name": "vol-stuck", "size": 20},
        {"name": "vol-young", "size": 5, "attachments": [{"server_id": "app-01"}]},
        {"name": "vol-app", "size": 10, "attachments": [{"server_id": "app-01"}]},
        {"name": "vol-gone", "size": 1, "attachments": [{"server_id": "gone-01"}]},
        {"name": "vol-b2", "size": 50, "host": "vio-controller-02@vmdk#vmdk"},
    ],
}

#: What breaks each object: (kind, name, API fields) through the simulator's admin endpoint.
BREAK = [
    ("servers", "web-01", {"status": "ERROR", "fault": {"message": "No valid host was found. There are "
                                                                  "not enough hosts available.", "code": 500}}),
    ("servers", "web-02", {"OS-EXT-STS:power_state": 4}),
    ("servers", "mig-old", {"status": "MIGRATING", "updated": "-2h"}),
    ("servers", "mig-new", {"status": "MIGRATING", "updated": "-4m"}),
    ("servers", "off-01", {"status": "SHUTOFF"}),
    ("compute_services", "nova-compute@vio-compute-02", {"state": "down"}),
    ("compute_services", "nova-compute@vio-compute-03",
     {"status": "disabled", "disabled_reason": "set by vmwareapi host_state"}),
    ("ports", "app-01-eth1", {"status": "DOWN"}),
    ("ports", "off-01-eth0", {"status": "DOWN"}),
    ("ports", "web-02-eth0", {"status": "DOWN", "binding:vif_type": "binding_failed"}),
    ("ports", "mig-old-eth0", {"status": "DOWN", "admin_state_up": False}),
    ("ports", "mig-new-eth0", {"status": "BUILD", "updated_at": "-2h"}),
    ("ports", "db-01-eth0", {"status": "BUILD", "updated_at": "-4m"}),
    ("ports", "r1-if", {"status": "DOWN"}),
    ("volumes", "vol-err", {"status": "error"}),
    ("volumes", "vol-stuck", {"status": "attaching", "updated_at": "-2h"}),
    ("volumes", "vol-young", {"status": "detaching", "updated_at": "-4m"}),
]


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The scenario broken as BREAK says, gone-01 deleted (orphaning a volume and a port), swept once."""
    with Simulator(scenario=SCENARIO) as sim:
        for kind, name, fields in BREAK:
            sim.admin("PATCH", f"/_sim/{kind}/{name}", fields)
        gone = sim.get("servers", "gone-01")["id"]
        sim.admin("DELETE", f"/_sim/servers/{gone}")
        env = CloudEnv(sim, tmp_path_factory.mktemp("broken"))
        env.sweep()
        env.gone_id = gone
        yield env


def check(env: CloudEnv, command: str, *args: str):
    r = env.run(command, "--cache-only", *args)
    assert r.rc in (0, 1, 2, 3) and "Traceback" not in r.stdout + r.stderr, str(r)
    return r


def expect(run, rc: int, status: str | re.Pattern):
    assert run.rc == rc, str(run)
    if isinstance(status, re.Pattern):
        assert status.fullmatch(run.status), str(run)
    else:
        assert run.status == status, str(run)


def test_healthy_cloud_is_ok(make_cloud):
    env = make_cloud(SCENARIO)
    env.sweep()
    expect(check(env, "check_vio_vm"), 0, "VIO VM OK - all 11 VMs OK")
    expect(check(env, "check_vio_volume"), 0, "VIO VOLUME OK - all 6 volumes OK")
    expect(check(env, "check_vio_interface"), 0, "VIO INTERFACE OK - all 8 VM ports OK")
    expect(check(env, "check_vio_interface", "--all-ports"), 0, "VIO INTERFACE OK - all 9 ports OK")
    r = check(env, "check_vio_vm", "--name", "web-01")
    expect(r, 0, f"VIO VM OK - web-01 is ACTIVE and running (on {C8})")
    assert r.perfdata == {"vcpus": 2, "ram": 2048 * 1024 * 1024}
    assert "B" in r.lines[0].split("ram=", 1)[1].split(";")[0]
    expect(check(env, "check_vio_vm", "--name", "db-01"), 0, "VIO VM OK - db-01 is ACTIVE and running (on Cluster-B)")
    r = check(env, "check_vio_volume", "--name", "vol-stuck")
    expect(r, 0, "VIO VOLUME OK - vol-stuck is available, 20 GiB")
    assert r.perfdata == {"size": 20 * GIB}
    expect(check(env, "check_vio_interface", "--name", "web-02-eth0"), 0,
           "VIO INTERFACE OK - web-02 port web-02-eth0 on private is ACTIVE")
    # a fresh cache is read without importing the SDK
    for module in ("vm", "volume", "interface"):
        code = (f"import sys; sys.argv = ['check_vio_{module}', '--cache-only']\n"
                "import atexit; atexit.register(lambda: print('SDK', sorted({m.split('.')[0] for m in sys.modules"
                " if m.startswith(('openstack', 'keystoneauth'))})))\n"
                f"from vio_checks.checks.{module} import main; main()")
        r = env.run("python", "-c", code)
        assert r.rc == 0 and r.lines[-1] == "SDK []", str(r)


def test_vm_states(broken):
    env = broken
    r = check(env, "check_vio_vm", "--name", "web-01")
    expect(r, 2, "VIO VM CRITICAL - web-01 is ERROR: No valid host was found. There are not enough hosts "
                 f"available. (on {C8})")
    assert r.perfdata == {"vcpus": 2, "ram": 2048 * 1024 * 1024}
    assert "fault 500: No valid host was found." in r.stdout
    expect(check(env, "check_vio_vm", "--name", "web-02"), 2,
           f"VIO VM CRITICAL - web-02 is ACTIVE but its power state is SHUTDOWN (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "mig-old"), 1,
           re.compile(rf"VIO VM WARNING - mig-old stuck migrating for 2 h 0 min since [\d:\- ]+ \(on {C8}\)"))
    expect(check(env, "check_vio_vm", "--name", "mig-new"), 0, f"VIO VM OK - mig-new migrating for 4 min (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "mig-new", "--stuck-after", "3m"), 1,
           re.compile(r"VIO VM WARNING - mig-new stuck migrating for 4 min .*"))
    expect(check(env, "check_vio_vm", "--name", "mig-old", "--stuck-after", "1d"), 0,
           f"VIO VM OK - mig-old migrating for 2 h 0 min (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "off-01"), 0, f"VIO VM OK - off-01 is SHUTOFF (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "off-01", "--warning-states", "shutoff,PAUSED"), 1,
           f"VIO VM WARNING - off-01 is SHUTOFF (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "off-01", "--critical-states", "SHUTOFF"), 2,
           f"VIO VM CRITICAL - off-01 is SHUTOFF (on {C8})")
    r = check(env, "check_vio_vm", "--name", "db-01")
    expect(r, 3, "VIO VM UNKNOWN - db-01: hypervisor Cluster-B down: state unverified (Nova last reported ACTIVE)")
    assert "compute service vio-compute-02 down since" in r.stdout
    expect(check(env, "check_vio_vm", "--name", "vc-01"), 3,
           f"VIO VM UNKNOWN - vc-01: hypervisor {C10} cut off from vCenter: state unverified "
           "(Nova last reported ACTIVE)")
    app = env.sim.get("servers", "app-01")["id"]
    expect(check(env, "check_vio_vm", "--id", app), 0, f"VIO VM OK - app-01 is ACTIVE and running (on {C8})")
    expect(check(env, "check_vio_vm", "--name", "dup"), 3,
           "VIO VM UNKNOWN - 2 VMs are named 'dup': d0000000-0000-4000-8000-000000000001, "
           "d0000000-0000-4000-8000-000000000002; use --id")
    expect(check(env, "check_vio_vm", "--name", "gone-01"), 3,
           re.compile(r"VIO VM UNKNOWN - VM named 'gone-01' not found in inventory \(age \d+ s\)"))
    expect(check(env, "check_vio_vm", "--id", env.gone_id), 3,
           re.compile(rf"VIO VM UNKNOWN - VM {env.gone_id} not found in inventory \(age \d+ s\)"))

    r = check(env, "check_vio_vm")
    expect(r, 2, re.compile(r"VIO VM CRITICAL - 2 CRITICAL, 1 WARNING of 10 VMs, 2 unverified \(hypervisor Cluster-B down: 1; hypervisor domain-c10\S* cut off from vCenter: 1\): "
                            r"web-01 is ERROR: .*; web-02 is ACTIVE but its power state is SHUTDOWN .*; "
                            r"mig-old stuck migrating .*"))
    p = r.perfdata
    assert (p["total"], p["problems"], p["critical"], p["warning"], p["unverified"], p["unknown"]) == (10, 3, 2, 1, 2, 0)
    assert (p["active"], p["error"], p["shutoff"], p["migrating"], p["build"]) == (6, 1, 1, 2, 0)
    assert "unverified (2): db-01, vc-01" in r.stdout
    r = check(env, "check_vio_vm", "-w", "5", "-c", "10")
    assert r.rc == 1 and r.perfdata["problems"] == 3, str(r)  # within the ranges, but 2 unverified: WARNING
    r = check(env, "check_vio_vm", "-w", "5", "-c", "10", "--accept-unverified")
    assert r.rc == 0 and r.perfdata["problems"] == 3, str(r)
    assert "problems=3;5;10;0;10" in r.lines[0]
    expect(check(env, "check_vio_vm", "-w", "1", "-c", "5"), 1, re.compile(r"VIO VM WARNING - 2 CRITICAL, .*"))

    for bad in (["--stuck-after", "soon"], ["--warning-states", "BROKEN"], ["--id", "x", "--name", "y"],
                ["--bogus"]):
        r = check(env, "check_vio_vm", *bad)
        assert r.rc == 3 and r.status.startswith("VIO VM UNKNOWN - bad option: "), str(r)
        assert len(r.lines) == 1 and "|" not in r.stdout, str(r)  # no usage line: its `|` starts perfdata


def test_volume_states(broken):
    env = broken
    r = check(env, "check_vio_volume", "--name", "vol-err")
    expect(r, 2, "VIO VOLUME CRITICAL - vol-err is error (10 GiB, backend vio-controller-01@vmdk)")
    assert r.perfdata == {"size": 10 * GIB}
    expect(check(env, "check_vio_volume", "--name", "vol-stuck"), 1,
           re.compile(r"VIO VOLUME WARNING - vol-stuck stuck attaching for 2 h 0 min \(since [\d:\- ]+, "
                      r"backend vio-controller-01@vmdk\)"))
    expect(check(env, "check_vio_volume", "--name", "vol-young"), 0, "VIO VOLUME OK - vol-young detaching for 4 min")
    expect(check(env, "check_vio_volume", "--name", "vol-young", "--stuck-after", "60"), 1,
           re.compile(r"VIO VOLUME WARNING - vol-young stuck detaching for 4 min .*"))
    expect(check(env, "check_vio_volume", "--name", "vol-app"), 0,
           "VIO VOLUME OK - vol-app is in-use on app-01 as /dev/sdb, 10 GiB")
    expect(check(env, "check_vio_volume", "--name", "vol-gone"), 1,
           re.compile(rf"VIO VOLUME WARNING - vol-gone is in-use, attached to server {env.gone_id} which no "
                      r"longer exists \(volume last updated .*\)"))
    vid = env.sim.get("volumes", "vol-b2")["id"]
    expect(check(env, "check_vio_volume", "--id", vid), 0, "VIO VOLUME OK - vol-b2 is available, 50 GiB")
    expect(check(env, "check_vio_volume", "--name", "nope"), 3,
           re.compile(r"VIO VOLUME UNKNOWN - volume named 'nope' not found in inventory \(age \d+ s\)"))

    r = check(env, "check_vio_volume")
    expect(r, 2, re.compile(r"VIO VOLUME CRITICAL - 1 CRITICAL, 2 WARNING of 6 volumes: vol-err is error .*"))
    p = r.perfdata
    assert (p["total"], p["problems"], p["critical"], p["warning"]) == (6, 3, 1, 2)
    assert p["size"] == 96 * GIB
    assert (p["available"], p["in_use"], p["error"], p["attaching"], p["detaching"]) == (1, 2, 1, 1, 1)
    assert (p["vio-controller-01@vmdk_volumes"], p["vio-controller-01@vmdk_problems"],
            p["vio-controller-01@vmdk_size"]) == (5, 3, 46 * GIB)
    assert (p["vio-controller-02@vmdk_volumes"], p["vio-controller-02@vmdk_problems"],
            p["vio-controller-02@vmdk_size"]) == (1, 0, 50 * GIB)
    assert "size=103079215104B;" in r.lines[0]
    expect(check(env, "check_vio_volume", "-w", "1", "-c", "5"), 1, re.compile(r"VIO VOLUME WARNING - .*"))


def test_interface_states(broken):
    env = broken
    expect(check(env, "check_vio_interface", "--name", "app-01-eth1"), 2,
           "VIO INTERFACE CRITICAL - app-01 port app-01-eth1 on private is DOWN while the VM is ACTIVE")
    expect(check(env, "check_vio_interface", "--name", "web-02-eth0"), 2,
           "VIO INTERFACE CRITICAL - web-02 port web-02-eth0 on private: binding failed on host vio-compute-01")
    expect(check(env, "check_vio_interface", "--name", "mig-old-eth0"), 0,
           "VIO INTERFACE OK - mig-old port mig-old-eth0 on private is DOWN (admin down)")
    expect(check(env, "check_vio_interface", "--name", "off-01-eth0"), 0,
           "VIO INTERFACE OK - off-01 port off-01-eth0 on private is DOWN (VM SHUTOFF)")
    expect(check(env, "check_vio_interface", "--name", "mig-new-eth0"), 1,
           re.compile(r"VIO INTERFACE WARNING - mig-new port mig-new-eth0 on private stuck in BUILD for "
                      r"2 h 0 min \(since .*\)"))
    expect(check(env, "check_vio_interface", "--name", "db-01-eth0"), 0,
           "VIO INTERFACE OK - db-01 port db-01-eth0 on private is BUILD for 4 min")
    expect(check(env, "check_vio_interface", "--name", "gone-01-eth0"), 1,
           re.compile(rf"VIO INTERFACE WARNING - port gone-01-eth0 on private: server {env.gone_id} no longer "
                      r"exists \(port last updated .*\)"))
    pid = env.sim.get("ports", "app-01-eth0")["id"]
    expect(check(env, "check_vio_interface", "--id", pid), 0,
           "VIO INTERFACE OK - app-01 port app-01-eth0 on private is ACTIVE")

    app = env.sim.get("servers", "app-01")["id"]
    for ref in ("app-01", app):
        r = check(env, "check_vio_interface", "--server", ref)
        expect(r, 2, "VIO INTERFACE CRITICAL - 1 CRITICAL of 2 ports of app-01: app-01 port app-01-eth1 on "
                     "private is DOWN while the VM is ACTIVE")
        assert (r.perfdata["total"], r.perfdata["critical"], r.perfdata["down"]) == (2, 1, 1)
    expect(check(env, "check_vio_interface", "--server", "dup"), 3,
           re.compile(r"VIO INTERFACE UNKNOWN - 2 VMs are named 'dup': .*"))
    expect(check(env, "check_vio_interface", "--server", "nosuch"), 3,
           re.compile(r"VIO INTERFACE UNKNOWN - VM nosuch not found in inventory \(age \d+ s\)"))
    r = check(env, "check_vio_interface", "--server", "app-01", "--name", "x")
    assert r.rc == 3 and "bad option: --server cannot be combined" in r.status, str(r)

    r = check(env, "check_vio_interface")
    expect(r, 2, re.compile(r"VIO INTERFACE CRITICAL - 2 CRITICAL, 2 WARNING of 8 VM ports: .*"))
    p = r.perfdata
    assert (p["total"], p["problems"], p["active"], p["down"], p["build"]) == (8, 4, 2, 4, 2)
    # as generated on the cloud host: problems an interface service reports are left to it, but the port of
    # a deleted VM has no VM host and so no service: the aggregate is the only place that reports it
    r = check(env, "check_vio_interface", "--ignore-states", "warning,critical")
    expect(r, 1, re.compile(rf"VIO INTERFACE WARNING - 2 CRITICAL, 2 WARNING of 8 VM ports: port gone-01-eth0 "
                            rf"on private: server {env.gone_id} no longer exists \(port last updated .*\)"))
    r = check(env, "check_vio_interface", "--all-ports")
    expect(r, 2, re.compile(r"VIO INTERFACE CRITICAL - 2 CRITICAL, 2 WARNING of 9 ports: .*"))
    assert (r.perfdata["total"], r.perfdata["ok"], r.perfdata["down"]) == (9, 5, 5)
