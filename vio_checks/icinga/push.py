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
import base64
import contextlib
import hashlib
import http.client
import importlib
import io
import json
import logging
import os
import re
import signal
import socket
import ssl
import stat
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vio_checks import topology as t
from vio_checks.cache import INDEXES
from vio_checks.errors import VioError
from vio_checks.fileutil import atomic_write
from vio_checks.freshness import Result
from vio_checks.model import KINDS
from vio_checks.options import duration, int_range, snapshot, store_for
from vio_checks.text import inert

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG, EXIT_UNAVAILABLE = 0, 1, 2, 3
#: Statuses that mean "busy, try again": another config update (423), a reload (503), a proxy's 502/504.
RETRY_STATUSES = frozenset({423, 502, 503, 504})
#: The service Nagios configs carry on a host that is a service's parent (render_nagios.STATE_SERVICE).
NAGIOS_STATE_SERVICE = "state"
#: Nagios 4 reads at most this many bytes of one external command (MAX_EXTERNAL_COMMAND_LENGTH 8192).
NAGIOS_MAX_LINE = 8000


# --- the snapshot, from memory ------------------------------------------------------------------------


class MemorySnapshot:
    """A cache.Snapshot whose reads come from memory: each kind is loaded once, on first use.

    Same answers as cache.Snapshot (get by id, find by a cache.INDEXES index in the stored order, all);
    `.store`, `.meta`, `.gen` and `.age()` are the wrapped snapshot's, for EventLog and the judges.
    """

    def __init__(self, snap: Any) -> None:
        self._snap = snap
        self.store = snap.store
        self.meta = snap.meta
        self.gen = snap.gen
        self.layout = getattr(snap, "layout", {})
        self._all: dict[str, list] = {}
        self._ids: dict[str, dict[str, Any]] = {}
        self._index: dict[tuple[str, str], dict[str, list]] = {}
        self._lock = threading.Lock()

    def age(self, now: float | None = None) -> float:
        return self._snap.age(now)

    def _load(self, kind: str) -> list:
        objects = self._all.get(kind)
        if objects is None:
            with self._lock:
                objects = self._all.get(kind)
                if objects is None:
                    objects = list(self._snap.all(kind))
                    self._ids[kind] = {o.id: o for o in objects}
                    self._all[kind] = objects
        return objects

    def all(self, kind: str) -> list:
        """Every object of a kind (a new list: callers may sort or filter it)."""
        return list(self._load(kind))

    def get(self, kind: str, object_id: str) -> Any:
        """One object by id, or None."""
        if not object_id:
            return None
        self._load(kind)
        return self._ids.get(kind, {}).get(object_id)

    def find(self, kind: str, index: str, value: str) -> list:
        """Objects of a kind whose index has this value, in the order the cache stores them."""
        values_of = INDEXES.get(kind, {}).get(index)
        if values_of is None or not value:
            return []
        found = self._index.get((kind, index))
        if found is None:
            found = {}
            for obj in self._load(kind):
                for v in values_of(obj):
                    if v:
                        found.setdefault(v, []).append(obj)
            self._index[(kind, index)] = found
        return list(found.get(value, ()))

    def inventory(self):
        """The whole snapshot as an Inventory (what topology.build takes)."""
        from vio_checks.model import Inventory

        inv = Inventory(meta=self.meta)
        for kind in KINDS:
            setattr(inv, kind, self.all(kind))
        return inv


# --- judging one node ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One node's result as its executable would print it: exit code and the whole plugin output."""

    code: int
    text: str
    started: float = 0.0
    ended: float = 0.0

    @property
    def digest(self) -> str:
        """What change tracking compares (the code and the text)."""
        return hashlib.sha1(f"{self.code}\n{self.text}".encode("utf-8", "surrogatepass")).hexdigest()[:20]


