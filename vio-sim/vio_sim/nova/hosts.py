"""Nova's view of the vSphere clusters: ``/os-services``, ``/os-hypervisors`` and ``/os-availability-zone``
(the compute services' and hypervisors' state: ``state``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..common import render_service_fields, service_state, service_updated_at
from ..http import ApiError, Request, Response, jresp, next_link, paginate, truthy

if TYPE_CHECKING:
    from ..app import App
    from ..store import Index, State

# -- rendering ----------------------------------------------------------------------------------------

def hypervisor_usage(st: State, h: dict, ix: Index) -> dict:
    """Usage figures of a hypervisor, from its servers unless it sets them."""
    servers = ix.servers_by_node.get(h["hypervisor_hostname"], ())
    vcpus_used = sum((s.get("flavor") or {}).get("vcpus") or 0 for s in servers)
    ram_used = 512 + sum((s.get("flavor") or {}).get("ram") or 0 for s in servers)
    disk_used = sum((s.get("flavor") or {}).get("disk") or 0 for s in servers)
    u = {
        "vcpus_used": h.get("vcpus_used", vcpus_used),
        "memory_mb_used": h.get("memory_mb_used", ram_used),
        "local_gb_used": h.get("local_gb_used", disk_used),
        "running_vms": h.get("running_vms", len(servers)),
    }
    u["free_ram_mb"] = h.get("free_ram_mb", (h.get("memory_mb") or 0) - u["memory_mb_used"])
    u["free_disk_gb"] = h.get("free_disk_gb", (h.get("local_gb") or 0) - u["local_gb_used"])
    u["disk_available_least"] = h.get("disk_available_least", u["free_disk_gb"])
    u["current_workload"] = h.get("current_workload", 0)
    return u

def render_hypervisor(
    st: State, h: dict, mv: tuple[int, int], detail: bool, ix: Index, with_servers: bool = False
) -> dict:
    """A hypervisor as Nova shows it at microversion ``mv``."""
    host = (h.get("service") or {}).get("host")
    svc = ix.svc_by_host.get(host)
    if svc is not None:
        state = service_state(svc, st)
        status = svc.get("status", "enabled")
        reason = svc.get("disabled_reason")
    else:
        state, status, reason = (
            h.get("_state", "down"),
            h.get("_status", "enabled"),
            h.get("_disabled_reason"),
        )
    uuids = mv >= (2, 53)
    out: dict[str, Any] = {
        "id": h["id"] if uuids else h["_int_id"],
        "hypervisor_hostname": h["hypervisor_hostname"],
        "state": state,
        "status": status,
    }
    if detail:
        out.update(
            {
                "hypervisor_type": h.get("hypervisor_type"),
                "hypervisor_version": h.get("hypervisor_version"),
                "host_ip": h.get("host_ip"),
                "service": {
                    "host": host,
                    "id": (svc["id"] if uuids else svc["_int_id"]) if svc else None,
                    "disabled_reason": reason,
                },
            }
        )
        if mv < (2, 88):
            out.update(
                {"vcpus": h.get("vcpus"), "memory_mb": h.get("memory_mb"), "local_gb": h.get("local_gb")}
            )
            out.update(hypervisor_usage(st, h, ix))
            cpu = h.get("cpu_info", "")
            if mv >= (2, 28):
                cpu = json.loads(cpu) if isinstance(cpu, str) and cpu else (cpu or {})
            out["cpu_info"] = cpu
        else:
            out["uptime"] = h.get("uptime")
    if with_servers and mv >= (2, 53):
        out["servers"] = [
            {"name": s.get("OS-EXT-SRV-ATTR:instance_name"), "uuid": s["id"]}
            for s in ix.servers_by_node.get(h["hypervisor_hostname"], ())
        ]
    return out

def render_compute_service(st: State, s: dict, mv: tuple[int, int]) -> dict:
    """A compute service as Nova shows it at microversion ``mv``."""
    out = {"id": s["id"] if mv >= (2, 53) else s["_int_id"], **render_service_fields(s, st)}
    if mv >= (2, 11):
        out["forced_down"] = bool(s.get("forced_down"))
    return out

# -- API ----------------------------------------------------------------------------------------------

def hypervisors_api(app: App, req: Request, rest: list, mv: tuple[int, int]) -> Response:
    """``/os-hypervisors[/detail|/statistics|/{id}|/{pattern}/search|servers]``."""
    st = app.state
    uuids = mv >= (2, 53)
    with st.lock:
        ix = st.index()
        hvs = list(st.objects["hypervisors"].values())
        if rest == ["statistics"]:
            if mv >= (2, 88):
                raise ApiError(404, "The resource could not be found.")
            tot: dict[str, int] = {"count": len(hvs)}
            for h in hvs:
                u = hypervisor_usage(st, h, ix)
                for k in ("vcpus", "memory_mb", "local_gb"):
                    tot[k] = tot.get(k, 0) + (h.get(k) or 0)
                for k in (
                    "vcpus_used",
                    "memory_mb_used",
                    "local_gb_used",
                    "free_ram_mb",
                    "free_disk_gb",
                    "current_workload",
                    "running_vms",
                    "disk_available_least",
                ):
                    tot[k] = tot.get(k, 0) + (u.get(k) or 0)
            return jresp(200, {"hypervisor_statistics": tot})
        if len(rest) == 2 and rest[1] in ("search", "servers") and not uuids:
            found = [h for h in hvs if rest[0] in h["hypervisor_hostname"]]
            if not found:
                raise ApiError(404, f"No hypervisor matching '{rest[0]}' could be found.")
            return jresp(
                200,
                {
                    "hypervisors": [
                        render_hypervisor(st, h, mv, False, ix, rest[1] == "servers") for h in found
                    ]
                },
            )
        if len(rest) == 1 and rest[0] != "detail":
            hid = rest[0]
            h = next((h for h in hvs if str(h["id"] if uuids else h["_int_id"]) == hid), None)
            if h is None:
                raise ApiError(
                    404 if uuids or hid.isdigit() else 400,
                    f"Hypervisor with ID {hid} could not be found.",
                )
            return jresp(
                200, {"hypervisor": render_hypervisor(st, h, mv, True, ix, truthy(req.q("with_servers")))}
            )
        if len(rest) > 1:
            raise ApiError(404, "The resource could not be found.")
        detail = rest == ["detail"]
        with_servers = uuids and truthy(req.q("with_servers"))
        pattern = req.q("hypervisor_hostname_pattern") if uuids else None
        if pattern:
            hvs = [h for h in hvs if pattern in h["hypervisor_hostname"]]
        links = None
        if mv >= (2, 33) and not pattern:
            limit = app.limit(req)
            keyed = [dict(h, _key=h["id"] if uuids else h["_int_id"]) for h in hvs]
            page = paginate(keyed, "_key", req.q("marker"), limit)
            if limit and len(page) == limit:
                links = next_link(req, limit, page[-1]["_key"])
            hvs = [st.objects["hypervisors"][h["id"]] for h in page]
        body: dict[str, Any] = {
            "hypervisors": [render_hypervisor(st, h, mv, detail, ix, with_servers) for h in hvs]
        }
    if links:
        body["hypervisors_links"] = links
    return jresp(200, body)

def list_services(app: App, req: Request, mv: tuple[int, int]) -> Response:
    """``/os-services``."""
    st = app.state
    with st.lock:
        items = [render_compute_service(st, s, mv) for s in st.objects["compute_services"].values()]
    for k in ("binary", "host"):
        if req.q(k):
            items = [s for s in items if s.get(k) == req.q(k)]
    return jresp(200, {"services": items})

def list_azs(app: App, req: Request, detail: bool) -> Response:
    """``/os-availability-zone[/detail]``."""
    st = app.state
    with st.lock:
        svcs = list(st.objects["compute_services"].values())
        zones: dict[str, dict] = {}
        for s in svcs:
            if not detail and s.get("zone") == "internal":
                continue
            z = zones.setdefault(
                s.get("zone"),
                {
                    "zoneName": s.get("zone"),
                    "zoneState": {"available": False},
                    "hosts": {} if detail else None,
                },
            )
            up = service_state(s, st) == "up" and s.get("status") == "enabled"
            if s.get("binary") == "nova-compute" and up or s.get("zone") == "internal":
                z["zoneState"]["available"] = True
            if detail:
                z["hosts"].setdefault(s.get("host"), {})[s.get("binary")] = {
                    "available": up,
                    "active": s.get("status") == "enabled",
                    "updated_at": service_updated_at(s, st=st),
                }
    return jresp(200, {"availabilityZoneInfo": list(zones.values())})

# -- Cinder ----------------------------------------------------------------------------------
