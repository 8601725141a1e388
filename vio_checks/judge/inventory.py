"""Inventory changes in a time window: counts of added, deleted and migrated VMs and failed migrations.

Input is the event log's events (newest first); the judgement is a pure function of them, the options
and `now`. An evacuation (a hypervisor going down, then its VMs appearing elsewhere) is told as one story.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from vio_checks.changes import Event, describe
from vio_checks.judge.verdict import Perf, State, Verdict, check_range, parse_range, worst
from vio_checks.text import age, clock, counted, inert

#: count name → event kind
COUNTED = {"added": "vm_added", "deleted": "vm_deleted", "migrated": "vm_moved", "failed": "migration_failed"}
WORDS = {"added": "VMs added", "deleted": "VMs deleted", "migrated": "VMs migrated",
         "failed": "failed migrations"}


@dataclass
class InventoryOptions:
    window: float = 3600.0
    max_events: int = 20
    #: count name → (warning range, critical range); None means no threshold
    thresholds: dict[str, tuple[str | None, str | None]] = field(
        default_factory=lambda: {"failed": ("0", None)}
    )


def evacuations(events: list[Event], now: float) -> list[str]:
    """`domain-c8 down at 10:42; 37 VMs evacuated to domain-c9` for each hypervisor whose VMs left it."""
    stories = []
    downs = {e.name: e for e in events if e.kind == "hypervisor_down"}
    moved_from: dict[str, list[Event]] = {}
    for e in events:
        if e.kind == "vm_moved" and e.from_ and (e.from_ in downs or e.cause == "evacuation"):
            moved_from.setdefault(e.from_, []).append(e)
    for source in sorted(set(downs) | set(moved_from)):
        moves = moved_from.get(source, [])
        if not moves:
            continue
        targets = Counter(m.to or "?" for m in moves)
        where = ", ".join(f"{inert(t)} ({n})" if len(targets) > 1 else inert(t)
                          for t, n in sorted(targets.items()))
        if source in downs:
            head = f"{inert(source)} down at {clock(downs[source].time, now)}; "
        else:
            head = f"from {inert(source)}: "
        stories.append(f"{head}{counted(len(moves), 'VMs')} evacuated to {where}")
    return stories


def judge_inventory(events: list[Event], opts: InventoryOptions, now: float) -> Verdict:
    """Counts per kind of change in the window, with their thresholds; the events in the long output."""
    start = now - opts.window
    recent = [e for e in events if e.time >= start]
    counts = Counter(e.kind for e in recent)
    v = Verdict()
    states = {}
    for name, kind in COUNTED.items():
        warn, crit = opts.thresholds.get(name, (None, None))
        n = counts[kind]
        states[name] = check_range(n, parse_range(warn), parse_range(crit))
        v.perf.append(Perf(name, n, "", warn, crit, 0))
    text = ", ".join(counted(counts[kind], WORDS[name]) for name, kind in COUNTED.items())
    stories = evacuations(recent, now)
    state = worst(states.values())
    summary = f"in the last {age(opts.window)}: {text}"
    if state != State.OK:
        flagged = [counted(counts[COUNTED[n]], WORDS[n]) for n, s in states.items() if s == state]
        summary = f"{', '.join(flagged)} in the last {age(opts.window)} ({text})"
    if stories:
        summary += "; " + "; ".join(stories)
    v.add(state, summary)
    for e in recent[: opts.max_events]:
        v.details.append(describe(e, clock(e.time, now)))
    if len(recent) > opts.max_events:
        older = counted(len(recent) - opts.max_events, "older events")
        v.details.append(f"... and {older} (vio-discover --events)")
    if not recent:
        v.details.append("no changes in the window")
    return v