class _Capture(logging.Handler):
    """Collects our warnings while one node is judged: the executable prints them after its output."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


#: Options every check shares (cloud, cache): the generated config sets them once for all objects (custom
#: vars), so bulk mode judges with push's own values, as Icinga would run each check with the config's.
SHARED_OPTIONS = ("os_cloud", "os_region_name", "cache_dir", "max_age", "max_stale", "cache_only",
                  "event_retention", "event_limit")


class Evaluator:
    """Judges topology nodes with the check modules, as their executables would (one parser per command).

    `shared`: push's own options; its SHARED_OPTIONS replace each check's defaults.
    """

    def __init__(self, result: Result, shared: argparse.Namespace | None = None) -> None:
        self.result = result
        self.shared = {k: getattr(shared, k) for k in SHARED_OPTIONS if hasattr(shared, k)} if shared else {}
        self._parsers: dict[str, tuple[Any, argparse.ArgumentParser]] = {}

    def _parser(self, command: str):
        if command not in self._parsers:
            from vio_checks.checks.base import build_parser
            from vio_checks.icinga import COMMAND_MODULES

            spec = importlib.import_module(f"vio_checks.checks.{COMMAND_MODULES[command]}").SPEC
            self._parsers[command] = (spec, build_parser(spec))
        return self._parsers[command]

    def evaluate(self, node: t.Node, now: float | None = None) -> Outcome:
        """The node's exit code and plugin output (never raises: a failure is UNKNOWN, as it would be)."""
        from vio_checks.checks.base import judge_result, render_verdict
        from vio_checks.icinga import COMMAND_MODULES
        from vio_checks.text import one_line

        started = time.time()
        command = node.check.command
        if command not in COMMAND_MODULES:  # the container hosts' dummy: its text, state 0
            texts = [v for o, v in node.check.args if o == "--text" and v is not None]
            return Outcome(0, inert(texts[0] if texts else "OK") + "\n", started, time.time())
        try:
            spec, parser = self._parser(command)
        except Exception as e:
            return Outcome(3, f"VIO UNKNOWN - internal error: {type(e).__name__}: {inert(str(e))}\n",
                           started, time.time())
        argv = [item for option, value in node.check.args
                for item in ((option,) if value is None else (option, value))]
        out = io.StringIO()
        try:  # a bad option: the parser prints the executable's UNKNOWN line and usage, and exits 3
            with contextlib.redirect_stdout(out):
                args = parser.parse_args(argv)
                for name, value in self.shared.items():
                    if hasattr(args, name):
                        setattr(args, name, value)
                try:
                    spec.validate(args)
                except ValueError as e:
                    parser.error(str(e))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 3
            return Outcome(code, out.getvalue(), started, time.time())
        capture = _Capture()
        ours = logging.getLogger("vio_checks")
        ours.addHandler(capture)
        try:
            verdict = judge_result(spec, args, self.result, time.time() if now is None else now)
            text, code = render_verdict(spec.title, verdict)
        except Exception as e:  # one object that cannot be told is UNKNOWN; the round goes on
            log.debug("internal error judging %s", node.key, exc_info=True)
            text, code = f"{spec.title} UNKNOWN - internal error: {type(e).__name__}: {inert(str(e))}\n", 3
        finally:
            ours.removeHandler(capture)
        for line in capture.lines:
            line = one_line(line)
            if line:
                text += line + "\n"
        return Outcome(code if code in (0, 1, 2, 3) else 3, text, started, time.time())


def host_state(code: int) -> int:
    """A host's state from its plugin's exit code: 0/1 → 0 (UP), 2/3 → 1 (DOWN)."""
    return 0 if code in (0, 1) else 1


# --- output formats -----------------------------------------------------------------------------------

_PERF_ITEM = re.compile(r"'(?:[^']|'')*'=\S*|\S+")


def split_output(text: str) -> tuple[str, list[str]]:
    """Plugin output → (status line and long output without perfdata, perfdata items).

    The executables print all perfdata on the first line after ` | `; a `|` in a later line (none of ours)
    is treated the Nagios way: perfdata too.
    """
    lines = text.rstrip("\n").split("\n")
    status, _, perf = lines[0].partition("|")
    long_lines, perf_parts = [], [perf]
    for line in lines[1:]:
        body, sep, more = line.partition("|")
        long_lines.append(body.rstrip() if sep else line)
        if sep:
            perf_parts.append(more)
    output = "\n".join([status.rstrip(), *long_lines]).rstrip("\n")
    items = [m.group(0) for part in perf_parts for m in _PERF_ITEM.finditer(part.strip())]
    return output, items


