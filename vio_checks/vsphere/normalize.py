"""Raw PropertyCollector results → `records` (pure: no pyVmomi, no I/O).

`sweep` turns pyVmomi's objects into plain values first: a managed object reference becomes a `Ref`, a data
object a dict of its set properties, an enumeration its string, a list a list. So this module is tested with
hand-written raw objects as well as against the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from vio_checks.vsphere.records import (
    Alarm,
    Cluster,
    Datastore,
    EsxHost,
    Mount,
    VCenter,
    VSphereInventory,
    VsVm,
)


class Ref(NamedTuple):
    """A managed object reference: vSphere type name and moref."""

    type: str
    value: str


class RawObject(NamedTuple):
    """One ObjectContent: the object's type and moref, the properties returned, the ones reported missing."""

    type: str
    moref: str
    props: Mapping[str, Any]
    missing: tuple[str, ...] = ()


#: Property paths retrieved per vSphere type: the whole cost of the sweep is these.
PROPERTIES: dict[str, tuple[str, ...]] = {
    "ClusterComputeResource": ("name", "overallStatus", "triggeredAlarmState"),
    "HostSystem": ("name", "parent", "runtime.connectionState", "runtime.powerState",
                   "runtime.inMaintenanceMode", "overallStatus", "triggeredAlarmState"),
    # `datastore`: where a Cinder volume's shadow VM keeps its VMDK (the join's volume → datastore)
    "VirtualMachine": ("name", "config.instanceUuid", "runtime.host", "runtime.powerState", "datastore"),
    "Datastore": ("name", "summary.type", "summary.accessible", "summary.capacity", "summary.freeSpace",
                  "host", "triggeredAlarmState"),
    # the root folder only for its triggered alarms, which in vCenter include every descendant's
    "Folder": ("triggeredAlarmState",),
}

#: Properties a record cannot be judged without (named in its `missing` when absent).
_NEEDED: dict[str, tuple[str, ...]] = {
    "ClusterComputeResource": ("overallStatus",),
    "HostSystem": ("runtime.connectionState", "runtime.powerState", "runtime.inMaintenanceMode",
                   "overallStatus"),
    "VirtualMachine": ("config.instanceUuid", "runtime.host", "runtime.powerState"),
    "Datastore": ("summary.accessible", "summary.capacity", "summary.freeSpace"),
}


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _int(v: Any) -> int | None:
    return None if v is None or isinstance(v, bool) else int(v)


def _bool(v: Any) -> bool | None:
    return None if v is None else bool(v)


def _ref_value(v: Any, type_: str | None = None) -> str | None:
    """The moref of a Ref (of the given type when one is given), else None."""
    if isinstance(v, Ref) and (type_ is None or v.type == type_):
        return v.value
    return None


def _epoch(v: Any) -> float | None:
    if isinstance(v, datetime):
        return v.timestamp()
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _missing(o: RawObject) -> tuple[str, ...]:
    """The needed properties vCenter did not give (absent, null, or in the missing set)."""
    return tuple(p for p in _NEEDED.get(o.type, ()) if o.props.get(p) is None or p in o.missing)


def cluster(o: RawObject) -> Cluster:
    """A Cluster record from a ClusterComputeResource."""
    p = o.props
    return Cluster(o.moref, _text(p.get("name")) or o.moref, _text(p.get("overallStatus")), _missing(o))


def host(o: RawObject) -> EsxHost:
    """An EsxHost record from a HostSystem; its parent is a cluster, or a ComputeResource when standalone."""
    p = o.props
    return EsxHost(
        o.moref, _text(p.get("name")) or o.moref,
        cluster=_ref_value(p.get("parent"), "ClusterComputeResource"),
        connection_state=_text(p.get("runtime.connectionState")),
        power_state=_text(p.get("runtime.powerState")),
        maintenance=_bool(p.get("runtime.inMaintenanceMode")),
        overall_status=_text(p.get("overallStatus")),
        missing=_missing(o),
    )


def vm(o: RawObject) -> VsVm:
    """A VsVm record; an instance UUID is lower-cased, as Nova writes server ids."""
    p = o.props
    uuid = p.get("config.instanceUuid")
    return VsVm(
        o.moref, _text(p.get("name")) or o.moref,
        instance_uuid=str(uuid).lower() if uuid else None,
        host=_ref_value(p.get("runtime.host"), "HostSystem"),
        power_state=_text(p.get("runtime.powerState")),
        missing=_missing(o),
        datastores=sorted({d for d in (_ref_value(r, "Datastore") for r in p.get("datastore") or ()) if d}),
    )


def datastore(o: RawObject) -> Datastore:
    """A Datastore record with its host mounts."""
    p = o.props
    mounts = []
    for m in p.get("host") or ():
        ref = _ref_value(m.get("key"), "HostSystem") if isinstance(m, Mapping) else None
        if ref is None:
            continue
        info = m.get("mountInfo") or {}
        mounts.append(Mount(ref, _bool(info.get("mounted")), _bool(info.get("accessible"))))
    return Datastore(
        o.moref, _text(p.get("name")) or o.moref,
        type=_text(p.get("summary.type")),
        accessible=_bool(p.get("summary.accessible")),
        capacity=_int(p.get("summary.capacity")),
        free=_int(p.get("summary.freeSpace")),
        mounts=mounts,
        missing=_missing(o),
    )


def alarms(objects: Iterable[RawObject], names: Mapping[str, str] | None = None) -> list[Alarm]:
    """Every triggered alarm once: vCenter repeats a descendant's alarm on each ancestor."""
    names = names or {}
    seen: dict[tuple[str, str, str], Alarm] = {}
    for o in objects:
        for s in o.props.get("triggeredAlarmState") or ():
            if not isinstance(s, Mapping):
                continue
            entity, alarm = s.get("entity"), s.get("alarm")
            if not isinstance(entity, Ref) or not isinstance(alarm, Ref):
                continue
            key = (entity.type, entity.value, alarm.value)
            if key in seen:
                continue
            seen[key] = Alarm(
                key=_text(s.get("key")) or f"{alarm.value}.{entity.value}",
                entity_type=entity.type, entity=entity.value, alarm=alarm.value,
                name=names.get(alarm.value, ""), status=_text(s.get("overallStatus")),
                time=_epoch(s.get("time")), acknowledged=bool(s.get("acknowledged")),
            )
    return list(seen.values())


def inventory(about: Mapping[str, Any], objects: Iterable[RawObject], fetched_at: float, seconds: float = 0.0,
              requests: int = 0, alarm_names: Mapping[str, str] | None = None) -> VSphereInventory:
    """The whole VSphereInventory from vCenter's `about` and the retrieved objects (any order)."""
    objects = list(objects)
    by_type: dict[str, list[RawObject]] = {}
    for o in objects:
        by_type.setdefault(o.type, []).append(o)
    return VSphereInventory(
        VCenter(
            instance_uuid=_text(about.get("instanceUuid")).lower(),
            name=_text(about.get("fullName")), version=_text(about.get("version")),
            build=_text(about.get("build")), api_version=_text(about.get("apiVersion")),
        ),
        fetched_at=fetched_at, seconds=seconds, requests=requests,
        clusters=[cluster(o) for o in by_type.get("ClusterComputeResource", ())],
        hosts=[host(o) for o in by_type.get("HostSystem", ())],
        vms=[vm(o) for o in by_type.get("VirtualMachine", ())],
        datastores=[datastore(o) for o in by_type.get("Datastore", ())],
        alarms=alarms(objects, alarm_names),
    )
