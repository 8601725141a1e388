"""Nova servers: derived fields and the ``/servers`` API (their state and status table: ``state``)."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from ..common import service_state, to_epoch
from ..http import ApiError, Request, Response, fragment_list, jbody, jresp, paginate, truthy

if TYPE_CHECKING:
    from ..app import App
    from ..store import Index, State

#: Kinds whose changes change a rendered server.
SERVER_FRAG_DEPS = ("compute_services", "ports", "floatingips", "volumes", "flavors", "networks")

# -- derived fields and rendering ---------------------------------------------------------------------

def host_status(st: State, server: dict, ix: Index) -> str:
    """A server's ``host_status`` from its compute host's nova-compute service."""
    host = server.get("OS-EXT-SRV-ATTR:host")
    if not host:
        return ""
    svc = ix.svc_by_host.get(host)
    if svc is None:
        return "UNKNOWN"
    if service_state(svc, st) == "down":
        return "DOWN"
    if svc.get("status") == "disabled":
        return "MAINTENANCE"
    return "UP"

def addresses(st: State, server: dict, ix: Index) -> dict:
    """A server's ``addresses`` from its ports and floating ips (unless it sets them)."""
    if server.get("addresses") is not None:
        return server["addresses"]
    nets = st.objects["networks"]
    out: dict[str, list] = {}
    for p in ix.ports_by_device.get(server["id"], ()):
        if not str(p.get("device_owner", "")).startswith("compute:"):
            continue
        net = nets.get(p.get("network_id"))
        lst = out.setdefault(net["name"] if net else p.get("network_id"), [])
        for f in p.get("fixed_ips") or ():
            ip = f.get("ip_address") or ""
            lst.append(
                {
                    "version": 6 if ":" in ip else 4,
                    "addr": ip,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": p.get("mac_address"),
                }
            )
        for fip in ix.fips_by_port.get(p["id"], ()):
            ip = fip.get("floating_ip_address") or ""
            lst.append(
                {
                    "version": 6 if ":" in ip else 4,
                    "addr": ip,
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": p.get("mac_address"),
                }
            )
    return out

def render_server(st: State, s: dict, mv: tuple[int, int], base: str, ix: Index) -> dict:
    """A server as Nova shows it at microversion ``mv``."""
    sid = s["id"]
    host = s.get("OS-EXT-SRV-ATTR:host")
    fl = s.get("flavor") or {}
    if mv >= (2, 47):
        flavor: dict[str, Any] = {
            "vcpus": fl.get("vcpus"),
            "ram": fl.get("ram"),
            "disk": fl.get("disk"),
            "ephemeral": fl.get("ephemeral", 0),
            "swap": fl.get("swap", 0),
            "original_name": fl.get("original_name"),
            "extra_specs": fl.get("extra_specs", {}),
        }
    else:
        flavor = {
            "id": fl.get("id"),
            "links": [{"rel": "bookmark", "href": f"{base}/compute/flavors/{fl.get('id')}"}],
        }
    image = s.get("image")
    if isinstance(image, dict) and image.get("id"):
        image = {
            "id": image["id"],
            "links": [{"rel": "bookmark", "href": f"{base}/compute/images/{image['id']}"}],
        }
    tenant = s.get("tenant_id")
    host_id = hashlib.sha224(f"{tenant}{host}".encode()).hexdigest() if host else ""
    vols = ix.vols_by_server.get(sid, ())
    out: dict[str, Any] = {
        "id": sid,
        "name": s.get("name"),
        "status": s.get("status"),
        "tenant_id": tenant,
        "user_id": s.get("user_id"),
        "metadata": s.get("metadata", {}),
        "hostId": host_id,
        "image": image if image is not None else "",
        "flavor": flavor,
        "created": s.get("created"),
        "updated": s.get("updated"),
        "addresses": addresses(st, s, ix),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [
            {"rel": "self", "href": f"{base}/compute/v2.1/servers/{sid}"},
            {"rel": "bookmark", "href": f"{base}/compute/servers/{sid}"},
        ],
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": s.get("OS-EXT-AZ:availability_zone"),
        "config_drive": "",
        "key_name": s.get("key_name"),
        "OS-SRV-USG:launched_at": s.get("OS-SRV-USG:launched_at"),
        "OS-SRV-USG:terminated_at": s.get("OS-SRV-USG:terminated_at"),
        "security_groups": s.get("security_groups", []),
        "OS-EXT-SRV-ATTR:host": host,
        "OS-EXT-SRV-ATTR:instance_name": s.get("OS-EXT-SRV-ATTR:instance_name"),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": s.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
        "OS-EXT-STS:task_state": s.get("OS-EXT-STS:task_state"),
        "OS-EXT-STS:vm_state": s.get("OS-EXT-STS:vm_state"),
        "OS-EXT-STS:power_state": s.get("OS-EXT-STS:power_state"),
        "os-extended-volumes:volumes_attached": (
            [{"id": v["id"], "delete_on_termination": False} for v in vols]
            if mv >= (2, 3)
            else [{"id": v["id"]} for v in vols]
        ),
    }
    if mv >= (2, 3):
        out.update(
            {
                "OS-EXT-SRV-ATTR:reservation_id": s.get("reservation_id") or "r-" + sid[:8],
                "OS-EXT-SRV-ATTR:launch_index": 0,
                "OS-EXT-SRV-ATTR:hostname": s.get("name"),
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:root_device_name": "/dev/sda",
                "OS-EXT-SRV-ATTR:user_data": None,
            }
        )
    if mv >= (2, 9):
        out["locked"] = bool(s.get("locked"))
    if mv >= (2, 16):
        out["host_status"] = s["host_status"] if "host_status" in s else host_status(st, s, ix)
    if mv >= (2, 19):
        out["description"] = s.get("description")
    if mv >= (2, 26):
        out["tags"] = s.get("tags", [])
    if mv >= (2, 63):
        out["trusted_image_certificates"] = None
    if mv >= (2, 73):
        out["locked_reason"] = s.get("locked_reason")
    if mv >= (2, 96):
        out["pinned_availability_zone"] = None
    if s.get("status") in ("ERROR", "DELETED"):
        fault = s.get("fault")
        if fault is None and s.get("status") == "ERROR":
            fault = {"code": 500, "message": "Unknown error", "created": s.get("updated")}
        if fault is not None:
            out["fault"] = {
                "code": fault.get("code", 500),
                "created": fault.get("created") or s.get("updated"),
                "message": fault.get("message", ""),
            }
            if fault.get("details"):
                out["fault"]["details"] = fault["details"]
    return out

