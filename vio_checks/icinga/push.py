"""`vio-icinga push`: bulk mode. Judge every object of the generated tree in one process and submit the
results as passive check results, instead of Icinga running one check executable per object.

    vio-icinga push --api-url https://icinga:5665 --api-user vio --api-password-file /etc/vio/pw --once
    vio-icinga push --command-file /var/lib/nagios4/rw/nagios.cmd --interval 1m      (loops)

One round: read the snapshot once (the same cloud, cache and filter options as `generate`, so the object
names are the generated ones), serve every judge from memory (`MemorySnapshot`), judge each node with its
check module exactly as the executable does (`judge_result` + `render_verdict`: same state, output and
perfdata), then send only what changed since the last send, plus whatever was last sent ttl/2 ago or
earlier (so every object gets a result within its ttl). Icinga 2: `/v1/actions/process-check-result`
over keep-alive connections, `--concurrency` at a time, 423/502/503/504 retried with backoff. Nagios 4:
PROCESS_HOST_CHECK_RESULT / PROCESS_SERVICE_CHECK_RESULT lines to the external command file.

What was last sent is kept in memory (loop) and, for --once runs from a timer, in a small private state
file in the inventory cache's namespace directory.

Exit codes (of the last round): 0 everything due was sent; 1 some objects failed (the rest were sent);
2 bad options or config (e.g. the API refused our credentials); 3 the API / command file was unavailable,
or no usable inventory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vio_checks import topology as t
from vio_checks.errors import InventoryUnavailable, VioError
from vio_checks.fileutil import atomic_write
from vio_checks.freshness import Result
from vio_checks.icinga import objects as o
from vio_checks.icinga import passive
from vio_checks.icinga.bulk import Evaluator, MemorySnapshot, Outcome, host_state
from vio_checks.icinga.deploy import add_api_options, api_password
from vio_checks.icinga.load import add_topology_options
from vio_checks.icinga.targets import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
    NAGIOS_STATE_SERVICE,
    Delivery,
    IcingaTarget,
    Item,
    NagiosTarget,
    TargetError,
)
from vio_checks.open_inventory import snapshot, store_for
from vio_checks.options import add_bounded, duration_range, int_range
from vio_checks.text import counted, inert

log = logging.getLogger(__name__)



# --- what to send: change tracking ----------------------------------------------------------------------


class Tracker:
    """The last sent result per object (digest, time): send when it changed or ttl/2 has passed, and
    always when asked (the cloud host's heartbeat, and problems: see `run_round`).

    Also remembers the cloud host's name (`root`), to report on it when no inventory can be read."""

    def __init__(self, ttl: float, path: Path | None = None) -> None:
        self.ttl = ttl
        self.path = path
        self.sent: dict[str, tuple[str, float]] = {}
        self.states: dict[str, int] = {}  # the state last sent per object
        self.root: str | None = None

    #: A send this close to ttl/2 counts as due already (rounds start a little early or late), at most 5 %.
    SLACK = 1.0

    def load(self) -> None:
        """Read the state file (a missing or unreadable one means: send everything)."""
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text())
            self.sent = {str(k): (str(v[0]), float(v[1])) for k, v in data.get("sent", {}).items()}
            self.states = {str(k): int(v) for k, v in data.get("states", {}).items()}
            self.root = str(data["root"]) if data.get("root") else None
        except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError):
            self.sent, self.states, self.root = {}, {}, None

    def save(self) -> None:
        """Write the state file atomically, private (0600)."""
        if self.path is None:
            return
        state = {"version": 1, "root": self.root, "sent": self.sent, "states": self.states}
        data = json.dumps(state, separators=(",", ":")).encode()
        atomic_write(self.path, data, 0o600)

    def due(self, key: str, digest: str, now: float, always: bool = False) -> tuple[bool, bool]:
        """(send it, it changed)."""
        last = self.sent.get(key)
        if last is None or last[0] != digest:
            return True, True
        return always or now - last[1] >= self.ttl / 2 - min(self.SLACK, self.ttl / 20), False

    def state_changed(self, key: str, state: int) -> bool:
        """The object's state differs from the one last sent (a new object: no)."""
        return key in self.states and self.states[key] != state

    def mark(self, key: str, digest: str, when: float, state: int = 0) -> None:
        self.sent[key] = (digest, when)
        self.states[key] = state

    def forget_missing(self, keys: Iterable[str]) -> None:
        """Drop objects no longer in the tree."""
        keep = set(keys)
        self.sent = {k: v for k, v in self.sent.items() if k in keep}
        self.states = {k: v for k, v in self.states.items() if k in keep}


