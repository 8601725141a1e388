"""Who reports an object's state, and can it vouch for it: the one rule for "its reporter is down".

A record is only as good as the service that reports it:
- a VM: its nova-compute service and hypervisor (and through them vCenter: the VMware driver's disable);
  with the vSphere layer also the ESXi host its vSphere VM runs on;
- a hypervisor: its nova-compute service;
- a volume: the cinder-volume service of its backend (`os-vol-host-attr:host` `host@backend#pool` is
  served by the cinder-volume service `host@backend`);
- a port: the L2 agent(s) on its binding host (`binding:host_id`), when that host runs any (NSX and other
  mechanism drivers run none: then Neutron's record is all there is);
- a router: its hosting L3 agents. An agent serves its routers when it is alive and admin up: with
  Neutron's default `enable_services_on_agents_with_admin_state_down = False` an admin-down L3 agent is
  sent none of its routers.
When a reporter cannot vouch, the object is "unverified": UNKNOWN on its own, counted as unverified in a
set, its last reported state shown but not judged. A router that no agent serves is no such case: nobody
routes its traffic, so it is CRITICAL (judge/router.py). An object never placed (a VM never scheduled, a
volume without a backend, an unbound port) has no reporter: its own record is all there is.

Pure: no I/O. Every text here is made inert.
"""

from __future__ import annotations

from collections.abc import Iterable

from vio_checks.model import Agent, Hypervisor, Port, Record, Server, Service, Volume, unreported
from vio_checks.text import clock, inert

CINDER_VOLUME = "cinder-volume"

#: Neutron's L2 agents (agent_type, lower case): the ones that wire a port on its binding host and report
#: it up or down. OVS, Linux bridge, SR-IOV, Macvtap, VMware's DVS and OVSvApp agents, OVN's controller.
L2_AGENT_TYPES = frozenset({
    "open vswitch agent", "linux bridge agent", "nic switch agent", "macvtap agent", "dvs agent",
    "ovsvapp agent", "ovn controller agent", "ovn controller gateway agent",
})
L2_AGENT_BINARIES = frozenset({
    "neutron-openvswitch-agent", "neutron-linuxbridge-agent", "neutron-sriov-nic-agent",
    "neutron-macvtap-agent", "neutron-dvs-agent", "neutron-ovsvapp-agent", "ovn-controller",
})


class Vouch(Record):
    """Who reports an object's state and, when they cannot vouch for it, why.

    `reporters`: inert labels of the services or agents that report it (empty: nobody but the API record).
    `trouble`: one inert line for the status line ("backend vio-controller-01@vmdk: cinder-volume down since
    10:42"), None when they can vouch. `reasons`: inert detail lines, one per cause.
    """

    def __init__(self, reporters: Iterable[str] = (), trouble: str | None = None,
                 reasons: Iterable[str] = ()) -> None:
        self.reporters = list(reporters)
        self.trouble = trouble
        self.reasons = list(reasons)

    @property
    def can_vouch(self) -> bool:
        return self.trouble is None


def unverified_text(name: str, vouch: Vouch, source: str, status: str) -> str:
    """The status line of an object whose reporter cannot vouch for it, the same for every kind: `db-data:
    backend b@vmdk: cinder-volume b@vmdk down since 10:42: state unverified (Cinder last reported in-use)`."""
    return f"{name}: {vouch.trouble}: state unverified ({source} last reported {status or '?'})"


# --- VMs and hypervisors: nova-compute, the hypervisor record, vCenter, the ESXi host ---------------------


def hypervisor_label(server: Server, hypervisor: Hypervisor | None) -> str | None:
    """The cluster name when the hostname carries it, else the hypervisor hostname (or the host); inert."""
    if hypervisor is not None:
        label = hypervisor.label
    elif server.hypervisor_hostname:
        label = Hypervisor(id="", hostname=server.hypervisor_hostname).label
    else:
        label = server.host
    return inert(label) or None


def compute_down(service: Service | None, hypervisor: Hypervisor | None) -> bool:
    """The nova-compute service (or its hypervisor record) says it is not reporting: down or forced down."""
    return (service is not None and (service.state == "down" or service.forced_down)) or (
        hypervisor is not None and hypervisor.state == "down")


