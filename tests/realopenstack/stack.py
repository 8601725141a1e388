"""Upstream OpenStack on loopback: MariaDB, RabbitMQ, Keystone, Nova, Placement, Glance, Cinder and Neutron.

Everything lives in one temporary directory and listens on 127.0.0.1 only, on ports of its own. The services
run from their own venv (tests/realopenstack/build-venv.sh, pinned by constraints/realopenstack.txt), the
APIs under gunicorn; MariaDB and RabbitMQ are Debian's binaries run as private instances. Every process is
started in its own session and stopped by its pid (its process group), never by name.

    stack = Stack(venv)
    stack.start()            # ~2 minutes: databases, schemas, services, 2 hypervisors, agents, cinder-volume
    stack.admin_session()    # a keystoneauth session as the cloud admin
    stack.stop()
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
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

HERE = Path(__file__).resolve().parent
PASSWORD = "realos-secret"
ADMIN_PASSWORD = "realos-admin"
REGION = "RegionOne"
DB_USER = "os"
DB_PASSWORD = "os-db"

#: Short liveness windows so fault tests stay quick (defaults: 60 s for Nova, 75 s for Neutron).
REPORT_INTERVAL = 2
SERVICE_DOWN_TIME = 10
AGENT_DOWN_TIME = 8

COMPUTE_HOSTS = ("compute-1", "compute-2")
#: Two nova-conductors under different [DEFAULT] host names: a cluster of two (issue 23)
CONDUCTOR_HOSTS = ("controller", "controller-2")
NETWORK_HOST = "network-1"
VOLUME_HOST = "block-1"

DATABASES = ("keystone", "nova_api", "nova", "nova_cell0", "placement", "glance", "cinder", "neutron")
SERVICE_USERS = ("nova", "placement", "glance", "cinder", "neutron")


#: gunicorn's default access log line plus the microversion header the client sent.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" "%({openstack-api-version}i)s"'
API_NAMES = ("keystone", "nova-api", "placement", "glance", "cinder-api", "neutron-api")


class StackError(RuntimeError):
    """A piece of the stack did not start; the message names it and the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_system_pieces() -> list[str]:
    """What this machine lacks for the stack (Debian's mariadb-server and rabbitmq-server)."""
    missing = []
    for binary in ("mariadbd", "mariadb-install-db", "mariadb", "epmd"):
        if not shutil.which(binary) and not Path("/usr/sbin", binary).exists():
            missing.append(f"{binary} (apt-get install mariadb-server rabbitmq-server)")
    if not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists():
        missing.append("/usr/lib/rabbitmq/bin/rabbitmq-server (apt-get install rabbitmq-server)")
    return missing


