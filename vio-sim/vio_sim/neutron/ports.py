"""Neutron ports and floating ips: state."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ..common import FMT_Z, Kind, SimError, det_mac, det_uuid, expand, fmt_time, to_epoch
from .networks import NEUTRON_TIMES, allocate_ip, project_pair

if TYPE_CHECKING:
    from ..store import State


def ingest_ports(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming port; fixed ips completed."""
    project_pair(st, c, old is None)
    expand(c, (
        ("network", "network_id"),
        ("device", "device_id"),
        ("host", "binding:host_id"),
        ("vif_type", "binding:vif_type"),
        ("vnic_type", "binding:vnic_type"),
    ))
    if "network_id" in c:
        c["network_id"] = st.ref("networks", c["network_id"])
    if c.get("device_id"):
        dev = c["device_id"]
        owner = c.get("device_owner") or (old or {}).get("device_owner") or ""
        if owner.startswith("network:router"):
            c["device_id"] = st.ref("routers", dev)
        elif owner.startswith("compute:"):
            c["device_id"] = st.ref("servers", dev)
        else:
            r = st.ref("servers", dev)
            c["device_id"] = r if r != dev else st.ref("routers", dev)
    if "ip" in c:
        ips = c.pop("ip")
        ips = ips if isinstance(ips, list) else [ips]
        c["fixed_ips"] = [{"ip_address": ip} for ip in ips]
    if "fixed_ips" in c:
        out = []
        net_id = c.get("network_id") or (old or {}).get("network_id")
        for f in c["fixed_ips"] or ():
            f = dict(f)
            if f.get("subnet_id"):
                f["subnet_id"] = st.ref("subnets", f["subnet_id"])
            elif f.get("ip_address"):
                f["subnet_id"] = subnet_for(st, net_id, f["ip_address"])
            if not f.get("ip_address"):
                got = allocate_ip(st, net_id, f.get("subnet_id"))
                f["ip_address"] = got["ip_address"] if got else None
            out.append(f)
        c["fixed_ips"] = out
    return c

def subnet_for(st: State, network_id: str | None, ip: str) -> str | None:
    """The subnet of a network that holds ``ip``."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for sn in st.objects["subnets"].values():
        if sn.get("network_id") == network_id and addr in ipaddress.ip_network(sn["cidr"], strict=False):
            return sn["id"]
    return None

def fill_ports(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new port, from its device, network and backend."""
    if new:
        dev = o.setdefault("device_id", "")
        if "device_owner" not in o:
            if dev in st.objects["servers"]:
                az = st.objects["servers"][dev].get("OS-EXT-AZ:availability_zone") or "nova"
                o["device_owner"] = f"compute:{az}"
            elif dev in st.objects["routers"]:
                o["device_owner"] = "network:router_interface"
            else:
                o["device_owner"] = ""
        owner = o["device_owner"]
        if not o.get("network_id"):
            raise SimError(400, "a port needs a network_id")
        if owner == "network:dhcp" and not dev:
            o["device_id"] = "dhcp" + det_uuid("dhcp", o["network_id"]) + "-" + o["network_id"]
        if "project_id" not in o:
            server = st.objects["servers"].get(o["device_id"])
            net = st.objects["networks"].get(o["network_id"]) or {}
            pid = server["tenant_id"] if server else net.get("project_id")
            if owner in ("network:router_gateway", "network:floatingip"):
                pid = "" if owner == "network:router_gateway" else pid
            o["project_id"] = o["tenant_id"] = pid
        o.setdefault("name", "")
        if "binding:host_id" not in o:
            server = st.objects["servers"].get(o["device_id"])
            if server is not None:
                o["binding:host_id"] = server.get("OS-EXT-SRV-ATTR:host") or ""
            elif owner.startswith("network:") and owner != "network:floatingip":
                o["binding:host_id"] = st.settings.get("network_host") or ""
            else:
                o["binding:host_id"] = ""
        if "binding:vif_type" not in o:
            o["binding:vif_type"] = st.default_vif_type if o["binding:host_id"] else "unbound"
        if "status" not in o:
            bound = o["binding:host_id"] and o["binding:vif_type"] not in ("unbound", "binding_failed")
            o["status"] = "ACTIVE" if bound else ("N/A" if owner == "network:floatingip" else "DOWN")
        o.setdefault("admin_state_up", True)
        if "fixed_ips" not in o:
            ip = allocate_ip(st, o["network_id"])
            o["fixed_ips"] = [ip] if ip else []
        o.setdefault("binding:vnic_type", "normal")
        o.setdefault("binding:profile", {})
        o.setdefault("binding:vif_details", {})
        o.setdefault(
            "security_groups",
            []
            if owner.startswith("network:")
            else [det_uuid("security_groups", o["project_id"], "default")],
        )
        o.setdefault("allowed_address_pairs", [])
        o.setdefault("extra_dhcp_opts", [])
        o.setdefault("description", "")
        o.setdefault("port_security_enabled", not owner.startswith("network:"))
        o.setdefault("dns_name", "")
        o.setdefault("dns_assignment", [])
        o.setdefault("ip_allocation", "immediate")
        o.setdefault("propagate_uplink_status", False)
        o.setdefault("revision_number", 1)
        o.setdefault("tags", [])
        server = st.objects["servers"].get(o["device_id"])
        o.setdefault(
            "created_at",
            fmt_time(to_epoch(server["created"], now), FMT_Z)
            if server
            else fmt_time(now - 60 * 86400, FMT_Z),
        )
        o.setdefault("updated_at", o["created_at"])
    if o.get("id") is None:
        o["id"] = det_uuid(
            "ports", o.get("name") or f"#{st.seq}", o.get("device_id"), o.get("network_id")
        )
    o.setdefault("mac_address", det_mac(o["id"]))

