"""The dependency tree of a cloud: which monitored object's failure explains which other's.

A pure function of an Inventory plus options (`build`), shared by the Icinga 2 / Nagios config generator
and by `vio-icinga impact` / `rootcause`. Nothing here does I/O or knows a target syntax.

Nodes are Icinga hosts or services (a service's `key` is `host!service`, as Icinga names it). Each node
has at most one explicit parent, except a set of *redundant* parents (an HA router's L3 agents): the
child is unreachable only when every one of them failed. A service also has its host as implicit parent.

    cloud host <prefix>                           check_vio_discovery
      ├─ services: aggregates (nova-services, vms, ...) and one per nova-compute / cinder-volume / L3 agent
      ├─ hypervisor host  ── parent: its nova-compute service       (service: capacity)
      │    └─ VM host     ── parent: its hypervisor host            (address: floating, else first fixed IP)
      │         ├─ port-<id>    ── parent: the router serving the port's network (lowest id)
      │         └─ volume-<id>  ── parent: the cinder-volume service of its backend
      ├─ router host      ── parent: its L3 agent service (HA: all of them, redundant); NSX: neutron-agents
      └─ cinder backend host (container)  ── parent: its cinder-volume service
           └─ volume-<id> (attached to no monitored VM) ── parent: the cinder-volume service

Object names are derived from ids (UUIDs; hypervisor_hostname where Nova gives integer ids; binary@host for
services), never from tenant-chosen names, and sanitised once here (`object_name`) to characters every
target accepts. Display names and vars carry the tenant's strings verbatim: the renderers escape them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from vio_checks.model import Inventory, Port, Server, Volume, routers_by_network
from vio_checks.placement import Placement
from vio_checks.selection import Selection, selection_args

# --- node kinds ---------------------------------------------------------------------------------

CLOUD = "cloud"
AGGREGATE = "aggregate"
COMPUTE_SERVICE = "compute-service"
VOLUME_SERVICE = "volume-service"
L3_AGENT = "l3-agent"
HYPERVISOR = "hypervisor"
CAPACITY = "capacity"
VM = "vm"
INTERFACE = "interface"
VOLUME = "volume"
ROUTER = "router"
BACKEND = "volume-backend"

#: Host kinds and service kinds, in the order the generated config lists them.
HOST_KINDS = (CLOUD, HYPERVISOR, ROUTER, BACKEND, VM)
SERVICE_KINDS = (AGGREGATE, COMPUTE_SERVICE, VOLUME_SERVICE, L3_AGENT, CAPACITY, INTERFACE, VOLUME)
KIND_ORDER = {k: i for i, k in enumerate(HOST_KINDS + SERVICE_KINDS)}

#: What `--kinds` selects (the cloud host and its service aggregates are always there).
SELECTABLE_KINDS = ("hypervisors", "vms", "interfaces", "volumes", "routers", "services")

#: The cloud host's aggregate services: name → (check command, arguments, the kind whose own objects also
#: report the aggregate's problems, and the arguments that then leave those problems to them). So one fault
#: pages once: an ERROR VM is its VM host DOWN, not also a CRITICAL `vms`; a stuck task, which a host check
#: cannot show (Icinga maps a host check's WARNING to UP), stays the `vms` aggregate's WARNING.
AGGREGATES: dict[str, tuple[str, tuple[tuple[str, str | None], ...], str | None,
                            tuple[tuple[str, str | None], ...]]] = {
    "nova-services": ("vio_service", (("--component", "nova"),), "services",
                      (("--exclude-binary", "nova-compute"),)),
    "neutron-agents": ("vio_service", (("--component", "neutron"),), "services",
                       (("--exclude-binary", "neutron-l3-agent"),)),
    "cinder-services": ("vio_service", (("--component", "cinder"),), "services",
                        (("--exclude-binary", "cinder-volume"),)),
    "keystone-endpoints": ("vio_service", (("--component", "keystone"),), None, ()),
    "inventory-changes": ("vio_inventory", (), None, ()),
    "vms": ("vio_vm", (), "vms", (("--ignore-states", "critical"),)),
    "volumes": ("vio_volume", (), "volumes", (("--ignore-states", "warning,critical"),)),
    "interfaces": ("vio_interface", (), "interfaces", (("--ignore-states", "warning,critical"),)),
    "routers": ("vio_router", (), "routers", (("--ignore-states", "critical"),)),
}

#: The aggregate commands that take the generator's filters (selection.py), so they judge what it keeps:
#: command → whether monitoring=off applies to its objects (servers and their volumes and ports do).
FILTERED_AGGREGATE_COMMANDS = {"vio_vm": True, "vio_volume": True, "vio_interface": True, "vio_router": False}

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


# --- graph ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A check: the CheckCommand name and its arguments as long options (value None for a flag)."""

    command: str
    args: tuple[tuple[str, str | None], ...] = ()


