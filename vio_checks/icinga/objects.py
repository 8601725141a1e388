"""What each node of the dependency tree is as an Icinga / Nagios object: its name, display name, check,
custom vars, groups, address and notes/action URLs. The tree itself (which objects, who depends on whom)
is vio_checks.topology's; `build` asks it for the tree with this module's `IcingaLook`.

Object names are derived from ids (UUIDs; hypervisor_hostname where Nova gives integer ids; binary@host for
services), never from tenant-chosen names, and sanitised once here (`object_name`) to characters every
target accepts. Display names and vars carry the tenant's strings verbatim: every writer (the renderers,
export, the URLs here, impact / rootcause) makes them valid with vio_checks.text.valid, then escapes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from vio_checks import topology as t
from vio_checks.icinga import objects_cloud, objects_lb
from vio_checks.icinga.labels import cluster_moref, hypervisor_display, ip_address, vm_address  # noqa: F401
from vio_checks.icinga.optional_aggregates import FILTERED, present_aggregates
from vio_checks.model import Inventory, Port, Server, Volume
from vio_checks.selection import Selection, selection_args
from vio_checks.text import valid

#: The cloud host's aggregate services: name → (check command, arguments, the kind whose own objects also
#: report the aggregate's problems, and the arguments that then leave those problems to them). So one fault
#: pages once: an ERROR VM is its VM host DOWN, not also a CRITICAL `vms`; a stuck task, which a host check
#: cannot show (Icinga maps a host check's WARNING to UP), stays the `vms` aggregate's WARNING. An
#: unverified member (its reporter down, a field the API left out) is its own object's UNKNOWN (a host:
#: DOWN, UNREACHABLE below the down reporter that pages), so these aggregates also --accept-unverified.
#: A judged UNKNOWN member is never left to them: it still makes the aggregate UNKNOWN.
_ACCEPT = ("--accept-unverified", None)
AGGREGATES: dict[str, tuple[str, tuple[tuple[str, str | None], ...], str | None,
                            tuple[tuple[str, str | None], ...]]] = {
    # (controller clusters: their cluster services, so one down conductor pages once, there)
    t.NOVA_SERVICES: ("vio_service", (("--component", "nova"),), "services",
                      (("--exclude-binary", "nova-compute,nova-conductor,nova-scheduler,nova-consoleauth"),)),
    t.NEUTRON_AGENTS: ("vio_service", (("--component", "neutron"),), "services",
                       (("--exclude-binary", "neutron-l3-agent,neutron-dhcp-agent,neutron-metadata-agent"),)),
    t.CINDER_SERVICES: ("vio_service", (("--component", "cinder"),), "services",
                        (("--exclude-binary", "cinder-volume,cinder-scheduler,cinder-backup"),)),
    "keystone-endpoints": ("vio_service", (("--component", "keystone"),), None, ()),
    "inventory-changes": ("vio_inventory", (), None, ()),
    "vms": ("vio_vm", (), "vms", (("--ignore-states", "critical"), _ACCEPT)),
    "volumes": ("vio_volume", (), "volumes", (("--ignore-states", "warning,critical"), _ACCEPT)),
    "interfaces": ("vio_interface", (), "interfaces", (("--ignore-states", "warning,critical"), _ACCEPT)),
    # a router hosted by several L3 agents leaves their loss to its l3-agents service (its one parent)
    "routers": ("vio_router", (), "routers", (("--ignore-states", "critical"), _ACCEPT,
                                              ("--leave-l3-redundancy", None))),
}

#: The aggregate commands that take the generator's filters (selection.py), so they judge what it keeps:
#: command → whether monitoring=off applies to its objects (servers and their volumes and ports do).
FILTERED_AGGREGATE_COMMANDS = {"vio_vm": True, "vio_volume": True, "vio_interface": True, "vio_router": False,
                               **FILTERED}

#: Kinds whose own objects exist only together with other kinds: an interface service lives on its VM
#: host, so without VM hosts no interface reports anything and the aggregate must not leave it to them.
COVERED_NEEDS = {"interfaces": {"vms"}}

#: A hypervisor *host* check judges state only, because a DOWN hypervisor makes its VMs unreachable and a
#: full cluster is not a down one. Usage is the `capacity` service's job, with the check's thresholds.
STATE_ONLY_HYPERVISOR_ARGS = (("--state-only", None),)

_SAFE = re.compile(r"[^A-Za-z0-9_.@-]")
_MAX_PART = 120


def object_name(text: str) -> str:
    """An object-name part safe in Icinga 2 (no `!`) and Nagios (no illegal_object_name_chars), stable.

    Characters outside ``A-Za-z0-9_.@-`` become ``_``; when anything changed (or the text is long), a short
    hash of the original is appended so two different inputs never map to the same name.
    """
    text = str(text)
    clean = _SAFE.sub("_", text).strip("._-") or "_"
    if clean != text or len(clean) > _MAX_PART:
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        clean = f"{clean[:_MAX_PART]}-{digest}"
    return clean


def default_prefix(cloud: str, region: str | None) -> str:
    """`vio-<cloud>`, or `vio-<cloud>-<region>` when a region is set, sanitised."""
    return object_name(f"vio-{cloud}-{region}" if region else f"vio-{cloud}")


# --- objects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A check: the CheckCommand name and its arguments as long options (value None for a flag)."""

    command: str
    args: tuple[tuple[str, str | None], ...] = ()


