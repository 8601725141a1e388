"""The one place the benchmark imports the simulator (its package may move, e.g. to ``vio_sim``).

Everything else in bench/ drives the product through its installed commands; only this module knows where
the simulator and its cloud generator live and how a command is pointed at a simulated cloud.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from vio_sim import Simulator
from vio_sim.generator import generate

from . import certs

BIN = Path(sys.executable).parent
#: Service types of the benchmark's extra https catalog endpoints (one TLS endpoint each): types the
#: product reads no objects from, so each costs its endpoint probe and its certificate's handshake only.
TLS_TYPES = ("key-manager", "dns", "object-store", "metric", "alarming", "event", "sharev2", "workflow",
             "container-infra", "baremetal", "clustering", "application-catalog")


class SimCloud:
    """A generated cloud served on loopback, with its clouds.yaml, a private cache dir and the environment
    the commands need (as tests/conftest.py's CloudEnv sets them up)."""

    def __init__(self, label: str, vms: int, clusters: int, volumes: int, ports: int, routers: int,
                 projects: int = 50, seed: int = 1, page_max: int = 1000,
                 workdir: Path | None = None, tls: int = 0) -> None:
        self.label = label
        self.sizes = {"vms": vms, "clusters": clusters, "volumes": volumes, "ports": ports,
                      "routers": routers, "projects": projects}
        # images, stacks and load balancers as vio_sim.generator.scaled() derives them from the VM count
        self.scenario: dict[str, Any] = generate(vms=vms, clusters=clusters, volumes=volumes, ports=ports,
                                                 routers=routers, projects=projects, seed=seed,
                                                 images=vms // 50, stacks=vms // 100,
                                                 load_balancers=vms // 20)
        self.tls = min(tls, len(TLS_TYPES))  # https catalog endpoints, each a TLS server of its own
        self.page_max = page_max
        self.sim = Simulator(scenario=self.scenario, page_max=page_max)
        self._tmp = tempfile.TemporaryDirectory(prefix=f"vio-bench-{label}-", dir=workdir)
        self.dir = Path(self._tmp.name)
        self.clouds_yaml = self.dir / "clouds.yaml"
        self.cache_dir = self.dir / "cache"
        self.env: dict[str, str] = {}

    def start(self) -> SimCloud:
        """Start serving; afterwards ``env`` points a command at this cloud."""
        self.sim.start()
        self.sim.write_clouds_yaml(self.clouds_yaml, cloud="vio-bench")
        if self.tls:
            ca, certfile, keyfile = certs.mint(self.dir / "pki")
            for stype in TLS_TYPES[:self.tls]:
                self.sim.tls_endpoint(stype, certfile, keyfile, path=f"/{stype}", interfaces=["public"])
            self.clouds_yaml.write_text(self.clouds_yaml.read_text() + f"    cacert: {ca}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml), OS_CLOUD="vio-bench",
                   VIO_CHECKS_CACHE_DIR=str(self.cache_dir), PYTHONWARNINGS="ignore")
        self.env = env
        return self

    def stop(self) -> None:
        self.sim.stop()
        self._tmp.cleanup()

    def ids(self, kind: str) -> list[str]:
        """Ids of the generated objects of a kind (servers, volumes, ports, hypervisors, routers, ...)."""
        return [o["id"] for o in self.scenario.get(kind, []) if o.get("id")]

    def counts(self) -> dict[str, int]:
        """Number of generated objects per kind."""
        return {k: len(v) for k, v in self.scenario.items() if isinstance(v, list)}

    # -- the simulator's admin API -------------------------------------------------------------------

    def counters(self) -> dict:
        """{"total", "token_issues", "paths": {"GET /compute/v2.1/servers/detail": n, ...}}"""
        return self.sim.counters()

    def reset_counters(self) -> None:
        self.sim.reset_counters()

    def expire_tokens(self) -> None:
        self.sim.expire_tokens()


def simulator_module() -> str:
    """Where the simulator was imported from (for the report)."""
    return Simulator.__module__
