"""Faults made in the real services, judged by the product (this module runs after the others: it stops things).

Liveness windows are short in this stack (stack.py: Nova/Cinder service_down_time 10 s, Neutron
agent_down_time 8 s), so each fault shows within seconds; every test puts the stack back as it found it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from .seed import connect
from .stack import COMPUTE_HOSTS, CONDUCTOR_HOSTS, NETWORK_HOST, REPORT_INTERVAL, SERVICE_DOWN_TIME

BOUND = SERVICE_DOWN_TIME * 3 + 20  # seconds: the service-down time, a report interval or two, a loaded machine


def until(real, check: Callable, what: str, timeout: float = BOUND):
    """Sweep and run check() until it returns a truthy Run; fail naming `what` with the last output."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        real.sweep()
        last = check()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"{what} not seen within {timeout:.0f} s; last:\n{last}")


class Ok:
    """A Run that is truthy when its exit code is the wanted one."""

    def __init__(self, run, rc: int) -> None:
        self.run, self.rc = run, rc

    def __bool__(self) -> bool:
        return self.run.rc == self.rc

    def __str__(self) -> str:
        return str(self.run)


def test_conductor_cluster_one_down_warns_all_down_is_the_cause(real, real_cloud):
    """Issue 23 on upstream Nova: two nova-conductors under different host names are one cluster. One
    stopped: the cluster WARNs and nothing else alerts. Both stopped: the cluster is CRITICAL, nova-compute
    (which reports its state through nova-conductor) goes down after service_down_time, and rootcause names
    the conductor cluster as the cause."""
    stack = real_cloud.stack
    cluster = ("check_vio_service", "--binary", "nova-conductor")
    compute = ("check_vio_service", "--binary", "nova-compute", "--host", COMPUTE_HOSTS[0])
    r = until(real, lambda: Ok(real.run(*cluster), 0), "conductor cluster OK").run
    assert "all 2 members up" in r.status, str(r)
    try:
        stack.kill(f"nova-conductor-{CONDUCTOR_HOSTS[1]}", signal.SIGKILL)
        r = until(real, lambda: Ok(real.run(*cluster), 1), "conductor cluster WARNING").run
        assert r.status.startswith("VIO SERVICE WARNING - cluster nova-conductor: at risk: 1 of 2 members up "
                                   f"(down: nova-conductor@{CONDUCTOR_HOSTS[1]})"), str(r)
        assert real.run(*compute).rc == 0  # nothing else alerts
        assert real.run("check_vio_hypervisor", "--id", COMPUTE_HOSTS[0]).rc == 0
        nova = real.run("check_vio_service", "--component", "nova")
        assert nova.rc == 1 and "cluster nova-conductor: at risk" in nova.status, str(nova)

        stopped = time.monotonic()
        stack.kill(f"nova-conductor-{CONDUCTOR_HOSTS[0]}", signal.SIGKILL)
        r = until(real, lambda: Ok(real.run(*compute), 2), "nova-compute down without conductors").run
        # Nova's own delay, not ours: service_down_time after the last report that went through, which may
        # be up to one report interval before the last conductor died
        assert time.monotonic() - stopped >= SERVICE_DOWN_TIME - REPORT_INTERVAL - 1
        assert f"nova-compute@{COMPUTE_HOSTS[0]} is down since" in r.status, str(r)
        # the conductors' own records go down on the same clock, give or take one report interval: the
        # compute record's last report (through a conductor) may be a few seconds older than theirs
        r = until(real, lambda: Ok(real.run(*cluster), 2), "conductor cluster CRITICAL").run
        assert "cluster nova-conductor: all components down: 0 of 2 members up" in r.status, str(r)
        cause = real.run("vio-icinga", "rootcause", f"nova-compute@{COMPUTE_HOSTS[0]}")
        assert cause.rc == 0 and "because cluster nova-conductor is CRITICAL" in cause.lines[0], str(cause)
    finally:
        for host in CONDUCTOR_HOSTS:
            if f"nova-conductor-{host}" not in stack.procs:
                stack.start_conductor(host)
    until(real, lambda: Ok(real.run(*cluster), 0), "conductor cluster back", timeout=120)
    until(real, lambda: Ok(real.run(*compute), 0), "nova-compute reporting again", timeout=180)


def test_stopped_nova_compute_is_critical(real, real_cloud):
    stack = real_cloud.stack
    host = COMPUTE_HOSTS[1]
    started = time.monotonic()
    stack.kill(f"nova-compute-{host}", signal.SIGKILL)
    try:
        r = until(real, lambda: Ok(real.run("check_vio_hypervisor", "--id", host), 2), "hypervisor CRITICAL").run
        assert r.status.startswith(f"VIO HYPERVISOR CRITICAL - {host}"), str(r)
        assert time.monotonic() - started < BOUND
        svc = real.run("check_vio_service", "--component", "nova")
        assert svc.rc == 2 and f"nova-compute@{host}" in svc.status, str(svc)
        vm = real.run("check_vio_vm", "--name", "vm-active-2")
        assert vm.rc == 3 and "unverified" in vm.status, str(vm)  # its host cannot vouch for it
    finally:
        stack.start_compute(host)
    until(real, lambda: Ok(real.run("check_vio_hypervisor", "--id", host), 0), "hypervisor back up")