def of_server(server: Server, hypervisor: Hypervisor | None, service: Service | None, now: float) -> Vouch:
    """A VM's reporters: its nova-compute service and hypervisor. They cannot vouch when vCenter is lost (the
    VMware driver's disable), the service or hypervisor is down, or Nova's host_status is DOWN/UNKNOWN."""
    if not server.host and not server.hypervisor_hostname:
        return Vouch()  # never scheduled (e.g. ERROR "No valid host"): Nova's own record is all there is
    hv = hypervisor_label(server, hypervisor) or "?"
    reporters = [f"nova-compute {inert(server.host) or '?'}", f"hypervisor {hv}"]
    reasons: list[str] = []
    vcenter_lost = False
    if service is not None and service.vcenter_lost:
        vcenter_lost = True
        reasons.append(f"nova-compute {inert(service.host)} disabled by the VMware driver: "
                       "vCenter unreachable")
    elif hypervisor is not None and hypervisor.vcenter_lost:
        vcenter_lost = True
        reasons.append(f"hypervisor {inert(hypervisor.hostname)} disabled by the VMware driver: "
                       "vCenter unreachable")
    if service is not None and (service.state == "down" or service.forced_down):
        forced = " (forced down)" if service.forced_down else ""
        reasons.append(f"compute service {inert(service.host)} down{forced} "
                       f"since {clock(service.updated, now)}")
    if hypervisor is not None and hypervisor.state == "down":
        reasons.append(f"hypervisor {inert(hypervisor.hostname)} state down")
    if (server.host_status or "").upper() in ("DOWN", "UNKNOWN"):
        reasons.append(f"Nova reports host_status {inert(server.host_status.upper())} for "
                       f"{inert(server.host) or '?'}")
    if not reasons:
        return Vouch(reporters)
    why = "cut off from vCenter" if vcenter_lost else "down"
    return Vouch(reporters, f"hypervisor {hv} {why}", reasons)


def of_hypervisor(h: Hypervisor, service: Service | None, now: float) -> Vouch:
    """A hypervisor's reporter, its nova-compute service: it cannot vouch when it (or the hypervisor record)
    is down. For a hypervisor that is its own failure (check_vio_hypervisor: CRITICAL), not "unverified"."""
    host = inert(service.host if service else h.service_host) or "?"
    reporters = [f"nova-compute {host}"]
    if not compute_down(service, h):
        return Vouch(reporters)
    if service is not None and (service.state == "down" or service.forced_down):
        forced = " (forced down)" if service.forced_down else ""
        trouble = f"compute service {host} down{forced} since {clock(service.updated, now)}"
    else:
        trouble = f"hypervisor {inert(h.hostname)} state down"
    return Vouch(reporters, trouble, [trouble])


_CONNECTION = {"disconnected": "disconnected", "notResponding": "not responding"}
_POWER = {"poweredOff": "powered off", "standBy": "in standby"}


def of_esxi_host(host) -> Vouch:
    """The ESXi host a VM runs on (a vsphere.records.EsxHost): it cannot vouch when it is down
    (disconnected, not responding, powered off, in standby: `EsxHost.down`)."""
    label = inert(host.name) or inert(host.moref)
    if not host.down:
        return Vouch([f"ESXi host {label}"])
    how = _CONNECTION.get(host.connection_state) or _POWER.get(host.power_state, "down")
    trouble = f"ESXi host {label} is {how}"
    return Vouch([f"ESXi host {label}"], trouble, [trouble])


# --- agents and services of Neutron and Cinder ------------------------------------------------------------


def agent_label(a: Agent) -> str:
    """`binary@host` of an agent (inert)."""
    return f"{inert(a.binary) or 'agent'}@{inert(a.host) or inert(a.id)}"


def agent_trouble(a: Agent, now: float) -> str | None:
    """Why an agent cannot report (Neutron did not say whether it is alive; it is dead), None when it is
    alive. Admin state is not asked: an admin-down agent still runs and reports."""
    missing = unreported(a)
    if missing:
        return f"{agent_label(a)}: {missing}"
    if not a.alive:
        return f"{agent_label(a)} dead (last heartbeat {clock(a.heartbeat, now)})"
    return None


