"""`impact` (everything below an object) and `rootcause` (the topmost failing parent): pure logic on the
tree; a mapping of states in, plain data and text out. Where the states come from is icinga.states'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vio_checks import topology as t
from vio_checks.icinga import objects as o
from vio_checks.icinga.resolve import KIND_LABELS, describe, node_json
from vio_checks.text import clock, counted, inert

#: The order impact lists kinds in.
IMPACT_ORDER = (t.HYPERVISOR, t.ESXI, t.ROUTER, t.VM, t.INTERFACE, t.VOLUME, t.LOADBALANCER, t.LB_MEMBER,
                t.CAPACITY, t.BACKEND,
                t.COMPUTE_SERVICE, t.VOLUME_SERVICE, t.L3_AGENT, t.L3_AGENTS, t.CLUSTER, t.DATASTORE,
                t.CERTIFICATE, t.AGGREGATE, t.CLOUD)
#: How many names per kind the text output of impact lists (--json lists all).
LIST_LIMIT = 10

HOST_STATES = {0: "UP", 1: "DOWN"}
SERVICE_STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


# --- impact ------------------------------------------------------------------------------------------


@dataclass
class Impact:
    node: o.Node
    dependents: list[o.Node]
    counts: dict[str, int]  # kind → number, in IMPACT_ORDER
    projects: list[str]
    #: load balancer node → (its members below the node, all its members): `load balancer shop-lb: 2 of 3
    #: members`, for the balancers the node does not take down whole (those are counted as dependents)
    balancers: dict[str, tuple[int, int]] = field(default_factory=dict)

    def summary(self, topo: o.Objects) -> str:
        """`hypervisor domain-c8: 120 VMs, 240 interfaces, 80 volumes, 12 projects`."""
        parts = [plural(n, kind) for kind, n in self.counts.items()]
        if self.projects:
            parts.append(counted(len(self.projects), "projects"))
        return f"{describe(topo, self.node)}: " + (", ".join(parts) if parts else "nothing depends on it")


def plural(n: int, kind: str) -> str:
    one, many = KIND_LABELS.get(kind, (kind, kind + "s"))
    return counted(n, many, one)


def impact(topo: o.Objects, node: o.Node) -> Impact:
    """Everything that depends on the node, transitively (explicit dependencies and a host's services)."""
    below = topo.descendants(node.key)
    counts: dict[str, int] = {}
    for kind in IMPACT_ORDER:
        n = sum(1 for d in below if d.kind == kind)
        if n:
            counts[kind] = n
    projects = sorted({str(d.vars.get("vio_project") or d.vars.get("vio_project_id"))
                       for d in below if d.vars.get("vio_project") or d.vars.get("vio_project_id")})
    return Impact(node, below, counts, projects, load_balancers_hit(topo, below))


def load_balancers_hit(topo: o.Objects, below: list[o.Node]) -> dict[str, tuple[int, int]]:
    """Load balancer host key → (how many of its members are in `below`, how many it has), for each load
    balancer with members below the object but not itself below it (its DEGRADED is the impact)."""
    keys = {d.key for d in below}
    hit: dict[str, int] = {}
    for d in below:
        if d.kind == t.LB_MEMBER and d.host not in keys:
            hit[d.host] = hit.get(d.host, 0) + 1
    return {h: (n, sum(1 for s in topo.services_of(h) if s.kind == t.LB_MEMBER))
            for h, n in sorted(hit.items())}


def balancer_lines(topo: o.Objects, imp: Impact) -> list[str]:
    """`load balancer shop-lb: 2 of 3 members`, one per load balancer the object degrades."""
    return [f"{describe(topo, topo.nodes[h])}: {n} of {counted(total, 'members', 'member')}"
            for h, (n, total) in imp.balancers.items()]


def impact_json(topo: o.Objects, imp: Impact) -> dict[str, Any]:
    return {"object": node_json(topo, imp.node), "summary": imp.summary(topo), "counts": imp.counts,
            "projects": imp.projects, "dependents": [node_json(topo, d) for d in imp.dependents],
            "load_balancers": [{**node_json(topo, topo.nodes[h]), "members_affected": n, "members": total}
                               for h, (n, total) in imp.balancers.items()]}


def impact_text(topo: o.Objects, imp: Impact) -> str:
    lines = [imp.summary(topo) + f"  [{imp.node.key}]"]
    for kind in imp.counts:
        nodes = [d for d in imp.dependents if d.kind == kind]
        names = [describe(topo, d) if kind in (t.INTERFACE, t.VOLUME, t.CAPACITY, t.LB_MEMBER)
                 else inert(d.display_name)
                 for d in nodes[:LIST_LIMIT]]
        more = f", ... and {len(nodes) - LIST_LIMIT} more" if len(nodes) > LIST_LIMIT else ""
        lines.append(f"  {KIND_LABELS.get(kind, (kind, kind))[1]}: " + ", ".join(names) + more)
    lines += ["  " + line for line in balancer_lines(topo, imp)]
    if imp.projects:
        shown = [inert(p) for p in imp.projects[:LIST_LIMIT]]
        more = f", ... and {len(imp.projects) - LIST_LIMIT} more" if len(imp.projects) > LIST_LIMIT else ""
        lines.append("  projects: " + ", ".join(shown) + more)
    return "\n".join(lines) + "\n"


# --- root cause --------------------------------------------------------------------------------------


@dataclass
class Status:
    """One object's state, judged from the inventory or read from Icinga."""

    state: int  # host: 0 UP / 1 DOWN; service: 0 OK .. 3 UNKNOWN
    is_host: bool
    output: str = ""
    since: float | None = None  # last state change (Icinga only)
    reachable: bool | None = None  # Icinga's last_reachable
    soft: bool = False
    missing: bool = False  # not in Icinga (config older than the inventory?)
    #: Why Icinga's reply gives no usable state (none, malformed, never checked); None: `state` is known.
    unknown: str | None = None

    @property
    def known(self) -> bool:
        """Whether the state is known: the object is in Icinga and its reply carried a usable state."""
        return not self.missing and self.unknown is None

    @property
    def name(self) -> str:
        if self.missing:
            return "MISSING"
        if self.unknown is not None:
            return "NO STATE"
        return (HOST_STATES if self.is_host else SERVICE_STATES).get(self.state, str(self.state))

    @property
    def failing(self) -> bool:
        """Failing as a dependency parent: a host not UP, a service CRITICAL or UNKNOWN (WARNING passes).
        An object whose state is not known is not failing, and not fine either: see Analysis.unknown."""
        if not self.known:
            return False
        return self.state != 0 if self.is_host else self.state in (2, 3)

    @property
    def problem(self) -> bool:
        return self.known and self.state != 0


@dataclass
class Link:
    """One node of the chain: how far above the object, and its status."""

    node: o.Node
    depth: int
    status: Status
    parents: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    node: o.Node
    status: Status
    chain: list[Link]
    via: o.Node | None  # the failing direct parent that makes the object unreachable
    cause: o.Node | None  # the topmost failing parent
    source: str  # "inventory" / "icinga"
    #: Parents whose state is not known (missing from Icinga, or no state in its reply): while there are
    #: any, nobody can say that every parent is fine.
    unknown: list[o.Node] = field(default_factory=list)


def chain(topo: o.Objects, node: o.Node) -> list[tuple[o.Node, int]]:
    """The object and every node above it, each once, by distance (the object is 0), parents in order."""
    out: list[tuple[o.Node, int]] = [(node, 0)]
    seen = {node.key}
    frontier = [node.key]
    depth = 0
    while frontier:
        depth += 1
        nxt = []
        for key in frontier:
            for parent in topo.parent_keys(key):
                if parent in topo.nodes and parent not in seen:
                    seen.add(parent)
                    nxt.append(parent)
                    out.append((topo.nodes[parent], depth))
        frontier = nxt
    return out


def blocking_parents(topo: o.Objects, key: str, status: Callable[[str], Status]) -> list[str]:
    """The failing parents that make `key` unreachable: its host when failing; its explicit parent when
    failing (a redundant set is one parent: its l3-agents service fails only when no member is left)."""
    node = topo.nodes[key]
    explicit = [p for p in node.parents if p in topo.nodes]
    out = [p for p in explicit if status(p).failing]
    host = node.host
    if not node.is_host and host in topo.nodes and host not in explicit and status(host).failing:
        out.append(host)
    return out


def analyse(topo: o.Objects, node: o.Node, status: Callable[[str], Status], source: str) -> Analysis:
    """Follow failing parents up from the object to the topmost one: that is the root cause."""
    links = [Link(n, d, status(n.key), topo.parent_keys(n.key)) for n, d in chain(topo, node)]
    via = cause = None
    blocking = blocking_parents(topo, node.key, status)
    if blocking:
        via = topo.nodes[blocking[0]]
        cause = via
        seen = {node.key}
        while True:
            up = [p for p in blocking_parents(topo, cause.key, status) if p not in seen]
            if not up:
                break
            seen.add(cause.key)
            cause = topo.nodes[up[0]]
    elif status(node.key).problem:
        cause = node
    unknown = [x.node for x in links if x.depth > 0 and not x.status.known]
    return Analysis(node, status(node.key), links, via, cause, source, unknown)


def _since(s: Status, now: float) -> str:
    return f" since {clock(s.since, now)}" if s.since else ""


_PLUGIN_PREFIX = re.compile(r"^VIO [A-Z0-9 ]+? (OK|WARNING|CRITICAL|UNKNOWN) - ")


#: The longest status line shown per object (a plugin's output may be megabytes).
LINE_LIMIT = 300


def _first_line(text: str, bare: bool = False) -> str:
    """The status line without perfdata (bare: also without the `VIO VM CRITICAL - ` prefix), inert and
    at most LINE_LIMIT characters."""
    head = (text or "")[:LINE_LIMIT * 4].split("\n", 1)[0]  # never split megabytes into lines
    line = inert(head.splitlines()[0].split("|", 1)[0], LINE_LIMIT) if head.strip() else ""
    return _PLUGIN_PREFIX.sub("", line) if bare else line


#: How many parents of unknown state the message names.
UNKNOWN_LIMIT = 5


def _unknown_parents(topo: o.Objects, a: Analysis) -> str:
    """`hypervisor domain-c8 (MISSING), nova-compute on vio-compute-01 (NO STATE)`."""
    status = {x.node.key: x.status for x in a.chain}
    names = [f"{describe(topo, n)} ({status[n.key].name})" for n in a.unknown[:UNKNOWN_LIMIT]]
    more = len(a.unknown) - UNKNOWN_LIMIT
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def message(topo: o.Objects, a: Analysis, now: float) -> str:
    """One sentence: what is wrong with the object and why. A parent whose state is not known is never
    taken for a fine one: the sentence says it could not tell."""
    obj = describe(topo, a.node)
    status = {s.node.key: s.status for s in a.chain}
    doubt = (f"could not tell whether every parent is fine: no state for {_unknown_parents(topo, a)}"
             if a.unknown else "")
    if a.via is not None:
        via = status[a.via.key]
        what = "unreachable" if a.source == "icinga" or a.status.problem else "affected"
        text = f"{obj} is {what} because {describe(topo, a.via)} is {via.name}{_since(via, now)}"
        if a.cause is not None and a.cause.key != a.via.key:
            c = status[a.cause.key]
            text += f" (cause: {describe(topo, a.cause)} {c.name}: {_first_line(c.output, bare=True)})"
        else:
            text += f" ({_first_line(via.output, bare=True)})"
        if a.unknown:
            text += f"; the cause may be higher up: no state for {_unknown_parents(topo, a)}"
        return text
    if a.cause is not None:
        if a.unknown:
            return (f"{obj} is {a.status.name}{_since(a.status, now)}; {doubt}, so the problem may not be "
                    f"its own: {_first_line(a.status.output, bare=True)}")
        return (f"{obj} is {a.status.name}{_since(a.status, now)}; every parent is fine, so the problem is "
                f"its own: {_first_line(a.status.output, bare=True)}")
    if a.status.missing:
        itself = f"{obj} is not in Icinga (deploy the current config)"
    elif a.status.unknown is not None:
        itself = f"{obj} has no state in Icinga ({a.status.unknown})"
    elif a.unknown:
        itself = f"{obj} is {a.status.name}"
    else:
        return f"{obj} is {a.status.name}, and so is every parent"
    return f"{itself}; {doubt or 'every parent is fine'}"


def analysis_json(topo: o.Objects, a: Analysis, now: float) -> dict[str, Any]:
    def status_json(s: Status) -> dict[str, Any]:
        return {"state": s.name, "output": _first_line(s.output), "since": s.since, "reachable": s.reachable,
                "soft": s.soft}

    return {
        "object": {**node_json(topo, a.node), **status_json(a.status)},
        "source": a.source,
        "message": message(topo, a, now),
        "via": node_json(topo, a.via) if a.via else None,
        "unknown": [node_json(topo, n) for n in a.unknown],
        "cause": {**node_json(topo, a.cause), **status_json(next(x.status for x in a.chain
                                                                 if x.node.key == a.cause.key))}
        if a.cause else None,
        "chain": [{**node_json(topo, x.node), **status_json(x.status), "depth": x.depth, "parents": x.parents}
                  for x in a.chain],
    }


def analysis_text(topo: o.Objects, a: Analysis, now: float, header: str) -> str:
    """The message, then the parents as a tree (a node met twice is shown once, then "see above")."""
    status = {x.node.key: x.status for x in a.chain}
    rows: list[tuple[str, str, str]] = []
    shown: set[str] = set()

    def walk(key: str, depth: int) -> None:
        node, s = topo.nodes[key], status[key]
        label = "  " * depth + describe(topo, node)
        if key in shown:
            rows.append((label, "(see above)", ""))
            return
        shown.add(key)
        state = s.name + (" (soft)" if s.soft else "") + (", unreachable" if s.reachable is False else "")
        mark = "  <- cause" if a.cause is not None and key == a.cause.key else ""
        rows.append((label, state, _first_line(s.output) + mark))
        for parent in topo.parent_keys(key):
            if parent in status:
                walk(parent, depth + 1)

    walk(a.node.key, 0)
    width = max(len(r[0]) for r in rows)
    lines = [message(topo, a, now), header]
    lines += [f"  {label:<{width}}  {state:<20} {out}".rstrip() for label, state, out in rows]
    return "\n".join(lines) + "\n"

