"""Octavia v2 (``load-balancer`` in the catalog): load balancers with their listeners, pools and members
as the store keeps them (one kind) and as the API renders them (vio_sim.octavia serves them; no HTTP here).

Scenario shape (``"loadbalancers"``; statuses default to ACTIVE and ONLINE)::

    {"name": "shop-lb", "project": "webshop", "vip_network": "webshop-net", "vip_address": "10.10.1.50",
     "listeners": [{"name": "shop-http", "protocol": "HTTP", "protocol_port": 80, "pools": ["shop-pool"]}],
     "pools": [{"name": "shop-pool", "health_monitor": true,
                "members": [{"server": "web-01", "protocol_port": 80}, {"address": "10.10.1.99"}]}]}

A member's ``server`` shorthand takes the address and subnet of that server's first port. The balancer's
``operating_status`` is derived from its members, as Octavia's health manager does, unless the scenario
(or a patch) sets it: ONLINE; DEGRADED when some members are ERROR or OFFLINE; ERROR when all are. A pool's
likewise. ``member_status`` (on load or PATCH) sets members' operating status by member name, server name
or address: ``{"member_status": {"web-02": "ERROR"}}``.

Octavia is in the catalog when the region's setting ``octavia`` is true, or (unset) when the region has
load balancers; ``"octavia": false`` takes it out (the "absent from the catalog" case): the rule of
vio_sim.keystone_state.in_catalog, as for Glance and Heat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import FMT_Z, Kind, det_uuid

if TYPE_CHECKING:
    from .store import State

_DOWN = ("ERROR", "OFFLINE")


def ingest_loadbalancers(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references: project, vip_network, member servers, member_status."""
    if "project" in c:
        c["project_id"] = c.pop("project")
    if "project_id" in c:
        c["project_id"] = st.ref("projects", c["project_id"])
    if "vip_network" in c:
        c["vip_network_id"] = c.pop("vip_network")
    if "vip_network_id" in c:
        c["vip_network_id"] = st.ref("networks", c["vip_network_id"])
        if not c.get("vip_subnet_id"):
            c["vip_subnet_id"] = next((sid for sid, sn in st.objects["subnets"].items()
                                       if sn.get("network_id") == c["vip_network_id"]), None)
    name = c.get("name") or (old or {}).get("name") or ""
    for pool in c.get("pools") or ():
        pool.setdefault("id", det_uuid("pool", name, pool.get("name", "")))
        for m in pool.get("members") or ():
            _ingest_member(st, m, name, pool)
    for lst in c.get("listeners") or ():
        lst.setdefault("id", det_uuid("listener", name, lst.get("name", "")))
        pools = c.get("pools") or (old or {}).get("pools") or []
        lst["pools"] = [next((p["id"] for p in pools if ref in (p.get("id"), p.get("name"))), ref)
                        for ref in lst.get("pools") or ()]
    marks = c.pop("member_status", None)
    if marks:
        pools = c.get("pools") if "pools" in c else [dict(p) for p in (old or {}).get("pools") or ()]
        for pool in pools:
            pool["members"] = [dict(m) for m in pool.get("members") or ()]
            for m in pool["members"]:
                for ref, status in marks.items():
                    if ref in (m.get("name"), m.get("_server_name"), m.get("address"), m.get("id")):
                        m["operating_status"] = status
        c["pools"] = pools
    return c


def _ingest_member(st: State, m: dict, lb_name: str, pool: dict) -> None:
    server = m.pop("server", None)
    if server:
        sid = st.ref("servers", server)
        m["_server_name"] = server
        m.setdefault("name", server)
        port = next((p for p in st.objects["ports"].values()
                     if p.get("device_id") == sid and p.get("fixed_ips")), None)
        if port:
            ip = port["fixed_ips"][0]
            m.setdefault("address", ip.get("ip_address"))
            m.setdefault("subnet_id", ip.get("subnet_id"))
    if m.get("subnet_id"):
        m["subnet_id"] = st.ref("subnets", m["subnet_id"])
    m.setdefault("id", det_uuid("member", lb_name, pool.get("name", ""), m.get("name") or m.get("address")))


