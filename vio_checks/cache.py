"""The shared inventory store (diskcache): whole snapshots, per-object records, a name index.

Layout, per cloud+region namespace (one diskcache directory):
- ``current``: the generation readers use; switched only after a whole snapshot is written, so a reader
  never mixes two sweeps. The previous generation is kept until the next switch for readers mid-read.
- ``status``: the last sweep attempt and its error, if it failed.
- ``<gen>|meta``, ``<gen>|all|<kind>``: the sweep's Meta and every object of a kind (aggregates).
- ``<gen>|obj|<kind>|<bucket>`` → {id: record} and ``<gen>|idx|<kind>|<index>|<bucket>`` → {value: [ids]}:
  what a single-object check reads. Records are hashed into buckets of about BUCKET_SIZE each (the
  bucket counts are in ``current``), so a lookup reads one small bucket whatever the cloud's size, and
  a 10,000-VM snapshot is a few thousand keys rather than a hundred thousand (seconds of SQLite writes).
Keys are strings: diskcache stores them as they are, where tuple keys would be pickled.
- ``lock``: held (with an expiry) by the one process that sweeps.

Nothing here talks to the API or decides freshness policy: see freshness.py.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable

import diskcache

from vio_checks.cachefaults import _is_corruption, _is_write_failure, _owner_dead, process_start
from vio_checks.errors import CacheError
from vio_checks.model import CLOCK_SKEW, KINDS, SCHEMA, Inventory, Meta, Record

# A warm check only reads: what only writers, lock holders and odd names need (socket, uuid, pathlib,
# typing) is imported where it is used.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

log = logging.getLogger(__name__)

#: Secondary indexes: kind → index name → the values an object is found under.
INDEXES: dict[str, dict[str, Callable[[Any], Iterable[str | None]]]] = {
    "hypervisors": {
        "name": lambda h: (h.hostname, h.cluster_name),
        "service_host": lambda h: (h.service_host,),
    },
    "servers": {
        "name": lambda s: (s.name,),
        "hypervisor": lambda s: (s.hypervisor_hostname,),
    },
    "compute_services": {"host": lambda s: (s.host,), "name": lambda s: (f"{s.binary}@{s.host}",)},
    "volume_services": {"host": lambda s: (s.host,), "name": lambda s: (f"{s.binary}@{s.host}",)},
    "migrations": {"server": lambda m: (m.server_id,)},
    "volumes": {
        "name": lambda v: (v.name,),
        "server": lambda v: tuple(a.server_id for a in v.attachments),
        "service_host": lambda v: (v.service_host,),
    },
    "ports": {
        "name": lambda p: (p.name,),
        "device": lambda p: (p.device_id,),
        "network": lambda p: (p.network_id,),
    },
    "networks": {"name": lambda n: (n.name,)},
    "routers": {
        "name": lambda r: (r.name,),
        "network": lambda r: tuple(r.network_ids),
        "agent": lambda r: tuple(r.agent_ids),
    },
    "agents": {"name": lambda a: (f"{a.binary}@{a.host}",), "host": lambda a: (a.host,)},
    "projects": {"name": lambda p: (p.name,)},
    "endpoints": {},
    "load_balancers": {"name": lambda b: (b.name,)},
    "images": {"name": lambda i: (i.name,)},
    "stacks": {"name": lambda s: (s.name,)},
    "certificates": {"name": lambda c: (c.name,)},  # host:port
    "vsphere_clusters": {"name": lambda c: (c.name,), "hypervisor": lambda c: (c.hypervisor,)},
    "esxi_hosts": {
        "name": lambda h: (h.name,),
        "cluster": lambda h: (h.cluster,),
        "hypervisor": lambda h: (h.hypervisor,),
    },
    "vsphere_vms": {"server": lambda v: (v.server_id,), "host": lambda v: (v.host,)},
    "datastores": {"name": lambda d: (d.name,), "host": lambda d: tuple(m.host for m in d.mounts)},
    "vsphere_alarms": {"entity": lambda a: (a.entity,)},
}

_SETTINGS = {
    "eviction_policy": "none",  # never cull a record behind our back
    "tag_index": True,
    "size_limit": 2**40,
    "statistics": False,
    # Every value stays inside SQLite, so a snapshot's transaction is atomic: diskcache writes larger
    # values as files outside the transaction, and a failed or killed write left them behind (a full disk
    # stayed full).
    "disk_min_file_size": 2**40,
}


#: Records per bucket, on average.
BUCKET_SIZE = 32


def key(*parts: object) -> str:
    """A cache key: the parts joined by `|` (the last part may contain anything)."""
    return "|".join(map(str, parts))


def buckets_for(count: int) -> int:
    """How many buckets hold `count` records."""
    return max(1, -(-count // BUCKET_SIZE))


def bucket(value: str, n: int) -> int:
    """The bucket a record id or index value falls in (stable across processes, unlike hash())."""
    return zlib.crc32(value.encode("utf-8", "surrogatepass")) % n


def namespace(cloud: str | None, region: str | None) -> str:
    """Directory name for a cloud+region, from the literal option values (no SDK needed)."""
    def slug(text: str) -> str:
        clean = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:60]
        if clean != text:
            import uuid

            clean += "-" + uuid.uuid5(uuid.NAMESPACE_URL, text).hex[:8]
        return clean or "_"

    return f"{slug(cloud or 'envvars')}+{slug(region or '')}" if region else slug(cloud or "envvars")


#: The diskcache releases open_for_reading was written for (Debian 12 has 5.4, Debian 13 5.6): it sets the
#: private attributes Cache.__init__ would. On any other release it returns None and the cache is opened
#: the ordinary way: correct, only slower. tests/test_warm_path.py pins this against the installed release.
DISKCACHE_WRITTEN_FOR = "5."


def open_for_reading(directory: str, timeout: float, immutable: bool = False) -> diskcache.Cache | None:
    """An existing cache of ours opened for reads without diskcache's start-up writes; None: open it as usual.

    diskcache.Cache() writes every setting back on each open (some 35 statements, two connections: more
    than the rest of a warm check's own work). When the stored settings already are ours, that rewrite
    changes nothing, so this sets up what Cache.__init__ leaves behind from the stored settings instead.
    Only for the diskcache 5 layout; anything unexpected falls back to the ordinary open.

    `immutable`: read the database file as it is, writing nothing at all (not even SQLite's shared-memory
    index, which a reader in WAL mode creates): for a disk that refuses every write.
    """
    if not diskcache.__version__.startswith(DISKCACHE_WRITTEN_FOR) or not os.path.exists(
            os.path.join(directory, diskcache.core.DBNAME)):
        return None
    cache = diskcache.Cache.__new__(diskcache.Cache)
    cache._directory = directory
    cache._timeout = timeout
    cache._local = threading.local()
    cache._txn_id = None
    try:
        if immutable:  # diskcache uses the connection it finds (and sets no pragmas on it)
            from urllib.request import pathname2url

            cache._local.pid = os.getpid()
            cache._local.con = sqlite3.connect(
                f"file:{pathname2url(os.path.join(directory, diskcache.core.DBNAME))}?immutable=1", uri=True,
                timeout=timeout, isolation_level=None)
        stored = dict(cache._sql("SELECT key, value FROM Settings").fetchall())  # sets the pragmas too
        wanted = {**diskcache.core.DEFAULT_SETTINGS, **_SETTINGS}
        tables = {row[0] for row in cache._sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if any(k not in stored or (k in _SETTINGS and stored[k] != v) for k, v in wanted.items()) or \
                "Cache" not in tables:
            cache.close()
            return None
        disk = {k[5:]: v for k, v in stored.items() if k.startswith("disk_")}
        cache._disk = diskcache.Disk(directory, **disk)
        for k, v in stored.items():
            setattr(cache, k, v)
        ((cache._page_size,),) = cache._sql("PRAGMA page_size").fetchall()
    except (sqlite3.Error, ValueError, TypeError):
        cache.close()
        return None
    return cache


class Store:
    """One namespace of the inventory cache.

    Reads go through a handle opened for reading (`open_for_reading`) until something writes; from then on
    everything goes through the ordinary one, so a transaction reads its own writes.
    """

    def __init__(self, directory: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self._path = os.fspath(directory)
        self._directory: Path | None = None
        self.timeout = timeout  # how long SQLite waits for another process's transaction
        self._cache: diskcache.Cache | None = None
        self._reader: diskcache.Cache | None = None

    @property
    def directory(self) -> Path:
        """The namespace's directory (a Path made on first use: reading the cache needs none)."""
        if self._directory is None:
            from pathlib import Path

            self._directory = Path(self._path)
        return self._directory

    # --- opening -------------------------------------------------------------------------------

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self._close_reader()
            try:
                os.makedirs(self._path, mode=0o700, exist_ok=True)
                old = os.umask(0o077)
                try:
                    self._cache = diskcache.Cache(self._path, timeout=self.timeout, **_SETTINGS)
                finally:
                    os.umask(old)
            except (sqlite3.DatabaseError, OSError) as e:
                raise self._error("cannot open cache", e) from None
        return self._cache

    def _error(self, what: str, e: BaseException) -> CacheError:
        if isinstance(e, CacheError):  # already said (opening failed while locking, say)
            return e
        if isinstance(e, diskcache.Timeout) or (
                isinstance(e, sqlite3.OperationalError) and "locked" in str(e)):
            err = CacheError(f"{what} at {self._path}: cache busy for {self.timeout:g} s "
                             "(another process holds it)")
            err.corrupt = False  # type: ignore[attr-defined]
            return err
        text = " ".join(str(e).split()) or type(e).__name__
        damaged = self._damaged_layout()
        if damaged:  # a path of ours of the wrong type: SQLite only says it cannot open the file
            err = CacheError(f"{what} at {self._path}: {damaged}")
            err.corrupt = True  # type: ignore[attr-defined]
            return err
        err = CacheError(f"{what} at {self._path}: {text}")
        err.corrupt = _is_corruption(e)  # type: ignore[attr-defined]
        err.write_failed = _is_write_failure(e)  # type: ignore[attr-defined]
        return err

    def _damaged_layout(self) -> str | None:
        """Why the namespace cannot be a cache whatever is done to it, or None: the namespace is not a
        directory, or SQLite's files in it are not regular files (a directory named cache.db)."""
        import stat

        try:
            mode = os.lstat(self._path).st_mode
        except OSError:
            return None
        if not stat.S_ISDIR(mode):
            return "it is not a directory"
        for name in (diskcache.core.DBNAME, f"{diskcache.core.DBNAME}-wal", f"{diskcache.core.DBNAME}-shm"):
            try:
                mode = os.lstat(os.path.join(self._path, name)).st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                return f"{name} is not a regular file"
        return None

    def close(self) -> None:
        self._close_reader()
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _for_reading(self) -> diskcache.Cache:
        """The ordinary handle when open, else the one opened for reading (when the cache allows it)."""
        if self._cache is None and self._reader is None:
            self._reader = open_for_reading(self._path, self.timeout)
        return self._cache or self._reader or self.cache

    def read_only(self) -> None:
        """From now on read the last snapshot without writing anything: the disk refuses writes."""
        self.close()
        self._reader = open_for_reading(self._path, self.timeout, immutable=True)

    def quarantine(self) -> Path:
        """Move a damaged cache aside (kept for inspection) so the next sweep starts a new one."""
        self.close()
        target = self.directory.with_name(f"{self.directory.name}.corrupt-{time.time():.0f}-{os.getpid()}")
        try:
            os.replace(self.directory, target)
        except FileNotFoundError:  # another process moved it first
            pass
        except OSError as e:
            raise CacheError(f"cache at {self.directory} is damaged and cannot be moved aside: {e}") from None
        return target

    def _get(self, key: Any, default: Any = None) -> Any:
        try:
            return self._for_reading().get(key, default)
        except CacheError:
            raise
        except Exception as e:
            raise self._error("cannot read cache", e) from None

    # --- snapshot ------------------------------------------------------------------------------

    def current(self) -> Snapshot | None:
        """The current snapshot, or None when there is none (or it was written by another schema)."""
        cur = self._get("current")
        if not isinstance(cur, dict) or cur.get("schema") != SCHEMA:
            return None
        meta = self._get(key(cur["gen"], "meta"))
        if not isinstance(meta, Meta):
            return None
        return Snapshot(self, cur["gen"], meta, cur.get("layout", {}))

    def status(self) -> dict:
        """The last sweep attempt: {'attempt_at', 'error', 'error_at', 'ok_at'} (absent keys: never)."""
        value = self._get("status")
        return value if isinstance(value, dict) else {}

    def store(self, inv: Inventory) -> int:
        """Write a whole snapshot as a new generation, switch to it, drop the one before the previous."""
        cur = self._get("current")
        gen = (cur.get("gen", 0) if isinstance(cur, dict) else 0) + 1
        cache = self.cache
        self.remove_orphans()
        old = os.umask(0o077)
        try:
            layout: dict[str, int] = {}
            with cache.transact():
                for kind in KINDS:
                    objects = inv.of_kind(kind)
                    cache.set(key(gen, "all", kind), objects, tag=gen)
                    layout[kind] = n = buckets_for(len(objects))
                    records: dict[int, dict[str, Any]] = {}
                    found: dict[str, dict[str, list[str]]] = {index: {} for index in INDEXES[kind]}
                    for obj in objects:
                        records.setdefault(bucket(obj.id, n), {})[obj.id] = obj
                        for index, values in INDEXES[kind].items():
                            for value in values(obj):
                                if value:
                                    found[index].setdefault(value, []).append(obj.id)
                    for b, chunk in records.items():
                        cache.set(key(gen, "obj", kind, b), chunk, tag=gen)
                    for index, by_value in found.items():
                        layout[f"{kind}.{index}"] = m = buckets_for(len(by_value))
                        chunks: dict[int, dict[str, list[str]]] = {}
                        for value, ids in by_value.items():
                            chunks.setdefault(bucket(value, m), {})[value] = ids
                        for b, chunk in chunks.items():
                            cache.set(key(gen, "idx", kind, index, b), chunk, tag=gen)
                cache.set(key(gen, "meta"), inv.meta, tag=gen)
                cache.set("current", {"gen": gen, "schema": SCHEMA, "layout": layout})
                status = self.status()
                status.update(attempt_at=inv.meta.fetched_at, ok_at=inv.meta.fetched_at, error=None)
                cache.set("status", status)
            for stale in range(max(0, gen - 5), gen - 1):
                cache.evict(stale)
        except Exception as e:
            raise self._error("cannot write cache", e) from None
        finally:
            os.umask(old)
        return gen

    def record_failure(self, error: str, when: float | None = None) -> None:
        """Remember that a sweep failed, and why (the previous snapshot stays)."""
        from vio_checks.redact import text

        when = time.time() if when is None else when
        status = self.status()
        status.update(attempt_at=when, error=text(error), error_at=when)  # never a credential on disk
        try:
            self.cache.set("status", status)
        except Exception as e:
            raise self._error("cannot write cache", e) from None

    def remove_orphans(self) -> int:
        """Delete value files no row references (left by a failed or killed write of older versions).

        Values are kept inside SQLite now; any file in diskcache's value directories is such a leftover
        unless a row still names it. Returns how many were removed.
        """
        try:
            sql = self.cache._sql  # diskcache's own connection: the Cache table is its documented schema
            referenced = {row[0] for row in sql("SELECT filename FROM Cache WHERE filename IS NOT NULL")}
        except Exception as e:
            raise self._error("cannot read cache", e) from None
        removed = 0
        for sub in self.directory.iterdir():
            if not (sub.is_dir() and len(sub.name) == 2 and all(c in "0123456789abcdef" for c in sub.name)):
                continue
            for path in sub.rglob("*"):
                rel = path.relative_to(self.directory).as_posix()
                if path.is_file() and rel not in referenced:
                    try:
                        path.unlink()
                        removed += 1
                    except OSError:
                        pass
        if removed:
            log.info("removed %d orphaned value files from %s", removed, self.directory)
        return removed

    # --- the refresh lock ----------------------------------------------------------------------

    def try_lock(self, ttl: float) -> str | None:
        """Take the refresh lock (expires after ttl seconds); returns a token, or None if held.

        The lock records its owner (host, pid, process start time) so a waiter can tell a dead owner.
        """
        import socket
        import uuid

        token = uuid.uuid4().hex
        owner = {"token": token, "host": socket.gethostname(), "pid": os.getpid(),
                 "start": process_start(os.getpid()), "at": time.time()}
        try:
            return token if self.cache.add("lock", owner, expire=ttl) else None
        except Exception as e:
            raise self._error("cannot lock cache", e) from None

    def unlock(self, token: str) -> None:
        """Release the lock if we still hold it."""
        try:
            with self.cache.transact():
                owner = self.cache.get("lock")
                if isinstance(owner, dict) and owner.get("token") == token:
                    self.cache.delete("lock")
        except Exception:
            pass  # the lock expires by itself

    def locked(self) -> bool:
        return self._get("lock") is not None

    def break_dead_lock(self) -> bool:
        """Remove the lock when its owner died on this host (killed sweeper); True when it was removed."""
        owner = self._get("lock")
        if owner is None or not _owner_dead(owner):
            return False
        try:
            with self.cache.transact():
                if self.cache.get("lock") == owner:
                    self.cache.delete("lock")
        except Exception as e:
            raise self._error("cannot lock cache", e) from None
        log.warning("the sweeper that held the cache lock (pid %s) is gone; taking over", owner.get("pid"))
        return True


class Snapshot(Record):
    """A reader's handle on one generation: every read comes from the same sweep."""

    def __init__(self, store: Store, gen: int, meta: Meta, layout: dict[str, int]) -> None:
        self.store = store
        self.gen = gen
        self.meta = meta
        self.layout = layout  # kind (or kind.index) → number of buckets

    def age(self, now: float | None = None) -> float:
        """Seconds since the sweep; inf when it is stamped more than CLOCK_SKEW in the future (a sweeper
        whose clock is ahead): its age is unknown, so it is never fresh nor usable as stale."""
        elapsed = (time.time() if now is None else now) - self.meta.fetched_at
        return math.inf if elapsed < -CLOCK_SKEW else max(0.0, elapsed)

    def get(self, kind: str, object_id: str) -> Any:
        """One object by id, or None."""
        n = self.layout.get(kind)
        if not n or not object_id:
            return None
        chunk = self.store._get(key(self.gen, "obj", kind, bucket(object_id, n))) or {}
        return chunk.get(object_id)

    def find(self, kind: str, index: str, value: str) -> list:
        """Objects of a kind whose index has this value (e.g. servers by name)."""
        n = self.layout.get(f"{kind}.{index}")
        if not n or not value:
            return []
        chunk = self.store._get(key(self.gen, "idx", kind, index, bucket(value, n))) or {}
        found = [self.get(kind, i) for i in chunk.get(value, [])]
        return [o for o in found if o is not None]

    def all(self, kind: str) -> list:
        """Every object of a kind (aggregate checks, the config generator)."""
        return list(self.store._get(key(self.gen, "all", kind)) or [])

    def inventory(self) -> Inventory:
        """The whole snapshot as an Inventory."""
        inv = Inventory(meta=self.meta)
        for kind in KINDS:
            setattr(inv, kind, self.all(kind))
        return inv
