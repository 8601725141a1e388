"""The dependency tree of a cloud: which monitored object's failure explains which other's.

`build` decides which objects of an Inventory are monitored (the generator's filters) and who depends on
whom; what each object looks like to the monitoring system (its object name, check, vars, groups, URLs) is
asked from a `Look` (vio_checks.icinga.objects). Shared by the Icinga 2 / Nagios config generator and by
`vio-icinga impact` / `rootcause`. Nothing here does I/O or knows a target syntax.

Nodes are Icinga hosts or services (a service's `key` is `host!service`, as Icinga names it), each with at
most one explicit parent (`Topology.add` refuses two; a service's host is implicit): a redundant set
(an HA router's L3 agents) is a node of its own, judged by vio_checks.judge.redundant, and the router depends
on it alone, so the config means the same on every Icinga version (no `redundancy_group`: 2.14 only).

    cloud host <prefix>                           check_vio_discovery
      ├─ services: aggregates (nova-services, vms, ...) and one per nova-compute / cinder-volume / L3 agent
      │            (not for an L3 agent that hosts only redundant routers: their sets report it)
      ├─ service <binary>: one per controller cluster present; nova-compute's parent (REPORTS_THROUGH)
      ├─ service l3-agents-<router>: the L3 agents of a router hosted by several (HA), as one redundant set
      ├─ hypervisor host  ── parent: its nova-compute service       (service: capacity)
      │    ├─ ESXi host   ── parent: its cluster's hypervisor host  (the vSphere layer only)
      │    │    └─ VM host ── parent: the ESXi host it runs on
      │    └─ VM host     ── parent: its hypervisor host            (address: floating, else first fixed IP)
      │         ├─ port-<id>    ── parent: the router serving the port's network (lowest id)
      │         └─ volume-<id>  ── parent: the cinder-volume service of its backend
      ├─ router host      ── parent: its L3 agent service; several agents: its l3-agents-<router> service;
      │                        NSX (no L3 agent): neutron-agents
      ├─ services: one per datastore (the vSphere layer only)
      ├─ cinder backend host (container)  ── parent: its cinder-volume service
      │    └─ volume-<id> (attached to no monitored VM) ── parent: the cinder-volume service
      └─ load balancer host ── parent: the router of its VIP network (topology_lb.py, Octavia only)
           └─ member-<id>   ── parent: the VM host its address joins (none when it joins no VM)

    With the vSphere layer, a volume whose VMDK the join placed on a datastore has that datastore's service
    as its one parent instead of the cinder-volume service (wherever the volume service sits).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from vio_checks.judge.service_rules import CLUSTER_BINARIES
from vio_checks.model import Inventory, Port, Server, Volume, routers_by_network
from vio_checks.placement import Placement, vsphere_vm_by_server
from vio_checks.selection import Selection
from vio_checks.topology_certificates import certificate_nodes
from vio_checks.topology_lb import LB_MEMBER, LOADBALANCER, add_load_balancers

# --- node kinds ---------------------------------------------------------------------------------

CLOUD, AGGREGATE = "cloud", "aggregate"
COMPUTE_SERVICE, VOLUME_SERVICE = "compute-service", "volume-service"
L3_AGENT = "l3-agent"
L3_AGENTS = "l3-agents"  # the redundant set of L3 agents of one router hosted by several
CLUSTER = "cluster"  # the records of one controller binary as one redundant set (judge/cluster.py)
HYPERVISOR, CAPACITY = "hypervisor", "capacity"
VM, INTERFACE, VOLUME = "vm", "interface", "volume"
ROUTER, BACKEND = "router", "volume-backend"
ESXI = "esxi"  # the vSphere layer
DATASTORE = "datastore"
CERTIFICATE = "certificate"  # an endpoint's TLS certificate (topology_certificates.py)

#: Host kinds and service kinds, in the order the generated config lists them.
HOST_KINDS = (CLOUD, HYPERVISOR, ESXI, ROUTER, BACKEND, VM, LOADBALANCER)
SERVICE_KINDS = (AGGREGATE, CLUSTER, COMPUTE_SERVICE, VOLUME_SERVICE, L3_AGENT, L3_AGENTS, DATASTORE,
                 CERTIFICATE, CAPACITY, INTERFACE, VOLUME, LB_MEMBER)
KIND_ORDER = {k: i for i, k in enumerate(HOST_KINDS + SERVICE_KINDS)}

#: What `--kinds` selects (the cloud host and its service aggregates are always there).
SELECTABLE_KINDS = ("hypervisors", "vms", "interfaces", "volumes", "routers", "services")

#: The cloud host's aggregates that stand in as parent when an object's own parent is not monitored.
NOVA_SERVICES, NEUTRON_AGENTS, CINDER_SERVICES = "nova-services", "neutron-agents", "cinder-services"

#: A binary that reports its state through a controller cluster → that cluster, its parent (docs/icinga.md:
#: the edges and their sources): nova/cmd/compute.py makes nova-conductor's RPC API compute's indirection_api,
#: so the servicegroup DB driver's _report_state saves the record through it. Cinder reports itself.
REPORTS_THROUGH = {"nova-compute": "nova-conductor"}

# --- graph ---------------------------------------------------------------------------------------


@dataclass
class Node:
    """One monitored object: an Icinga host (service None) or a service on a host.

    The monitoring system's attributes (check, vars, groups, ...) are added by a subclass
    (vio_checks.icinga.objects.Node); the tree needs only these."""

    kind: str
    host: str
    service: str | None
    display_name: str
    object_id: str | None
    #: The key of its explicit parent: one, or none (the cloud host; a service's host is implicit).
    parents: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.host if self.service is None else f"{self.host}!{self.service}"

    @property
    def is_host(self) -> bool:
        return self.service is None


class TwoParentsError(ValueError):
    """A node was given more than one explicit parent: a redundant set is a node of its own."""


class CycleError(ValueError):
    """The graph has a cycle (or a dangling parent); `cycle` lists the keys along it."""

    def __init__(self, message: str, cycle: list[str]) -> None:
        super().__init__(message)
        self.cycle = cycle


class Topology:
    """Nodes by key and the parent/child relation (explicit + implicit host edges).

    `prefix` is the key of the root, the cloud host."""

    def __init__(self, cloud: str, region: str | None, prefix: str) -> None:
        self.cloud = cloud
        self.region = region
        self.prefix = prefix
        self.nodes: dict[str, Node] = {}
        self._children: dict[str, list[str]] | None = None
        self._services: dict[str, list[Node]] | None = None
        self._acyclic = False  # proved by assert_acyclic since the last add

    # --- building ------------------------------------------------------------------------------

    def add(self, node: Node) -> Node:
        if node.key in self.nodes:
            raise ValueError(f"duplicate node {node.key}")
        if len(node.parents) > 1:
            raise TwoParentsError(f"{node.key} has {len(node.parents)} parents ({', '.join(node.parents)}): "
                                  "every child has exactly one; make a redundant set a node of its own")
        self.nodes[node.key] = node
        self._children = self._services = None
        self._acyclic = False
        return node

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

    def _closure(self, key: str, step: Any) -> list[Node]:
        seen: set[str] = set()
        stack = [key]
        while stack:
            for k in step(stack.pop()):
                if k not in seen and k in self.nodes:
                    seen.add(k)
                    stack.append(k)
        return sorted((self.nodes[k] for k in seen), key=lambda n: (KIND_ORDER[n.kind], n.key))

    def descendants(self, key: str) -> list[Node]:
        """Every node below `key` (children, their children, ...), each once, in sorted order."""
        return self._closure(key, lambda k: [c.key for c in self.children_of(k)])

    def ancestors(self, key: str) -> list[Node]:
        """Every node above `key`, each once."""
        return self._closure(key, self.parent_keys)

    def edges(self) -> Iterator[tuple[str, str, bool]]:
        """(child, parent, implicit) for every edge."""
        for node in self.sorted_nodes():
            for parent in node.parents:
                yield node.key, parent, False
            if not node.is_host and node.host not in node.parents:
                yield node.key, node.host, True

    def depth(self) -> dict[str, int]:
        """Longest path from a root to each node (roots 0); requires an acyclic graph (proved once)."""
        if not self._acyclic:
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
        self._acyclic = True


# --- building ------------------------------------------------------------------------------------


class Look(Protocol):
    """What the monitoring system makes of each object the tree holds: the node with its name, check and
    attributes, given the parents the tree chose. `begin` is called before each section that is built."""

    def tree(self) -> Topology: ...
    def begin(self, section: str) -> None: ...
    def cloud(self) -> Node: ...
    def aggregates(self) -> list[Node]: ...
    def service(self, obj: Any, kind: str, parent: str | None) -> Node: ...
    def cluster(self, binary: str) -> Node: ...
    def hypervisor(self, hv: Any, parent: str) -> tuple[Node, Node]: ...
    def esxi(self, host: Any, parent: str) -> Node: ...
    def datastore(self, ds: Any) -> Node: ...
    def router(self, router: Any, parent: str, networks: list[str]) -> Node: ...
    def l3_agents(self, router: Any) -> Node: ...
    def vm(self, server: Server, parent: str, hypervisor: Any, hypervisor_key: str | None) -> Node: ...
    def port(self, port: Port, vm_key: str, parent: str | None, routers: list[str],
             server: Server) -> Node: ...
    def backend(self, service_host: str | None, parent: str) -> Node: ...
    def volume(self, vol: Volume, host: str, parent: str, server: Server | None) -> Node: ...


def hypervisor_key(hv: Any) -> str:
    """What identifies a hypervisor: Nova's UUID id (2.53+), else the hypervisor_hostname (integer ids are
    not stable)."""
    return hv.hostname if str(hv.id).isdigit() or not hv.id else str(hv.id)


class _Builder:
    def __init__(self, inv: Inventory, kinds: frozenset[str], selection: Selection, look: Look) -> None:
        self.inv, self.kinds, self.selection, self.look = inv, kinds, selection, look
        self.topo = look.tree()

    def build(self) -> Topology:
        self.cloud_host()
        self.service_nodes()
        self.hypervisors()
        self.esxi_hosts()
        self.routers()
        self.vms()
        self.ports()
        self.volumes()
        certificate_nodes(self)
        add_load_balancers(self)  # topology_lb.py: a host per load balancer, a service per member
        self.topo.assert_acyclic()
        return self.topo

    def cloud_host(self) -> None:
        self.topo.add(self.look.cloud())
        self.aggregate: dict[str, str] = {}
        for node in self.look.aggregates():
            self.topo.add(node)
            self.aggregate[str(node.service)] = node.key

    def service_nodes(self) -> None:
        """One service on the cloud host per nova-compute, cinder-volume and L3 agent (parents below)."""
        self.compute_svc: dict[str, str] = {}
        self.volume_svc: dict[str, str] = {}
        self.agent_svc: dict[str, str] = {}
        self.cluster_svc: dict[str, str] = {}  # binary → its cluster (pod churn changes none)
        if "services" not in self.kinds:
            return
        for binary in sorted({r.binary for r in (*self.inv.compute_services, *self.inv.volume_services,
                                                 *self.inv.agents)} & set(CLUSTER_BINARIES)):
            self.cluster_svc[binary] = self.topo.add(self.look.cluster(binary)).key
        wanted = [(s, COMPUTE_SERVICE, self.compute_svc, s.host) for s in self.inv.compute_services
                  if s.binary == "nova-compute"]
        wanted += [(s, VOLUME_SERVICE, self.volume_svc, s.host) for s in self.inv.volume_services
                   if s.binary == "cinder-volume"]
        covered = self.covered_agents()
        wanted += [(a, L3_AGENT, self.agent_svc, a.id) for a in self.inv.agents
                   if a.is_l3 and a.id not in covered]
        for obj, kind, index, index_key in sorted(wanted, key=lambda w: (w[0].binary, w[0].host, w[3])):
            node = self.look.service(obj, kind, self.cluster_svc.get(REPORTS_THROUGH.get(obj.binary, "")))
            if node.key not in self.topo:
                self.topo.add(node)
            index[index_key] = node.key

    def redundant(self, r: Any) -> bool:
        """A generated router hosted by several L3 agents: its parent is its l3-agents set."""
        return "routers" in self.kinds and self.selection.router_selected(r) and len(set(r.agent_ids)) > 1

    def covered_agents(self) -> set[str]:
        """L3 agents that host routers, all of them redundant ones: each such router's l3-agents service
        reports the agent's failure, so a service of its own would page twice for one fault."""
        hosting: dict[str, bool] = {}
        for r in self.inv.routers:
            redundant = self.redundant(r)
            for a in set(r.agent_ids):
                hosting[a] = hosting.get(a, True) and redundant
        return {a for a, only_redundant in hosting.items() if only_redundant}

    def hypervisors(self) -> None:
        self.hv_by_hostname: dict[str, str] = {}
        self.placement = Placement(self.inv.hypervisors, self.inv.compute_services)
        if "hypervisors" not in self.kinds:
            return
        self.look.begin("hypervisors")
        for hv in sorted(self.inv.hypervisors, key=hypervisor_key):
            parent = self.compute_svc.get(hv.service_host) or self.aggregate[NOVA_SERVICES]
            host, capacity = self.look.hypervisor(hv, parent)
            if host.key in self.topo:
                continue
            self.topo.add(host)
            # The capacity service depends on the nova-compute service too: its implicit dependency on the
            # hypervisor host only counts once that host is HARD DOWN, not while it is merely unreachable.
            self.topo.add(capacity)
            self.hv_by_hostname[hv.hostname] = host.key

    def esxi_hosts(self) -> None:
        """The vSphere layer (with the hypervisors): ESXi hosts below their cluster's hypervisor, and a
        service per datastore on the cloud host. Without the layer the inventory has none of either."""
        self.esxi_keys: dict[str, str] = {}
        self.datastore_keys: dict[str, str] = {}  # Cinder volume id → its datastore's service key
        self.esxi_of_server = {sid: v.host for sid, v in vsphere_vm_by_server(self.inv.vsphere_vms).items()
                               if v is not None and v.host}
        if "hypervisors" not in self.kinds or not self.inv.esxi_hosts:
            return
        self.look.begin("esxi")
        for h in sorted(self.inv.esxi_hosts, key=lambda h: h.moref):
            parent = self.hv_by_hostname.get(h.hypervisor or "")
            if parent is not None:  # a cluster Nova does not use (VIO's management cluster): left out
                self.esxi_keys[h.moref] = self.topo.add(self.look.esxi(h, parent)).key
        for d in sorted(self.inv.datastores, key=lambda d: d.moref):
            key = self.topo.add(self.look.datastore(d)).key
            self.datastore_keys.update(dict.fromkeys(d.volumes, key))

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
        self.look.begin("routers")
        for r in sorted(self.inv.routers, key=lambda r: r.id):
            if not self.selection.router_selected(r):
                continue
            if self.redundant(r):
                parent = self.topo.add(self.look.l3_agents(r)).key
            else:
                hosting = [self.agent_svc[a] for a in r.agent_ids if a in self.agent_svc]
                parent = hosting[0] if hosting else self.aggregate[NEUTRON_AGENTS]
            node = self.topo.add(self.look.router(r, parent, networks_of.get(r.id, [])))
            self.router_keys[r.id] = node.key

    def vms(self) -> None:
        """VM hosts; `self.vm_keys` maps generated servers."""
        self.vm_keys: dict[str, str] = {}
        wanted = "vms" in self.kinds
        if wanted:
            self.look.begin("vms")
        for s in sorted(self.inv.servers, key=lambda s: s.id):
            if not wanted or not self.selection.server_selected(s):
                continue
            hv_key = self._vm_hypervisor(s)
            node = self.look.vm(s, self._vm_parent(s), self.placement.hypervisor_of(s), hv_key)
            self.topo.add(node)
            self.vm_keys[s.id] = node.key

    def _vm_hypervisor(self, s: Server) -> str | None:
        """The node key of the VM's hypervisor (placement.py's rule), when it has one."""
        hv = self.placement.hypervisor_of(s)
        return self.hv_by_hostname.get(hv.hostname) if hv is not None else None

    def _vm_parent(self, s: Server) -> str:
        """The ESXi host its vSphere VM runs on, else its hypervisor, else its nova-compute service, else
        the cloud."""
        esxi = self.esxi_keys.get(self.esxi_of_server.get(s.id, ""))
        if esxi:
            return esxi
        hv = self._vm_hypervisor(s)
        if hv:
            return hv
        svc = self.placement.service_of(s)
        if svc is not None and svc.host in self.compute_svc:
            return self.compute_svc[svc.host]
        return self.topo.prefix  # never scheduled (or shelved offloaded): only the cloud vouches for it

    def ports(self) -> None:
        """An interface service per VM port on its VM host; parent: the lowest-id router on its network."""
        if "interfaces" not in self.kinds or not self.vm_keys:
            return
        self.look.begin("interfaces")
        servers = {s.id: s for s in self.inv.servers}
        for p in sorted(self.inv.ports, key=lambda p: p.id):
            vm_key = self.vm_keys.get(p.device_id)
            if not p.is_vm_port or vm_key is None:
                continue
            serving = self.routers_of_network.get(p.network_id, [])
            generated = [r for r in serving if r in self.router_keys]
            parent = self.router_keys[generated[0]] if generated else None
            self.topo.add(self.look.port(p, vm_key, parent, serving, servers[p.device_id]))

    def volumes(self) -> None:
        """A volume service on each monitored VM it is attached to, else on its backend's container host."""
        if "volumes" not in self.kinds:
            return
        self.look.begin("volumes")
        servers = {s.id: s for s in self.inv.servers}
        for vol in sorted(self.inv.volumes, key=lambda v: v.id):
            if not self.selection.volume_selected(vol, servers):
                continue  # its project is filtered out, or it belongs to a VM left out on purpose
            attached = sorted({a.server_id for a in vol.attachments if a.server_id})
            on_vms = [sid for sid in attached if sid in self.vm_keys]
            service = self.volume_svc.get(vol.service_host or "") or self.aggregate[CINDER_SERVICES]
            parent = self.datastore_keys.get(vol.id) or service
            if on_vms:
                for sid in on_vms:
                    self.topo.add(self.look.volume(vol, self.vm_keys[sid], parent, servers.get(sid)))
                continue
            backend = self.look.backend(vol.service_host,
                                        service if vol.service_host else self.aggregate[CINDER_SERVICES])
            if backend.key not in self.topo:
                self.topo.add(backend)
            self.topo.add(self.look.volume(vol, backend.key, parent, None))


def build(inv: Inventory, kinds: frozenset[str], selection: Selection, look: Look) -> Topology:
    """The dependency tree of the objects `selection` and `kinds` keep, as `look` names and dresses them;
    proved acyclic (CycleError otherwise)."""
    return _Builder(inv, kinds, selection, look).build()