def fill_loadbalancers(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults: statuses, provider, VIP port id, timestamps."""
    if new:
        o.setdefault("provisioning_status", "ACTIVE")
        o.setdefault("admin_state_up", True)
        o.setdefault("provider", "vmwareedge")
        o.setdefault("created_at", now)
        o.setdefault("updated_at", now)
        o.setdefault("project_id", st.default_project())
        o.setdefault("listeners", [])
        o.setdefault("pools", [])
        o.setdefault("vip_port_id", det_uuid("vip-port", o.get("name") or ""))


KINDS = (
    Kind("loadbalancers", ingest=ingest_loadbalancers, fill=fill_loadbalancers, updated="updated_at",
         times={"created_at": FMT_Z, "updated_at": FMT_Z}),
)


# -- rendering ----------------------------------------------------------------------------------------

def _member_status(m: dict) -> dict:
    return {"provisioning_status": m.get("provisioning_status", "ACTIVE"),
            "operating_status": m.get("operating_status", "ONLINE" if m.get("_monitored", True) else
                                      "NO_MONITOR")}


def _derived(stored: str | None, members: list[dict]) -> str:
    if stored:
        return stored
    states = [m["operating_status"] for m in members]
    down = sum(s in _DOWN for s in states)
    if states and down == len(states):
        return "ERROR"
    return "DEGRADED" if down else "ONLINE"


def _pool_tree(pool: dict) -> dict:
    monitored = bool(pool.get("health_monitor", True))
    members = []
    for m in pool.get("members") or ():
        st = _member_status({**m, "_monitored": monitored})
        members.append({"id": m["id"], "name": m.get("name", ""), "address": m.get("address"),
                        "protocol_port": m.get("protocol_port", 80), **st})
    out = {"id": pool["id"], "name": pool.get("name", ""),
           "provisioning_status": pool.get("provisioning_status", "ACTIVE"),
           "operating_status": _derived(pool.get("operating_status"), members), "members": members}
    if monitored:
        out["health_monitor"] = {"id": det_uuid("hm", pool["id"]), "name": "", "type": "HTTP",
                                 "provisioning_status": "ACTIVE", "operating_status": "ONLINE"}
    return out


def status_tree(o: dict) -> dict:
    """``GET /v2/lbaas/loadbalancers/{id}/status``: statuses.loadbalancer."""
    pools = {p["id"]: _pool_tree(p) for p in o.get("pools") or ()}
    listeners = []
    for lst in o.get("listeners") or ():
        lp = [pools[i] for i in lst.get("pools") or () if i in pools]
        listeners.append({"id": lst["id"], "name": lst.get("name", ""),
                          "provisioning_status": lst.get("provisioning_status", "ACTIVE"),
                          "operating_status": _derived(lst.get("operating_status"),
                                                       [m for p in lp for m in p["members"]]),
                          "pools": lp})
    members = [m for p in pools.values() for m in p["members"]]
    return {"id": o["id"], "name": o.get("name", ""), "provisioning_status": o["provisioning_status"],
            "operating_status": _derived(o.get("operating_status"), members), "listeners": listeners}


def render_lb(o: dict) -> dict:
    """One load balancer as the list shows it."""
    tree = status_tree(o)
    return {
        "id": o["id"], "name": o.get("name", ""), "description": o.get("description", ""),
        "project_id": o.get("project_id"), "tenant_id": o.get("project_id"),
        "provisioning_status": o["provisioning_status"], "operating_status": tree["operating_status"],
        "admin_state_up": o.get("admin_state_up", True), "vip_address": o.get("vip_address"),
        "vip_network_id": o.get("vip_network_id"), "vip_subnet_id": o.get("vip_subnet_id"),
        "vip_port_id": o.get("vip_port_id"), "provider": o.get("provider"), "flavor_id": None,
        "created_at": o.get("created_at"), "updated_at": o.get("updated_at"),
        "listeners": [{"id": lst["id"]} for lst in o.get("listeners") or ()],
        "pools": [{"id": p["id"]} for p in o.get("pools") or ()],
    }


def render_member(m: dict, pool: dict) -> dict:
    """One member as ``GET /v2/lbaas/pools/{id}/members`` shows it."""
    st = _member_status({**m, "_monitored": bool(pool.get("health_monitor", True))})
    return {"id": m["id"], "name": m.get("name", ""), "address": m.get("address"),
            "protocol_port": m.get("protocol_port", 80), "subnet_id": m.get("subnet_id"),
            "admin_state_up": m.get("admin_state_up", True), "weight": 1, "backup": False,
            "monitor_address": None, "monitor_port": None, **st}
