"""Glance images and Heat stacks: their state (ingest and defaults), no HTTP (glance_heat.py serves them).

Scenario keys::

    "images": [{"name": "cirros", "status": "active", "project": "admin", "visibility": "public"}],
    "stacks": [{"name": "shop", "project": "webshop", "status": "CREATE_FAILED",
                "status_reason": "Resource CREATE failed: ..."}]

Shorthands: ``project`` (an image's ``owner``, a stack's ``project``), a stack's ``name``/``status``/
``status_reason`` (``stack_name``, ``stack_status``, ``stack_status_reason``). A status Glance or Heat does
not document is refused (400): the fault API's ``replace_fields`` stages one in a reply instead.

Whether the region's catalog lists the services: the settings ``glance`` and ``heat`` (true, false;
default: when the region has images, respectively stacks: vio_sim.keystone_state.in_catalog, the rule
Octavia's setting follows too). The built-in scenario ``optional`` has both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import FMT_Z, Kind, SimError, det_uuid, expand, fmt_time

if TYPE_CHECKING:
    from .store import State

IMAGE_STATUSES = ("queued", "saving", "uploading", "importing", "active", "killed", "deactivated",
                  "pending_delete", "deleted")
STACK_ACTIONS = ("INIT", "CREATE", "DELETE", "UPDATE", "ROLLBACK", "SUSPEND", "RESUME", "ADOPT", "SNAPSHOT",
                 "CHECK", "RESTORE")
STACK_STATUSES = tuple(f"{a}_{s}" for a in STACK_ACTIONS for s in ("IN_PROGRESS", "FAILED", "COMPLETE"))
#: The settings that put each service in the catalog, and its catalog entry (type, name, path).
CATALOG = {"glance": ("image", "glance", "/image"),
           "heat": ("orchestration", "heat", "/orchestration/v1/{project}")}


def ingest_images(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming image."""
    expand(c, (("project", "owner"),))
    if "owner" in c:
        c["owner"] = st.ref("projects", c["owner"])
    if "status" in c and c["status"] not in IMAGE_STATUSES:
        raise SimError(400, f"unknown image status {c['status']!r}")
    return c


def fill_images(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new image."""
    if not new:
        return
    o.setdefault("name", f"image-{st.seq}")
    o.setdefault("status", "active")
    o.setdefault("visibility", "public")
    if not o.get("owner"):
        o["owner"] = st.admin_project()
    o.setdefault("created_at", fmt_time(now - 30 * 86400, FMT_Z))
    o.setdefault("updated_at", o["created_at"])
    o.setdefault("disk_format", "vmdk")
    o.setdefault("container_format", "bare")
    o.setdefault("protected", False)
    o.setdefault("tags", [])
    active = o["status"] in ("active", "deactivated")
    o.setdefault("size", 1073741824 if active else None)
    o.setdefault("checksum", det_uuid("checksum", o["name"]).replace("-", "") if active else None)


def ingest_stacks(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming stack."""
    expand(c, (("name", "stack_name"), ("status", "stack_status"), ("status_reason", "stack_status_reason")))
    if "project" in c:
        c["project"] = st.ref("projects", c["project"])
    if "stack_status" in c and c["stack_status"] not in STACK_STATUSES:
        raise SimError(400, f"unknown stack status {c['stack_status']!r}")
    return c


def fill_stacks(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new stack; its id from its name (Heat's names are unique per project)."""
    if new:
        o.setdefault("stack_name", f"stack-{st.seq}")
        o.setdefault("stack_status", "CREATE_COMPLETE")
        o.setdefault("stack_status_reason", "Stack CREATE completed successfully")
        if not o.get("project"):
            o["project"] = st.default_project()
        o.setdefault("creation_time", fmt_time(now - 7 * 86400, FMT_Z))
        o.setdefault("updated_time", None)
        o.setdefault("deletion_time", None)
        o.setdefault("description", "")
        o.setdefault("tags", None)
        o.setdefault("parent", None)
        o.setdefault("stack_owner", None)
    if o.get("id") is None:
        o["id"] = det_uuid("stacks", o.get("project"), o.get("stack_name"))
    o["name"] = o.get("stack_name")  # the store's name index (not rendered)


def render_stack(s: dict, base: str) -> dict:
    """A stack as Heat's list shows it to an admin with global_tenant."""
    out = {k: v for k, v in s.items() if not k.startswith("_") and k != "name"}
    out["links"] = [{"rel": "self", "href": f"{base}/orchestration/v1/{s['project']}/stacks/"
                                              f"{s['stack_name']}/{s['id']}"}]
    return out


def render_image(o: dict) -> dict:
    """An image as Glance v2 shows it."""
    out = {k: v for k, v in o.items() if not k.startswith("_")}
    out.update({"self": f"/v2/images/{o['id']}", "file": f"/v2/images/{o['id']}/file",
                "schema": "/v2/schemas/image", "os_hidden": False, "min_disk": 0, "min_ram": 0})
    return out



KINDS = (
    Kind("images", ingest=ingest_images, fill=fill_images, updated="updated_at",
         times={"created_at": FMT_Z, "updated_at": FMT_Z}),
    Kind("stacks", ingest=ingest_stacks, fill=fill_stacks, updated="updated_time",
         times={"creation_time": FMT_Z, "updated_time": FMT_Z, "deletion_time": FMT_Z}),
)
