"""Faults that must end in one clear answer: bad options, hangs, distrusted sweeps, dead sweepers, full disks.

Each test names the fault it covers; the "Failure behaviour" table of docs/operations.md points here. Check behaviour is
tested as Icinga runs it: the installed commands against the simulator through the real openstacksdk.

Every case runs with canary secrets (tests/canary.py): each cloud's password and the Icinga API password are
canaries, and after the case nothing any command printed, nor any file it left, may hold any form of them
or of a Keystone token the simulator issued.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from canary import canaries  # noqa: F401  (autouse: the canaries are looked for after every case)

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
