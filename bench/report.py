"""BENCHMARKS.md from the results: what ran it (machine), the summary table (summary), the report (render)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path

from . import bulk, report_sweep, simenv  # simenv: the one import of the simulator
from .figures import (
    BASELINE_IMPORT,
    CHECK_DEFAULT_TIMEOUT,
    WAITED_SAID,
    validator,
)
from .procs import (
    fmt_s,
    fmt_spread,
    holds,
)


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
    add(f"Written by `{'python -m bench.run --quick' if quick else 'make bench'}` on {results['date']} "
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
        report_sweep.render(results["3"], add)

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
        "`.venv/bin/python -m bench.run --quick --output -` from the repository root (smoke, under a "
        "minute). `--json PATH` also writes the raw results, `--only 1,3` runs some figures.")
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
    rows += report_sweep.summary_rows(results.get("3", []))
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
