"""`make demo`: start the simulator, sweep it, run every command against it, stop it.

Everything runs as the real commands (subprocesses from this venv), with a throw-away clouds.yaml and
cache directory, so what it prints is exactly what a user would see on a real VIO cloud.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from vio_sim import Simulator

BIN = Path(sys.executable).parent
CLOUD = "vio-sim"
EXIT = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
#: Perfdata wider than this is shortened on screen (the demo's display only; the checks print it whole).
PERF_WIDTH = 200
_PERF = re.compile(r"^(?P<head>.*? \| )(?P<perf>.*)$")


def shown(line: str) -> str:
    """A line of check output as the demo shows it: perfdata past PERF_WIDTH characters cut with `...`."""
    m = _PERF.match(line)
    if not m or len(m.group("perf")) <= PERF_WIDTH:
        return line
    return m.group("head") + m.group("perf")[:PERF_WIDTH].rsplit(" ", 1)[0] + " ..."


def _bold(text: str) -> str:
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text


class Demo:
    def __init__(self, sim: Simulator, workdir: Path) -> None:
        self.sim = sim
        clouds = workdir / "clouds.yaml"
        sim.write_clouds_yaml(clouds, cloud=CLOUD)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(clouds), VIO_CHECKS_CACHE_DIR=str(workdir / "cache"))

    def run(self, command: str, *args: str, show_exit: bool = True, subcommand: str | None = None,
            meaning: dict[int, str] = EXIT, quiet: bool = False) -> subprocess.CompletedProcess:
        argv = [command, *([subcommand] if subcommand else []), "--os-cloud", CLOUD, *args]
        print(_bold("$ " + shlex.join(argv)))  # quoted, so a name like domain-c9(Cluster-B) pastes
        p = subprocess.run([str(BIN / command), *argv[1:]], env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=300)
        out = "\n".join(shown(line) for line in (p.stdout + p.stderr).rstrip("\n").splitlines())
        if not quiet:
            print("  " + out.replace("\n", "\n  ") if out else "  (no output)")
        if show_exit:
            print(f"  [exit {p.returncode}: {meaning.get(p.returncode, '?')}]")
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
            demo.section("2. Checks in aggregate mode: one line per kind, worst offenders below")
            for argv in _aggregate_checks():
                demo.run(*argv)
            demo.section("3. Checks of single objects (what the generated Icinga config runs)")
            for argv in _single_checks(sim.dump()):
                demo.run(*argv)
            demo.section("4. Inventory changes: a VM migrates, one is deleted, one added; then a sweep")
            _change_cloud(sim)
            demo.run("vio-discover", show_exit=False)
            demo.run("check_vio_inventory")
            demo.run("vio-discover", "--events", show_exit=False)
            demo.section("5. Generated Icinga 2 config: hosts, services and the dependency tree")
            _generate(demo, workdir)
            demo.section("6. Root cause: a compute node is down; what it takes with it, and why a VM is dark")
            _root_cause(demo, sim.dump())
            print("Done: the simulator is stopped and the temporary files are removed.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


GENERATE_EXIT = {0: "unchanged", 1: "changed", 2: "error"}


def _generate(demo: Demo, workdir: Path) -> None:
    """Write the config (validated by the real icinga2 when it is installed), show one VM's part of it."""
    out = workdir / "vio-sim.conf"
    validate = ["--validate"] if shutil.which("icinga2") else []
    demo.run("vio-icinga", "--output", str(out), *validate, subcommand="generate", meaning=GENERATE_EXIT)
    if not out.exists():
        return
    text = out.read_text()
    print("  " + "\n  ".join(text.splitlines()[:2]))
    print("  ...\n  (one VM: its host, its dependency on the hypervisor, its interfaces and volumes with "
          "theirs)\n")
    blocks = text.split("\n\n")
    start = next((i for i, b in enumerate(blocks) if b.startswith("object Host ") and "vio_kind = \"vm\"" in b
                  and "floating" not in b), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(blocks)) if blocks[i].startswith("object Host ")),
                   len(blocks))
        print("  " + "\n\n".join(blocks[start:end]).replace("\n", "\n  ") + "\n")
    print("Run again with nothing changed: the file is left alone and the exit code says so, so\n"
          "`vio-icinga generate ... || systemctl reload icinga2` is the whole cron job.\n")
    demo.run("vio-icinga", "--output", str(out), subcommand="generate", meaning=GENERATE_EXIT)


