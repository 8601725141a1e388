"""A real Icinga 2 and a real Nagios 4 for the end-to-end tests, each on a throw-away tree.

Both run our real check executables (the venv's bin directory) against the simulator, with the config
`vio-icinga` generates, and report what the monitoring core itself decided: states, state types,
reachability and the notifications it actually sent (a test notification command appends one line per
notification to a file, so "suppressed" is observed, not inferred).

Active checks are disabled globally, so nothing runs on a timer: a test drives every check itself, parents
before children (`drive`), each object re-checked until its state is HARD, through the API
(`reschedule-check` with force) or Nagios' external command file (SCHEDULE_FORCED_*_CHECK). Forced checks
run even with active checks disabled, and the core's own "re-check the parents at once" is skipped.

    icinga = Icinga2(tmp_path / "icinga2", pki, cloud.env).start()
    icinga.deploy(cloud)          # vio-icinga deploy through the config packages API, waits for the reload
    objs = icinga.drive()         # name → Obj (state, state_type, reachable, output, vars)
    objs[PREFIX].state, icinga.notified(), icinga.below(name), icinga.one("vm", vio_name="web-01")
    icinga.stop()

Nothing here knows the generator's internals: which object is which comes from the custom vars the
generated objects carry (vars.vio_kind, vio_compute_host, vio_id ...), read back from the core.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import needs

from vio_checks.icinga.https import tls_context

REPO = Path(__file__).resolve().parent.parent
ICINGA_DIR = REPO / "icinga"
BIN = Path(sys.executable).parent
ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
NAGIOS4 = shutil.which("nagios4") or "/usr/sbin/nagios4"
CHECK_DUMMY_DIR = Path("/usr/lib/nagios/plugins")
IN_CI = needs.IN_CI
#: Extra environment of the `vio-icinga deploy` runs (none; a hook for debugging a deploy by hand).
DEPLOY_ENV: dict[str, str] = {}

API_USER = "e2e"
API_PASSWORD = "e2e-not-a-secret"
#: The certificate's CN (and subjectAltName, which `icinga2 pki new-cert` sets to the CN): the API URL's host.
NODE = "localhost"

#: Object-name prefix of the generated objects (cloud "vio-sim", no region).
PREFIX = "vio-vio-sim"

#: A small cloud (31 monitored objects, so a full round of checks takes a few seconds): two clusters with two
#: VMs each; net-a behind an HA router (both L3 agents), net-b behind a single-agent router; a volume on one
#: VM per cluster.
E2E_SCENARIO = {
    "description": "vio-checks end-to-end: two clusters, four VMs, two routers, two L3 agents",
    "settings": {"neutron_backend": "ml2", "vif_type": "ovs"},
    "projects": [{"name": "admin"}, {"name": "shop"}],
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"},
                         {"binary": "nova-conductor", "host": "vio-controller-01"},
                         {"binary": "nova-compute", "host": "vio-compute-01"},
                         {"binary": "nova-compute", "host": "vio-compute-02"}],
    "hypervisors": [{"hypervisor_hostname": "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", "host": "vio-compute-01",
                     "vcpus": 64, "memory_mb": 262144, "local_gb": 4096},
                    {"hypervisor_hostname": "domain-c9.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", "host": "vio-compute-02",
                     "vcpus": 64, "memory_mb": 262144, "local_gb": 4096}],
    "volume_services": [{"binary": "cinder-scheduler", "host": "vio-controller-01"},
                        {"binary": "cinder-volume", "host": "vio-controller-01@vmdk"}],
    "networks": [{"name": "ext-net", "router:external": True, "shared": True, "project": "admin",
                  "cidr": "198.51.100.0/24"},
                 {"name": "net-a", "project": "shop", "cidr": "10.1.1.0/24"},
                 {"name": "net-b", "project": "shop", "cidr": "10.1.2.0/24"}],
    "routers": [{"name": "router-a", "project": "shop", "external_network": "ext-net", "ha": True},
                {"name": "router-b", "project": "shop", "external_network": "ext-net"}],
    "servers": [{"name": "web-01", "project": "shop", "flavor": "m1.small", "host": "vio-compute-01"},
                {"name": "db-01", "project": "shop", "flavor": "m1.small", "host": "vio-compute-01"},
                {"name": "web-02", "project": "shop", "flavor": "m1.small", "host": "vio-compute-02"},
                {"name": "db-02", "project": "shop", "flavor": "m1.small", "host": "vio-compute-02"}],
    "ports": [{"name": "web-01-eth0", "network": "net-a", "device_id": "web-01"},
              {"name": "db-01-eth0", "network": "net-b", "device_id": "db-01"},
              {"name": "web-02-eth0", "network": "net-a", "device_id": "web-02"},
              {"name": "db-02-eth0", "network": "net-b", "device_id": "db-02"},
              {"name": "", "network": "net-a", "device_id": "router-a", "device_owner": "network:router_interface",
               "ip": "10.1.1.1"},
              {"name": "", "network": "net-b", "device_id": "router-b", "device_owner": "network:router_interface",
               "ip": "10.1.2.1"}],
    "volumes": [{"name": "db-01-data", "project": "shop", "size": 10, "attachments": [{"server_id": "db-01"}]},
                {"name": "db-02-data", "project": "shop", "size": 10, "attachments": [{"server_id": "db-02"}]}],
    "agents": [{"agent_type": "L3 agent", "host": "vio-network-01", "routers": ["router-a", "router-b"]},
               {"agent_type": "L3 agent", "host": "vio-network-02", "routers": ["router-a"]},
               {"agent_type": "DHCP agent", "host": "vio-network-01"}],
}

#: Icinga 2 host / service states.
UP, DOWN = 0, 1
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
SOFT, HARD = 0, 1


def require(binary: str, packages: str) -> None:
    """Skip loudly when a monitoring core is not installed; in CI (CI=true) that is a failure."""
    needs.binary(binary, packages, "END-TO-END")


def not_run(why: str) -> None:
    """Skip loudly, saying why the end-to-end tests cannot run here; in CI (CI=true) that is a failure."""
    needs.not_run("END-TO-END", why)


def die_with_parent() -> None:
    """preexec_fn: the daemon gets SIGTERM when the process that started it dies (a test run killed by a
    timeout must not leave an icinga2 or nagios4 behind)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll until predicate() returns something truthy; return it, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process we started, by its pid; SIGKILL its own process group if it does not exit."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    # The session was created for this process (start_new_session), so its group id is its pid: this
    # reaches the workers and plugins it left behind, and nothing else.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(5)