def serves(a: Agent) -> bool:
    """An L3 agent serves its routers: alive and admin up, and Neutron reported both."""
    return not unreported(a) and a.alive and a.admin_state_up


def not_serving(a: Agent, now: float) -> str:
    """Why an L3 agent serves no router: `neutron-l3-agent@net-01 dead (last heartbeat 10:42)`, `... admin
    down` (Neutron's default disables an admin-down agent's routers), or what Neutron did not report."""
    trouble = agent_trouble(a, now)
    if trouble is not None:
        return trouble + (", admin down" if not a.admin_state_up else "")
    return f"{agent_label(a)} admin down"


def is_l2_agent(a: Agent) -> bool:
    """An L2 agent (OVS, Linux bridge, SR-IOV, Macvtap, DVS, OVSvApp, OVN controller)."""
    return (a.agent_type or "").strip().lower() in L2_AGENT_TYPES or a.binary in L2_AGENT_BINARIES


def service_trouble(s: Service, now: float) -> str | None:
    """Why a Cinder (or Nova) service cannot report: down, or its state not reported or not documented.
    A disabled service still reports (it only gets nothing new scheduled)."""
    missing = unreported(s)
    if missing:
        return f"{inert(s.binary, 60)} {inert(s.host)}: {missing}"
    if s.state == "down" or s.forced_down:
        forced = " (forced down)" if s.forced_down else ""
        return f"{inert(s.binary, 60)} {inert(s.host)} down{forced} since {clock(s.updated, now)}"
    if s.state != "up":
        return f"{inert(s.binary, 60)} {inert(s.host)} in state {inert(s.state, 40) or '?'} (not documented)"
    return None


class Reporters:
    """The reporters of volumes and ports, looked up from one inventory's services and agents."""

    def __init__(self, volume_services: Iterable[Service] = (), agents: Iterable[Agent] = ()) -> None:
        self._cinder: dict[str, list[Service]] = {}
        for s in volume_services:
            if s.binary == CINDER_VOLUME:
                self._cinder.setdefault(s.host, []).append(s)
        self._l2: dict[str, list[Agent]] = {}
        for a in agents:
            if is_l2_agent(a) and a.host:
                self._l2.setdefault(a.host, []).append(a)

    def volume(self, volume: Volume, now: float) -> Vouch:
        """A volume's reporter: the cinder-volume service of its backend. It cannot vouch when it is down,
        its state was not reported, or Cinder lists cinder-volume services but none for that backend (a
        service list without any cinder-volume says nothing about one volume: no reporter is named)."""
        backend = volume.service_host
        if not backend:
            return Vouch()  # never scheduled: Cinder's own record is all there is
        label = inert(backend)
        services = self._cinder.get(backend, [])
        if not services and not self._cinder:
            return Vouch()  # Cinder listed no cinder-volume at all: the sweep's visibility, not this volume's
        if not services:
            trouble = f"backend {label}: no cinder-volume service in Cinder's service list"
            return Vouch([f"cinder-volume {label}"], trouble, [trouble])
        troubles = [service_trouble(s, now) for s in services]
        if any(t is None for t in troubles):
            return Vouch([f"cinder-volume {label}"])
        reasons = [t for t in troubles if t is not None]
        return Vouch([f"cinder-volume {label}"], f"backend {label}: {reasons[0]}", reasons)

    def port(self, port: Port, now: float) -> Vouch:
        """A port's reporters: the L2 agents on its binding host. They cannot vouch when none of them is
        alive. A port bound nowhere (no host, vif_type unbound or binding_failed) or to a host that runs
        no L2 agent has no reporter but Neutron's record."""
        host = port.binding_host
        if not host or port.vif_type in ("unbound", "binding_failed"):
            return Vouch()
        agents = self._l2.get(host, [])
        if not agents:
            return Vouch()
        labels = [agent_label(a) for a in agents]
        troubles = [agent_trouble(a, now) for a in agents]
        if any(t is None for t in troubles):
            return Vouch(labels)
        reasons = [f"L2 agent {t}" for t in troubles if t is not None]
        return Vouch(labels, reasons[0] + (f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""),
                     reasons)
