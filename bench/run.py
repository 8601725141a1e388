#!/usr/bin/env python3
"""The vio-checks benchmark: ``make bench`` (full, writes BENCHMARKS.md) or ``bench/run.py --quick`` (smoke).

Everything runs against the simulator on loopback (started in this process, see simenv.py, the only module
that imports it) through the INSTALLED commands (vio-discover, check_vio_*, vio-icinga), as Icinga would run
them. Each child is reaped with os.wait4, so its CPU time (user + system) and peak RSS are its own. Figures
that compare two things run them interleaved (A B B A ...) in the same run: the ratios are the figures that
count, absolute times are context (they move with whatever else the machine is doing).

Figures (a function each): 1 warm single-object check vs the bare imports, 2 the same check on a small and a
big cloud, 3 sweeps (requests, wall, peak RSS, token reuse), 4 a stampede of checks on an expired cache,
5 active throughput vs a plain authenticate-and-list plugin, 6 vio-icinga generate and validation,
7 bulk push against a real icinga2 (bulk.py).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bulk  # noqa: E402
import simenv  # noqa: E402  (the one import of the simulator, see simenv.py)
from procs import (  # noqa: E402
    Child,
    Proc,
    cmd,
    fmt_s,
    fmt_spread,
    holds,
    percentile,
    ratio,
    run,
    spread,
)

BIN = Path(sys.executable).parent
PY = sys.executable
BASELINE_IMPORT = "import nagiosplugin, diskcache"
WARM = ("--max-age", "1h")  # the cache is fresh for the whole figure, whatever the machine's speed
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: A check's default -t, and what a check that waited out its budget for another process's sweep says.
CHECK_DEFAULT_TIMEOUT = 30
WAITED_SAID = "another process is still sweeping"
#: Requests a sweep may add to the pages it needs: token, version discovery, the per-L3-agent hosting lists.
SWEEP_OVERHEAD = 20
SWEEP_LISTS = ("servers", "volumes", "ports", "networks", "routers", "hypervisors", "compute_services",
               "volume_services", "migrations", "agents", "projects")


@dataclass
class Size:
    """Numbers of one benchmark mode."""

    small: dict[str, int]
    big: dict[str, int]
    page_max: int
    runs: int  # interleaved runs per side, figures 1 and 2
    sweeps: int  # sweeps per cloud, figure 3
    stampede: int  # checks started at once, figure 4
    stampede_max_age: int  # --max-age of the stampede; the cache is made older than this first
    stampede_timeout: int  # -t of the stampede's checks: long enough for a busy 2-core box (see figure 4)
    throughput: int  # checks per side, figure 5
    rounds: int  # interleaved rounds, figure 5
    renders: int  # vio-icinga generate runs, figure 6
    mid: dict[str, int]  # the cloud between small and big, figure 7 (bulk push at mid and big)
    bulk_rounds: int  # full push rounds per size, figure 7


FULL = Size(small=dict(vms=100, clusters=40, volumes=80, ports=200, routers=10, projects=10),
            big=dict(vms=10000, clusters=40, volumes=8000, ports=20000, routers=200, projects=50),
            page_max=1000, runs=25, sweeps=3, stampede=200, stampede_max_age=60, stampede_timeout=120,
            throughput=64, rounds=4,
            renders=3, mid=dict(vms=1000, clusters=40, volumes=800, ports=2000, routers=20, projects=20),
            bulk_rounds=2)
QUICK = Size(small=dict(vms=20, clusters=2, volumes=16, ports=40, routers=4, projects=3),
             big=dict(vms=300, clusters=4, volumes=240, ports=600, routers=6, projects=5),
             page_max=100, runs=3, sweeps=2, stampede=12, stampede_max_age=5, stampede_timeout=60,
             throughput=16, rounds=2,
             renders=1, mid=dict(vms=50, clusters=2, volumes=40, ports=100, routers=4, projects=3),
             bulk_rounds=1)


# --- the figures --------------------------------------------------------------------------------------


def active_vm_ids(cloud: simenv.SimCloud, n: int = 20) -> list[str]:
    """Ids of ACTIVE VMs with a host: single-object checks on them answer OK, the common case."""
    ids = [s["id"] for s in cloud.scenario["servers"]
           if s.get("status") == "ACTIVE" and s.get("OS-EXT-SRV-ATTR:host")]
    return ids[:n] or cloud.ids("servers")[:n]


def interleaved(a: list[str], b: list[str], env_a: dict, env_b: dict, runs: int,
                vary_a: list[list[str]] | None = None, vary_b: list[list[str]] | None = None,
                ) -> tuple[list[Proc], list[Proc]]:
    """Run A and B ``runs`` times each, alternating A B B A ..., after one discarded warm-up each.
    ``vary_*`` (optional) gives per-run extra arguments, cycled."""
    def argv(base: list[str], vary: list[list[str]] | None, i: int) -> list[str]:
        return base + (vary[i % len(vary)] if vary else [])

    run(argv(a, vary_a, 0), env_a)
    run(argv(b, vary_b, 0), env_b)
    ra, rb = [], []
    for i in range(runs):
        order = [("a", a, env_a, vary_a), ("b", b, env_b, vary_b)]
        if i % 2:
            order.reverse()
        for side, base, env, vary in order:
            (ra if side == "a" else rb).append(run(argv(base, vary, i), env))
    return ra, rb


def figure_warm_check(small: simenv.SimCloud, size: Size) -> dict:
    """1. Warm single-object check vs ``python -c "import nagiosplugin, diskcache"``, plus -X importtime."""
    vms = [["--id", v] for v in active_vm_ids(small)]
    check = cmd("check_vio_vm", *WARM)
    base = [PY, "-c", BASELINE_IMPORT]
    ra, rb = interleaved(check, base, small.env, small.env, size.runs, vary_a=vms)
    res = {
        "check": " ".join(["check_vio_vm", "--id", "VM", *WARM]),
        "baseline": f'python -c "{BASELINE_IMPORT}"',
        "check_cpu": spread([p.cpu for p in ra]), "check_wall": spread([p.wall for p in ra]),
        "base_cpu": spread([p.cpu for p in rb]), "base_wall": spread([p.wall for p in rb]),
        "bad": [f"rc={p.rc}: {p.status}" for p in ra if p.rc not in (0, 1, 2)],
    }
    res["cpu_ratio"] = ratio(res["check_cpu"]["median"], res["base_cpu"]["median"])
    res["wall_ratio"] = ratio(res["check_wall"]["median"], res["base_wall"]["median"])
    res["importtime"] = importtime([PY, "-X", "importtime", str(BIN / "check_vio_vm"), *vms[0], *WARM],
                                  small.env)
    return res


def importtime(argv: list[str], env: dict, top: int = 15) -> dict:
    """The ``-X importtime`` profile of one run: total and the top imports by cumulative time."""
    p = run(argv, env)
    rows = []
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m:
            rows.append({"self_ms": int(m.group(1)) / 1000, "cum_ms": int(m.group(2)) / 1000,
                         "depth": len(m.group(3)) // 2, "module": m.group(4)})
    total = sum(r["self_ms"] for r in rows)
    return {"total_ms": total, "modules": len(rows), "rc": p.rc, "wall": p.wall, "cpu": p.cpu,
            "top": sorted(rows, key=lambda r: -r["cum_ms"])[:top]}


def figure_scaling(small: simenv.SimCloud, big: simenv.SimCloud, size: Size) -> dict:
    """2. The same warm check on the small and on the big cloud, interleaved."""
    check = cmd("check_vio_vm", *WARM)
    ra, rb = interleaved(check, check, small.env, big.env, size.runs,
                         vary_a=[["--id", v] for v in active_vm_ids(small)],
                         vary_b=[["--id", v] for v in active_vm_ids(big)])
    res = {"small_vms": small.sizes["vms"], "big_vms": big.sizes["vms"],
           "small_cpu": spread([p.cpu for p in ra]), "small_wall": spread([p.wall for p in ra]),
           "big_cpu": spread([p.cpu for p in rb]), "big_wall": spread([p.wall for p in rb]),
           "bad": [f"rc={p.rc}: {p.status}" for p in ra + rb if p.rc not in (0, 1, 2)]}
    res["cpu_ratio"] = ratio(res["big_cpu"]["median"], res["small_cpu"]["median"])
    res["wall_ratio"] = ratio(res["big_wall"]["median"], res["small_wall"]["median"])
    return res


def request_template(key: str, object_kinds: dict[str, str]) -> tuple[str, str | None]:
    """A counter key with object ids replaced by ``{<kind> id}``, and the kind of object it names."""
    kind = None

    def sub(m: re.Match) -> str:
        nonlocal kind
        if m.group(0) in object_kinds:
            kind = object_kinds[m.group(0)]
            return f"{{{kind} id}}"
        return m.group(0)

    return UUID_RE.sub(sub, key), kind


def pages_needed(cloud: simenv.SimCloud) -> int:
    """Pages a sweep cannot avoid: per listed collection, one per full page plus the last (short or empty)."""
    counts = cloud.counts()
    # Glance and Heat (in the catalog only when the cloud has images, stacks): one per page, the same way
    optional = [k for k in ("images", "stacks") if counts.get(k)]
    return sum(counts.get(k, 0) // cloud.page_max + 1 for k in (*SWEEP_LISTS, *optional))


def figure_sweep(cloud: simenv.SimCloud, size: Size) -> dict:
    """3. Sweeps: requests (vs pages needed, per object), wall, peak RSS; later sweeps reuse the token."""
    # the admin project's id is in every Cinder path; L3 agents are infrastructure (a few per cloud, the
    # README's "few L3 agents"): requests per agent are fixed overhead, not per object
    object_kinds = {o["id"]: kind for kind, objs in cloud.scenario.items()
                    if kind != "projects" and isinstance(objs, list)
                    for o in objs if isinstance(o, dict) and o.get("id")}
    runs = []
    for _ in range(size.sweeps):
        cloud.reset_counters()
        p = run(cmd("vio-discover", "--json"), cloud.env)
        counters = cloud.counters()
        try:
            reported = json.loads(p.stdout)
        except ValueError:
            reported = {}
        runs.append((p, counters, reported))
    cloud.last_sweep = time.monotonic()  # type: ignore[attr-defined]
    first_p, first_c, first_r = runs[0]
    ha_routers = {r["id"] for r in cloud.scenario.get("routers", []) if r.get("ha")}
    templates: Counter[str] = Counter()
    per_object: Counter[str] = Counter()
    per_agent: Counter[str] = Counter()
    per_ha_router: Counter[str] = Counter()
    for key, n in first_c["paths"].items():
        t, kind = request_template(key, object_kinds)
        templates[t] += n
        if kind == "agents":
            per_agent[t] += n
        elif kind == "routers" and key.endswith("/l3-agents") and UUID_RE.search(key)[0] in ha_routers:
            per_ha_router[t] += n  # ha_state per hosting agent is only in this reply (see the report)
        elif kind:
            per_object[t] += n
    servers_pages = sum(n for k, n in first_c["paths"].items() if k.endswith("/servers/detail"))
    return {
        "label": cloud.label, "sizes": cloud.sizes, "page_max": cloud.page_max,
        "rc": [p.rc for p, _, _ in runs], "errors": [p.stderr.strip()[:300] for p, _, _ in runs if p.rc],
        "requests": first_c["total"], "requests_reported": first_r.get("requests"),
        "pages_needed": pages_needed(cloud), "per_object": dict(per_object), "per_agent": dict(per_agent),
        "per_object_total": sum(per_object.values()), "templates": dict(templates.most_common()),
        "ha_routers": len(ha_routers), "per_ha_router": dict(per_ha_router),
        "per_ha_router_total": sum(per_ha_router.values()),
        "requests_allowed": pages_needed(cloud) + SWEEP_OVERHEAD + len(ha_routers),
        "token_first": first_c["token_issues"],
        "token_later": [c["token_issues"] for _, c, _ in runs[1:]],
        "requests_later": [c["total"] for _, c, _ in runs[1:]],
        "wall": spread([p.wall for p, _, _ in runs]), "cpu": spread([p.cpu for p, _, _ in runs]),
        "rss_mb": spread([p.maxrss_mb for p, _, _ in runs]),
        "sweep_seconds": spread([r.get("seconds", math.nan) for _, _, r in runs]),
        "servers_detail_per_sweep": servers_pages,
    }


def sweep_requests_hold(f3: dict) -> bool:
    """Figure 3's request target: pages + 20 + one per HA router, none per other object."""
    return (f3["requests"] <= f3["requests_allowed"] and f3["per_object_total"] == 0
            and f3["per_ha_router_total"] == f3["ha_routers"])


