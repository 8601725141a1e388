"""How the generated objects show the cloud's objects to people: a hypervisor's cluster and compute host,
and the address a host gets (a VM's floating else first fixed IP), so users' own apply rules reach it."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from vio_checks.model import Server

_NOVA_HV_NAME = re.compile(r"^(?P<moref>domain-c\d+)\.[0-9a-f-]{36}$")


def cluster_moref(hostname: str | None) -> str | None:
    """The short cluster id every output prints, `domain-c8`, from Nova's `domain-c8.<vCenter uuid>`."""
    m = _NOVA_HV_NAME.match(hostname or "")
    return m.group("moref") if m else None


def hypervisor_display(hv: Any) -> str:
    """A hypervisor as a person reads it in a list: its cluster (name, or moref without the vCenter uuid
    Nova appends) and its compute host: `Cluster-B (vio-compute-02)`, `domain-c8 (vio-compute-01)`."""
    cluster = hv.cluster_name or cluster_moref(hv.hostname) or hv.hostname
    return f"{cluster} ({hv.service_host})" if hv.service_host and hv.service_host != cluster else cluster


def ip_address(text: str | None) -> str | None:
    """The text when it is an IP address (what `address` may hold), else None."""
    try:
        return str(ipaddress.ip_address(str(text).strip())) if text else None
    except ValueError:
        return None


def vm_address(server: Server) -> str | None:
    """The floating IP, else the first fixed IP, so users' own apply rules (ping, ssh) reach the VM."""
    for addr in (*server.floating_ips, *server.fixed_ips):
        if ip_address(addr):
            return ip_address(addr)
    return None
