"""Test data, made through the real APIs with openstacksdk (the product venv's), as a cloud user would.

Two hypervisors' worth of VMs in several states, volumes available / in-use / error, networks, a bound and an
unbound port, and a router with a gateway and an interface on an L3 agent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openstack

from .stack import ADMIN_PASSWORD, COMPUTE_HOSTS, NETWORK_HOST, REGION, Stack


@dataclass
class Seeded:
    """Ids of what seed() made, by role."""

    servers: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    routers: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)  # server role → compute host it ended on
    load_balancers: dict[str, str] = field(default_factory=dict)  # seed_more.py: error, online, degraded ...
    pools: dict[str, str] = field(default_factory=dict)  # load balancer name → its pool
    lb_members: dict[str, str] = field(default_factory=dict)  # "<lb name>/<server role>" → member id
    stacks: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    l3_agent: str = ""
    project_id: str = ""


def connect(stack: Stack) -> Any:
    """An admin openstacksdk connection to the stack (no clouds.yaml, no OS_* variables; the https
    endpoint verified against the stack's CA)."""
    return openstack.connect(
        auth_url=stack.auth_url, username="admin", password=ADMIN_PASSWORD, project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name=REGION,
        cacert=str(stack.tls_ca), load_yaml_config=False, load_envvars=False,
    )


def wait(what: str, probe: Callable[[], Any], timeout: float = 120.0, interval: float = 0.5) -> Any:
    """Poll until probe() returns something truthy; AssertionError naming `what` when it never does."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def _server_status(conn: Any, sid: str, *wanted: str) -> Callable[[], bool]:
    def probe() -> bool:
        s = conn.compute.get_server(sid)
        if s.status == "ERROR" and "ERROR" not in wanted:
            raise AssertionError(f"server {s.name} went to ERROR: {s.fault}")
        return s.status in wanted and not s.task_state

    return probe


def seed(stack: Stack) -> Seeded:
    """Make the test data and wait until it has settled."""
    conn = connect(stack)
    out = Seeded(project_id=conn.current_project_id)
    tiny = conn.compute.create_flavor(name="m1.tiny", vcpus=1, ram=128, disk=1)
    # No fake hypervisor has 50 TB of RAM: with the quota lifted, the scheduler finds no host → ERROR.
    huge = conn.compute.create_flavor(name="m1.huge", vcpus=1, ram=50_000_000, disk=1)
    conn.compute.put(f"/os-quota-sets/{out.project_id}", json={"quota_set": {"ram": -1, "cores": -1}})
    image = conn.image.create_image(name="fake-image", disk_format="raw", container_format="bare",
                                    data=b"\0" * 1024, visibility="public")
    wait("image active", lambda: conn.image.get_image(image.id).status == "active", 60)

    public = conn.network.create_network(name="public", is_router_external=True, provider_network_type="flat",
                                         provider_physical_network="public")
    conn.network.create_subnet(network_id=public.id, name="public-v4", ip_version=4, cidr="203.0.113.0/24",
                               enable_dhcp=False)
    net1 = conn.network.create_network(name="net1")
    sub1 = conn.network.create_subnet(network_id=net1.id, name="net1-v4", ip_version=4, cidr="10.0.1.0/24")
    net2 = conn.network.create_network(name="net2")
    conn.network.create_subnet(network_id=net2.id, name="net2-v4", ip_version=4, cidr="10.0.2.0/24")
    out.networks.update(public=public.id, net1=net1.id, net2=net2.id)

    router = conn.network.create_router(name="router1", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=sub1.id)
    out.routers["router1"] = router.id
    l3 = next(a for a in conn.network.agents() if a.agent_type == "L3 agent" and a.host == NETWORK_HOST)
    out.l3_agent = l3.id
    hosting = list(conn.network.routers_hosting_l3_agents(router))
    if not hosting:
        conn.network.add_router_to_agent(l3, router)
    spare = conn.network.create_port(network_id=net2.id, name="spare-port")
    out.ports["unbound"] = spare.id

    def boot(name: str, host: str | None, flavor: Any = tiny) -> str:
        kw = {"availability_zone": f"nova:{host}"} if host else {}
        s = conn.compute.create_server(name=name, flavor_id=flavor.id, image_id=image.id,
                                       networks=[{"uuid": net1.id}], **kw)
        return s.id

    c1, c2 = COMPUTE_HOSTS
    out.servers.update(
        active1=boot("vm-active-1", c1), active2=boot("vm-active-2", c2), shutoff=boot("vm-shutoff", c1),
        moved=boot("vm-moved", c1), error=boot("vm-error", None, huge),
    )
    for role in ("active1", "active2", "shutoff", "moved"):
        wait(f"{role} ACTIVE", _server_status(conn, out.servers[role], "ACTIVE"), 180)
    wait("vm-error ERROR", _server_status(conn, out.servers["error"], "ERROR"), 120)

    conn.compute.stop_server(out.servers["shutoff"])
    conn.compute.migrate_server(out.servers["moved"])
    wait("vm-moved VERIFY_RESIZE", _server_status(conn, out.servers["moved"], "VERIFY_RESIZE"), 180)
    conn.compute.confirm_server_resize(out.servers["moved"])
    wait("vm-moved ACTIVE", _server_status(conn, out.servers["moved"], "ACTIVE"), 120)
    wait("vm-shutoff SHUTOFF", _server_status(conn, out.servers["shutoff"], "SHUTOFF"), 120)

    free = conn.block_storage.create_volume(name="vol-free", size=1)
    used = conn.block_storage.create_volume(name="vol-used", size=1)
    conn.block_storage.create_type(name="nowhere", extra_specs={"volume_backend_name": "no-such-backend"})
    bad = conn.block_storage.create_volume(name="vol-error", size=1, volume_type="nowhere")
    out.volumes.update(available=free.id, in_use=used.id, error=bad.id)
    for vid in (free.id, used.id):
        wait("volume available", lambda v=vid: conn.block_storage.get_volume(v).status == "available", 120)
    wait("vol-error error", lambda: conn.block_storage.get_volume(bad.id).status == "error", 120)
    conn.compute.create_volume_attachment(out.servers["active1"], volume_id=used.id)
    wait("vol-used in-use", lambda: conn.block_storage.get_volume(used.id).status == "in-use", 120)

    for role, sid in out.servers.items():
        out.hosts[role] = conn.compute.get_server(sid).compute_host or ""
    for role in ("active1", "active2"):
        port = next(iter(conn.network.ports(device_id=out.servers[role])))
        out.ports[role] = port.id
    # The fake OVS agents report bound ports up; the router's ports bind once the L3 agent synced.
    vm_ports = [out.ports["active1"], out.ports["active2"]]
    wait("VM ports ACTIVE", lambda: all(conn.network.get_port(p).status == "ACTIVE" for p in vm_ports), 60)
    wait("router ACTIVE", lambda: conn.network.get_router(router.id).status == "ACTIVE", 60)
    from .seed_more import seed_more

    seed_more(stack, conn, out)
    conn.close()
    return out