@dataclass(kw_only=True)
class Node(t.Node):
    """A tree node as an Icinga host or service: its check and what apply rules and dashboards read."""

    check: Check
    vars: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    groups: tuple[str, ...] = ()
    notes_url: str | None = None
    action_url: str | None = None

    def __post_init__(self) -> None:
        self.vars = {k: v for k, v in self.vars.items() if v not in (None, "")}


@dataclass
class Group:
    """A HostGroup or ServiceGroup."""

    type: str  # "host" / "service"
    name: str
    display_name: str


class Objects(t.Topology):
    """The tree of Icinga objects of one cloud, and their host and service groups."""

    nodes: dict[str, Node]  # type: ignore[assignment]

    def __init__(self, cloud: str, region: str | None, prefix: str) -> None:
        super().__init__(cloud, region, prefix)
        self.groups: dict[tuple[str, str], Group] = {}

    def add_group(self, type_: str, name: str, display_name: str) -> str:
        self.groups.setdefault((type_, name), Group(type_, name, display_name))
        return name

    def get(self, key: str) -> Node:
        return self.nodes[key]


# --- options -----------------------------------------------------------------------------------------


@dataclass
class Options:
    """What the generator's filters and naming options decide."""

    prefix: str | None = None  # default: default_prefix(cloud, region)
    include_projects: frozenset[str] = frozenset()  # ids or names; empty: all
    exclude_projects: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset(t.SELECTABLE_KINDS)
    #: node kind (vm, hypervisor, router, interface, volume, project ...) → URL template with {id}, {name},
    #: {project_id}, {project}, {hypervisor}, {cloud}, {region}; values are URL-quoted before substitution.
    notes_urls: dict[str, str] = field(default_factory=dict)
    action_urls: dict[str, str] = field(default_factory=dict)


URL_FIELDS = ("id", "name", "project_id", "project", "hypervisor", "cloud", "region")


def _quote(value: object) -> str:
    """A URL template's field value, percent-encoded as UTF-8 (made valid first when it must be)."""
    try:
        return quote(str(value), safe="")
    except UnicodeEncodeError:  # a lone surrogate: the common case pays nothing for the rare one
        return quote(valid(value), safe="")


def check_url_template(template: str) -> None:
    """Raise ValueError when a URL template names an unknown {field}."""
    try:
        template.format(**dict.fromkeys(URL_FIELDS, ""))
    except (KeyError, IndexError, ValueError) as e:
        fields = ", ".join("{" + f + "}" for f in URL_FIELDS)
        raise ValueError(f"bad URL template {template!r} ({e}): use only {fields}") from None


def build(inv: Inventory, opts: Options | None = None) -> Objects:
    """The Icinga objects of an inventory, as a tree proved acyclic (topology.CycleError otherwise)."""
    opts = opts or Options()
    look = IcingaLook(inv, opts)
    topo = t.build(inv, opts.kinds, look.selection, look)
    assert isinstance(topo, Objects)
    return topo