@contextlib.contextmanager
def log_tail_on_failure(daemon):
    """The daemon's log tail printed when the block fails (pytest shows it with the failure)."""
    try:
        yield daemon
    except BaseException:
        print(daemon.log_tail())
        raise


@contextlib.contextmanager
def running(daemon):
    """The daemon (a Core or a Cluster) started for the block and stopped after it, whatever happens; its
    log tail printed when starting or the block fails."""
    try:
        with log_tail_on_failure(daemon):
            daemon.start()
            yield daemon
    finally:
        daemon.stop()


def notify_script(path: Path, log: Path) -> Path:
    """A notification command: appends its arguments as one line to `log`."""
    path.write_text(f'#!/bin/sh\nprintf \'%s\\n\' "$*" >> "{log}"\n')
    path.chmod(0o755)
    return path


# --- one parent per child --------------------------------------------------------------------------------

_DEPENDENCY = re.compile(r'^object Dependency "[^"]*" \{\n(.*?)\n\}', re.S | re.M)


def dependency_children(text: str) -> dict[str, list[str]]:
    """child → its parents, from the Dependency objects of a generated Icinga 2 file (`host` or
    `host!service`, as Icinga names them)."""
    out: dict[str, list[str]] = {}
    for body in _DEPENDENCY.findall(text):
        f = dict(re.findall(r'^\s*(\w+) = "([^"]*)"$', body, re.M))
        child = f["child_host_name"] + (f"!{f['child_service_name']}" if "child_service_name" in f else "")
        parent = f["parent_host_name"] + (f"!{f['parent_service_name']}" if "parent_service_name" in f else "")
        out.setdefault(child, []).append(parent)
    return out


def assert_one_parent_each(source) -> dict[str, str]:
    """Every Dependency child has exactly one parent and no Dependency has a redundancy_group: the file
    means the same on Icinga 2.13 and 2.14. `source`: a generated file's text, or a running Icinga2 (its
    Dependency objects as loaded, read through the API). Returns child → parent."""
    if isinstance(source, str):
        assert not re.search(r"^\s*redundancy_group\s*=", source, re.M), "a redundancy_group was generated"
        children = dependency_children(source)
    else:
        children = {}
        # every attribute: naming redundancy_group would be a 400 on 2.13, which has no such attribute
        data = source.api("GET", "/v1/objects/dependencies")
        for r in data["results"]:
            a = r["attrs"]
            assert not a.get("redundancy_group"), f"{r['name']} has a redundancy_group"
            child = a["child_host_name"] + (f"!{a['child_service_name']}" if a.get("child_service_name") else "")
            parent = a["parent_host_name"] + (f"!{a['parent_service_name']}" if a.get("parent_service_name") else "")
            children.setdefault(child, []).append(parent)
    assert children, "no Dependency at all"
    several = {c: ps for c, ps in children.items() if len(ps) != 1}
    assert not several, f"children with more than one parent: {several}"
    return {c: ps[0] for c, ps in children.items()}


# --- Icinga 2 ----------------------------------------------------------------------------------------


def notification_conf(notify: Path) -> str:
    """The test user, and a notification of every host and service problem through `notify` (one line
    per notification in its log): what `notified()` reads."""
    return f"""
object User "e2e" {{ enable_notifications = true }}
object NotificationCommand "e2e-host" {{
  command = [ "{notify}", "$host.name$", "$notification.type$", "$host.state$" ]
}}
object NotificationCommand "e2e-service" {{
  command = [ "{notify}", "$host.name$!$service.name$", "$notification.type$", "$service.state$" ]
}}
apply Notification "e2e" to Host {{
  command = "e2e-host"
  users = [ "e2e" ]
  interval = 0
  assign where true
}}
apply Notification "e2e" to Service {{
  command = "e2e-service"
  users = [ "e2e" ]
  interval = 0
  assign where true
}}
"""


