"""The plain inventory model: one dataclass per kind of object, and the links between them.

Discovery fills these from the API; the cache stores them; judges, checks and the generator read
them. Nothing here does I/O or knows about openstacksdk. Timestamps are POSIX seconds (UTC) or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Bumped whenever a stored record's shape changes: a cache written by another schema is ignored.
SCHEMA = 3

#: The disabled reason the VMware driver writes on its nova-compute service. It writes it when it loses
#: vCenter, and again when it re-enables the service, so the reason alone proves nothing.
VMWARE_HOST_STATE_REASON = "set by vmwareapi host_state"


def vcenter_lost(status: str, state: str, reason: str | None) -> bool:
    """The one rule for "the VMware driver lost vCenter": its reason AND the service disabled (or down).

    `status`/`state`/`reason` are a nova-compute service's (as os-services or os-hypervisors report it).
    """
    return (reason or "").strip().lower() == VMWARE_HOST_STATE_REASON and (
        status == "disabled" or state == "down"
    )


#: Which API reports each record class, for "Nova reported no status".
_SOURCE = {"Hypervisor": "Nova", "Server": "Nova", "Volume": "Cinder", "Port": "Neutron", "Agent": "Neutron"}


def unreported(obj: object) -> str | None:
    """`Nova reported no status` when the sweep's record lacks a field its judgement needs, else None.

    normalize.py lists such fields (absent, null or empty in the API reply) in the record's `missing`.
    """
    missing = getattr(obj, "missing", ())
    if not missing:
        return None
    source = _SOURCE.get(type(obj).__name__) or str(getattr(obj, "component", "") or "the API").capitalize()
    return f"{source} reported no {' or '.join(missing)}"

_OLD_HV_NAME = re.compile(r"^(?P<moref>domain-c?\d+)\((?P<name>.*)\)$")


@dataclass
class Hypervisor:
    """One Nova compute node: with the VMwareVCDriver, one vSphere cluster."""

    id: str
    hostname: str
    type: str = ""
    state: str = ""  # up / down
    status: str = ""  # enabled / disabled
    service_host: str = ""  # host of its nova-compute service
    service_id: str = ""
    disabled_reason: str | None = None
    host_ip: str | None = None
    vcpus: int | None = None
    vcpus_used: int | None = None
    memory_mb: int | None = None
    memory_mb_used: int | None = None
    local_gb: int | None = None
    local_gb_used: int | None = None
    running_vms: int | None = None
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def cluster_name(self) -> str | None:
        """The vSphere cluster name, when the older `domain-c8(Cluster-B)` form carries it."""
        m = _OLD_HV_NAME.match(self.hostname)
        return m.group("name") if m else None

    @property
    def label(self) -> str:
        """What people call it: the cluster name when known, else the hypervisor hostname."""
        return self.cluster_name or self.hostname

    @property
    def vcenter_lost(self) -> bool:
        """Its nova-compute service lost vCenter (see `vcenter_lost`)."""
        return vcenter_lost(self.status, self.state, self.disabled_reason)


@dataclass
class Address:
    """One address of a server, as Nova lists it."""

    network: str
    addr: str
    kind: str = "fixed"  # fixed / floating
    version: int = 4
    mac: str | None = None


@dataclass
class Server:
    """A Nova server (VM)."""

    id: str
    name: str
    project_id: str = ""
    status: str = ""
    task_state: str | None = None
    vm_state: str | None = None
    power_state: int | None = None
    host: str | None = None  # nova-compute service host
    hypervisor_hostname: str | None = None
    host_status: str | None = None  # UP / DOWN / MAINTENANCE / UNKNOWN / "" (2.16+)
    created: float | None = None
    updated: float | None = None
    launched_at: float | None = None
    flavor: str | None = None
    flavor_vcpus: int | None = None
    flavor_ram_mb: int | None = None
    fault_message: str | None = None
    fault_code: int | None = None
    availability_zone: str | None = None
    addresses: list[Address] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def floating_ips(self) -> list[str]:
        """Floating addresses, in Nova's order."""
        return [a.addr for a in self.addresses if a.kind == "floating"]

    @property
    def fixed_ips(self) -> list[str]:
        """Fixed addresses, in Nova's order."""
        return [a.addr for a in self.addresses if a.kind != "floating"]


@dataclass
class Attachment:
    """A volume's attachment to a server."""

    server_id: str
    device: str | None = None
    attachment_id: str | None = None
    host: str | None = None


@dataclass
class Volume:
    """A Cinder volume."""

    id: str
    name: str
    project_id: str = ""
    status: str = ""
    size_gb: int = 0
    backend_host: str | None = None  # os-vol-host-attr:host, e.g. vio-controller@vmdk#vmdk
    volume_type: str | None = None
    bootable: bool = False
    created: float | None = None
    updated: float | None = None
    attachments: list[Attachment] = field(default_factory=list)
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def service_host(self) -> str | None:
        """The cinder-volume service host serving it (`host@backend`, without `#pool`)."""
        return self.backend_host.split("#", 1)[0] if self.backend_host else None


@dataclass
class FixedIP:
    """One fixed IP of a port."""

    ip_address: str
    subnet_id: str | None = None


