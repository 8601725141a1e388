"""Shared fixtures: a running simulator with a clouds.yaml and a private cache, and a command runner.

Commands run as subprocesses from the venv's bin directory, exactly as Icinga would run them, against the
simulator over real HTTP through the real openstacksdk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import needs

from vio_sim import Simulator

BIN = Path(sys.executable).parent
_PERF = re.compile(r"""('(?:[^']|'')+'|[^\s=']+)=(-?[\d.]+)""")


@dataclass
class Run:
    """A finished command: exit code, output, and the plugin-output pieces tests assert on."""

    args: list[str]
    rc: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def status(self) -> str:
        """The first line without its perfdata."""
        first = self.lines[0] if self.lines else ""
        return first.split("|", 1)[0].strip()

    @property
    def perfdata(self) -> dict[str, float]:
        """label → value of every perfdata item (first line and continuation lines)."""
        perf: dict[str, float] = {}
        for line in self.lines:
            if "|" in line:
                for label, value in _PERF.findall(line.split("|", 1)[1]):
                    perf[label.strip("'").replace("''", "'")] = float(value)
        return perf

    def __str__(self) -> str:
        return f"$ {' '.join(self.args)}\nrc={self.rc}\n{self.stdout}{self.stderr}"


#: Checks whose status line carries timings: only their state word must agree between two installs.
TIMED_CHECKS = ("check_vio_discovery", "check_vio_inventory")


def assert_same_verdict(check: str, a: Run, b: Run) -> None:
    """`a` (an installed package's run of `check`) judged exactly as `b` (the pinned venv's): no traceback,
    the same exit code, the same status line (the same state word for checks that report timings)."""
    assert "Traceback" not in a.stdout + a.stderr, str(a)
    assert a.rc == b.rc, f"{a}\n--- venv:\n{b}"
    if check not in TIMED_CHECKS:
        assert a.status == b.status, f"{a}\n--- venv:\n{b}"
    else:
        assert a.status.split(" - ")[0] == b.status.split(" - ")[0], f"{a}\n--- venv:\n{b}"


class CloudEnv:
    """A simulator plus everything a command needs to reach it: clouds.yaml, cache dir, environment."""

    def __init__(self, sim: Simulator, tmp: Path, cloud: str = "vio-sim") -> None:
        self.sim = sim
        self.cloud = cloud
        self.clouds_yaml = tmp / "clouds.yaml"
        sim.write_clouds_yaml(self.clouds_yaml, cloud=cloud)
        self.cache_dir = tmp / "cache"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml), OS_CLOUD=cloud,
                        VIO_CHECKS_CACHE_DIR=str(self.cache_dir), PYTHONWARNINGS="ignore")

    def command(self, name: str, *args: str) -> list[str]:
        return [str(BIN / name), *map(str, args)]

    def run(self, name: str, *args: str, timeout: float = 90, env: dict | None = None) -> Run:
        cmd = self.command(name, *args)
        p = subprocess.run(cmd, env={**self.env, **(env or {})}, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(cmd, p.returncode, p.stdout, p.stderr)

    def sweep(self, *args: str) -> Run:
        """Refresh the cache now (after changing the simulator)."""
        r = self.run("vio-discover", "--json", *args)
        assert r.rc == 0, str(r)
        return r


@pytest.fixture
def demo_cloud(tmp_path):
    with Simulator(scenario="demo") as sim:
        yield CloudEnv(sim, tmp_path)


@pytest.fixture
def healthy_cloud(tmp_path):
    with Simulator(scenario="healthy") as sim:
        yield CloudEnv(sim, tmp_path)


@pytest.fixture
def make_cloud(tmp_path):
    """A factory: make_cloud(scenario, **simulator options) → CloudEnv, all stopped at teardown."""
    started: list[Simulator] = []

    def make(scenario, **kwargs) -> CloudEnv:
        sim = Simulator(scenario=scenario, **kwargs)
        sim.start()
        started.append(sim)
        return CloudEnv(sim, tmp_path / f"cloud{len(started)}")

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def icinga2_binary() -> str:
    """icinga2's path, for the tests that validate config with it (needs.binary: fails in CI when missing)."""
    return needs.binary("icinga2", "icinga2-bin icinga2-common", "ICINGA 2")


@pytest.fixture
def nagios4_binary() -> str:
    """nagios4's path, for the tests that validate config with it."""
    return needs.binary("nagios4", "nagios4-core", "NAGIOS 4")


@pytest.fixture
def openssl_binary() -> str:
    """openssl's path, for the tests that make certificates with it."""
    return needs.binary("openssl", "openssl", "TLS")
