"""`make demo`: start the simulator, sweep it, run every command against it, stop it.

Everything runs as the real commands (subprocesses from this venv), with a throw-away clouds.yaml and
cache directory, so what it prints is exactly what a user would see on a real VIO cloud.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from vio_checks.sim import Simulator

BIN = Path(sys.executable).parent
CLOUD = "vio-sim"
EXIT = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def _bold(text: str) -> str:
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text


class Demo:
    def __init__(self, sim: Simulator, workdir: Path) -> None:
        self.sim = sim
        clouds = workdir / "clouds.yaml"
        sim.write_clouds_yaml(clouds, cloud=CLOUD)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(clouds), VIO_CHECKS_CACHE_DIR=str(workdir / "cache"))

    def run(self, command: str, *args: str, show_exit: bool = True) -> subprocess.CompletedProcess:
        argv = [command, "--os-cloud", CLOUD, *args]
        print(_bold("$ " + " ".join(argv)))
        p = subprocess.run([str(BIN / command), *argv[1:]], env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
        out = (p.stdout + p.stderr).rstrip("\n")
        print("  " + out.replace("\n", "\n  ") if out else "  (no output)")
        if show_exit:
            print(f"  [exit {p.returncode}: {EXIT.get(p.returncode, '?')}]")
        print()
        return p

    def section(self, title: str) -> None:
        print(_bold(f"== {title} ") + "=" * max(3, 70 - len(title)))
        print()


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="vio-demo-"))
    try:
        with Simulator(scenario="demo") as sim:
            demo = Demo(sim, workdir)
            print(f"vio-checks demo: a simulated VIO cloud (Keystone, Nova, Neutron, Cinder) at {sim.url}")
            print(f"clouds.yaml and cache in {workdir} (removed afterwards)\n")
            demo.section("1. Discovery: one paged sweep of the APIs into the shared cache")
            if demo.run("vio-discover", show_exit=False).returncode != 0:
                return 1
            demo.run("vio-discover", "--json", show_exit=False)
            demo.section("2. Checks (read the cached inventory; no API call while it is fresh)")
            for argv in _check_examples():
                demo.run(*argv)
            print("Done: the simulator is stopped and the temporary files are removed.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _check_examples() -> list[list[str]]:
    """Each check once in aggregate mode; single-object runs are added as the checks land."""
    checks = sorted(p.name for p in BIN.glob("check_vio_*"))
    return [[c] for c in checks]


if __name__ == "__main__":
    sys.exit(main())
