"""Figure 7: bulk mode. `vio-icinga push --once` against a real icinga2 on loopback.

The icinga2 is the end-to-end tests' throw-away daemon (tests/harness/icinga2.py: its own PKI, API on
127.0.0.1, active checks disabled globally, so every result it holds came from the pusher); the generated
objects are deployed with `vio-icinga deploy` through the config packages API, as in production. Per cloud
size: full rounds (`--full`: every generated checkable, one process-check-result request each), then one
unchanged round (no --full, nothing changed since), then the pusher alone (the same full round into
`--command-file /dev/null`: judging and formatting without the API). icinga2's CPU is read from
/proc/<pid>/stat of every process in its session (utime + stime + cutime + cstime) before and after the
round, and again a moment later (results icinga2 finishes after answering). On 2+ cores the biggest size is
also measured with icinga2 pinned to one core and the pusher to the other (taskset), which separates
"icinga2 and the pusher compete for the CPU" from "the API's request rate".
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.harness import icinga2 as e2e  # the e2e suite's real-icinga2 harness, reused as it is

from .procs import Proc, cmd, ratio, run, spread

#: `vio-icinga push -v`'s summary line.
SUMMARY = re.compile(r"vio-icinga push: (?P<objects>\d+) objects, (?P<sent>\d+) sent \((?P<changed>\d+) "
                     r"changed\), (?P<errors>\d+) errors, (?P<seconds>[\d.]+) s \(cpu (?P<cpu>[\d.]+) s, "
                     r"(?P<requests>\d+) requests\)")
#: The cache is fresh for the whole figure; a timer's runs would be minutes apart (ttl 10 min).
PUSH_ARGS = ("--once", "-v", "--max-age", "1d", "--interval", "5m", "--check-source", "vio-bench")
#: After a round, icinga2 may still be finishing results it has answered: its CPU is read again this later.
TAIL = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Commands:
    """What the e2e harness's `deploy` needs of a cloud: `run(name, *args, env=...)` with rc and stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, name: str, *args: str, timeout: float = 600, env: dict | None = None) -> Proc:
        return run(cmd(name, *args), {**self.env, **(env or {})}, timeout)


def session_cpu(pgid: int) -> dict[int, float]:
    """pid → CPU seconds (own + reaped children) of every process in the session/process group pgid."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is field 3 (state) of proc(5): pgrp is field 5, utime..cstime are fields 14..17
        if int(fields[2]) == pgid:
            out[int(entry)] = sum(int(x) for x in fields[11:15]) / CLK_TCK
    return out


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two session_cpu readings (a process new in `after` counts whole)."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def pin(pgid: int, cpus: set[int]) -> None:
    """Set the CPU affinity of every thread of every process in the group."""
    for pid in session_cpu(pgid):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def object_counts(icinga: e2e.Icinga2) -> tuple[int, int]:
    """(hosts + services icinga2 has loaded, how many of them have no result yet), from the CIB counters
    (cheap at any size; a pending object also counts as down / unknown, an unreachable one as down)."""
    c = icinga.api("GET", "/v1/status/CIB", timeout=60)["results"][0]["status"]
    total = sum(int(c[f"num_hosts_{s}"]) for s in ("up", "down")) + sum(
        int(c[f"num_services_{s}"]) for s in ("ok", "warning", "critical", "unknown"))
    return total, int(c["num_hosts_pending"]) + int(c["num_services_pending"])


def push(icinga: e2e.Icinga2, env: dict[str, str], *extra: str, pusher_cpus: str | None = None) -> dict:
    """One `vio-icinga push --once` round: its summary, wall, own CPU and icinga2's CPU meanwhile."""
    argv = cmd("vio-icinga", "push", *icinga.deploy_args(), *PUSH_ARGS, *extra)
    if pusher_cpus:
        argv = ["taskset", "-c", pusher_cpus, *argv]
    pgid = icinga.proc.pid
    before = session_cpu(pgid)
    p = run(argv, {**env, "VIO_ICINGA_API_PASSWORD": e2e.API_PASSWORD})
    during = cpu_between(before, session_cpu(pgid))
    time.sleep(TAIL)
    with_tail = cpu_between(before, session_cpu(pgid))
    return summarised(p, icinga_cpu=during, icinga_cpu_tail=with_tail)


