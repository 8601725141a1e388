"""The Icinga object of one endpoint certificate (topology_certificates.py places it): a service of the cloud
host per catalog endpoint host:port (and vCenter), checked by check_vio_certificate --name HOST:PORT."""

from __future__ import annotations

from typing import Any

from vio_checks import topology as t
from vio_checks.icinga.objects import Check, Node, object_name


def certificate_node(look: Any, cert: Any) -> Node:
    """`certificate-<host>-<port>` on the cloud host, in the `certificates` service group (`look`: an
    IcingaLook)."""
    group = look.service_group("certificates", f"{look.label}: TLS certificates of the catalog endpoints")
    v = look.base_vars(t.CERTIFICATE, cert.name)
    v.update(vio_name=cert.name, vio_services=list(cert.services))
    service = object_name(f"certificate-{cert.host}-{cert.port}")
    node = Node(kind=t.CERTIFICATE, host=look.prefix, service=service,
                display_name=f"certificate {cert.name}", object_id=cert.name,
                check=Check("vio_certificate", (("--name", cert.name),)), vars=v, groups=(group,))
    look.urls(node, {"id": cert.name, "name": cert.name})
    return node
