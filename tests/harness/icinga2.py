"""A real Icinga 2 on a throw-away tree: `icinga2 daemon` in the foreground, its own PKI, the API on
127.0.0.1, checks forced through the API (`reschedule-check` with force), config deployed with
`vio-icinga deploy` through the config packages API, as in production.

    pki = make_pki(tmp_path / "pki")
    icinga = Icinga2(tmp_path / "icinga2", pki, cloud.env).start()
    icinga.deploy(cloud)          # waits for the reload
    objs = icinga.drive()         # name → Obj (state, state_type, reachable, output, vars)
    icinga.stop()
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from vio_checks.icinga.https import tls_context

from .core import API_PASSWORD, API_USER, BIN, CHECK_DUMMY_DIR, ICINGA_DIR, Core, Obj
from .process import (
    die_with_parent,
    free_port,
    notify_script,
    run_as_group,
    run_as_user,
    stop_process,
    wait_for,
)

ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
#: Extra environment of the `vio-icinga deploy` runs (none; a hook for debugging a deploy by hand).
DEPLOY_ENV: dict[str, str] = {}

#: The certificate's CN (and subjectAltName, which `icinga2 pki new-cert` sets to the CN): the API URL's host.
NODE = "localhost"


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
    return [f"-DRunAsUser={run_as_user()}", f"-DRunAsGroup={run_as_group()}"]


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
