"""Aggregate mode: many objects' verdicts → one verdict with counts, thresholds and worst offenders.

Without -w/-c the aggregate takes the worst individual state. With them, the number of objects in a
problem state (WARNING or CRITICAL) is judged against the ranges instead. Objects whose state could not
be verified are counted (perfdata `unverified`), never turned into the aggregate's UNKNOWN. Objects in an
`ignore_states` state are counted and listed but do not set the aggregate's state: the generated config
passes that for problems an object of its own already reports, so one fault pages once.
"""

from __future__ import annotations

from collections.abc import Iterable

from vio_checks.judge.verdict import Perf, State, Verdict, check_range, parse_range, worst
from vio_checks.text import inert

MAX_OFFENDERS = 20


def aggregate(
    items: Iterable[tuple[str, Verdict]],
    what: str,
    warning: str | None = None,
    critical: str | None = None,
    max_offenders: int = MAX_OFFENDERS,
    ignore_states: frozenset[State] = frozenset(),
    uncovered: frozenset[str] = frozenset(),
) -> Verdict:
    """Combine (label, verdict) pairs for objects of one kind (`what` is plural, e.g. "VMs").

    `uncovered`: labels of objects that have no object of their own in the generated config (e.g. a port
    whose VM is gone): `ignore_states` never applies to them, or their problem would be reported nowhere."""
    items = list(items)
    total = len(items)
    counts = {s: 0 for s in State}
    unverified = 0
    problems: list[tuple[str, Verdict]] = []
    for label, v in items:
        if v.unverified:
            unverified += 1
            continue
        counts[v.state] += 1
        if v.state != State.OK:
            problems.append((label, v))
    n_problems = counts[State.WARNING] + counts[State.CRITICAL]

    def ignored(label: str, v: Verdict) -> bool:
        return v.state in ignore_states and label not in uncovered

    n_judged = sum(1 for label, v in problems if v.state in (State.WARNING, State.CRITICAL)
                   and not ignored(label, v))
    warn, crit = parse_range(warning), parse_range(critical)

    out = Verdict()
    ignored_note = "".join(f", {s.name} ignored (--ignore-states)" for s in sorted(ignore_states))
    if warn is not None or crit is not None:
        state = check_range(n_judged, warn, crit)
        ranges = ", ".join(f"{flag} {r}" for flag, r in (("-w", warning), ("-c", critical)) if r)
        out.rule = (f"the number of {inert(what)} in a problem state ({n_judged}) against {ranges}"
                    f"{ignored_note}")
    else:
        state = worst(v.state for label, v in problems if v.state != State.UNKNOWN and not ignored(label, v))
        out.rule = f"the worst state of the {inert(what)} (no -w/-c){ignored_note}"
    problems.sort(key=lambda lv: (-lv[1].state.rank, lv[0]))

    if total == 0:
        out.add(State.OK, f"no {inert(what)} in the inventory")
    elif state == State.OK and not n_problems and unverified == total:
        out.add(State.OK, f"{total} {inert(what)}, all unverified")
    elif state == State.OK and not n_problems:
        text = f"all {total - unverified} {inert(what)} OK"
        out.add(State.OK, text + (f", {unverified} unverified" if unverified else ""))
    else:
        head = ", ".join(
            f"{counts[s]} {s.name}" for s in (State.CRITICAL, State.WARNING, State.UNKNOWN) if counts[s]
        )
        worst_texts = [v.summary for _, v in problems[:3]]
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        text = f"{head} of {total} {inert(what)}"
        if unverified:
            text += f", {unverified} unverified"
        judged = [(label, v) for label, v in problems if not ignored(label, v)]
        if state == State.OK and ignore_states and not judged:
            text += " (each reported by its own object)"
        elif worst_texts:
            texts = [v.summary for _, v in judged[:3]] if ignore_states else worst_texts
            more = f" (+{len(judged) - 3} more)" if len(judged) > 3 else ""
            text += ": " + "; ".join(texts) + more
        out.add(state, text)

    for _label, v in problems[:max_offenders]:
        out.details.append(f"{v.state.name}: {v.summary}")
    if len(problems) > max_offenders:
        out.details.append(f"... and {len(problems) - max_offenders} more")
    if unverified:
        names = sorted(inert(label) for label, v in items if v.unverified)  # labels are cloud names
        out.details.append(f"unverified ({unverified}): " + ", ".join(names[:max_offenders])
                           + (" ..." if unverified > max_offenders else ""))

    out.perf = [
        Perf("total", total, min=0),
        Perf("problems", n_problems, warn=warning, crit=critical, min=0, max=total),
        Perf("ok", counts[State.OK], min=0, max=total),
        Perf("warning", counts[State.WARNING], min=0, max=total),
        Perf("critical", counts[State.CRITICAL], min=0, max=total),
        Perf("unknown", counts[State.UNKNOWN], min=0, max=total),
        Perf("unverified", unverified, min=0, max=total),
    ]
    return out
