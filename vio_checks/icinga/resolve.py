"""What the user typed → a node of the tree (`resolve`), and how a node is called back to them (`describe`).

An object is named by its Icinga object name (`host` or `host!service`), its OpenStack id, or its name (VM,
router, volume, hypervisor_hostname or its short cluster id `domain-c8`, `binary@host` of a service...).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vio_checks import topology as t
from vio_checks.icinga import objects as o
from vio_checks.text import inert

#: Singular and plural label per node kind.
KIND_LABELS: dict[str, tuple[str, str]] = {
    t.CLOUD: ("cloud", "clouds"),
    t.AGGREGATE: ("aggregate service", "aggregate services"),
    t.COMPUTE_SERVICE: ("nova-compute service", "nova-compute services"),
    t.VOLUME_SERVICE: ("cinder-volume service", "cinder-volume services"),
    t.L3_AGENT: ("L3 agent", "L3 agents"),
    t.L3_AGENTS: ("L3 agent set", "L3 agent sets"),
    t.CLUSTER: ("cluster", "clusters"),
    t.HYPERVISOR: ("hypervisor", "hypervisors"),
    t.ESXI: ("ESXi host", "ESXi hosts"),
    t.DATASTORE: ("datastore", "datastores"),
    t.CERTIFICATE: ("certificate", "certificates"),
    t.CAPACITY: ("capacity service", "capacity services"),
    t.ROUTER: ("router", "routers"),
    t.BACKEND: ("cinder backend", "cinder backends"),
    t.VM: ("VM", "VMs"),
    t.INTERFACE: ("interface", "interfaces"),
    t.VOLUME: ("volume", "volumes"),
    t.LOADBALANCER: ("load balancer", "load balancers"),
    t.LB_MEMBER: ("load balancer member", "load balancer members"),
}


class Unresolved(LookupError):
    """No node, or several, for what the user typed; `candidates` lists the several (maybe empty)."""

    def __init__(self, text: str, candidates: list[o.Node]) -> None:
        self.text = text
        self.candidates = candidates
        what = "ambiguous" if candidates else "unknown"
        super().__init__(f"{what} object {text!r}")


def _names(node: o.Node) -> set[str]:
    """What a user may call a node besides its key and id: its names and labels from the cloud."""
    v = node.vars
    keys = {t.HYPERVISOR: ("vio_hypervisor", "vio_hypervisor_hostname", "vio_cluster"),
            t.BACKEND: ("vio_backend",), t.CLOUD: ("vio_cloud",),
            t.LB_MEMBER: ()}.get(node.kind, ("vio_name",))  # a member is often named after its VM
    out = {node.display_name, *(v[k] for k in keys if isinstance(v.get(k), str))}
    if node.kind == t.HYPERVISOR:  # the short cluster id the other outputs print: domain-c8
        out.add(o.cluster_moref(v.get("vio_hypervisor_hostname")) or "")
    if node.kind in (t.COMPUTE_SERVICE, t.VOLUME_SERVICE, t.L3_AGENT, t.L3_AGENTS, t.CLUSTER,
                     t.AGGREGATE) and node.service:
        out.add(node.service)
    return {n for n in out if n}


def _prefer_hosts(matches: list[o.Node]) -> list[o.Node]:
    """One host among services of that same host (a hypervisor and its capacity service share an id)."""
    hosts = [n for n in matches if n.is_host]
    if len(hosts) == 1 and all(n.is_host or n.host == hosts[0].host for n in matches):
        return hosts
    return matches


def resolve(topo: o.Objects, text: str) -> o.Node:
    """The node for an Icinga object name, an OpenStack id or a unique name; Unresolved otherwise.

    Tried in order, the first step with any match decides: the object name, the id (case-insensitive),
    then names and labels (exact, then case-insensitive)."""
    text = text.strip()
    if text in topo.nodes:
        return topo.nodes[text]
    nodes = topo.sorted_nodes()
    steps: list[Callable[[o.Node], bool]] = [
        lambda n: n.object_id is not None and n.object_id.lower() == text.lower(),
        lambda n: text in _names(n),
        lambda n: text.lower() in {x.lower() for x in _names(n)},
    ]
    for matches_step in steps:
        matches = _prefer_hosts([n for n in nodes if matches_step(n)])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise Unresolved(text, matches)
    raise Unresolved(text, [])


def describe(topo: o.Objects, node: o.Node) -> str:
    """`VM web-01`, `hypervisor domain-c8`, `nova-compute on vio-compute-01`, `interface ... of VM web-01`."""
    if node.kind in (t.VM, t.HYPERVISOR, t.ESXI, t.ROUTER, t.LOADBALANCER):
        return f"{KIND_LABELS[node.kind][0]} {inert(node.display_name)}"
    if node.kind in (t.INTERFACE, t.VOLUME, t.CAPACITY) and node.host in topo.nodes:
        host = topo.nodes[node.host]
        if host.kind == t.VM:
            return f"{inert(node.display_name)} of VM {inert(host.display_name)}"
    if node.kind == t.LB_MEMBER and node.host in topo.nodes:
        return f"{inert(node.display_name)} of load balancer {inert(topo.nodes[node.host].display_name)}"
    return inert(node.display_name)


def node_json(topo: o.Objects, node: o.Node) -> dict[str, Any]:
    return {"name": node.key, "kind": node.kind, "display_name": node.display_name, "id": node.object_id,
            "description": describe(topo, node), "project": node.vars.get("vio_project")}