def summarised(p: Proc, **more: Any) -> dict:
    m = SUMMARY.search(p.stdout)
    got = {k: float(v) for k, v in m.groupdict().items()} if m else {}
    num = {k: int(got.get(k, 0)) for k in ("objects", "sent", "changed", "errors", "requests")}
    return {"rc": p.rc, "wall": p.wall, "cpu": p.cpu, "rss_mb": p.maxrss_mb, **num,
            "round_seconds": got.get("seconds"), "round_cpu": got.get("cpu"),
            "problem": None if (m and p.rc == 0) else (p.stderr or p.stdout).strip()[-500:], **more}


def judge_only(env: dict[str, str]) -> dict:
    """The pusher without the API: the same full round into --command-file /dev/null."""
    p = run(cmd("vio-icinga", "push", "--command-file", "/dev/null", *PUSH_ARGS, "--full"), env)
    return summarised(p)


def figure_bulk(clouds: list, rounds: int, workdir: Path, active_cpu: tuple[float, str],
                log: Callable[[str], None]) -> dict:
    """7. Full and unchanged push rounds per cloud size against one real icinga2 (redeployed per size)."""
    res: dict[str, Any] = {"active_cpu": active_cpu[0], "active_cpu_from": active_cpu[1], "sizes": [],
                           "cores": os.cpu_count(), "rounds": rounds, "concurrency": 8}
    if not os.access(e2e.ICINGA2, os.X_OK):
        res["skipped"] = f"{e2e.ICINGA2} not installed"
        return res
    root = workdir / "bulk"
    pki = e2e.make_pki(root / "pki")
    icinga = e2e.Icinga2(root / "icinga2", pki, clouds[0].env)
    try:
        t0 = time.monotonic()
        icinga.start(timeout=60)
        res["icinga_start"] = time.monotonic() - t0
        for cloud in clouds:
            res["sizes"].append(one_size(icinga, cloud, rounds, pinned=cloud is clouds[-1], log=log))
    except (AssertionError, OSError) as e:  # the harness's way of saying icinga2 did not start / deploy
        res["error"] = f"{str(e)[:800]}\n{icinga.log_tail(15)}"
    finally:
        icinga.stop()
    return res


def one_size(icinga: e2e.Icinga2, cloud, rounds: int, pinned: bool, log: Callable[[str], None]) -> dict:
    vms = cloud.sizes["vms"]
    log(f"7: deploying the generated objects of {vms} VMs to icinga2")
    t0 = time.monotonic()
    # a reload of ~38,000 objects takes a minute or more on a busy 2-core box
    icinga.deploy(Commands(cloud.env), "--max-age", "1d", reload_timeout=300)
    out: dict[str, Any] = {"vms": vms, "deploy_seconds": time.monotonic() - t0}
    out["in_icinga"], out["pending_before"] = object_counts(icinga)
    log(f"7: {rounds} full push rounds at {vms} VMs ({out['in_icinga']} objects in icinga2)")
    out["full"] = [push(icinga, cloud.env, "--full") for _ in range(rounds)]
    out["pending_after"] = object_counts(icinga)[1]
    out["unchanged"] = push(icinga, cloud.env)
    out["judge_only"] = judge_only(cloud.env)
    cores = os.cpu_count() or 1
    if pinned and cores >= 2 and shutil.which("taskset"):
        log(f"7: one full round at {vms} VMs, icinga2 pinned to core 1, the pusher to core 0")
        pin(icinga.proc.pid, {1})
        try:
            out["pinned"] = push(icinga, cloud.env, "--full", pusher_cpus="0")
        finally:
            pin(icinga.proc.pid, set(range(cores)))
    full = out["full"]
    for key in ("wall", "cpu", "icinga_cpu", "icinga_cpu_tail"):
        out[f"full_{key}"] = spread([r[key] for r in full])
    objects = max((r["objects"] for r in full), default=0)
    out["objects"] = objects
    out["pusher_cpu_per_object"] = ratio(out["full_cpu"]["median"], objects)
    out["icinga_cpu_per_object"] = ratio(out["full_icinga_cpu_tail"]["median"], objects)
    return out