@dataclass
class Port:
    """A Neutron port (a VM's interface, a router interface, DHCP, ...)."""

    id: str
    name: str
    project_id: str = ""
    network_id: str = ""
    device_id: str = ""
    device_owner: str = ""
    status: str = ""
    admin_state_up: bool = True
    binding_host: str | None = None
    vif_type: str | None = None
    mac_address: str | None = None
    fixed_ips: list[FixedIP] = field(default_factory=list)
    created: float | None = None
    updated: float | None = None
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def is_vm_port(self) -> bool:
        return self.device_owner.startswith("compute:")

    @property
    def is_router_interface(self) -> bool:
        return self.device_owner in (
            "network:router_interface",
            "network:router_interface_distributed",
            "network:ha_router_replicated_interface",
        )


@dataclass
class Network:
    """A Neutron network."""

    id: str
    name: str
    project_id: str = ""
    status: str = ""
    admin_state_up: bool = True
    shared: bool = False
    external: bool = False
    subnets: list[str] = field(default_factory=list)


@dataclass
class Router:
    """A Neutron router, with the L3 agents that host it (none with NSX)."""

    id: str
    name: str
    project_id: str = ""
    status: str = ""
    admin_state_up: bool = True
    ha: bool | None = None
    distributed: bool | None = None
    external_network_id: str | None = None
    agent_ids: list[str] = field(default_factory=list)
    network_ids: list[str] = field(default_factory=list)  # networks it has an interface on
    # HA routers only: hosting agent id → its ha_state (active / standby / unknown) as Neutron reports it
    ha_states: dict[str, str] = field(default_factory=dict)


def routers_by_network(routers: Iterable[Router], ports: Iterable[Port]) -> dict[str, list[str]]:
    """network id → ids of the routers with an interface on it (sorted).

    The one rule for "which routers serve a network": a router serves the networks in its `network_ids`
    and every network on which one of `ports` is an interface of it (by the port's device id).
    """
    found: dict[str, set[str]] = {}
    for r in routers:
        for net in r.network_ids:
            found.setdefault(net, set()).add(r.id)
    for p in ports:
        if p.is_router_interface and p.device_id and p.network_id:
            found.setdefault(p.network_id, set()).add(p.device_id)
    return {k: sorted(v) for k, v in sorted(found.items())}


@dataclass
class Agent:
    """A Neutron agent."""

    id: str
    binary: str
    agent_type: str = ""
    host: str = ""
    alive: bool = False
    admin_state_up: bool = True
    heartbeat: float | None = None
    availability_zone: str | None = None
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def is_l3(self) -> bool:
        return self.agent_type == "L3 agent" or self.binary == "neutron-l3-agent"


@dataclass
class Service:
    """A Nova or Cinder service (os-services)."""

    id: str
    component: str  # nova / cinder
    binary: str
    host: str
    zone: str | None = None
    status: str = ""  # enabled / disabled
    state: str = ""  # up / down
    updated: float | None = None
    disabled_reason: str | None = None
    forced_down: bool = False
    #: fields its judgement needs that the API reply did not carry (see `unreported`)
    missing: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Identity that survives id changes: component/binary/host."""
        return f"{self.component}/{self.binary}/{self.host}"

    @property
    def vcenter_lost(self) -> bool:
        """The VMware driver disabled it (or it is down) because vCenter is unreachable."""
        return vcenter_lost(self.status, self.state, self.disabled_reason)

    @property
    def disabled_by_vmware_driver(self) -> bool:
        """Older name of `vcenter_lost`."""
        return self.vcenter_lost


@dataclass
class Endpoint:
    """A public catalog endpoint and whether it answered during the sweep."""

    service_type: str
    url: str
    interface: str = "public"
    region: str | None = None
    ok: bool = False
    status_code: int | None = None
    latency: float | None = None  # seconds
    error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.service_type} {self.url}"


@dataclass
class Migration:
    """A Nova migration record (os-migrations)."""

    id: str
    server_id: str
    migration_type: str = ""  # live-migration / migration / resize / evacuation
    status: str = ""
    source_compute: str | None = None
    dest_compute: str | None = None
    source_node: str | None = None
    dest_node: str | None = None
    created: float | None = None
    updated: float | None = None
    uuid: str | None = None


@dataclass
class Project:
    """A Keystone project (for names)."""

    id: str
    name: str
    domain_id: str | None = None
    enabled: bool = True


@dataclass
class Meta:
    """What a sweep was: when, how long, how many requests, and against what."""

    cloud: str
    region: str | None
    fetched_at: float
    seconds: float
    requests: int
    counts: dict[str, int] = field(default_factory=dict)
    compute_microversion: str | None = None
    schema: int = SCHEMA


#: Kind name → class, in the order a sweep fills and a summary lists them.
KINDS: dict[str, type] = {
    "hypervisors": Hypervisor,
    "servers": Server,
    "compute_services": Service,
    "migrations": Migration,
    "volumes": Volume,
    "volume_services": Service,
    "ports": Port,
    "networks": Network,
    "routers": Router,
    "agents": Agent,
    "projects": Project,
    "endpoints": Endpoint,
}


@dataclass
class Inventory:
    """One whole sweep: every object, by kind, in API order."""

    meta: Meta
    hypervisors: list[Hypervisor] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    compute_services: list[Service] = field(default_factory=list)
    migrations: list[Migration] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    volume_services: list[Service] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    routers: list[Router] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)

    def of_kind(self, kind: str) -> list:
        """The objects of one kind (a key of KINDS)."""
        return getattr(self, kind)
