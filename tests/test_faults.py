"""Faults that must end in one clear answer: bad options, hangs, distrusted sweeps, dead sweepers, full disks.

Each test names the fault it covers; README's "Failure behaviour" table points here. Check behaviour is
tested as Icinga runs it: the installed commands against the simulator through the real openstacksdk.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from vio_sim import Simulator

# --- bad options -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "-5", "1001", "many"])
def test_page_size_out_of_range_is_a_bad_option(healthy_cloud, size):
    r = healthy_cloud.run("vio-discover", "--page-size", size)
    assert r.rc == 2, str(r)
    assert "--page-size" in r.stderr and "Traceback" not in r.stderr
    assert not (healthy_cloud.cache_dir.exists() and any(healthy_cloud.cache_dir.iterdir())), "no sweep ran"


@pytest.mark.parametrize("value", ["99999999999d", "0", "1e400", "9" * 400])
def test_absurd_timeouts_are_bad_options(healthy_cloud, value):
    r = healthy_cloud.run("check_vio_vm", "-t", value)
    assert r.rc == 3 and r.status.startswith("VIO VM UNKNOWN - bad option"), str(r)
    assert "Traceback" not in r.stdout + r.stderr
    for cmd in (("vio-discover", "-t", value), ("vio-icinga", "generate", "--output", "-", "-t", value)):
        r = healthy_cloud.run(*cmd)
        assert r.rc == 2 and "invalid" in r.stderr and "Traceback" not in r.stderr, str(r)


@pytest.mark.parametrize("option", ["--max-age", "--max-stale", "--event-retention"])
def test_overflowing_durations_are_bad_options(healthy_cloud, option):
    r = healthy_cloud.run("check_vio_discovery", option, "99999999999d")
    assert r.rc == 3 and "bad option" in r.status and "Traceback" not in r.stdout + r.stderr, str(r)


# --- every command ends within -t, whatever hangs ----------------------------------------------------

#: Hanging paths: the token request, and the version documents (Keystone's auth_url, Nova's root).
HANGS = {
    "token": r"^/identity/v3/auth/tokens$",
    "identity-versions": r"^/identity(/v3)?/?$",
    "compute-versions": r"^/compute(/v2\.1)?/?$",
}
COMMANDS = {
    "vio-discover": ("vio-discover", "-t", "5"),
    "check": ("check_vio_vm", "-t", "5"),
    "generate": ("vio-icinga", "generate", "--output", "-", "-t", "5"),
}


@pytest.mark.parametrize("hang", sorted(HANGS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hanging_keystone_or_version_discovery_ends_within_t(healthy_cloud, hang, command):
    healthy_cloud.sim.fault(path=HANGS[hang], hang=True)
    started = time.monotonic()
    r = healthy_cloud.run(*COMMANDS[command], timeout=30)
    took = time.monotonic() - started
    assert took < 6.5, f"{took:.1f} s\n{r}"
    out = (r.stdout + r.stderr).strip()
    assert "Traceback" not in out and "timed out" in out, str(r)
    # keystoneauth tolerates a silent compute version document: the message names the request that hung.
    label = "GET /compute" if hang == "compute-versions" else "keystone:"
    if command == "check":
        assert r.rc == 3 and r.status.startswith("VIO VM UNKNOWN - ") and label in r.status, str(r)
    else:
        assert r.rc == 2 and len(r.stderr.strip().splitlines()) == 1 and label in r.stderr, str(r)


# --- messages ----------------------------------------------------------------------------------------


def test_wrong_password_says_keystone_and_names_the_cloud(healthy_cloud):
    text = healthy_cloud.clouds_yaml.read_text()
    password = f'password: "{healthy_cloud.sim.password}"'
    assert password in text
    healthy_cloud.clouds_yaml.write_text(text.replace(password, 'password: "wrong-secret"'))
    r = healthy_cloud.run("vio-discover")
    assert r.rc == 2, str(r)
    assert r.stderr.strip() == ("vio-discover: sweep failed: keystone: authentication failed for cloud "
                                "vio-sim: check the credentials in clouds.yaml (HTTP 401)")
    assert "wrong-secret" not in r.stdout + r.stderr
    r = healthy_cloud.run("check_vio_discovery")
    assert r.rc == 2 and "keystone: authentication failed for cloud vio-sim" in r.status, str(r)


def test_keystone_429_is_retried_honouring_retry_after(healthy_cloud):
    healthy_cloud.sim.fault(path=r"^/identity/v3/auth/tokens$", method="POST", status=429, retry_after=1,
                            count=2)
    started = time.monotonic()
    r = healthy_cloud.run("vio-discover", "--json")
    assert r.rc == 0, str(r)
    assert time.monotonic() - started >= 2  # waited as told, twice
    assert healthy_cloud.sim.counters()["token_issues"] == 1


def test_connection_refused_keeps_the_reason(tmp_path):
    from conftest import CloudEnv

    sim = Simulator(scenario="healthy").start()
    cloud = CloudEnv(sim, tmp_path)
    sim.stop()  # nothing listens on its port any more
    r = cloud.run("vio-discover", "-t", "5")
    assert r.rc == 2, str(r)
    line = r.stderr.strip()
    assert "keystone:" in line and "cannot connect to http://127.0.0.1:" in line, line
    assert line.endswith("[Errno 111] Connection refused"), line
    assert len(line) < 400 and "Traceback" not in line


def test_long_messages_keep_their_reason():
    from vio_checks.cloud import shorten

    pool = ("Unable to establish connection to http://vio.example.com:5000/identity/v3/auth/tokens: "
            "HTTPConnectionPool(host='vio.example.com', port=5000): Max retries exceeded with url: "
            "/identity/v3/auth/tokens (Caused by NewConnectionError('<urllib3.connection.HTTPConnection "
            "object at 0x7f3e2c1d0e50>: Failed to establish a new connection: [Errno 111] Connection "
            "refused'))")
    assert shorten(pool) == "cannot connect to http://vio.example.com:5000: [Errno 111] Connection refused"
    long = "GET " + "https://vio.example.com/" + "x/" * 200 + "servers failed: the reason is here"
    short = shorten(long)
    assert len(short) <= 300 and short.endswith("the reason is here")
    words = ("word " * 100).strip() + " finally the cause"
    short = shorten(words)
    assert len(short) <= 300 and short.endswith("finally the cause") and " … " in short
    assert all(part in ("word", "…", "finally", "the", "cause") for part in short.split())


# --- endless paging ----------------------------------------------------------------------------------


def test_endless_paging_ends_with_a_clear_error(healthy_cloud):
    # A next link that never ends, each time with a new marker: no loop to detect, only a bound.
    healthy_cloud.sim.fault(path=r"^/network/v2.0/networks$", endless_paging=True)
    started = time.monotonic()
    r = healthy_cloud.run("vio-discover", "--page-size", "1000", "-t", "60")
    assert time.monotonic() - started < 60
    assert r.rc == 2, str(r)
    assert r.stderr.strip().startswith("vio-discover: sweep failed: network /networks: paging does not end "
                                       "(more than 200 pages"), str(r)


def test_endless_paging_within_t(healthy_cloud):
    healthy_cloud.sim.fault(path=r"^/network/v2.0/networks$", endless_paging=True)
    started = time.monotonic()
    r = healthy_cloud.run("check_vio_discovery", "-t", "5")
    assert time.monotonic() - started < 6.5
    assert r.rc == 2 and "network /networks" in r.status and ("timed out" in r.status or "paging" in r.status), \
        str(r)


# --- distrusted sweeps -------------------------------------------------------------------------------


def _delete_all(sim, kind):
    for obj in sim.admin("GET", f"/_sim/{kind}")[kind]:
        sim.admin("DELETE", f"/_sim/{kind}/{obj['id']}")


def test_a_sweep_that_empties_servers_is_distrusted(healthy_cloud):
    cloud = healthy_cloud
    n = len(cloud.sim.admin("GET", "/_sim/servers")["servers"])
    assert n > 0
    cloud.sweep()
    vm = cloud.sim.admin("GET", "/_sim/servers")["servers"][0]
    _delete_all(cloud.sim, "servers")  # what all_tenants lists look like to an account without admin

    r = cloud.run("vio-discover")
    assert r.rc == 2, str(r)
    assert r.stderr.startswith(f"vio-discover: sweep distrusted: servers {n} → 0 (the previous inventory is kept")
    r = cloud.run("check_vio_discovery")
    assert r.rc == 2 and f"VIO DISCOVERY CRITICAL - sweep distrusted: servers {n} → 0" in r.status, str(r)
    # The checks go on answering from the previous snapshot, saying so.
    r = cloud.run("check_vio_vm", "--id", vm["id"], "--max-age", "0")
    assert r.rc != 3 and "not found" not in r.status, str(r)
    assert "NOTE: inventory" in r.stdout and f"sweep distrusted: servers {n} → 0" in r.stdout, str(r)
    r = cloud.run("vio-discover", "--events")
    assert "deleted" not in r.stdout, str(r)

    r = cloud.run("vio-discover", "--json", "--accept-empty")
    assert r.rc == 0 and '"servers": 0' in r.stdout, str(r)
    r = cloud.run("check_vio_discovery")
    assert r.rc == 0, str(r)


# --- a killed sweeper --------------------------------------------------------------------------------


def test_a_killed_sweepers_lock_is_taken_over_at_once(healthy_cloud):
    from vio_checks.cache import Store

    cloud = healthy_cloud
    cloud.sim.fault(path=r"/servers/detail$", hang=True)
    sweeper = subprocess.Popen(cloud.command("vio-discover", "-t", "600"), env=cloud.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        store = Store(cloud.cache_dir / "vio-sim")
        for _ in range(200):  # until it holds the lock and hangs on the servers list
            if (cloud.cache_dir / "vio-sim" / "cache.db").exists() and store.locked():
                break
            time.sleep(0.05)
        assert store.locked()
        store.close()
    finally:
        sweeper.send_signal(signal.SIGKILL)
        sweeper.wait()
    cloud.sim.clear_faults()
    started = time.monotonic()
    r = cloud.run("check_vio_discovery", "-t", "20")
    assert time.monotonic() - started < 8, str(r)
    assert r.rc == 0, str(r)


def test_a_live_sweepers_lock_is_respected(tmp_path):
    from vio_checks.cache import Store

    store = Store(tmp_path / "ns")
    assert store.try_lock(60)
    assert not store.break_dead_lock()  # we are alive
    assert store.try_lock(60) is None
    # A recorded owner whose pid was reused by another process: its start time differs.
    owner = store.cache.get("lock")
    store.cache.set("lock", dict(owner, start=(owner["start"] or 0) - 1), expire=60)
    assert store.break_dead_lock() and not store.locked()
    store.close()


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