class IcingaLook:
    """topology.Look for Icinga 2 and Nagios: object names from ids under the prefix, vars, groups, URLs
    and the check (with its arguments) of each node."""

    def __init__(self, inv: Inventory, opts: Options) -> None:
        self.inv = inv
        self.opts = opts
        meta = inv.meta
        self.cloud_name = meta.cloud
        self.region = meta.region
        self.prefix = object_name(opts.prefix) if opts.prefix else default_prefix(meta.cloud, meta.region)
        self.projects = {p.id: p.name for p in inv.projects}
        self.kinds = opts.kinds
        # The generator always leaves monitoring=off servers out; its aggregates get the same filters.
        self.selection = Selection(opts.include_projects, opts.exclude_projects, skip_unmonitored=True,
                                   project_names=self.projects)
        self.topo = Objects(meta.cloud, meta.region, self.prefix)
        self.kind_groups: dict[str, str] = {}
        self.hv_groups: dict[str, tuple[str, str]] = {}  # hypervisor key → its (host, service) group
        self.vm_hypervisor: dict[str, str | None] = {}  # VM key → its hypervisor's key
        self._indexes: dict[str, dict[str, Any]] = {}
        self._gateways: dict[str, Port] | None = None

    # --- helpers -------------------------------------------------------------------------------

    def name(self, *parts: str) -> str:
        return "-".join([self.prefix, *(object_name(p) for p in parts)])

    def project_name(self, project_id: str) -> str:
        return self.projects.get(project_id) or project_id

    def base_vars(self, kind: str, object_id: str | None) -> dict[str, Any]:
        """vio_kind and vio_id; hosts also vio_cloud and vio_region (services see them as host.vars)."""
        v: dict[str, Any] = {"vio_kind": kind}
        if kind in t.HOST_KINDS:
            v.update(vio_cloud=self.cloud_name, vio_region=self.region)
        if object_id is not None:
            v["vio_id"] = object_id
        return v

    def urls(self, node: Node, fields: dict[str, str | None]) -> None:
        values = {f: "" for f in URL_FIELDS}
        values.update(cloud=self.cloud_name, region=self.region or "")
        values.update({k: v or "" for k, v in fields.items()})
        quoted = {k: _quote(v) for k, v in values.items()}
        for attr, templates in (("notes_url", self.opts.notes_urls), ("action_url", self.opts.action_urls)):
            template = templates.get(node.kind)
            if template:
                setattr(node, attr, template.format(**quoted))

    def _by_id(self, collection: str) -> dict[str, Any]:
        """The inventory's agents, networks or servers by id (built once)."""
        if collection not in self._indexes:
            self._indexes[collection] = {o.id: o for o in getattr(self.inv, collection)}
        return self._indexes[collection]

    def host_group(self, suffix: str, display: str) -> str:
        return self.topo.add_group("host", f"{self.prefix}-{suffix}", display)

    def service_group(self, suffix: str, display: str) -> str:
        return self.topo.add_group("service", f"{self.prefix}-{suffix}", display)

    def project_group(self, type_: str, project_id: str) -> str:
        return self.topo.add_group(type_, f"{self.prefix}-project-{object_name(project_id)}",
                                   f"{self.label}: project {self.project_name(project_id)}")

    @property
    def label(self) -> str:
        return f"VIO {self.cloud_name}" + (f" {self.region}" if self.region else "")

    # --- topology.Look -------------------------------------------------------------------------

    def tree(self) -> Objects:
        return self.topo

    def begin(self, section: str) -> None:
        """The kind's group(s), there even when no object of the kind exists."""
        groups = {"hypervisors": [("host", "hypervisors", "hypervisors (vSphere clusters)"),
                                  ("service", "capacity", "hypervisor capacity")],
                  "routers": [("host", "routers", "routers")], "vms": [("host", "vms", "VMs")],
                  "interfaces": [("service", "interfaces", "VM interfaces (ports)")],
                  "volumes": [("service", "volumes", "volumes")],
                  "esxi": [("host", "esxi-hosts", "ESXi hosts"), ("service", "datastores", "datastores")],
                  }[section]
        for type_, suffix, what in groups:
            name = f"{self.prefix}-{suffix}"
            self.kind_groups[suffix] = self.topo.add_group(type_, name, f"{self.label}: {what}")

    def cloud(self) -> Node:
        node = Node(kind=t.CLOUD, host=self.prefix, service=None, display_name=self.label, object_id=None,
                    check=Check("vio_discovery"), vars=self.base_vars(t.CLOUD, None),
                    groups=(self.host_group("cloud", f"{self.label}: cloud"),))
        self.urls(node, {"name": self.cloud_name})
        return node

    def aggregates(self) -> list[Node]:
        group = self.service_group("cloud-services", f"{self.label}: cloud services and aggregates")
        out = []
        for name, (command, args, covered_by, leave_to_them) in {**AGGREGATES,
                                                                  **present_aggregates(self.inv.meta)}.items():
            if command in FILTERED_AGGREGATE_COMMANDS:
                # judge exactly the objects the generated config keeps
                args = (*args, *selection_args(self.selection, FILTERED_AGGREGATE_COMMANDS[command]))
            if covered_by in self.kinds and COVERED_NEEDS.get(covered_by, set()) <= self.kinds:
                args = (*args, *leave_to_them)
            out.append(Node(kind=t.AGGREGATE, host=self.prefix, service=name, display_name=name,
                            object_id=None, check=Check(command, args),
                            vars=self.base_vars(t.AGGREGATE, None), groups=(group,)))
        return out

    def service(self, obj: Any, kind: str, parent: str | None) -> Node:
        v = self.base_vars(kind, f"{obj.binary}@{obj.host}")
        v.update(vio_binary=obj.binary, vio_node=obj.host)
        return Node(kind=kind, host=self.prefix, service=object_name(f"{obj.binary}@{obj.host}"),
                    display_name=f"{obj.binary} on {obj.host}", object_id=f"{obj.binary}@{obj.host}",
                    check=Check("vio_service", (("--binary", obj.binary), ("--host", obj.host))), vars=v,
                    parents=(parent,) if parent else (), groups=(f"{self.prefix}-cloud-services",))

    def cluster(self, binary: str) -> Node:
        """A controller cluster: a service of the cloud host named by its binary (never by a record, so
        pod churn changes nothing here), running `check_vio_service --binary B` (judge/cluster.py)."""
        v = self.base_vars(t.CLUSTER, binary)
        v["vio_binary"] = binary
        return Node(kind=t.CLUSTER, host=self.prefix, service=object_name(binary),
                    display_name=f"cluster {binary}", object_id=binary,
                    check=Check("vio_service", (("--binary", binary),)), vars=v,
                    groups=(f"{self.prefix}-cloud-services",))

    def hypervisor(self, hv: Any, parent: str) -> tuple[Node, Node]:
        key = self.name("hv", t.hypervisor_key(hv))
        shown = hypervisor_display(hv)
        hgroup = self.topo.add_group("host", key, f"{self.label}: hypervisor {shown}")
        sgroup = self.topo.add_group("service", key, f"{self.label}: hypervisor {shown}")
        self.hv_groups.setdefault(key, (hgroup, sgroup))
        v = self.base_vars(t.HYPERVISOR, str(hv.id))
        v.update(vio_hypervisor=hv.label, vio_hypervisor_hostname=hv.hostname,
                 vio_compute_host=hv.service_host)
        if hv.cluster_name:
            v["vio_cluster"] = hv.cluster_name
        if hv.type:
            v["vio_hypervisor_type"] = hv.type
        ident = hv.hostname if str(hv.id).isdigit() else str(hv.id)
        check = Check("vio_hypervisor", (("--id", ident), *STATE_ONLY_HYPERVISOR_ARGS))
        host = Node(kind=t.HYPERVISOR, host=key, service=None, display_name=shown, object_id=str(hv.id),
                    check=check, vars=v, parents=(parent,), address=ip_address(hv.host_ip),
                    groups=(self.kind_groups["hypervisors"], hgroup))
        self.urls(host, {"id": str(hv.id), "name": hv.label, "hypervisor": hv.hostname})
        cap_vars = self.base_vars(t.CAPACITY, str(hv.id))
        cap_vars.update(vio_hypervisor=hv.label, vio_hypervisor_hostname=hv.hostname)
        capacity = Node(kind=t.CAPACITY, host=key, service="capacity", display_name=f"capacity of {shown}",
                        object_id=str(hv.id), check=Check("vio_hypervisor", (("--id", ident),)),
                        vars=cap_vars, parents=(parent,), groups=(self.kind_groups["capacity"], sgroup))
        return host, capacity

    def esxi(self, host: Any, parent: str) -> Node:
        """An ESXi host (vSphere layer) below its cluster's hypervisor host, in that hypervisor's group."""
        v = self.base_vars(t.ESXI, host.moref)
        v.update(vio_name=host.name, vio_cluster_moref=host.cluster, vio_hypervisor_hostname=host.hypervisor)
        groups = [self.kind_groups["esxi-hosts"]]
        if parent in self.hv_groups:
            groups.append(self.hv_groups[parent][0])
        node = Node(kind=t.ESXI, host=self.name("esxi", host.moref), service=None,
                    display_name=host.name or host.moref, object_id=host.moref,
                    check=Check("vio_esxi", (("--id", host.moref),)), vars=v, parents=(parent,),
                    address=ip_address(host.name), groups=tuple(groups))
        self.urls(node, {"id": host.moref, "name": host.name, "hypervisor": host.hypervisor})
        return node

    def certificate(self, c: Any) -> Node:  # objects_cloud.py
        return self._made(objects_cloud.certificate(self, c))

    def datastore(self, ds: Any) -> Node:  # objects_cloud.py
        return self._made(objects_cloud.datastore(self, ds))

    def router(self, router: Any, parent: str, networks: list[str]) -> Node:
        r = router
        agents, by_id = self._by_id("agents"), self._by_id("networks")
        if self._gateways is None:
            self._gateways = {p.device_id: p for p in self.inv.ports
                              if p.device_owner == "network:router_gateway"}
        gateway = self._gateways.get(r.id)
        v = self.base_vars(t.ROUTER, r.id)
        v.update(vio_name=r.name, vio_project=self.project_name(r.project_id), vio_project_id=r.project_id,
                 vio_networks=[by_id[n].name if n in by_id else n for n in networks],
                 vio_network_ids=networks, vio_ha=bool(r.ha), vio_distributed=bool(r.distributed),
                 vio_l3_agents=sorted(f"{agents[a].binary}@{agents[a].host}" for a in r.agent_ids
                                      if a in agents))
        address = ip_address(gateway.fixed_ips[0].ip_address) if gateway and gateway.fixed_ips else None
        node = Node(kind=t.ROUTER, host=self.name("router", r.id), service=None, display_name=r.name or r.id,
                    object_id=r.id, check=Check("vio_router", (("--id", r.id),)), vars=v, parents=(parent,),
                    address=address,
                    groups=(self.kind_groups["routers"], self.project_group("host", r.project_id)))
        self.urls(node, {"id": r.id, "name": r.name, "project_id": r.project_id,
                         "project": self.project_name(r.project_id)})
        return node

    def l3_agents(self, router: Any) -> Node:
        """The L3 agents of a router hosted by several, as one redundant set: a service of the cloud host
        (`l3-agents-<router id>`) running `check_vio_router --id X --l3-agents`; the router's one parent."""
        r, agents = router, self._by_id("agents")
        v = self.base_vars(t.L3_AGENTS, r.id)
        v.update(vio_router=r.name, vio_project=self.project_name(r.project_id), vio_project_id=r.project_id,
                 vio_l3_agents=sorted(f"{agents[a].binary}@{agents[a].host}" if a in agents else a
                                      for a in set(r.agent_ids)))
        return Node(kind=t.L3_AGENTS, host=self.prefix, service=object_name(f"l3-agents-{r.id}"),
                    display_name=f"L3 agents of router {r.name or r.id}", object_id=None,
                    check=Check("vio_router", (("--id", r.id), ("--l3-agents", None),
                                               ("--expect-agents", str(len(set(r.agent_ids)))))), vars=v,
                    groups=(f"{self.prefix}-cloud-services",))

    def vm(self, server: Server, parent: str, hypervisor: Any, hypervisor_key: str | None) -> Node:
        s = server
        v = self.base_vars(t.VM, s.id)
        v.update(vio_name=s.name, vio_project=self.project_name(s.project_id), vio_project_id=s.project_id,
                 vio_networks=sorted({a.network for a in s.addresses}))
        hv_label = hypervisor.label if hypervisor is not None else s.hypervisor_hostname
        for var, value in (("vio_hypervisor", hv_label),
                           ("vio_hypervisor_hostname", s.hypervisor_hostname),
                           ("vio_compute_host", s.host), ("vio_flavor", s.flavor),
                           ("vio_availability_zone", s.availability_zone)):
            if value:
                v[var] = value
        if s.metadata:
            v["vio_metadata"] = {str(k): str(val) for k, val in sorted(s.metadata.items())}
        groups = [self.kind_groups["vms"], self.project_group("host", s.project_id)]
        if hypervisor_key:
            groups.append(self.hv_groups[hypervisor_key][0])
        node = Node(kind=t.VM, host=self.name("vm", s.id), service=None, display_name=s.name or s.id,
                    object_id=s.id, check=Check("vio_vm", (("--id", s.id),)), vars=v, parents=(parent,),
                    address=vm_address(s), groups=tuple(groups))
        self.urls(node, {"id": s.id, "name": s.name, "project_id": s.project_id,
                         "project": self.project_name(s.project_id), "hypervisor": s.hypervisor_hostname})
        self.vm_hypervisor[node.key] = hypervisor_key
        return node

    def _vm_service_groups(self, vm_key: str, kind_group: str, project_id: str) -> tuple[str, ...]:
        """A service on a VM host: its kind's, its project's and its hypervisor's service groups."""
        groups = [kind_group, self.project_group("service", project_id)]
        hv_key = self.vm_hypervisor.get(vm_key)
        if hv_key:
            groups.append(self.hv_groups[hv_key][1])
        return tuple(groups)

    def port(self, port: Port, vm_key: str, parent: str | None, routers: list[str], server: Server) -> Node:
        p = port
        net = self._by_id("networks").get(p.network_id)
        net_name = net.name if net and net.name else p.network_id
        ips = [f.ip_address for f in p.fixed_ips]
        v = self.base_vars(t.INTERFACE, p.id)
        v.update(vio_name=p.name, vio_network=net_name, vio_network_id=p.network_id, vio_ips=ips,
                 vio_routers=routers, vio_project=self.project_name(server.project_id),
                 vio_project_id=server.project_id, vio_vm=server.name, vio_server_id=server.id)
        if p.mac_address:
            v["vio_mac"] = p.mac_address
        display = f"interface {net_name}" + (f" {ips[0]}" if ips else "")
        node = Node(kind=t.INTERFACE, host=vm_key, service=object_name(f"port-{p.id}"), display_name=display,
                    object_id=p.id, check=Check("vio_interface", (("--id", p.id),)), vars=v,
                    parents=(parent,) if parent else (),
                    groups=self._vm_service_groups(vm_key, self.kind_groups["interfaces"], server.project_id))
        self.urls(node, {"id": p.id, "name": p.name, "project_id": server.project_id,
                         "project": self.project_name(server.project_id)})
        return node

    def backend(self, service_host: str | None, parent: str) -> Node:
        group = self.host_group("volume-backends", f"{self.label}: cinder backends")
        what = f"cinder backend {service_host}" if service_host else "volumes without a cinder backend"
        v = self.base_vars(t.BACKEND, service_host)
        if service_host:
            v["vio_backend"] = service_host
        text = f"container for the {what}: volumes attached to no monitored VM"
        return Node(kind=t.BACKEND, host=self.name("cinder", service_host or "unscheduled"), service=None,
                    display_name=what, object_id=service_host, check=Check("dummy", (("--text", text),)),
                    vars=v, parents=(parent,), groups=(group,))

    def volume(self, vol: Volume, host: str, parent: str, server: Server | None) -> Node:
        v = self.base_vars(t.VOLUME, vol.id)
        v.update(vio_name=vol.name, vio_project=self.project_name(vol.project_id),
                 vio_project_id=vol.project_id, vio_size_gb=vol.size_gb, vio_bootable=bool(vol.bootable))
        if vol.service_host:
            v["vio_backend"] = vol.service_host
        if vol.volume_type:
            v["vio_volume_type"] = vol.volume_type
        device = None
        if server is not None:
            device = next((a.device for a in vol.attachments if a.server_id == server.id and a.device), None)
            v.update(vio_vm=server.name, vio_server_id=server.id)
            if device:
                v["vio_device"] = device
            groups = self._vm_service_groups(host, self.kind_groups["volumes"], vol.project_id)
        else:
            groups = (self.kind_groups["volumes"], self.project_group("service", vol.project_id))
        display = f"volume {vol.name or vol.id}" + (f" on {device}" if device else "")
        node = Node(kind=t.VOLUME, host=host, service=object_name(f"volume-{vol.id}"), display_name=display,
                    object_id=vol.id, check=Check("vio_volume", (("--id", vol.id),)), vars=v,
                    parents=(parent,), groups=groups)
        self.urls(node, {"id": vol.id, "name": vol.name, "project_id": vol.project_id,
                         "project": self.project_name(vol.project_id)})
        return node

    def _made(self, made: tuple[dict[str, Any], dict[str, str | None]]) -> Node:
        fields, url_fields = made
        node = Node(**{**fields, "check": Check(*fields["check"]),
                       "service": fields["service"] and object_name(fields["service"])})
        self.urls(node, url_fields)
        return node

    def load_balancer(self, lb: Any, parent: str) -> Node:  # objects_lb.py
        return self._made(objects_lb.load_balancer(self, lb, parent))

    def lb_member(self, lb: Any, member: Any, lb_key: str, parent: str | None) -> Node:  # objects_lb.py
        return self._made(objects_lb.lb_member(self, lb, member, lb_key, parent))
