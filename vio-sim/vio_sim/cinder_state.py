"""Cinder v3's state: volume services and volumes (ingest and defaults); no HTTP (cinder.py serves them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import FMT_US, Kind, SimError, det_uuid, fill_service, fmt_time, ingest_service, to_epoch

if TYPE_CHECKING:
    from .store import State


VOLUME_STATUSES = (
    "creating", "available", "reserved", "attaching", "detaching", "in-use", "maintenance", "deleting",
    "awaiting-transfer", "error", "error_deleting", "backing-up", "restoring-backup", "error_backing-up",
    "error_restoring", "error_extending", "downloading", "uploading", "retyping", "extending",
)


def fill_volume_services(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new volume service."""
    fill_service(st, o, new, "cinder-volume", "nova")


def ingest_volumes(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming volume."""
    if "project" in c:
        c["os-vol-tenant-attr:tenant_id"] = c.pop("project")
    if "project_id" in c:
        c["os-vol-tenant-attr:tenant_id"] = c.pop("project_id")
    if "os-vol-tenant-attr:tenant_id" in c:
        c["os-vol-tenant-attr:tenant_id"] = st.ref("projects", c["os-vol-tenant-attr:tenant_id"])
    if "host" in c:
        c["os-vol-host-attr:host"] = c.pop("host")
    if "bootable" in c and isinstance(c["bootable"], bool):
        c["bootable"] = "true" if c["bootable"] else "false"
    if "attached_to" in c:
        at = c.pop("attached_to")
        at = [] if at is None else (at if isinstance(at, list) else [at])
        c["attachments"] = [{"server_id": s} for s in at]
    if "status" in c and c["status"] not in VOLUME_STATUSES:
        raise SimError(400, f"unknown volume status {c['status']!r}")
    if "attachments" in c:
        c["attachments"] = list(c["attachments"] or [])
        c["_attachments_dirty"] = True
    return c


def fill_volumes(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new volume; its attachments completed."""
    if new:
        o.setdefault("name", f"volume-{st.seq}")
        o.setdefault("attachments", [])
        o.setdefault("status", "in-use" if o["attachments"] else "available")
        o.setdefault("size", 10)
        if not o.get("os-vol-host-attr:host"):
            cv = next(
                (
                    s
                    for s in st.objects["volume_services"].values()
                    if s.get("binary") == "cinder-volume"
                ),
                None,
            )
            o["os-vol-host-attr:host"] = f"{cv['host']}#vmdk" if cv else "vio-controller-01@vmdk#vmdk"
        if not o.get("os-vol-tenant-attr:tenant_id"):
            o["os-vol-tenant-attr:tenant_id"] = st.default_project()
        o.setdefault("user_id", (st.admin_user() or {}).get("id"))
        o.setdefault("volume_type", "vmdk")
        o.setdefault("bootable", "false")
        o.setdefault("availability_zone", "nova")
        o.setdefault("description", None)
        o.setdefault("metadata", {})
        o.setdefault("multiattach", False)
        o.setdefault("encrypted", False)
        o.setdefault("replication_status", None)
        o.setdefault("snapshot_id", None)
        o.setdefault("source_volid", None)
        o.setdefault("consistencygroup_id", None)
        o.setdefault("os-vol-mig-status-attr:migstat", None)
        o.setdefault("os-vol-mig-status-attr:name_id", None)
        o.setdefault("created_at", fmt_time(now - 20 * 86400, FMT_US))
        o.setdefault("updated_at", o["created_at"])
    if o.get("id") is None:
        o["id"] = det_uuid("volumes", o.get("name") or f"#{st.seq}")
    if o.pop("_attachments_dirty", False) or new:
        atts = []
        for a in o.get("attachments") or ():
            a = dict(a) if isinstance(a, dict) else {"server_id": a}
            a["server_id"] = st.ref("servers", a.get("server_id"))
            a.setdefault("attachment_id", det_uuid("attachments", o["id"], a["server_id"]))
            a["volume_id"] = o["id"]
            a["id"] = o["id"]
            a.setdefault("device", f"/dev/sd{'bcdefghijklmnop'[len(atts) % 15]}")
            server = st.objects["servers"].get(a["server_id"])
            a.setdefault("host_name", server.get("OS-EXT-SRV-ATTR:host") if server else None)
            a["attached_at"] = fmt_time(
                to_epoch(a.get("attached_at") or o.get("created_at"), now), FMT_US
            )
            atts.append(a)
        o["attachments"] = atts


KINDS = (
    Kind("volume_services", ingest=ingest_service, fill=fill_volume_services, int_id=True,
         times={"updated_at": FMT_US}),
    Kind("volumes", ingest=ingest_volumes, fill=fill_volumes, updated="updated_at",
         times={"created_at": FMT_US, "updated_at": FMT_US}),
)
