"""vio-icinga push (bulk mode): the bulk path judges every object exactly as its executable does, the
Nagios command-file lines, change tracking, and (e2e) the submission to a real Icinga 2's API."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
from conftest import CloudEnv

from vio_checks import topology as t
from vio_checks.cache import INDEXES
from vio_checks.freshness import Result
from vio_checks.icinga import COMMANDS, bulk, push, targets
from vio_checks.icinga import cli as icli
from vio_checks.icinga import generate as g
from vio_checks.icinga import objects as o
from vio_checks.icinga.settings import RETRY_INTERVAL
from vio_checks.open_inventory import snapshot

#: Both paths read the cache without refreshing it mid-test (a refresh would change ages in the output).
FRESH = ("--max-age", "1d")


def _command(line: str) -> tuple[str, int]:
    """An external command line → (host or host!service, the state it submits)."""
    kind, *fields = line.split("] ", 1)[1].split(";")
    if kind == "PROCESS_HOST_CHECK_RESULT":
        return fields[0], int(fields[1])
    return f"{fields[0]}!{fields[1]}", int(fields[2])


def _args(cloud: CloudEnv, monkeypatch, *extra: str):
    for k in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD", "VIO_CHECKS_CACHE_DIR"):
        monkeypatch.setenv(k, cloud.env[k])
    return icli.build_parser().parse_args(["push", *extra, *FRESH])


def _bulk(args):
    result = snapshot(args, timeout=30)
    memory = Result(bulk.MemorySnapshot(result.snapshot), result.stale_reason)
    topo = o.build(memory.snapshot.inventory(), g.topology_options(args))
    return topo, bulk.Evaluator(memory, args)


def _argv(node: o.Node) -> list[str]:
    return [x for o, v in node.check.args for x in ((o,) if v is None else (o, v))]


def test_memory_snapshot_answers_like_the_cache(demo_cloud, monkeypatch):
    cloud = demo_cloud
    cloud.sweep()
    args = _args(cloud, monkeypatch, "--command-file", "/dev/null")
    snap = snapshot(args, timeout=30).snapshot
    mem = bulk.MemorySnapshot(snap)
    assert (mem.store, mem.meta, mem.gen) == (snap.store, snap.meta, snap.gen)
    for kind, indexes in INDEXES.items():
        assert mem.all(kind) == snap.all(kind)
        for obj in snap.all(kind):
            assert mem.get(kind, obj.id) == snap.get(kind, obj.id)
            for index, values in indexes.items():
                for value in values(obj):
                    if value:
                        assert mem.find(kind, index, value) == snap.find(kind, index, value)
    assert mem.get("servers", "") is None and mem.find("servers", "name", "no-such") == []
    assert mem.find("servers", "no-such-index", "x") == snap.find("servers", "no-such-index", "x") == []


# --- output formats ----------------------------------------------------------------------------------


def test_split_output_separates_perfdata_and_keeps_long_output():
    text = "VIO VM OK - web-01 is up | ram=4B;;;0 'a b''c'=1;2;3 vcpus=2\nline 2\nline 3\n"
    output, perf = bulk.split_output(text)
    assert output == "VIO VM OK - web-01 is up\nline 2\nline 3"
    assert perf == ["ram=4B;;;0", "'a b''c'=1;2;3", "vcpus=2"]
    assert bulk.split_output("VIO X OK - fine\n") == ("VIO X OK - fine", [])


def test_host_state_mapping():
    assert [bulk.host_state(c) for c in (0, 1, 2, 3)] == [0, 0, 1, 1]


def _item(key, host, service, code, text):
    out = bulk.Outcome(code, text, 1.0, 2.0)
    return targets.Item(key, host, service, code, out, out.digest)


@pytest.mark.parametrize("fifo", [False, True], ids=["file", "fifo"])
def test_nagios_command_file_lines(tmp_path, fifo):
    path = tmp_path / "nagios.cmd"
    received: list[bytes] = []
    if fifo:
        os.mkfifo(path)

        def read():
            with open(path, "rb") as f:
                received.append(f.read())

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.1)  # the reader opens first, as Nagios does
    else:
        path.write_text("")
    items = [_item("h1", "h1", None, 1, "VIO VM CRITICAL - a;b | x=1;;;0\ndetail \\ one\n"),
             _item("h1!svc", "h1", "svc", 2, "VIO VOLUME CRITICAL - v\n")]
    d = targets.NagiosTarget(str(path)).deliver(items, now=1700000000.5)
    assert d.sent == ["h1", "h1!svc"] and not d.errors
    if fifo:
        reader.join(5)
        data = received[0].decode()
    else:
        data = path.read_text()
    assert data.splitlines() == [
        "[1700000000] PROCESS_HOST_CHECK_RESULT;h1;1;VIO VM CRITICAL - a;b | x=1;;;0\\ndetail \\\\ one",
        "[1700000000] PROCESS_SERVICE_CHECK_RESULT;h1;svc;2;VIO VOLUME CRITICAL - v",
    ]


def test_nagios_fifo_without_reader_is_unavailable(tmp_path):
    path = tmp_path / "nagios.cmd"
    os.mkfifo(path)
    d = targets.NagiosTarget(str(path)).deliver([_item("h", "h", None, 0, "OK\n")])
    assert d.unavailable and "is Nagios running" in d.errors["h"] and not d.sent


def test_nagios_line_cut_to_nagios_limit():
    line = targets.nagios_line("h", "s", 0, "VIO X OK - fine | a=1\n" + "x" * 100 + "\n" * 100 + "y" * 9000, 1)
    assert len(line.encode()) <= targets.NAGIOS_MAX_LINE
    assert line.startswith("[1] PROCESS_SERVICE_CHECK_RESULT;h;s;0;VIO X OK - fine | a=1\\n")
    assert line.endswith("\\n(truncated)")


# --- rounds and change tracking --------------------------------------------------------------------


def test_tracker_sends_changes_and_refreshes_after_half_the_ttl(tmp_path):
    tr = push.Tracker(ttl=120, path=tmp_path / "state.json")
    assert tr.due("a", "d1", 1000) == (True, True)
    tr.mark("a", "d1", 1000)
    assert tr.due("a", "d1", 1030) == (False, False)
    assert tr.due("a", "d2", 1030) == (True, True)
    assert tr.due("a", "d1", 1060) == (True, False)  # ttl/2 passed: a refresh
    tr.save()
    assert oct(os.stat(tmp_path / "state.json").st_mode & 0o777) == "0o600"
    again = push.Tracker(ttl=120, path=tmp_path / "state.json")
    again.load()
    assert again.sent == {"a": ("d1", 1000.0)}
    (tmp_path / "state.json").write_text("{garbage")
    again.load()
    assert again.sent == {}


def _every_round(topo: o.Objects, problems: set[str]) -> set[str]:
    """What push sends every round: the cloud host, each problem and everything below one."""
    below = {n.key for p in problems if p in topo.nodes for n in topo.descendants(p)}
    return {topo.prefix, *problems, *below}


def test_once_rounds_with_the_command_file(demo_cloud, tmp_path, monkeypatch):
    """Two --once runs: the first sends every object (hosts, services, Nagios' state services), parents
    first; the second only the cloud host (the heartbeat) and the problems (kept fresh every round: the
    demo cloud has faults); --full sends everything again."""
    cloud = demo_cloud
    cloud.sweep()
    cmd = tmp_path / "nagios.cmd"
    cmd.write_text("")
    first = cloud.run("vio-icinga", "push", "--command-file", str(cmd), "--once", *FRESH)
    assert first.rc == 0, str(first)
    lines = cmd.read_text().splitlines()
    total = int(first.stdout.split()[2])
    assert first.stdout.startswith(f"vio-icinga push: {total} objects, {total} sent ({total} changed), 0 errors")
    assert len(lines) == total and len(first.stdout.splitlines()) == 1
    assert any(";state;" in line for line in lines)
    state_files = list(cloud.cache_dir.glob("*/push-state-*.json"))
    assert len(state_files) == 1 and oct(state_files[0].stat().st_mode & 0o777) == "0o600"
    second = cloud.run("vio-icinga", "push", "--command-file", str(cmd), "--once", *FRESH)
    assert second.rc == 0, str(second)
    sent = int(second.stdout.split()[4])
    parsed = [_command(line) for line in lines]
    root = parsed[0][0]
    assert root.startswith("vio-") and "!" not in root  # parents first: the cloud host leads
    problems = [key for key, code in parsed if code != 0]
    assert 0 < len(problems) < total // 2
    again = [key for key, _ in map(_command, cmd.read_text().splitlines()[total:])]
    topo, _ = _bulk(_args(cloud, monkeypatch, "--command-file", "/dev/null"))
    nodes = {k.removesuffix("!state") for k in problems}  # Nagios' state service stands for its host
    # a host whose state service alone is a problem (a WARNING VM: UP, its state service WARNING, e.g. a
    # load balancer member's VM) is not sent again unless it changed: what is below it is
    below = {n.key for p in nodes if p in topo.nodes for n in topo.descendants(p)}
    expected = {k for k, _ in parsed if k in (root, *problems) or k.removesuffix("!state") in below}
    assert again[0] == root and sorted(again) == sorted(expected) and sent == len(again) < total
    full = cloud.run("vio-icinga", "push", "--command-file", str(cmd), "--once", "--full", *FRESH)
    assert f"{total} sent" in full.stdout


def test_exit_codes(demo_cloud, tmp_path):
    cloud = demo_cloud
    missing = cloud.run("vio-icinga", "push", "--command-file", str(tmp_path / "none"), "--once", *FRESH)
    assert missing.rc == 3 and "0 sent" in missing.stdout and "Traceback" not in missing.stderr
    no_pw = cloud.run("vio-icinga", "push", "--api-url", "https://127.0.0.1:1", "--api-user", "u", "--once")
    assert no_pw.rc == 2 and "no API password" in no_pw.stderr
    down = cloud.run("vio-icinga", "push", "--api-url", "http://127.0.0.1:1", "--api-user", "u", "--once",
                     "--retries", "0", *FRESH, env={"VIO_ICINGA_API_PASSWORD": "x"})
    assert down.rc == 3 and "0 sent" in down.stdout and "cannot reach" in down.stderr, str(down)
    assert "Traceback" not in down.stderr


# --- e2e: a real Icinga 2 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def icinga_pki(tmp_path_factory):
    from icinga_e2e import ICINGA2, make_pki, require

    require(ICINGA2, "icinga2-bin icinga2-common")
    return make_pki(tmp_path_factory.mktemp("icinga-pki"))


def _results(icinga) -> dict[str, dict]:
    out = {}
    for plural in ("hosts", "services"):
        data = icinga.api("GET", f"/v1/objects/{plural}",
                          {"attrs": ["__name", "state", "last_check_result", "next_check"]})
        for r in data["results"]:
            out[r["attrs"]["__name"]] = r["attrs"]
    return out


_SUMMARY = re.compile(r"^vio-icinga push: (?P<objects>\d+) objects, (?P<sent>\d+) sent \((?P<changed>\d+) "
                      r"changed\), (?P<errors>\d+) errors, [\d.]+ s \(cpu [\d.]+ s, (?P<requests>\d+) requests\)$")


def _summary(stdout: str) -> dict[str, int]:
    m = _SUMMARY.match(stdout.strip())
    assert m, stdout
    return {k: int(v) for k, v in m.groupdict().items()}


@pytest.mark.e2e
def test_push_to_real_icinga2(make_cloud, icinga_pki, tmp_path, monkeypatch):
    """After one --once round every Icinga object carries our output, perfdata, state and check_source
    (the object-name shortcut of process-check-result works on this Icinga); a second round sends only what
    changed, one request per object sent."""
    import copy

    from icinga_e2e import API_PASSWORD, E2E_SCENARIO, PREFIX, Icinga2, running

    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", icinga_pki, cloud.env)
    with running(icinga):
        icinga.deploy(cloud, expect_host=PREFIX)
        cloud.sim.patch("routers", "router-b", status="ERROR")
        cloud.sweep()
        argv = ["push", *icinga.deploy_args(), "--check-source", "push-e2e", "--once", "-v", *FRESH]
        env = {"VIO_ICINGA_API_PASSWORD": API_PASSWORD}
        first = cloud.run("vio-icinga", *argv, env=env)
        assert first.rc == 0, f"{first}\n{icinga.log_tail()}"
        s1 = _summary(first.stdout)
        got = _results(icinga)
        assert s1["objects"] == s1["sent"] == s1["requests"] == len(got) and s1["errors"] == 0

        topo, ev = _bulk(_args(cloud, monkeypatch, "--command-file", "/dev/null"))
        for node in topo.sorted_nodes():
            mine = ev.evaluate(node)
            output, perf = bulk.split_output(mine.text)
            cr = got[node.key]["last_check_result"]
            assert cr["check_source"] == "push-e2e", node.key
            if node.kind != t.CLOUD:  # the discovery host's output carries the inventory's age
                assert (cr["output"], cr["performance_data"] or []) == (output, perf), node.key
            state = got[node.key]["state"]  # hosts: 0 UP / 1 DOWN; services: 0..3
            assert state == (bulk.host_state(mine.code) if node.is_host else mine.code), node.key
            assert cr["execution_end"] >= cr["execution_start"] > 0
            if state == 0:
                # the cloud host is the heartbeat (3 intervals), the rest lasts the ttl (default 10 min)
                assert cr["ttl"] == (180 if node.kind == t.CLOUD else 600), node.key
                # the ttl defers Icinga's own check of an OK leaf: its executable runs when push stops
                if node.kind in (t.VM, t.INTERFACE, t.VOLUME):
                    assert got[node.key]["next_check"] >= cr["execution_end"] + 100, node.key
            else:
                # a problem never delays the next check attempt beyond the retry interval (30 s): a fixed
                # fault is seen as soon as Icinga's own schedule would see it, not a ttl later
                assert cr["ttl"] == RETRY_INTERVAL, node.key
                assert got[node.key]["next_check"] <= cr["execution_end"] + RETRY_INTERVAL + 1, node.key
        assert any(a["state"] != 0 for a in got.values())  # problems reached Icinga too

        second = cloud.run("vio-icinga", *argv, env=env)
        assert second.rc == 0, str(second)
        s2 = _summary(second.stdout)
        problems = {k for k, v in got.items() if v["state"] != 0}
        assert s2["sent"] == s2["requests"] == len(_every_round(topo, problems)) < s1["sent"] / 2
        assert s2["errors"] == 0

        cloud.sim.patch("routers", "router-b", status="ACTIVE")
        cloud.sweep()
        third = cloud.run("vio-icinga", *argv, env=env)
        s3 = _summary(third.stdout)
        assert third.rc == 0 and 1 <= s3["changed"] <= s3["sent"] < s1["sent"] / 2, str(third)
        router = next(n for n in topo.nodes.values() if n.kind == t.ROUTER and n.display_name == "router-b")
        assert _results(icinga)[router.key]["state"] == 0


# --- the Icinga 2 client against a scripted HTTP server ---------------------------------------------


class _Api:
    """A scripted stand-in for Icinga's process-check-result: HTTP/1.1 keep-alive, statuses from a list."""

    def __init__(self, statuses: list[int]) -> None:
        import http.server
        import json

        api = self
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        self.connections = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with api.lock:
                    api.connections += 1

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with api.lock:
                    status = api.statuses.pop(0) if api.statuses else 200
                    if status == 200:
                        api.bodies.append(body)
                payload = json.dumps({"results": [{"code": 200, "status": "ok"}]} if status == 200 else
                                     {"error": status, "status": "busy"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _items(n: int) -> list[targets.Item]:
    return [_item(f"h{i}!s", f"h{i}", "s", i % 4, f"VIO X OK - {i} | a={i}\nlong\n") for i in range(n)]


def test_icinga_client_keep_alive_concurrency_and_retries():
    api = _Api([503, 423])
    delays: list[float] = []
    try:
        target = targets.IcingaTarget(api.url, "u", "p", check_source="me", ttl=300, concurrency=3,
                                   retries=3, backoff=0.5, sleep=delays.append)
        d = target.deliver(_items(30))
        assert len(d.sent) == 30 and not d.errors
        assert d.requests == 32  # one per object, plus the two busy answers retried
        assert delays == [0.5, 1.0] or sorted(delays) == [0.5, 0.5]  # backoff per request
        assert api.connections <= 3  # keep-alive: one connection per worker
        body = next(b for b in api.bodies if b.get("service") == "h5!s")
        assert body == {"type": "Service", "service": "h5!s", "exit_status": 1, "plugin_output": "VIO X OK - 5\nlong",
                        "performance_data": ["a=5"], "check_source": "me", "execution_start": 1.0,
                        "execution_end": 2.0, "ttl": 300}
        host = target.body(_item("h", "h", None, 1, "VIO VM CRITICAL - x\n"))
        assert (host["type"], host["host"], host["exit_status"]) == ("Host", "h", 1)
    finally:
        api.close()


def test_icinga_client_gives_up_and_reports_rejections():
    api = _Api([503] * 10 + [404])
    try:
        target = targets.IcingaTarget(api.url, "u", "p", check_source="me", ttl=60, concurrency=1, retries=2,
                                   backoff=0.01, sleep=lambda s: None)
        d = target.deliver(_items(1))
        assert d.unavailable and "gave up after 3 attempts" in d.errors["h0!s"] and d.requests == 3
        api.statuses = [404]
        d = target.deliver(_items(1))
        assert not d.unavailable and "no such object" in d.errors["h0!s"]
        api.statuses = [401]
        with pytest.raises(targets.TargetError) as e:
            target.deliver(_items(2))
        assert e.value.code == 2 and "--api-user" in str(e.value)
    finally:
        api.close()


def test_loop_mode_rounds_and_sigterm(demo_cloud, tmp_path):
    """--interval loops with one summary line per round, tracks changes in memory (no state file), and
    ends with exit 0 on SIGTERM."""
    import signal
    import subprocess

    cloud = demo_cloud
    cloud.sweep()
    cmd = tmp_path / "nagios.cmd"
    cmd.write_text("")
    proc = subprocess.Popen(cloud.command("vio-icinga", "push", "--command-file", str(cmd), "--interval", "0.3s", "--ttl", "1h",
                                          *FRESH), env=cloud.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert all(line.startswith("vio-icinga push: ") for line in lines), lines
    total = int(lines[0].split()[2])
    assert f"{total} sent" in lines[0]
    # unchanged: the heartbeat and the problems only, and only the age of the cloud host's output changes
    assert all(int(line.split()[4]) < total // 2 and "(1 changed)" in line for line in lines[1:]), lines
    assert not list(cloud.cache_dir.glob("*/push-state-*.json")) and "Traceback" not in err


class _FakeSnap:
    """An in-memory stand-in for cache.Snapshot over an Inventory (no store: EventLog readers fail)."""

    def __init__(self, inv):
        self.inv, self.meta, self.store, self.gen, self.layout = inv, inv.meta, None, 1, {}

    def age(self, now=None):
        return max(0.0, (time.time() if now is None else now) - self.meta.fetched_at)

    def all(self, kind):
        return list(self.inv.of_kind(kind))


def test_a_failure_while_judging_one_object_is_unknown_not_a_failed_round(monkeypatch):
    from icinga_helpers import small_inventory

    from vio_checks.checks import base

    inv = small_inventory()
    ev = bulk.Evaluator(Result(bulk.MemorySnapshot(_FakeSnap(inv))))
    topo = o.build(inv)
    hv = next(n for n in topo.nodes.values() if n.kind == t.HYPERVISOR)
    assert ev.evaluate(hv).code in (0, 1, 2)  # judged normally

    def broken(title, verdict):
        raise RuntimeError("boom")

    monkeypatch.setattr(base, "render_verdict", broken)
    out = ev.evaluate(hv)
    assert (out.code, out.text) == (3, "VIO HYPERVISOR UNKNOWN - internal error: RuntimeError: boom\n")


def test_generated_arguments_read_by_the_fast_path_as_argparse_reads_them(demo_cloud, monkeypatch):
    """Push, rootcause and the executables read a node's arguments with one function (check_args: the fast
    path, else argparse). For every node of the demo cloud the fast path takes its command line and gives
    exactly the namespace parse_args gives; anything unusual it leaves to argparse."""
    from vio_checks.checks.base import build_parser, check_options
    from vio_checks.icinga import spec_for
    from vio_checks.options import parse_fast

    cloud = demo_cloud
    cloud.sweep()
    topo, _ = _bulk(_args(cloud, monkeypatch, "--command-file", "/dev/null"))
    taken = 0
    for node in topo.sorted_nodes():
        if node.check.command not in COMMANDS:
            continue
        spec = spec_for(node.check.command)
        fast = parse_fast(check_options(spec), _argv(node))
        assert fast is not None, node.key
        assert vars(fast) == vars(build_parser(spec).parse_args(_argv(node))), node.key
        taken += 1
    assert taken > len(topo.nodes) // 2
    options = check_options(spec_for("vio_vm"))
    assert parse_fast(options, ["--id", "-x"]) is None  # argparse would read an option
    assert parse_fast(options, ["--id", "a", "--name", "b"]) is None  # exclusive
    assert parse_fast(options, ["--no-such-option", "a"]) is None


def test_read_response_forms():
    """The pusher's HTTP/1.1 response reader: length, chunked, Connection: close, HTTP/1.0, a closed
    keep-alive connection (RemoteDisconnected: the caller reconnects) and garbage."""
    import http.client
    import io

    def read(raw: bytes):
        return targets.read_response(io.BufferedReader(io.BytesIO(raw)))

    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}") == \
        (200, b"{}", False)
    assert read(b"HTTP/1.1 503 Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n") == \
        (503, b"", True)
    assert read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n") == \
        (200, b"abcde", False)
    assert read(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx") == (200, b"x", True)
    assert read(b"HTTP/1.1 200 OK\r\n\r\nuntil close") == (200, b"until close", True)
    with pytest.raises(http.client.RemoteDisconnected):
        read(b"")
    with pytest.raises(http.client.BadStatusLine):
        read(b"SSH-2.0-OpenSSH\r\n")
    with pytest.raises(http.client.IncompleteRead):
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")


def test_a_refused_round_is_a_refused_round(demo_cloud):
    """A 401 while a level is being sent (in the background, while the next is judged) ends the round with
    exit 2 and the API's reason, as a 401 on the first request always did: never '0 errors', never a
    traceback."""
    cloud = demo_cloud
    cloud.sweep()
    api = _Api([401] * 1000)
    try:
        r = cloud.run("vio-icinga", "push", "--api-url", api.url, "--api-user", "u", "--once", *FRESH,
                      env={"VIO_ICINGA_API_PASSWORD": "wrong"})
    finally:
        api.close()
    assert r.rc == 2 and "HTTP 401" in r.stderr and "check --api-user and the password" in r.stderr, str(r)
    assert "Traceback" not in r.stderr + r.stdout and "0 errors" not in r.stdout


@pytest.mark.parametrize("mode", ["active", "passive"])
def test_a_problem_never_delays_the_next_check_beyond_its_retry_interval(demo_cloud, mode):
    """Icinga 2 sets next_check = now + ttl for a pushed result. Active objects (the default): an OK result
    postpones the executable by the ttl (the cloud host by its heartbeat), a problem's (not OK / UP) by at
    most the template's retry interval, so a fixed fault is seen 30 s later, not 10 min. Passive objects:
    every result lasts its freshness (their stale check, not an executable, is what runs)."""
    cloud = demo_cloud
    cloud.sweep()
    api = _Api([])
    try:
        r = cloud.run("vio-icinga", "push", "--api-url", api.url, "--api-user", "u", "--once", "--mode", mode,
                      *FRESH, env={"VIO_ICINGA_API_PASSWORD": "pw"})
    finally:
        api.close()
    assert r.rc == 0, str(r)
    problems = [b for b in api.bodies if b["exit_status"] != 0]
    fine = [b for b in api.bodies if b["exit_status"] == 0]
    assert problems and fine  # the demo cloud has faults
    roots = [b for b in api.bodies if b["type"] == "Host" and b["ttl"] == 180]  # the cloud host
    assert len(roots) == 1 and roots[0]["exit_status"] == 0 and "!" not in roots[0]["host"]
    root = roots[0]
    assert {b["ttl"] for b in fine if b is not root} == {600}
    assert {b["ttl"] for b in problems} == ({RETRY_INTERVAL} if mode == "active" else {600})


def test_no_inventory_problems_keep_the_retry_interval(tmp_path):
    """Without an inventory every object pushed before is UNKNOWN (a host DOWN): a problem, so in active
    mode its ttl is the retry interval too."""
    args = icli.build_parser().parse_args(["push", "--command-file", "/dev/null", "--os-cloud", "demo",
                                          "--cache-dir", str(tmp_path)])
    tracker = push.Tracker(600)
    tracker.sent = {"vio-demo": ("x", 0.0), "vio-demo-vm-1": ("x", 0.0), "vio-demo-vm-1!port-1": ("x", 0.0)}
    tracker.root = "vio-demo"
    items = push.unavailable_items(args, tracker, "no inventory: test", push.settings_of(args), False)
    assert {i.key: (i.code, i.ttl) for i in items} == {
        "vio-demo": (1, RETRY_INTERVAL), "vio-demo-vm-1": (1, RETRY_INTERVAL),
        "vio-demo-vm-1!port-1": (3, RETRY_INTERVAL)}