def state_path(args: argparse.Namespace, target: str) -> Path:
    """The --once state file: in the cache namespace directory, one per target (API URL or command file)."""
    tag = hashlib.sha1(target.encode()).hexdigest()[:12]
    return store_for(args).directory / f"push-state-{tag}.json"


# --- one round ------------------------------------------------------------------------------------------


@dataclass
class RoundStats:
    objects: int = 0
    sent: int = 0
    changed: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    requests: int = 0
    code: int = EXIT_OK

    def line(self) -> str:
        return (f"vio-icinga push: {counted(self.objects, 'objects')}, {self.sent} sent "
                f"({self.changed} changed), "
                f"{self.errors} errors, {self.seconds:.1f} s")


def nagios_state_services(topo: o.Objects) -> set[str]:
    """Hosts that Nagios configs give a `state` service (those a service depends on)."""
    return {p for n in topo.nodes.values() if not n.is_host for p in n.parents if topo.get(p).is_host}


def item_levels(topo: o.Objects, evaluator: Evaluator, nagios: bool,
                settings: passive.Passive | None = None, mode: str = "active") -> Iterator[list[Item]]:
    """Every node's result as Items, one list per tree level (roots first), judged as it is asked for:
    each with its level and its ttl (passive.result_ttl); Nagios: plus each parent host's `state`
    service."""
    state_hosts = nagios_state_services(topo) if nagios else set()
    depth = topo.depth()
    by_level: dict[int, list[o.Node]] = {}
    for node in topo.sorted_nodes():
        by_level.setdefault(depth[node.key], []).append(node)
    for level in sorted(by_level):
        yield [item for node in by_level[level]
               for item in node_items(node, evaluator.evaluate(node), level, settings,
                                      node.key in state_hosts, mode)]


def node_items(node: o.Node, outcome: Outcome, level: int, settings: passive.Passive | None,
               state_service: bool = False, mode: str = "active") -> list[Item]:
    """One node's result as Items (a host with a Nagios `state` service: two)."""
    code = outcome.code if not node.is_host else host_state(outcome.code)
    ttl = passive.result_ttl(settings, node.kind, code != 0, mode) if settings else None
    if not node.is_host:
        return [Item(node.key, node.host, node.service, code, outcome, outcome.digest, ttl, level)]
    out = [Item(node.key, node.host, None, code, outcome, outcome.digest, ttl, level)]
    if state_service:
        key = f"{node.host}!{NAGIOS_STATE_SERVICE}"
        out.append(Item(key, node.host, NAGIOS_STATE_SERVICE, outcome.code, outcome, outcome.digest, ttl,
                        level, node=node.key))
    return out


