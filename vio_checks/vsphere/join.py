"""Join the OpenStack inventory to one vCenter's (pure: no I/O).

Nova's VMware driver names a hypervisor `<cluster moref>.<vCenter instanceUuid>` (an older driver
`<moref>(<cluster name>)`) and gives each instance's VM `config.instanceUuid` = the server id. So:
hypervisor ↔ cluster by moref (and vCenter), server ↔ VM by instance UUID, VM ↔ ESXi host by `runtime.host`.
What does not join is left out and counted: VMs that are no Nova server (VIO's own management VMs, other
VMs), servers of this vCenter's clusters without a VM, VMs whose instance UUID several VMs share.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from vio_checks.model import Record
from vio_checks.vsphere.records import VSphereInventory

_HV_NAME = re.compile(r"^(?P<moref>[^.()\s]+)\.(?P<vc>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                      r"[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")
_OLD_HV_NAME = re.compile(r"^(?P<moref>[^.()\s]+)\((?P<name>.*)\)$")


class HasHostname(Protocol):
    hostname: str


class HasServer(Protocol):
    id: str
    hypervisor_hostname: str | None


def split_hypervisor_hostname(hostname: str) -> tuple[str, str | None] | None:
    """(cluster moref, vCenter instance UUID or None for the older form) of a VMware hypervisor name."""
    m = _HV_NAME.match(hostname or "")
    if m:
        return m["moref"], m["vc"].lower()
    m = _OLD_HV_NAME.match(hostname or "")
    if m:
        return m["moref"], None
    return None


class Join(Record):
    """The links between one vCenter and the OpenStack inventory, and what did not link."""

    def __init__(self, vcenter: str, cluster_of_hypervisor: dict[str, str] | None = None,
                 vm_of_server: dict[str, str] | None = None, host_of_server: dict[str, str] | None = None,
                 other_hypervisors: list[str] | None = None, unknown_clusters: list[str] | None = None,
                 servers_without_vm: list[str] | None = None, misplaced: list[str] | None = None,
                 ambiguous_vms: int = 0, unjoined_vms: int = 0) -> None:
        self.vcenter = vcenter  # its instance UUID
        self.cluster_of_hypervisor = {} if cluster_of_hypervisor is None else cluster_of_hypervisor
        self.vm_of_server = {} if vm_of_server is None else vm_of_server
        self.host_of_server = {} if host_of_server is None else host_of_server  # ESXi host moref
        #: hypervisors of another vCenter (or not named by the VMware driver): not this vCenter's business
        self.other_hypervisors = [] if other_hypervisors is None else other_hypervisors
        #: hypervisors naming this vCenter but a cluster it does not have
        self.unknown_clusters = [] if unknown_clusters is None else unknown_clusters
        #: servers on this vCenter's hypervisors whose VM vCenter does not have
        self.servers_without_vm = [] if servers_without_vm is None else servers_without_vm
        #: servers whose VM runs in another cluster than their hypervisor's
        self.misplaced = [] if misplaced is None else misplaced
        self.ambiguous_vms = ambiguous_vms  # VMs sharing an instance UUID: none of them joined
        self.unjoined_vms = unjoined_vms  # VMs that are no Nova server of this inventory


def join(vs: VSphereInventory, hypervisors: Iterable[HasHostname], servers: Iterable[HasServer]) -> Join:
    """Link hypervisors to clusters and servers to VMs and ESXi hosts (see the module docstring)."""
    vc = vs.vcenter.instance_uuid.lower()
    clusters = {c.moref for c in vs.clusters}
    out = Join(vc)
    for h in hypervisors:
        parts = split_hypervisor_hostname(h.hostname)
        if parts is None or (parts[1] is not None and parts[1] != vc):
            out.other_hypervisors.append(h.hostname)
        elif parts[0] in clusters:
            out.cluster_of_hypervisor[h.hostname] = parts[0]
        elif parts[1] is not None:
            out.unknown_clusters.append(h.hostname)
        else:  # older form of another vCenter, which its name cannot tell
            out.other_hypervisors.append(h.hostname)

    uses = Counter(v.instance_uuid for v in vs.vms if v.instance_uuid)
    by_uuid = {v.instance_uuid: v for v in vs.vms if v.instance_uuid and uses[v.instance_uuid] == 1}
    cluster_of_host = {h.moref: h.cluster for h in vs.hosts}
    joined: set[str] = set()
    for s in servers:
        sid = (s.id or "").lower()
        vm = by_uuid.get(sid)
        hv_cluster = out.cluster_of_hypervisor.get(s.hypervisor_hostname or "")
        if vm is None:
            if hv_cluster is not None and uses.get(sid, 0) == 0:
                out.servers_without_vm.append(s.id)
            continue
        joined.add(vm.moref)
        out.vm_of_server[s.id] = vm.moref
        if vm.host:
            out.host_of_server[s.id] = vm.host
            if hv_cluster is not None and cluster_of_host.get(vm.host) not in (None, hv_cluster):
                out.misplaced.append(s.id)
    out.ambiguous_vms = sum(n for n in uses.values() if n > 1)
    out.unjoined_vms = sum(1 for v in vs.vms if v.moref not in joined) - out.ambiguous_vms
    return out
