"""The inventory cache and its freshness policy, in-process (freezegun moves the clock).

The sweep here is a plain function returning an Inventory: the policy is what is under test; the real
sweep through openstacksdk is tested against the simulator in test_discovery.py.
"""

import os
import sqlite3
import stat
import time

import pytest
from freezegun import freeze_time

from vio_checks.cache import Store
from vio_checks.errors import InventoryUnavailable, SweepError
from vio_checks.freshness import Freshness, obtain
from vio_checks.model import Hypervisor, Inventory, Meta, Server

T0 = "2026-11-24 10:00:00"


class FakeSweep:
    """Counts calls; returns a small inventory stamped with the current (frozen) time, or fails."""

    def __init__(self):
        self.calls = 0
        self.fail: str | None = None

    def __call__(self, deadline):
        self.calls += 1
        if self.fail:
            raise SweepError(self.fail)
        inv = Inventory(meta=Meta(cloud="c", region=None, fetched_at=time.time(), seconds=0.1, requests=7))
        inv.hypervisors = [Hypervisor(id="h1", hostname="domain-c8.x", state="up", status="enabled")]
        inv.servers = [
            Server(id=f"s{i}", name="web" if i < 2 else f"vm{i}", hypervisor_hostname="domain-c8.x")
            for i in range(5)
        ]
        return inv


def deadline():
    return time.monotonic() + 10


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ns")
    yield s
    s.close()


def test_records_and_indexes(store):
    inv = FakeSweep()(0)
    store.store(inv)
    snap = store.current()
    assert snap.get("servers", "s3").name == "vm3"
    assert sorted(s.id for s in snap.find("servers", "name", "web")) == ["s0", "s1"]
    assert len(snap.find("servers", "hypervisor", "domain-c8.x")) == 5
    assert snap.get("servers", "nope") is None
    assert snap.inventory().hypervisors[0].hostname == "domain-c8.x"


def test_generations_replace_whole_snapshots(store):
    sweep = FakeSweep()
    store.store(sweep(0))
    first = store.current()
    inv = sweep(0)
    inv.servers = inv.servers[:1]
    store.store(inv)
    # A reader that started on the first generation keeps reading it, whole.
    assert len(first.all("servers")) == 5 and first.get("servers", "s4") is not None
    assert len(store.current().all("servers")) == 1 and store.current().get("servers", "s4") is None
    for _ in range(6):
        store.store(sweep(0))
    assert first.get("servers", "s4") is None  # old generations are dropped eventually


def test_fresh_cache_is_not_refreshed(store):
    sweep = FakeSweep()
    with freeze_time(T0) as clock:
        obtain(store, Freshness(max_age=120), sweep, deadline())
        clock.tick(119)
        r = obtain(store, Freshness(max_age=120), sweep, deadline())
        assert sweep.calls == 1 and not r.swept and r.stale_reason is None
        clock.tick(2)
        r = obtain(store, Freshness(max_age=120), sweep, deadline())
        assert sweep.calls == 2 and r.swept


def test_failed_refresh_serves_stale_until_max_stale(store):
    sweep = FakeSweep()
    policy = Freshness(max_age=120, max_stale=900)
    with freeze_time(T0) as clock:
        obtain(store, policy, sweep, deadline())
        sweep.fail = "nova servers: HTTP 503"
        clock.tick(300)
        r = obtain(store, policy, sweep, deadline())
        assert r.error == "nova servers: HTTP 503"
        assert r.stale_reason == "inventory 5 min old: sweep failed: nova servers: HTTP 503"
        # Within the back-off other processes do not hammer the API again.
        clock.tick(10)
        r = obtain(store, policy, sweep, deadline())
        assert sweep.calls == 2 and "last sweep failed" in r.stale_reason
        clock.tick(600)
        with pytest.raises(InventoryUnavailable, match="past --max-stale 15 min: sweep failed: nova servers"):
            obtain(store, policy, sweep, deadline())
        sweep.fail = None
        clock.tick(60)
        assert obtain(store, policy, sweep, deadline()).swept


def test_no_inventory_and_failing_sweep(store):
    sweep = FakeSweep()
    sweep.fail = "keystone: authentication failed (401)"
    with pytest.raises(InventoryUnavailable, match="no inventory: sweep failed: keystone"):
        obtain(store, Freshness(), sweep, deadline())


def test_cache_only_never_sweeps(store):
    sweep = FakeSweep()
    with pytest.raises(InventoryUnavailable, match="--cache-only"):
        obtain(store, Freshness(cache_only=True), sweep, deadline())
    with freeze_time(T0) as clock:
        store.store(FakeSweep()(0))
        clock.tick(200)
        r = obtain(store, Freshness(cache_only=True), sweep, deadline())
        assert sweep.calls == 0 and "not refreshed (--cache-only)" in r.stale_reason


def test_waiter_gets_the_other_process_sweep(store, tmp_path):
    """While another process holds the lock, a reader waits and takes that sweep's snapshot."""
    import threading

    sweep = FakeSweep()
    token = store.try_lock(30)
    other = Store(store.directory)
    waiting = threading.Event()

    class Reader(Store):
        def locked(self) -> bool:  # the reader found the lock taken: it is about to wait
            held = super().locked()
            if held:
                waiting.set()
            return held

    def finish():
        assert waiting.wait(10)  # only once the reader waits: that is what this test is about
        other.store(FakeSweep()(0))
        other.unlock(token)

    t = threading.Thread(target=finish)
    t.start()
    r = obtain(Reader(store.directory), Freshness(), sweep, deadline())
    t.join()
    assert waiting.is_set() and sweep.calls == 0 and r.snapshot is not None and not r.swept


def test_corrupt_cache_is_moved_aside_and_rebuilt(tmp_path):
    s = Store(tmp_path / "ns")
    s.store(FakeSweep()(0))
    s.close()
    (tmp_path / "ns" / "cache.db").write_bytes(b"this is not sqlite" * 100)
    for extra in ("cache.db-wal", "cache.db-shm"):
        (tmp_path / "ns" / extra).unlink(missing_ok=True)
    sweep = FakeSweep()
    r = obtain(Store(tmp_path / "ns"), Freshness(), sweep, deadline())
    assert sweep.calls == 1 and r.swept
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]


def test_corrupt_cache_with_cache_only_is_a_clear_error(tmp_path):
    from vio_checks.errors import CacheError

    (tmp_path / "ns").mkdir()
    (tmp_path / "ns" / "cache.db").write_bytes(b"garbage" * 1000)
    with pytest.raises(CacheError, match="cache"):
        obtain(Store(tmp_path / "ns"), Freshness(cache_only=True), FakeSweep(), deadline())


def test_private_modes(tmp_path):
    os.umask(0o022)
    s = Store(tmp_path / "ns")
    s.store(FakeSweep()(0))
    assert stat.S_IMODE((tmp_path / "ns").stat().st_mode) == 0o700
    for path in (tmp_path / "ns").rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_sqlite_busy_is_not_corruption():
    from vio_checks.cache import _is_corruption

    assert not _is_corruption(sqlite3.OperationalError("database is locked"))
    assert _is_corruption(sqlite3.DatabaseError("file is not a database"))
