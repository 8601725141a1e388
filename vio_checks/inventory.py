"""Freshness policy: hand a caller a snapshot young enough, refreshing it through the lock when stale.

- Fresh (age <= max_age): read it; no SDK import, no API call.
- Stale: exactly one process sweeps (the lock); the others wait for its result.
- The sweep failed (or another process's sweep failed a moment ago): the previous snapshot serves up to
  max_stale, with the reason attached; past that, InventoryUnavailable.
- Damaged cache: moved aside, then rebuilt by a sweep.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vio_checks.cache import Snapshot, Store
from vio_checks.errors import CacheError, InventoryUnavailable, SweepError
from vio_checks.judge.timefmt import age
from vio_checks.model import Inventory

log = logging.getLogger(__name__)

#: After a failed sweep, other processes wait this long before trying again (no stampede on a down API).
FAILURE_BACKOFF = 30.0
POLL = 0.05


@dataclass
class Result:
    """A snapshot and, when it is not fresh, why (shown in check output)."""

    snapshot: Snapshot
    stale_reason: str | None = None
    swept: bool = False  # this process ran the sweep
    error: str | None = None  # the refresh failed with this error


@dataclass
class Freshness:
    max_age: float = 120.0
    max_stale: float = 900.0
    cache_only: bool = False


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
        if not getattr(e, "corrupt", False) or policy.cache_only:
            raise
        moved = store.quarantine()  # keeps the damaged copy for inspection
        log.warning("cache damaged (%s); moved to %s, rebuilding", e, moved)
        return _obtain(store, policy, sweep, deadline, True)


def _fresh(snap: Snapshot | None, policy: Freshness) -> bool:
    return snap is not None and snap.age() <= policy.max_age


def _fallback(snap: Snapshot | None, policy: Freshness, reason: str, error: str | None = None) -> Result:
    if snap is not None and snap.age() <= policy.max_stale:
        return Result(snap, f"inventory {age(snap.age())} old: {reason}", error=error)
    if snap is None:
        raise InventoryUnavailable(f"no inventory: {reason}")
    raise InventoryUnavailable(
        f"inventory {age(snap.age())} old, past --max-stale {age(policy.max_stale)}: {reason}"
    )


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
    if not force and status.get("error") and time.time() - error_at < FAILURE_BACKOFF:
        return _fallback(snap, policy, f"last sweep failed: {status['error']}", status["error"])

    started_gen = snap.gen if snap else None
    started = time.time()
    ttl = max(5.0, deadline - time.monotonic() + 5.0)
    while True:
        token = None if store.locked() else store.try_lock(ttl)
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
                store.store(inv)
                return Result(store.current(), swept=True)
            finally:
                store.unlock(token)
        # Another process is sweeping: wait for its outcome.
        time.sleep(POLL)
        snap = store.current()
        if snap is not None and snap.gen != started_gen:
            return Result(snap)
        status = store.status()
        if status.get("error") and (status.get("error_at") or 0) >= started:
            return _fallback(snap, policy, f"sweep failed: {status['error']}", status["error"])
        if time.monotonic() >= deadline:
            return _fallback(snap, policy, "another process is still sweeping")


def open_store(cache_dir: Path, ns: str) -> Store:
    """The store for one namespace below a resolved cache directory."""
    return Store(Path(cache_dir) / ns)