def state_defines(root: Path) -> list[str]:
    """`-D` overrides that keep every file icinga2 writes (state, logs, crash reports, pid) under root."""
    out = []
    for const, sub in (("DataDir", "data"), ("CacheDir", "cache"), ("LogDir", "log"), ("InitRunDir", "run"),
                       ("SpoolDir", "spool")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        out.append(f"-D{const}={root / sub}")
    return out


def user_defines() -> list[str]:
    """Run as whoever runs the tests (root in CI), not as the packaged `nagios` user."""
    return [f"-DRunAsUser={_user()}", f"-DRunAsGroup={_group()}"]


def make_pki(root: Path, nodes: Iterable[str] = (NODE,), icinga2: Sequence[str] = (ICINGA2,)) -> Path:
    """A CA and a certificate per node (CN = node name), made by icinga2 itself (`pki new-ca` / `new-cert` /
    `sign-csr`); the 4096-bit keys are generated in parallel. `icinga2` is the command that runs the binary
    (another release's, e.g. through `tools/debroot run`)."""
    data = root / "data"
    (root / "certs").mkdir(parents=True, exist_ok=True)
    defines = [*state_defines(root), f"-DNodeName={NODE}", *user_defines()]

    def run(commands: list[list[str]]) -> None:
        procs = [(cmd, subprocess.Popen([*icinga2, *cmd, *defines], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)) for cmd in commands]
        for cmd, proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"icinga2 {' '.join(cmd)} failed:\n{out}"

    path = {(node, ext): str(root / "certs" / f"{node}.{ext}") for node in nodes for ext in ("key", "csr", "crt")}
    run([["pki", "new-ca"],
         *(["pki", "new-cert", "--cn", n, "--key", path[n, "key"], "--csr", path[n, "csr"]] for n in nodes)])
    run([["pki", "sign-csr", "--csr", path[n, "csr"], "--cert", path[n, "crt"]] for n in nodes])
    shutil.copy(data / "ca" / "ca.crt", root / "certs" / "ca.crt")
    return root / "certs"


@dataclass
class Obj:
    """One host or service as the core sees it."""

    name: str  # host name, or host!service
    type: str  # "Host" / "Service"
    state: int
    state_type: int
    reachable: bool
    last_check: float
    output: str
    vars: dict = field(default_factory=dict)
    attempt: int = 1
    checked: bool = True

    @property
    def host(self) -> str:
        return self.name.split("!", 1)[0]

    @property
    def problem(self) -> bool:
        return self.state != 0

    @property
    def hard(self) -> bool:
        return self.state_type == HARD

    def __str__(self) -> str:
        kind = "HARD" if self.hard else "SOFT"
        reach = "reachable" if self.reachable else "UNREACHABLE"
        return f"{self.name}: state {self.state} {kind} {reach} - {self.output.splitlines()[0] if self.output else ''}"


class Core:
    """What the Icinga 2 and Nagios 4 harnesses share: the driving loop and the notification log."""

    notify_log: Path
    timings: dict[str, float]
    root: Path
    proc: subprocess.Popen | None = None
    LOGS: tuple[str, ...] = ()  # files below root whose tail explains a failure

    # the daemon's lifecycle
    def start(self) -> Core:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def __enter__(self) -> Core:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in self.LOGS:
            path = self.root / name
            if path.exists():
                text += f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    # implemented by each core
    def objects(self) -> dict[str, Obj]:
        raise NotImplementedError

    def parents(self) -> dict[str, set[str]]:
        raise NotImplementedError

    def force(self, names: list[str]) -> None:
        raise NotImplementedError

    # shared

    def levels(self) -> list[list[str]]:
        """Every object by depth in the dependency graph (roots first): the order to check them in."""
        if getattr(self, "_levels", None) is None:
            self._levels = self._compute_levels()
        return self._levels

    def _compute_levels(self) -> list[list[str]]:
        parents = self.parents()
        depth: dict[str, int] = {}

        def d(name: str, seen: frozenset = frozenset()) -> int:
            if name not in depth:
                assert name not in seen, f"dependency cycle through {name}"
                depth[name] = 1 + max((d(p, seen | {name}) for p in parents.get(name, ())), default=-1)
            return depth[name]

        for name in self.last_checks():
            d(name)
        out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name, level in depth.items():
            out[level].append(name)
        return [sorted(level) for level in out]

    def last_checks(self) -> dict[str, float]:
        """name → time of its last check result (cheaper than objects() where a core allows)."""
        return {n: o.last_check for n, o in self.objects().items()}

    def check(self, names: list[str], timeout: float = 60) -> dict[str, Obj]:
        """Force one check of each object now and wait for all results."""
        last = self.last_checks()
        missing = set(names) - set(last)
        assert not missing, f"not in the core: {sorted(missing)}"
        before = {n: last[n] for n in names}
        self.force(names)

        def done():
            now = self.last_checks()
            return all(now[n] > before[n] for n in names)

        wait_for(done, timeout, f"check results of {len(names)} objects", interval=0.1)
        return self.objects()

    def settle(self, names: list[str], max_rounds: int = 12) -> None:
        """Check the objects until each is OK or in a HARD problem state."""
        pending = list(names)
        for _ in range(max_rounds):
            if not pending:
                return
            objs = self.check(pending)
            pending = [n for n in pending if objs[n].problem and not objs[n].hard]
        raise AssertionError(f"still SOFT after {max_rounds} checks: {pending}")

    def drive(self, only: Iterable[str] | None = None) -> dict[str, Obj]:
        """Every check (or those named), parents first, each until HARD; then the notifications' settling."""
        start = time.monotonic()
        wanted = set(only) if only is not None else None
        for level in self.levels():
            names = [n for n in level if wanted is None or n in wanted]
            if names:
                self.settle(names)
        self.quiet()
        self.timings.setdefault("drive", 0.0)
        self.timings["drive"] += time.monotonic() - start
        return self.objects()

    # passive mode: results come from `vio-icinga push`

    def push_args(self) -> list[str]:
        """Where `vio-icinga push` sends this core's results."""
        raise NotImplementedError

    def push(self, cloud, *extra: str) -> int:
        """One `vio-icinga push --once` round; returns how many results it sent, once the core took them."""
        t0 = time.monotonic()
        r = cloud.run("vio-icinga", "push", "--once", *self.push_args(), *extra,
                      env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD})
        assert r.rc in (0, 3) and r.stdout.startswith("vio-icinga push: "), f"vio-icinga push:\n{r}"
        assert "Traceback" not in r.stderr, str(r)
        sent = int(r.stdout.split()[4])
        self.taken(sent)
        self.timings["push"] = self.timings.get("push", 0.0) + time.monotonic() - t0
        return sent

    def taken(self, sent: int) -> None:
        """Wait until the core has processed the last round's results (Icinga 2's API: already done)."""

    def push_drive(self, cloud, *extra: str, max_rounds: int = 10) -> dict[str, Obj]:
        """Push rounds until no object is in a SOFT problem state (problems are resent every round, so each
        round is one more check attempt); then the notifications' settling."""
        for _ in range(max_rounds):
            self.push(cloud, *extra)
            objs = self.objects()
            if not [o for o in objs.values() if o.problem and not o.hard] and all(o.checked for o in objs.values()):
                self.quiet()
                return self.objects()
        raise AssertionError(f"still SOFT or unchecked after {max_rounds} push rounds:\n{self.report()}")

    def quiet(self, stable: float = 0.25, timeout: float = 15) -> list[str]:
        """Wait until the notification log has stopped growing (notification commands run asynchronously)."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            current = self.notifications()
            if current != last:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= stable:
                return current
            time.sleep(0.1)
        return last or []

    def notifications(self) -> list[str]:
        """One line per notification sent: `host TYPE STATE` or `host!service TYPE STATE`."""
        try:
            return [line for line in self.notify_log.read_text().splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def notified(self, kind: str = "PROBLEM") -> list[str]:
        """The object names that got a notification of this type."""
        return sorted({line.split()[0] for line in self.notifications() if line.split()[1:2] == [kind]})

    def clear_notifications(self) -> None:
        self.notify_log.write_text("")

    # queries by the generated objects' custom vars

    def find(self, kind: str | None = None, **vars_) -> list[Obj]:
        """Objects whose vars.vio_kind is `kind` and whose vars.<key> equal the given values."""
        out = []
        for obj in self.objects().values():
            if kind is not None and obj.vars.get("vio_kind") != kind:
                continue
            if all(obj.vars.get(k) == v for k, v in vars_.items()):
                out.append(obj)
        return sorted(out, key=lambda o: o.name)

    def one(self, kind: str, **vars_) -> Obj:
        found = self.find(kind, **vars_)
        assert len(found) == 1, f"expected one {kind} with {vars_}, found {[o.name for o in found]}"
        return found[0]

    def below(self, name: str) -> list[Obj]:
        """Every object that depends on `name`, transitively (services of a host included)."""
        parents = self.parents()
        children: dict[str, set[str]] = {}
        for child, ps in parents.items():
            for p in ps:
                children.setdefault(p, set()).add(child)
        seen: set[str] = set()
        stack = [name]
        while stack:
            for c in children.get(stack.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        objs = self.objects()
        return sorted((objs[n] for n in seen), key=lambda o: o.name)

    def report(self) -> str:
        """Every object and the notification log, for assertion messages."""
        lines = [str(o) for o in sorted(self.objects().values(), key=lambda o: o.name)]
        return "\n".join(lines + ["notifications:", *self.notifications()])


class Icinga2(Core):
    """`icinga2 daemon` in the foreground: API on 127.0.0.1, checker and notification features."""

    def __init__(self, root: Path, pki: Path, env: dict[str, str], icinga2: Sequence[str] = (ICINGA2,)) -> None:
        self.root = root
        self.pki = pki
        self.env = dict(env)
        #: The command that runs the icinga2 binary: this host's, or another release's through `tools/debroot run`.
        self.icinga2 = list(icinga2)
        self.node = NODE  # endpoint name = certificate CN
        self.port = 0  # set before start() to use that port (first attempt)
        self.proc: subprocess.Popen | None = None
        self.notify_log = root / "notifications.log"
        self.timings: dict[str, float] = {}
        self._opener: urllib.request.OpenerDirector | None = None
        self._levels: list[list[str]] | None = None
        self._known: dict[str, Obj] = {}
        #: Checks on Icinga's own timers (default: none run unless a test forces them), and the templates.
        self.timers = False
        self.templates = ICINGA_DIR / "templates.conf"

    # --- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.node}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.crt"

    def defines(self) -> list[str]:
        return [*state_defines(self.root), f"-DNodeName={self.node}", *user_defines()]

    def write_config(self) -> Path:
        certs = self.root / "data" / "certs"
        certs.mkdir(parents=True, exist_ok=True)
        for f in self.pki.iterdir():
            shutil.copy(f, certs / f.name)
        notify = notify_script(self.root / "notify.sh", self.notify_log)
        conf = f"""
