"""The benchmark's figures 1-6, a function each, and the numbers of a full and a quick run (figure 7, bulk
push against a real icinga2, is bulk.py). See run.py for what they measure and how.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import bulk, simenv  # simenv: the one import of the simulator
from .procs import (
    Child,
    Proc,
    cmd,
    percentile,
    ratio,
    run,
    spread,
)

HERE = Path(__file__).resolve().parent
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
#: Lists of services the catalog has only when the cloud has such objects (Glance, Heat, Octavia).
OPTIONAL_LISTS = ("images", "stacks", "loadbalancers")


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
    tls: int = 0  # https catalog endpoints (TLS servers) of the small and the big cloud, figure 3


FULL = Size(small=dict(vms=100, clusters=40, volumes=80, ports=200, routers=10, projects=10),
            big=dict(vms=10000, clusters=40, volumes=8000, ports=20000, routers=200, projects=50),
            page_max=1000, runs=25, sweeps=3, stampede=200, stampede_max_age=60, stampede_timeout=120,
            throughput=64, rounds=4,
            renders=3, mid=dict(vms=1000, clusters=40, volumes=800, ports=2000, routers=20, projects=20),
            bulk_rounds=2, tls=12)
QUICK = Size(small=dict(vms=20, clusters=2, volumes=16, ports=40, routers=4, projects=3),
             big=dict(vms=300, clusters=4, volumes=240, ports=600, routers=6, projects=5),
             page_max=100, runs=3, sweeps=2, stampede=12, stampede_max_age=5, stampede_timeout=60,
             throughput=16, rounds=2,
             renders=1, mid=dict(vms=50, clusters=2, volumes=40, ports=100, routers=4, projects=3),
             bulk_rounds=1, tls=2)


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


def pages_by_list(cloud: simenv.SimCloud) -> dict[str, int]:
    """Pages a sweep cannot avoid, per listed collection: one per full page plus the last (short or empty)."""
    counts = cloud.counts()
    # Glance, Heat and Octavia (in the catalog only when the cloud has images, stacks, load balancers): one
    # per page of their lists, the same way
    optional = [k for k in OPTIONAL_LISTS if counts.get(k)]
    return {k: counts.get(k, 0) // cloud.page_max + 1 for k in (*SWEEP_LISTS, *optional)}


def pages_needed(cloud: simenv.SimCloud) -> int:
    """Pages a sweep cannot avoid, in all (pages_by_list)."""
    return sum(pages_by_list(cloud).values())


def figure_sweep(cloud: simenv.SimCloud, size: Size) -> dict:
    """3. Sweeps: requests (vs pages needed, per object), wall, peak RSS; later sweeps reuse the token."""
    # the admin project's id is in every Cinder path; L3 agents are infrastructure (a few per cloud, the
    # README's "few L3 agents"): requests per agent are fixed overhead, not per object
    object_kinds = {o["id"]: kind for kind, objs in cloud.scenario.items()
                    if kind != "projects" and isinstance(objs, list)
                    for o in objs if isinstance(o, dict) and o.get("id")}
    object_kinds.update({p["id"]: "pools" for lb in cloud.scenario.get("loadbalancers", [])
                         for p in lb.get("pools") or () if p.get("id")})
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
    # Octavia (when the cloud has it): its list's pages, one status tree per load balancer and one members
    # list per pool (vio_checks/octavia_sweep.py): fixed per balancer and pool, never per member
    lbs = [lb for lb in cloud.scenario.get("loadbalancers", []) if isinstance(lb, dict)]
    lb_pools = sum(len(lb.get("pools") or ()) for lb in lbs)
    # the https catalog endpoints (simenv.TLS_TYPES): each costs its endpoint probe (`GET /{type}`, as every
    # catalog endpoint does) and its certificate's handshake, which is not a request (Meta.handshakes)
    tls_probes = {f"GET /{t}" for t in simenv.TLS_TYPES[:cloud.tls]}
    templates: Counter[str] = Counter()
    per_object: Counter[str] = Counter()
    per_agent: Counter[str] = Counter()
    per_ha_router: Counter[str] = Counter()
    per_lb: Counter[str] = Counter()
    per_tls: Counter[str] = Counter()
    for key, n in first_c["paths"].items():
        t, kind = request_template(key, object_kinds)
        templates[t] += n
        if kind == "agents":
            per_agent[t] += n
        elif kind == "routers" and key.endswith("/l3-agents") and UUID_RE.search(key)[0] in ha_routers:
            per_ha_router[t] += n  # ha_state per hosting agent is only in this reply (see the report)
        elif "/lbaas/" in key and (key.endswith("/status") or key.endswith("/members")):
            per_lb[t] += n  # one status tree per load balancer, one members list per pool (see the report)
        elif key in tls_probes:
            per_tls[t] += n
        elif kind:
            per_object[t] += n
    servers_pages = sum(n for k, n in first_c["paths"].items() if k.endswith("/servers/detail"))
    return {
        "label": cloud.label, "sizes": cloud.sizes, "page_max": cloud.page_max,
        "rc": [p.rc for p, _, _ in runs], "errors": [p.stderr.strip()[:300] for p, _, _ in runs if p.rc],
        "requests": first_c["total"], "requests_reported": first_r.get("requests"),
        "pages_needed": pages_needed(cloud), "pages_by_list": pages_by_list(cloud),
        "per_object": dict(per_object), "per_agent": dict(per_agent),
        "per_object_total": sum(per_object.values()), "templates": dict(templates.most_common()),
        "ha_routers": len(ha_routers), "per_ha_router": dict(per_ha_router),
        "per_ha_router_total": sum(per_ha_router.values()),
        "load_balancers": len(lbs), "lb_pools": lb_pools, "per_lb": dict(per_lb),
        "per_lb_total": sum(per_lb.values()),
        "lb_trees": sum(n for t, n in per_lb.items() if t.endswith("/status")),
        "lb_members_lists": sum(n for t, n in per_lb.items() if t.endswith("/members")),
        "tls_endpoints": cloud.tls, "per_tls_probe": dict(per_tls), "per_tls_total": sum(per_tls.values()),
        "handshakes": first_r.get("handshakes"),
        "handshakes_later": [r.get("handshakes") for _, _, r in runs[1:]],
        "requests_allowed": (pages_needed(cloud) + SWEEP_OVERHEAD + len(ha_routers) + len(lbs) + lb_pools
                             + cloud.tls),
        "token_first": first_c["token_issues"],
        "token_later": [c["token_issues"] for _, c, _ in runs[1:]],
        "requests_later": [c["total"] for _, c, _ in runs[1:]],
        "wall": spread([p.wall for p, _, _ in runs]), "cpu": spread([p.cpu for p, _, _ in runs]),
        "rss_mb": spread([p.maxrss_mb for p, _, _ in runs]),
        "sweep_seconds": spread([r.get("seconds", math.nan) for _, _, r in runs]),
        "servers_detail_per_sweep": servers_pages,
    }


def sweep_requests_hold(f3: dict) -> bool:
    """Figure 3's request target: pages + 20 + one per HA router, one per load balancer, one per pool and
    one endpoint probe per added https endpoint, none per other object."""
    return (f3["requests"] <= f3["requests_allowed"] and f3["per_object_total"] == 0
            and f3["per_ha_router_total"] == f3["ha_routers"]
            and f3.get("lb_trees", 0) == f3.get("load_balancers", 0)
            and f3.get("lb_members_lists", 0) == f3.get("lb_pools", 0)
            and f3.get("per_tls_total", 0) == f3.get("tls_endpoints", 0))


def handshakes_hold(f3: dict) -> bool:
    """One TLS handshake per https host:port (each verifies against the CA the clouds.yaml names)."""
    return f3.get("handshakes") == f3.get("tls_endpoints", 0) and all(
        h == f3.get("tls_endpoints", 0) for h in f3.get("handshakes_later", []))


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
    # ("timed out after N s (-t)", the last-resort alarm); "sweep failed: ... timed out (sweep budget used
    # up)" names what it waited for and is not silent
    silent = [p.status for p in procs if "s (-t)" in p.status and WAITED_SAID not in p.stdout]
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