# -- API ----------------------------------------------------------------------------------------------

def list_servers(app: App, req: Request, detail: bool, mv: tuple[int, int], tok: dict) -> Response:
    """``/servers[/detail]`` with its filters and paging."""
    st = app.state
    limit = app.limit(req)
    marker = req.q("marker")
    all_t = "all_tenants" in req.query and (req.q("all_tenants") == "" or truthy(req.q("all_tenants")))
    preds = []
    if not all_t:
        pid = tok.get("project")
        preds.append(lambda s: s.get("tenant_id") == pid)
    else:
        proj = req.q("project_id") or req.q("tenant_id")
        if proj:
            preds.append(lambda s: s.get("tenant_id") == proj)
    show_deleted = truthy(req.q("deleted"))
    if not show_deleted:
        preds.append(lambda s: s.get("status") != "DELETED")
    if req.q("status"):
        wanted = {v.upper() for v in req.query["status"]}
        preds.append(lambda s: s.get("status") in wanted)
    if req.q("host"):
        host = req.q("host")
        preds.append(lambda s: s.get("OS-EXT-SRV-ATTR:host") == host)
    if req.q("node"):
        node = req.q("node")
        preds.append(lambda s: s.get("OS-EXT-SRV-ATTR:hypervisor_hostname") == node)
    if req.q("name"):
        try:
            rx = re.compile(req.q("name") or "")
        except re.error as exc:
            raise ApiError(400, f"bad name regex: {exc}") from exc
        preds.append(lambda s: bool(rx.search(s.get("name") or "")))
    if req.q("changes-since"):
        since = time_param(app, req, "changes-since")
        preds.append(lambda s: (to_epoch(s.get("updated")) or 0) >= since)
    with st.lock:
        ix = st.index()
        items, pos = st.ordered("servers")
        if preds:
            items = [s for s in items if all(p(s) for p in preds)]
            pos = None
        page = paginate(items, "id", marker, limit, pos)
        cache = st.frag_cache("servers", (mv, req.base, detail), SERVER_FRAG_DEPS)
        frags = []
        for s in page:
            b = cache.get(s["id"])
            if b is None:
                if detail:
                    obj = render_server(st, s, mv, req.base, ix)
                else:
                    obj = {
                        "id": s["id"],
                        "name": s.get("name"),
                        "links": [
                            {"rel": "self", "href": f"{req.base}/compute/v2.1/servers/{s['id']}"},
                            {"rel": "bookmark", "href": f"{req.base}/compute/servers/{s['id']}"},
                        ],
                    }
                b = jbody(obj)
                cache[s["id"]] = b
            frags.append(b)
    return fragment_list(req, "servers", page, frags, limit)

def time_param(app: App, req: Request, name: str) -> float:
    """A time query parameter as epoch seconds (400 when unreadable)."""
    try:
        ts = to_epoch(req.q(name))
    except ValueError as exc:
        raise ApiError(400, f"Invalid {name} value") from exc
    return ts or 0.0

def show_server(app: App, req: Request, sid: str, mv: tuple[int, int]) -> Response:
    """``/servers/{id}``."""
    st = app.state
    with st.lock:
        s = st.objects["servers"].get(sid)
        if s is None or s.get("status") == "DELETED":
            raise ApiError(404, f"Instance {sid} could not be found.")
        return jresp(200, {"server": render_server(st, s, mv, req.base, st.index())})