@dataclass
class Node:
    """One monitored object: an Icinga host (service None) or a service on a host."""

    kind: str
    host: str
    service: str | None
    display_name: str
    object_id: str | None
    check: Check
    vars: dict[str, Any] = field(default_factory=dict)
    #: Keys of the explicit parents (one, or several forming `redundancy_group`).
    parents: tuple[str, ...] = ()
    redundancy_group: str | None = None
    address: str | None = None
    groups: tuple[str, ...] = ()
    notes_url: str | None = None
    action_url: str | None = None

    @property
    def key(self) -> str:
        return self.host if self.service is None else f"{self.host}!{self.service}"

    @property
    def is_host(self) -> bool:
        return self.service is None


@dataclass
class Group:
    """A HostGroup or ServiceGroup."""

    type: str  # "host" / "service"
    name: str
    display_name: str


class CycleError(ValueError):
    """The graph has a cycle (or a dangling parent); `cycle` lists the keys along it."""

    def __init__(self, message: str, cycle: list[str]) -> None:
        super().__init__(message)
        self.cycle = cycle


class Topology:
    """Nodes by key, their groups, and the parent/child relation (explicit + implicit host edges)."""

    def __init__(self, cloud: str, region: str | None, prefix: str) -> None:
        self.cloud = cloud
        self.region = region
        self.prefix = prefix
        self.nodes: dict[str, Node] = {}
        self.groups: dict[tuple[str, str], Group] = {}
        self._children: dict[str, list[str]] | None = None
        self._services: dict[str, list[Node]] | None = None

    # --- building ------------------------------------------------------------------------------

    def add(self, node: Node) -> Node:
        if node.key in self.nodes:
            raise ValueError(f"duplicate node {node.key}")
        node.vars = {k: v for k, v in node.vars.items() if v not in (None, "")}
        self.nodes[node.key] = node
        self._children = self._services = None
        return node

    def add_group(self, type_: str, name: str, display_name: str) -> str:
        self.groups.setdefault((type_, name), Group(type_, name, display_name))
        return name

    # --- queries -------------------------------------------------------------------------------

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, key: str) -> Node:
        return self.nodes[key]

    def sorted_nodes(self) -> list[Node]:
        """Every node in output order: by kind, then key."""
        return sorted(self.nodes.values(), key=lambda n: (KIND_ORDER[n.kind], n.key))

    def hosts(self) -> list[Node]:
        return [n for n in self.sorted_nodes() if n.is_host]

    def services_of(self, host: str) -> list[Node]:
        if self._services is None:
            services: dict[str, list[Node]] = {}
            for n in self.nodes.values():
                if not n.is_host:
                    services.setdefault(n.host, []).append(n)
            self._services = {h: sorted(v, key=lambda n: (KIND_ORDER[n.kind], n.key))
                              for h, v in services.items()}
        return list(self._services.get(host, ()))

    def parent_keys(self, key: str, implicit: bool = True) -> list[str]:
        """Explicit parents, then (for a service, with implicit=True) its host."""
        node = self.nodes[key]
        keys = list(node.parents)
        if implicit and not node.is_host and node.host not in keys:
            keys.append(node.host)
        return keys

    def parents_of(self, key: str, implicit: bool = True) -> list[Node]:
        return [self.nodes[k] for k in self.parent_keys(key, implicit) if k in self.nodes]

    def children_of(self, key: str, implicit: bool = True) -> list[Node]:
        if self._children is None:
            children: dict[str, list[str]] = {}
            for node in self.nodes.values():
                for parent in self.parent_keys(node.key, implicit=True):
                    children.setdefault(parent, []).append(node.key)
            self._children = {k: sorted(v) for k, v in children.items()}
        found = [self.nodes[k] for k in self._children.get(key, ())]
        if not implicit:
            found = [n for n in found if key in n.parents]
        return found

    def descendants(self, key: str) -> list[Node]:
        """Every node below `key` (children, their children, ...), each once, in sorted order."""
        seen: set[str] = set()
        stack = [key]
        while stack:
            for child in self.children_of(stack.pop()):
                if child.key not in seen:
                    seen.add(child.key)
                    stack.append(child.key)
        return sorted((self.nodes[k] for k in seen), key=lambda n: (KIND_ORDER[n.kind], n.key))

    def ancestors(self, key: str) -> list[Node]:
        """Every node above `key`, each once."""
        seen: set[str] = set()
        stack = [key]
        while stack:
            for parent in self.parent_keys(stack.pop()):
                if parent not in seen and parent in self.nodes:
                    seen.add(parent)
                    stack.append(parent)
        return sorted((self.nodes[k] for k in seen), key=lambda n: (KIND_ORDER[n.kind], n.key))

    def edges(self) -> Iterator[tuple[str, str, bool]]:
        """(child, parent, implicit) for every edge."""
        for node in self.sorted_nodes():
            for parent in node.parents:
                yield node.key, parent, False
            if not node.is_host and node.host not in node.parents:
                yield node.key, node.host, True

    def depth(self) -> dict[str, int]:
        """Longest path from a root to each node (roots 0); requires an acyclic graph."""
        self.assert_acyclic()
        memo: dict[str, int] = {}
        for start in self.sorted_nodes():
            stack = [start.key]
            while stack:
                key = stack[-1]
                if key in memo:
                    stack.pop()
                    continue
                pending = [p for p in self.parent_keys(key) if p not in memo]
                if pending:
                    stack.extend(pending)
                    continue
                memo[key] = 1 + max((memo[p] for p in self.parent_keys(key)), default=-1)
                stack.pop()
        return memo

    def assert_acyclic(self) -> None:
        """Prove every parent exists and no node is its own ancestor; raise CycleError otherwise."""
        for child, parent, _ in self.edges():
            if parent not in self.nodes:
                raise CycleError(f"{child} depends on {parent}, which is not in the graph", [child, parent])
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.nodes, white)
        for root in sorted(self.nodes):
            if color[root] != white:
                continue
            path: list[str] = [root]
            iters = [iter(self.parent_keys(root))]
            color[root] = grey
            while iters:
                nxt = next(iters[-1], None)
                if nxt is None:
                    color[path.pop()] = black
                    iters.pop()
                elif color[nxt] == grey:
                    cycle = path[path.index(nxt):] + [nxt]
                    raise CycleError("dependency cycle: " + " -> ".join(cycle), cycle)
                elif color[nxt] == white:
                    color[nxt] = grey
                    path.append(nxt)
                    iters.append(iter(self.parent_keys(nxt)))


