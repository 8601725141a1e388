"""Load balancers and their members as Icinga / Nagios objects (the look of vio_checks.topology_lb's nodes).

A load balancer is a host `<prefix>-lb-<id>` running `check_vio_loadbalancer --id ID`; each member a
service `member-<id>` of it running `check_vio_loadbalancer --id ID --member MEMBER_ID`. Object names come
from ids only; the tenant's names and addresses are display names and vars, escaped by every writer.
IcingaLook (objects.py) calls these with itself and makes the Node of what they return (the node's
fields, its check as (command, args), and the fields of its URLs): this module does not import objects.py.
"""

from __future__ import annotations

from typing import Any

from vio_checks import topology as t
from vio_checks.icinga.labels import ip_address

#: The CheckCommand of load balancers and members (check_vio_loadbalancer).
COMMAND = "vio_loadbalancer"


def _groups(look: Any, project_id: str, type_: str) -> tuple[str, ...]:
    kind = look.topo.add_group("host", f"{look.prefix}-loadbalancers", f"{look.label}: load balancers") \
        if type_ == "host" else look.topo.add_group("service", f"{look.prefix}-lb-members",
                                                    f"{look.label}: load balancer members")
    return (kind, look.project_group(type_, project_id)) if project_id else (kind,)


def _urls(look: Any, id: str, name: str, lb: Any) -> dict[str, str | None]:
    return {"id": id, "name": name, "project_id": lb.project_id,
            "project": look.project_name(lb.project_id) if lb.project_id else ""}


def load_balancer(look: Any, lb: Any, parent: str) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The host of one load balancer, below `parent` (its VIP network's router, else the cloud host)."""
    v = look.base_vars(t.LOADBALANCER, lb.id)
    v.update(vio_name=lb.name, vio_project=look.project_name(lb.project_id) if lb.project_id else None,
             vio_project_id=lb.project_id, vio_vip_address=lb.vip_address,
             vio_vip_network_id=lb.vip_network_id,
             vio_vip_subnet_id=lb.vip_subnet_id, vio_provider=lb.provider, vio_members=len(lb.members))
    node = dict(kind=t.LOADBALANCER, host=look.name("lb", lb.id), service=None,
                display_name=lb.name or lb.id, object_id=lb.id, check=(COMMAND, (("--id", lb.id),)),
                vars=v, parents=(parent,), address=ip_address(lb.vip_address),
                groups=_groups(look, lb.project_id, "host"))
    return node, _urls(look, lb.id, lb.name, lb)


def member_display(member: Any) -> str:
    """`member web-02 (10.0.0.5:80)`, or the id when the member has no name."""
    where = member.address + (f":{member.protocol_port}" if member.protocol_port is not None else "")
    return f"member {member.name or member.id}" + (f" ({where})" if where else "")


def lb_member(look: Any, lb: Any, member: Any, lb_key: str,
              parent: str | None) -> tuple[dict[str, Any], dict[str, str | None]]:
    """A member of a load balancer: a service of its host, depending on its VM host (`parent`; None when
    it joins no VM the config has: then only on the load balancer host)."""
    v = look.base_vars(t.LB_MEMBER, member.id)
    server = look._by_id("servers").get(member.server_id) if member.server_id else None
    v.update(vio_name=member.name, vio_address=member.address, vio_protocol_port=member.protocol_port,
             vio_subnet_id=member.subnet_id, vio_balancer=lb.name or lb.id, vio_balancer_id=lb.id,
             vio_project=look.project_name(lb.project_id) if lb.project_id else None,
             vio_project_id=lb.project_id, vio_joined=member.server_id is not None,
             vio_server_id=member.server_id, vio_vm=server.name if server is not None else None)
    node = dict(kind=t.LB_MEMBER, host=lb_key, service=f"member-{member.id}",  # objects.py sanitises it
                display_name=member_display(member), object_id=member.id,
                check=(COMMAND, (("--id", lb.id), ("--member", member.id))), vars=v,
                parents=(parent,) if parent else (), groups=_groups(look, lb.project_id, "service"))
    return node, _urls(look, member.id, member.name, lb)
