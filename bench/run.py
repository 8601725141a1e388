"""The vio-checks benchmark: ``make bench`` (full, writes BENCHMARKS.md) or, from the repository root,
``python -m bench.run --quick`` (smoke).

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
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import simenv
from .figures import (
    FULL,
    QUICK,
    figure_bulk,
    figure_generate,
    figure_scaling,
    figure_stampede,
    figure_sweep,
    figure_throughput,
    figure_warm_check,
)
from .report import machine, render, summary


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
        common = {"page_max": size.page_max, "workdir": work, "tls": size.tls}
        small = simenv.SimCloud("small", **common, **size.small).start()
        big = simenv.SimCloud("big", **common, **size.big).start()
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
