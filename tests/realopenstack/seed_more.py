"""Seeding of Octavia, Heat and Glance states (after seed.py's core data), through the real APIs.

Load balancers: `lb-error` (created before the Octavia CA exists: the worker's flow fails signing the
amphora certificate and reverts it to ERROR), `lb-online` (listener, pool, two members on the VMs' addresses
on net1-v4; ACTIVE, and ONLINE from the fake amphora's heartbeats), `lb-degraded` (one member reported DOWN:
Octavia's health manager makes it DEGRADED) and `lb-disabled` (admin_state_up false: ACTIVE, OFFLINE).
Stacks: `stack-ok` (OS::Heat::None, CREATE_COMPLETE) and `stack-failed` (OS::Heat::TestResource with
fail: true, CREATE_FAILED). Image: `image-queued` (created without data: stays queued).
"""

from __future__ import annotations

import time
from typing import Any

from .seed import Seeded, wait
from .stack import Stack

STACK_OK = {"heat_template_version": "2018-08-31", "resources": {"nothing": {"type": "OS::Heat::None"}}}
STACK_FAILED = {"heat_template_version": "2018-08-31",
                "resources": {"broken": {"type": "OS::Heat::TestResource",
                                         "properties": {"fail": True, "value": "realos"}}}}


def _lb(conn: Any, lb_id: str) -> Any:
    return conn.load_balancer.get_load_balancer(lb_id)


def _settled(conn: Any, lb_id: str, provisioning: str) -> Any:
    def probe() -> bool:
        lb = _lb(conn, lb_id)
        if lb.provisioning_status == "ERROR" and provisioning != "ERROR":
            raise AssertionError(f"load balancer {lb.name} went to ERROR")
        return lb.provisioning_status == provisioning

    return probe


def _active(conn: Any, lb_id: str) -> None:
    wait(f"load balancer {lb_id} ACTIVE", _settled(conn, lb_id, "ACTIVE"), 120)


def seed_more(stack: Stack, conn: Any, out: Seeded) -> None:
    """Make the load balancers, stacks and queued image; wait until each has its state."""
    t = time.monotonic()
    sub = next(conn.network.subnets(name="net1-v4"))
    addresses = {}
    for role in ("active1", "active2"):
        port = conn.network.get_port(out.ports[role])
        addresses[role] = next(ip["ip_address"] for ip in port.fixed_ips if ip["subnet_id"] == sub.id)

    bad = conn.load_balancer.create_load_balancer(name="lb-error", vip_subnet_id=sub.id)
    out.load_balancers["error"] = bad.id
    wait("lb-error ERROR", _settled(conn, bad.id, "ERROR"), 120)
    stack.octavia_ca()

    def make(name: str, members: dict[str, str], admin_up: bool = True) -> str:
        lb = conn.load_balancer.create_load_balancer(name=name, vip_subnet_id=sub.id)
        _active(conn, lb.id)
        listener = conn.load_balancer.create_listener(name=f"{name}-http", protocol="HTTP", protocol_port=80,
                                                      load_balancer_id=lb.id)
        _active(conn, lb.id)
        pool = conn.load_balancer.create_pool(name=f"{name}-pool", protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                                              listener_id=listener.id)
        _active(conn, lb.id)
        for role, address in members.items():
            m = conn.load_balancer.create_member(pool, name=f"{name}-{role}", address=address,
                                                 protocol_port=80, subnet_id=sub.id)
            out.lb_members[f"{name}/{role}"] = m.id
            _active(conn, lb.id)
        if not admin_up:
            conn.load_balancer.update_load_balancer(lb.id, admin_state_up=False)
            _active(conn, lb.id)
        out.pools[name] = pool.id
        return lb.id

    out.load_balancers["online"] = make("lb-online", addresses)
    out.load_balancers["degraded"] = make("lb-degraded", addresses)
    (stack.amphora_control / f"{out.lb_members['lb-degraded/active2']}.down").touch()
    out.load_balancers["disabled"] = make("lb-disabled", {"active1": addresses["active1"]}, admin_up=False)

    orch = conn.orchestration
    ok = orch.create_stack(name="stack-ok", template=STACK_OK)
    failed = orch.create_stack(name="stack-failed", template=STACK_FAILED)
    out.stacks.update(ok=ok.id, failed=failed.id)
    # The image record only, as a client does before it uploads: Glance keeps it queued.
    reply = conn.image.post("/images", json={"name": "image-queued", "disk_format": "raw",
                                             "container_format": "bare"})
    assert reply.status_code == 201, reply.text
    out.images["queued"] = reply.json()["id"]

    wait("stack-ok CREATE_COMPLETE", lambda: orch.get_stack(ok.id).status == "CREATE_COMPLETE", 120)
    wait("stack-failed CREATE_FAILED", lambda: orch.get_stack(failed.id).status == "CREATE_FAILED", 120)
    wait("lb-online ONLINE", lambda: _lb(conn, out.load_balancers["online"]).operating_status == "ONLINE", 60)
    wait("lb-degraded DEGRADED",
         lambda: _lb(conn, out.load_balancers["degraded"]).operating_status == "DEGRADED", 60)
    wait("lb-disabled OFFLINE",
         lambda: _lb(conn, out.load_balancers["disabled"]).operating_status == "OFFLINE", 60)
    stack.say(f"seeded load balancers, stacks, image: {time.monotonic() - t:.1f} s")
