"""`vio-icinga impact` and `vio-icinga rootcause`: the generator's dependency tree, asked from a shell.

    vio-icinga impact domain-c8.5f2e            everything below an object, counted by kind
    vio-icinga rootcause web-01                 the chain of parents, judged from the cached inventory
    vio-icinga rootcause web-01 --api-url https://icinga:5665 --api-user vio ...   live states from Icinga 2

Both build the same tree `vio-icinga generate` writes (same cloud, cache and filter options), so object
names are the generated Icinga object names. An object is named by its Icinga object name (`host` or
`host!service`), its OpenStack id, or its name (VM, router, volume, hypervisor_hostname, `binary@host` of a
service...). Exit codes: 0 answered; 3 when the object is unknown or ambiguous (the candidates are listed),
or the inventory or the Icinga API is unavailable; 2 for bad options (argparse).

The logic (resolve, impact, chain, analyse) is pure: a Topology and a mapping of states in, plain data out;
the command handlers only gather states (from the judges or from the Icinga API) and print.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vio_checks import topology as t
from vio_checks.errors import VioError
from vio_checks.judge.timefmt import clock
from vio_checks.text import inert, one_line

EXIT_OK, EXIT_UNKNOWN = 0, 3

#: Singular and plural label per node kind, in the order impact lists them.
KIND_LABELS: dict[str, tuple[str, str]] = {
    t.CLOUD: ("cloud", "clouds"),
    t.AGGREGATE: ("aggregate service", "aggregate services"),
    t.COMPUTE_SERVICE: ("nova-compute service", "nova-compute services"),
    t.VOLUME_SERVICE: ("cinder-volume service", "cinder-volume services"),
    t.L3_AGENT: ("L3 agent", "L3 agents"),
    t.HYPERVISOR: ("hypervisor", "hypervisors"),
    t.CAPACITY: ("capacity service", "capacity services"),
    t.ROUTER: ("router", "routers"),
    t.BACKEND: ("cinder backend", "cinder backends"),
    t.VM: ("VM", "VMs"),
    t.INTERFACE: ("interface", "interfaces"),
    t.VOLUME: ("volume", "volumes"),
}
IMPACT_ORDER = (t.HYPERVISOR, t.ROUTER, t.VM, t.INTERFACE, t.VOLUME, t.CAPACITY, t.BACKEND, t.COMPUTE_SERVICE,
                t.VOLUME_SERVICE, t.L3_AGENT, t.AGGREGATE, t.CLOUD)
#: How many names per kind the text output of impact lists (--json lists all).
LIST_LIMIT = 10

HOST_STATES = {0: "UP", 1: "DOWN"}
SERVICE_STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


# --- resolving an object ---------------------------------------------------------------------------


class Unresolved(LookupError):
    """No node, or several, for what the user typed; `candidates` lists the several (maybe empty)."""

    def __init__(self, text: str, candidates: list[t.Node]) -> None:
        self.text = text
        self.candidates = candidates
        what = "ambiguous" if candidates else "unknown"
        super().__init__(f"{what} object {text!r}")


def _names(node: t.Node) -> set[str]:
    """What a user may call a node besides its key and id: its names and labels from the cloud."""
    v = node.vars
    keys = {t.HYPERVISOR: ("vio_hypervisor", "vio_hypervisor_hostname", "vio_cluster"),
            t.BACKEND: ("vio_backend",), t.CLOUD: ("vio_cloud",)}.get(node.kind, ("vio_name",))
    out = {node.display_name, *(v[k] for k in keys if isinstance(v.get(k), str))}
    if node.kind in (t.COMPUTE_SERVICE, t.VOLUME_SERVICE, t.L3_AGENT, t.AGGREGATE) and node.service:
        out.add(node.service)
    return {n for n in out if n}


def _prefer_hosts(matches: list[t.Node]) -> list[t.Node]:
    """One host among services of that same host (a hypervisor and its capacity service share an id)."""
    hosts = [n for n in matches if n.is_host]
    if len(hosts) == 1 and all(n.is_host or n.host == hosts[0].host for n in matches):
        return hosts
    return matches


def resolve(topo: t.Topology, text: str) -> t.Node:
    """The node for an Icinga object name, an OpenStack id or a unique name; Unresolved otherwise.

    Tried in order, the first step with any match decides: the object name, the id (case-insensitive),
    then names and labels (exact, then case-insensitive)."""
    text = text.strip()
    if text in topo.nodes:
        return topo.nodes[text]
    nodes = topo.sorted_nodes()
    steps: list[Callable[[t.Node], bool]] = [
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


def describe(topo: t.Topology, node: t.Node) -> str:
    """`VM web-01`, `hypervisor domain-c8`, `nova-compute on vio-compute-01`, `interface ... of VM web-01`."""
    if node.kind in (t.VM, t.HYPERVISOR, t.ROUTER):
        return f"{KIND_LABELS[node.kind][0]} {inert(node.display_name)}"
    if node.kind in (t.INTERFACE, t.VOLUME, t.CAPACITY) and node.host in topo.nodes:
        host = topo.nodes[node.host]
        if host.kind == t.VM:
            return f"{inert(node.display_name)} of VM {inert(host.display_name)}"
    return inert(node.display_name)


def node_json(topo: t.Topology, node: t.Node) -> dict[str, Any]:
    return {"name": node.key, "kind": node.kind, "display_name": node.display_name, "id": node.object_id,
            "description": describe(topo, node), "project": node.vars.get("vio_project")}


# --- impact ------------------------------------------------------------------------------------------


@dataclass
class Impact:
    node: t.Node
    dependents: list[t.Node]
    counts: dict[str, int]  # kind → number, in IMPACT_ORDER
    projects: list[str]

    def summary(self, topo: t.Topology) -> str:
        """`hypervisor domain-c8: 120 VMs, 240 interfaces, 80 volumes, 12 projects`."""
        parts = [plural(n, kind) for kind, n in self.counts.items()]
        if self.projects:
            parts.append(f"{len(self.projects)} project" + ("" if len(self.projects) == 1 else "s"))
        return f"{describe(topo, self.node)}: " + (", ".join(parts) if parts else "nothing depends on it")


def plural(n: int, kind: str) -> str:
    one, many = KIND_LABELS.get(kind, (kind, kind + "s"))
    return f"{n} {one if n == 1 else many}"


def impact(topo: t.Topology, node: t.Node) -> Impact:
    """Everything that depends on the node, transitively (explicit dependencies and a host's services)."""
    below = topo.descendants(node.key)
    counts: dict[str, int] = {}
    for kind in IMPACT_ORDER:
        n = sum(1 for d in below if d.kind == kind)
        if n:
            counts[kind] = n
    projects = sorted({str(d.vars.get("vio_project") or d.vars.get("vio_project_id"))
                       for d in below if d.vars.get("vio_project") or d.vars.get("vio_project_id")})
    return Impact(node, below, counts, projects)


def impact_json(topo: t.Topology, imp: Impact) -> dict[str, Any]:
    return {"object": node_json(topo, imp.node), "summary": imp.summary(topo), "counts": imp.counts,
            "projects": imp.projects, "dependents": [node_json(topo, d) for d in imp.dependents]}


def impact_text(topo: t.Topology, imp: Impact) -> str:
    lines = [imp.summary(topo) + f"  [{imp.node.key}]"]
    for kind in imp.counts:
        nodes = [d for d in imp.dependents if d.kind == kind]
        names = [describe(topo, d) if kind in (t.INTERFACE, t.VOLUME, t.CAPACITY) else inert(d.display_name)
                 for d in nodes[:LIST_LIMIT]]
        more = f", ... and {len(nodes) - LIST_LIMIT} more" if len(nodes) > LIST_LIMIT else ""
        lines.append(f"  {KIND_LABELS.get(kind, (kind, kind))[1]}: " + ", ".join(names) + more)
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

    @property
    def name(self) -> str:
        if self.missing:
            return "MISSING"
        return (HOST_STATES if self.is_host else SERVICE_STATES).get(self.state, str(self.state))

    @property
    def failing(self) -> bool:
        """Failing as a dependency parent: a host not UP, a service CRITICAL or UNKNOWN (WARNING passes)."""
        if self.missing:
            return False
        return self.state != 0 if self.is_host else self.state in (2, 3)

    @property
    def problem(self) -> bool:
        return not self.missing and self.state != 0


@dataclass
class Link:
    """One node of the chain: how far above the object, and its status."""

    node: t.Node
    depth: int
    status: Status
    parents: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    node: t.Node
    status: Status
    chain: list[Link]
    via: t.Node | None  # the failing direct parent that makes the object unreachable
    cause: t.Node | None  # the topmost failing parent
    source: str  # "inventory" / "icinga"


def chain(topo: t.Topology, node: t.Node) -> list[tuple[t.Node, int]]:
    """The object and every node above it, each once, by distance (the object is 0), parents in order."""
    out: list[tuple[t.Node, int]] = [(node, 0)]
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


def blocking_parents(topo: t.Topology, key: str, status: Callable[[str], Status]) -> list[str]:
    """The failing parents that make `key` unreachable: its host when failing; explicit parents when failing
    (redundant parents only when all of them fail)."""
    node = topo.nodes[key]
    out = []
    explicit = [p for p in node.parents if p in topo.nodes]
    failing = [p for p in explicit if status(p).failing]
    if failing and (node.redundancy_group is None or len(failing) == len(explicit)):
        out += failing
    host = node.host
    if not node.is_host and host in topo.nodes and host not in explicit and status(host).failing:
        out.append(host)
    return out


def analyse(topo: t.Topology, node: t.Node, status: Callable[[str], Status], source: str) -> Analysis:
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
    return Analysis(node, status(node.key), links, via, cause, source)


def _since(s: Status, now: float) -> str:
    return f" since {clock(s.since, now)}" if s.since else ""


_PLUGIN_PREFIX = re.compile(r"^VIO [A-Z0-9 ]+? (OK|WARNING|CRITICAL|UNKNOWN) - ")


def _first_line(text: str, bare: bool = False) -> str:
    """The status line without perfdata (bare: also without the `VIO VM CRITICAL - ` prefix)."""
    line = one_line((text or "").splitlines()[0].split("|", 1)[0]) if text else ""
    return _PLUGIN_PREFIX.sub("", line) if bare else line


def message(topo: t.Topology, a: Analysis, now: float) -> str:
    """One sentence: what is wrong with the object and why."""
    obj = describe(topo, a.node)
    status = {s.node.key: s.status for s in a.chain}
    if a.via is not None:
        via = status[a.via.key]
        what = "unreachable" if a.source == "icinga" or a.status.problem else "affected"
        text = f"{obj} is {what} because {describe(topo, a.via)} is {via.name}{_since(via, now)}"
        if a.cause is not None and a.cause.key != a.via.key:
            c = status[a.cause.key]
            text += f" (cause: {describe(topo, a.cause)} {c.name}: {_first_line(c.output, bare=True)})"
        else:
            text += f" ({_first_line(via.output, bare=True)})"
        return text
    if a.cause is not None:
        return (f"{obj} is {a.status.name}{_since(a.status, now)}; every parent is fine, so the problem is "
                f"its own: {_first_line(a.status.output, bare=True)}")
    if a.status.missing:
        return f"{obj} is not in Icinga (deploy the current config); every parent is fine"
    return f"{obj} is {a.status.name}, and so is every parent"


def analysis_json(topo: t.Topology, a: Analysis, now: float) -> dict[str, Any]:
    def status_json(s: Status) -> dict[str, Any]:
        return {"state": s.name, "output": _first_line(s.output), "since": s.since, "reachable": s.reachable,
                "soft": s.soft}

    return {
        "object": {**node_json(topo, a.node), **status_json(a.status)},
        "source": a.source,
        "message": message(topo, a, now),
        "via": node_json(topo, a.via) if a.via else None,
        "cause": {**node_json(topo, a.cause), **status_json(next(x.status for x in a.chain
                                                                 if x.node.key == a.cause.key))}
        if a.cause else None,
        "chain": [{**node_json(topo, x.node), **status_json(x.status), "depth": x.depth, "parents": x.parents}
                  for x in a.chain],
    }


def analysis_text(topo: t.Topology, a: Analysis, now: float, header: str) -> str:
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


# --- states: from the inventory -----------------------------------------------------------------------


def judge_states(snapshot: Any, now: float) -> Callable[[t.Node], Status]:
    """A node's state as its check would judge it from this snapshot (in-process, no API call)."""
    from vio_checks.checks.base import build_parser
    from vio_checks.icinga import COMMAND_MODULES

    parsers: dict[str, Any] = {}

    def judge(node: t.Node) -> Status:
        command = node.check.command
        if command not in COMMAND_MODULES:  # the container hosts' dummy check
            return Status(0, node.is_host, "(no check of its own)")
        if command not in parsers:
            import importlib

            spec = importlib.import_module(f"vio_checks.checks.{COMMAND_MODULES[command]}").SPEC
            parsers[command] = (spec, build_parser(spec))
        spec, parser = parsers[command]
        argv: list[str] = []
        for option, value in node.check.args:
            argv += [option] if value is None else [f"{option}={value}"]
        try:
            args = parser.parse_args(argv)
            verdict = spec.evaluate(args, snapshot, now)
        except (SystemExit, Exception) as e:  # a check that cannot judge says UNKNOWN, as it would
            return Status(3 if not node.is_host else 1, node.is_host, f"cannot judge: {e}")
        state = int(verdict.state)
        title = spec.title
        output = f"{title} {verdict.state.name} - {verdict.summary}"
        if node.is_host:
            return Status(0 if state in (0, 1) else 1, True, output)
        return Status(state, False, output)

    return judge


# --- states: from Icinga 2 ------------------------------------------------------------------------------


class IcingaUnavailable(Exception):
    """The API could not be asked (unreachable, TLS, authentication): a one-line message."""


def icinga_states(api: Any, keys: Iterable[str], hosts: set[str]) -> dict[str, Status]:
    """Live state of each object (host name or host!service) from /v1/objects; missing ones are marked."""
    from vio_checks.icinga.deploy import ApiError

    out: dict[str, Status] = {}
    attrs = "&".join(f"attrs={a}" for a in ("state", "state_type", "last_state_change", "last_reachable",
                                            "last_check_result"))
    for key in keys:
        plural = "hosts" if key in hosts else "services"
        path = f"/v1/objects/{plural}/{urllib.parse.quote(key, safe='')}?{attrs}"
        try:
            data = api.request("GET", path, not_found=None)
        except ApiError as e:
            raise IcingaUnavailable(str(e)) from None
        results = (data or {}).get("results") or []
        if not results:
            out[key] = Status(0, key in hosts, missing=True)
            continue
        a = results[0].get("attrs") or {}
        cr = a.get("last_check_result") or {}
        out[key] = Status(int(a.get("state") or 0), key in hosts, cr.get("output") or "",
                          since=float(a["last_state_change"]) if a.get("last_state_change") else None,
                          reachable=a.get("last_reachable"), soft=int(a.get("state_type") or 0) == 0)
    return out


def _password(args: argparse.Namespace) -> str:
    if args.api_password_file:
        try:
            return Path(args.api_password_file).read_text().rstrip("\r\n")
        except OSError as e:
            raise IcingaUnavailable(f"cannot read --api-password-file: {e.strerror or e}") from None
    password = os.environ.get("VIO_ICINGA_API_PASSWORD")
    if password is None:
        raise IcingaUnavailable("no API password: use --api-password-file or VIO_ICINGA_API_PASSWORD")
    return password


# --- commands --------------------------------------------------------------------------------------------


def _candidates(topo: t.Topology, e: Unresolved) -> int:
    if not e.candidates:
        print(f"vio-icinga: unknown object {e.text!r}: no Icinga object name, id or name matches "
              f"(cloud {topo.cloud}, prefix {topo.prefix})", file=sys.stderr)
        return EXIT_UNKNOWN
    print(f"vio-icinga: {e.text!r} is ambiguous; {len(e.candidates)} objects match, name one of them:",
          file=sys.stderr)
    for n in e.candidates[:50]:
        print(f"  {n.key}  ({describe(topo, n)}, id {inert(n.object_id)})", file=sys.stderr)
    if len(e.candidates) > 50:
        print(f"  ... and {len(e.candidates) - 50} more", file=sys.stderr)
    return EXIT_UNKNOWN


def _topology(args: argparse.Namespace):
    from vio_checks.icinga.cli import topology_from_args

    return topology_from_args(args)


def _target(args: argparse.Namespace) -> tuple[Any, t.Topology, t.Node] | int:
    """(snapshot result, topology, the node args.object names), or the exit code after saying why not."""
    topo = None
    try:
        result, topo = _topology(args)
        return result, topo, resolve(topo, args.object)
    except Unresolved as e:
        return _candidates(topo, e)
    except (VioError, t.CycleError, ValueError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_UNKNOWN


def run_impact(args: argparse.Namespace) -> int:
    target = _target(args)
    if isinstance(target, int):
        return target
    _, topo, node = target
    imp = impact(topo, node)
    if args.json:
        print(json.dumps(impact_json(topo, imp), indent=2))
    else:
        sys.stdout.write(impact_text(topo, imp))
    return EXIT_OK


def run_rootcause(args: argparse.Namespace) -> int:
    now = time.time()
    target = _target(args)
    if isinstance(target, int):
        return target
    result, topo, node = target
    keys = [n.key for n, _ in chain(topo, node)]
    if args.api_url:
        from vio_checks.icinga.deploy import ApiError, IcingaApi

        try:
            api = IcingaApi(args.api_url, args.api_user, _password(args), args.ca_file,
                            timeout=args.api_timeout, retries=args.retries)
            live = icinga_states(api, keys, {k for k in keys if topo.nodes[k].is_host})
        except (IcingaUnavailable, ApiError) as e:
            print(f"vio-icinga: Icinga API unavailable: {e}", file=sys.stderr)
            return EXIT_UNKNOWN
        source, header = "icinga", f"chain (live states from {args.api_url}):"

        def status(key: str) -> Status:
            if key not in live:  # a parent outside the chain is never asked for: treat as fine
                return Status(0, topo.nodes[key].is_host)
            return live[key]
    else:
        judge = judge_states(result.snapshot, now)
        cache: dict[str, Status] = {}
        meta = result.snapshot.inventory().meta
        age = max(0, int(now - meta.fetched_at))
        source = "inventory"
        header = f"chain (judged from the cached inventory of {clock(meta.fetched_at, now)}, {age} s old):"

        def status(key: str) -> Status:
            if key not in cache:
                cache[key] = judge(topo.nodes[key])
            return cache[key]

    a = analyse(topo, node, status, source)
    if args.json:
        print(json.dumps(analysis_json(topo, a, now), indent=2))
    else:
        sys.stdout.write(analysis_text(topo, a, now, header))
    return EXIT_OK


IMPACT_EPILOG = """\
OBJECT is an Icinga object name (host, or host!service), an OpenStack id, or a name (VM, router, volume,
hypervisor_hostname, binary@host of a service); an ambiguous name lists the candidates.

exit codes:
  0  answered
  3  unknown or ambiguous object (candidates on stderr), or no usable inventory
"""

ROOTCAUSE_EPILOG = """\
Without --api-url every object of the chain is judged from the cached inventory, exactly as its check
would judge it; with --api-url the states are Icinga's own (state, since when, reachability).

exit codes:
  0  answered (whatever the states are)
  3  unknown or ambiguous object (candidates on stderr), no usable inventory, or the Icinga API unreachable
"""


def add_subcommands(subparsers: Any) -> None:
    """Add `impact` and `rootcause` to vio-icinga's subparsers."""
    from vio_checks.icinga.cli import add_topology_options
    from vio_checks.options import duration

    imp = subparsers.add_parser(
        "impact", help="everything that depends on an object, counted by kind",
        description="Everything that depends on an object, transitively, grouped by kind with counts, from "
                    "the same dependency tree `vio-icinga generate` writes.",
        epilog=IMPACT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("object", metavar="OBJECT", help="Icinga object name, OpenStack id or name")
    imp.add_argument("--json", action="store_true", help="print JSON: object, counts, projects, dependents")
    add_topology_options(imp)
    imp.set_defaults(func=run_impact)

    rc = subparsers.add_parser(
        "rootcause", help="why an object is in trouble: its chain of parents and the topmost failing one",
        description="The chain of parents of an object and the topmost failing one, judged from the cached "
                    "inventory, or from Icinga's live states with --api-url.",
        epilog=ROOTCAUSE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_argument("object", metavar="OBJECT", help="Icinga object name, OpenStack id or name")
    rc.add_argument("--json", action="store_true", help="print JSON: object, message, via, cause, chain")
    a = rc.add_argument_group("Icinga API (live states instead of the inventory's)")
    a.add_argument("--api-url", metavar="URL", help="e.g. https://icinga.example.com:5665")
    a.add_argument("--api-user", metavar="USER", default="vio",
                   help="an ApiUser with permission objects/query/* (default: vio)")
    a.add_argument("--api-password-file", metavar="FILE",
                   help="file holding the password (default: $VIO_ICINGA_API_PASSWORD)")
    a.add_argument("--ca-file", metavar="FILE", help="CA certificate of the Icinga API (e.g. its pki/ca.crt)")
    a.add_argument("--api-timeout", type=duration, default=10.0, metavar="DURATION",
                   help="timeout of one API request (default: 10 s)")
    a.add_argument("--retries", type=int, default=1, metavar="N",
                   help="retries when the API is unreachable or busy (default: 1)")
    add_topology_options(rc)
    rc.set_defaults(func=run_rootcause)


#: The hook vio_checks.icinga.cli calls for the modules in its EXTENSIONS.
register = add_subcommands