include <itl>
const PluginDir = "{CHECK_DUMMY_DIR}"
const VioChecksDir = "{BIN}"

// Unless a test asks for timers, no check runs on its own: the tests force every check
// (reschedule-check with force=true).
object IcingaApplication "app" {{
  enable_host_checks = {str(self.timers).lower()}
  enable_service_checks = {str(self.timers).lower()}
  enable_flapping = false
  enable_perfdata = false
}}

object Endpoint "{NODE}" {{ }}
object Zone "master" {{ endpoints = [ "{NODE}" ] }}
object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {self.port}
}}
object ApiUser "{API_USER}" {{
  password = "{API_PASSWORD}"
  permissions = [ "*" ]
}}
object CheckerComponent "checker" {{ }}
object NotificationComponent "notification" {{ }}
object FileLogger "main-log" {{
  severity = "information"
  path = LogDir + "/icinga2.log"
}}

include "{ICINGA_DIR / 'commands.conf'}"
include "{self.templates}"

{notification_conf(notify)}"""
        path = self.root / "icinga2.conf"
        path.write_text(conf)
        return path

    def start(self, timeout: float = 30) -> Icinga2:
        t0 = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self.port = self.port if attempt == 0 and self.port else free_port()
            conf = self.write_config()
            out = open(self.root / "daemon.out", "ab")  # noqa: SIM115 - closed with the process
            self.proc = subprocess.Popen([*self.icinga2, "daemon", "-c", str(conf), *self.defines()],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=die_with_parent)
            out.close()
            try:
                wait_for(self._ready, timeout, "the Icinga 2 API (/v1/status)", interval=0.1)
                break
            except AssertionError:
                stop_process(self.proc)
                if attempt == 2:
                    raise AssertionError(f"icinga2 did not start:\n{self.log_tail()}") from None
        self.timings["start"] = time.monotonic() - t0
        return self

    LOGS = ("daemon.out", "log/icinga2.log")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"icinga2 exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            self.api("GET", "/v1/status/IcingaApplication", timeout=2)
            return True
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False

    # --- API ---------------------------------------------------------------------------------------

    def api(self, method: str, path: str, body=None, timeout: float = 10):
        if self._opener is None:
            context = tls_context(str(self.ca_file))  # the product's: Python 3.13 and `icinga2 pki`
            self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                                       urllib.request.ProxyHandler({}))
        token = base64.b64encode(f"{API_USER}:{API_PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method == "GET" and body is not None:
            method, headers["X-HTTP-Method-Override"] = "POST", "GET"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with self._opener.open(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")

    def app_status(self) -> dict:
        data = self.api("GET", "/v1/status/IcingaApplication")
        return data["results"][0]["status"]["icingaapplication"]["app"]

    # --- deployment through vio-icinga deploy ----------------------------------------------------

    def deploy_args(self) -> list[str]:
        return ["--api-url", self.url, "--api-user", API_USER, "--ca-file", str(self.ca_file)]

    def push_args(self) -> list[str]:
        return self.deploy_args()

    def enable_checks(self) -> None:
        """Let the checker run checks on their schedule (the harness starts with none)."""
        self.api("POST", "/v1/objects/icingaapplications/app",
                 {"attrs": {"enable_host_checks": True, "enable_service_checks": True}})

    def deploy(self, cloud, *extra: str, expect_host: str | None = None, reload_timeout: float = 60) -> None:
        """`vio-icinga deploy` for the cloud's cached inventory; waits until Icinga runs the new config."""
        t0 = time.monotonic()
        old_pid = self.worker_pid()
        r = cloud.run("vio-icinga", "deploy", *self.deploy_args(), *extra,
                      env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD, **DEPLOY_ENV})
        assert r.rc in (0, 1), f"vio-icinga deploy failed:\n{r}\n{self.log_tail()}"  # unchanged / deployed
        if "deployed" not in r.stdout:  # unchanged: nothing uploaded, no reload
            return
        self.await_reload(old_pid, expect_host, reload_timeout)
        self._levels = None
        self._known = {}
        self.timings["deploy"] = self.timings.get("deploy", 0.0) + time.monotonic() - t0

    def await_reload(self, old_pid: int | None, expect_host: str | None = None, timeout: float = 60) -> None:
        """After a deployed stage: wait until a new worker process (not `old_pid`) answers on the port, then,
        with `expect_host`, until that host is loaded. Polling during the reload itself would meet a dropped
        connection."""
        wait_for(lambda: self.worker_pid() not in (None, old_pid), timeout,
                 "Icinga to reload the deployed config", interval=0.1)
        if expect_host:
            wait_for(lambda: expect_host in self.last_checks(), 30, f"host {expect_host} after the reload")

    def worker_pid(self) -> int | None:
        try:
            return int(self.app_status()["pid"])
        except (OSError, urllib.error.URLError, ssl.SSLError, KeyError, ValueError):
            return None

    # --- objects -----------------------------------------------------------------------------------

    _ATTRS = ("__name", "state", "state_type", "last_reachable", "last_check", "last_check_result", "vars",
              "check_attempt")

    def objects(self) -> dict[str, Obj]:
        out: dict[str, Obj] = {}
        for plural, type_ in (("hosts", "Host"), ("services", "Service")):
            data = self.api("GET", f"/v1/objects/{plural}", {"attrs": list(self._ATTRS)})
            for r in data["results"]:
                a = r["attrs"]
                cr = a.get("last_check_result") or {}
                out[a["__name"]] = Obj(a["__name"], type_, int(a["state"]), int(a["state_type"]),
                                       bool(a["last_reachable"]), float(a.get("last_check") or -1),
                                       cr.get("output") or "", a.get("vars") or {}, int(a.get("check_attempt") or 1),
                                       checked=bool(cr))
        return out

    def last_checks(self) -> dict[str, float]:
        out = {}
        for plural in ("hosts", "services"):
            for r in self.api("GET", f"/v1/objects/{plural}", {"attrs": ["__name", "last_check"]})["results"]:
                out[r["attrs"]["__name"]] = float(r["attrs"].get("last_check") or -1)
        return out

    def parents(self) -> dict[str, set[str]]:
        """object → its parents: Dependency objects plus a service's own host."""
        out: dict[str, set[str]] = {}
        for name, obj in self.objects().items():
            if obj.type == "Service":
                out.setdefault(name, set()).add(obj.host)
        data = self.api("GET", "/v1/objects/dependencies", {"attrs": ["parent_host_name", "parent_service_name",
                                                                      "child_host_name", "child_service_name"]})
        for r in data["results"]:
            a = r["attrs"]
            child = a["child_host_name"] + (f"!{a['child_service_name']}" if a.get("child_service_name") else "")
            parent = a["parent_host_name"] + (f"!{a['parent_service_name']}" if a.get("parent_service_name") else "")
            out.setdefault(child, set()).add(parent)
        return out

    def _poll(self, names: list[str]) -> dict[str, Obj]:
        """Check time and state of the named objects: one small request per object type."""
        out: dict[str, Obj] = {}
        for plural, type_, wanted in (("hosts", "Host", any("!" not in n for n in names)),
                                      ("services", "Service", any("!" in n for n in names))):
            if not wanted:
                continue
            attrs = ["__name", "last_check", "state", "state_type", "last_reachable", "check_attempt"]
            for r in self.api("GET", f"/v1/objects/{plural}", {"attrs": attrs})["results"]:
                a = r["attrs"]
                out[a["__name"]] = Obj(a["__name"], type_, int(a["state"]), int(a["state_type"]),
                                       bool(a["last_reachable"]), float(a.get("last_check") or -1), "",
                                       attempt=int(a.get("check_attempt") or 1))
        self._known.update(out)
        return out

    def check(self, names: list[str], timeout: float = 60) -> dict[str, Obj]:
        """Force one check of each object now and poll until all have a newer result."""
        # Nothing runs unless forced, so the previous poll is still current (saves a request per step).
        before = dict(self._known) if set(names) <= set(self._known) else self._poll(names)
        missing = set(names) - set(before)
        assert not missing, f"not in Icinga: {sorted(missing)}"
        self.force(names)
        deadline = time.monotonic() + timeout
        while True:
            now = self._poll(names)
            if all(now[n].last_check > before[n].last_check for n in names):
                return {n: now[n] for n in names}
            if time.monotonic() > deadline:
                late = [n for n in names if now[n].last_check <= before[n].last_check]
                raise AssertionError(f"no check result within {timeout:.0f} s for {late}\n{self.log_tail()}")
            time.sleep(0.02)

    def force(self, names: list[str]) -> None:
        hosts = [n for n in names if "!" not in n]
        services = [n for n in names if "!" in n]
        for type_, filter_, items in (("Host", "host.name in names", hosts),
                                      ("Service", "service.__name in names", services)):
            if items:
                r = self.api("POST", "/v1/actions/reschedule-check",
                             {"type": type_, "filter": filter_, "filter_vars": {"names": items}, "force": True})
                assert len(r["results"]) == len(items), f"reschedule-check matched {len(r['results'])} of {len(items)}"


