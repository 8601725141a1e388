"""The nagiosplugin wiring every check shares.

A check module provides a `CheckSpec`: its name, help text, its own options (a list of `Option`, before the
ones every check shares: `options.CHECK_OPTIONS`), and `evaluate(args, snapshot, now) -> Verdict` (a pure
judgement of inventory records). This module parses options, obtains the snapshot (refreshing it through
the cache lock when stale), and hands the verdict to nagiosplugin as a Resource whose metrics are the
findings and perfdata, evaluated by two Contexts and told by a Summary.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence

import nagiosplugin

from vio_checks import redact
from vio_checks.errors import InventoryUnavailable, VioError
from vio_checks.judge.timefmt import STUCK_AFTER
from vio_checks.judge.verdict import Finding, Perf, State, Verdict, parse_range
from vio_checks.model import Record
from vio_checks.open_inventory import snapshot
from vio_checks.options import (
    CHECK_OPTIONS,
    FLAG,
    FastParser,
    Option,
    add_options,
    duration,
    selector,
    type_error,
)
from vio_checks.runtime import guard_timeout
from vio_checks.text import inert, one_line, perf_label

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; argparse is imported when needed
if TYPE_CHECKING:
    import argparse

    from vio_checks.freshness import Result

_NP_STATE = {
    State.OK: nagiosplugin.Ok,
    State.WARNING: nagiosplugin.Warn,
    State.CRITICAL: nagiosplugin.Critical,
    State.UNKNOWN: nagiosplugin.Unknown,
}
#: Seconds of the -t budget kept back so a slow sweep ends in a clean answer before the alarm.
TIMEOUT_MARGIN = 2.0


def _no_validation(args: argparse.Namespace) -> None:
    return None


class CheckSpec(Record):
    """What makes one check: name, help, options, and the judgement.

    `name` e.g. "hypervisor" → check_vio_hypervisor, status line "VIO HYPERVISOR ..."; `options`: the
    check's own, before CHECK_OPTIONS; `validate` raises ValueError on bad combinations; `on_unavailable`
    is called instead of answering UNKNOWN when no usable inventory exists (check_vio_discovery judges that);
    `members`: the inventory kind its aggregate mode judges through judge.aggregate (None: no aggregate);
    `doc`: optional Markdown prose for docs/checks.md (what it reads and judges, beyond --help; `make docs`).
    """

    def __init__(self, name: str, description: str,
                 evaluate: Callable[[argparse.Namespace, object, float], Verdict],
                 options: Sequence[Option] = (), epilog: str = "",
                 validate: Callable[[argparse.Namespace], None] = _no_validation,
                 on_unavailable: Callable[[argparse.Namespace, str, float], Verdict] | None = None,
                 members: str | None = None, doc: str = "") -> None:
        self.name = name
        self.description = description
        self.evaluate = evaluate
        self.options = options
        self.epilog = epilog
        self.validate = validate
        self.on_unavailable = on_unavailable
        self.members = members
        self.doc = doc

    @property
    def title(self) -> str:
        return f"VIO {self.name.upper()}"


def range_arg(text: str) -> str:
    """argparse type for a Nagios range: validated here, kept as text. A range must name a bound (`@`, `:`
    and `~:` name none: always or never alerting, a typo rather than a threshold); "" means none."""
    try:
        parse_range(text)
        if str(text).strip() and not any(c.isdigit() for c in str(text)):
            raise ValueError
    except ValueError:
        raise type_error(
            f"invalid range {text!r} (Nagios range syntax: 10, 10:, ~:10, 10:20, @10:20)"
        ) from None
    return text


def check_options(spec: CheckSpec) -> tuple[Option, ...]:
    """Every option of a check, in --help order: its own, then the ones all checks share."""
    return (*spec.options, *CHECK_OPTIONS)


#: The options every check shares whose values a monitoring config sets once for all objects (cloud, vCenter,
#: cache, freshness, events: `Option.common`), by dest: what a caller judging many nodes in one process
#: (push, rootcause) hands every node from its own options. -t is each command's own budget, not shared.
SHARED_OPTIONS: tuple[str, ...] = tuple(o.dest for o in CHECK_OPTIONS
                                        if o.common and o.exposed and o.dest != "timeout")


#: The fast parser of each spec (by id, the spec kept to make the id safe), built on first use.
_FAST: dict[int, tuple[CheckSpec, FastParser]] = {}


def check_args(spec: CheckSpec, argv: list[str], shared: dict | None = None) -> argparse.Namespace:
    """A check's options from its command line, read exactly as its executable reads them: the fast path,
    else argparse; `shared` (SHARED_OPTIONS dest → value) replaces those values (a bulk caller's own cloud
    and cache, as the config's shared custom vars would set them); then the spec's validation.

    A bad option or combination prints the executable's UNKNOWN line and usage and raises SystemExit(3).
    """
    fast = _FAST.get(id(spec))
    if fast is None or fast[0] is not spec:
        fast = _FAST[id(spec)] = (spec, FastParser(check_options(spec)))
    args = fast[1].parse(argv)
    if args is None:  # argparse reads (or rejects) what the fast path does not
        args = build_parser(spec).parse_args(argv)
    for name, value in (shared or {}).items():
        setattr(args, name, value)
    try:
        spec.validate(args)
    except ValueError as e:
        build_parser(spec).error(str(e))
    return args


def build_parser(spec: CheckSpec) -> argparse.ArgumentParser:
    """The check's argparse parser, built from `check_options(spec)`; a bad option is UNKNOWN (exit 3)."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        title = "VIO"

        def error(self, message: str) -> None:  # type: ignore[override]
            # One status line, no usage: its `[--id ID | --name NAME]` would start perfdata.
            sys.stdout.write(f"{self.title} UNKNOWN - bad option: {inert(message, MAX_STATUS)}\n")
            sys.exit(3)

    p = _Parser(
        prog=f"check_vio_{spec.name}",
        description=spec.description,
        epilog=spec.epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.title = spec.title
    add_options(p, check_options(spec))
    return p


#: The --help text of the one aggregate rule (judge.aggregate), appended to every aggregate check's epilog.
AGGREGATE_RULE = """
aggregate rule (the same for every set of objects):
  CRITICAL/WARNING  the worst member's state; with -w/-c: the number of members in a problem state (WARNING
            or CRITICAL) against the ranges
  UNKNOWN   a member judged UNKNOWN (not unverified) makes the set UNKNOWN at least, with -w/-c too (they
            count problems, so a WARNING or CRITICAL from them still wins); a set in which nothing could
            be judged (every member unverified or UNKNOWN) is UNKNOWN "none of N ... verified"
  WARNING   members whose state could not be verified (their reporter is down, the API left a field out):
            "2 unverified (hypervisor domain-c10 down: 2)", with their last reported state in the long
            output; --accept-unverified counts and names them without setting the state (for where the
            dependency tree reports their cause: the generated config passes it)
  OK        every member OK; an empty set is OK "no ... in the inventory" (whether a list that shrank
            can be trusted is the sweep's rule, and a failed sweep is check_vio_discovery's problem)
  a record the sweep listed twice is one object: counted once (its worst copy judged) and noted, "1
  duplicate record counted once"; perfdata: total, problems, ok, warning, critical, unknown, unverified,
  duplicates (min 0, max total)
"""

SELECTION_GROUP = "object selection (neither: aggregate over all)"
THRESHOLD_GROUP = "aggregate thresholds (Nagios ranges on the number of problem objects)"


def selector_options(what: str, id_help: str | None = None) -> tuple[Option, ...]:
    """--id / --name, mutually exclusive; neither means aggregate mode."""
    return (
        Option(("--id",), type=selector, metavar="ID", help=id_help or f"the {what}'s id",
               group=SELECTION_GROUP, exclusive="object"),
        Option(("--name",), type=selector, metavar="NAME", help=f"the {what}'s name (must be unique)",
               group=SELECTION_GROUP, exclusive="object"),
    )


def accept_unverified_option(what: str) -> Option:
    """--accept-unverified: every aggregate's one switch for its unverified members (judge.aggregate)."""
    return Option(("--accept-unverified",), kind=FLAG, group=THRESHOLD_GROUP,
                  help=f"{what} whose state could not be verified (their reporter is down, the API left a "
                       "field out) are counted, named and listed but do not set the state (default: "
                       "WARNING \"N unverified (cause: n)\"); for where each one's cause is reported "
                       "elsewhere, e.g. by the dependency tree of the generated config, which passes it. A "
                       "set with nothing verified is never OK without it")


def stuck_after_option(group: str, help: str) -> Option:
    """--stuck-after, declared once (type, default, metavar): `help` says what it bounds for this check."""
    return Option(("--stuck-after",), type=duration, default=STUCK_AFTER, metavar="DURATION", group=group,
                  help=help)


def count_threshold_options(what: str) -> tuple[Option, ...]:
    """-w/-c on the number of objects in a problem state (aggregate mode), --ignore-states and
    --accept-unverified."""
    return (
        Option(("-w", "--warning"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
               help=f"warning when the number of {what} in a problem state is outside RANGE "
                    "(default: none: each object's own state counts)"),
        Option(("-c", "--critical"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
               help=f"critical when the number of {what} in a problem state is outside RANGE"),
        Option(("--ignore-states",), type=state_list, default=frozenset(), metavar="LIST",
               group=THRESHOLD_GROUP,
               help=f"{what} in these states (warning, critical) are counted and listed but do not set "
                    "the state, e.g. when each is monitored as an object of its own (the generated "
                    "config does that, so one fault pages once)"),
        accept_unverified_option(what),
    )


def state_list(text: str) -> frozenset[State]:
    """argparse type: a comma list of warning/critical."""
    names = {part.strip().upper() for part in str(text).split(",") if part.strip()}
    bad = sorted(names - {"WARNING", "CRITICAL"})
    if bad:
        raise type_error(f"not a state to ignore: {', '.join(bad)} (use warning, critical)")
    return frozenset(State[n] for n in names)


# --- nagiosplugin model ------------------------------------------------------------------------


class _FindingContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("finding")

    def evaluate(self, metric, resource):
        finding: Finding = metric.value
        return self.result_cls(_NP_STATE[finding.state], finding.text, metric)

    def performance(self, metric, resource):
        return None


class _PerfContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("perf")

    def evaluate(self, metric, resource):
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric, resource):
        p: Perf = metric.value
        return nagiosplugin.Performance(
            redact.text(perf_label(p.label)), _number(p.value), p.uom, p.warn or "", p.crit or "",
            "" if p.min is None else _number(p.min), "" if p.max is None else _number(p.max),
        )


def _number(v: float) -> float | int:
    """Plain numbers for perfdata: integers stay integers, no scientific notation."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return round(v, 4) if isinstance(v, float) else v


def judge_from_inventory(spec: CheckSpec, args: argparse.Namespace, seen: dict | None = None) -> Verdict:
    """Obtain the snapshot per the options and judge it; every failure becomes one UNKNOWN finding.

    `seen` (given with -v) receives the Result ("result") and the verdict ("verdict") for the diagnostics.
    """
    seen = {} if seen is None else seen
    try:
        seen["result"] = result = snapshot(args, timeout=max(1.0, args.timeout - TIMEOUT_MARGIN))
    except InventoryUnavailable as e:
        if spec.on_unavailable is None:
            verdict = Verdict(findings=[Finding(State.UNKNOWN, str(e))])
        else:
            verdict = spec.on_unavailable(args, str(e), time.time())
        verdict.rule = verdict.rule or "no usable inventory"
    except VioError as e:
        verdict = Verdict(findings=[Finding(State.UNKNOWN, str(e))])
        verdict.rule = "the inventory could not be read"
    except Exception as e:  # a bug must still end in one clean UNKNOWN line
        verdict = _internal_error(e)
    else:
        verdict = judge_result(spec, args, result, time.time())
    seen["verdict"] = verdict
    return verdict


def judge_result(spec: CheckSpec, args: argparse.Namespace, result: Result, now: float) -> Verdict:
    """Judge one object (or aggregate) of an obtained snapshot, noting its staleness: the part a check
    executable and a bulk evaluation of many objects share."""
    try:
        verdict = spec.evaluate(args, result.snapshot, now)
    except VioError as e:
        return Verdict(findings=[Finding(State.UNKNOWN, str(e))])
    except Exception as e:  # a bug must still end in one clean UNKNOWN line
        return _internal_error(e)
    moved = getattr(result, "quarantined", None)
    for note in (result.stale_reason, moved):
        if note:
            verdict.details.insert(0, f"NOTE: {note}")
            # a damaged cache moved aside is said in the line whatever the state: where it went
            worst = [f for f in verdict.findings if f.state == verdict.state]
            if worst and (verdict.state == State.OK or note is moved):
                worst[0].text += f" ({note})"
    return verdict


def _internal_error(e: Exception) -> Verdict:
    logging.getLogger("vio_checks").debug("internal error", exc_info=True)
    return Verdict(findings=[Finding(State.UNKNOWN, f"internal error: {type(e).__name__}: {e}")])


class _VerdictResource(nagiosplugin.Resource):
    """A resource whose metrics are a verdict's findings (the worst state's) and its perfdata."""

    def __init__(self, title: str, judge: Callable[[], Verdict]) -> None:
        self.title = title
        self.judge = judge
        self.verdict = Verdict()

    @property
    def name(self) -> str:
        return self.title

    def probe(self):
        self.verdict = v = self.judge()
        if not v.findings:
            v.add(State.UNKNOWN, "no verdict")
        state = v.state
        for i, f in enumerate(v.findings):
            if f.state == state:
                yield nagiosplugin.Metric(f"finding{i}", f, context="finding")
        for p in v.perf:
            yield nagiosplugin.Metric(p.label, p, context="perf")


def make_check(title: str, judge: Callable[[], Verdict]) -> nagiosplugin.Check:
    """The nagiosplugin Check (Resource, Contexts, Summary) that tells the verdict `judge()` returns."""
    resource = _VerdictResource(title, judge)
    check = nagiosplugin.Check(resource, _FindingContext(), _PerfContext(), _Summary(resource))
    check.name = title
    return check


def render_verdict(title: str, verdict: Verdict) -> tuple[str, int]:
    """(plugin output, exit code) for a verdict, exactly as a check executable prints it."""
    check = make_check(title, lambda: verdict)
    check()
    return plugin_output(check), check.exitcode


class _Summary(nagiosplugin.Summary):
    def __init__(self, resource: _VerdictResource) -> None:
        self.resource = resource

    def ok(self, results):
        return self.resource.verdict.summary

    def problem(self, results):
        return self.resource.verdict.summary

    def verbose(self, results):
        return self.resource.verdict.details


#: The longest status text (after the state) a check prints; each cloud string in it is capped on its own.
MAX_STATUS = 1000


def plugin_output(check: nagiosplugin.Check, log_lines: list[str] = ()) -> str:
    """A finished check's output: the status line with perfdata, then the long output, then log lines.

    Built from the Check's public results (state, summary_str, perfdata, verbose_str). Every line passes
    `one_line`, so nothing a judge let through can start a second status line or forge perfdata.
    """
    summary = inert(redact.text(check.summary_str), MAX_STATUS)  # masked first: no cut splits a credential
    status = f"{check.name} {str(check.state).upper()}" + (f" - {summary}" if summary else "")
    # Labels are masked where they are made (_PerfContext); masking the whole item here would turn a label
    # such as "authorization" plus its "=1;10;20" into a header with a masked value: no perfdata at all.
    perfdata = " ".join(one_line(p) for p in check.perfdata)
    lines = [status + (f" | {perfdata}" if perfdata else "")]
    details = check.verbose_str
    for text in [*(details if isinstance(details, (list, tuple)) else str(details).splitlines()), *log_lines]:
        line = one_line(redact.text(text))  # no credential, whatever a message or a log line held
        if line:
            lines.append(line)
    return "\n".join(lines) + "\n"


class _Capture(logging.Handler):
    """Our log records as long-output lines (`WARNING: ...`; -vvv's request lines as they are)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.requests = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format must not cost the check its answer
            message = str(record.msg)
        if record.name == HTTP_LOG:
            self.requests += 1
            self.lines.append(message)
        else:
            self.lines.append(f"{record.levelname}: {message}")


#: The logger of the sweep's requests (sweep.py): on with -vvv only.
HTTP_LOG = "vio_checks.http"


def _capture_logs(verbose: int) -> _Capture:
    """Send our log records to the long output: warnings always, -v info, -vv debug, -vvv the requests."""
    handler = _Capture()
    ours = logging.getLogger("vio_checks")
    ours.addHandler(handler)
    ours.setLevel((logging.WARNING, logging.INFO, logging.DEBUG, logging.DEBUG)[verbose])
    ours.propagate = False
    if verbose:
        logging.getLogger(HTTP_LOG).setLevel(logging.DEBUG if verbose >= 3 else logging.WARNING)
    for noisy in ("keystoneauth", "openstack", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    return handler


class _Alarm(BaseException):
    """The -t budget ran out while the check was still working.

    A BaseException, so no `except Exception` on the way (a cache write, a judge) mistakes it for its own
    error: it always ends in the one "timed out" line.
    """


def run(spec: CheckSpec, argv: list[str] | None = None) -> None:
    """Parse options, judge, print, exit 0..3. Never returns."""
    args = check_args(spec, sys.argv[1:] if argv is None else argv)
    verbose = min(args.verbose or 0, 3)
    logged = _capture_logs(verbose)
    os.umask(0o077)
    seen: dict = {}
    check = make_check(spec.title, lambda: judge_from_inventory(spec, args, seen))
    # The sweep keeps within the budget by itself; the alarm is the last guard for anything that does not.
    budget = max(1, math.ceil(args.timeout))
    try:
        with guard_timeout(budget, _Alarm):
            check()
            extra = logged.lines
            if verbose:  # only now: a plain run loads nothing for diagnostics
                from vio_checks.checks.diagnostics import explain

                extra = [*explain(spec, args, seen, verbose, logged.requests), *extra]
            text, code = plugin_output(check, extra), check.exitcode
    except _Alarm:
        text, code = f"{spec.title} UNKNOWN - timed out after {budget} s (-t)\n", 3
    sys.stdout.write(text)
    sys.stdout.flush()
    sys.exit(code if code in (0, 1, 2, 3) else 3)


def main_for(spec: CheckSpec) -> Callable[[], None]:
    """The console-script entry point for a spec, guarded so even a timeout ends in UNKNOWN."""
    @nagiosplugin.guarded(verbose=0)
    def main() -> None:
        run(spec)

    return main