class Delivering:
    """Delivers parents first, level by level. Icinga 2: each level in the background while the next one
    is judged, and only once the level above is processed (the API answers after processing), so a
    child's result meets its parent's new state; once a level found the target unavailable, the rest is
    not tried. Nagios: everything in one write at the end, sorted by level (Nagios reads it in order)."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.total = Delivery()
        self._held: list[Item] = []
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def send(self, items: list[Item]) -> None:
        if isinstance(self.target, NagiosTarget):
            self._held += items
            return
        self.wait()
        if self.total.unavailable and not self.total.sent:
            self.total.errors.update({i.key: "not sent: the target was unavailable" for i in items})
            return
        if items:
            self._thread = threading.Thread(target=self._deliver, args=(items,), name="push-level",
                                            daemon=True)
            self._thread.start()

    def _deliver(self, items: list[Item]) -> None:
        try:
            part = self.target.deliver(items)
        except BaseException as e:  # e.g. TargetError (401, TLS): raised again in the round's thread
            self._failure = e
            return
        self.total.sent += part.sent
        self.total.errors.update(part.errors)
        self.total.requests += part.requests
        self.total.unavailable = self.total.unavailable or part.unavailable

    def wait(self) -> None:
        """Wait for the level being sent; re-raise what stopped it."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def finish(self) -> Delivery:
        """Wait for the last level (Nagios: write everything); what was delivered."""
        self.wait()
        if self._held:
            held, self._held = sorted(self._held, key=lambda i: i.level), []
            self._deliver(held)
            self.wait()
        return self.total


def run_round(args: argparse.Namespace, target: Any, tracker: Tracker, full: bool = False) -> RoundStats:
    """Judge the tree once and deliver what is due. Raises VioError (inventory), TargetError."""
    from vio_checks.icinga import generate as g

    t0, c0 = time.monotonic(), time.process_time()
    stats = RoundStats()
    opts = g.topology_options(args)
    settings = settings_of(args)
    nagios = isinstance(target, NagiosTarget)
    try:
        result = snapshot(args, timeout=args.timeout)
    except InventoryUnavailable as e:
        unavailable = unavailable_items(args, tracker, str(e), settings, nagios)
        levels: Iterable[list[Item]] = [[i for i in unavailable if i.level == 0],
                                        [i for i in unavailable if i.level > 0]]
        topo, partial = None, True
    else:
        if result.stale_reason:
            log.warning("note: %s", result.stale_reason)
        memory = Result(MemorySnapshot(result.snapshot), result.stale_reason, result.swept, result.error)
        topo = o.build(memory.snapshot.inventory(), opts)
        tracker.root = topo.prefix
        levels = item_levels(topo, Evaluator(memory, args), nagios, settings, args.mode)
        partial = False
    now = time.time()
    items: list[Item] = []
    due: list[Item] = []
    changed: set[str] = set()
    follow: set[str] = set()
    delivering = Delivering(target)
    try:
        for level in levels:  # judged level by level: a level is sent while the next one is judged
            items += level
            batch = []
            for item in level:
                # The cloud host is the heartbeat, and problems stay fresh (Icinga 2 re-checks a problem
                # child when its parent recovers: its own result must follow at once), so both go every
                # round; and what is below them or below a state change, since Icinga decides an object's
                # reachability only when a result of it arrives.
                always = item.level == 0 or item.problem or item.node in follow
                send, differs = tracker.due(item.key, item.digest, now, always=always)
                if send or full:
                    batch.append(item)
                    if differs:
                        changed.add(item.key)
            for item in level:
                if topo is not None and item.node not in follow and (
                        item.problem or tracker.state_changed(item.key, item.code)):
                    follow.update(n.key for n in topo.descendants(item.node))
            due += batch
            delivering.send(batch)
    finally:
        delivery = delivering.finish()
    stats.objects = len(items)
    sent_at = time.time()
    by_key = {i.key: i for i in due}
    for key in delivery.sent:
        tracker.mark(key, by_key[key].digest, sent_at, by_key[key].code)
    tracker.forget_missing(i.key for i in items)
    for key, error in list(delivery.errors.items())[:5]:
        log.warning("%s: %s", inert(key, 300), error)
    if len(delivery.errors) > 5:
        log.warning("... and %d more errors", len(delivery.errors) - 5)
    stats.sent = len(delivery.sent)
    stats.changed = len(changed & set(delivery.sent))
    stats.errors = len(delivery.errors)
    stats.requests = delivery.requests
    if stats.errors:
        stats.code = EXIT_UNAVAILABLE if (delivery.unavailable and not stats.sent) else EXIT_PARTIAL
    if partial:  # no inventory: every object was told why, but nothing was judged
        stats.code = EXIT_UNAVAILABLE
    stats.seconds = time.monotonic() - t0
    stats.cpu = time.process_time() - c0
    return stats