def _user() -> str:
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def _group() -> str:
    import grp
    return grp.getgrgid(os.getgid()).gr_name


# --- Nagios 4 ----------------------------------------------------------------------------------------


#: status.dat block → our object type.
_NAGIOS_BLOCK = re.compile(r"^(hoststatus|servicestatus) \{\n(.*?)\n\t\}", re.S | re.M)


class Nagios4(Core):
    """`nagios4` in the foreground on a throw-away tree, driven through its external command file."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = dict(env)
        self.proc: subprocess.Popen | None = None
        self.notify_log = root / "notifications.log"
        self.generated = root / "objects" / "vio.cfg"
        self.timings: dict[str, float] = {}
        self._parents: dict[str, set[str]] | None = None
        self._vars: dict[str, dict] | None = None
        self._logged_before = 0

    @property
    def command_file(self) -> Path:
        return self.root / "nagios.cmd"

    @property
    def status_file(self) -> Path:
        return self.root / "status.dat"

    def generate(self, cloud, *extra: str) -> None:
        """`vio-icinga generate --format nagios` into the tree (before start, or followed by restart)."""
        self.generated.parent.mkdir(parents=True, exist_ok=True)
        r = cloud.run("vio-icinga", "generate", "--format", "nagios", "--output", str(self.generated), *extra)
        assert r.rc in (0, 1), f"vio-icinga generate failed:\n{r}"
        self._parents = self._vars = None

    def write_config(self) -> Path:
        root = self.root
        (root / "spool").mkdir(parents=True, exist_ok=True)
        notify = notify_script(root / "notify.sh", self.notify_log)
        # Our templates, commands and time period as shipped; the contact group the templates notify is the
        # site's to define (icinga/nagios/contacts.cfg is the example): here it writes to the log.
        (root / "contacts.cfg").write_text(f"""