IMPACT_EXIT = {0: "answered", 3: "cannot answer"}


def _root_cause(demo: Demo, state: dict) -> None:
    """The story the demo cloud stages: nova-compute down on one compute node → its hypervisor → its VMs."""
    down = sorted(c["host"] for c in state["compute_services"]
                  if c["binary"] == "nova-compute" and c["state"] == "down")
    hv = next((h for h in state["hypervisors"] if h.get("service", {}).get("host") in down), None)
    if hv is None:
        print("(no compute node is down in this cloud)\n")
        return
    host = hv["service"]["host"]
    vms = sorted(s["name"] for s in state["servers"] if s.get("OS-EXT-SRV-ATTR:host") == host)
    print(f"nova-compute on {host} is down, so its hypervisor (vSphere cluster) {hv['hypervisor_hostname']}\n"
          "is down and its VMs cannot be judged. In Icinga only the nova-compute service notifies;\n"
          "everything below it is unreachable. The same tree answers from a shell:\n")
    demo.run("check_vio_hypervisor", "--id", hv["hypervisor_hostname"])
    demo.run("vio-icinga", hv["hypervisor_hostname"], subcommand="impact", meaning=IMPACT_EXIT)
    if vms:
        demo.run("vio-icinga", vms[0], subcommand="rootcause", meaning=IMPACT_EXIT)


def _aggregate_checks() -> list[list[str]]:
    return [["check_vio_discovery"], ["check_vio_service", "--deployment-mode", "ha"],
            ["check_vio_hypervisor"], ["check_vio_vm"], ["check_vio_volume"], ["check_vio_interface"],
            ["check_vio_router"]]


def _single_checks(state: dict) -> list[list[str]]:
    """One healthy and one broken object of a few kinds, picked from the simulator's state."""
    def pick(kind: str, test) -> dict | None:
        return next((o for o in state.get(kind, []) if test(o)), None)

    runs = []
    hv = pick("hypervisors", lambda h: "(" in h["hypervisor_hostname"])
    if hv:
        runs.append(["check_vio_hypervisor", "--id", hv["hypervisor_hostname"]])
    for test in (lambda s: s["status"] == "ERROR", lambda s: s["status"] == "ACTIVE"):
        vm = pick("servers", test)
        if vm:
            runs.append(["check_vio_vm", "--id", vm["id"]])
    vm = pick("servers", lambda s: s["status"] == "ACTIVE")
    if vm:
        runs.append(["check_vio_interface", "--server", vm["name"]])
    vol = pick("volumes", lambda v: v["status"] == "in-use")
    if vol:
        runs.append(["check_vio_volume", "--id", vol["id"]])
    router = pick("routers", lambda r: r.get("ha"))
    if router:
        runs.append(["check_vio_router", "--id", router["id"]])
    runs.append(["check_vio_service", "--binary", "nova-scheduler", "--expect", "nova-scheduler=2"])
    return runs


def _change_cloud(sim: Simulator) -> None:
    state = sim.dump()
    up = {c["host"] for c in state["compute_services"]
          if c["binary"] == "nova-compute" and c["state"] == "up" and c["status"] == "enabled"}
    active = [s for s in state["servers"] if s["status"] == "ACTIVE" and s.get("OS-EXT-SRV-ATTR:host") in up]
    hosts = sorted(up)
    if len(active) >= 2 and len(hosts) >= 2:
        mover = active[0]
        target = next(h for h in hosts if h != mover["OS-EXT-SRV-ATTR:host"])
        print(f"(simulator: live-migrating {mover['name']} to {target}, deleting {active[1]['name']}, "
              "creating demo-new-01)\n")
        sim.migrate(mover["id"], target, type="live-migration")
        sim.delete("servers", active[1]["id"])
        sim.add("servers", {"name": "demo-new-01", "host": target, "project": mover.get("tenant_id")})


if __name__ == "__main__":
    sys.exit(main())