def nagios_line(node_host: str, service: str | None, code: int, text: str, when: float) -> str:
    """One external command: the whole plugin output (perfdata included), newlines escaped as `\\n`."""
    body = text.rstrip("\n").replace("\\", "\\\\").replace("\n", "\\n")
    if service is None:
        head = f"[{int(when)}] PROCESS_HOST_CHECK_RESULT;{node_host};{code};"
    else:
        head = f"[{int(when)}] PROCESS_SERVICE_CHECK_RESULT;{node_host};{service};{code};"
    limit = NAGIOS_MAX_LINE - len(head.encode())
    if len(body.encode()) > limit:  # keep the status line; cut the long output
        body = body.encode()[:limit - 20].decode("utf-8", "ignore").rsplit("\\n", 1)[0] + "\\n(truncated)"
    return head + body


# --- what to send: change tracking ----------------------------------------------------------------------


class Tracker:
    """The last sent result per object (digest, time): send when it changed or ttl/2 has passed."""

    def __init__(self, ttl: float, path: Path | None = None) -> None:
        self.ttl = ttl
        self.path = path
        self.sent: dict[str, tuple[str, float]] = {}

    #: A send this close to ttl/2 counts as due already (rounds start a little early or late), at most 5 %.
    SLACK = 1.0

    def load(self) -> None:
        """Read the state file (a missing or unreadable one means: send everything)."""
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text())
            self.sent = {str(k): (str(v[0]), float(v[1])) for k, v in data.get("sent", {}).items()}
        except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError):
            self.sent = {}

    def save(self) -> None:
        """Write the state file atomically, private (0600)."""
        if self.path is None:
            return
        data = json.dumps({"version": 1, "sent": self.sent}, separators=(",", ":")).encode()
        atomic_write(self.path, data, 0o600)

    def due(self, key: str, digest: str, now: float) -> tuple[bool, bool]:
        """(send it, it changed)."""
        last = self.sent.get(key)
        if last is None or last[0] != digest:
            return True, True
        return now - last[1] >= self.ttl / 2 - min(self.SLACK, self.ttl / 20), False

    def mark(self, key: str, digest: str, when: float) -> None:
        self.sent[key] = (digest, when)

    def forget_missing(self, keys: Iterable[str]) -> None:
        """Drop objects no longer in the tree."""
        keep = set(keys)
        self.sent = {k: v for k, v in self.sent.items() if k in keep}


def state_path(args: argparse.Namespace, target: str) -> Path:
    """The --once state file: in the cache namespace directory, one per target (API URL or command file)."""
    tag = hashlib.sha1(target.encode()).hexdigest()[:12]
    return store_for(args).directory / f"push-state-{tag}.json"


# --- targets ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One result to submit."""

    key: str  # the tracker's key: the Icinga object name (host or host!service)
    host: str
    service: str | None
    code: int  # exit status to submit (hosts already mapped to 0/1)
    outcome: Outcome
    digest: str


@dataclass
class Delivery:
    """What a target did with a batch: the keys it delivered, and per failed key a one-line error."""

    sent: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False  # failures were the target being unreachable (not rejections)
    requests: int = 0