define command {{
    command_name    e2e-notify-host
    command_line    {notify} $HOSTNAME$ $NOTIFICATIONTYPE$ $HOSTSTATE$
}}
define command {{
    command_name    e2e-notify-service
    command_line    {notify} $HOSTNAME$!$SERVICEDESC$ $NOTIFICATIONTYPE$ $SERVICESTATE$
}}
define contact {{
    contact_name                    e2e
    host_notification_period        vio-24x7
    service_notification_period     vio-24x7
    host_notification_options       d,u,r
    service_notification_options    w,u,c,r
    host_notification_commands      e2e-notify-host
    service_notification_commands   e2e-notify-service
}}
define contactgroup {{
    contactgroup_name   vio-admins
    members             e2e
}}
""")
        (root / "resource.cfg").write_text(f"$USER1$={CHECK_DUMMY_DIR}\n$USER5$={BIN}\n")
        cfg = [*(f"cfg_file={ICINGA_DIR / 'nagios' / f}" for f in ("commands.cfg", "templates.cfg", "timeperiods.cfg")),
               f"cfg_file={root / 'contacts.cfg'}", f"cfg_file={self.generated}",
               f"resource_file={root / 'resource.cfg'}",
               f"log_file={root / 'nagios.log'}", f"status_file={self.status_file}", "status_update_interval=1",
               f"object_cache_file={root / 'objects.cache'}", f"precached_object_file={root / 'objects.precache'}",
               f"temp_file={root / 'nagios.tmp'}", f"temp_path={root}", f"lock_file={root / 'nagios.lock'}",
               f"check_result_path={root / 'spool'}", "check_result_reaper_frequency=1",
               "max_check_result_reaper_time=2",
               "retain_state_information=0", f"state_retention_file={root / 'retention.dat'}",
               "check_external_commands=1", f"command_file={self.command_file}",
               f"nagios_user={_user()}", f"nagios_group={_group()}",
               # nothing on a timer: the tests force every check
               "execute_host_checks=0", "execute_service_checks=0", "enable_flap_detection=0",
               "enable_notifications=1", "process_performance_data=0", "enable_event_handlers=0",
               "use_syslog=0", "log_notifications=1", "log_initial_states=0", "interval_length=60",
               # host checks of an unreachable host's children: no cached results, no predictive checks
               "cached_host_check_horizon=0", "cached_service_check_horizon=0",
               "enable_predictive_host_dependency_checks=0", "enable_predictive_service_dependency_checks=0",
               "soft_state_dependencies=1", "use_aggressive_host_checking=0",
               # passive mode: a DOWN result of a host whose parent is down is UNREACHABLE (README)
               "translate_passive_host_checks=1", "passive_host_checks_are_soft=0", "log_passive_checks=1",
               "illegal_object_name_chars=`~!$%^&*|'\"<>?,()=",
               "illegal_macro_output_chars=`~$&|'\"<>"]
        path = root / "nagios.cfg"
        path.write_text("\n".join(cfg) + "\n")
        return path

    def start(self, timeout: float = 30) -> Nagios4:
        t0 = time.monotonic()
        cfg = self.write_config()
        p = subprocess.run([NAGIOS4, "-v", str(cfg)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"nagios4 -v rejected the config:\n{p.stdout}{p.stderr}"
        out = open(self.root / "daemon.out", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([NAGIOS4, str(cfg)], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=die_with_parent)
        out.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"nagios4 exited with {self.proc.returncode}:\n{self.log_tail()}")
            return self.command_file.exists() and self.status_file.exists() and self._status_blocks()

        wait_for(ready, timeout, "nagios4's command file and status.dat", interval=0.1)
        self.timings["start"] = time.monotonic() - t0
        return self

    LOGS = ("daemon.out", "nagios.log")

    def push_args(self) -> list[str]:
        return ["--command-file", str(self.command_file)]

    def _passive_logged(self) -> int:
        try:
            text = (self.root / "nagios.log").read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return len(re.findall(r"\] PASSIVE (?:HOST|SERVICE) CHECK: ", text))

    def push(self, cloud, *extra: str) -> int:
        self._logged_before = self._passive_logged()
        return super().push(cloud, *extra)

    def taken(self, sent: int) -> None:
        """Nagios reads the command file asynchronously: wait until its log shows every result, then for
        a status.dat written after that."""
        want = self._logged_before + sent
        wait_for(lambda: self._passive_logged() >= want, 30, f"nagios4 to log {sent} passive results")
        done = time.time()
        wait_for(lambda: self.status_file.stat().st_mtime > done, 10, "status.dat after the results")

    def command(self, *lines: str) -> None:
        now = int(time.time())
        with open(self.command_file, "w") as f:  # a FIFO: one write per batch
            f.write("".join(f"[{now}] {line}\n" for line in lines))

    def force(self, names: list[str]) -> None:
        now = int(time.time())
        lines = []
        for n in names:
            if "!" in n:
                host, svc = n.split("!", 1)
                lines.append(f"SCHEDULE_FORCED_SVC_CHECK;{host};{svc};{now}")
            else:
                lines.append(f"SCHEDULE_FORCED_HOST_CHECK;{n};{now}")
        self.command(*lines)

    # --- status.dat and objects.cache --------------------------------------------------------------

    def _status_blocks(self) -> list[tuple[str, dict[str, str]]]:
        try:
            text = self.status_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        blocks = []
        for m in _NAGIOS_BLOCK.finditer(text):
            fields = {}
            for line in m.group(2).splitlines():
                key, _, value = line.strip().partition("=")
                fields[key] = value
            blocks.append((m.group(1), fields))
        return blocks

    def _object_cache(self) -> tuple[dict[str, set[str]], dict[str, dict]]:
        """(parents, vars) from objects.cache: host parents, servicedependencies and a service's host."""
        if self._parents is None:
            text = (self.root / "objects.cache").read_text(errors="replace")
            parents: dict[str, set[str]] = {}
            vars_: dict[str, dict] = {}
            for m in re.finditer(r"^define (\w+) \{\n(.*?)\n\t\}", text, re.S | re.M):
                kind, body = m.group(1), m.group(2)
                f: dict[str, str] = {}
                for line in body.splitlines():
                    parts = line.strip().split(None, 1)
                    if parts:
                        f[parts[0]] = parts[1] if len(parts) > 1 else ""
                custom = {k[1:].lower(): v for k, v in f.items() if k.startswith("_")}
                if kind == "host":
                    name = f["host_name"]
                    parents[name] = set(filter(None, f.get("parents", "").split(",")))
                    vars_[name] = custom
                elif kind == "service":
                    name = f"{f['host_name']}!{f['service_description']}"
                    parents.setdefault(name, set()).add(f["host_name"])
                    vars_[name] = custom
                elif kind == "servicedependency":
                    child = f"{f['dependent_host_name']}!{f['dependent_service_description']}"
                    parents.setdefault(child, set()).add(f"{f['host_name']}!{f['service_description']}")
            self._parents, self._vars = parents, vars_
        return self._parents, self._vars or {}

    def parents(self) -> dict[str, set[str]]:
        return self._object_cache()[0]

    def objects(self) -> dict[str, Obj]:
        _, vars_ = self._object_cache()
        out: dict[str, Obj] = {}
        for block, f in self._status_blocks():
            if block == "hoststatus":
                name, type_ = f["host_name"], "Host"
                # Nagios: 0 UP, 1 DOWN, 2 UNREACHABLE; as Icinga: DOWN + not reachable
                raw = int(f["current_state"])
                state, reachable = (DOWN if raw else UP), raw != 2
            else:
                name, type_ = f"{f['host_name']}!{f['service_description']}", "Service"
                state, reachable = int(f["current_state"]), True
            out[name] = Obj(name, type_, state, int(f["state_type"]), reachable, float(f["last_check"]),
                            f.get("plugin_output", ""), vars_.get(name, {}), int(f.get("current_attempt", 1)),
                            checked=f.get("has_been_checked") == "1")
        return out

    def check(self, names: list[str], timeout: float = 60) -> dict[str, Obj]:
        # status.dat's last_check has one-second resolution: make sure a new check is a later second
        objs = self.objects()
        newest = max((objs[n].last_check for n in names if n in objs), default=0)
        while time.time() < newest + 1:
            time.sleep(0.05)
        return super().check(names, timeout)


