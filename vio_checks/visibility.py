"""Partial visibility is not deletion: what a list that comes back shorter than the last sweep's means.

A cell that is down, a lost role or a filtering proxy makes a list shorter without deleting anything. The
one rule, for every kind of object the sweep lists (GUARDED):

- A kind that drops from N > 0 to none distrusts the whole sweep (`emptied`; freshness.py keeps the
  previous snapshot): it is what an account that lost its admin role sees, and a direct GET proves nothing
  then (it answers 404 for another project's object too). `vio-discover --accept-empty` stores it.
- Otherwise an object missing from its list is deleted when the drop is small (at most max(5, 10 %) of
  the kind's previous count, `small`) and no kind of the sweep had a larger drop; or when a direct GET of
  it answers 404 (at most MAX_CONFIRM such GETs per sweep, counted with the sweep's requests, the objects
  checked longest ago first).
- Every other missing object keeps its last known record in the new inventory, with a `Kept` note in
  `Meta.kept`: the checks answer from it and say so, check_vio_discovery names them, and no "deleted"
  event is written. The next sweeps ask again.

Pure but for the `confirm` callback (sweep.py's direct GETs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vio_checks.judge.verdict import Finding, State, Verdict
from vio_checks.model import Inventory, Meta, Record
from vio_checks.text import clock, counted, inert

log = logging.getLogger(__name__)

class Kept(Record):
    """An object missing from a sweep's list but not confirmed deleted: its last known record is kept.

    `since`: the first sweep that did not list it; `last_seen`: the last sweep that did; `why`: what the
    sweep knows (e.g. "GET /servers/{id} answered: it exists"); `checked_at`: the last direct GET of it.
    """

    def __init__(self, since: float, last_seen: float, why: str, checked_at: float | None = None) -> None:
        self.since = since
        self.last_seen = last_seen
        self.why = why
        self.checked_at = checked_at


#: The kinds whose lists must not shrink unnoticed. Not guarded: migrations (a time window), projects
#: (names only; a 403 lists none), endpoints (the token's catalog), vSphere VMs and alarms (the join and
#: the alarm state decide them); vSphere clusters, hosts and datastores only when both sweeps read vCenter.
GUARDED = ("hypervisors", "servers", "compute_services", "volumes", "volume_services", "ports", "networks",
           "routers", "agents")
VSPHERE_GUARDED = ("vsphere_clusters", "esxi_hosts", "datastores")
#: Direct GETs per sweep that may confirm deletions.
MAX_CONFIRM = 20
#: A drop of at most max(SMALL_COUNT, SMALL_SHARE x the previous count) is small.
SMALL_COUNT, SMALL_SHARE = 5, 0.10

#: kind, record → True: the API says it is gone (404); False: it exists; None: could not tell.
Confirm = Callable[[str, Any], "bool | None"]


def small(missing: int, before: int) -> bool:
    """Whether `missing` objects of a kind that had `before` is a small drop (max(5, 10 %))."""
    return missing <= max(SMALL_COUNT, SMALL_SHARE * before)


def _vsphere_ok(meta: Meta | None) -> bool:
    vs = getattr(meta, "vsphere", None)
    return vs is not None and not getattr(vs, "error", None)


def guarded(previous: Meta, new: Meta) -> tuple[str, ...]:
    """The kinds guarded between these two sweeps (vSphere's only when both read vCenter)."""
    if _vsphere_ok(previous) and _vsphere_ok(new):
        return GUARDED + VSPHERE_GUARDED
    return GUARDED


def emptied(previous: Meta | None, inv: Inventory) -> list[str]:
    """`servers 10 → 0` for each guarded kind the new sweep empties (then the sweep is distrusted)."""
    if previous is None:
        return []
    before = previous.counts or {}
    return [f"{kind} {before[kind]} → 0" for kind in guarded(previous, inv.meta)
            if before.get(kind, 0) > 0 and not inv.of_kind(kind)]


def reconcile(previous: Any, inv: Inventory, confirm: Confirm) -> None:
    """Decide which objects of `previous` (a snapshot: .meta, .all(kind)) missing from `inv` are deleted;
    put the others back into `inv` with a Kept note in `inv.meta.kept` (see the module's rules).

    Call it only when `emptied` found nothing (such a sweep is not stored at all).
    """
    now = inv.meta.fetched_at
    old_kept: dict[str, dict[str, Kept]] = getattr(previous.meta, "kept", None) or {}
    missing: dict[str, list] = {}
    drops = []
    for kind in guarded(previous.meta, inv.meta):
        listed = {o.id for o in inv.of_kind(kind)}
        before = previous.all(kind)
        gone = [o for o in before if o.id not in listed]
        if gone:
            missing[kind] = gone
            drops.append(small(len(gone), len(before)))
    if not missing:
        return
    if all(drops):
        for kind, gone in missing.items():
            log.info("%d %s not in this sweep's list: deleted (a small drop)", len(gone), kind)
        return

    def checked(kind: str, obj: Any) -> float:
        note = old_kept.get(kind, {}).get(obj.id)
        return (note.checked_at or 0.0) if note else 0.0

    queue = sorted(((kind, o) for kind, gone in missing.items() for o in gone),
                   key=lambda ko: (checked(*ko), ko[0], ko[1].id))
    asked = 0
    answers: dict[tuple[str, str], bool | None] = {}
    for kind, obj in queue:
        if kind not in CONFIRMABLE:
            continue
        if asked >= MAX_CONFIRM:
            break
        asked += 1
        answers[(kind, obj.id)] = answer = confirm(kind, obj)
        if answer is None:
            break  # the API failed it (or the budget ran out): ask no more this sweep
    inv.meta.confirmations = asked
    deleted = 0
    for kind, gone in missing.items():
        for obj in gone:
            key = (kind, obj.id)
            answer = answers.get(key)
            if answer is True:
                deleted += 1
                continue
            note = old_kept.get(kind, {}).get(obj.id)
            if answer is False:
                why = "a direct GET finds it: hidden from the list"
            elif key in answers:
                why = "not confirmed deleted: its direct GET failed"
            elif kind in CONFIRMABLE:
                why = f"not confirmed deleted yet (at most {MAX_CONFIRM} direct GETs a sweep)"
            else:
                why = "not confirmed deleted (no direct lookup for this kind)"
            inv.of_kind(kind).append(obj)
            inv.meta.kept.setdefault(kind, {})[obj.id] = Kept(
                since=note.since if note else now,
                last_seen=note.last_seen if note else previous.meta.fetched_at,
                why=why,
                checked_at=now if key in answers else (note.checked_at if note else None),
            )
    for kind in inv.meta.kept:
        inv.meta.counts[kind] = len(inv.of_kind(kind))
    log.warning("%s; %d confirmed deleted by a direct GET", kept_summary(inv.meta) or "nothing kept", deleted)


#: The kinds sweep.py can look up one by one (see sweep.CONFIRM_PATHS); the others cannot be confirmed.
CONFIRMABLE = frozenset({"hypervisors", "servers", "compute_services", "volumes", "volume_services", "ports",
                         "networks", "routers", "agents"})


def kept_summary(meta: Meta) -> str | None:
    """`sweep distrusted: 3 of 10 servers not in its list, not confirmed deleted: last known state kept`,
    or None when nothing is kept."""
    kept = getattr(meta, "kept", None) or {}
    parts = [f"{len(ids)} of {counted(meta.counts.get(kind, len(ids)), kind)}"
             for kind, ids in kept.items() if ids]
    if not parts:
        return None
    return ("sweep distrusted: " + ", ".join(parts) + " not in its lists and not confirmed deleted: last "
            "known state kept")


def kept_details(meta: Meta, names: dict[str, dict[str, str]], now: float, limit: int = 20) -> list[str]:
    """One line per kept object (at most `limit`): `servers web-01 (id): not listed since 10:42, last
    seen 10:40: a direct GET finds it: hidden from the list`. `names`: kind → id → name, when known."""
    lines = []
    for kind, ids in sorted((getattr(meta, "kept", None) or {}).items()):
        for oid, note in sorted(ids.items(), key=lambda kv: kv[0]):
            name = names.get(kind, {}).get(oid)
            who = f"{inert(name)} ({inert(oid)})" if name else inert(oid)
            lines.append(f"kept: {kind} {who}: not listed since {clock(note.since, now)}, last seen "
                         f"{clock(note.last_seen, now)}: {note.why}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"kept: ... and {len(lines) - limit} more"]
    return lines


def kept_note(meta: Meta, kind: str, object_id: str) -> Kept | None:
    """The Kept note of one object, or None when the last sweep listed it."""
    return ((getattr(meta, "kept", None) or {}).get(kind) or {}).get(object_id)


def note_text(note: Kept, now: float) -> str:
    """`not in the last sweep's list since 10:42 (last seen 10:40: ...); last known state kept`."""
    return (f"not in the last sweep's list since {clock(note.since, now)} (last seen "
            f"{clock(note.last_seen, now)}; {note.why}); last known state kept")



def mark_kept(v: Verdict, note: Kept | None, now: float) -> Verdict:
    """A verdict judged from a kept (last known) record, said so: a problem it shows stands, with the note;
    an OK becomes UNKNOWN (unverified): nothing says the object is still fine."""
    if note is None:
        return v
    text = note_text(note, now)
    v.details.insert(0, f"NOTE: {text}")
    state = v.state
    if state == State.OK:
        v.findings = [Finding(State.UNKNOWN, f"{v.summary}: unverified, {text}")]
        v.unverified = True
    else:
        short = f"not in the last sweep's list since {clock(note.since, now)}; last known state kept"
        for f in v.findings:
            if f.state == state:
                f.text += f" ({short})"
    return v
