"""Faults of the cache and of sweeps that cannot finish: failed and killed snapshot writes, a sweep past its
budget (issue 21), a damaged namespace, a file size limit, a full disk. Each ends in one clear answer, and the
previous snapshot keeps answering where there is one.

Every case runs with canary secrets (tests/canary.py), as in tests/test_faults.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from canary import canaries  # noqa: F401  (autouse: the canaries are looked for after every case)

# --- failed and killed snapshot writes ---------------------------------------------------------------


def _files(directory):
    """Every file of a cache directory except SQLite's own."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                  if p.is_file() and not p.name.startswith("cache.db"))


def _inventory(servers=3000):
    from vio_checks.model import Inventory, Meta, Server

    inv = Inventory(meta=Meta(cloud="c", region=None, fetched_at=time.time(), seconds=0.1, requests=1))
    inv.servers = [Server(id=f"s{i}", name=f"vm{i}") for i in range(servers)]
    inv.meta.counts = {"servers": servers}
    return inv


class _Unwritable:
    """An object whose pickling fails the way a full disk fails a write."""

    id = "boom"

    def __reduce__(self):
        raise OSError(28, "No space left on device")


def test_a_failed_write_leaves_no_files_and_the_previous_snapshot(tmp_path):
    from vio_checks.cache import Store
    from vio_checks.errors import CacheError

    store = Store(tmp_path / "ns")
    store.store(_inventory())
    before = _files(store.directory)
    bad = _inventory()
    bad.endpoints = [_Unwritable()]  # written after the big server values
    with pytest.raises(CacheError, match="No space left on device"):
        store.store(bad)
    assert _files(store.directory) == before
    snap = store.current()
    assert snap.gen == 1 and snap.get("servers", "s2999").name == "vm2999"
    store.close()


def test_a_failed_write_keeps_answering_from_the_previous_snapshot(tmp_path):
    from vio_checks.cache import Store
    from vio_checks.freshness import Freshness, obtain

    store = Store(tmp_path / "ns")
    store.store(_inventory())
    bad = _inventory()
    bad.endpoints = [_Unwritable()]
    result = obtain(store, Freshness(max_age=0), lambda deadline: bad, time.monotonic() + 10, force=True)
    assert result.snapshot.gen == 1 and "sweep not stored" in result.stale_reason
    assert "No space left on device" in store.status()["error"]
    store.close()


def test_orphans_of_a_killed_write_are_removed_by_the_next_sweep(healthy_cloud):
    cloud = healthy_cloud
    cloud.sweep()
    ns = cloud.cache_dir / "vio-sim"
    # What diskcache left when a writer died between writing a value file and committing its row.
    orphan = ns / "3f" / "a2" / "0123456789abcdef0123456789abcdef.val"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"x" * 100_000)
    cloud.sweep()
    assert not orphan.exists()
    assert (ns / "auth-state.json").exists()  # our own files stay