class TargetError(Exception):
    """The target cannot be used at all this round; `code` is the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class IcingaTarget:
    """Submits check results to `/v1/actions/process-check-result` over keep-alive connections."""

    PATH = "/v1/actions/process-check-result"

    def __init__(self, url: str, user: str, password: str, ca_file: str | None = None, *,
                 check_source: str, ttl: float, concurrency: int = 4, timeout: float = 30.0,
                 retries: int = 5, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise TargetError(f"--api-url {url!r}: use https://HOST:5665", EXIT_CONFIG)
        self.url = url.rstrip("/")
        self.scheme, self.host = parsed.scheme, parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.base_path = parsed.path.rstrip("/")
        self.context = None
        if parsed.scheme == "https":
            try:
                self.context = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as e:
                raise TargetError(f"cannot load --ca-file {ca_file}: {e}", EXIT_CONFIG) from None
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json",
                        "Content-Type": "application/json", "Connection": "keep-alive"}
        self.check_source = check_source
        self.ttl = ttl
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.requests = 0  # HTTP requests made (all rounds), for tests and -v
        self.connections = 0  # connections opened
        self._count = threading.Lock()
        self._local = threading.local()
        self._open: list[http.client.HTTPConnection] = []
        self._fatal: TargetError | None = None

    # --- one request, on this thread's connection --------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.scheme == "https":
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                   context=self.context)
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._count:
                self.connections += 1
                self._open.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = self._connection()
        with self._count:
            self.requests += 1
        try:
            conn.request("POST", self.base_path + self.PATH, body=body, headers=self.headers)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException:
            self._drop()
            raise
        if resp.will_close:
            self._drop()
        return resp.status, data

    def body(self, item: Item) -> dict[str, Any]:
        """The request body: the object-name shortcut (`host` / `service` = host!service), no filter."""
        output, perf = split_output(item.outcome.text)
        body: dict[str, Any] = {"type": "Host", "host": item.host} if item.service is None else \
            {"type": "Service", "service": f"{item.host}!{item.service}"}
        body.update(exit_status=item.code, plugin_output=output, performance_data=perf,
                    check_source=self.check_source, execution_start=item.outcome.started,
                    execution_end=item.outcome.ended, ttl=int(self.ttl))
        return body

    def submit_one(self, item: Item) -> str | None:
        """Submit one result; None when Icinga took it, else a one-line error. Raises TargetError when
        the API refuses us (401/403: no use going on) and ConnectionError when unavailable past retries."""
        if self._fatal is not None:
            raise self._fatal
        data = json.dumps(self.body(item)).encode()
        attempt, stale_retry = 0, True
        while True:
            try:
                status, payload = self._post(data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if stale_retry:  # the server closed an idle keep-alive connection: reconnect once, now
                    stale_retry = False
                    continue
                problem = f"cannot reach {self.url}: {e or type(e).__name__}"
            except ssl.SSLError as e:
                self._fatal = TargetError(f"TLS error talking to {self.url}: {e} (check --ca-file)",
                                          EXIT_UNAVAILABLE)
                raise self._fatal from None
            except (OSError, http.client.HTTPException) as e:
                problem = f"cannot reach {self.url}: {e or type(e).__name__}"
            else:
                if status in (401, 403):
                    hint = " (check --api-user and the password)" if status == 401 else \
                        " (the ApiUser needs permission actions/process-check-result)"
                    self._fatal = TargetError(f"POST {self.PATH}: HTTP {status}{hint}", EXIT_CONFIG)
                    raise self._fatal
                if status not in RETRY_STATUSES:
                    return _result_error(status, payload)
                problem = f"POST {self.PATH}: HTTP {status}"
            if attempt >= self.retries:
                raise ConnectionError(f"{problem}; gave up after {attempt + 1} attempts")
            delay = min(30.0, self.backoff * 2 ** attempt)
            log.info("%s; retrying in %.1f s", problem, delay)
            self.sleep(delay)
            attempt += 1

    def deliver(self, items: list[Item]) -> Delivery:
        """Submit a batch with `concurrency` workers, each on its own keep-alive connection."""
        out = Delivery()
        before = self.requests
        self._fatal = None

        def work(item: Item) -> tuple[Item, str | None, bool]:
            try:
                return item, self.submit_one(item), False
            except ConnectionError as e:
                return item, str(e), True

        try:
            workers = min(self.concurrency, max(1, len(items)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
                results = list(pool.map(work, items))
        finally:
            out.requests = self.requests - before
            # A round's connections end with it (its worker threads are gone): a loop never reuses one the
            # server closed while idle.
            with self._count:
                opened, self._open = self._open, []
            for conn in opened:
                conn.close()
        unavailable = []
        for item, error, down in results:
            if error is None:
                out.sent.append(item.key)
            else:
                out.errors[item.key] = error
                unavailable.append(down)
        out.unavailable = bool(unavailable) and all(unavailable)
        return out


def _result_error(status: int, payload: bytes) -> str | None:
    """None when process-check-result took the result, else Icinga's reason (one line)."""
    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        data = {}
    results = data.get("results") if isinstance(data, dict) else None
    if status == 200 and isinstance(results, list) and results:
        bad = [r for r in results if isinstance(r, dict) and int(r.get("code", 200)) >= 400]
        if not bad:
            return None
        return f"HTTP {bad[0].get('code')}: {inert(str(bad[0].get('status', '')), 300)}"
    reason = data.get("status") or data.get("error") if isinstance(data, dict) else None
    if status == 404:
        return "no such object in Icinga (is the generated config deployed?)"
    return f"HTTP {status}: {inert(str(reason or 'no results'), 300)}"


