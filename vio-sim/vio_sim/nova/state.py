"""Nova's state: flavors, compute services and hypervisors (one per vSphere cluster), servers and
migrations (ingest and defaults); no HTTP (``flavors``, ``hosts``, ``servers`` and ``migrations`` render and
serve them, ``api`` routes)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..common import (
    FMT_US,
    FMT_Z,
    Kind,
    SimError,
    det_uuid,
    expand,
    fill_service,
    fmt_time,
    ingest_service,
    to_epoch,
)
from ..services import silence_computes

if TYPE_CHECKING:
    from ..store import State


#: A pre-VIO-7 hypervisor hostname, ``domain-c8(Cluster name)``.
OLD_HV = re.compile(r"^(?P<moref>domain-c?\d+)\((?P<name>.*)\)$")


# -- flavors ------------------------------------------------------------------------------------------


def ingest_flavors(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands of an incoming flavor."""
    if "ephemeral" in c:
        c["OS-FLV-EXT-DATA:ephemeral"] = c.pop("ephemeral")
    if "is_public" in c:
        c["os-flavor-access:is_public"] = c.pop("is_public")
    return c


def fill_flavors(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new flavor."""
    if new:
        o.setdefault("name", f"flavor-{st.seq}")
        o.setdefault("vcpus", 1)
        o.setdefault("ram", 2048)
        o.setdefault("disk", 20)
        o.setdefault("OS-FLV-EXT-DATA:ephemeral", 0)
        o.setdefault("swap", "")
        o.setdefault("rxtx_factor", 1.0)
        o.setdefault("os-flavor-access:is_public", True)
        o.setdefault("OS-FLV-DISABLED:disabled", False)
        o.setdefault("description", None)
        o.setdefault("extra_specs", {})


def flavor_snapshot(st: State, ref: Any) -> dict:
    """The flavor copy a server embeds, from a flavor name/id or an inline flavor."""
    if isinstance(ref, dict):
        name = ref.get("original_name") or ref.get("name") or ref.get("id")
        f = st.find("flavors", name) if name is not None else None
        if f is None:
            return {
                "id": ref.get("id") or det_uuid("flavors", name),
                "original_name": name,
                "vcpus": ref.get("vcpus", 1),
                "ram": ref.get("ram", 2048),
                "disk": ref.get("disk", 20),
                "ephemeral": ref.get("ephemeral", 0),
                "swap": ref.get("swap", 0),
                "extra_specs": ref.get("extra_specs", {}),
            }
    else:
        f = st.find("flavors", ref)
        if f is None:
            raise SimError(400, f"unknown flavor {ref!r}")
    return {
        "id": f["id"],
        "original_name": f["name"],
        "vcpus": f["vcpus"],
        "ram": f["ram"],
        "disk": f["disk"],
        "ephemeral": f.get("OS-FLV-EXT-DATA:ephemeral", 0),
        "swap": f.get("swap") or 0,
        "extra_specs": dict(f.get("extra_specs") or {}),
    }


# -- compute services and hypervisors -----------------------------------------------------------------


def fill_compute_services(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new compute service (nova-compute in zone nova, others internal)."""
    zone = "nova" if o.get("binary", "nova-compute") == "nova-compute" else "internal"
    fill_service(st, o, new, "nova-compute", zone)
    o.setdefault("forced_down", False)


def ingest_hypervisors(st: State, c: dict, old: dict | None, now: float) -> dict:
    """The ``host`` shorthand; a patched state/status writes through to the nova-compute service."""
    if "host" in c:
        c["service"] = {"host": c.pop("host")}
    if isinstance(c.get("service"), dict):
        c["service"] = {"host": c["service"].get("host")}
    if old is not None:  # write-through of state/status to the nova-compute service
        through = {k: c.pop(k) for k in ("state", "status", "disabled_reason", "forced_down") if k in c}
        svc = compute_service(st, (old.get("service") or {}).get("host"))
        if through and svc is not None:
            st.put("compute_services", through, svc, now)
        elif through:
            c.update({"_" + k: v for k, v in through.items()})
    else:
        for k in ("state", "status", "disabled_reason"):
            if k in c:
                c["_" + k] = c.pop(k)
    return c


def compute_service(st: State, host: str | None) -> dict | None:
    """The nova-compute service on a compute host."""
    for s in st.objects["compute_services"].values():
        if s.get("binary") == "nova-compute" and s.get("host") == host:
            return s
    return None


def fill_hypervisors(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new hypervisor (one vSphere cluster)."""
    if new:
        n = len(st.objects["hypervisors"]) + 1
        o.setdefault("hypervisor_hostname", f"domain-c{6 + 2 * n}.{st.settings['vcenter_uuid']}")
        o.setdefault("service", {"host": f"vio-compute-{n:02d}"})
        o.setdefault("hypervisor_type", "VMware vCenter Server")
        o.setdefault("hypervisor_version", 7000003)
        o.setdefault("host_ip", st.settings.get("vcenter_ip"))
        o.setdefault("vcpus", 128)
        o.setdefault("memory_mb", 524288)
        o.setdefault("local_gb", 10240)
        o.setdefault("cpu_info", "")
    if o.get("id") is None:
        o["id"] = det_uuid("hypervisors", o["hypervisor_hostname"])


def after_hypervisors(st: State, o: dict, new: bool, now: float) -> None:
    """A hypervisor without a nova-compute service gets one."""
    host = (o.get("service") or {}).get("host")
    if host and compute_service(st, host) is None:
        svc: dict[str, Any] = {"binary": "nova-compute", "host": host}
        for k in ("state", "status", "disabled_reason"):
            if o.get("_" + k) is not None:
                svc[k] = o.pop("_" + k)
        st.put("compute_services", svc, None, now)


# -- servers ------------------------------------------------------------------------------------------


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


# -- migrations ---------------------------------------------------------------------------------------


def ingest_migrations(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands and references of an incoming migration."""
    expand(c, (("server", "instance_uuid"), ("type", "migration_type")))
    if "instance_uuid" in c:
        c["instance_uuid"] = st.ref("servers", c["instance_uuid"])
    for short, pre in (("from", "source"), ("to", "dest")):
        if short in c:
            host, node = st.resolve_host(c.pop(short))
            c.setdefault(f"{pre}_compute", host)
            c.setdefault(f"{pre}_node", node)
    for pre in ("source", "dest"):
        if c.get(f"{pre}_compute") and f"{pre}_node" not in c:
            c[f"{pre}_node"] = st.resolve_host(c[f"{pre}_compute"])[1]
    return c


def fill_migrations(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new migration, from its server."""
    if new:
        server = st.objects["servers"].get(o.get("instance_uuid") or "") or {}
        o.setdefault("instance_uuid", None)
        o.setdefault("migration_type", "live-migration")
        o.setdefault("status", "completed")
        o.setdefault("source_compute", server.get("OS-EXT-SRV-ATTR:host"))
        o.setdefault("source_node", server.get("OS-EXT-SRV-ATTR:hypervisor_hostname"))
        o.setdefault("dest_compute", None)
        o.setdefault("dest_node", None)
        o.setdefault("dest_host", st.settings.get("vcenter_ip") if o["dest_compute"] else None)
        o.setdefault("source_region", st.settings.get("region"))
        o.setdefault("dest_region", st.settings.get("region"))
        o.setdefault("created_at", fmt_time(now, FMT_US))
        o.setdefault("updated_at", o["created_at"])
        flavor = server.get("flavor") or {}
        o.setdefault("old_instance_type_id", flavor.get("id"))
        o.setdefault("new_instance_type_id", flavor.get("id"))
        o.setdefault("project_id", server.get("tenant_id"))
        o.setdefault("user_id", server.get("user_id"))
        o.setdefault("hidden", False)
    if o.get("uuid") is None:
        o["uuid"] = det_uuid("migrations", o["id"])


KINDS = (
    Kind("flavors", ingest=ingest_flavors, fill=fill_flavors),
    Kind("compute_services", ingest=ingest_service, fill=fill_compute_services, int_id=True,
         times={"updated_at": FMT_US}, after=lambda st, o, new, now: silence_computes(st)),
    Kind("hypervisors", ingest=ingest_hypervisors, fill=fill_hypervisors, after=after_hypervisors,
         int_id=True),
    Kind(
        "servers", ingest=ingest_servers, fill=fill_servers, updated="updated",
        times={"created": FMT_Z, "updated": FMT_Z, "OS-SRV-USG:launched_at": FMT_US,
               "OS-SRV-USG:terminated_at": FMT_US},
    ),
    Kind("migrations", ingest=ingest_migrations, fill=fill_migrations, updated="updated_at", int_id=True,
         times={"created_at": FMT_US, "updated_at": FMT_US}),
)
