"""Services of the cloud host with an object of their own: datastores (the vSphere layer) and the TLS
certificates of the catalog's endpoints (topology_certificates.py).

IcingaLook (objects.py) calls these with itself and makes the Node of what they return (the node's fields,
its check as (command, args), and the fields of its URLs), as for objects_lb.py: no import of objects.py.
"""

from __future__ import annotations

from typing import Any

from vio_checks import topology as t


def certificate(look: Any, c: Any) -> tuple[dict[str, Any], dict[str, str | None]]:
    """An endpoint's TLS certificate (host:port): a service of the cloud host, with no dependents."""
    v = {**look.base_vars(t.CERTIFICATE, c.name), "vio_name": c.name, "vio_services": list(c.services)}
    group = look.service_group("certificates", f"{look.label}: TLS certificates of the catalog endpoints")
    node = dict(kind=t.CERTIFICATE, host=look.prefix, service=f"certificate-{c.host}-{c.port}",
                display_name=f"certificate {c.name}", object_id=c.name,
                check=("vio_certificate", (("--name", c.name),)), vars=v, groups=(group,))
    return node, {"id": c.name, "name": c.name}


def datastore(look: Any, ds: Any) -> tuple[dict[str, Any], dict[str, str | None]]:
    """A datastore (vSphere layer): a service of the cloud host, the parent of the volumes on it."""
    v = look.base_vars(t.DATASTORE, ds.moref)
    v.update(vio_name=ds.name, vio_datastore_type=ds.type)
    node = dict(kind=t.DATASTORE, host=look.prefix, service=f"datastore-{ds.moref}",
                display_name=f"datastore {ds.name}", object_id=ds.moref,
                check=("vio_datastore", (("--id", ds.moref),)), vars=v,
                groups=(look.kind_groups["datastores"],))
    return node, {"id": ds.moref, "name": ds.name}
