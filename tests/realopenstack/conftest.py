"""The real-OpenStack fixture: upstream services on loopback, started once per test run.

Every test in this directory carries the `realopenstack` marker: `pytest -m realopenstack` runs them,
`-m "not realopenstack"` leaves them out. With CI=true a missing piece (Debian's mariadb-server or
rabbitmq-server, a failed venv build, a service that does not come up) fails the run; elsewhere the tests
are skipped with the reason in the summary.

Environment: VIO_REALOS_VENV (use this venv for the services), VIO_REALOS_KEEP=1 (keep the stack's
temporary directory and logs after the run), VIO_REALOS_ATTACH=FILE (developing tests: use the running,
seeded stack that `python -m tests.realopenstack.up FILE` started instead of starting one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BIN, Run
from harness.needs import not_run

from .seed import Seeded, seed
from .stack import ADMIN_PASSWORD, API_NAMES, HERE, REGION, Stack, StackError, missing_system_pieces

MARKER = "realopenstack"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: tests against upstream OpenStack services on loopback")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(getattr(pytest.mark, MARKER))


def _unavailable(reason: str) -> None:
    """Fail in CI, skip loudly elsewhere."""
    not_run("REALOPENSTACK", f"real OpenStack stack unavailable: {reason}")


def build_venv() -> Path:
    """The services' venv (built on first use, reused after), as build-venv.sh prints it."""
    if os.environ.get("VIO_REALOS_VENV") and Path(os.environ["VIO_REALOS_VENV"], ".complete").exists():
        return Path(os.environ["VIO_REALOS_VENV"])
    p = subprocess.run(["bash", str(HERE / "build-venv.sh")], capture_output=True, text=True, timeout=900)
    if p.returncode:
        _unavailable(f"build-venv.sh failed:\n{p.stderr[-3000:]}")
    if p.stderr.strip():
        print(p.stderr.strip(), file=sys.stderr)
    return Path(p.stdout.strip().splitlines()[-1])


_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) \S+ "[^"]*" '
                     r'"(?P<agent>[^"]*)" "(?P<mv>[^"]*)"')


@dataclass
class Request:
    """One request an API's gunicorn logged."""

    api: str
    method: str
    path: str
    status: int
    agent: str
    microversion: str

    @property
    def product(self) -> bool:
        """Sent by the product (openstacksdk's user agent first), not by a service or the seeding."""
        return self.agent.startswith("openstacksdk/")


class RealCloud:
    """The running stack, what was seeded in it, and a way to run the product's commands against it."""

    def __init__(self, stack: Stack, seeded: Seeded) -> None:
        self.stack = stack
        self.seeded = seeded
        self.app_cred: dict[str, str] = {}

    def clouds_yaml(self, path: Path, password: str = ADMIN_PASSWORD) -> Path:
        """clouds.yaml with `realos` (admin password), `realos-appcred` (application credential); both name
        the stack's CA (`cacert`), which the https endpoint's certificate verifies against."""
        auth = {"auth_url": self.stack.auth_url, "username": "admin", "password": password,
                "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}
        cacert = str(self.stack.tls_ca)
        clouds: dict = {"realos": {"auth": auth, "region_name": REGION, "interface": "public",
                                   "identity_api_version": 3, "cacert": cacert}}
        if self.app_cred:
            clouds["realos-appcred"] = {
                "auth_type": "v3applicationcredential", "region_name": REGION, "interface": "public",
                "identity_api_version": 3, "cacert": cacert,
                "auth": {"auth_url": self.stack.auth_url, **self.app_cred},
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"clouds": clouds}, indent=1))  # JSON is YAML
        return path

    def log_mark(self) -> dict[str, int]:
        """Where each API's access log ends now (for requests_since)."""
        return {api: self._size(api) for api in API_NAMES}

    def _size(self, api: str) -> int:
        try:
            return self.stack.access_log(api).stat().st_size
        except FileNotFoundError:
            return 0

    def requests_since(self, mark: dict[str, int], product_only: bool = True) -> list[Request]:
        """Requests the APIs logged since mark (the product's only, unless product_only=False)."""
        time.sleep(0.3)  # gunicorn logs after it answered; let the last line land
        out = []
        for api in API_NAMES:
            try:
                with self.stack.access_log(api).open("rb") as f:
                    f.seek(mark.get(api, 0))
                    text = f.read().decode(errors="replace")
            except FileNotFoundError:
                continue
            for line in text.splitlines():
                m = _ACCESS.search(line)
                if m:
                    r = Request(api, m["method"], m["path"], int(m["status"]), m["agent"], m["mv"])
                    if r.product or not product_only:
                        out.append(r)
        return out

    def env(self, tmp: Path, cloud: str = "realos", password: str = ADMIN_PASSWORD) -> RealEnv:
        return RealEnv(self, tmp, cloud, password)