def stampede_argv(cloud: simenv.SimCloud, n: int, max_age: int, timeout: int) -> list[list[str]]:
    """n single-object checks over five kinds, on different objects."""
    kinds = [("check_vio_vm", cloud.ids("servers")), ("check_vio_volume", cloud.ids("volumes")),
             ("check_vio_interface", cloud.ids("ports")), ("check_vio_hypervisor", cloud.ids("hypervisors")),
             ("check_vio_router", cloud.ids("routers"))]
    out = []
    for i in range(n):
        name, ids = kinds[i % len(kinds)]
        out.append(cmd(name, "--id", ids[(i // len(kinds)) % len(ids)], "--max-age", max_age, "-t", timeout))
    return out


def figure_stampede(cloud: simenv.SimCloud, size: Size, servers_detail_per_sweep: int) -> dict:
    """4. ``size.stampede`` checks started at once on an expired cache: one sweep, exit codes, wall."""
    max_age = size.stampede_max_age
    wait = getattr(cloud, "last_sweep", 0) + max_age + 1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    cloud.reset_counters()
    argvs = stampede_argv(cloud, size.stampede, max_age, size.stampede_timeout)
    t0 = time.perf_counter()
    children = [Child(a, cloud.env, timeout=600) for a in argvs]
    spawn = time.perf_counter() - t0
    with ThreadPoolExecutor(max_workers=len(children)) as pool:
        procs = list(pool.map(Child.wait, children))
    total = time.perf_counter() - t0
    counters = cloud.counters()
    detail = sum(n for k, n in counters["paths"].items() if k.endswith("/servers/detail"))
    walls = [p.wall for p in procs]
    internal = [f"{Path(p.cmd[0]).name}: {p.status}" for p in procs
                if "internal error" in (p.stdout + p.stderr).lower()]
    tracebacks = [Path(p.cmd[0]).name for p in procs if "Traceback (most recent call last)" in p.stderr]
    unknown = Counter(p.status for p in procs if p.rc == 3)
    # the rule: a check that waits out its budget says what it waited for ("another process is still
    # sweeping" on the previous inventory); a bare "timed out after N s" does not
    said = [p for p in procs if WAITED_SAID in p.stdout]
    silent = [p.status for p in procs if "timed out" in p.status and WAITED_SAID not in p.stdout]
    return {
        "label": cloud.label, "vms": cloud.sizes["vms"], "checks": len(procs), "max_age": max_age,
        "spawn_seconds": spawn, "total_seconds": total,
        "servers_detail": detail, "servers_detail_per_sweep": servers_detail_per_sweep,
        "sweeps": ratio(detail, servers_detail_per_sweep), "token_issues": counters["token_issues"],
        "requests": counters["total"],
        "rc": dict(sorted(Counter(p.rc for p in procs).items())),
        "p50": percentile(walls, 50), "p95": percentile(walls, 95), "max": max(walls),
        "internal_errors": internal, "tracebacks": tracebacks,
        "timeout": size.stampede_timeout,
        "over_default_timeout": sum(w > CHECK_DEFAULT_TIMEOUT for w in walls),
        "waited_said": len(said), "silent_timeouts": silent,
        "unknown": dict(unknown.most_common(10)),
    }


def throughput(argvs: list[list[str]], env: dict, workers: int) -> tuple[float, list[Proc]]:
    """Run argvs through ``workers`` parallel workers; checks per second of wall."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        procs = list(pool.map(lambda a: run(a, env), argvs))
    return len(argvs) / (time.perf_counter() - t0), procs


def figure_throughput(small: simenv.SimCloud, size: Size, workers: int = 8) -> dict:
    """5. Warm checks per second with 8 workers vs a plain authenticate-and-list plugin (interleaved)."""
    vms = active_vm_ids(small)
    per_round = max(1, size.throughput // size.rounds)
    warm = [cmd("check_vio_vm", "--id", vms[i % len(vms)], *WARM) for i in range(per_round)]
    plain = [[PY, str(HERE / "baseline_plugin.py")] for _ in range(per_round)]
    rates_a, rates_b, bad = [], [], []
    for r in range(size.rounds):
        order = [("a", warm), ("b", plain)]
        if r % 2:
            order.reverse()
        for side, argvs in order:
            rate, procs = throughput(argvs, small.env, workers)
            (rates_a if side == "a" else rates_b).append(rate)
            bad += [f"{Path(p.cmd[1 if side == 'b' else 0]).name} rc={p.rc}: {p.status}"
                    for p in procs if p.rc not in (0, 1, 2)]
    res = {"workers": workers, "per_round": per_round, "rounds": size.rounds, "vms": small.sizes["vms"],
           "warm": spread(rates_a), "plain": spread(rates_b), "bad": bad[:10]}
    res["ratio"] = ratio(res["warm"]["median"], res["plain"]["median"])
    return res


def validator(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)


def figure_generate(big: simenv.SimCloud, size: Size, workdir: Path) -> dict:
    """6. vio-icinga generate on the big cloud: wall, output size; icinga2 / nagios4 validation times."""
    out = workdir / "generate"
    out.mkdir(exist_ok=True)
    renders = []
    for i in range(size.renders):
        path = out / f"render-{i}.conf"
        p = run(cmd("vio-icinga", "generate", "--cache-only", "--output", path), big.env)
        renders.append((p, path.stat().st_size if path.exists() else 0,
                        path.read_text(errors="replace").count("\nobject ") if path.exists() else 0))
    res: dict[str, Any] = {
        "vms": big.sizes["vms"], "wall": spread([p.wall for p, _, _ in renders]),
        "cpu": spread([p.cpu for p, _, _ in renders]), "rss_mb": spread([p.maxrss_mb for p, _, _ in renders]),
        "bytes": renders[-1][1], "objects": renders[-1][2], "rc": [p.rc for p, _, _ in renders],
        "errors": [p.stderr.strip()[:300] for p, _, _ in renders if p.rc not in (0, 1)],
        "validate": {},
    }
    for fmt, binary, suffix in (("icinga2", "icinga2", "conf"), ("nagios", "nagios4", "cfg")):
        exe = validator(binary)
        if exe is None:
            res["validate"][fmt] = {"skipped": f"{binary} not installed"}
            continue
        path = out / f"validate-{fmt}.{suffix}"
        p = run(cmd("vio-icinga", "generate", "--cache-only", "--format", fmt, "--validate", "-v",
                    "--output", path), big.env)
        m = re.search(r"^vio-icinga: validated .*\((?:icinga2 daemon -C(?: of Icinga [\d.]+)?|nagios -v), "
                      r"([\d.]+) s\)$", p.stdout, re.M)
        res["validate"][fmt] = {"binary": exe, "rc": p.rc, "wall": p.wall,
                                "seconds": float(m.group(1)) if m else None,
                                "bytes": path.stat().st_size if path.exists() else 0,
                                "error": None if p.rc in (0, 1) else (p.stderr or p.stdout).strip()[:500]}
    return res


def active_check_cpu(results: dict, big: simenv.SimCloud) -> tuple[float, str]:
    """CPU seconds of one warm active check on the big cloud (figure 2's median, else figure 1's, else
    measured here), and where the number comes from."""
    if results.get("2"):
        where = f"figure 2's warm `check_vio_vm` at {big.sizes['vms']} VMs (median)"
        return results["2"]["big_cpu"]["median"], where
    if results.get("1"):
        return results["1"]["check_cpu"]["median"], "figure 1's warm `check_vio_vm` (median)"
    ids = active_vm_ids(big, 5)
    cpus = [run(cmd("check_vio_vm", "--id", v, *WARM), big.env).cpu for v in ids]
    return spread(cpus)["median"], f"warm `check_vio_vm` at {big.sizes['vms']} VMs (median of {len(cpus)})"


def figure_bulk(big: simenv.SimCloud, size: Size, workdir: Path, results: dict, log) -> dict:
    """7. vio-icinga push against a real icinga2 at the mid and the big size (see bulk.py)."""
    mid = simenv.SimCloud("mid", page_max=size.page_max, workdir=workdir, **size.mid).start()
    try:
        p = run(cmd("vio-discover"), mid.env)
        if p.rc != 0:
            return {"error": f"vio-discover at {mid.sizes['vms']} VMs failed: {p.stderr.strip()[:500]}"}
        return bulk.figure_bulk([mid, big], size.bulk_rounds, workdir, active_check_cpu(results, big), log)
    finally:
        mid.stop()


# --- the report ---------------------------------------------------------------------------------------


def _version(cmdline: list[str]) -> str:
    try:
        p = subprocess.run(cmdline, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (p.stdout or p.stderr).strip().splitlines()
    for line in text:
        m = re.search(r"(r?\d+\.\d+[\w.\-]*)", line)
        if m:
            return m.group(1)
    return text[0] if text else "?"


def machine() -> dict:
    """What ran the benchmark."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
        mem_gb = f"{int(mem) / 1024 / 1024:.1f} GB"
    except (OSError, IndexError, ValueError):
        mem_gb = "?"
    versions = {"python": platform.python_version()}
    for dist in ("vio-checks", "openstacksdk", "keystoneauth1", "nagiosplugin", "diskcache"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    for name, flag in (("icinga2", "--version"), ("nagios4", "--version")):
        exe = validator(name)
        versions[name] = _version([exe, flag]) if exe else "not installed"
    return {"host": platform.node(), "kernel": f"{platform.system()} {platform.release()}",
            "cpu": cpu, "cores": os.cpu_count(), "memory": mem_gb, "versions": versions,
            "simulator": simenv.simulator_module(), "load_start": os.getloadavg()}



def render(results: dict, quick: bool) -> str:
    """BENCHMARKS.md."""
    m = results["machine"]
    L: list[str] = []
    add = L.append
    add("# vio-checks benchmarks" + (" (quick smoke run: small numbers, not the figures)" if quick else ""))
    add("")
    add(f"Written by `{'bench/run.py --quick' if quick else 'make bench'}` on {results['date']} "
        f"in {results['seconds']:.0f} s. Everything ran against the simulator (`{m['simulator']}`) on "
        "loopback, through the installed commands. **Ratios measured side by side in the same run (A and B "
        "interleaved) are the figures that count; absolute times are context** and move with the machine's "
        "load.")
    add("")
    add("## Machine")
    add("")
    add(f"- {m['host']}: {m['kernel']}, {m['cores']} cores ({m['cpu']}), {m['memory']} RAM")
    add(f"- load average at start {', '.join(f'{x:.2f}' for x in m['load_start'])}; at end "
        f"{', '.join(f'{x:.2f}' for x in results['load_end'])} (other work on the machine inflates absolute "
        "times)")
    add("- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    add("")
    add("CPU is user + system time of the child (os.wait4), wall is from spawn to reap, RSS is the child's "
        "ru_maxrss. Spreads are min / median / max.")
    add("")

    add("## Summary")
    add("")
    add("| # | figure | measured | target | holds |")
    add("|---|---|---|---|---|")
    for row in results["summary"]:
        add(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {holds(row[4])} |")
    add("")

    f1 = results.get("1")
    if f1:
        add("## 1. Warm single-object check against the bare imports")
        add("")
        add(f"`{f1['check']}` (cache fresh, bytecode as `pip install .` compiled it) against "
            f"`{f1['baseline']}`, {f1['check_cpu']['n']} interleaved runs each (one warm-up each discarded).")
        add("")
        add("| | CPU | wall |")
        add("|---|---|---|")
        add(f"| check_vio_vm --id | {fmt_spread(f1['check_cpu'])} | {fmt_spread(f1['check_wall'])} |")
        add(f"| import nagiosplugin, diskcache | {fmt_spread(f1['base_cpu'])} | "
            f"{fmt_spread(f1['base_wall'])} |")
        add(f"| **ratio of medians** (target CPU <= 1.2) | **{f1['cpu_ratio']:.2f}** | "
            f"{f1['wall_ratio']:.2f} |")
        add("")
        if f1["bad"]:
            add(f"Unexpected exits: {'; '.join(f1['bad'][:5])}")
            add("")
        add("What was changed to get there (from 2.02: 94 ms vs 46 ms): the model and the small records "
            "(verdicts, options, specs, freshness results) are plain classes with an explicit `__init__` "
            "instead of dataclasses (dataclasses + inspect and 30 exec'd `__init__`s were ~23 ms); a plain "
            "command line is read from the `Option` description without argparse (`options.parse_fast`; "
            "argparse still handles --help, errors and other spellings); the cache is read without "
            "diskcache's start-up rewrite of every setting (`cache.open_for_reading`, ~35 SQL writes, 3-4 "
            "ms); pathlib, typing, socket and uuid are no longer imported on the read path, nor the sweep's "
            "diff (changes.py); `text.one_line` uses a translation table instead of regexes compiled at "
            "import. `tests/test_warm_path.py` keeps the warm path free of these imports.")
        add("")
        it = f1["importtime"]
        add(f"`-X importtime` of the warm path (one run; {it['modules']} modules, {it['total_ms']:.0f} ms of "
            "import time in total); the top 15 by cumulative time:")
        add("")
        add("| cumulative | self | module |")
        add("|---|---|---|")
        for r in it["top"]:
            indent = "&nbsp;" * 2 * r["depth"]
            add(f"| {r['cum_ms']:.1f} ms | {r['self_ms']:.1f} ms | {indent}`{r['module']}` |")
        add("")

    f2 = results.get("2")
    if f2:
        add("## 2. The same check on a small and a big cloud")
        add("")
        add(f"`check_vio_vm --id VM --max-age 1h` on {f2['small_vms']} and on {f2['big_vms']} VMs (two "
            f"simulators, two caches), {f2['small_cpu']['n']} interleaved runs each.")
        add("")
        add("| cloud | CPU | wall |")
        add("|---|---|---|")
        add(f"| {f2['small_vms']} VMs | {fmt_spread(f2['small_cpu'])} | {fmt_spread(f2['small_wall'])} |")
        add(f"| {f2['big_vms']} VMs | {fmt_spread(f2['big_cpu'])} | {fmt_spread(f2['big_wall'])} |")
        add(f"| **ratio big / small** (target <= 1.1) | **{f2['cpu_ratio']:.2f}** | {f2['wall_ratio']:.2f} |")
        add("")
        if f2["bad"]:
            add(f"Unexpected exits: {'; '.join(f2['bad'][:5])}")
            add("")

    if results.get("3"):
        add("## 3. Sweeps")
        add("")
        add("`vio-discover --json`, run back to back; requests are the simulator's counters (every HTTP "
            "request, token and version discovery included). Pages needed: per listed collection "
            f"({', '.join(SWEEP_LISTS)}), one per full page of `page_max` plus the last.")
        add("")
        add("The target is pages + 20 + one request per HA router, and none for any other object. The one "
            "request per HA router (`GET /v2.0/routers/{id}/l3-agents`) cannot be paged away: an HA router "
            "is healthy only when exactly one of its hosting L3 agents is `active`, and Neutron returns "
            "`ha_state` per agent only in that per-router reply. The routers list (`GET /v2.0/routers`) "
            "says `ha: true` but nothing per agent, and the per-agent list (`GET /v2.0/agents/{id}/"
            "l3-routers`, which the sweep uses for hosting) has no `ha_state`. So the count grows with HA "
            "routers (a few hundred in a large cloud, not with VMs, ports or volumes); "
            "`tests/test_discovery.py` asserts exactly one such request per HA router and none for the "
            "others, and `tests/test_bench.py` asserts this target on the quick run.")
        add("")
        add("| cloud | requests (first sweep) | allowed: pages needed + 20 + HA routers | per-HA-router "
            "requests | other per-object requests | token requests, later sweeps | wall | peak RSS |")
        add("|---|---|---|---|---|---|---|---|")
        for f3 in results["3"]:
            s = f3["sizes"]
            add(f"| {s['vms']} VMs, {s['clusters']} clusters, {s['volumes']} volumes, {s['ports']} ports, "
                f"{s['routers']} routers ({f3['ha_routers']} HA) | {f3['requests']} | "
                f"{f3['requests_allowed']} = {f3['pages_needed']} + {SWEEP_OVERHEAD} + {f3['ha_routers']} | "
                f"{f3['per_ha_router_total']} | {f3['per_object_total']} | "
                f"{', '.join(map(str, f3['token_later'])) or 'n/a'} | {fmt_spread(f3['wall'])} | "
                f"{fmt_spread(f3['rss_mb'], lambda x: f'{x:.0f} MB')} |")
        add("")
        for f3 in results["3"]:
            add(f"Requests of the first sweep at {f3['sizes']['vms']} VMs by path (object ids as "
                f"`{{<kind> id}}`; "
                f"vio-discover reported {f3['requests_reported']}; later sweeps "
                f"{', '.join(map(str, f3['requests_later']))}):")
            add("")
            for t, n in f3["templates"].items():
                note = " (**per object**)" if t in f3["per_object"] else (
                    " (per L3 agent)" if t in f3["per_agent"] else (
                        " (per HA router)" if t in f3["per_ha_router"] else ""))
                add(f"- {n} × `{t}`{note}")
            add("")
            if f3["errors"]:
                add(f"Failed sweeps: {'; '.join(f3['errors'])}")
                add("")

    if results.get("4"):
        add("## 4. Checks started at once on an expired cache")
        add("")
        add("Single-object checks (vm, volume, interface, hypervisor, router in turn, each on another "
            "object) started together after the cache had grown older than their `--max-age`. Sweeps are "
            "counted as `GET .../servers/detail` requests divided by the pages one sweep reads. Every "
            "object exists and can be judged, so any UNKNOWN is the check failing under load. Spawning "
            "is not instant on a busy 2-core machine: the first children run while the last are forked.")
        add("")
        timeouts = sorted({f4["timeout"] for f4 in results["4"]})
        add(f"The checks run with `-t {', '.join(map(str, timeouts))}`, not the default "
            f"{CHECK_DEFAULT_TIMEOUT} s: on 2 cores, forking {results['4'][0]['checks']} Python processes "
            "and "
            "the one sweep they wait for (the simulator serving it from the benchmark's own process) take "
            f"most of {CHECK_DEFAULT_TIMEOUT} s at 10,000 VMs, so the default measures the machine's "
            f"queue, not the waiting. The column \"past {CHECK_DEFAULT_TIMEOUT} s\" counts the checks that "
            "would have run out of the default budget. The rule for a check that does run out of its budget "
            "while another process sweeps: it answers from the previous inventory and says so "
            f"(\"{WAITED_SAID}\"), or UNKNOWN naming what it waited for; a bare \"timed out after N s "
            "(-t)\" (the last-resort alarm) breaks the rule and is counted below.")
        add("")
        add("| cloud | checks | sweeps (target 1) | token requests | exit codes | p50 / p95 / max wall | "
            f"past {CHECK_DEFAULT_TIMEOUT} s | waited out -t, said so / silently | first spawn to last exit "
            "| internal errors |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        for f4 in results["4"]:
            rcs = ", ".join(f"{k}: {v}" for k, v in f4["rc"].items())
            add(f"| {f4['vms']} VMs | {f4['checks']} (spawned in {fmt_s(f4['spawn_seconds'])}) | "
                f"{f4['sweeps']:.3g} | {f4['token_issues']} | {rcs} | {fmt_s(f4['p50'])} / "
                f"{fmt_s(f4['p95'])} / {fmt_s(f4['max'])} | {f4['over_default_timeout']} | "
                f"{f4['waited_said']} / {len(f4['silent_timeouts'])} | {fmt_s(f4['total_seconds'])} | "
                f"{len(f4['internal_errors'])} |")
        add("")
        for f4 in results["4"]:
            if f4["internal_errors"] or f4["unknown"] or f4["tracebacks"]:
                add(f"At {f4['vms']} VMs:")
                for line in f4["internal_errors"][:10]:
                    add(f"- internal error: `{line}`")
                for status, n in f4["unknown"].items():
                    add(f"- {n} × UNKNOWN: `{status}`")
                if f4["tracebacks"]:
                    add(f"- tracebacks on stderr from: {', '.join(sorted(set(f4['tracebacks'])))}")
                add("")

    f5 = results.get("5")
    if f5:
        add("## 5. Active throughput")
        add("")
        add(f"{f5['workers']} parallel workers, {f5['rounds']} interleaved rounds of {f5['per_round']} runs "
            f"per side on the {f5['vms']}-VM cloud. Warm: `check_vio_vm --id VM --max-age 1h`. Plain: "
            "`bench/baseline_plugin.py`, which authenticates and lists all servers through openstacksdk on "
            "every run, as plain OpenStack plugins do.")
        add("")
        add("| | checks per second |")
        add("|---|---|")
        add(f"| warm vio-checks | {fmt_spread(f5['warm'], lambda x: f'{x:.1f}')} |")
        add(f"| plain plugin | {fmt_spread(f5['plain'], lambda x: f'{x:.1f}')} |")
        add(f"| **ratio warm / plain** | **{f5['ratio']:.1f}** |")
        add("")
        if f5["bad"]:
            add(f"Unexpected exits: {'; '.join(f5['bad'])}")
            add("")

    f6 = results.get("6")
    if f6:
        add("## 6. vio-icinga generate")
        add("")
        add(f"`vio-icinga generate --cache-only --output FILE` at {f6['vms']} VMs: wall "
            f"{fmt_spread(f6['wall'])}, CPU {fmt_spread(f6['cpu'])}, peak RSS "
            f"{fmt_spread(f6['rss_mb'], lambda x: f'{x:.0f} MB')}; {f6['bytes'] / 1e6:.1f} MB, "
            f"{f6['objects']} objects (exit codes {f6['rc']}).")
        add("")
        for e in f6["errors"]:
            add(f"Failed: `{e}`")
        add("| validation | binary | validated in | whole command (wall) | output |")
        add("|---|---|---|---|---|")
        for fmt, v in f6["validate"].items():
            if "skipped" in v:
                add(f"| {fmt} | skipped: {v['skipped']} | | | |")
            else:
                secs = "n/a" if v["seconds"] is None else f"{v['seconds']:.1f} s"
                failed = f"; FAILED: {v['error']}" if v["error"] else ""
                add(f"| `--format {fmt} --validate` | {v['binary']} | {secs} | {fmt_s(v['wall'])} "
                    f"| {v['bytes'] / 1e6:.1f} MB{failed} |")
        add("")

    if results.get("7"):
        bulk.render(results["7"], add, fmt_s, fmt_spread)

    add("## Reproducing one figure by hand (figure 1)")
    add("")
    add("```sh")
    add("mkdir -p /tmp/vb && .venv/bin/vio-sim --generate 100 --port 8080 "
        "--write-clouds-yaml /tmp/vb/clouds.yaml &")
    add("export OS_CLIENT_CONFIG_FILE=/tmp/vb/clouds.yaml OS_CLOUD=vio-sim "
        "VIO_CHECKS_CACHE_DIR=/tmp/vb/cache")
    add(".venv/bin/vio-discover")
    add("VM=$(curl -s localhost:8080/_sim/servers | .venv/bin/python -c "
        "'import json,sys; print(json.load(sys.stdin)[\"servers\"][0][\"id\"])')")
    add("for i in $(seq 20); do")
    add("  /usr/bin/time -f 'check %U+%S s CPU, %e s wall' "
        ".venv/bin/check_vio_vm --id $VM --max-age 1h >/dev/null")
    add(f"  /usr/bin/time -f 'base  %U+%S s CPU, %e s wall' .venv/bin/python -c '{BASELINE_IMPORT}'")
    add("done 2>&1 | sort   # compare the medians of the two groups")
    add("kill %1")
    add("```")
    add("")
    add(f"Everything: `make bench` (full; this run took {results['seconds']:.0f} s) or "
        "`.venv/bin/python bench/run.py --quick --output -` (smoke, under a minute). `--json PATH` also "
        "writes the raw results, `--only 1,3` runs some figures.")
    add("")
    return "\n".join(L)


def summary(results: dict) -> list[tuple]:
    """(#, figure, measured, target, holds) rows."""
    rows: list[tuple] = []
    f1 = results.get("1")
    if f1:
        rows.append(("1", "warm check CPU / bare imports CPU (medians)", f"{f1['cpu_ratio']:.2f} "
                     f"({fmt_s(f1['check_cpu']['median'])} vs {fmt_s(f1['base_cpu']['median'])})", "<= 1.2",
                     f1["cpu_ratio"] <= 1.2 and not f1["bad"]))
    f2 = results.get("2")
    if f2:
        rows.append(("2", f"check CPU at {f2['big_vms']} / at {f2['small_vms']} VMs (medians)",
                     f"{f2['cpu_ratio']:.2f}", "<= 1.1", f2["cpu_ratio"] <= 1.1 and not f2["bad"]))
    for f3 in results.get("3", []):
        v = f3["sizes"]["vms"]
        ok_rc = all(rc == 0 for rc in f3["rc"])
        rows.append(("3", f"sweep requests at {v} VMs", f"{f3['requests']} (pages {f3['pages_needed']}, "
                     f"{f3['per_ha_router_total']} for {f3['ha_routers']} HA routers, "
                     f"{f3['per_object_total']} per other object)",
                     f"<= pages + {SWEEP_OVERHEAD} + one per HA router ({f3['requests_allowed']}), none per "
                     "other object", ok_rc and sweep_requests_hold(f3)))
        rows.append(("3", f"sweep peak RSS at {v} VMs", f"{f3['rss_mb']['max']:.0f} MB "
                     f"(wall {fmt_s(f3['wall']['median'])})", "<= 400 MB",
                     ok_rc and f3["rss_mb"]["max"] <= 400))
        rows.append(("3", f"token requests of later sweeps at {v} VMs", ", ".join(map(str, f3["token_later"]))
                     or "n/a", "0", bool(f3["token_later"]) and not any(f3["token_later"])))
    for f4 in results.get("4", []):
        bad_rc = sum(n for rc, n in f4["rc"].items() if rc not in (0, 1, 2, 3))
        rows.append(("4", f"{f4['checks']} checks at once, expired cache, {f4['vms']} VMs: sweeps",
                     f"{f4['sweeps']:.3g}", "exactly 1", f4["sweeps"] == 1))
        unknown = sum(f4["unknown"].values())
        rows.append(("4", "... internal errors / UNKNOWN / exit codes outside 0..3 / tracebacks",
                     f"{len(f4['internal_errors'])} / {unknown} / {bad_rc} / {len(f4['tracebacks'])} "
                     f"(-t {f4['timeout']}; p95 wall {fmt_s(f4['p95'])}, {f4['over_default_timeout']} past "
                     f"{CHECK_DEFAULT_TIMEOUT} s)", "0 / 0 / 0 / 0",
                     not f4["internal_errors"] and not unknown and not bad_rc and not f4["tracebacks"]))
        rows.append(("4", "... checks that waited out -t without saying what for",
                     f"{len(f4['silent_timeouts'])} (said so: {f4['waited_said']})", "0",
                     not f4["silent_timeouts"]))
    f5 = results.get("5")
    if f5:
        rows.append(("5", f"warm checks/s vs plain plugin, {f5['workers']} workers",
                     f"{f5['warm']['median']:.1f} vs {f5['plain']['median']:.1f}: ratio {f5['ratio']:.1f}",
                     "(reported)", None))
    f6 = results.get("6")
    if f6:
        val = "; ".join(f"{k} {'skipped' if 'skipped' in v else fmt_s(v['seconds'])}"
                        for k, v in f6["validate"].items())
        ok = all(rc in (0, 1) for rc in f6["rc"]) and all(
            "skipped" in v or v["error"] is None for v in f6["validate"].values())
        rows.append(("6", f"vio-icinga generate at {f6['vms']} VMs", f"{fmt_s(f6['wall']['median'])}, "
                     f"{f6['bytes'] / 1e6:.1f} MB; validate: {val}", "(reported; must succeed)", ok))
    if results.get("7"):
        rows += bulk.summary_rows(results["7"], fmt_s)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run with small numbers (< 1 minute)")
    ap.add_argument("--output", metavar="PATH",
                    help="where the report goes (- for stdout; default BENCHMARKS.md, stdout with --quick)")
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    ap.add_argument("--only", metavar="LIST", help="comma-separated figure numbers to run (default all)")
    args = ap.parse_args(argv)
    size = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else {"1", "2", "3", "4", "5", "6", "7"}
    output = args.output or ("-" if args.quick else "BENCHMARKS.md")
    start = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                               "quick": args.quick}

    def log(msg: str) -> None:
        print(f"[bench {time.monotonic() - start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="vio-bench-") as tmp:
        work = Path(tmp)
        log(f"starting simulators: {size.small['vms']} and {size.big['vms']} VMs")
        small = simenv.SimCloud("small", page_max=size.page_max, workdir=work, **size.small).start()
        big = simenv.SimCloud("big", page_max=size.page_max, workdir=work, **size.big).start()
        try:
            # 3 first: its sweeps leave both caches fresh for 1, 2, 5 and 6, and old enough for 4 later
            log("3: sweeps")
            sweeps = [figure_sweep(c, size) for c in (small, big)]
            if "3" in only:
                results["3"] = sweeps
            if "1" in only:
                log("1: warm check vs bare imports")
                results["1"] = figure_warm_check(small, size)
            if "2" in only:
                log("2: warm check, small vs big cloud")
                results["2"] = figure_scaling(small, big, size)
            if "5" in only:
                log("5: active throughput")
                results["5"] = figure_throughput(small, size)
            if "6" in only:
                log("6: vio-icinga generate")
                results["6"] = figure_generate(big, size, work)
            if "7" in only:
                results["7"] = figure_bulk(big, size, work, results, log)
            if "4" in only:
                results["4"] = []
                for c, sw in zip((small, big), sweeps, strict=True):
                    log(f"4: {size.stampede} checks at once at {c.sizes['vms']} VMs")
                    results["4"].append(figure_stampede(c, size, sw["servers_detail_per_sweep"]))
        finally:
            small.stop()
            big.stop()
    results["seconds"] = time.monotonic() - start
    results["load_end"] = os.getloadavg()
    results["summary"] = summary(results)
    text = render(results, args.quick)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
        log(f"wrote {output}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    log(f"done in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