# --- options and building -------------------------------------------------------------------------


@dataclass
class Options:
    """What the generator's filters and naming options decide."""

    prefix: str | None = None  # default: default_prefix(cloud, region)
    include_projects: frozenset[str] = frozenset()  # ids or names; empty: all
    exclude_projects: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset(SELECTABLE_KINDS)
    #: node kind (vm, hypervisor, router, interface, volume, project ...) → URL template with {id}, {name},
    #: {project_id}, {project}, {hypervisor}, {cloud}, {region}; values are URL-quoted before substitution.
    notes_urls: dict[str, str] = field(default_factory=dict)
    action_urls: dict[str, str] = field(default_factory=dict)


URL_FIELDS = ("id", "name", "project_id", "project", "hypervisor", "cloud", "region")


def check_url_template(template: str) -> None:
    """Raise ValueError when a URL template names an unknown {field}."""
    try:
        template.format(**dict.fromkeys(URL_FIELDS, ""))
    except (KeyError, IndexError, ValueError) as e:
        fields = ", ".join("{" + f + "}" for f in URL_FIELDS)
        raise ValueError(f"bad URL template {template!r} ({e}): use only {fields}") from None


def ip_address(text: str | None) -> str | None:
    """The text when it is an IP address (what `address` may hold), else None."""
    try:
        return str(ipaddress.ip_address(str(text).strip())) if text else None
    except ValueError:
        return None