# --- the HA router story (any Icinga 2 version: 2.13 here, 2.14 in a Debian 13 root) ----------------------

#: The E2E_SCENARIO's HA router, its active and standby L3 agents (the simulator makes the first alive one
#: active), and the single-agent router that shares the active one.
HA_ROUTER, ACTIVE_AGENT, STANDBY_AGENT = "router-a", "neutron-l3-agent@vio-network-01", "neutron-l3-agent@vio-network-02"


def problem_lines(core: Core, name: str, state: str | None = None) -> list[str]:
    """The PROBLEM notifications the core sent for one object (in one state, when given)."""
    return [line for line in core.notifications() if line.split()[0] == name and line.split()[1] == "PROBLEM"
            and (state is None or line.split()[2:3] == [state])]


def ha_router_story(cloud, icinga: Icinga2) -> dict[str, float]:
    """An HA router's L3 agents on a deployed E2E_SCENARIO cloud, as Icinga itself decides (any version):

    0. healthy: everything UP/OK and quiet; the router's one parent is its l3-agents set, every Dependency
       child has one parent (no redundancy_group).
    1. the standby L3 agent dies: the router stays UP and reachable, so do the interfaces behind it; the
       l3-agents service WARNs and is the only notification.
    2. the router then goes ERROR: it is DOWN, reachable, and notified once (nothing else).
    3. the active agent dies too (the router ACTIVE again in Neutron): the l3-agents service turns CRITICAL
       and pages once; the router is unreachable and quiet, so is everything behind it; the dead active
       agent's own service (it also hosts router-b) pages once for router-b's loss.

    Returns the seconds each step took (drive included)."""
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == [], icinga.report()
    router = icinga.one("router", vio_name=HA_ROUTER).name
    agents = icinga.one("l3-agents", vio_router=HA_ROUTER).name
    parents = assert_one_parent_each(icinga)
    assert parents[router] == agents and agents not in parents, parents
    behind = [o.name for o in icinga.below(router)]
    assert behind and all(o.vars["vio_kind"] == "interface" for o in icinga.below(router)), behind
    timings["healthy"] = time.monotonic() - t0

    # 1. the standby dies
    t0 = time.monotonic()
    cloud.sim.patch("agents", STANDBY_AGENT, alive=False)
    cloud.sweep()
    objs = icinga.drive()
    a, r = objs[agents], objs[router]
    assert (a.state, a.hard, a.reachable) == (WARNING, True, True), str(a)
    assert "at risk: 1 of 2 L3 agents up" in a.output and STANDBY_AGENT in a.output, str(a)
    assert (r.state, r.reachable) == (UP, True), str(r)
    for name in behind:
        assert objs[name].state == OK and objs[name].reachable, str(objs[name])
    assert icinga.notified() == [agents], icinga.report()
    assert len(problem_lines(icinga, agents)) == 1, icinga.report()
    timings["standby dies"] = time.monotonic() - t0

    # 2. the router goes ERROR: reachable (its set is only WARNING), notified once
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.patch("routers", HA_ROUTER, status="ERROR")
    cloud.sweep()
    objs = icinga.drive()
    r = objs[router]
    assert (r.state, r.hard, r.reachable) == (DOWN, True, True), str(r)
    assert "is ERROR" in r.output, str(r)
    assert icinga.notified() == [router], icinga.report()
    assert len(problem_lines(icinga, router)) == 1, icinga.report()
    timings["router ERROR"] = time.monotonic() - t0

    # 3. both agents dead: the set is CRITICAL and pages once; the router is cut off and quiet
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.patch("routers", HA_ROUTER, status="ACTIVE")
    cloud.sim.patch("agents", ACTIVE_AGENT, alive=False)
    cloud.sweep()
    objs = icinga.drive()
    a, r = objs[agents], objs[router]
    assert (a.state, a.hard, a.reachable) == (CRITICAL, True, True), str(a)
    assert "all 2 L3 agents down" in a.output, str(a)
    assert (r.state, r.reachable) == (DOWN, False), str(r)
    own = f"{PREFIX}!{ACTIVE_AGENT}"
    assert objs[own].state == CRITICAL and objs[own].reachable, str(objs[own])
    assert icinga.notified() == sorted([agents, own]), icinga.report()
    assert len(problem_lines(icinga, agents, "CRITICAL")) == 1 and len(problem_lines(icinga, own)) == 1, \
        icinga.report()
    for name in [router, *behind]:
        assert not objs[name].reachable and not problem_lines(icinga, name), str(objs[name])
    timings["both agents dead"] = time.monotonic() - t0
    return timings


