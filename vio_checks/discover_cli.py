"""`vio-discover`: sweep the cloud now, store the inventory, print what was found.

Exit 0 after a sweep (ours, or one another process was running that we waited for); 2 when it failed,
with one line on stderr (with --json: {"error": "..."} on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys

from vio_checks import __version__
from vio_checks.errors import VioError
from vio_checks.options import add_cache_options, add_cloud_options, duration, snapshot
from vio_checks.runtime import guard_timeout, setup_logging
from vio_checks.summary import as_json, describe


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vio-discover",
        description="Sweep a VMware Integrated OpenStack cloud through its APIs and store the inventory "
                    "that every vio-checks check reads. Run it from a timer with the checks on --cache-only, "
                    "or let the checks refresh the cache themselves.",
    )
    add_cloud_options(p)
    add_cache_options(p, freshness=False)
    p.add_argument("-t", "--timeout", type=duration, default=120.0, metavar="DURATION",
                   help="give up the sweep after this long (default: 120 s)")
    p.add_argument("--page-size", type=int, default=1000, metavar="N",
                   help="objects per list request (default: 1000, Nova's maximum)")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output on stderr (repeatable)")
    p.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        with guard_timeout(args.timeout + 5):
            result = snapshot(args, timeout=args.timeout, force=True)
            if result.error or not result.snapshot:
                raise VioError(f"sweep failed: {result.error or result.stale_reason}")
            inv = result.snapshot.inventory()
    except (VioError, TimeoutError) as e:
        message = str(e) if isinstance(e, VioError) else f"timed out after {args.timeout:.0f} s"
        if getattr(e, "sweep_error", None):
            message = f"sweep failed: {e.sweep_error}"
        if args.json:
            print(json.dumps({"error": message}))
        else:
            print(f"vio-discover: {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(inv)))
    else:
        lines = describe(inv)
        if not result.swept:
            lines[0] += " (swept by another process; waited for it)"
        print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
