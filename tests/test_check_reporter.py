"""The reporter rule end to end (vio_checks/reporter.py): checks as subprocesses against the simulator.

"Who reports this object's state, and is it up?": a volume whose cinder-volume backend is down, a port
bound to a host whose L2 agent is dead are unverified (UNKNOWN alone, naming the reporter; unverified in the
aggregate), never OK; a router whose only hosting L3 agents are admin down is served by nobody: CRITICAL.
"""

from __future__ import annotations

from conftest import CloudEnv

VC = "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11"
C8 = f"domain-c8.{VC}"

SCENARIO = {
    "description": "reporter rule tests",
    "settings": {"vcenter_uuid": VC, "neutron_backend": "ml2"},
    "projects": [{"name": "admin"}],
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"}],
    "volume_services": [
        {"binary": "cinder-scheduler", "host": "vio-controller-01"},
        {"binary": "cinder-volume", "host": "vio-controller-01@vmdk"},
        {"binary": "cinder-volume", "host": "vio-controller-02@vmdk"},
    ],
    "hypervisors": [{"hypervisor_hostname": C8, "host": "vio-compute-01"}],
    "agents": [
        {"agent_type": "L3 agent", "host": "vio-network-01", "routers": ["r1"]},
        {"agent_type": "L3 agent", "host": "vio-network-02", "routers": ["r1"]},
        {"agent_type": "Open vSwitch agent", "host": "vio-compute-01"},
        {"agent_type": "DHCP agent", "host": "vio-network-01"},
    ],
    "networks": [{"name": "private", "cidr": "10.0.0.0/24"}],
    "routers": [{"name": "r1"}],
    "servers": [{"name": "web-01", "host": "vio-compute-01"}],
    "ports": [{"name": "web-01-eth0", "network_id": "private", "device_id": "web-01"}],
    "volumes": [
        {"name": "data", "size": 5, "host": "vio-controller-01@vmdk#vmdk"},
        {"name": "other", "size": 5, "host": "vio-controller-02@vmdk#vmdk"},
        {"name": "orphan", "size": 5, "host": "vio-controller-09@vmdk#vmdk"},
    ],
}


def check(env: CloudEnv, command: str, *args: str):
    r = env.run(command, "--cache-only", *args)
    assert r.rc in (0, 1, 2, 3) and "Traceback" not in r.stdout + r.stderr, str(r)
    return r


def test_healthy_reporters_vouch(make_cloud):
    env = make_cloud(SCENARIO)
    env.sweep()
    assert check(env, "check_vio_volume", "--name", "data").rc == 0
    assert check(env, "check_vio_interface", "--name", "web-01-eth0").rc == 0
    assert check(env, "check_vio_router", "--name", "r1").rc == 0


def test_volume_on_a_down_backend_is_unverified(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("volume_services", "cinder-volume@vio-controller-01@vmdk", state="down")
    env.sim.patch("volumes", "data", status="error")  # even an error is shown, not judged
    env.sweep()
    r = check(env, "check_vio_volume", "--name", "data")
    assert r.rc == 3, str(r)
    assert r.status.startswith("VIO VOLUME UNKNOWN - data: backend vio-controller-01@vmdk: cinder-volume "
                               "vio-controller-01@vmdk down since "), str(r)
    assert r.status.endswith("state unverified (Cinder last reported error)"), str(r)
    # the other backend's volume still vouched for
    assert check(env, "check_vio_volume", "--name", "other").rc == 0
    agg = check(env, "check_vio_volume")
    assert agg.perfdata["unverified"] >= 1, str(agg)


def test_volume_on_a_backend_cinder_does_not_list_is_unverified(make_cloud):
    env = make_cloud(SCENARIO)
    env.sweep()
    r = check(env, "check_vio_volume", "--name", "orphan")
    assert r.rc == 3 and "no cinder-volume service in Cinder's service list: state unverified" in r.status, \
        str(r)


def test_port_on_a_host_whose_l2_agent_is_dead_is_unverified(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("agents", "neutron-openvswitch-agent@vio-compute-01", alive=False)
    env.sweep()
    r = check(env, "check_vio_interface", "--name", "web-01-eth0")
    assert r.rc == 3, str(r)
    assert r.status.startswith("VIO INTERFACE UNKNOWN - web-01 port web-01-eth0 on private: L2 agent "
                               "neutron-openvswitch-agent@vio-compute-01 dead (last heartbeat "), str(r)
    assert r.status.endswith("state unverified (Neutron last reported ACTIVE)"), str(r)
    agg = check(env, "check_vio_interface", "--server", "web-01")
    assert agg.perfdata["unverified"] == 1, str(agg)


def test_router_whose_hosting_l3_agents_are_all_admin_down_is_critical(make_cloud):
    env = make_cloud(SCENARIO)
    env.sim.patch("agents", "neutron-l3-agent@vio-network-01", admin_state_up=False)
    env.sweep()
    r = check(env, "check_vio_router", "--name", "r1")
    assert r.rc == 1 and "1 of 2 hosting L3 agents not serving: neutron-l3-agent@vio-network-01 admin down" \
        in r.status, str(r)
    env.sim.patch("agents", "neutron-l3-agent@vio-network-02", admin_state_up=False)
    env.sweep()
    r = check(env, "check_vio_router", "--name", "r1")
    assert r.rc == 2, str(r)
    assert r.status.startswith("VIO ROUTER CRITICAL - r1: no L3 agent serves it (2 hosting: "
                               "neutron-l3-agent@vio-network-01 admin down, neutron-l3-agent@vio-network-02 "
                               "admin down"), str(r)
