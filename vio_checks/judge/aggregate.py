"""Aggregate mode: many objects' verdicts → one verdict with counts, thresholds and worst offenders.

The one rule for every set (VMs, volumes, ports, routers, hypervisors, datastores, ESXi hosts, services):
no aggregate reads OK over a member it could not call OK.

- Members come with their id: a record seen twice is one object (a sweep anomaly: noted in the status line,
  the long output and the `duplicates` perfdata, counted once, its worst copy judged).
- Without -w/-c the aggregate takes the worst member state, UNKNOWN included. With them, the number of
  members in a problem state (WARNING or CRITICAL; or the caller's own count, e.g. connected ESXi hosts) is
  judged against the ranges, and a judged UNKNOWN member still makes the aggregate UNKNOWN at least.
- Members whose state could not be verified (their reporter is down, the API left a field out) make the
  aggregate WARNING "N unverified (<cause>: n)" by default. `accept_unverified` (--accept-unverified) is for
  where the dependency tree already reports each one's cause: they are then counted, listed and named in the
  status line but do not set the state.
- A set in which nothing could be judged (every member unverified or UNKNOWN) is UNKNOWN; only when each is
  an accepted unverified member (reported elsewhere, by the option's contract) does it stay OK, saying that
  none was verified. An empty set is OK "no X in the inventory": whether the inventory can be trusted (a
  list that shrank, a failed sweep) is the sweep's and the discovery check's rule, judged once there.
- Members in an `ignore_states` state are counted and listed but do not set the aggregate's state: the
  generated config passes that for problems an object of its own already reports, so one fault pages once.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

from vio_checks.judge.verdict import Perf, State, Verdict, check_range, parse_range, worst
from vio_checks.text import counted as count
from vio_checks.text import inert

MAX_OFFENDERS = 20
MAX_LISTED = 3
#: An unverified member whose judge named no cause.
NO_CAUSE = "state not verifiable"


# (collections.namedtuple, not typing.NamedTuple: a warm check imports no typing, see test_warm_path)
Member = namedtuple("Member", "id label verdict")
Member.__doc__ = """One object of a set: its id (str: identity, duplicates are counted once), its name as
people know it (a cloud string: made inert where shown) and its Verdict."""

Count = namedtuple("Count", "text perf value")
Count.__doc__ = """What -w/-c judge instead of the number of problem members: `value` objects that are `text`
(e.g. 4 "connected"), as perfdata `perf` with the ranges."""


def _worse(a: Verdict, b: Verdict) -> bool:
    """Whether copy `a` of a duplicated record is worse than copy `b` (a judged UNKNOWN beats unverified)."""
    return (a.state.rank, not a.unverified) > (b.state.rank, not b.unverified)


def dedupe(members: Iterable[Member]) -> tuple[list[Member], dict[str, int]]:
    """Members with unique ids, in first-seen order (each the worst of its copies), and id → extra copies."""
    kept: dict[str, Member] = {}
    extra: dict[str, int] = {}
    for m in members:
        old = kept.get(m.id)
        if old is None:
            kept[m.id] = m
            continue
        extra[m.id] = extra.get(m.id, 0) + 1
        if _worse(m.verdict, old.verdict):
            kept[m.id] = m
    return list(kept.values()), extra


def _causes(members: list[Member]) -> str:
    """`hypervisor domain-c10 down: 2; Nova reported no status: 1`, most frequent first."""
    tally: dict[str, int] = {}
    for m in members:
        cause = inert(m.verdict.cause, 200) or NO_CAUSE
        tally[cause] = tally.get(cause, 0) + 1
    ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    more = f"; +{len(ranked) - MAX_LISTED} more" if len(ranked) > MAX_LISTED else ""
    return "; ".join(f"{cause}: {n}" for cause, n in ranked[:MAX_LISTED]) + more


def aggregate(
    members: Iterable[Member],
    what: str,
    warning: str | None = None,
    critical: str | None = None,
    max_offenders: int = MAX_OFFENDERS,
    ignore_states: frozenset[State] = frozenset(),
    uncovered: frozenset[str] = frozenset(),
    accept_unverified: bool = False,
    counted: Count | None = None,
    context: str = "",
) -> Verdict:
    """Combine the members of one kind (`what` is plural, e.g. "VMs") into one verdict.

    `uncovered`: ids of members that have no object of their own in the generated config (e.g. a port whose
    VM is gone): neither `ignore_states` nor `accept_unverified` applies to them, or their problem would be
    reported nowhere. `counted`: what -w/-c judge when not the number of problem members. `context`: a
    prefix of the status line ("cluster Compute-A").
    """
    items, extra = dedupe(members)
    total = len(items)
    duplicates = sum(extra.values())
    what_ = inert(what)
    counts = {s: 0 for s in State}
    unverified: list[Member] = []
    problems: list[Member] = []
    for m in items:
        if m.verdict.unverified:
            unverified.append(m)
            continue
        counts[m.verdict.state] += 1
        if m.verdict.state != State.OK:
            problems.append(m)
    n_problems = counts[State.WARNING] + counts[State.CRITICAL]
    problems.sort(key=lambda m: (-m.verdict.state.rank, m.label))  # worst first, in the line and below

    def ignored(m: Member) -> bool:
        return m.verdict.state in ignore_states and m.id not in uncovered

    pending = [m for m in unverified if not accept_unverified or m.id in uncovered]
    judged = [m for m in problems if not ignored(m)]  # the problems that set the state
    n_judged = sum(1 for m in judged if m.verdict.state in (State.WARNING, State.CRITICAL))
    warn, crit = parse_range(warning), parse_range(critical)

    out = Verdict()
    notes = "".join(f", {s.name} ignored (--ignore-states)" for s in sorted(ignore_states))
    if accept_unverified:
        notes += ", unverified accepted (--accept-unverified)"
    if warn is not None or crit is not None:
        value = counted.value if counted else n_judged
        subject = f"{counted.text} {what_}" if counted else f"{what_} in a problem state"
        state = check_range(value, warn, crit)
        ranges = ", ".join(f"{flag} {r}" for flag, r in (("-w", warning), ("-c", critical)) if r)
        out.rule = f"the number of {subject} ({value}) against {ranges}{notes}"
    else:
        state = worst(m.verdict.state for m in judged)
        out.rule = f"the worst state of the {what_} (no -w/-c){notes}"
    if counts[State.UNKNOWN]:
        state = worst((state, State.UNKNOWN))  # -w/-c count problems; an UNKNOWN member still shows
    if pending:
        state = worst((state, State.WARNING))
    nothing_judged = total > 0 and counts[State.UNKNOWN] + len(unverified) == total
    if nothing_judged and (pending or counts[State.UNKNOWN]):
        state = State.UNKNOWN
        out.rule = f"nothing in the set of {what_} could be judged"

    tally = ", ".join(f"{counts[s]} {s.name}" for s in (State.CRITICAL, State.WARNING, State.UNKNOWN)
                      if counts[s])
    if total == 0:
        text = f"no {what_} in the inventory"
    elif counted:  # what the ranges judge leads: "4 of 5 ESXi hosts connected, 1 CRITICAL"
        text = f"{counted.value} of {count(total, what_)} {counted.text}"
        text += f", {tally}" if tally else ", none verified" if nothing_judged else ""
    elif problems:
        text = f"{tally} of {count(total, what_)}"
    elif nothing_judged:
        text = f"none of {count(total, what_)} verified"
    elif unverified:
        text = f"{counts[State.OK]} of {count(total, what_)} OK"
    else:
        text = f"all {total} {what_} OK" if total > 1 else f"{count(total, what_)} OK"
    if unverified:
        accepted = len(unverified) - len(pending)
        text += f", {len(unverified)} unverified" + (
            ", accepted" if accepted and not pending else f", {accepted} accepted" if accepted else "")
        text += f" ({_causes(unverified)})"
    if duplicates:
        text += f", {count(duplicates, 'duplicate records')} counted once"
    if problems:
        if not judged:
            text += " (each reported by its own object)"
        else:
            more = f" (+{len(judged) - MAX_LISTED} more)" if len(judged) > MAX_LISTED else ""
            text += ": " + "; ".join(m.verdict.summary for m in judged[:MAX_LISTED]) + more
    out.add(state, (f"{inert(context)}: " if context else "") + text)

    for m in problems[:max_offenders]:
        out.details.append(f"{m.verdict.state.name}: {m.verdict.summary}")
    if len(problems) > max_offenders:
        out.details.append(f"... and {len(problems) - max_offenders} more")
    if unverified:
        names = sorted(inert(m.label) for m in unverified)
        out.details.append(f"unverified ({len(unverified)}): " + ", ".join(names[:max_offenders])
                           + (" ..." if len(unverified) > max_offenders else ""))
        for m in sorted(unverified, key=lambda m: m.label)[:max_offenders]:
            out.details.append(f"UNVERIFIED: {m.verdict.summary}")
    if duplicates:
        dup = sorted(f"{inert(m.label)} ({inert(m.id)}) x{extra[m.id] + 1}" for m in items if m.id in extra)
        out.details.append("duplicate records in the sweep (a sweep anomaly, each counted once): "
                           + ", ".join(dup[:max_offenders]) + (" ..." if len(dup) > max_offenders else ""))

    ranged = counted is None
    out.perf = [
        Perf("total", total, min=0),
        Perf("problems", n_problems, warn=warning if ranged else None, crit=critical if ranged else None,
             min=0, max=total),
        Perf("ok", counts[State.OK], min=0, max=total),
        Perf("warning", counts[State.WARNING], min=0, max=total),
        Perf("critical", counts[State.CRITICAL], min=0, max=total),
        Perf("unknown", counts[State.UNKNOWN], min=0, max=total),
        Perf("unverified", len(unverified), min=0, max=total),
        Perf("duplicates", duplicates, min=0),
    ]
    if counted:
        out.perf.insert(0, Perf(counted.perf, counted.value, warn=warning, crit=critical, min=0, max=total))
    return out
