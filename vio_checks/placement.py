"""Where a VM runs: its hypervisor record and its nova-compute service, from a server record.

The one rule, used by check_vio_vm, check_vio_hypervisor, the dependency tree (topology.py) and the event
log (changes.py):
- the hypervisor whose hypervisor_hostname is the server's `OS-EXT-SRV-ATTR:hypervisor_hostname`;
- else the one hypervisor whose nova-compute host is the server's `OS-EXT-SRV-ATTR:host` (with several,
  the VM's cluster cannot be told, so none);
- its nova-compute service: the one on the server's host, else the one of its hypervisor.
A server without either (never scheduled, SHELVED_OFFLOADED) has neither.

With the vSphere layer, a server runs on the ESXi host of its one joined vSphere VM (`vsphere_vm_by_server`):
check_vio_vm and the dependency tree both ask here. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from vio_checks.model import Hypervisor, Server, Service

COMPUTE_BINARY = "nova-compute"


class Placement:
    """Lookups over hypervisor and compute-service records, built once per inventory."""

    def __init__(self, hypervisors: Iterable[Hypervisor], services: Iterable[Service] = ()) -> None:
        """Later records win over earlier ones with the same hostname (pass older inventories first)."""
        self._by_hostname: dict[str, Hypervisor] = {}
        self._by_host: dict[str, dict[str, Hypervisor]] = {}
        for h in hypervisors:
            self._by_hostname[h.hostname] = h
            if h.service_host:
                self._by_host.setdefault(h.service_host, {})[h.hostname] = h
        self._services: dict[str, Service] = {}
        for s in services:
            if s.binary == COMPUTE_BINARY:
                self._services.setdefault(s.host, s)

    def hypervisor(self, hostname: str | None, host: str | None) -> Hypervisor | None:
        """The hypervisor named `hostname`, else the only one whose nova-compute runs on `host`."""
        if hostname and hostname in self._by_hostname:
            return self._by_hostname[hostname]
        on_host = self._by_host.get(host or "", {})
        return next(iter(on_host.values())) if len(on_host) == 1 else None

    def hypervisor_of(self, server: Server) -> Hypervisor | None:
        """The server's hypervisor record, or None (unknown, or the server was never placed)."""
        return self.hypervisor(server.hypervisor_hostname, server.host)

    def compute_service(self, host: str | None) -> Service | None:
        """The nova-compute service on `host`."""
        return self._services.get(host) if host else None

    def service_of(self, server: Server) -> Service | None:
        """The server's nova-compute service: on its host, else its hypervisor's."""
        found = self.compute_service(server.host)
        if found is None:
            hv = self.hypervisor_of(server)
            found = self.service_of_hypervisor(hv) if hv is not None else None
        return found

    def service_of_hypervisor(self, hypervisor: Hypervisor) -> Service | None:
        """The nova-compute service that reports this hypervisor."""
        return self.compute_service(hypervisor.service_host)

    def label(self, hostname: str | None, host: str | None) -> str | None:
        """The name people know a VM's (or a migration end's) hypervisor by: its label when the record is
        known, else the hypervisor hostname's cluster part, else the hostname or compute host as given."""
        hv = self.hypervisor(hostname, host)
        if hv is not None:
            return hv.label
        if hostname:
            return Hypervisor(id="", hostname=hostname).label
        return host or None

    def label_of(self, server: Server) -> str | None:
        """`label()` for a server."""
        return self.label(server.hypervisor_hostname, server.host)


def vsphere_vm_by_server(vms: Iterable[object]) -> dict[str, object]:
    """Server id → its one joined vSphere VM (a vsphere.records.VsVm), whose `host` is the moref of the ESXi
    host the server runs on. A server several vSphere VMs claim maps to None: which one runs it cannot be
    told, so neither its ESXi host nor vCenter's power state is believed."""
    out: dict[str, object] = {}
    for vm in vms:
        if vm.server_id:
            out[vm.server_id] = None if vm.server_id in out else vm
    return out