def _ini(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    for name, values in sections.items():
        if name != "DEFAULT":
            cp.add_section(name)
        for k, v in values.items():
            cp.set(name, k, str(v).lower() if isinstance(v, bool) else str(v))
    with path.open("w") as f:
        cp.write(f)
    return path


class Proc:
    """One started process: its pid is its process group; the log holds stdout and stderr."""

    def __init__(self, name: str, popen: subprocess.Popen, log: Path) -> None:
        self.name = name
        self.popen = popen
        self.log = log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
        """Signal the process group; SIGKILL it after `grace` seconds."""
        if self.popen.poll() is not None:
            self._reap_group()
            return
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)
        self._reap_group()

    def signal(self, sig: int) -> None:
        """Send sig to the process group (its leader may have exited, its children not)."""
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap_group(self) -> None:
        # Children that outlive their leader (gunicorn workers, beam) still carry the group id.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _Foreign:
    """The part of Popen that Proc uses, for a process another Python process started."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0
        return 0 if stat.rsplit(")", 1)[-1].split()[0] == "Z" else None  # a zombie has exited

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout or 0)
        while self.poll() is None:
            if timeout is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.1)
        return 0


class Stack:
    """The running cloud. Attributes after start(): urls (service type → base URL), ports, root."""

    def __init__(self, venv: Path, root: Path | None = None, log: Callable[[str], None] | None = None) -> None:
        self.venv = Path(venv)
        self.root = Path(root or tempfile.mkdtemp(prefix="vio-realos-"))
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, Proc] = {}
        self.say = log or (lambda msg: print(f"[realos] {msg}", file=sys.stderr, flush=True))
        self.ports = {name: free_port() for name in (
            "mysql", "amqp", "dist", "epmd", "keystone", "nova", "placement", "glance", "cinder", "neutron")}
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
        }
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
    def http_ok(url: str) -> bool:
        """True when url answers HTTP below 500 (401 and 300 count: the service is up)."""
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
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
            self._sync_schemas()
            self._start_keystone()
            self._register_services()
            self._start_services()
            self._wait_healthy()
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
            stack.procs[name] = Proc(name, _Foreign(pid), stack.logs / f"{name}.log")  # type: ignore[arg-type]
        return stack, state

    def cleanup(self) -> None:
        """Remove the temporary directory (call after stop)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # --- MariaDB and RabbitMQ ------------------------------------------------------------------

    def _start_mariadb(self) -> None:
        t = time.monotonic()
        d = self.root / "mysql"
        d.mkdir()
        sock = str(d / "sock")
        self.run("mariadb-install-db", ["mariadb-install-db", "--no-defaults", f"--datadir={d / 'data'}",
                                        "--user=root", "--auth-root-authentication-method=normal",
                                        "--skip-test-db"])
        self.spawn("mariadb", [
            "mariadbd", "--no-defaults", f"--datadir={d / 'data'}", "--user=root", "--bind-address=127.0.0.1",
            f"--port={self.ports['mysql']}", f"--socket={sock}", f"--pid-file={d / 'pid'}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--max-connections=2000",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
            f"--log-error={self.logs / 'mariadb-error.log'}",
        ])
        self.wait_for("mariadb", lambda: Path(sock).exists() and self._sql(sock, "SELECT 1"), 60, ("mariadb",))
        grants = [f"CREATE DATABASE {db} CHARACTER SET utf8" for db in DATABASES]
        grants += [f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}'",
                   f"GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1'"]
        if not self._sql(sock, "; ".join(grants)):
            raise StackError("mariadb: cannot create the databases")
        self._timed("mariadb", t)

    @staticmethod
    def _sql(sock: str, statements: str) -> bool:
        p = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "-e", statements],
                           capture_output=True, text=True, timeout=30)
        return p.returncode == 0

    def _start_rabbitmq(self) -> None:
        t = time.monotonic()
        d = self.root / "rabbitmq"
        (d / "home").mkdir(parents=True)
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.ports['amqp']}\nloopback_users = none\n")
        (d / "enabled_plugins").write_text("[].\n")
        (d / "rabbitmq-env.conf").write_text("")
        env = {
            "HOME": str(d / "home"),  # the Erlang cookie
            "RABBITMQ_NODENAME": f"realos-{self.ports['amqp']}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.ports["amqp"]),
            "RABBITMQ_DIST_PORT": str(self.ports["dist"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.ports["epmd"]),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(d / "pid"),
            # The distribution port listens on every interface unless told otherwise.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        # Our own epmd in the foreground, so it is ours to stop (the broker would daemonise one).
        self.spawn("epmd", ["epmd", "-address", "127.0.0.1", "-port", str(self.ports["epmd"])], env=env)
        self.spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env)
        self.rabbit_env = env

        def listening() -> bool:
            with socket.create_connection(("127.0.0.1", self.ports["amqp"]), timeout=2) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                return s.recv(8).startswith(b"\x01\x00\x00")  # connection.start frame

        self.wait_for("rabbitmq", listening, 90, ("rabbitmq",))
        self._timed("rabbitmq", t)

    # --- configuration -------------------------------------------------------------------------

    def _authtoken(self, user: str) -> dict[str, Any]:
        return {
            "www_authenticate_uri": self.auth_url, "auth_url": self.auth_url, "auth_type": "password",
            "project_domain_name": "Default", "user_domain_name": "Default", "project_name": "service",
            "username": user, "password": PASSWORD, "region_name": REGION,
        }

    def _write_configs(self) -> None:
        etc = self.root / "etc"
        for sub in ("keystone", "nova", "placement", "glance", "cinder", "neutron", "state"):
            (etc / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "home").mkdir(exist_ok=True)
        state = self.root / "state"
        venv_etc = self.venv / "etc"
        common = {"debug": False, "use_stderr": True}
        rpc = {"transport_url": self.transport_url}
        locks = {"lock_path": str(state / "locks")}
        notifications = {"driver": "noop"}

        self.conf["keystone"] = _ini(etc / "keystone" / "keystone.conf", {
            "DEFAULT": common,
            "database": {"connection": self.db_url("keystone")},
            "token": {"provider": "fernet", "expiration": 7200},
            "fernet_tokens": {"key_repository": str(etc / "keystone" / "fernet-keys")},
            "credential": {"key_repository": str(etc / "keystone" / "credential-keys")},
            # In-process cache: a token costs ~20 ms instead of ~300, a validation ~5 ms instead of ~700.
            "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
            "identity": {"password_hash_rounds": 4},
        })

        nova_common = {
            "DEFAULT": {
                **common, **rpc, "compute_driver": "fake.FakeDriverWithoutFakeNodes", "my_ip": "127.0.0.1",
                "host": "controller", "state_path": str(state / "nova"), "report_interval": REPORT_INTERVAL,
                "service_down_time": SERVICE_DOWN_TIME, "instances_path": str(state / "nova" / "instances"),
                "heal_instance_info_cache_interval": -1, "update_resources_interval": 5,
            },
            "api": {"auth_strategy": "keystone"},
            "api_database": {"connection": self.db_url("nova_api")},
            "database": {"connection": self.db_url("nova")},
            "keystone_authtoken": self._authtoken("nova"),
            "service_user": {**self._authtoken("nova"), "send_service_user_token": True},
            "placement": self._authtoken("placement") | {"username": "nova"},
            "neutron": self._authtoken("neutron") | {"username": "nova"},
            "cinder": {"os_region_name": REGION, **(self._authtoken("cinder") | {"username": "nova"})},
            "glance": {"region_name": REGION},
            "scheduler": {"discover_hosts_in_cells_interval": 5, "workers": 1},
            "conductor": {"workers": 1},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
            "vnc": {"enabled": False},
            "cells": {},
        }
        nova_common.pop("cells")
        self.conf["nova"] = _ini(etc / "nova" / "nova.conf", nova_common)
        for host in CONDUCTOR_HOSTS[1:]:  # the first is nova.conf's own host
            self.conf[f"nova-{host}"] = _ini(etc / "nova" / f"{host}.conf", {"DEFAULT": {"host": host}})
        for host in COMPUTE_HOSTS:
            self.conf[f"nova-{host}"] = _ini(etc / "nova" / f"{host}.conf", {"DEFAULT": {
                "host": host, "state_path": str(state / host), "instances_path": str(state / host / "instances"),
            }})

        self.conf["placement"] = _ini(etc / "placement" / "placement.conf", {
            "DEFAULT": common,
            "api": {"auth_strategy": "keystone"},
            "placement_database": {"connection": self.db_url("placement")},
            "keystone_authtoken": self._authtoken("placement"),
        })

        glance_dir = etc / "glance"
        shutil.copy(venv_etc / "glance" / "glance-api-paste.ini", glance_dir / "glance-api-paste.ini")
        self.conf["glance"] = _ini(glance_dir / "glance-api.conf", {
            "DEFAULT": {**common, "enabled_backends": "file:file"},
            "database": {"connection": self.db_url("glance")},
            "keystone_authtoken": self._authtoken("glance"),
            "paste_deploy": {"flavor": "keystone", "config_file": str(glance_dir / "glance-api-paste.ini")},
            "glance_store": {"default_backend": "file"},
            "file": {"filesystem_store_datadir": str(state / "glance" / "images")},
            "os_glance_staging_store": {"filesystem_store_datadir": str(state / "glance" / "staging")},
            "os_glance_tasks_store": {"filesystem_store_datadir": str(state / "glance" / "tasks")},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })

        self.conf["cinder"] = _ini(etc / "cinder" / "cinder.conf", {
            "DEFAULT": {
                **common, **rpc, "auth_strategy": "keystone", "enabled_backends": "fake", "my_ip": "127.0.0.1",
                "state_path": str(state / "cinder"), "api_paste_config": str(venv_etc / "cinder" / "api-paste.ini"),
                "report_interval": REPORT_INTERVAL, "service_down_time": SERVICE_DOWN_TIME,
                "osapi_volume_workers": 1,
            },
            "fake": {"volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
                     "volume_backend_name": "fake"},
            "database": {"connection": self.db_url("cinder")},
            "keystone_authtoken": self._authtoken("cinder"),
            "coordination": {"backend_url": f"file://{state / 'cinder' / 'coordination'}"},
            "nova": self._authtoken("nova") | {"username": "cinder"},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })

        self.conf["neutron"] = _ini(etc / "neutron" / "neutron.conf", {
            "DEFAULT": {
                **common, **rpc, "core_plugin": "ml2", "service_plugins": "router", "auth_strategy": "keystone",
                "state_path": str(state / "neutron"), "api_paste_config": str(venv_etc / "neutron" / "api-paste.ini"),
                "notify_nova_on_port_status_changes": False, "notify_nova_on_port_data_changes": False,
                "agent_down_time": AGENT_DOWN_TIME, "rpc_workers": 1, "rpc_state_report_workers": 1,
                "api_workers": 1, "allow_overlapping_ips": True, "dhcp_agents_per_network": 1,
            },
            "agent": {"report_interval": REPORT_INTERVAL},
            "database": {"connection": self.db_url("neutron")},
            "keystone_authtoken": self._authtoken("neutron"),
            "nova": self._authtoken("nova") | {"username": "neutron"},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })
        self.conf["ml2"] = _ini(etc / "neutron" / "ml2_conf.ini", {
            "ml2": {"type_drivers": "flat,vlan,vxlan", "tenant_network_types": "vxlan",
                    "mechanism_drivers": "openvswitch", "extension_drivers": "port_security"},
            "ml2_type_flat": {"flat_networks": "public"},
            "ml2_type_vxlan": {"vni_ranges": "1:1000"},
        })
        for sub in ("nova", "glance", "cinder", "neutron", "locks", *COMPUTE_HOSTS):
            (state / sub).mkdir(parents=True, exist_ok=True)

    def _sync_schemas(self) -> None:
        t = time.monotonic()
        ks = ["--config-file", str(self.conf["keystone"])]
        nova = ["--config-file", str(self.conf["nova"])]
        neutron = ["--config-file", str(self.conf["neutron"]), "--config-file", str(self.conf["ml2"])]
        keystone_user = ["--keystone-user", "root", "--keystone-group", "root"]
        self.run_parallel({
            "keystone-manage": [
                [self.bin("keystone-manage"), *ks, "fernet_setup", *keystone_user],
                [self.bin("keystone-manage"), *ks, "credential_setup", *keystone_user],
                [self.bin("keystone-manage"), *ks, "db_sync"],
                [self.bin("keystone-manage"), *ks, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                 "--bootstrap-admin-url", self.auth_url, "--bootstrap-internal-url", self.auth_url,
                 "--bootstrap-public-url", self.auth_url, "--bootstrap-region-id", REGION],
            ],
            "nova-manage": [
                [self.bin("nova-manage"), *nova, "api_db", "sync"],
                [self.bin("nova-manage"), *nova, "cell_v2", "map_cell0",
                 "--database_connection", self.db_url("nova_cell0")],
                [self.bin("nova-manage"), *nova, "db", "sync"],
                [self.bin("nova-manage"), *nova, "cell_v2", "create_cell", "--name", "cell1"],
            ],
            "placement-manage": [[self.bin("placement-manage"), "--config-file", str(self.conf["placement"]),
                                  "db", "sync"]],
            "glance-manage": [[self.bin("glance-manage"), "--config-file", str(self.conf["glance"]), "db_sync"]],
            "cinder-manage": [[self.bin("cinder-manage"), "--config-file", str(self.conf["cinder"]), "db", "sync"]],
            "neutron-db-manage": [[self.bin("neutron-db-manage"), *neutron, "upgrade", "heads"]],
        })
        self._timed("schemas", t)

    # --- services ------------------------------------------------------------------------------

    def _gunicorn(self, name: str, app: str, port: int, env: dict[str, str], threads: int = 4) -> Proc:
        return self.spawn(name, [
            self.bin("gunicorn"), "--no-control-socket", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", str(threads), "--timeout", "300",
            "--graceful-timeout", "5", "--access-logfile", str(self.access_log(name)),
            "--access-logformat", ACCESS_LOG_FORMAT, "--pythonpath", str(HERE), f"stack_wsgi:{app}()",
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
                            ("network", "neutron"), ("volumev3", "cinderv3"), ("block-storage", "cinder")):
            sid = post("/services", {"service": {"type": stype, "name": name}})["service"]["id"]
            for interface in ("public", "internal"):
                post("/endpoints", {"endpoint": {"service_id": sid, "interface": interface,
                                                 "url": self.urls[stype], "region_id": REGION}})
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