def summary_rows(f7: dict, fmt_s: Callable[[float], str]) -> list[tuple]:
    """(#, figure, measured, target, holds) rows of figure 7."""
    if "skipped" in f7 or "error" in f7:
        why = f7.get("skipped") or "icinga2 failed: " + f7["error"].splitlines()[0][:150]
        return [("7", "bulk push against icinga2", f"not measured: {why}", "", None)]
    rows = []
    active = f7["active_cpu"]
    for s in f7["sizes"]:
        ok = all(r["rc"] == 0 and r["errors"] == 0 and r["sent"] == r["objects"] == r["requests"]
                 for r in s["full"])
        per = s["pusher_cpu_per_object"]
        rows.append(("7", f"push --full at {s['vms']} VMs: pusher CPU per object vs a warm active check",
                     f"{per * 1e6:.0f} µs vs {fmt_s(active)}: {ratio(active, per):.1f}× less "
                     f"(icinga2 {s['icinga_cpu_per_object'] * 1e6:.0f} µs per object)", ">= 100× less",
                     ok and ratio(active, per) >= 100))
        wall = s["full_wall"]["median"]
        rows.append(("7", f"push --full at {s['vms']} VMs: wall of one round ({s['objects']} objects, "
                     f"{s['full'][0]['requests']} requests)", fmt_s(wall),
                     "< 30 s" if s["vms"] >= 10000 else "(reported)",
                     (ok and wall < 30) if s["vms"] >= 10000 else None))
        u = s["unchanged"]
        rows.append(("7", f"push, nothing changed, at {s['vms']} VMs",
                     f"{fmt_s(u['wall'])}, {u['sent']} sent", "(reported)", None))
    return rows


