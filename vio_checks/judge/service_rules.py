"""What the service judges share: the binaries, deployment-mode presets and options, and what "up" means
for a Nova or Cinder service record or a Neutron agent (judge/service.py judges records one by one,
judge/cluster.py the controller clusters)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vio_checks.model import Agent, Endpoint, Service, unreported
from vio_checks.text import inert

COMPONENTS = ("nova", "neutron", "cinder", "keystone")

#: VIO's controller binaries per deployment mode: binary → (how many must be up, required).
#: A required binary is expected even when absent from the inventory; the others only when present:
#: nova-consoleauth (gone since Nova Train, often a single instance), and the Neutron agents, which only
#: VDS/ML2 deployments run (NSX runs none); DHCP and metadata agents scale with network nodes, not with the
#: controllers, so one must be up; HA routers need two L3 agents. cinder-volume runs active/passive under one
#: shared host name, so it reports once in every mode.
_HA = {"nova-scheduler": (2, True), "nova-conductor": (2, True), "nova-consoleauth": (1, False),
       "cinder-scheduler": (2, True), "cinder-volume": (1, True), "neutron-l3-agent": (2, False),
       "neutron-dhcp-agent": (1, False), "neutron-metadata-agent": (1, False)}
_SINGLE = {binary: (1, required) for binary, (_, required) in _HA.items()}
DEPLOYMENT_MODES: dict[str, dict[str, tuple[int, bool]]] = {"ha": _HA, "compact": _SINGLE, "tiny": _SINGLE}


#: Controller binaries whose records form one redundant cluster (judge/cluster.py): they do the same job
#: anywhere in the region. Per-resource binaries (nova-compute per vSphere cluster, cinder-volume per
#: backend, L3 and per-host L2 agents) stay judged per record.
CLUSTER_BINARIES = ("nova-conductor", "nova-scheduler", "nova-consoleauth", "cinder-scheduler",
                    "cinder-backup", "neutron-dhcp-agent", "neutron-metadata-agent")


@dataclass
class ServiceOptions:
    warn_disabled: bool = False
    expect: dict[str, int] = field(default_factory=dict)  # explicit --expect, overrides the preset
    deployment_mode: str | None = None
    exclude: frozenset[str] = frozenset()  # binaries left out (monitored on their own): no counts either
    stale_after: float = 3600.0  # a cluster's replaced down record is stale after this (judge/stale.py)
    critical_at_risk: bool = False  # a cluster with one member up is CRITICAL (standalone use only)
    warning: str | None = None  # Nagios ranges on a cluster's number of members up (may only raise)
    critical: str | None = None


@dataclass
class Services:
    """What the service check reads from the inventory (already narrowed by --binary/--host)."""

    nova: list[Service] = field(default_factory=list)
    cinder: list[Service] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    #: Neutron announces the agent extension (the sweep's Meta.neutron_agents; None: unknown)
    agents_expected: bool | None = None
    #: binaries the inventory has but --exclude-binary left out (each judged by a service of its own)
    excluded: tuple[str, ...] = ()


def component_of(binary: str) -> str:
    """nova / cinder by the binary's prefix; anything else is a Neutron agent."""
    for comp in ("nova", "cinder"):
        if binary.startswith(comp + "-"):
            return comp
    return "neutron"


def label_of(obj: Service | Agent) -> str:
    """`binary@host`, inert."""
    return f"{inert(obj.binary, 60)}@{inert(obj.host)}"


# --- one object ----------------------------------------------------------------------------------


def is_up(obj: Service | Agent) -> bool:
    """Up means working: reporting and enabled (a service) or alive and admin up (an agent)."""
    if unreported(obj):
        return False
    if isinstance(obj, Agent):
        return obj.alive and obj.admin_state_up
    return obj.state == "up" and obj.status == "enabled"


def is_disabled(obj: Service | Agent) -> bool:
    if unreported(obj):
        return False
    return (not obj.admin_state_up) if isinstance(obj, Agent) else obj.status == "disabled"
