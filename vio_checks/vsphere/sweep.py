"""The vCenter sweep: a handful of SOAP calls whatever the inventory's size.

Login (RetrieveServiceContent, Login), one ContainerView over clusters, hosts, VMs and datastores, one
PropertyCollector RetrievePropertiesEx of only `normalize.PROPERTIES` (plus one ContinueRetrievePropertiesEx
per further page of `page` objects), DestroyView, Logout; and one more retrieval for the names of triggered
alarms, only when there are some. Never a call per object.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from vio_checks.vsphere import VSphereError
from vio_checks.vsphere.connect import Credentials, VCenterSession, soap_stub
from vio_checks.vsphere.normalize import PROPERTIES, RawObject, Ref, inventory
from vio_checks.vsphere.records import VSphereInventory

#: Objects per RetrievePropertiesEx page: large enough that a big vCenter takes a few pages.
PAGE = 5000
#: The types the ContainerView holds (the root folder is added apart, for its alarms).
VIEW_TYPES = ("ClusterComputeResource", "HostSystem", "VirtualMachine", "Datastore")


def plain(v: Any) -> Any:
    """A pyVmomi value as plain Python: Ref, dict of set properties, list, str/bool/int/float/datetime."""
    from pyVmomi import VmomiSupport

    if v is None or isinstance(v, bool | int | float | datetime):
        return v
    if isinstance(v, str):
        return str(v)  # enumeration values are str subclasses
    if isinstance(v, VmomiSupport.ManagedObject):
        return Ref(type(v)._wsdlName, v._moId)
    if isinstance(v, VmomiSupport.DataObject):
        out = {}
        for prop in v._GetPropertyList():
            value = getattr(v, prop.name, None)
            if value is not None:
                out[prop.name] = plain(value)
        return out
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return str(v)


def _raw(content: Any) -> RawObject:
    obj = content.obj
    props = {p.name: plain(p.val) for p in content.propSet or ()}
    missing = tuple(m.path for m in content.missingSet or ())
    return RawObject(type(obj)._wsdlName, obj._moId, props, missing)


class _Deadline:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def check(self, what: str) -> None:
        if time.monotonic() > self.deadline:
            raise VSphereError(f"vCenter sweep ran out of time before {what}")


def retrieve(session: VCenterSession, deadline: float, page: int = PAGE) -> list[RawObject]:
    """Every object of VIEW_TYPES (and the root folder) with only the properties of PROPERTIES."""
    from pyVmomi import vim, vmodl

    pc = vmodl.query.PropertyCollector
    content = session.content
    clock = _Deadline(deadline)
    view = content.viewManager.CreateContainerView(
        content.rootFolder, [getattr(vim, t) for t in VIEW_TYPES], True
    )
    try:
        spec = pc.FilterSpec(
            objectSet=[
                pc.ObjectSpec(obj=view, skip=True, selectSet=[
                    pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
                ]),
                pc.ObjectSpec(obj=content.rootFolder, skip=False),
            ],
            propSet=[pc.PropertySpec(type=getattr(vim, t), pathSet=list(paths))
                     for t, paths in PROPERTIES.items()],
        )
        collector = content.propertyCollector
        clock.check("retrieving properties")
        result = collector.RetrievePropertiesEx([spec], pc.RetrieveOptions(maxObjects=page))
        out: list[RawObject] = []
        while result is not None:
            out.extend(_raw(c) for c in result.objects or ())
            if not result.token:
                break
            if time.monotonic() > deadline:
                collector.CancelRetrievePropertiesEx(result.token)
                clock.check("the last page of properties")
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return out
    finally:
        try:
            view.DestroyView()
        except Exception:  # the session ends soon anyway
            pass


def alarm_names(session: VCenterSession, objects: list[RawObject]) -> dict[str, str]:
    """Names of the triggered alarms' definitions, in one retrieval ({} when none or when it fails)."""
    from pyVmomi import vim, vmodl

    morefs = sorted({
        s["alarm"].value for o in objects for s in o.props.get("triggeredAlarmState") or ()
        if isinstance(s, dict) and isinstance(s.get("alarm"), Ref)
    })
    if not morefs:
        return {}
    pc = vmodl.query.PropertyCollector
    stub = soap_stub(session.si)
    spec = pc.FilterSpec(
        objectSet=[pc.ObjectSpec(obj=vim.alarm.Alarm(m, stub), skip=False) for m in morefs],
        propSet=[pc.PropertySpec(type=vim.alarm.Alarm, pathSet=["info.name"])],
    )
    try:
        result = session.content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
    except Exception:  # an alarm deleted meanwhile fails the whole call: names are a nicety
        return {}
    names = {}
    for c in (result.objects if result is not None else None) or ():
        for p in c.propSet or ():
            if p.name == "info.name" and p.val:
                names[c.obj._moId] = str(p.val)
    return names


def collect(credentials: Credentials, budget: float, page: int = PAGE) -> VSphereInventory:
    """Log in, sweep and log out within `budget` seconds: the VSphereInventory, or VSphereError (one line;
    "timed out after N s waiting for vCenter HOST (step)" when vCenter did not answer in time)."""
    start_wall, start = time.time(), time.monotonic()
    deadline = start + budget
    session = VCenterSession(credentials, deadline)
    session.open()
    try:
        about = plain(session.content.about) or {}
        objects = retrieve(session, deadline, page)
        names = alarm_names(session, objects) if time.monotonic() < deadline else {}
    except Exception as e:
        raise session.failure(e, "sweep failed") from None
    finally:
        session.close()
    return inventory(about, objects, fetched_at=start_wall, seconds=time.monotonic() - start,
                     requests=session.calls, alarm_names=names)