def render(f7: dict, add: Callable[[str], None], fmt_s: Callable[[float], str], fmt_spread) -> None:
    """Figure 7's section of BENCHMARKS.md."""
    add("## 7. Bulk push (vio-icinga push) against a real icinga2")
    add("")
    if "skipped" in f7:
        add(f"**Not measured: {f7['skipped']}.**")
        add("")
        return
    if "error" in f7:
        add("**Not measured: icinga2 failed.**")
        add("")
        add("```")
        add(f7["error"])
        add("```")
        add("")
        return
    active = f7["active_cpu"]
    add("Debian's icinga2 on loopback (the e2e suite's throw-away daemon, `tests/harness/icinga2.py`: active "
        "checks disabled, so every result comes from the pusher), the generated objects deployed with "
        "`vio-icinga deploy`. `vio-icinga push --once --full` sends every generated checkable (hosts and "
        "services), one `process-check-result` request each over keep-alive connections, "
        f"{f7['concurrency']} in flight (the default `--concurrency`); {f7['rounds']} full round(s) per "
        "size, then one round without `--full` with nothing changed. Pusher CPU is the child's own "
        "(os.wait4); icinga2's is the sum over its processes from /proc/<pid>/stat, read before and after "
        "the round and again "
        f"{TAIL:.0f} s later (results icinga2 finishes after answering). The active check it is compared "
        f"with: {f7['active_cpu_from']}, {fmt_s(active)} of CPU per object (plus icinga2's fork and exec, "
        "not counted). Both share the same "
        f"{f7['cores']} cores unless pinned.")
    add("")
    add("| cloud | objects in icinga2 | full round: wall | requests | pusher CPU | per object | icinga2 CPU "
        "(+ tail) | per object | active check / pusher per object | unchanged round: wall, sent |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for s in f7["sizes"]:
        u = s["unchanged"]
        per = s["pusher_cpu_per_object"]
        add(f"| {s['vms']} VMs | {s['in_icinga']} | {fmt_spread(s['full_wall'])} | "
            f"{', '.join(str(r['requests']) for r in s['full'])} | {fmt_spread(s['full_cpu'])} | "
            f"{per * 1e6:.0f} µs | {fmt_spread(s['full_icinga_cpu'])} (+ tail: "
            f"{fmt_s(s['full_icinga_cpu_tail']['median'])}) | {s['icinga_cpu_per_object'] * 1e6:.0f} µs | "
            f"**{ratio(active, per):.1f}×** | {fmt_s(u['wall'])}, {u['sent']} sent |")
    add("")
    for s in f7["sizes"]:
        bad = [r for r in [*s["full"], s["unchanged"]] if r["problem"] or r["errors"]]
        for r in bad:
            add(f"At {s['vms']} VMs a round failed (exit {r['rc']}, {r['errors']} errors): `{r['problem']}`")
            add("")
    add("Where the wall of a full round goes (medians; the pusher alone is the same full round into "
        "`--command-file /dev/null`: snapshot, judging, formatting, no API):")
    add("")
    add("| cloud | full round wall | pusher CPU | icinga2 CPU (+ tail) | CPU of both / cores | pusher alone: "
        "wall, CPU | icinga2 pinned to core 1, pusher to core 0: wall, pusher CPU, icinga2 CPU |")
    add("|---|---|---|---|---|---|---|")
    for s in f7["sizes"]:
        wall = s["full_wall"]["median"]
        both = s["full_cpu"]["median"] + s["full_icinga_cpu_tail"]["median"]
        j = s["judge_only"]
        p = s.get("pinned")
        pinned = (f"{fmt_s(p['wall'])}, {fmt_s(p['cpu'])}, {fmt_s(p['icinga_cpu_tail'])}" if p
                  else "not measured")
        add(f"| {s['vms']} VMs | {fmt_s(wall)} | {fmt_s(s['full_cpu']['median'])} | "
            f"{fmt_s(s['full_icinga_cpu_tail']['median'])} | {fmt_s(both / f7['cores'])} "
            f"({100 * both / f7['cores'] / wall:.0f} % of the wall) | {fmt_s(j['wall'])}, "
            f"{fmt_s(j['cpu'])} | "
            f"{pinned} |")
    add("")
    profile(f7, add, fmt_s)


def profile(f7: dict, add: Callable[[str], None], fmt_s: Callable[[float], str]) -> None:
    """What the numbers say about the biggest size's full round, in words (computed, not hand-written)."""
    s = f7["sizes"][-1]
    wall, judge = s["full_wall"]["median"], s["judge_only"]["wall"]
    deliver = max(0.0, wall - judge)
    pusher_sending = max(0.0, s["full_cpu"]["median"] - s["judge_only"]["cpu"])
    send_cpu = pusher_sending + s["full_icinga_cpu_tail"]["median"]
    busy = ratio(send_cpu, deliver * f7["cores"])
    if s["vms"] >= 10000:
        verdict = f"the 30 s target {'holds' if wall < 30 else 'does not hold'} here ({fmt_s(wall)})"
    else:
        verdict = f"{fmt_s(wall)} (the 30 s target is for 10,000 VMs)"
    bound = (f"delivery waits on request round trips ({f7['concurrency']} in flight through one Python "
             "process, icinga2 answering each) more than on CPU" if busy < 0.8 else
             "delivery is CPU-bound: the two processes share the cores")
    add(f"Reading the {s['vms']}-VM row: {verdict}. About {fmt_s(judge)} of the round is the pusher "
        "judging and formatting every object before the first request (the pusher alone); the other "
        f"~{fmt_s(deliver)} are the {s['objects']} requests, during which pusher and icinga2 together use "
        f"~{fmt_s(send_cpu)} of CPU, {100 * busy:.0f} % of {f7['cores']} cores: {bound}.")
    p = s.get("pinned")
    if p:
        lo, hi = s["full_wall"]["min"], s["full_wall"]["max"]
        if p["wall"] < lo:
            why = "faster than every unpinned round: on shared cores the two compete for the CPU"
        elif p["wall"] > hi:
            why = "slower than every unpinned round: icinga2 uses both cores for its API work"
        else:
            why = (f"within the unpinned rounds' spread ({fmt_s(lo)} to {fmt_s(hi)}): competing for the "
                   "CPU is not what sets the wall")
        add("With icinga2 pinned to one core and the pusher to the other the round takes "
            f"{fmt_s(p['wall'])}, {why}.")
    add("How the pusher gets there: it judges level by level and sends each level while judging the next "
        "(a level starts once the level above is processed: parents first), the usual generated arguments "
        "skip argparse, text that needs no escaping is returned as it is, the HTTP exchange is written and "
        f"read without http.client's per-request header work, and {f7['concurrency']} requests are in "
        "flight. What would change it further: icinga2 on cores of its own, as in production. The unchanged "
        f"round ({fmt_s(s['unchanged']['wall'])}, {s['unchanged']['sent']} sent) is mostly the judging: "
        "every object is judged to find what changed; what is sent is the cloud host (the heartbeat), every "
        "problem and what is below one. `tests/test_bench.py` asserts the counts of the quick run: one "
        "request per object in a full round, every object in icinga2 with a result after it, and an "
        "unchanged round that sends only that.")
    add("")
