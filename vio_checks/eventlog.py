"""The event log: an append-only sequence of inventory changes kept in the cache beside the snapshots.

Written only by the process that sweeps (under the refresh lock, in the same transaction as the new
snapshot); readers never rewrite it. Retention is bounded by age and by count. Keys:
``ev|<seq>`` → Event, ``evidx|<object id>`` → [seq, ...], ``evmeta`` → first/next seq and the
migration records already reported.
"""

from __future__ import annotations

from vio_checks.cache import Store, key
from vio_checks.model import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; pickle imports changes.Event itself
if TYPE_CHECKING:
    from vio_checks.changes import Event

DEFAULT_RETENTION = 7 * 86400.0
DEFAULT_MAX_EVENTS = 100_000


class LogMeta(Record):
    """Where the log starts and ends, and the migration records already reported."""

    def __init__(self, first: int = 0, next: int = 0, seen_migrations: dict[str, str] | None = None) -> None:
        self.first = first  # oldest seq still kept
        self.next = next  # seq the next event gets
        self.seen_migrations = {} if seen_migrations is None else seen_migrations


class EventLog:
    """Events of one cloud+region namespace."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def meta(self) -> LogMeta:
        value = self.store._get("evmeta")
        return value if isinstance(value, LogMeta) else LogMeta()

    def append(self, events: list[Event], seen_migrations: dict[str, str], now: float,
               retention: float = DEFAULT_RETENTION, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        """Add events (oldest first) and drop what retention no longer keeps. Call inside a transaction."""
        cache = self.store.cache
        meta = self.meta()
        touched: dict[str, list[int]] = {}

        def index(object_id: str) -> list[int]:
            if object_id not in touched:
                touched[object_id] = list(self.store._get(key("evidx", object_id)) or [])
            return touched[object_id]

        for event in events:
            cache.set(key("ev", meta.next), event)
            index(event.id).append(meta.next)
            meta.next += 1
        while meta.first < meta.next:
            oldest = self.store._get(key("ev", meta.first))
            if oldest is not None and meta.next - meta.first <= max_events and oldest.time >= now - retention:
                break
            if oldest is not None:
                seqs = index(oldest.id)
                if meta.first in seqs:
                    seqs.remove(meta.first)
            cache.delete(key("ev", meta.first))
            meta.first += 1
        for object_id, seqs in touched.items():
            if seqs:
                cache.set(key("evidx", object_id), seqs)
            else:
                cache.delete(key("evidx", object_id))
        meta.seen_migrations = dict(seen_migrations)
        cache.set("evmeta", meta)

    def recent(self, since: float, limit: int | None = None) -> list[Event]:
        """Events at or after `since`, newest first (reads back from the newest until older ones)."""
        meta = self.meta()
        out: list[Event] = []
        seq = meta.next - 1
        # Events are appended in sweep order; times within one sweep may be slightly out of order, so
        # keep reading a little past the first older one.
        older_in_a_row = 0
        while seq >= meta.first and older_in_a_row < 200:
            event = self.store._get(key("ev", seq))
            seq -= 1
            if event is None:
                continue
            if event.time >= since:
                out.append(event)
                older_in_a_row = 0
            else:
                older_in_a_row += 1
        out.sort(key=lambda e: (-e.time, e.kind, e.id))
        return out[:limit] if limit is not None else out

    def for_object(self, object_id: str, since: float) -> list[Event]:
        """One object's events at or after `since`, newest first."""
        seqs = self.store._get(key("evidx", object_id)) or []
        found = [self.store._get(key("ev", s)) for s in seqs]
        out = [e for e in found if e is not None and e.time >= since]
        out.sort(key=lambda e: -e.time)
        return out
