"""Nova servers: state (status table, flavor snapshots, derived fields) and ``/servers`` API."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from ..common import FMT_US, FMT_Z, Kind, SimError, det_uuid, expand, fmt_time, service_state, to_epoch
from ..http import ApiError, Request, Response, fragment_list, jbody, jresp, paginate, truthy
from .flavors import flavor_snapshot

if TYPE_CHECKING:
    from ..app import App
    from ..store import Index, State

#: Kinds whose changes change a rendered server.
SERVER_FRAG_DEPS = ("compute_services", "ports", "floatingips", "volumes", "flavors", "networks")

# -- state --------------------------------------------------------------------------------------------


# -- Nova status table -----------------------------------------------------------------------------

#: status -> (vm_state, task_state, power_state) as Nova shows them.
SERVER_STATUS: dict[str, tuple[str, str | None, int]] = {
    "ACTIVE": ("active", None, 1),
    "BUILD": ("building", "spawning", 0),
    "DELETED": ("deleted", None, 0),
    "ERROR": ("error", None, 0),
    "HARD_REBOOT": ("active", "rebooting_hard", 1),
    "MIGRATING": ("active", "migrating", 1),
    "PASSWORD": ("active", "updating_password", 1),
    "PAUSED": ("paused", None, 3),
    "REBOOT": ("active", "rebooting", 1),
    "REBUILD": ("active", "rebuilding", 0),
    "RESCUE": ("rescued", None, 1),
    "RESIZE": ("active", "resize_migrating", 1),
    "REVERT_RESIZE": ("resized", "resize_reverting", 1),
    "SHELVED": ("shelved", None, 4),
    "SHELVED_OFFLOADED": ("shelved_offloaded", None, 0),
    "SHUTOFF": ("stopped", None, 4),
    "SOFT_DELETED": ("soft-delete", None, 4),
    "SUSPENDED": ("suspended", None, 7),
    "UNKNOWN": ("active", None, 0),
    "VERIFY_RESIZE": ("resized", None, 1),
}

def ingest_servers(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming server; a status sets the matching vm/task/power state."""
    expand(c, (
        ("power_state", "OS-EXT-STS:power_state"),
        ("task_state", "OS-EXT-STS:task_state"),
        ("vm_state", "OS-EXT-STS:vm_state"),
        ("availability_zone", "OS-EXT-AZ:availability_zone"),
        ("instance_name", "OS-EXT-SRV-ATTR:instance_name"),
        ("launched_at", "OS-SRV-USG:launched_at"),
        ("hypervisor_hostname", "OS-EXT-SRV-ATTR:hypervisor_hostname"),
    ))
    if "project" in c:
        c["tenant_id"] = c.pop("project")
    if "project_id" in c:
        c["tenant_id"] = c.pop("project_id")
    if "tenant_id" in c:
        c["tenant_id"] = st.ref("projects", c["tenant_id"])
    if "host" in c:
        host, node = st.resolve_host(c.pop("host"))
        c["OS-EXT-SRV-ATTR:host"] = host
        c.setdefault("OS-EXT-SRV-ATTR:hypervisor_hostname", node)
    elif "OS-EXT-SRV-ATTR:host" in c and "OS-EXT-SRV-ATTR:hypervisor_hostname" not in c:
        c["OS-EXT-SRV-ATTR:hypervisor_hostname"] = st.resolve_host(c["OS-EXT-SRV-ATTR:host"])[1]
    if "flavor" in c:
        c["flavor"] = flavor_snapshot(st, c["flavor"])
    if "status" in c:
        status = str(c["status"]).upper()
        c["status"] = status
        if status not in SERVER_STATUS:
            raise SimError(400, f"unknown server status {status!r}")
        vm, task, power = SERVER_STATUS[status]
        c.setdefault("OS-EXT-STS:vm_state", vm)
        c.setdefault("OS-EXT-STS:task_state", task)
        c.setdefault("OS-EXT-STS:power_state", power)
        if status == "SHELVED_OFFLOADED":
            c.setdefault("OS-EXT-SRV-ATTR:host", None)
            c.setdefault("OS-EXT-SRV-ATTR:hypervisor_hostname", None)
    if isinstance(c.get("fault"), dict) and c["fault"].get("created") is not None:
        c["fault"] = dict(c["fault"], created=fmt_time(to_epoch(c["fault"]["created"], now), FMT_Z))
    return c

def fill_servers(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new server."""
    if new:
        o.setdefault("name", f"server-{st.seq}")
        status = o.setdefault("status", "ACTIVE")
        vm, task, power = SERVER_STATUS[status]
        o.setdefault("OS-EXT-STS:vm_state", vm)
        o.setdefault("OS-EXT-STS:task_state", task)
        o.setdefault("OS-EXT-STS:power_state", power)
        if not o.get("tenant_id"):
            o["tenant_id"] = st.default_project()
        if not o.get("user_id"):
            u = st.admin_user()
            o["user_id"] = u["id"] if u else det_uuid("users", "admin")
        if "flavor" not in o:
            f = next(iter(st.objects["flavors"].values()), None)
            o["flavor"] = flavor_snapshot(st, f["id"] if f else {"original_name": "m1.small"})
        o.setdefault("image", {"id": det_uuid("images", "ubuntu-22.04")})
        o.setdefault("metadata", {})
        o.setdefault("created", fmt_time(now - 30 * 86400, FMT_Z))
        o.setdefault("updated", o["created"])
        if status not in ("BUILD", "ERROR") or o.get("OS-EXT-SRV-ATTR:host"):
            o.setdefault("OS-SRV-USG:launched_at", fmt_time(to_epoch(o["created"], now) + 42, FMT_US))
        o.setdefault("OS-SRV-USG:launched_at", None)
        o.setdefault("OS-SRV-USG:terminated_at", None)
        o.setdefault("OS-EXT-SRV-ATTR:host", None)
        if "OS-EXT-SRV-ATTR:hypervisor_hostname" not in o:
            o["OS-EXT-SRV-ATTR:hypervisor_hostname"] = st.resolve_host(o["OS-EXT-SRV-ATTR:host"])[1]
        o.setdefault("OS-EXT-SRV-ATTR:instance_name", f"instance-{st.seq:08x}")
        o.setdefault("OS-EXT-AZ:availability_zone", "nova")
        o.setdefault("key_name", None)
        o.setdefault("description", None)
        o.setdefault("tags", [])
        o.setdefault("locked", False)
        o.setdefault("security_groups", [{"name": "default"}])

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

KIND = Kind(
    "servers", ingest=ingest_servers, fill=fill_servers, updated="updated",
    times={"created": FMT_Z, "updated": FMT_Z, "OS-SRV-USG:launched_at": FMT_US,
           "OS-SRV-USG:terminated_at": FMT_US},
)

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
