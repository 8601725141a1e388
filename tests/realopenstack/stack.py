"""Upstream OpenStack on loopback: MariaDB, RabbitMQ, Keystone, Nova, Placement, Glance, Cinder, Neutron,
Octavia and Heat.

Everything lives in one temporary directory and listens on 127.0.0.1 only, on ports of its own. The services
run from their own venv (tests/realopenstack/build-venv.sh, pinned by constraints/realopenstack.txt), the
APIs under gunicorn; MariaDB and RabbitMQ are Debian's binaries run as private instances. Every process is
started in its own session and stopped by its pid (its process group), never by name.

    stack = Stack(venv)
    stack.start()            # ~2 minutes: databases, schemas, services, 2 hypervisors, agents, cinder-volume
    stack.admin_session()    # a keystoneauth session as the cloud admin
    stack.stop()

The parts by job: procs.py (one process, ports, ini files), backing.py (MariaDB, RabbitMQ), configs.py (the
core services' configs and schemas), lbaas_heat.py (Octavia and Heat), this file (start-up order, the
services' processes, health).
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from .backing import DB_PASSWORD, DB_USER, Backing
from .configs import (  # noqa: F401 (re-exported: the tests import them from here)
    ADMIN_PASSWORD,
    AGENT_DOWN_TIME,
    COMPUTE_HOSTS,
    CONDUCTOR_HOSTS,
    PASSWORD,
    REGION,
    REPORT_INTERVAL,
    SERVICE_DOWN_TIME,
    Configs,
)
from .lbaas_heat import LbaasHeat
from .procs import Foreign, Proc, StackError, free_port, missing_system_pieces  # noqa: F401

HERE = Path(__file__).resolve().parent
NETWORK_HOST = "network-1"
VOLUME_HOST = "block-1"
SERVICE_USERS = ("nova", "placement", "glance", "cinder", "neutron", "octavia", "heat")


#: gunicorn's default access log line plus the microversion header the client sent.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({openstack-api-version}i)s"'
API_NAMES = ("keystone", "nova-api", "placement", "glance", "cinder-api", "neutron-api", "octavia-api", "heat-api",
             "heat-api-tls")


class Stack(Backing, Configs, LbaasHeat):
    """The running cloud. Attributes after start(): urls (service type → base URL; public_urls: where the
    catalog's public endpoint differs), ports, root."""

    def __init__(self, venv: Path, root: Path | None = None, log: Callable[[str], None] | None = None) -> None:
        self.venv = Path(venv)
        self.root = Path(root or tempfile.mkdtemp(prefix="vio-realos-"))
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, Proc] = {}
        self.say = log or (lambda msg: print(f"[realos] {msg}", file=sys.stderr, flush=True))
        self.ports = {name: free_port() for name in (
            "mysql", "amqp", "dist", "epmd", "keystone", "nova", "placement", "glance", "cinder", "neutron",
            "octavia", "octavia-hm", "heat", "heat-tls")}
        self.conf: dict[str, Path] = {}
        self.timings: dict[str, float] = {}
        self._derive_urls()

    def _derive_urls(self) -> None:
        self.urls = {
            "identity": f"http://127.0.0.1:{self.ports['keystone']}/v3",
            "compute": f"http://127.0.0.1:{self.ports['nova']}/v2.1",
            "placement": f"http://127.0.0.1:{self.ports['placement']}",
            "image": f"http://127.0.0.1:{self.ports['glance']}",
            "network": f"http://127.0.0.1:{self.ports['neutron']}",
            "volumev3": f"http://127.0.0.1:{self.ports['cinder']}/v3/%(project_id)s",
            "block-storage": f"http://127.0.0.1:{self.ports['cinder']}/v3/%(project_id)s",
            "load-balancer": f"http://127.0.0.1:{self.ports['octavia']}",
            "orchestration": f"http://127.0.0.1:{self.ports['heat']}/v1/%(project_id)s",
        }
        #: Heat's public endpoint: heat-api-tls (lbaas_heat.py), https with a certificate near expiry.
        self.public_urls = {"orchestration": f"https://127.0.0.1:{self.ports['heat-tls']}/v1/%(project_id)s"}
        self.auth_url = self.urls["identity"]
        self.transport_url = f"rabbit://guest:guest@127.0.0.1:{self.ports['amqp']}/"

    # --- helpers -------------------------------------------------------------------------------

    def db_url(self, name: str) -> str:
        return f"mysql+pymysql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.ports['mysql']}/{name}?charset=utf8"

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_", "PYTHON"))}
        env.update(HOME=str(self.root / "home"), PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")
        env.update(extra or {})
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Proc:
        """Start a long-running process in its own session, output to logs/<name>.log."""
        log = self.logs / f"{name}.log"
        fh = log.open("ab")
        popen = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=self._env(env), cwd=cwd or self.root, start_new_session=True)
        fh.close()
        proc = Proc(name, popen, log)
        self.procs[name] = proc
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> None:
        """Run a one-shot command to completion; StackError with its output when it fails."""
        p = subprocess.run(argv, capture_output=True, text=True, env=self._env(env), timeout=timeout,
                           stdin=subprocess.DEVNULL, cwd=self.root)
        (self.logs / f"{name}.log").write_text(p.stdout + p.stderr)
        if p.returncode:
            tail = "\n".join((p.stdout + p.stderr).splitlines()[-25:])
            raise StackError(f"{name} failed (rc={p.returncode}):\n{tail}")

    def run_parallel(self, jobs: dict[str, list[list[str]]], env: dict[str, str] | None = None) -> None:
        """Several sequences of one-shot commands at once (schemas of all services in parallel)."""
        import concurrent.futures

        def chain(name: str, cmds: list[list[str]]) -> None:
            for i, argv in enumerate(cmds):
                self.run(f"{name}-{i}", argv, env=env)

        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            futures = [pool.submit(chain, name, cmds) for name, cmds in jobs.items()]
            for f in futures:
                f.result()

    def wait_for(self, what: str, probe: Callable[[], bool], timeout: float, procs: tuple[str, ...] = ()) -> None:
        """Poll probe() until it is true; fail early when one of `procs` died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in procs:
                p = self.procs.get(name)
                if p and not p.alive():
                    raise StackError(f"{name} exited while waiting for {what}:\n{p.tail()}")
            try:
                if probe():
                    return
            except Exception:
                pass
            time.sleep(0.5)
        tails = "\n".join(f"--- {n}\n{self.procs[n].tail()}" for n in procs if n in self.procs)
        raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")

    @staticmethod
    def http_ok(url: str, cafile: Path | None = None) -> bool:
        """True when url answers HTTP below 500 (401 and 300 count: the service is up); https verified
        against cafile."""
        context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as r:
                return r.status < 500
        except urllib.error.HTTPError as e:
            return e.code < 500
        except OSError:
            return False

    def _timed(self, label: str, started: float) -> None:
        self.timings[label] = round(time.monotonic() - started, 1)
        self.say(f"{label}: {self.timings[label]} s")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Stack:
        """Bring the whole stack up; on failure everything started so far is stopped."""
        t0 = time.monotonic()
        try:
            self._start_mariadb()
            self._start_rabbitmq()
            self._write_configs()
            self._write_lbaas_heat_configs()
            self._sync_schemas()
            self._start_keystone()
            self._register_services()
            self._start_services()
            self._start_lbaas_heat()
            self._wait_healthy()
            self._wait_lbaas_heat()
        except BaseException:
            self.stop()
            raise
        self._timed("stack up", t0)
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stop every process this stack started, by its process group: SIGTERM, then SIGKILL after grace."""
        procs = list(self.procs.values())
        for p in procs:
            p.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:
            p.signal(signal.SIGKILL)
            try:
                p.popen.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()

    def save(self, path: Path, **extra: Any) -> None:
        """Write what another process needs to attach to this running stack (see attach())."""
        state = {"venv": str(self.venv), "root": str(self.root), "ports": self.ports,
                 "conf": {k: str(v) for k, v in self.conf.items()},
                 "pids": {n: p.pid for n, p in self.procs.items()}, **extra}
        path.write_text(json.dumps(state))

    @classmethod
    def attach(cls, path: Path) -> tuple[Stack, dict]:
        """A Stack for a running stack that another process started and saved (for developing tests)."""
        state = json.loads(path.read_text())
        stack = cls(Path(state["venv"]), Path(state["root"]))
        stack.ports = state["ports"]
        stack.conf = {k: Path(v) for k, v in state["conf"].items()}
        stack._derive_urls()
        for name, pid in state["pids"].items():
            stack.procs[name] = Proc(name, Foreign(pid), stack.logs / f"{name}.log")  # type: ignore[arg-type]
        return stack, state

    def cleanup(self) -> None:
        """Remove the temporary directory (call after stop)."""
        shutil.rmtree(self.root, ignore_errors=True)


    # --- services ------------------------------------------------------------------------------

    def _gunicorn(self, name: str, app: str, port: int, env: dict[str, str], threads: int = 4,
                  tls: tuple[Path, Path] | None = None) -> Proc:
        """An API under gunicorn; with tls (certificate, key) gunicorn terminates TLS itself."""
        https = ["--certfile", str(tls[0]), "--keyfile", str(tls[1])] if tls else []
        return self.spawn(name, [
            self.bin("gunicorn"), "--no-control-socket", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", str(threads), "--timeout", "300",
            "--graceful-timeout", "5", "--access-logfile", str(self.access_log(name)),
            "--access-logformat", ACCESS_LOG_FORMAT, "--pythonpath", str(HERE), *https, f"stack_wsgi:{app}()",
        ], env=env)

    def access_log(self, name: str) -> Path:
        """gunicorn's access log of one API (tests count requests in it)."""
        return self.logs / f"{name}-access.log"

    def start_keystone(self) -> None:
        """Start (or restart) Keystone's API and wait until it answers."""
        self._gunicorn("keystone", "keystone", self.ports["keystone"], {
            "OS_KEYSTONE_CONFIG_DIR": str(self.conf["keystone"].parent),
            "OS_KEYSTONE_CONFIG_FILES": "keystone.conf"}, threads=8)
        self.wait_for("keystone", lambda: self.http_ok(self.auth_url), 90, ("keystone",))

    def _start_keystone(self) -> None:
        t = time.monotonic()
        self.start_keystone()
        self._timed("keystone", t)

    def admin_session(self) -> ks_session.Session:
        """A keystoneauth session scoped to the admin project as the bootstrap admin."""
        auth = v3.Password(auth_url=self.auth_url, username="admin", password=ADMIN_PASSWORD,
                           project_name="admin", user_domain_name="Default", project_domain_name="Default")
        return ks_session.Session(auth=auth)

    def _register_services(self) -> None:
        """Service project, users (admin + service roles), and the catalog."""
        t = time.monotonic()
        s = self.admin_session()
        ep = self.auth_url

        def post(path: str, body: dict) -> dict:
            return s.post(ep + path, json=body).json()

        def get_id(path: str, key: str, name: str) -> str:
            return next(o["id"] for o in s.get(f"{ep}{path}?name={name}").json()[key])

        post("/projects", {"project": {"name": "service", "domain_id": "default"}})
        service_project = get_id("/projects", "projects", "service")
        admin_role = get_id("/roles", "roles", "admin")
        try:
            service_role = get_id("/roles", "roles", "service")
        except StopIteration:
            service_role = post("/roles", {"role": {"name": "service"}})["role"]["id"]
        for name in SERVICE_USERS:
            uid = post("/users", {"user": {"name": name, "password": PASSWORD, "domain_id": "default"}})["user"]["id"]
            for role in (admin_role, service_role):
                s.put(f"{ep}/projects/{service_project}/users/{uid}/roles/{role}")
        for stype, name in (("compute", "nova"), ("placement", "placement"), ("image", "glance"),
                            ("network", "neutron"), ("volumev3", "cinderv3"), ("block-storage", "cinder"),
                            ("load-balancer", "octavia"), ("orchestration", "heat")):
            sid = post("/services", {"service": {"type": stype, "name": name}})["service"]["id"]
            for interface in ("public", "internal"):
                url = self.public_urls.get(stype, self.urls[stype]) if interface == "public" else self.urls[stype]
                post("/endpoints", {"endpoint": {"service_id": sid, "interface": interface,
                                                 "url": url, "region_id": REGION}})
        self._timed("catalog", t)

    def _start_services(self) -> None:
        t = time.monotonic()
        # Nova's WSGI loader takes the first of its config files as the paste config.
        shutil.copy(self.venv / "etc" / "nova" / "api-paste.ini", self.conf["nova"].parent / "api-paste.ini")
        nova_env = {"OS_NOVA_CONFIG_DIR": str(self.conf["nova"].parent),
                    "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"}
        neutron_args = ["--config-file", str(self.conf["neutron"]), "--config-file", str(self.conf["ml2"])]
        self._gunicorn("placement", "placement", self.ports["placement"],
                       {"OS_PLACEMENT_CONFIG_DIR": str(self.conf["placement"].parent)})
        self._gunicorn("glance", "glance", self.ports["glance"],
                       {"OS_GLANCE_CONFIG_DIR": str(self.conf["glance"].parent)})
        self._gunicorn("neutron-api", "neutron", self.ports["neutron"], {
            "OS_NEUTRON_CONFIG_DIR": str(self.conf["neutron"].parent),
            "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini"})
        self.spawn("neutron-rpc", [self.bin("neutron-rpc-server"), *neutron_args])
        self._gunicorn("cinder-api", "cinder", self.ports["cinder"], {"REALOS_CINDER_CONF": str(self.conf["cinder"])})
        cinder = ["--config-file", str(self.conf["cinder"])]
        self.spawn("cinder-scheduler", [self.bin("cinder-scheduler"), *cinder])
        self.start_cinder_volume()
        self._gunicorn("nova-api", "nova", self.ports["nova"], nova_env)
        nova = ["--config-file", str(self.conf["nova"])]
        for host in CONDUCTOR_HOSTS:
            self.start_conductor(host)
        self.spawn("nova-scheduler", [self.bin("nova-scheduler"), *nova])
        self.start_fake_agents()
        # Computes last: they need placement and the conductor; each registers its own hypervisor.
        for host in COMPUTE_HOSTS:
            self.start_compute(host)
        self._timed("services started", t)

    def start_conductor(self, host: str) -> None:
        """Start (or restart) the nova-conductor of `host` (process name nova-conductor-<host>)."""
        extra = ["--config-file", str(self.conf[f"nova-{host}"])] if f"nova-{host}" in self.conf else []
        self.spawn(f"nova-conductor-{host}", [self.bin("nova-conductor"), "--config-file",
                                              str(self.conf["nova"]), *extra])

    def start_compute(self, host: str) -> None:
        """Start (or restart) the nova-compute of `host`."""
        self.spawn(f"nova-compute-{host}", [self.bin("nova-compute"), "--config-file", str(self.conf["nova"]),
                                            "--config-file", str(self.conf[f"nova-{host}"])])

    def start_cinder_volume(self) -> None:
        """Start (or restart) cinder-volume (host block-1, backend fake)."""
        self.spawn("cinder-volume", [self.bin("cinder-volume"), "--config-file", self._cinder_volume_conf()])

    def _cinder_volume_conf(self) -> str:
        path = self.conf["cinder"].parent / "cinder-volume.conf"
        if not path.exists():
            cp = configparser.ConfigParser(interpolation=None)
            cp.optionxform = str  # type: ignore[assignment,method-assign]
            cp.read(self.conf["cinder"])
            cp.set("DEFAULT", "host", VOLUME_HOST)
            with path.open("w") as f:
                cp.write(f)
        return str(path)

    def agents_spec(self) -> list[dict]:
        """The fake Neutron agents: an OVS agent per compute host; L3, DHCP and OVS on the network node."""
        ovs_conf = {"tunnel_types": ["vxlan"], "tunneling_ip": "127.0.0.1", "l2_population": False,
                    "integration_bridge": "br-int", "datapath_type": "system", "ovs_hybrid_plug": False,
                    "enable_distributed_routing": False, "arp_responder_enabled": False, "devices": 0,
                    "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["internal", "vxlan"]}}
        specs = [{"binary": "neutron-openvswitch-agent", "host": h, "agent_type": "Open vSwitch agent",
                  "topic": "N/A", "configurations": {**ovs_conf, "bridge_mappings": {}}} for h in COMPUTE_HOSTS]
        specs.append({"binary": "neutron-openvswitch-agent", "host": NETWORK_HOST,
                      "agent_type": "Open vSwitch agent", "topic": "N/A",
                      "configurations": {**ovs_conf, "bridge_mappings": {"public": "br-ex"}}})
        specs.append({"binary": "neutron-l3-agent", "host": NETWORK_HOST, "agent_type": "L3 agent",
                      "topic": "l3_agent", "configurations": {"agent_mode": "legacy", "routers": 0}})
        specs.append({"binary": "neutron-dhcp-agent", "host": NETWORK_HOST, "agent_type": "DHCP agent",
                      "topic": "dhcp_agent", "configurations": {"dhcp_driver": "fake", "networks": 0}})
        return specs

    @property
    def agent_control(self) -> Path:
        return self.root / "agents"

    def start_fake_agents(self) -> None:
        self.agent_control.mkdir(exist_ok=True)
        self.spawn("fake-agents", [str(self.venv / "bin" / "python"), str(HERE / "fake_agents.py"),
                                   str(self.conf["neutron"]), str(self.agent_control), self.db_url("neutron"),
                                   json.dumps(self.agents_spec())])

    def set_agent(self, binary: str, host: str, alive: bool) -> None:
        """Stop (alive=False) or resume one fake agent's heartbeats."""
        flag = self.agent_control / f"{binary}@{host}.stopped"
        if alive:
            flag.unlink(missing_ok=True)
        else:
            flag.touch()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Stop one process of the stack (a fault)."""
        proc = self.procs.pop(name)
        proc.stop(sig)

    # --- health --------------------------------------------------------------------------------

    def _wait_healthy(self) -> None:
        """All APIs answer, both hypervisors are up, cinder-volume is up and every agent is alive."""
        t = time.monotonic()
        for name, url in (("placement", self.urls["placement"]), ("glance", self.urls["image"]),
                          ("neutron-api", self.urls["network"]), ("cinder-api", f"http://127.0.0.1:{self.ports['cinder']}/"),
                          ("nova-api", self.urls["compute"])):
            self.wait_for(name, lambda u=url: self.http_ok(u), 180, (name,))
        s = self.admin_session()
        all_procs = tuple(self.procs)

        def hypervisors_up() -> bool:
            hv = s.get(self.urls["compute"] + "/os-hypervisors/detail",
                       headers={"OpenStack-API-Version": "compute 2.53"}).json()["hypervisors"]
            return len(hv) == len(COMPUTE_HOSTS) and all(h["state"] == "up" for h in hv)

        def agents_alive() -> bool:
            agents = s.get(self.urls["network"] + "/v2.0/agents").json()["agents"]
            return len(agents) == len(self.agents_spec()) and all(a["alive"] for a in agents)

        def volume_up() -> bool:
            url = self.urls["volumev3"] % {"project_id": s.get_project_id()}
            services = s.get(url + "/os-services").json()["services"]
            return any(v["binary"] == "cinder-volume" and v["state"] == "up" for v in services)

        self.wait_for("2 hypervisors up", hypervisors_up, 240, all_procs)
        self.wait_for("neutron agents alive", agents_alive, 120, all_procs)
        self.wait_for("cinder-volume up", volume_up, 120, all_procs)
        self._timed("healthy", t)

    def listeners(self, loopback_ok: bool = True) -> list[str]:
        """Listening TCP sockets of this stack's processes not on loopback (should be none; all with loopback_ok=False)."""
        pids = {p.pid for p in self.procs.values()}
        out = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True).stdout
        bad = []
        for line in out.splitlines():
            parts = line.split()
            local = parts[3] if len(parts) > 3 else ""
            if loopback_ok and local.startswith(("127.", "[::1]")):
                continue
            for pid in pids:
                if f"pid={pid}," in line or self._in_group(line, pid):
                    bad.append(line)
                    break
        return bad

    @staticmethod
    def _in_group(line: str, pgid: int) -> bool:
        import re

        for pid in re.findall(r"pid=(\d+)", line):
            try:
                if os.getpgid(int(pid)) == pgid:
                    return True
            except ProcessLookupError:
                pass
        return False
