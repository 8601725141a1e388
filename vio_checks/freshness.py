"""Freshness policy: hand a caller a snapshot young enough, refreshing it through the lock when stale.

- Fresh (age <= max_age): read it; no SDK import, no API call.
- Stale: exactly one process sweeps (the lock); the others wait for its result.
- The sweep failed (or another process's sweep failed a moment ago): the previous snapshot serves up to
  max_stale, with the reason attached; past that, InventoryUnavailable.
- Damaged cache: moved aside, then rebuilt by a sweep.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from vio_checks.cache import Snapshot, Store
from vio_checks.errors import CacheError, InventoryUnavailable, SweepError
from vio_checks.eventlog import DEFAULT_MAX_EVENTS, DEFAULT_RETENTION, EventLog
from vio_checks.model import CLOCK_SKEW, Inventory, Record
from vio_checks.text import age, stamped_ahead

log = logging.getLogger(__name__)

#: After a failed sweep, other processes wait this long before trying again (no stampede on a down API).
FAILURE_BACKOFF = 30.0
POLL = 0.05


class Result(Record):
    """A snapshot and, when it is not fresh, why (shown in check output)."""

    def __init__(self, snapshot: Snapshot, stale_reason: str | None = None, swept: bool = False,
                 error: str | None = None, note: str | None = None) -> None:
        self.snapshot = snapshot
        self.stale_reason = stale_reason
        self.swept = swept  # this process ran the sweep
        self.error = error  # the refresh failed with this error
        self.note = note  # why it refreshed when the age alone does not say (a stamp in the future)
        self.quarantined: str | None = None  # the damaged cache this process moved aside, and where


class Freshness(Record):
    """How old an inventory may be, and (for the process that sweeps) how long events are kept."""

    def __init__(self, max_age: float = 120.0, max_stale: float = 900.0, cache_only: bool = False,
                 event_retention: float = DEFAULT_RETENTION, max_events: int = DEFAULT_MAX_EVENTS,
                 accept_empty: bool = False) -> None:
        self.max_age = max_age
        self.max_stale = max_stale
        self.cache_only = cache_only
        self.event_retention = event_retention
        self.max_events = max_events
        # store a sweep even when it empties a kind that had objects (this run only)
        self.accept_empty = accept_empty


def obtain(
    store: Store,
    policy: Freshness,
    sweep: Callable[[float], Inventory],
    deadline: float,
    force: bool = False,
) -> Result:
    """Return a usable snapshot, sweeping (via `sweep(deadline)`) when needed and allowed.

    `deadline` is a time.monotonic() value; `force` sweeps even when the snapshot is fresh.
    """
    try:
        return _obtain(store, policy, sweep, deadline, force)
    except CacheError as e:
        if getattr(e, "write_failed", False):  # a full disk, a file-size limit: the last snapshot serves
            store.read_only()
            return _fallback(store.current(), policy, f"sweep not stored: {e}", str(e))
        if not getattr(e, "corrupt", False) or policy.cache_only:
            raise
        moved = store.quarantine()  # keeps the damaged copy for inspection
        why = f"cache damaged ({e}): moved to {moved}"
        log.warning("%s, rebuilding", why)
        try:
            result = _obtain(store, policy, sweep, deadline, True)
        except InventoryUnavailable as unavailable:
            unavailable.args = (f"{unavailable}; {why}",)
            raise
        result.quarantined = f"{why}, rebuilt"
        return result


def _fresh(snap: Snapshot | None, policy: Freshness) -> bool:
    return snap is not None and snap.age() <= policy.max_age  # a future stamp's age is inf: never fresh


def future_note(snap: Snapshot | None, now: float | None = None) -> str | None:
    """`inventory stamped 2 h 0 min in the future (the sweeper's clock ahead?): its age is unknown`, or
    None when its stamp is not in the future."""
    if snap is None:
        return None
    now = time.time() if now is None else now
    ahead = snap.meta.fetched_at - now
    if ahead <= CLOCK_SKEW:
        return None
    return stamped_ahead(ahead)


def _fallback(snap: Snapshot | None, policy: Freshness, reason: str, error: str | None = None) -> Result:
    if snap is not None and snap.age() <= policy.max_stale:
        return Result(snap, f"inventory {age(snap.age())} old: {reason}", error=error)
    if snap is None:
        err = InventoryUnavailable(f"no inventory: {reason}")
    elif future_note(snap):
        err = InventoryUnavailable(f"{future_note(snap)}: {reason}")
    else:
        err = InventoryUnavailable(
            f"inventory {age(snap.age())} old, past --max-stale {age(policy.max_stale)}: {reason}"
        )
    err.sweep_error = error  # type: ignore[attr-defined]
    raise err


def _obtain(store: Store, policy: Freshness, sweep: Callable[[float], Inventory], deadline: float,
            force: bool) -> Result:
    snap = store.current()
    if not force and _fresh(snap, policy):
        return Result(snap)
    if policy.cache_only:
        if snap is None:
            raise InventoryUnavailable("no inventory in the cache (--cache-only: run vio-discover)")
        return _fallback(snap, policy, "not refreshed (--cache-only)")
    status = store.status()
    error_at = status.get("error_at") or 0
    # A failure stamped in the future (a clock ahead) says nothing about when to retry: retry now.
    if not force and status.get("error") and 0 <= time.time() - error_at < FAILURE_BACKOFF:
        retry = max(1, math.ceil(FAILURE_BACKOFF - (time.time() - error_at)))
        return _fallback(snap, policy, f"last sweep failed: {status['error']}; retry in {retry} s",
                         status["error"])

    started_gen = snap.gen if snap else None
    started = time.time()
    future = future_note(snap, started)
    if future:
        log.info("%s: refreshing", future)
    ttl = max(5.0, deadline - time.monotonic() + 5.0)
    while True:
        token = None
        if not store.locked() or store.break_dead_lock():
            token = store.try_lock(ttl)
        if token:
            try:
                snap = store.current()
                if snap is not None and snap.gen != started_gen and _fresh(snap, policy):
                    return Result(snap)  # someone else swept while we queued for the lock
                try:
                    inv = sweep(deadline)
                except SweepError as e:
                    store.record_failure(str(e))
                    return _fallback(snap, policy, f"sweep failed: {e}", str(e))
                except BaseException as e:
                    # The command's own alarm (-t) or an interrupt ends it: still a failed sweep, so the
                    # others back off and serve the previous snapshot instead of each hanging in turn.
                    _record_ended(store, e)
                    raise
                distrust = None if policy.accept_empty else distrusted(snap, inv)
                if distrust:
                    store.record_failure(distrust)
                    return _fallback(snap, policy, distrust, distrust)
                try:
                    record_sweep(store, inv, policy.event_retention, policy.max_events)
                except CacheError as e:
                    if getattr(e, "corrupt", False):
                        raise
                    # e.g. a full disk: the write rolled back whole; the previous snapshot still serves
                    try:
                        store.record_failure(str(e))
                    except CacheError:
                        pass
                    return _fallback(store.current(), policy, f"sweep not stored: {e}", str(e))
                return Result(store.current(), swept=True, note=future)
            finally:
                store.unlock(token)
        # Another process is sweeping: wait for its outcome.
        time.sleep(POLL)
        snap = store.current()
        if snap is not None and snap.gen != started_gen:
            return Result(snap)
        status = store.status()
        if status.get("error") and started <= (status.get("error_at") or 0) <= time.time() + CLOCK_SKEW:
            return _fallback(snap, policy, f"sweep failed: {status['error']}", status["error"])
        if time.monotonic() >= deadline:
            return _fallback(snap, policy, "another process is still sweeping")



def _record_ended(store: Store, e: BaseException) -> None:
    """Record a sweep that an alarm or an interrupt ended, best effort (the exception goes on)."""
    why = "interrupted" if isinstance(e, KeyboardInterrupt) else "timed out: the command's -t ran out first"
    try:
        store.record_failure(f"sweep {why}")
    except Exception as err:  # a cache that cannot take it must not hide the alarm
        log.info("cannot record the ended sweep: %s", err)


def distrusted(previous: Snapshot | None, inv: Inventory) -> str | None:
    """Why a sweep's result must not replace the previous snapshot, or None when it may: it empties a kind
    that had objects (visibility.emptied: every guarded kind, agents included)."""
    from vio_checks.visibility import emptied  # only the process that sweeps

    lost = emptied(previous.meta if previous is not None else None, inv)
    return "sweep distrusted: " + ", ".join(lost) if lost else None


#: The kinds whose changes become events (reading only these keeps the diff cheap at 10,000 VMs).
TRACKED = ("hypervisors", "servers", "volumes", "routers", "esxi_hosts", "vsphere_vms")


def record_sweep(store: Store, inv: Inventory, retention: float = DEFAULT_RETENTION,
                 max_events: int = DEFAULT_MAX_EVENTS) -> None:
    """Store a new snapshot (each record's first-seen time carried over: firstseen.py) and the events since
    the previous one, in one transaction."""
    from vio_checks import firstseen
    from vio_checks.changes import changes  # only the process that sweeps compares sweeps

    previous = store.current()
    before = None
    if previous is not None:
        before = Inventory(meta=previous.meta)
        for kind in dict.fromkeys((*TRACKED, *firstseen.KINDS, *firstseen.REGISTERED_KINDS)):
            setattr(before, kind, previous.all(kind))
    firstseen.carry(before, inv)
    log = EventLog(store)
    events, seen = changes(before, inv, log.meta().seen_migrations)
    with store.cache.transact():
        store.store(inv)
        log.append(events, seen, now=inv.meta.fetched_at, retention=retention, max_events=max_events)