# --- the controller cluster story (any Icinga 2 version: 2.13 here, 2.14 in a Debian 13 root) ----------------

#: The nova-conductors of the story: E2E_SCENARIO's one, and a second the story adds (issue 23: "one down
#: conductor of two"). The cluster's service is keyed by binary, so the deployed config needs no change.
CONDUCTORS = ("nova-conductor@vio-controller-01", "nova-conductor@vio-controller-02")


def cluster_story(cloud, icinga: Icinga2) -> dict[str, float]:
    """The nova-conductor cluster on a deployed E2E_SCENARIO cloud, as Icinga itself decides (any version):

    0. a second conductor registers (the deployed config stays as it is: the cluster is keyed by binary);
       healthy: everything UP/OK and quiet; one service for the cluster, the parent of each nova-compute
       service (every child has one parent).
    1. one conductor of two stops: the cluster WARNs ("reduced redundancy" is not possible with two: "at
       risk: 1 of 2") and is the only notification; nothing is unreachable.
    2. both stop: nova-compute stops reporting (its state goes through nova-conductor); the cluster is
       CRITICAL "all components down" and the only notification; every nova-compute service, hypervisor
       and VM is unreachable in Icinga's own state.
    3. both start again: everything UP/OK and reachable, the cluster recovers.

    Returns the seconds each step took (drive included)."""
    timings: dict[str, float] = {}
    cloud.sim.admin("PATCH", "/_sim/settings", {"service_down_time": 0})
    t0 = time.monotonic()
    records = cloud.sim.admin("GET", "/_sim/compute_services")["compute_services"]
    listed = {f"{s['binary']}@{s['host']}" for s in records}
    for ref in CONDUCTORS:
        if ref not in listed:
            binary, host = ref.split("@")
            cloud.sim.admin("POST", "/_sim/compute_services", {"binary": binary, "host": host})
    cloud.sweep()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == [], icinga.report()
    cluster = icinga.one("cluster", vio_binary="nova-conductor").name
    computes = [o.name for o in icinga.find("compute-service")]
    parents = assert_one_parent_each(icinga)
    assert computes and all(parents[c] == cluster for c in computes), parents
    below = {o.name for o in icinga.below(cluster)}
    hypervisors = [o.name for o in icinga.find("hypervisor")]
    vms = [o.name for o in icinga.find("vm")]
    assert set(computes + hypervisors + vms) <= below, below
    timings["healthy"] = time.monotonic() - t0

    # 1. one conductor of two stops: one WARNING, nothing else
    t0 = time.monotonic()
    cloud.sim.admin("POST", f"/_sim/compute_services/{CONDUCTORS[0]}/stop")
    cloud.sweep()
    objs = icinga.drive()
    c = objs[cluster]
    assert (c.state, c.hard, c.reachable) == (WARNING, True, True), str(c)
    assert "at risk: 1 of 2 members up" in c.output and CONDUCTORS[0] in c.output, str(c)
    others = [str(o) for n, o in objs.items() if n != cluster and (o.state != 0 or not o.reachable)]
    assert not others, "\n".join(others)
    assert icinga.notified() == [cluster], icinga.report()
    assert len(problem_lines(icinga, cluster)) == 1, icinga.report()
    timings["one conductor down"] = time.monotonic() - t0

    # 2. all down: one CRITICAL notification (the cluster); its dependents unreachable and quiet
    t0 = time.monotonic()
    icinga.clear_notifications()
    cloud.sim.admin("POST", f"/_sim/compute_services/{CONDUCTORS[1]}/stop")
    cloud.sweep()
    objs = icinga.drive()
    c = objs[cluster]
    assert (c.state, c.hard, c.reachable) == (CRITICAL, True, True), str(c)
    assert "all components down: 0 of 2 members up" in c.output, str(c)
    for name in computes:
        assert objs[name].state == CRITICAL and not objs[name].reachable, str(objs[name])
    for name in hypervisors + vms:
        assert not objs[name].reachable, str(objs[name])
    assert icinga.notified() == [cluster], icinga.report()
    assert len(problem_lines(icinga, cluster, "CRITICAL")) == 1, icinga.report()
    timings["all conductors down"] = time.monotonic() - t0

    # 3. recovery
    t0 = time.monotonic()
    icinga.clear_notifications()
    for conductor in CONDUCTORS:
        cloud.sim.admin("POST", f"/_sim/compute_services/{conductor}/start")
    cloud.sweep()
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything recovered:\n" + "\n".join(bad)
    assert icinga.notified() == [], icinga.report()
    assert [line for line in icinga.notifications() if line.split()[1] == "RECOVERY"
            and line.split()[0] == cluster], icinga.report()
    timings["recovery"] = time.monotonic() - t0
    return timings
