"""Bulk evaluation: every node of the tree judged in one process, exactly as its check executable would.

The snapshot is read once into memory (`MemorySnapshot`); each node's arguments are read as its executable
reads them (`checks.base.check_args`: the same parsing, shared options and validation) and judged through
`checks.base.judge_result` (the stale note) / `render_verdict`, so a bulk result and the executable's output
are the same text. `vio-icinga push` and `vio-icinga rootcause` both judge here (`Evaluator`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from vio_checks.cache import INDEXES
from vio_checks.freshness import Result
from vio_checks.icinga import objects as o
from vio_checks.model import KINDS
from vio_checks.text import inert

log = logging.getLogger(__name__)


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


class Evaluator:
    """Judges topology nodes with the check modules, as their executables would: `vio-icinga push` and
    `vio-icinga rootcause` both judge every node here.

    `shared`: the caller's own options; their `checks.base.SHARED_OPTIONS` (cloud, vCenter, cache,
    freshness) replace each check's defaults, as the generated config's shared custom vars would.
    """

    def __init__(self, result: Result, shared: argparse.Namespace | None = None) -> None:
        from vio_checks.checks.base import SHARED_OPTIONS

        self.result = result
        self.shared = {k: getattr(shared, k) for k in SHARED_OPTIONS if hasattr(shared, k)} if shared else {}

    def _parse(self, node: o.Node, started: float) -> tuple[Any, argparse.Namespace] | Outcome:
        """The node's check spec and its arguments read as its executable reads them (`check_args`: same
        parsing, shared options, validation), or the Outcome of a node that has no check of ours (the
        container hosts' dummy), whose check is missing, or whose arguments do not parse."""
        from vio_checks.checks import MissingCheck
        from vio_checks.checks.base import check_args
        from vio_checks.icinga import DUMMY, spec_for

        command = node.check.command
        if command == DUMMY:  # the container hosts: Icinga's dummy check, its text and state 0
            texts = [v for o, v in node.check.args if o == "--text" and v is not None]
            return Outcome(0, inert(texts[0] if texts else "OK") + "\n", started, time.time())
        try:
            spec = spec_for(command)
        except MissingCheck as e:  # said on the object itself, never judged with someone else's options
            return Outcome(3, f"VIO UNKNOWN - {inert(str(e))}\n", started, time.time())
        argv = [item for option, value in node.check.args
                for item in ((option,) if value is None else (option, value))]
        out = io.StringIO()
        try:  # a bad option: the parser prints the executable's one UNKNOWN line and exits 3
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                args = check_args(spec, argv, self.shared)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 3
            return Outcome(code, out.getvalue(), started, time.time())
        return spec, args

    def evaluate(self, node: o.Node, now: float | None = None) -> Outcome:
        """The node's exit code and plugin output (never raises: a failure is UNKNOWN, as it would be)."""
        from vio_checks.checks.base import judge_result

        started = time.time()
        parsed = self._parse(node, started)
        if isinstance(parsed, Outcome):
            return parsed
        spec, args = parsed
        when = time.time() if now is None else now
        return self._render(spec, node, started, lambda: judge_result(spec, args, self.result, when))

    def unavailable(self, node: o.Node, message: str) -> Outcome:
        """What the node's executable answers when no usable inventory can be had (`message` says why):
        its check's own verdict for that case (check_vio_discovery: CRITICAL with the sweep's status), else
        UNKNOWN with the message."""
        from vio_checks.judge.verdict import Finding, State, Verdict

        started = time.time()
        parsed = self._parse(node, started)
        if isinstance(parsed, Outcome):
            return parsed
        spec, args = parsed

        def judge():
            if spec.on_unavailable is None:
                return Verdict(findings=[Finding(State.UNKNOWN, message)])
            return spec.on_unavailable(args, message, time.time())

        return self._render(spec, node, started, judge)

    def _render(self, spec: Any, node: o.Node, started: float, judge) -> Outcome:
        """Run a judge as the executable would (our warnings after its output) and render its verdict."""
        from vio_checks.checks.base import render_verdict
        from vio_checks.text import one_line

        capture = _Capture()
        ours = logging.getLogger("vio_checks")
        ours.addHandler(capture)
        try:
            text, code = render_verdict(spec.title, judge())
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