def unavailable_items(args: argparse.Namespace, tracker: Tracker, message: str,
                      settings: passive.Passive, nagios: bool) -> list[Item]:
    """No usable inventory: the cloud host's result as check_vio_discovery answers then, first; every
    other object last pushed gets UNKNOWN (a host DOWN) with the reason, as its executable would answer,
    and is unreachable below the cloud host. The cloud host's name is the one last pushed, else the
    generator's default."""
    prefix = tracker.root or getattr(args, "prefix", None) or o.default_prefix(
        args.os_cloud or os.environ.get("OS_CLOUD") or "", args.os_region_name)
    root = o.Node(kind=t.CLOUD, host=prefix, service=None, display_name=prefix, object_id=None,
                  check=o.Check("vio_discovery"))
    log.warning("no inventory: %s is told why, the other objects are UNKNOWN", inert(prefix, 200))
    items = node_items(root, Evaluator(None, args).unavailable(root, message), 0, settings, nagios, args.mode)
    now = time.time()
    outcome = Outcome(3, f"VIO UNKNOWN - {inert(message)}\n", now, now)
    ttl = passive.result_ttl(settings, None, True, args.mode)
    for key in sorted(set(tracker.sent) - {i.key for i in items}):
        host, _, service = key.partition("!")
        code = 3 if service else host_state(3)
        items.append(Item(key, host, service or None, code, outcome, outcome.digest, ttl, 1))
    return items


# --- the command ----------------------------------------------------------------------------------------


def _password(args: argparse.Namespace) -> str:
    try:
        return api_password(args.api_password_file)
    except ValueError as e:
        raise TargetError(str(e), EXIT_CONFIG) from None


def make_target(args: argparse.Namespace):
    """The Icinga 2 API or Nagios command-file target the options name."""
    if args.command_file:
        return NagiosTarget(args.command_file)
    if not args.api_user:
        raise TargetError("--api-url needs --api-user", EXIT_CONFIG)
    return IcingaTarget(args.api_url, args.api_user, _password(args), args.ca_file,
                        check_source=args.check_source or socket.getfqdn(), ttl=settings_of(args).ttl,
                        concurrency=args.concurrency, timeout=args.api_timeout, retries=args.retries,
                        backoff=args.retry_delay, server_name=args.tls_server_name)


def settings_of(args: argparse.Namespace) -> passive.Passive:
    """The interval and ttl of the rounds (the generator's --push-interval / --push-ttl must match)."""
    try:
        return passive.Passive(args.interval, args.ttl)
    except ValueError as e:
        raise TargetError(f"--ttl: {e}", EXIT_CONFIG) from None