class NagiosTarget:
    """Appends external commands to the Nagios command file (a FIFO, or a plain file for tests/spools)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.requests = 0  # writes (one per round), for symmetry with IcingaTarget

    def deliver(self, items: list[Item], now: float | None = None) -> Delivery:
        out = Delivery()
        if not items:
            return out
        when = time.time() if now is None else now
        lines = []
        for item in items:
            lines.append(nagios_line(item.host, item.service, item.code, item.outcome.text, when) + "\n")
        try:
            fd = self._open()
        except OSError as e:
            out.errors = {item.key: f"cannot open --command-file {self.path}: {e.strerror or e}"
                          for item in items}
            out.unavailable = True
            return out
        try:
            self.requests += 1
            out.requests = 1
            for item, line in zip(items, lines, strict=True):
                data = line.encode("utf-8", "replace")
                try:
                    while data:  # one line per write: ≤ PIPE_BUF lines reach the pipe whole
                        n = os.write(fd, data)
                        data = data[n:]
                    out.sent.append(item.key)
                except OSError as e:
                    out.errors[item.key] = f"writing --command-file {self.path}: {e.strerror or e}"
                    out.unavailable = True
        finally:
            os.close(fd)
        return out

    def _open(self) -> int:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise OSError(2, "no such file (is Nagios running with check_external_commands=1?)") from None
        if stat.S_ISFIFO(st.st_mode):
            # Non-blocking open fails at once (ENXIO) when Nagios is not reading; then write blocking.
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == 6:  # ENXIO
                    raise OSError(6, "nobody reads the command file (is Nagios running?)") from None
                raise
            os.set_blocking(fd, True)
            return fd
        return os.open(self.path, os.O_WRONLY | os.O_APPEND)


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
        return (f"vio-icinga push: {self.objects} objects, {self.sent} sent ({self.changed} changed), "
                f"{self.errors} errors, {self.seconds:.1f} s")


def nagios_state_services(topo: t.Topology) -> set[str]:
    """Hosts that Nagios configs give a `state` service (those a service depends on)."""
    return {p for n in topo.nodes.values() if not n.is_host for p in n.parents if topo.get(p).is_host}


def items_for(topo: t.Topology, evaluator: Evaluator, nagios: bool) -> list[Item]:
    """Every node's result as Items (Nagios: plus each parent host's `state` service)."""
    state_hosts = nagios_state_services(topo) if nagios else set()
    out = []
    for node in topo.sorted_nodes():
        outcome = evaluator.evaluate(node)
        digest = outcome.digest
        if node.is_host:
            out.append(Item(node.key, node.host, None, host_state(outcome.code), outcome, digest))
            if node.key in state_hosts:
                key = f"{node.host}!{NAGIOS_STATE_SERVICE}"
                out.append(Item(key, node.host, NAGIOS_STATE_SERVICE, outcome.code, outcome, digest))
        else:
            out.append(Item(node.key, node.host, node.service, outcome.code, outcome, digest))
    return out


def run_round(args: argparse.Namespace, target: Any, tracker: Tracker, full: bool = False) -> RoundStats:
    """Judge the tree once and deliver what is due. Raises VioError (inventory), TargetError."""
    from vio_checks.icinga import generate as g

    t0, c0 = time.monotonic(), time.process_time()
    stats = RoundStats()
    opts = g.topology_options(args)
    result = snapshot(args, timeout=args.timeout)
    if result.stale_reason:
        log.warning("note: %s", result.stale_reason)
    memory = Result(MemorySnapshot(result.snapshot), result.stale_reason, result.swept, result.error)
    topo = t.build(memory.snapshot.inventory(), opts)
    evaluator = Evaluator(memory, args)
    items = items_for(topo, evaluator, isinstance(target, NagiosTarget))
    stats.objects = len(items)
    now = time.time()
    due, changed = [], set()
    for item in items:
        send, differs = tracker.due(item.key, item.digest, now)
        if send or full:
            due.append(item)
            if differs:
                changed.add(item.key)
    delivery = target.deliver(due)
    sent_at = time.time()
    by_key = {i.key: i for i in due}
    for key in delivery.sent:
        tracker.mark(key, by_key[key].digest, sent_at)
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
    stats.seconds = time.monotonic() - t0
    stats.cpu = time.process_time() - c0
    return stats


# --- the command ----------------------------------------------------------------------------------------


def _password(args: argparse.Namespace) -> str:
    if args.api_password_file:
        try:
            return Path(args.api_password_file).read_text().rstrip("\r\n")
        except OSError as e:
            raise TargetError(f"cannot read --api-password-file: {e.strerror or e}", EXIT_CONFIG) from None
    password = os.environ.get("VIO_ICINGA_API_PASSWORD")
    if password is None:
        raise TargetError("no API password: use --api-password-file or VIO_ICINGA_API_PASSWORD", EXIT_CONFIG)
    return password


def make_target(args: argparse.Namespace):
    """The Icinga 2 API or Nagios command-file target the options name."""
    if args.command_file:
        return NagiosTarget(args.command_file)
    if not args.api_user:
        raise TargetError("--api-url needs --api-user", EXIT_CONFIG)
    return IcingaTarget(args.api_url, args.api_user, _password(args), args.ca_file,
                        check_source=args.check_source or socket.getfqdn(), ttl=ttl_of(args),
                        concurrency=args.concurrency, timeout=args.api_timeout, retries=args.retries,
                        backoff=args.retry_delay)


def ttl_of(args: argparse.Namespace) -> float:
    return args.ttl if args.ttl else 2 * args.interval


def run_push(args: argparse.Namespace) -> int:
    """`vio-icinga push`: one round (--once) or rounds every --interval; exit code of the last round."""
    from vio_checks.icinga.generate import GenerateError

    try:
        target = make_target(args)
        target_name = args.command_file or args.api_url
        path = state_path(args, target_name) if args.once else None
        tracker = Tracker(ttl_of(args), path)
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
            if args.once and stats.sent:
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
    from vio_checks.icinga.cli import add_topology_options

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
    a.add_argument("--api-user", metavar="USER",
                   help="an ApiUser with permission actions/process-check-result")
    a.add_argument("--api-password-file", metavar="FILE",
                   help="file holding the password (default: $VIO_ICINGA_API_PASSWORD)")
    a.add_argument("--ca-file", metavar="FILE", help="CA certificate of the Icinga API (e.g. its pki/ca.crt)")
    a.add_argument("--check-source", metavar="NAME",
                   help="check_source of the results (default: this host's name)")
    a.add_argument("--concurrency", type=int_range(1, 64), default=4, metavar="N",
                   help="requests in flight, each worker on its own keep-alive connection (default: 4)")
    a.add_argument("--retries", type=int, default=5, metavar="N",
                   help="retries of a request when the API is unreachable or busy (default: 5)")
    a.add_argument("--retry-delay", type=duration, default=1.0, metavar="DURATION",
                   help="delay before the first retry, doubled for each next, at most 30 s (default: 1 s)")
    a.add_argument("--api-timeout", type=duration, default=30.0, metavar="DURATION",
                   help="timeout of one API request (default: 30 s)")
    r = p.add_argument_group("rounds")
    r.add_argument("--once", action="store_true", help="run one round and exit (for a timer)")
    r.add_argument("--interval", type=duration, default=60.0, metavar="DURATION",
                   help="time between rounds (loop), or between the timer's runs (--once) (default: 1m)")
    r.add_argument("--ttl", type=duration, metavar="DURATION",
                   help="how long Icinga trusts a result; each object is resent at least every ttl/2 "
                        "(default: 2 x --interval)")
    r.add_argument("--full", action="store_true", help="send every object's result this round")
    add_topology_options(p)
    p.set_defaults(func=run_push)