def test_stopped_l3_agent_leaves_the_router_critical(real, real_cloud):
    stack = real_cloud.stack
    stack.set_agent("neutron-l3-agent", NETWORK_HOST, alive=False)
    try:
        r = until(real, lambda: Ok(real.run("check_vio_router", "--name", "router1"), 2), "router CRITICAL").run
        assert "router1" in r.status and "L3 agent" in r.status, str(r)
        svc = real.run("check_vio_service", "--component", "neutron")
        assert svc.rc == 2 and f"neutron-l3-agent@{NETWORK_HOST}" in svc.status, str(svc)
    finally:
        stack.set_agent("neutron-l3-agent", NETWORK_HOST, alive=True)
    until(real, lambda: Ok(real.run("check_vio_router", "--name", "router1"), 0), "router OK again")


def test_stopped_cinder_volume_is_critical(real, real_cloud):
    stack = real_cloud.stack
    stack.kill("cinder-volume", signal.SIGKILL)
    try:
        r = until(real, lambda: Ok(real.run("check_vio_service", "--component", "cinder"), 2), "cinder CRITICAL").run
        assert "cinder-volume@block-1@fake" in r.status, str(r)
        # its volumes: their reporter is down, so they are unverified, never OK
        vol = real.run("check_vio_volume", "--name", "vol-free")
        assert vol.rc == 3 and "cinder-volume block-1@fake down since" in vol.status, str(vol)
        assert "state unverified (Cinder last reported available)" in vol.status, str(vol)
    finally:
        stack.start_cinder_volume()
    until(real, lambda: Ok(real.run("check_vio_volume", "--name", "vol-free"), 0), "volume vouched for again")


def test_dead_l2_agent_leaves_its_hosts_ports_unverified(real, real_cloud):
    stack = real_cloud.stack
    host = COMPUTE_HOSTS[1]
    conn = connect(stack)
    (port,) = list(conn.network.ports(device_id=real_cloud.seeded.servers["active2"]))
    conn.close()
    stack.set_agent("neutron-openvswitch-agent", host, alive=False)
    try:
        r = until(real, lambda: Ok(real.run("check_vio_interface", "--id", port.id), 3), "port unverified").run
        assert f"L2 agent neutron-openvswitch-agent@{host} dead" in r.status, str(r)
        assert "state unverified (Neutron last reported ACTIVE)" in r.status, str(r)
    finally:
        stack.set_agent("neutron-openvswitch-agent", host, alive=True)
    until(real, lambda: Ok(real.run("check_vio_interface", "--id", port.id), 0), "port vouched for again")


def test_admin_down_l3_agent_serves_no_router(real, real_cloud):
    """Neutron's default (enable_services_on_agents_with_admin_state_down = False) disables an admin-down
    L3 agent's routers: a router hosted only there is served by nobody."""
    conn = connect(real_cloud.stack)
    (agent,) = list(conn.network.agents(binary="neutron-l3-agent", host=NETWORK_HOST))
    conn.network.update_agent(agent, admin_state_up=False)
    try:
        r = until(real, lambda: Ok(real.run("check_vio_router", "--name", "router1"), 2), "router CRITICAL").run
        assert f"router1: no L3 agent serves it (1 hosting: neutron-l3-agent@{NETWORK_HOST} admin down" \
            in r.status, str(r)
    finally:
        conn.network.update_agent(agent, admin_state_up=True)
        conn.close()
    until(real, lambda: Ok(real.run("check_vio_router", "--name", "router1"), 0), "router OK again")


def test_stopped_keystone_means_stale_then_unknown(real, real_cloud):
    stack = real_cloud.stack
    real.sweep()
    stack.kill("keystone", signal.SIGKILL)
    try:
        # The refresh fails (the token is still good, but Keystone does not answer): the last inventory, marked.
        stale = real.run("check_vio_hypervisor", "--max-age", "0")
        assert stale.rc == 0, str(stale)
        assert "old:" in stale.stdout and "identity" in stale.stdout, str(stale)
        disc = real.run("check_vio_discovery", "--max-age", "0")
        assert disc.rc == 2 and "last sweep failed" in disc.status, str(disc)
        time.sleep(2.5)
        gone = real.run("check_vio_hypervisor", "--max-age", "0", "--max-stale", "2")
        assert gone.rc == 3, str(gone)
        assert gone.status.startswith("VIO HYPERVISOR UNKNOWN - ") and "past --max-stale" in gone.status, str(gone)
    finally:
        stack.start_keystone()
