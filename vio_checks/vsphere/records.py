"""Plain records of one vCenter sweep, in the style of `vio_checks.model` (picklable, compared by value).

Morefs are vCenter's managed object ids (`domain-c8`, `host-21`, `vm-104`, `datastore-55`): unique within
one vCenter, which `VCenter.instance_uuid` names. vSphere's own enumeration strings are kept as they are:
connection `connected` / `disconnected` / `notResponding`; host power `poweredOn` / `poweredOff` /
`standBy` / `unknown`; VM power `poweredOn` / `poweredOff` / `suspended`; status `green` / `yellow` / `red`
/ `gray`. A property vCenter did not return is None (or "") and named in the record's `missing`: a record
with something missing cannot be judged OK.
"""

from __future__ import annotations

from vio_checks.model import Record


class VCenter(Record):
    """The vCenter itself (its `about`)."""

    def __init__(self, instance_uuid: str, name: str = "", version: str = "", build: str = "",
                 api_version: str = "") -> None:
        self.instance_uuid = instance_uuid
        self.name = name  # about.fullName
        self.version = version
        self.build = build
        self.api_version = api_version


class Cluster(Record):
    """A vSphere cluster (ClusterComputeResource): one Nova hypervisor with the VMware driver."""

    def __init__(self, moref: str, name: str, overall_status: str = "",
                 missing: tuple[str, ...] = ()) -> None:
        self.moref = moref
        self.name = name
        self.overall_status = overall_status
        self.missing = missing
        self.hypervisor: str | None = None  # the Nova hypervisor's hostname (set by the join)

    @property
    def id(self) -> str:
        return self.moref


class EsxHost(Record):
    """An ESXi host (HostSystem); `cluster` is its cluster's moref, None for a standalone host."""

    def __init__(self, moref: str, name: str, cluster: str | None = None, connection_state: str = "",
                 power_state: str = "", maintenance: bool | None = None, overall_status: str = "",
                 missing: tuple[str, ...] = ()) -> None:
        self.moref = moref
        self.name = name
        self.cluster = cluster
        self.connection_state = connection_state
        self.power_state = power_state
        self.maintenance = maintenance
        self.overall_status = overall_status
        self.missing = missing
        self.hypervisor: str | None = None  # its cluster's Nova hypervisor hostname (set by the join)
        self.alarms: list[str] = []  # names (or morefs) of the alarms triggered on it, red first

    @property
    def id(self) -> str:
        return self.moref

    @property
    def down(self) -> bool:
        """Not serving VMs: disconnected, not responding, or not powered on (None: unknown is not down)."""
        return self.connection_state in ("disconnected", "notResponding") or self.power_state in (
            "poweredOff", "standBy")


class VsVm(Record):
    """A vSphere VM; `instance_uuid` is Nova's server id for an OpenStack instance (a Cinder volume's id for
    the VMDK driver's shadow VM), `host` its ESXi host, `datastores` the morefs of the datastores its files
    are on."""

    def __init__(self, moref: str, name: str, instance_uuid: str | None = None, host: str | None = None,
                 power_state: str = "", missing: tuple[str, ...] = (),
                 datastores: list[str] | None = None) -> None:
        self.moref = moref
        self.name = name
        self.instance_uuid = instance_uuid
        self.host = host
        self.power_state = power_state
        self.missing = missing
        self.datastores = [] if datastores is None else datastores
        self.server_id: str | None = None  # the Nova server it is (set by the join)

    @property
    def id(self) -> str:
        return self.moref


class Mount(Record):
    """One host's mount of a datastore."""

    def __init__(self, host: str, mounted: bool | None = None, accessible: bool | None = None) -> None:
        self.host = host
        self.mounted = mounted
        self.accessible = accessible


class Datastore(Record):
    """A datastore: accessibility, capacity and free space in bytes, the hosts that mount it, and the Cinder
    volumes whose VMDK (their shadow VM) it holds."""

    #: read by the tree: a snapshot written before volumes were joined has no instance attribute
    volumes: list[str] = []  # noqa: RUF012  # never mutated: __init__ gives each record its own

    def __init__(self, moref: str, name: str, type: str = "", accessible: bool | None = None,
                 capacity: int | None = None, free: int | None = None, mounts: list[Mount] | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.moref = moref
        self.name = name
        self.type = type  # VMFS / NFS / vsan / vvol
        self.accessible = accessible
        self.capacity = capacity
        self.free = free
        self.mounts = [] if mounts is None else mounts
        self.missing = missing
        self.alarms: list[str] = []  # names (or morefs) of the alarms triggered on it
        self.volumes: list[str] = []  # ids of the Cinder volumes backed here (set by the join)

    @property
    def id(self) -> str:
        return self.moref


class Alarm(Record):
    """A triggered alarm: which entity (type and moref), which alarm, how bad, since when."""

    def __init__(self, key: str, entity_type: str, entity: str, alarm: str, name: str = "",
                 status: str = "", time: float | None = None, acknowledged: bool = False) -> None:
        self.key = key
        self.entity_type = entity_type  # HostSystem / ClusterComputeResource / Datastore / VirtualMachine ...
        self.entity = entity
        self.alarm = alarm  # the alarm definition's moref
        self.name = name  # its name when vCenter gave it, else ""
        self.status = status
        self.time = time
        self.acknowledged = acknowledged

    @property
    def id(self) -> str:
        return self.key


class VSphereInventory(Record):
    """One vCenter sweep: every record, and what it cost."""

    def __init__(self, vcenter: VCenter, fetched_at: float, seconds: float = 0.0, requests: int = 0,
                 clusters: list[Cluster] | None = None, hosts: list[EsxHost] | None = None,
                 vms: list[VsVm] | None = None, datastores: list[Datastore] | None = None,
                 alarms: list[Alarm] | None = None) -> None:
        self.vcenter = vcenter
        self.fetched_at = fetched_at
        self.seconds = seconds
        self.requests = requests  # SOAP calls of the sweep, login and logout included
        self.clusters = [] if clusters is None else clusters
        self.hosts = [] if hosts is None else hosts
        self.vms = [] if vms is None else vms
        self.datastores = [] if datastores is None else datastores
        self.alarms = [] if alarms is None else alarms

    def counts(self) -> dict[str, int]:
        """Objects per kind, for the sweep's summary."""
        return {k: len(getattr(self, k)) for k in ("clusters", "hosts", "vms", "datastores", "alarms")}


class VSphereMeta(Record):
    """The vSphere layer's part of a sweep's Meta: which vCenter and its cost, or why it is unavailable."""

    def __init__(self, vcenter: VCenter | None = None, error: str | None = None, seconds: float = 0.0,
                 requests: int = 0, unjoined: dict[str, int] | None = None) -> None:
        self.vcenter = vcenter
        self.error = error  # "vSphere layer unavailable: ..." (then the vSphere kinds are empty)
        self.seconds = seconds
        self.requests = requests
        #: what did not join the OpenStack inventory (vsphere.join.Join's counts)
        self.unjoined = {} if unjoined is None else unjoined
