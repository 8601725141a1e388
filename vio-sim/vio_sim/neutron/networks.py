"""Neutron networks, subnets (with fixed ip allocation) and routers: state and rendering."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ..common import FMT_Z, Kind, fmt_time

if TYPE_CHECKING:
    from ..store import Index, State

NEUTRON_TIMES = {"created_at": FMT_Z, "updated_at": FMT_Z}


def project_pair(st: State, c: dict, new: bool) -> None:
    """Neutron objects carry project_id and tenant_id: keep them equal."""
    if "project" in c:
        c["project_id"] = c.pop("project")
    if "tenant_id" in c and "project_id" not in c:
        c["project_id"] = c["tenant_id"]
    if "project_id" in c:
        c["project_id"] = c["tenant_id"] = st.ref("projects", c["project_id"])

# projects / users / flavors

def ingest_networks(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands of an incoming network."""
    project_pair(st, c, old is None)
    if "external" in c:
        c["router:external"] = bool(c.pop("external"))
    return c

def fill_networks(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new network."""
    if new:
        o.setdefault("name", f"net-{st.seq}")
        o.setdefault("status", "ACTIVE")
        o.setdefault("admin_state_up", True)
        o.setdefault("shared", False)
        o.setdefault("router:external", False)
        if "project_id" not in o:
            o["project_id"] = o["tenant_id"] = st.admin_project() if o["router:external"] else \
                st.default_project()
        nsx = st.neutron_backend == "nsx"
        o.setdefault("mtu", 1500)
        o.setdefault("provider:network_type", "flat" if o["router:external"] else ("geneve" if nsx
                                                                                   else "vxlan"))
        o.setdefault("provider:physical_network", "external" if o["router:external"] else None)
        o.setdefault("provider:segmentation_id", None)
        o.setdefault("availability_zones", ["nova"])
        o.setdefault("availability_zone_hints", [])
        o.setdefault("description", "")
        o.setdefault("port_security_enabled", True)
        o.setdefault("is_default", False)
        o.setdefault("ipv4_address_scope", None)
        o.setdefault("ipv6_address_scope", None)
        o.setdefault("revision_number", 1)
        o.setdefault("tags", [])
        o.setdefault("created_at", fmt_time(now - 90 * 86400, FMT_Z))
        o.setdefault("updated_at", o["created_at"])
    o.pop("subnets", None)  # derived

def after_networks(st: State, o: dict, new: bool, now: float) -> None:
    """The ``cidr`` shorthand creates a subnet."""
    cidr = o.pop("cidr", None)
    if cidr:
        sub = {"name": f"{o['name']}-subnet", "network_id": o["id"], "cidr": cidr,
               "project_id": o["project_id"], "created_at": o.get("created_at")}
        st.put("subnets", sub, None, now)

def ingest_subnets(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming subnet."""
    project_pair(st, c, old is None)
    if "network" in c:
        c["network_id"] = c.pop("network")
    if "network_id" in c:
        c["network_id"] = st.ref("networks", c["network_id"])
    return c

def fill_subnets(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new subnet, from its cidr and network."""
    if new:
        o.setdefault("name", f"subnet-{st.seq}")
        net = ipaddress.ip_network(o.setdefault("cidr", "10.0.0.0/24"), strict=False)
        o["cidr"] = str(net)
        o.setdefault("ip_version", net.version)
        o.setdefault("gateway_ip", str(net.network_address + 1))
        o.setdefault(
            "allocation_pools",
            [{"start": str(net.network_address + 2), "end": str(net.broadcast_address - 1)}],
        )
        o.setdefault("enable_dhcp", True)
        o.setdefault("dns_nameservers", [])
        o.setdefault("host_routes", [])
        parent = st.objects["networks"].get(o.get("network_id")) or {}
        if "project_id" not in o:
            o["project_id"] = o["tenant_id"] = parent.get("project_id")
        o.setdefault("description", "")
        o.setdefault("ipv6_ra_mode", None)
        o.setdefault("ipv6_address_mode", None)
        o.setdefault("subnetpool_id", None)
        o.setdefault("service_types", [])
        o.setdefault("revision_number", 0)
        o.setdefault("tags", [])
        o.setdefault("created_at", parent.get("created_at") or fmt_time(now - 90 * 86400, FMT_Z))
        o.setdefault("updated_at", o["created_at"])

def allocate_ip(st: State, network_id: str | None, subnet_id: str | None = None) -> dict | None:
    """The next free fixed ip ``{subnet_id, ip_address}`` on a network (or subnet)."""
    subnets = [
        sn
        for sn in st.objects["subnets"].values()
        if (subnet_id and sn["id"] == subnet_id) or (not subnet_id and sn["network_id"] == network_id)
    ]
    if not subnets:
        return None
    sn = subnets[0]
    net = ipaddress.ip_network(sn["cidr"], strict=False)
    if sn["id"] not in st.alloc:
        used = set()
        for p in st.objects["ports"].values():
            for f in p.get("fixed_ips") or ():
                if f.get("subnet_id") == sn["id"]:
                    used.add(f.get("ip_address"))
        for f in st.objects["floatingips"].values():
            used.add(f.get("floating_ip_address"))
        st.alloc[sn["id"]] = 10
        while str(net.network_address + st.alloc[sn["id"]]) in used:
            st.alloc[sn["id"]] += 1
    off = st.alloc[sn["id"]]
    st.alloc[sn["id"]] = off + 1
    if off >= net.num_addresses - 1:
        return None
    return {"subnet_id": sn["id"], "ip_address": str(net.network_address + off)}

# routers

def ingest_routers(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming router; its gateway gets an external ip."""
    project_pair(st, c, old is None)
    ext = c.pop("external_network", None)
    if ext:
        c["external_gateway_info"] = {"network_id": ext}
    gw = c.get("external_gateway_info")
    if isinstance(gw, dict) and gw.get("network_id"):
        gw = dict(gw)
        gw["network_id"] = st.ref("networks", gw["network_id"])
        gw.setdefault("enable_snat", True)
        if not gw.get("external_fixed_ips"):
            ip = allocate_ip(st, gw["network_id"])
            gw["external_fixed_ips"] = [ip] if ip else []
        else:
            gw["external_fixed_ips"] = [
                dict(f, subnet_id=st.ref("subnets", f.get("subnet_id")))
                for f in gw["external_fixed_ips"]
            ]
        c["external_gateway_info"] = gw
    return c

def fill_routers(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new router."""
    if new:
        o.setdefault("name", f"router-{st.seq}")
        o.setdefault("status", "ACTIVE")
        o.setdefault("admin_state_up", True)
        o.setdefault("ha", False)
        o.setdefault("distributed", False)
        o.setdefault("external_gateway_info", None)
        if "project_id" not in o:
            o["project_id"] = o["tenant_id"] = st.default_project()
        o.setdefault("routes", [])
        o.setdefault("description", "")
        o.setdefault("availability_zones", ["nova"])
        o.setdefault("availability_zone_hints", [])
        o.setdefault("flavor_id", None)
        o.setdefault("revision_number", 1)
        o.setdefault("tags", [])
        o.setdefault("created_at", fmt_time(now - 60 * 86400, FMT_Z))
        o.setdefault("updated_at", o["created_at"])

# servers

def render_network(st: State, n: dict, ix: Index) -> dict:
    """A network as Neutron shows it (with its subnets)."""
    out = {k: v for k, v in n.items() if not k.startswith("_")}
    out["subnets"] = [sn["id"] for sn in ix.subnets_by_net.get(n["id"], ())]
    return out

def render_plain(o: dict) -> dict:
    """An object without the simulator-internal ``_`` fields."""
    return {k: v for k, v in o.items() if not k.startswith("_")}

KINDS = (
    Kind("networks", ingest=ingest_networks, fill=fill_networks, after=after_networks, times=NEUTRON_TIMES,
         updated="updated_at"),
    Kind("subnets", ingest=ingest_subnets, fill=fill_subnets, times=NEUTRON_TIMES, updated="updated_at"),
    Kind("routers", ingest=ingest_routers, fill=fill_routers, times=NEUTRON_TIMES, updated="updated_at"),
)
