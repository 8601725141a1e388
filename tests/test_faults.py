"""Faults that must end in one clear answer: bad options, hangs, distrusted sweeps, dead sweepers, full disks.

Each test names the fault it covers; the "Failure behaviour" table of docs/operations.md points here. Check behaviour is
tested as Icinga runs it: the installed commands against the simulator through the real openstacksdk.

Every case runs with canary secrets (tests/canary.py): each cloud's password and the Icinga API password are
canaries, and after the case nothing any command printed, nor any file it left, may hold any form of them
or of a Keystone token the simulator issued.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import conftest
import pytest
from canary import Canaries

from vio_sim import Simulator


@pytest.fixture(autouse=True)
def canaries(monkeypatch, tmp_path):
    """Seed the canaries into every CloudEnv of the case, record every command it runs, then look for them."""
    c = Canaries()
    runs: list = []
    allowed: list = []
    init, run = conftest.CloudEnv.__init__, conftest.CloudEnv.run

    def seeded(self, sim, tmp, *args, **kwargs):
        c.seed(sim)
        init(self, sim, tmp, *args, **kwargs)
        self.env["VIO_ICINGA_API_PASSWORD"] = c.icinga_password
        allowed.append(self.clouds_yaml)  # where the password comes from

    def recorded(self, *args, **kwargs):
        r = run(self, *args, **kwargs)
        runs.append(r)
        return r

    monkeypatch.setattr(conftest.CloudEnv, "__init__", seeded)
    monkeypatch.setattr(conftest.CloudEnv, "run", recorded)
    yield c
    c.assert_clean(runs, [tmp_path], allowed=allowed)

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
    from vio_checks.errtext import shorten

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
    import signal

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


# --- secrets: none in any output, log or cache file (the canaries fixture looks) -----------------------

VERBOSITY = ("", "-v", "-vv", "-vvv")


def _each_verbosity(cloud, *command):
    return [cloud.run(*command, *([v] if v else [])) for v in VERBOSITY]


def test_auth_url_user_info_is_never_printed_nor_stored(healthy_cloud, canaries):
    import urllib.parse

    cloud = healthy_cloud
    secret = urllib.parse.quote(canaries.openstack_password, safe="")
    text = cloud.clouds_yaml.read_text()
    cloud.clouds_yaml.write_text(text.replace(f'"{cloud.sim.url}', f'"http://admin:{secret}@{cloud.sim.url[7:]}'))
    r = cloud.run("vio-discover", "--json")  # openstacksdk accepts it
    assert r.rc == 0, str(r)
    (cloud.cache_dir / "vio-sim" / "auth-state.json").unlink()
    cloud.sim.stop()  # Keystone gone: its URL goes into the error line and the stored status
    for r in [*_each_verbosity(cloud, "vio-discover", "-t", "5"),
              *_each_verbosity(cloud, "check_vio_discovery", "-t", "5", "--max-age", "0")]:
        assert "http://***@127.0.0.1:" in r.stdout + r.stderr, str(r)


def test_an_echoing_keystone_gives_no_password_away(healthy_cloud):
    # A proxy (or a service in debug mode) repeating the request, its JSON body with the password included.
    healthy_cloud.sim.fault(path=r"^/identity/v3/auth/tokens$", method="POST", status=500, echo=True)
    for r in [*_each_verbosity(healthy_cloud, "vio-discover", "-t", "5"),
              *_each_verbosity(healthy_cloud, "check_vio_discovery", "-t", "5", "--max-age", "0")]:
        assert r.rc == 2 and '"password": "***"' in r.stdout + r.stderr, str(r)



class _EchoingIcinga:
    """An Icinga API (or the proxy before it) answering every request with `status` and a body that repeats
    the request's headers, Authorization included: as JSON when `json_body`, else as a proxy's HTML page."""

    def __init__(self, status: int, json_body: bool) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _echo(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                sent = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
                if json_body:
                    body = json.dumps({"error": status, "status": f"Bad request. Headers:\n{sent}",
                                       "headers": dict(self.headers.items())}).encode()
                    kind = "application/json"
                else:
                    body = f"<html><body><h1>{status}</h1><pre>{sent}</pre></body></html>".encode()
                    kind = "text/html"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _echo

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status,json_body", [(400, True), (401, True), (500, True)])
def test_icinga_error_bodies_echoing_our_headers_are_redacted(healthy_cloud, status, json_body):
    cloud = healthy_cloud
    cloud.sweep()
    icinga = _EchoingIcinga(status, json_body)
    api = ("--api-url", icinga.url, "--api-user", "vio", "--retries", "0", "--api-timeout", "5")
    try:
        for command in (("push", "--once", *api), ("deploy", *api), ("rootcause", "web-01", *api)):
            for r in _each_verbosity(cloud, "vio-icinga", *command):
                assert r.rc != 0 and "Traceback" not in r.stderr, str(r)
    finally:
        icinga.close()


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


# --- controller clusters under the API's faults (issue 23) ------------------------------------------------


def test_a_cluster_whose_records_lack_their_state_is_unknown_never_ok(make_cloud):
    """Every conductor record without its state (a reply missing the field): none is verified up, so the
    cluster is UNKNOWN naming that, never OK, in its own check and in the aggregate."""
    from vio_sim.services import with_layout
    from vio_sim.store import load_scenario

    cloud = make_cloud(with_layout(load_scenario("healthy"), "ha"))
    cloud.sim.fault(missing_fields={"compute_services": ["state"]})
    cloud.sweep()
    r = cloud.run("check_vio_service", "--binary", "nova-conductor")
    assert r.rc == 3 and "cluster nova-conductor: none of 3 members verified up" in r.status, str(r)
    r = cloud.run("check_vio_service", "--component", "nova")
    assert r.rc == 3 and "cluster nova-conductor" in r.status, str(r)


def test_a_cluster_member_a_list_leaves_out_is_unverified_against_its_expectation(make_cloud):
    """A conductor the list leaves out (a small drop, taken for a deletion by the sweep) is not counted
    away when the cluster's size is expected: 2 of 3 up, the third not reported, WARNING, never OK."""
    from vio_sim.services import with_layout
    from vio_sim.store import load_scenario

    cloud = make_cloud(with_layout(load_scenario("healthy"), "ha"))
    conductors = [s["id"] for s in cloud.sim.admin("GET", "/_sim/compute_services")["compute_services"]
                  if s["binary"] == "nova-conductor"]
    cloud.sim.fault("/os-services", hide=[conductors[0]])
    cloud.sweep()
    r = cloud.run("check_vio_service", "--binary", "nova-conductor", "--expect", "nova-conductor=3")
    assert r.rc == 1 and "reduced redundancy: 2 of 3 members up" in r.status, str(r)
    assert "not reported" in r.status, str(r)
