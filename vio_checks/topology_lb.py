"""Load balancers (Octavia) in the dependency tree: a host per load balancer, a service per member.

Built by vio_checks.topology's builder after the VMs (`add_load_balancers`), only when the sweep's
catalog had Octavia (Meta.services["load-balancer"]); no load balancer, nothing written.

    load balancer host (`lb-<id>`)  check_vio_loadbalancer --id ID
      parent: the lowest-id generated router serving its VIP network (the same rule as a VM's interface:
              model.routers_by_network). No generated router serves it (a provider network, a router left
              out by the filters, an unknown VIP network): the cloud host, which is what vouches for an
              interface on such a network too (an interface there has no explicit parent, only its VM).
      └─ member-<id> (service)      check_vio_loadbalancer --id ID --member MEMBER_ID
           parent: the VM host of the server the sweep's join found for the member (the Nova server whose
                   port holds the member's address on its subnet). A member that joins no VM, or a VM the
                   config leaves out, has no explicit parent: only its load balancer host.

So a hypervisor down makes its VMs unreachable and the members on them with them (their notifications
suppressed), while the load balancer's own check, DEGRADED, is the impact, never a second root cause: a
host check's WARNING is UP to Icinga, so its output says DEGRADED and nothing pages for it.

This module does not import vio_checks.topology (which imports it): it works on the builder it is given.
"""

from __future__ import annotations

from typing import Any

#: Node kinds (vio_checks.topology lists them among its host and service kinds).
LOADBALANCER = "loadbalancer"
LB_MEMBER = "lb-member"

#: The catalog service type whose presence (Meta.services) lets the tree have load balancers.
SERVICE_TYPE = "load-balancer"


def octavia_present(inv: Any) -> bool:
    """Whether the sweep's catalog had Octavia (load balancers are then part of the tree)."""
    services = getattr(inv.meta, "services", None) or {}
    return bool(services.get(SERVICE_TYPE))


def vip_parent(builder: Any, lb: Any) -> str:
    """The key of the load balancer host's one parent: the lowest-id generated router serving its VIP
    network, else the cloud host."""
    serving = builder.routers_of_network.get(lb.vip_network_id or "", [])
    generated = [r for r in serving if r in builder.router_keys]
    return builder.router_keys[generated[0]] if generated else builder.topo.prefix


def member_parent(builder: Any, member: Any) -> str | None:
    """The key of the member's VM host, or None when it joins no VM (or one the config leaves out)."""
    return builder.vm_keys.get(member.server_id) if member.server_id else None


def add_load_balancers(builder: Any) -> None:
    """Add a host per load balancer the selection keeps (its project) and a service per member.

    `builder` is vio_checks.topology's: it has `inv`, `selection`, `look`, `topo`, `router_keys`,
    `routers_of_network` and `vm_keys` (filled by then). The look makes the nodes: `load_balancer(lb,
    parent)` and `lb_member(lb, member, lb_key, parent)`."""
    inv = builder.inv
    if not octavia_present(inv) or not inv.load_balancers:
        return
    for lb in sorted(inv.load_balancers, key=lambda b: b.id):
        if lb.project_id and not builder.selection.project_selected(lb.project_id):
            continue
        host = builder.topo.add(builder.look.load_balancer(lb, vip_parent(builder, lb)))
        seen: set[str] = set()
        for member in sorted(lb.members, key=lambda m: m.id):
            if member.id in seen:
                continue
            seen.add(member.id)
            builder.topo.add(builder.look.lb_member(lb, member, host.key, member_parent(builder, member)))