def _vm_address(server: Server) -> str | None:
    """The floating IP, else the first fixed IP, so users' own apply rules (ping, ssh) reach the VM."""
    for addr in (*server.floating_ips, *server.fixed_ips):
        if ip_address(addr):
            return ip_address(addr)
    return None


def _hv_key(hv) -> str:
    """Nova's UUID id (2.53+), else the hypervisor_hostname (integer ids are not stable)."""
    return hv.hostname if str(hv.id).isdigit() or not hv.id else str(hv.id)


class _Builder:
    def __init__(self, inv: Inventory, opts: Options) -> None:
        self.inv = inv
        self.opts = opts
        meta = inv.meta
        self.cloud = meta.cloud
        self.region = meta.region
        self.prefix = object_name(opts.prefix) if opts.prefix else default_prefix(meta.cloud, meta.region)
        self.topo = Topology(meta.cloud, meta.region, self.prefix)
        self.projects = {p.id: p.name for p in inv.projects}
        self.kinds = opts.kinds
        # The generator always leaves monitoring=off servers out; its aggregates get the same filters.
        self.selection = Selection(opts.include_projects, opts.exclude_projects, skip_unmonitored=True,
                                   project_names=self.projects)

    # --- helpers -------------------------------------------------------------------------------

    def name(self, *parts: str) -> str:
        return "-".join([self.prefix, *(object_name(p) for p in parts)])

    def project_name(self, project_id: str) -> str:
        return self.projects.get(project_id) or project_id

    def base_vars(self, kind: str, object_id: str | None) -> dict[str, Any]:
        """vio_kind and vio_id; hosts also vio_cloud and vio_region (services see them as host.vars)."""
        v: dict[str, Any] = {"vio_kind": kind}
        if kind in HOST_KINDS:
            v.update(vio_cloud=self.cloud, vio_region=self.region)
        if object_id is not None:
            v["vio_id"] = object_id
        return v

    def urls(self, node: Node, fields: dict[str, str | None]) -> None:
        values = {f: "" for f in URL_FIELDS}
        values.update(cloud=self.cloud, region=self.region or "")
        values.update({k: v or "" for k, v in fields.items()})
        quoted = {k: quote(str(v), safe="") for k, v in values.items()}
        for attr, templates in (("notes_url", self.opts.notes_urls), ("action_url", self.opts.action_urls)):
            template = templates.get(node.kind)
            if template:
                setattr(node, attr, template.format(**quoted))

    def host_group(self, suffix: str, display: str) -> str:
        return self.topo.add_group("host", f"{self.prefix}-{suffix}", display)

    def service_group(self, suffix: str, display: str) -> str:
        return self.topo.add_group("service", f"{self.prefix}-{suffix}", display)

    def project_group(self, type_: str, project_id: str) -> str:
        return self.topo.add_group(type_, f"{self.prefix}-project-{object_name(project_id)}",
                                   f"{self.label}: project {self.project_name(project_id)}")

    @property
    def label(self) -> str:
        return f"VIO {self.cloud}" + (f" {self.region}" if self.region else "")

    # --- the tree ------------------------------------------------------------------------------

    def build(self) -> Topology:
        self.cloud_host()
        self.service_nodes()
        self.hypervisors()
        self.routers()
        self.vms()
        self.ports()
        self.volumes()
        self.topo.assert_acyclic()
        return self.topo

    def cloud_host(self) -> None:
        p = self.prefix
        node = Node(CLOUD, p, None, self.label, None, Check("vio_discovery"), self.base_vars(CLOUD, None),
                    groups=(self.host_group("cloud", f"{self.label}: cloud"),))
        self.urls(node, {"name": self.cloud})
        self.topo.add(node)
        group = self.service_group("cloud-services", f"{self.label}: cloud services and aggregates")
        for name, (command, args, covered_by, leave_to_them) in AGGREGATES.items():
            if command in FILTERED_AGGREGATE_COMMANDS:
                # judge exactly the objects the generated config keeps
                args = (*args, *selection_args(self.selection, FILTERED_AGGREGATE_COMMANDS[command]))
            if covered_by in self.kinds and COVERED_NEEDS.get(covered_by, set()) <= self.kinds:
                args = (*args, *leave_to_them)
            self.topo.add(Node(AGGREGATE, p, name, name, None, Check(command, args),
                               self.base_vars(AGGREGATE, None), groups=(group,)))

    def service_nodes(self) -> None:
        """One service on the cloud host per nova-compute, cinder-volume and L3 agent (parents below)."""
        self.compute_svc: dict[str, str] = {}
        self.volume_svc: dict[str, str] = {}
        self.agent_svc: dict[str, str] = {}
        if "services" not in self.kinds:
            return
        group = f"{self.prefix}-cloud-services"
        wanted = [(s, COMPUTE_SERVICE, self.compute_svc, s.host) for s in self.inv.compute_services
                  if s.binary == "nova-compute"]
        wanted += [(s, VOLUME_SERVICE, self.volume_svc, s.host) for s in self.inv.volume_services
                   if s.binary == "cinder-volume"]
        wanted += [(a, L3_AGENT, self.agent_svc, a.id) for a in self.inv.agents if a.is_l3]
        for obj, kind, index, index_key in sorted(wanted, key=lambda w: (w[0].binary, w[0].host, w[3])):
            name = object_name(f"{obj.binary}@{obj.host}")
            key = f"{self.prefix}!{name}"
            if key not in self.topo:
                v = self.base_vars(kind, f"{obj.binary}@{obj.host}")
                v.update(vio_binary=obj.binary, vio_node=obj.host)
                self.topo.add(Node(kind, self.prefix, name, f"{obj.binary} on {obj.host}",
                                   f"{obj.binary}@{obj.host}",
                                   Check("vio_service", (("--binary", obj.binary), ("--host", obj.host))),
                                   v, groups=(group,)))
            index[index_key] = key

    def aggregate(self, name: str) -> str:
        return f"{self.prefix}!{name}"

    def hypervisors(self) -> None:
        self.hv_by_hostname: dict[str, str] = {}
        self.hv_groups: dict[str, tuple[str, str]] = {}
        self.placement = Placement(self.inv.hypervisors, self.inv.compute_services)
        if "hypervisors" not in self.kinds:
            return
        kind_group = self.host_group("hypervisors", f"{self.label}: hypervisors (vSphere clusters)")
        cap_group = self.service_group("capacity", f"{self.label}: hypervisor capacity")
        for hv in sorted(self.inv.hypervisors, key=_hv_key):
            key = self.name("hv", _hv_key(hv))
            if key in self.topo:
                continue
            parent = self.compute_svc.get(hv.service_host) or self.aggregate("nova-services")
            hgroup = self.topo.add_group("host", key, f"{self.label}: hypervisor {hv.label}")
            sgroup = self.topo.add_group("service", key, f"{self.label}: hypervisor {hv.label}")
            self.hv_groups[key] = (hgroup, sgroup)
            v = self.base_vars(HYPERVISOR, str(hv.id))
            v.update(vio_hypervisor=hv.label, vio_hypervisor_hostname=hv.hostname,
                     vio_compute_host=hv.service_host)
            if hv.cluster_name:
                v["vio_cluster"] = hv.cluster_name
            if hv.type:
                v["vio_hypervisor_type"] = hv.type
            ident = hv.hostname if str(hv.id).isdigit() else str(hv.id)
            check = Check("vio_hypervisor", (("--id", ident), *STATE_ONLY_HYPERVISOR_ARGS))
            node = Node(HYPERVISOR, key, None, hv.label, str(hv.id), check, v, parents=(parent,),
                        address=ip_address(hv.host_ip), groups=(kind_group, hgroup))
            self.urls(node, {"id": str(hv.id), "name": hv.label, "hypervisor": hv.hostname})
            self.topo.add(node)
            # The capacity service depends on the nova-compute service too: its implicit dependency on the
            # hypervisor host only counts once that host is HARD DOWN, not while it is merely unreachable.
            cap_vars = self.base_vars(CAPACITY, str(hv.id))
            cap_vars.update(vio_hypervisor=hv.label, vio_hypervisor_hostname=hv.hostname)
            self.topo.add(Node(CAPACITY, key, "capacity", f"capacity of {hv.label}", str(hv.id),
                               Check("vio_hypervisor", (("--id", ident),)), cap_vars, parents=(parent,),
                               groups=(cap_group, sgroup)))
            self.hv_by_hostname[hv.hostname] = key

    def routers(self) -> None:
        """Router hosts, and which routers serve which network (from routers and their interface ports)."""
        self.router_keys: dict[str, str] = {}
        self.routers_of_network = routers_by_network(self.inv.routers, self.inv.ports)
        networks_of: dict[str, list[str]] = {}
        for net, router_ids in sorted(self.routers_of_network.items()):
            for rid in router_ids:
                networks_of.setdefault(rid, []).append(net)
        if "routers" not in self.kinds:
            return
        gateway = {p.device_id: p for p in self.inv.ports if p.device_owner == "network:router_gateway"}
        agents = {a.id: a for a in self.inv.agents}
        networks = {n.id: n for n in self.inv.networks}
        kind_group = self.host_group("routers", f"{self.label}: routers")
        for r in sorted(self.inv.routers, key=lambda r: r.id):
            if not self.selection.router_selected(r):
                continue
            key = self.name("router", r.id)
            parents = tuple(sorted({self.agent_svc[a] for a in r.agent_ids if a in self.agent_svc}))
            if not parents:
                parents = (self.aggregate("neutron-agents"),)
            served = networks_of.get(r.id, [])
            v = self.base_vars(ROUTER, r.id)
            v.update(vio_name=r.name, vio_project=self.project_name(r.project_id),
                     vio_project_id=r.project_id,
                     vio_networks=[networks[n].name if n in networks else n for n in served],
                     vio_network_ids=served, vio_ha=bool(r.ha), vio_distributed=bool(r.distributed),
                     vio_l3_agents=sorted(f"{agents[a].binary}@{agents[a].host}" for a in r.agent_ids
                                          if a in agents))
            gw = gateway.get(r.id)
            address = ip_address(gw.fixed_ips[0].ip_address) if gw and gw.fixed_ips else None
            groups = (kind_group, self.project_group("host", r.project_id))
            node = Node(ROUTER, key, None, r.name or r.id, r.id, Check("vio_router", (("--id", r.id),)), v,
                        parents=parents, redundancy_group="l3-agents" if len(parents) > 1 else None,
                        address=address, groups=groups)
            self.urls(node, {"id": r.id, "name": r.name, "project_id": r.project_id,
                             "project": self.project_name(r.project_id)})
            self.topo.add(node)
            self.router_keys[r.id] = key

    def vms(self) -> None:
        """VM hosts; `self.vm_keys` maps generated servers, `self.filtered_vms` those left out on purpose."""
        self.vm_keys: dict[str, str] = {}
        self.filtered_vms: set[str] = set()
        wanted = "vms" in self.kinds
        kind_group = self.host_group("vms", f"{self.label}: VMs") if wanted else ""
        for s in sorted(self.inv.servers, key=lambda s: s.id):
            if not self.selection.server_selected(s):
                self.filtered_vms.add(s.id)
                continue
            if not wanted:
                continue
            key = self.name("vm", s.id)
            parent = self._vm_parent(s)
            hv = self.placement.hypervisor_of(s)
            hv_label = hv.label if hv is not None else s.hypervisor_hostname
            v = self.base_vars(VM, s.id)
            v.update(vio_name=s.name, vio_project=self.project_name(s.project_id),
                     vio_project_id=s.project_id, vio_networks=sorted({a.network for a in s.addresses}))
            for var, value in (("vio_hypervisor", hv_label),
                               ("vio_hypervisor_hostname", s.hypervisor_hostname),
                               ("vio_compute_host", s.host), ("vio_flavor", s.flavor),
                               ("vio_availability_zone", s.availability_zone)):
                if value:
                    v[var] = value
            if s.metadata:
                v["vio_metadata"] = {str(k): str(val) for k, val in sorted(s.metadata.items())}
            groups = [kind_group, self.project_group("host", s.project_id)]
            hv_key = self._vm_hypervisor(s)
            if hv_key:
                groups.append(self.hv_groups[hv_key][0])
            node = Node(VM, key, None, s.name or s.id, s.id, Check("vio_vm", (("--id", s.id),)), v,
                        parents=(parent,), address=_vm_address(s), groups=tuple(groups))
            self.urls(node, {"id": s.id, "name": s.name, "project_id": s.project_id,
                             "project": self.project_name(s.project_id), "hypervisor": s.hypervisor_hostname})
            self.topo.add(node)
            self.vm_keys[s.id] = key

    def _vm_hypervisor(self, s: Server) -> str | None:
        """The node key of the VM's hypervisor (placement.py's rule), when it has one."""
        hv = self.placement.hypervisor_of(s)
        return self.hv_by_hostname.get(hv.hostname) if hv is not None else None

    def _vm_parent(self, s: Server) -> str:
        """The VM's hypervisor, else its nova-compute service, else the cloud."""
        hv = self._vm_hypervisor(s)
        if hv:
            return hv
        svc = self.placement.service_of(s)
        if svc is not None and svc.host in self.compute_svc:
            return self.compute_svc[svc.host]
        return self.prefix  # never scheduled (or shelved offloaded): only the cloud vouches for it

    def _vm_service_groups(self, vm_key: str, kind_group: str, project_id: str) -> tuple[str, ...]:
        groups = [kind_group, self.project_group("service", project_id)]
        parent = self.topo.get(vm_key).parents[0]
        if parent in self.hv_groups:
            groups.append(self.hv_groups[parent][1])
        return tuple(groups)

    def ports(self) -> None:
        if "interfaces" not in self.kinds or not self.vm_keys:
            return
        networks = {n.id: n for n in self.inv.networks}
        servers = {s.id: s for s in self.inv.servers}
        kind_group = self.service_group("interfaces", f"{self.label}: VM interfaces (ports)")
        for p in sorted(self.inv.ports, key=lambda p: p.id):
            vm_key = self.vm_keys.get(p.device_id)
            if not p.is_vm_port or vm_key is None:
                continue
            self.topo.add(self._port_node(p, vm_key, networks, servers[p.device_id], kind_group))

    def _port_node(self, p: Port, vm_key: str, networks, server: Server, kind_group: str) -> Node:
        net = networks.get(p.network_id)
        net_name = net.name if net and net.name else p.network_id
        serving = self.routers_of_network.get(p.network_id, [])
        generated = [r for r in serving if r in self.router_keys]
        ips = [f.ip_address for f in p.fixed_ips]
        v = self.base_vars(INTERFACE, p.id)
        v.update(vio_name=p.name, vio_network=net_name, vio_network_id=p.network_id, vio_ips=ips,
                 vio_routers=serving, vio_project=self.project_name(server.project_id),
                 vio_project_id=server.project_id, vio_vm=server.name, vio_server_id=server.id)
        if p.mac_address:
            v["vio_mac"] = p.mac_address
        display = f"interface {net_name}" + (f" {ips[0]}" if ips else "")
        node = Node(INTERFACE, vm_key, object_name(f"port-{p.id}"), display, p.id,
                    Check("vio_interface", (("--id", p.id),)), v,
                    parents=(self.router_keys[generated[0]],) if generated else (),
                    groups=self._vm_service_groups(vm_key, kind_group, server.project_id))
        self.urls(node, {"id": p.id, "name": p.name, "project_id": server.project_id,
                         "project": self.project_name(server.project_id)})
        return node

    def volumes(self) -> None:
        if "volumes" not in self.kinds:
            return
        servers = {s.id: s for s in self.inv.servers}
        kind_group = self.service_group("volumes", f"{self.label}: volumes")
        backend_group = None
        for vol in sorted(self.inv.volumes, key=lambda v: v.id):
            if not self.selection.volume_selected(vol, servers):
                continue  # its project is filtered out, or it belongs to a VM left out on purpose
            attached = sorted({a.server_id for a in vol.attachments if a.server_id})
            on_vms = [sid for sid in attached if sid in self.vm_keys]
            parent = self.volume_svc.get(vol.service_host or "") or self.aggregate("cinder-services")
            if on_vms:
                for sid in on_vms:
                    groups = self._vm_service_groups(self.vm_keys[sid], kind_group, vol.project_id)
                    self.topo.add(self._volume_node(vol, self.vm_keys[sid], parent, groups, servers.get(sid)))
                continue
            if backend_group is None:
                backend_group = self.host_group("volume-backends", f"{self.label}: cinder backends")
            host = self._backend_host(vol.service_host, parent, backend_group)
            groups = (kind_group, self.project_group("service", vol.project_id))
            self.topo.add(self._volume_node(vol, host, parent, groups, None))

    def _backend_host(self, service_host: str | None, parent: str, group: str) -> str:
        key = self.name("cinder", service_host or "unscheduled")
        if key not in self.topo:
            what = f"cinder backend {service_host}" if service_host else "volumes without a cinder backend"
            v = self.base_vars(BACKEND, service_host)
            if service_host:
                v["vio_backend"] = service_host
            parent_key = parent if service_host else self.aggregate("cinder-services")
            text = f"container for the {what}: volumes attached to no monitored VM"
            self.topo.add(Node(BACKEND, key, None, what, service_host, Check("dummy", (("--text", text),)), v,
                               parents=(parent_key,), groups=(group,)))
        return key

    def _volume_node(self, vol: Volume, host: str, parent: str, groups: tuple[str, ...],
                     server: Server | None) -> Node:
        v = self.base_vars(VOLUME, vol.id)
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
        display = f"volume {vol.name or vol.id}" + (f" on {device}" if device else "")
        node = Node(VOLUME, host, object_name(f"volume-{vol.id}"), display, vol.id,
                    Check("vio_volume", (("--id", vol.id),)), v, parents=(parent,), groups=groups)
        self.urls(node, {"id": vol.id, "name": vol.name, "project_id": vol.project_id,
                         "project": self.project_name(vol.project_id)})
        return node


def build(inv: Inventory, opts: Options | None = None) -> Topology:
    """The dependency tree for an inventory; raises CycleError when it is not a proper DAG."""
    return _Builder(inv, opts or Options()).build()
