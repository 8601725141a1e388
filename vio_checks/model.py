"""The plain inventory model: one class per kind of object, and the links between them.

Discovery fills these from the API; the cache stores them; judges, checks and the generator read them. No
I/O, no openstacksdk. Timestamps are POSIX seconds (UTC) or None. Plain classes, not dataclasses: every check
loads this module, and building the dataclasses cost more than a warm check's own work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Bumped whenever a stored record's shape changes: a cache written by another schema is ignored.
SCHEMA = 7
#: Seconds a Meta's `fetched_at` may lie in the future (hosts sharing a cache) before its age is unknown.
CLOCK_SKEW = 5.0

#: The disabled reason the VMware driver writes on its nova-compute service. It writes it when it loses
#: vCenter, and again when it re-enables the service, so the reason alone proves nothing.
VMWARE_HOST_STATE_REASON = "set by vmwareapi host_state"


def vcenter_lost(status: str, state: str, reason: str | None) -> bool:
    """The one rule for "the VMware driver lost vCenter": its reason AND a nova-compute service disabled (or
    down), as os-services or os-hypervisors report them."""
    return (reason or "").strip().lower() == VMWARE_HOST_STATE_REASON and (
        status == "disabled" or state == "down"
    )


#: Which API reports each record class, for "Nova reported no status".
_SOURCE = {"Hypervisor": "Nova", "Server": "Nova", "Volume": "Cinder", "Port": "Neutron", "Agent": "Neutron",
           "Router": "Neutron", **dict.fromkeys(("Cluster", "EsxHost", "VsVm", "Datastore"), "vCenter"),
           **dict.fromkeys(("LoadBalancer", "Listener", "Pool", "LbMember"), "Octavia"), "Image": "Glance",
           "Stack": "Heat", "Certificate": "The endpoint"}


def unreported(obj: object) -> str | None:
    """Why a record cannot be judged: its `missing` (normalize.py) told, or None when nothing is missing."""
    missing = getattr(obj, "missing", ())
    source = _SOURCE.get(type(obj).__name__) or str(getattr(obj, "component", "") or "the API").capitalize()
    absent = " or ".join(m for m in missing if " " not in m)  # field names; the others are phrases naming
    texts = [f"no {absent}"] if absent else []  # a value of the wrong type or undocumented (normalize.py)
    return "; ".join(f"{source} reported {t}" for t in texts + [m for m in missing if " " in m]) or None


_OLD_HV_NAME = r"^(?P<moref>domain-c?\d+)\((?P<name>.*)\)$"  # compiled by `re` on first use, not at import


class Record:
    """Base of the model's classes: equal when of the same class with equal attributes; repr lists them."""

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as a dataclass

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"

    def replace(self, **changes: object) -> Record:
        """A copy with some attributes changed (what dataclasses.replace did)."""
        unknown = sorted(set(changes) - self.__dict__.keys())
        if unknown:
            raise TypeError(f"{type(self).__name__} has no attribute {', '.join(unknown)}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__, **changes)
        return new


class FrozenRecord(Record):
    """A Record set once: __init__ fills `__dict__` directly, assignment raises; hashable by its values."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))


class Hypervisor(Record):
    """One Nova compute node: with the VMwareVCDriver, one vSphere cluster."""

    def __init__(self, id: str, hostname: str, type: str = "", state: str = "", status: str = "",
                 service_host: str = "", service_id: str = "", disabled_reason: str | None = None,
                 host_ip: str | None = None, vcpus: int | None = None, vcpus_used: int | None = None,
                 memory_mb: int | None = None, memory_mb_used: int | None = None, local_gb: int | None = None,
                 local_gb_used: int | None = None, running_vms: int | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.hostname = hostname
        self.type = type
        self.state = state  # up / down
        self.status = status  # enabled / disabled
        self.service_host = service_host  # host of its nova-compute service
        self.service_id = service_id
        self.disabled_reason = disabled_reason
        self.host_ip = host_ip
        self.vcpus = vcpus
        self.vcpus_used = vcpus_used
        self.memory_mb = memory_mb
        self.memory_mb_used = memory_mb_used
        self.local_gb = local_gb
        self.local_gb_used = local_gb_used
        self.running_vms = running_vms
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing

    @property
    def cluster_name(self) -> str | None:
        """The vSphere cluster name, when the older `domain-c8(Cluster-B)` form carries it."""
        m = re.match(_OLD_HV_NAME, self.hostname)
        return m.group("name") if m else None

    @property
    def label(self) -> str:
        """What people call it: the cluster name when known, else the hypervisor hostname."""
        return self.cluster_name or self.hostname

    @property
    def vcenter_lost(self) -> bool:
        """Its nova-compute service lost vCenter (see `vcenter_lost`)."""
        return vcenter_lost(self.status, self.state, self.disabled_reason)


class Address(Record):
    """One address of a server, as Nova lists it."""

    def __init__(self, network: str, addr: str, kind: str = "fixed", version: int = 4,
                 mac: str | None = None) -> None:
        self.network = network
        self.addr = addr
        self.kind = kind  # fixed / floating
        self.version = version
        self.mac = mac


class Server(Record):
    """A Nova server (VM)."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "",
                 task_state: str | None = None, vm_state: str | None = None, power_state: int | None = None,
                 host: str | None = None, hypervisor_hostname: str | None = None,
                 host_status: str | None = None, created: float | None = None, updated: float | None = None,
                 launched_at: float | None = None, flavor: str | None = None, flavor_vcpus: int | None = None,
                 flavor_ram_mb: int | None = None, fault_message: str | None = None,
                 fault_code: int | None = None, availability_zone: str | None = None,
                 addresses: list[Address] | None = None, metadata: dict[str, str] | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.status = status
        self.task_state = task_state
        self.vm_state = vm_state
        self.power_state = power_state
        self.host = host  # nova-compute service host
        self.hypervisor_hostname = hypervisor_hostname
        self.host_status = host_status  # UP / DOWN / MAINTENANCE / UNKNOWN / "" (2.16+)
        self.created = created
        self.updated = updated
        self.launched_at = launched_at
        self.flavor = flavor
        self.flavor_vcpus = flavor_vcpus
        self.flavor_ram_mb = flavor_ram_mb
        self.fault_message = fault_message
        self.fault_code = fault_code
        self.availability_zone = availability_zone
        self.addresses = [] if addresses is None else addresses
        self.metadata = {} if metadata is None else metadata
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing

    @property
    def floating_ips(self) -> list[str]:
        """Floating addresses, in Nova's order."""
        return [a.addr for a in self.addresses if a.kind == "floating"]

    @property
    def fixed_ips(self) -> list[str]:
        """Fixed addresses, in Nova's order."""
        return [a.addr for a in self.addresses if a.kind != "floating"]


class Attachment(Record):
    """A volume's attachment to a server."""

    def __init__(self, server_id: str, device: str | None = None, attachment_id: str | None = None,
                 host: str | None = None) -> None:
        self.server_id = server_id
        self.device = device
        self.attachment_id = attachment_id
        self.host = host


class Volume(Record):
    """A Cinder volume."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "", size_gb: int = 0,
                 backend_host: str | None = None, volume_type: str | None = None, bootable: bool = False,
                 created: float | None = None, updated: float | None = None,
                 attachments: list[Attachment] | None = None, missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.status = status
        self.size_gb = size_gb
        self.backend_host = backend_host  # os-vol-host-attr:host, e.g. vio-controller@vmdk#vmdk
        self.volume_type = volume_type
        self.bootable = bootable
        self.created = created
        self.updated = updated
        self.attachments = [] if attachments is None else attachments
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing

    @property
    def service_host(self) -> str | None:
        """The cinder-volume service host serving it (`host@backend`, without `#pool`)."""
        return self.backend_host.split("#", 1)[0] if self.backend_host else None


class FixedIP(Record):
    """One fixed IP of a port."""

    def __init__(self, ip_address: str, subnet_id: str | None = None) -> None:
        self.ip_address = ip_address
        self.subnet_id = subnet_id


class Port(Record):
    """A Neutron port (a VM's interface, a router interface, DHCP, ...)."""

    def __init__(self, id: str, name: str, project_id: str = "", network_id: str = "", device_id: str = "",
                 device_owner: str = "", status: str = "", admin_state_up: bool = True,
                 binding_host: str | None = None, vif_type: str | None = None, mac_address: str | None = None,
                 fixed_ips: list[FixedIP] | None = None, created: float | None = None,
                 updated: float | None = None, missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.network_id = network_id
        self.device_id = device_id
        self.device_owner = device_owner
        self.status = status
        self.admin_state_up = admin_state_up
        self.binding_host = binding_host
        self.vif_type = vif_type
        self.mac_address = mac_address
        self.fixed_ips = [] if fixed_ips is None else fixed_ips
        self.created = created
        self.updated = updated
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing

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


class Network(Record):
    """A Neutron network."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "",
                 admin_state_up: bool = True, shared: bool = False, external: bool = False,
                 subnets: list[str] | None = None) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.status = status
        self.admin_state_up = admin_state_up
        self.shared = shared
        self.external = external
        self.subnets = [] if subnets is None else subnets


class Router(Record):
    """A Neutron router, with the L3 agents that host it (none with NSX)."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "",
                 admin_state_up: bool = True, ha: bool | None = None, distributed: bool | None = None,
                 external_network_id: str | None = None, agent_ids: list[str] | None = None,
                 network_ids: list[str] | None = None, ha_states: dict[str, str] | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.status = status
        self.admin_state_up = admin_state_up
        self.ha = ha
        self.distributed = distributed
        self.external_network_id = external_network_id
        self.agent_ids = [] if agent_ids is None else agent_ids
        self.network_ids = [] if network_ids is None else network_ids  # networks it has an interface on
        # HA routers only: hosting agent id → its ha_state (active / standby / unknown) as Neutron reports it
        self.ha_states = {} if ha_states is None else ha_states
        self.missing = missing  # see `unreported`


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


class Agent(Record):
    """A Neutron agent."""

    def __init__(self, id: str, binary: str, agent_type: str = "", host: str = "", alive: bool = False,
                 admin_state_up: bool = True, heartbeat: float | None = None,
                 availability_zone: str | None = None, missing: tuple[str, ...] = (),
                 created: float | None = None) -> None:
        self.id = id
        self.binary = binary
        self.agent_type = agent_type
        self.host = host
        self.alive = alive
        self.admin_state_up = admin_state_up
        self.heartbeat = heartbeat
        self.availability_zone = availability_zone
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing
        self.created = created  # Neutron's created_at: the agent's first report (judge/stale.py)

    @property
    def is_l3(self) -> bool:
        return self.agent_type == "L3 agent" or self.binary == "neutron-l3-agent"


class Service(Record):
    """A Nova or Cinder service (os-services)."""

    def __init__(self, id: str, component: str, binary: str, host: str, zone: str | None = None,
                 status: str = "", state: str = "", updated: float | None = None,
                 disabled_reason: str | None = None, forced_down: bool = False,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.component = component  # nova / cinder
        self.binary = binary
        self.host = host
        self.zone = zone
        self.status = status  # enabled / disabled
        self.state = state  # up / down
        self.updated = updated
        self.disabled_reason = disabled_reason
        self.forced_down = forced_down
        #: fields its judgement needs that the API reply did not carry (see `unreported`)
        self.missing = missing

    @property
    def key(self) -> str:
        """Identity that survives id changes: component/binary/host."""
        return f"{self.component}/{self.binary}/{self.host}"

    @property
    def vcenter_lost(self) -> bool:
        """The VMware driver disabled it (or it is down) because vCenter is unreachable."""
        return vcenter_lost(self.status, self.state, self.disabled_reason)


class Endpoint(Record):
    """A public catalog endpoint and whether it answered during the sweep."""

    def __init__(self, service_type: str, url: str, interface: str = "public", region: str | None = None,
                 ok: bool = False, status_code: int | None = None, latency: float | None = None,
                 error: str | None = None) -> None:
        self.service_type = service_type
        self.url = url
        self.interface = interface
        self.region = region
        self.ok = ok
        self.status_code = status_code
        self.latency = latency  # seconds
        self.error = error

    @property
    def id(self) -> str:
        return f"{self.service_type} {self.url}"


class Migration(Record):
    """A Nova migration record (os-migrations)."""

    def __init__(self, id: str, server_id: str, migration_type: str = "", status: str = "",
                 source_compute: str | None = None, dest_compute: str | None = None,
                 source_node: str | None = None, dest_node: str | None = None, created: float | None = None,
                 updated: float | None = None, uuid: str | None = None) -> None:
        self.id = id
        self.server_id = server_id
        self.migration_type = migration_type  # live-migration / migration / resize / evacuation
        self.status = status
        self.source_compute = source_compute
        self.dest_compute = dest_compute
        self.source_node = source_node
        self.dest_node = dest_node
        self.created = created
        self.updated = updated
        self.uuid = uuid


class Project(Record):
    """A Keystone project (for names)."""

    def __init__(self, id: str, name: str, domain_id: str | None = None, enabled: bool = True) -> None:
        self.id = id
        self.name = name
        self.domain_id = domain_id
        self.enabled = enabled


class Meta(Record):
    """What a sweep was: when, how long, how many requests, and against what."""

    def __init__(self, cloud: str, region: str | None, fetched_at: float, seconds: float, requests: int,
                 counts: dict[str, int] | None = None, compute_microversion: str | None = None,
                 schema: int = SCHEMA, vsphere: Record | None = None) -> None:
        self.cloud = cloud
        self.region = region
        self.fetched_at = fetched_at
        self.seconds = seconds
        self.requests = requests
        self.counts = {} if counts is None else counts
        self.compute_microversion = compute_microversion
        self.schema = schema
        self.vsphere = vsphere  # a vsphere.records.VSphereMeta; None: the vSphere layer is not configured
        self.kept, self.confirmations, self.neutron_agents = {}, 0, None  # the sweep sets them: visibility.py
        self.services: dict[str, bool] = {}  # optional service type → in the catalog (optional_sweep)
        self.service_errors: dict[str, str] = {}  # optional service type → why its list was not read
        self.handshakes = 0  # TLS handshakes of the certificates (certificates.py), not in `requests`


#: The optional vSphere layer's kinds: empty, and not in Meta.counts, when the layer is not configured.
VSPHERE_KINDS = ("vsphere_clusters", "esxi_hosts", "vsphere_vms", "datastores", "vsphere_alarms")
#: The optional OpenStack services' kinds (optional_sweep.py): empty, with no request, when the region's
#: catalog lacks the service; Meta.services says which the catalog had.
SERVICE_KINDS = ("load_balancers", "images", "stacks", "certificates")
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
    **dict.fromkeys(SERVICE_KINDS, Record),  # their own modules' classes (optional_sweep.py says which)
    **dict.fromkeys(VSPHERE_KINDS, Record),  # vio_checks.vsphere.records' classes (they import this module)
}


class Inventory(Record):
    """One whole sweep: every object, by kind, in API order."""

    def __init__(self, meta: Meta, hypervisors: list[Hypervisor] | None = None,
                 servers: list[Server] | None = None, compute_services: list[Service] | None = None,
                 migrations: list[Migration] | None = None, volumes: list[Volume] | None = None,
                 volume_services: list[Service] | None = None, ports: list[Port] | None = None,
                 networks: list[Network] | None = None, routers: list[Router] | None = None,
                 agents: list[Agent] | None = None, projects: list[Project] | None = None,
                 endpoints: list[Endpoint] | None = None, **more: list) -> None:
        self.meta = meta
        self.hypervisors, self.servers = hypervisors or [], servers or []
        self.compute_services, self.migrations = compute_services or [], migrations or []
        self.volumes, self.volume_services = volumes or [], volume_services or []
        self.ports, self.networks, self.routers = ports or [], networks or [], routers or []
        self.agents, self.projects, self.endpoints = agents or [], projects or [], endpoints or []
        for kind in SERVICE_KINDS + VSPHERE_KINDS:
            setattr(self, kind, more.get(kind) or [])

    def of_kind(self, kind: str) -> list:
        """The objects of one kind (a key of KINDS)."""
        return getattr(self, kind)
