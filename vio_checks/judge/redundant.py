"""A redundant set: members that stand in for each other, judged by how many are up against how many are
expected. The one judge of every such set: an HA router's L3 agents (check_vio_router --l3-agents) now,
controller clusters (issue 23) next; nothing here knows what a member is.

A monitoring core's dependency on a set is one edge to one object (the set's service), so every child has
one parent and the config means the same on every Icinga version: the set's own state says how much of it
is left.

    all expected members up                    OK        "all 3 L3 agents up"
    fewer up, but more than one                WARNING   "reduced redundancy: 2 of 3 L3 agents up"
    exactly one up where more are expected     WARNING   "at risk: 1 of 3 L3 agents up"
    none up, every member known down           CRITICAL  "all 3 L3 agents down"
    none up, some member unverified            UNKNOWN   (not known down: its reporter said nothing)
    an empty set (nothing expected or given)   UNKNOWN

A member is "up", "down" or "unverified" (its state was not reported, or not documented). An expected member
that is not among the members (the API did not report it) counts as unverified, never up. A member given
twice (one id) is counted once, at its worse state (down before unverified before up). More members than
`expected` widen the set: a member that is down is never hidden by a smaller expectation.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.text import counted, inert

UP, DOWN, UNVERIFIED = "up", "down", "unverified"
MEMBER_STATES = (UP, DOWN, UNVERIFIED)
#: Worse states win when a member is given twice.
_RANK = {UP: 0, UNVERIFIED: 1, DOWN: 2}
#: The most members named in the status line per state (all are in the long output).
MAX_NAMED = 3

# (collections.namedtuple, not typing.NamedTuple: a warm check imports no typing, see test_warm_path)
SetMember = namedtuple("SetMember", "id label state cause", defaults=(None,))
SetMember.__doc__ = """One member of a redundant set: its id (identity: given twice, counted once), its name
as people know it (a cloud string, made inert where shown), its state ("up", "down" or "unverified") and why
(None for up: "dead (last heartbeat 10:42)", "Neutron reported no alive")."""


def _dedupe(members: Iterable[SetMember]) -> tuple[list[SetMember], int]:
    """Members by id in first-seen order, each at its worst copy's state, and the number of extra copies."""
    kept: dict[str, SetMember] = {}
    extra = 0
    for m in members:
        if m.state not in _RANK:
            raise ValueError(f"member state {m.state!r} is not one of {', '.join(MEMBER_STATES)}")
        old = kept.get(m.id)
        if old is None:
            kept[m.id] = m
            continue
        extra += 1
        if _RANK[m.state] > _RANK[old.state]:
            kept[m.id] = m._replace(label=old.label) if not m.label else m
    return list(kept.values()), extra


def _named(members: list[SetMember]) -> str:
    shown = sorted(inert(m.label) or inert(m.id) for m in members)[:MAX_NAMED]
    more = f" (+{len(members) - MAX_NAMED} more)" if len(members) > MAX_NAMED else ""
    return ", ".join(shown) + more


def judge_set(members: Iterable[SetMember], expected: int | None, what: str, context: str = "",
              all_down: str | None = None) -> Verdict:
    """The state of a redundant set (see the module docstring for the rule).

    `members`: the members the API reported; `expected`: how many the set should have (None: as many as
    given); `what`: the members' plural noun ("L3 agents"); `context`: the status line's prefix (the set's
    owner, e.g. the router's name); `all_down`: the CRITICAL text's lead instead of "all 3 L3 agents down"
    (a controller cluster's "all components down"). Perfdata: up (warn below all, crit below one),
    expected, down, unverified (missing members included)."""
    items, duplicates = _dedupe(members)
    total = max(expected or 0, len(items))
    missing = total - len(items)
    up = [m for m in items if m.state == UP]
    down = [m for m in items if m.state == DOWN]
    unsure = [m for m in items if m.state == UNVERIFIED]
    n_unverified = len(unsure) + missing
    what_ = inert(what)

    v = Verdict()
    if total == 0:
        state, text = State.UNKNOWN, f"no {what_} to judge (an empty set is not a redundant one)"
        v.unverified, v.cause = True, f"no {what_} reported"
    elif len(up) == total:
        state, text = State.OK, f"all {total} {what_} up" if total > 1 else f"1 of {counted(1, what_)} up"
    elif up:
        risk = "at risk" if len(up) == 1 else "reduced redundancy"
        state, text = State.WARNING, f"{risk}: {len(up)} of {counted(total, what_)} up"
    elif n_unverified:
        state, text = State.UNKNOWN, f"none of {counted(total, what_)} verified up"
        v.unverified, v.cause = True, f"no {what_} verified up"
    else:
        state, text = State.CRITICAL, f"all {counted(total, what_)} down" if total > 1 else \
            f"none of {counted(total, what_)} up"
        if all_down:
            text = f"{all_down}: 0 of {counted(total, what_)} up"
    notes = []
    if down:
        notes.append("down: " + _named(down))
    if unsure:
        notes.append("unverified: " + _named(unsure))
    if missing:
        notes.append(f"{counted(missing, 'expected members')} not reported")
    if duplicates:
        notes.append(f"{counted(duplicates, 'duplicate records')} counted once")
    if notes and total:
        text += f" ({'; '.join(notes)})"
    v.add(state, (f"{inert(context)}: " if context else "") + text)

    for m in sorted(items, key=lambda m: (-_RANK[m.state], inert(m.label))):
        cause = f": {inert(m.cause, 200)}" if m.cause and m.state != UP else ""
        v.details.append(f"{m.state}: {inert(m.label) or inert(m.id)}{cause}")
    if missing:
        v.details.append(f"unverified: {counted(missing, 'expected members')} the API did not report")
    v.perf = [
        Perf("up", len(up), warn=f"{total}:" if total else None, crit="1:" if total else None, min=0,
             max=total),
        Perf("expected", total, min=0),
        Perf("down", len(down), min=0, max=total),
        Perf("unverified", n_unverified, min=0, max=total),
    ]
    return v