def test_a_busy_cache_says_so(tmp_path):
    import sqlite3

    from vio_checks.cache import Store
    from vio_checks.errors import CacheError

    store = Store(tmp_path / "ns", timeout=0.2)
    store.store(_inventory(10))
    other = sqlite3.connect(str(store.directory / "cache.db"), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long transaction
    try:
        with pytest.raises(CacheError, match=r"cache busy for 0.2 s") as e:
            store.try_lock(10)
        assert "Timeout" not in str(e.value) and not e.value.corrupt
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


# --- a sweep that cannot finish in its budget (issue 21) --------------------------------------------


def _store(cloud):
    from vio_checks.cache import Store

    return Store(cloud.cache_dir / "vio-sim")


def test_a_trickling_reply_is_a_failed_sweep_served_stale_and_backed_off(healthy_cloud):
    # One byte every 0.2 s: every socket read succeeds, so no request timeout ever fires.
    cloud = healthy_cloud
    cloud.sweep()
    vm = cloud.sim.admin("GET", "/_sim/servers")["servers"][0]
    cloud.sim.fault(path=r"/servers/detail$", trickle=0.2)
    started = time.monotonic()
    r = cloud.run("check_vio_vm", "--id", vm["id"], "--max-age", "0", "-t", "10")
    assert time.monotonic() - started < 11, str(r)
    assert r.rc == 0 and "sweep failed: timed out" in r.status, str(r)  # the previous inventory answers
    assert "NOTE: inventory" in r.stdout, str(r)
    # Recorded like any failed sweep: the next check backs off instead of hanging in turn.
    cloud.sim.admin("POST", "/_sim/counters/reset")
    r = cloud.run("check_vio_vm", "--id", vm["id"], "--max-age", "0", "-t", "10")
    assert r.rc == 0 and "last sweep failed: timed out" in r.status and "retry in" in r.status, str(r)
    assert cloud.sim.counters()["total"] == 0, "no sweep during the back-off"
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and r.status.startswith("VIO DISCOVERY CRITICAL - last sweep failed at "), str(r)
    assert "timed out" in r.status, str(r)
    started = time.monotonic()
    r = cloud.run("vio-discover", "-t", "10")
    assert time.monotonic() - started < 11, str(r)
    assert r.rc == 2 and len(r.stderr.strip().splitlines()) == 1, str(r)
    assert "sweep failed: timed out: GET /compute/v2.1/servers/detail still unfinished" in r.stderr, str(r)


class _Alarm(BaseException):
    """What a command's -t alarm raises (checks.base._Alarm is one)."""


def test_a_sweep_ended_by_the_commands_alarm_is_recorded(tmp_path):
    from vio_checks.cache import Store
    from vio_checks.freshness import Freshness, obtain
    from vio_checks.runtime import guard_timeout

    store = Store(tmp_path / "ns")
    store.store(_inventory(10))
    swept = []

    def endless(deadline):
        swept.append(deadline)
        time.sleep(30)

    with pytest.raises(_Alarm), guard_timeout(0.3, _Alarm):
        obtain(store, Freshness(max_age=0), endless, time.monotonic() + 60, force=True)
    assert "timed out" in store.status()["error"]
    # The next caller backs off and serves the previous snapshot instead of sweeping (and hanging) again.
    result = obtain(store, Freshness(max_age=0), endless, time.monotonic() + 60)
    assert len(swept) == 1 and result.snapshot.gen == 1 and "retry in" in result.stale_reason
    store.close()


def test_an_inner_guard_gives_the_outer_alarm_back(tmp_path):

    from vio_checks.runtime import guard_timeout

    with guard_timeout(30, _Alarm):
        with pytest.raises(RuntimeError, match="inner"), guard_timeout(0.1, lambda: RuntimeError("inner")):
            time.sleep(5)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 0 < left <= 30  # the command's own -t still stands
        with guard_timeout(60, lambda: RuntimeError("later than the outer one: the outer one bounds")):
            assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30


def test_a_hanging_endpoint_probe_is_that_endpoints_finding(healthy_cloud):
    from vio_checks.probes import PROBE_TIMEOUT

    cloud = healthy_cloud
    # Only the block-storage endpoint's reachability probe (the version document at its catalog URL)
    # hangs; every data call answers. It is probed before the others (sorted by service type).
    cloud.sim.fault(path=r"^/volume/v3/[^/]+/?$", hang=True)
    started = time.monotonic()
    r = cloud.run("vio-discover", "-t", "10")
    assert time.monotonic() - started < 11, str(r)
    assert r.rc == 0, str(r)
    store = _store(cloud)
    endpoints = {e.service_type: e for e in store.current().all("endpoints")}
    store.close()
    assert not endpoints["block-storage"].ok and "no answer" in endpoints["block-storage"].error
    assert endpoints["block-storage"].latency <= PROBE_TIMEOUT
    assert all(e.ok for kind, e in endpoints.items() if kind != "block-storage"), endpoints
    r = cloud.run("check_vio_discovery")
    assert r.rc == 0, str(r)
    r = cloud.run("check_vio_service")
    assert r.rc == 2 and "block-storage endpoint" in r.status and "no answer" in r.status, str(r)


@pytest.mark.parametrize("auth_path", ["/identity/v3", "/identity"])
def test_keystone_refusing_its_version_document_is_named_and_bounded(healthy_cloud, auth_path):
    # keystoneauth answers a 401 on the version document by asking again with a token, which needs the
    # very auth plugin whose lock it holds: without a bound every check waited its whole -t.
    cloud = healthy_cloud
    text = cloud.clouds_yaml.read_text()
    cloud.clouds_yaml.write_text(text.replace(json.dumps(cloud.sim.auth_url),
                                              json.dumps(cloud.sim.url + auth_path)))
    cloud.sweep()
    vm = cloud.sim.admin("GET", "/_sim/servers")["servers"][0]
    (cloud.cache_dir / "vio-sim" / "auth-state.json").unlink()  # a new token is needed
    cloud.sim.fault(path=rf"^{auth_path}/?$", method="GET", status=401)
    started = time.monotonic()
    r = cloud.run("check_vio_vm", "--id", vm["id"], "--max-age", "0", "-t", "10")
    assert time.monotonic() - started < 11, str(r)
    assert r.rc == 0 and "Keystone refuses" in r.status, str(r)  # the previous inventory answers
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and r.status.startswith("VIO DISCOVERY CRITICAL - last sweep failed at "), str(r)
    assert f"keystone: Keystone refuses its version document: GET {auth_path} answered HTTP 401" in r.status
    started = time.monotonic()
    r = cloud.run("vio-discover", "-t", "10")
    assert time.monotonic() - started < 11, str(r)
    assert r.rc == 2 and "Keystone refuses its version document" in r.stderr, str(r)


# --- the cache's own pathologies ---------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["cache.db is a directory", "the namespace is a file"])
def test_a_namespace_of_the_wrong_type_is_moved_aside_and_rebuilt(healthy_cloud, damage):
    import shutil

    cloud = healthy_cloud
    cloud.sweep()
    ns = cloud.cache_dir / "vio-sim"
    if damage == "cache.db is a directory":
        for p in ns.glob("cache.db*"):
            p.unlink()
        (ns / "cache.db").mkdir()
    else:
        shutil.rmtree(ns)
        ns.write_text("not a cache")
    r = cloud.run("check_vio_discovery")
    moved = [p for p in cloud.cache_dir.iterdir() if ".corrupt-" in p.name]
    assert len(moved) == 1, str(r)
    assert r.rc == 0 and f"moved to {moved[0]}, rebuilt" in r.status, str(r)
    r = cloud.run("check_vio_discovery")
    assert r.rc == 0 and "moved" not in r.stdout, str(r)


def _limited(size):
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.parametrize("limit", [0, 16384, "cache.db"])
def test_a_file_size_limit_during_a_write_serves_the_previous_snapshot(healthy_cloud, limit):
    # RLIMIT_FSIZE (Python ignores SIGXFSZ: the write fails with EFBIG), wherever it stops the write: the
    # settings diskcache writes on opening, the lock, the snapshot. A full disk refuses writes the same way.
    cloud = healthy_cloud
    cloud.sweep()
    ns = cloud.cache_dir / "vio-sim"
    size = (ns / "cache.db").stat().st_size if limit == "cache.db" else limit
    vm = cloud.sim.admin("GET", "/_sim/servers")["servers"][0]
    for command in (("check_vio_vm", "--id", vm["id"], "--max-age", "0"),
                    ("check_vio_discovery", "--max-age", "0")):
        p = subprocess.run(cloud.command(*command), env=cloud.env, capture_output=True, text=True,
                           preexec_fn=_limited(size))
        assert p.returncode != 3 and "UNKNOWN" not in p.stdout, p.stdout + p.stderr
    assert "sweep not stored" in p.stdout or "disk I/O error" in p.stdout, p.stdout
    cloud.sweep()  # the limit gone, the cache works as before
    r = cloud.run("check_vio_vm", "--id", vm["id"])
    assert r.rc == 0 and "NOTE" not in r.stdout, str(r)


def test_a_full_disk_is_a_refused_write_not_damage(tmp_path):
    # What SQLite and the OS say when the disk is full or a limit is hit: the previous snapshot serves
    # (the file-size case above runs it for real), nothing is quarantined.
    import errno
    import sqlite3

    from vio_checks.cache import _is_corruption, _is_write_failure

    for e in (sqlite3.OperationalError("database or disk is full"), sqlite3.OperationalError("disk I/O error"),
              OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EFBIG, "File too large")):
        assert _is_write_failure(e) and not _is_corruption(e), e
    assert not _is_write_failure(sqlite3.OperationalError("database is locked"))