def run_push(args: argparse.Namespace) -> int:
    """`vio-icinga push`: one round (--once) or rounds every --interval; exit code of the last round."""
    from vio_checks.icinga.generate import GenerateError

    try:
        settings = settings_of(args)  # a bad option is refused before anything is read
        target = make_target(args)
        target_name = args.command_file or args.api_url
        path = state_path(args, target_name) if args.once else None
        tracker = Tracker(settings.ttl, path)
        tracker.load()
    except (TargetError, VioError, GenerateError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return getattr(e, "code", EXIT_CONFIG if isinstance(e, GenerateError) else EXIT_UNAVAILABLE)
    stopping = threading.Event()
    if not args.once:  # SIGTERM (systemctl stop): finish the round being sent, then exit 0
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    code = EXIT_OK
    while True:
        started = time.monotonic()
        try:
            stats = run_round(args, target, tracker, full=args.full)
            extra = f" (cpu {stats.cpu:.1f} s, {stats.requests} requests)" if args.verbose else ""
            print(stats.line() + extra, flush=True)
            code = stats.code
            if args.once and (stats.sent or tracker.root):
                tracker.save()
        except KeyboardInterrupt:
            print("vio-icinga: interrupted", file=sys.stderr)
            return code
        except TargetError as e:
            print(f"vio-icinga push: {e}", file=sys.stderr, flush=True)
            code = e.code
        except GenerateError as e:
            print(f"vio-icinga push: {e}", file=sys.stderr, flush=True)
            return EXIT_CONFIG
        except (VioError, t.CycleError) as e:
            print(f"vio-icinga push: {inert(str(e), 1000)}", file=sys.stderr, flush=True)
            code = EXIT_UNAVAILABLE
        except OSError as e:  # e.g. the state file
            print(f"vio-icinga push: {e}", file=sys.stderr, flush=True)
            code = EXIT_UNAVAILABLE
        except Exception as e:  # never a traceback
            log.debug("internal error", exc_info=True)
            print(f"vio-icinga push: internal error: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            code = EXIT_UNAVAILABLE
        if args.once:
            return code
        try:
            if stopping.wait(max(0.0, args.interval - (time.monotonic() - started))):
                return EXIT_OK
        except KeyboardInterrupt:
            return EXIT_OK


PUSH_EPILOG = """\
exit codes (of the last round):
  0  every due result was sent
  1  some results were not accepted (the rest were sent); the first few reasons on stderr
  2  bad options or config (e.g. the API refused the credentials)
  3  the API or the command file was unavailable (past --retries), or no usable inventory

Every object gets a result when it changed and at least every ttl/2 (--ttl, default 2 x --interval);
with --once the last sent results are kept in <cache>/<cloud>/push-state-*.json between runs.
"""


def register(subparsers) -> None:
    """Add `push` to vio-icinga's subcommands."""
    p = subparsers.add_parser(
        "push", help="judge every object in one process and submit passive check results (bulk mode)",
        description="Judge every object of the generated tree with the checks' own judges, in one process, "
                    "and submit the results: to the Icinga 2 API (process-check-result) or to the Nagios "
                    "external command file. Only changed results are sent between full refreshes.",
        epilog=PUSH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    tg = p.add_argument_group("where results go (one of)")
    x = tg.add_mutually_exclusive_group(required=True)
    x.add_argument("--api-url", metavar="URL", help="Icinga 2 API, e.g. https://icinga.example.com:5665")
    x.add_argument("--command-file", metavar="PATH",
                   help="Nagios 4 external command file, e.g. /var/lib/nagios4/rw/nagios.cmd")
    a = p.add_argument_group("Icinga API")
    add_api_options(a, "actions/process-check-result", url=False)
    a.add_argument("--check-source", metavar="NAME",
                   help="check_source of the results (default: this host's name)")
    add_bounded(a, "--concurrency", type=int_range(1, 64), default=8, metavar="N",
                   help="requests in flight, each worker on its own keep-alive connection (default: 8)")
    r = p.add_argument_group("rounds")
    r.add_argument("--once", action="store_true", help="run one round and exit (for a timer)")
    add_bounded(r, "--interval", type=duration_range(0.1), default=60.0, metavar="DURATION",
                   help="time between rounds (loop), or between the timer's runs (--once) (default: 1m)")
    add_bounded(r, "--ttl", type=duration_range(1), default=passive.DEFAULT_TTL, metavar="DURATION",
                   help="how long Icinga trusts a result; each object is resent at least every ttl/2, at "
                        "once when it changes, every round while it is a problem; at least 2 x --interval "
                        "(default: 10m)")
    r.add_argument("--full", action="store_true", help="send every object's result this round")
    r.add_argument("--mode", choices=passive.MODES, default="active",
                   help="the --mode the objects were generated with (default: active): each result's ttl "
                        "moves the object's next check; active: an OK result's by the ttl, a problem's by "
                        "at most its retry interval, so the executable still retries it; passive: by the "
                        "object's freshness")
    add_topology_options(p)
    p.set_defaults(func=run_push)

