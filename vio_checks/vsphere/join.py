"""Join the OpenStack inventory to one vCenter's (pure: no I/O).

Nova's VMware driver names a hypervisor `<cluster moref>.<vCenter instanceUuid>` (an older driver
`<moref>(<cluster name>)`) and gives each instance's VM `config.instanceUuid` = the server id. So:
hypervisor ↔ cluster by moref (and vCenter), server ↔ VM by instance UUID, VM ↔ ESXi host by `runtime.host`.
What does not join is left out and counted: VMs that are no Nova server (VIO's own management VMs, other
VMs), servers of this vCenter's clusters without a VM, VMs whose instance UUID several VMs share.

Cinder volume ↔ datastore: Cinder's VMware VMDK driver backs each volume with a "shadow" VM, never powered
on, that holds its VMDK. The driver names it after the volume (`volume-<volume id>`, Cinder's default
volume_name_template), gives it the volume id as `config.instanceUuid` (its volumeops' BACKING_UUID_KEY;
older drivers did not) and `cinder.volume.id` in its extraConfig (not read: PropertyCollector would
return every extraConfig entry of every VM). The datastore the volume
lives on is the shadow VM's (`datastore`). The driver creates the shadow VM lazily, on first attach, so a
volume never attached (like any volume of another backend) has none: counted, not joined.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from vio_checks.model import Record
from vio_checks.vsphere.records import VSphereInventory, VsVm

_HV_NAME = re.compile(r"^(?P<moref>[^.()\s]+)\.(?P<vc>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                      r"[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")
_OLD_HV_NAME = re.compile(r"^(?P<moref>[^.()\s]+)\((?P<name>.*)\)$")


class HasHostname(Protocol):
    hostname: str


class HasServer(Protocol):
    id: str
    hypervisor_hostname: str | None


class HasId(Protocol):
    id: str


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BACKING_NAME = re.compile(rf"^volume-(?P<id>{_UUID})$", re.IGNORECASE)


def backing_volume_id(vm: VsVm, volume_ids: Mapping[str, str]) -> str | None:
    """The Cinder volume a VM is the shadow VM of (the id as `volume_ids` spells it), by its instance UUID
    (the driver sets it to the volume id) or else by its name `volume-<id>`; None when neither is a volume
    of `volume_ids` (lower-cased id → id)."""
    if vm.instance_uuid and vm.instance_uuid in volume_ids:
        return volume_ids[vm.instance_uuid]
    m = _BACKING_NAME.match(vm.name or "")
    return volume_ids.get(m["id"].lower()) if m else None


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
                 ambiguous_vms: int = 0, unjoined_vms: int = 0,
                 volume_datastore: dict[str, str] | None = None, volume_vm: dict[str, str] | None = None,
                 volumes_without_backing: list[str] | None = None,
                 ambiguous_backings: list[str] | None = None) -> None:
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
        self.unjoined_vms = unjoined_vms  # VMs that are no Nova server (nor volume backing) of this inventory
        #: Cinder volume id → the datastore moref its shadow VM is on
        self.volume_datastore = {} if volume_datastore is None else volume_datastore
        self.volume_vm = {} if volume_vm is None else volume_vm  # Cinder volume id → its shadow VM's moref
        #: volumes without a shadow VM here (never attached yet, another backend, another vCenter)
        self.volumes_without_backing = [] if volumes_without_backing is None else volumes_without_backing
        #: volumes with a shadow VM but no one datastore: several VMs claim it, or its VM is on 0 or 2+
        self.ambiguous_backings = [] if ambiguous_backings is None else ambiguous_backings


def join(vs: VSphereInventory, hypervisors: Iterable[HasHostname], servers: Iterable[HasServer],
         volumes: Iterable[HasId] = ()) -> Join:
    """Link hypervisors to clusters, servers to VMs and ESXi hosts, and volumes to the datastore of their
    shadow VM (see the module docstring)."""
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
    backed = _join_volumes(out, [v for v in vs.vms if v.moref not in joined], volumes)
    out.ambiguous_vms = sum(n for n in uses.values() if n > 1)
    out.unjoined_vms = sum(1 for v in vs.vms if v.moref not in joined and v.moref not in backed
                           and uses.get(v.instance_uuid or "", 0) <= 1)
    return out


def _join_volumes(out: Join, vms: list[VsVm], volumes: Iterable[HasId]) -> set[str]:
    """Fill the volume links of `out` from the VMs that are no server; the morefs of the shadow VMs."""
    volume_ids = {(v.id or "").lower(): v.id for v in volumes if v.id}
    claims: dict[str, list[VsVm]] = {}
    for vm in vms:
        vid = backing_volume_id(vm, volume_ids)
        if vid is not None:
            claims.setdefault(vid, []).append(vm)
    backed: set[str] = set()
    for vid, claimants in sorted(claims.items()):
        backed.update(vm.moref for vm in claimants)
        if len(claimants) == 1 and len(claimants[0].datastores) == 1:
            out.volume_vm[vid] = claimants[0].moref
            out.volume_datastore[vid] = claimants[0].datastores[0]
        else:  # a leftover clone or a VM spread over datastores: which one holds the volume is a guess
            out.ambiguous_backings.append(vid)
    out.volumes_without_backing = sorted(vid for vid in volume_ids.values() if vid not in claims)
    return backed
