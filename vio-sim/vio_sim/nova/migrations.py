"""Nova migrations: the admin API's ``migrate`` action and ``/os-migrations`` (their state: ``state``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..common import SimError, to_epoch
from ..http import Request, Response, jresp, next_link, paginate
from .servers import time_param

if TYPE_CHECKING:
    from ..app import App
    from ..store import State


# -- derived fields / renderers ----------------------------------------------------------------

def render_migration(st: State, m: dict, mv: tuple[int, int], base: str) -> dict:
    """A migration as Nova shows it at microversion ``mv``."""
    out = {
        k: m.get(k)
        for k in (
            "id",
            "instance_uuid",
            "status",
            "source_compute",
            "dest_compute",
            "source_node",
            "dest_node",
            "dest_host",
            "source_region",
            "dest_region",
            "created_at",
            "updated_at",
            "old_instance_type_id",
            "new_instance_type_id",
        )
    }
    if mv >= (2, 23):
        out["migration_type"] = m.get("migration_type")
        if m.get("migration_type") == "live-migration" and m.get("status") in (
            "queued",
            "preparing",
            "running",
            "post-migrating",
        ):
            out["links"] = [
                {
                    "rel": "self",
                    "href": f"{base}/compute/v2.1/servers/{m['instance_uuid']}/migrations/{m['id']}",
                },
                {
                    "rel": "bookmark",
                    "href": f"{base}/compute/servers/{m['instance_uuid']}/migrations/{m['id']}",
                },
            ]
    if mv >= (2, 59):
        out["uuid"] = m.get("uuid")
    if mv >= (2, 80):
        out["project_id"] = m.get("project_id")
        out["user_id"] = m.get("user_id")
    return out

def migrate(st: State, server_ref: Any, to: str, mtype: str = "live-migration", status: str = "completed",
            **extra: Any) -> dict:
    """Move a server (on success) and record a migration row."""
    with st.lock:
        s = st.get("servers", server_ref)
        if not to:
            raise SimError(400, "'to' (a compute host or hypervisor hostname) is required")
        if mtype not in ("live-migration", "migration", "resize", "evacuation"):
            raise SimError(400, f"bad migration type {mtype!r}")
        dest_host, dest_node = st.resolve_host(to)
        now = time.time()
        row = {
            "instance_uuid": s["id"], "migration_type": mtype, "status": status,
            "source_compute": s.get("OS-EXT-SRV-ATTR:host"),
            "source_node": s.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
            "dest_compute": dest_host, "dest_node": dest_node,
            "created_at": extra.pop("created_at", now - 30), "updated_at": extra.pop("updated_at", now),
        }
        row.update(extra)
        mig = st.put("migrations", row, None, now)
        if status in ("completed", "confirmed", "finished", "done"):
            changes: dict[str, Any] = {"OS-EXT-SRV-ATTR:host": dest_host,
                                       "OS-EXT-SRV-ATTR:hypervisor_hostname": dest_node}
            if s.get("OS-EXT-STS:task_state") in ("migrating", "resize_migrating", "resize_migrated"):
                changes["OS-EXT-STS:task_state"] = None
            if s.get("status") in ("MIGRATING", "RESIZE"):
                changes["status"] = "VERIFY_RESIZE" if mtype in ("resize", "migration") else "ACTIVE"
            st.put("servers", changes, s, now)
            ix = st.index()
            for p in list(ix.ports_by_device.get(s["id"], ())):
                if p.get("binding:host_id"):
                    st.put("ports", {"binding:host_id": dest_host}, p, now)
            for v in list(ix.vols_by_server.get(s["id"], ())):
                atts = [dict(a, host_name=dest_host) if a.get("server_id") == s["id"] else a
                        for a in v.get("attachments") or ()]
                st.put("volumes", {"attachments": atts}, v, now)
        return mig

# -- the ingest pipeline -----------------------------------------------------------------------

def list_migrations(app: App, req: Request, mv: tuple[int, int]) -> Response:
    """``/os-migrations`` with its filters (and paging from 2.59)."""
    st = app.state
    with st.lock:
        items = list(st.objects["migrations"].values())
    items = [m for m in items if not m.get("hidden")]
    for k in ("status", "source_compute", "instance_uuid", "migration_type"):
        if req.q(k):
            items = [m for m in items if str(m.get(k)) == req.q(k)]
    if req.q("host"):
        items = [m for m in items if req.q("host") in (m.get("source_compute"), m.get("dest_compute"))]
    if mv >= (2, 59) and req.q("changes-since"):
        since = time_param(app, req, "changes-since")
        items = [m for m in items if (to_epoch(m.get("updated_at")) or 0) >= since]
    if mv >= (2, 66) and req.q("changes-before"):
        before = time_param(app, req, "changes-before")
        items = [m for m in items if (to_epoch(m.get("updated_at")) or 0) <= before]
    if mv >= (2, 80):
        for k in ("project_id", "user_id"):
            if req.q(k):
                items = [m for m in items if m.get(k) == req.q(k)]
    links = None
    if mv >= (2, 59):
        items.sort(key=lambda m: (to_epoch(m.get("created_at")) or 0, m.get("id") or 0), reverse=True)
        limit = app.limit(req)
        items = paginate(items, "uuid", req.q("marker"), limit)
        if limit and len(items) == limit:
            links = next_link(req, limit, items[-1]["uuid"])
    body: dict[str, Any] = {"migrations": [render_migration(st, m, mv, req.base) for m in items]}
    if links:
        body["migrations_links"] = links
    return jresp(200, body)