class RealEnv:
    """One product configuration (clouds.yaml, cache dir) against the real stack, like tests/conftest's CloudEnv."""

    def __init__(self, cloud: RealCloud, tmp: Path, name: str, password: str) -> None:
        self.real = cloud
        self.cloud = name
        self.clouds_yaml = cloud.clouds_yaml(tmp / "clouds.yaml", password)
        self.cache_dir = tmp / "cache"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml), OS_CLOUD=name,
                        VIO_CHECKS_CACHE_DIR=str(self.cache_dir), PYTHONWARNINGS="ignore")

    def run(self, name: str, *args: str, timeout: float = 120, env: dict | None = None) -> Run:
        cmd = [str(BIN / name), *map(str, args)]
        p = subprocess.run(cmd, env={**self.env, **(env or {})}, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(cmd, p.returncode, p.stdout, p.stderr)

    def sweep(self, *args: str) -> dict:
        """Refresh the cache now; the inventory as vio-discover --json prints it."""
        r = self.run("vio-discover", "--json", *args)
        assert r.rc == 0, str(r)
        return json.loads(r.stdout)


def make_app_credential(stack: Stack) -> dict[str, str]:
    """An application credential of the admin user (id + secret, as clouds.yaml takes them)."""
    s = stack.admin_session()
    user_id = s.get_user_id()
    name = f"vio-checks-{time.time_ns()}"
    body = {"application_credential": {"name": name, "description": "vio-checks contract tests"}}
    cred = s.post(f"{stack.auth_url}/users/{user_id}/application_credentials", json=body).json()
    cred = cred["application_credential"]
    return {"application_credential_id": cred["id"], "application_credential_secret": cred["secret"]}


@pytest.fixture(scope="session")
def real_cloud() -> Iterator[RealCloud]:
    """The stack, started and seeded once per test run (~3 minutes), stopped at the end."""
    attach = os.environ.get("VIO_REALOS_ATTACH")
    if attach:
        stack, state = Stack.attach(Path(attach))
        cloud = RealCloud(stack, Seeded(**state["seeded"]))
        cloud.app_cred = make_app_credential(stack)
        yield cloud
        # Processes the tests restarted here are ours to stop; the rest belong to the attached stack.
        for proc in [p for p in stack.procs.values() if isinstance(p.popen, subprocess.Popen)]:
            proc.stop()
        return
    missing = missing_system_pieces()
    if missing:
        _unavailable("missing " + "; ".join(missing))
    venv = build_venv()
    t0 = time.monotonic()
    stack = Stack(venv)
    try:
        stack.start()
        seeded = seed(stack)
    except (StackError, AssertionError, Exception) as e:
        stack.stop()
        logs = stack.root / "logs"
        kept = shutil.copytree(logs, Path(f"{stack.root}-failed-logs"), dirs_exist_ok=True)
        stack.cleanup()
        _unavailable(f"{type(e).__name__}: {e}\n(logs kept in {kept})")
        raise  # not reached
    stack.say(f"seeded in {time.monotonic() - t0 - stack.timings.get('stack up', 0):.1f} s")
    cloud = RealCloud(stack, seeded)
    cloud.app_cred = make_app_credential(stack)
    try:
        yield cloud
    finally:
        stack.stop()
        if os.environ.get("VIO_REALOS_KEEP"):
            stack.say(f"kept {stack.root}")
        else:
            stack.cleanup()


@pytest.fixture
def real(real_cloud: RealCloud, tmp_path: Path) -> RealEnv:
    """A fresh product configuration (own cache) against the shared stack, admin password auth."""
    return real_cloud.env(tmp_path)