def ingest_floatingips(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming floating ip."""
    project_pair(st, c, old is None)
    expand(c, (
        ("port", "port_id"),
        ("network", "floating_network_id"),
        ("ip", "floating_ip_address"),
        ("router", "router_id"),
    ))
    if c.get("port_id"):
        c["port_id"] = st.ref("ports", c["port_id"])
    if c.get("floating_network_id"):
        c["floating_network_id"] = st.ref("networks", c["floating_network_id"])
    if c.get("router_id"):
        c["router_id"] = st.ref("routers", c["router_id"])
    return c

def fill_floatingips(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new floating ip, from its port."""
    port = st.objects["ports"].get(o.get("port_id") or "")
    if new:
        if not o.get("floating_network_id"):
            ext = next((n for n in st.objects["networks"].values() if n.get("router:external")), None)
            o["floating_network_id"] = ext["id"] if ext else None
        if not o.get("floating_ip_address"):
            ip = allocate_ip(st, o["floating_network_id"])
            o["floating_ip_address"] = ip["ip_address"] if ip else None
        if "project_id" not in o:
            o["project_id"] = o["tenant_id"] = port["project_id"] if port else st.default_project()
        o.setdefault("status", "ACTIVE" if port else "DOWN")
        o.setdefault("description", "")
        o.setdefault("port_forwardings", [])
        o.setdefault("qos_policy_id", None)
        o.setdefault("revision_number", 1)
        o.setdefault("tags", [])
        o.setdefault("dns_domain", "")
        o.setdefault("dns_name", "")
        o.setdefault("created_at", fmt_time(now - 30 * 86400, FMT_Z))
        o.setdefault("updated_at", o["created_at"])
        o.setdefault("port_id", None)
    if port is not None and not o.get("fixed_ip_address"):
        fips = port.get("fixed_ips") or []
        o["fixed_ip_address"] = fips[0]["ip_address"] if fips else None
    if port is not None and not o.get("router_id"):
        for p in st.objects["ports"].values():
            if p.get("device_owner") == "network:router_interface" and p.get("network_id") == port.get(
                "network_id"
            ):
                o["router_id"] = p.get("device_id")
                break
    o.setdefault("fixed_ip_address", None)
    o.setdefault("router_id", None)
    if o.get("id") is None:
        o["id"] = det_uuid("floatingips", o.get("floating_ip_address"))

# volumes

KINDS = (
    Kind("ports", ingest=ingest_ports, fill=fill_ports, times=NEUTRON_TIMES, updated="updated_at"),
    Kind("floatingips", ingest=ingest_floatingips, fill=fill_floatingips, times=NEUTRON_TIMES,
         updated="updated_at"),
)
