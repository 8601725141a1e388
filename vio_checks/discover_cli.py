"""`vio-discover`: sweep the cloud now, store the inventory, print what was found.

`vio-discover --events` prints the event log from the cache instead (no sweep).

Exit 0 after a sweep (ours, or one another process was running that we waited for); 2 when it failed,
with one line on stderr (with --json: {"error": "..."} on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from vio_checks import __version__
from vio_checks.changes import describe
from vio_checks.errors import VioError
from vio_checks.eventlog import EventLog
from vio_checks.normalize import parse_time
from vio_checks.open_inventory import process_age, snapshot, store_for
from vio_checks.options import (
    CLOUD_OPTIONS,
    FLAG,
    TIMEOUT,
    VERBOSE,
    VERSION,
    Option,
    add_options,
    cache_options,
    duration,
    int_range,
)
from vio_checks.runtime import guard_timeout, pipe_safe, setup_logging
from vio_checks.summary import as_json, iso_utc
from vio_checks.summary import describe as describe_inventory

#: Exit codes (docs/operations.md, "Exit codes"): swept or listed; the sweep failed or bad options.
EXIT_OK, EXIT_FAILED = 0, 2


def since_arg(text: str) -> float:
    """argparse type: a duration back from now, or an ISO 8601 time → POSIX seconds."""
    try:
        return time.time() - duration(text)
    except argparse.ArgumentTypeError:
        pass
    stamp = parse_time(text)
    if stamp is None:
        raise argparse.ArgumentTypeError(f"invalid --since {text!r} (use 1h, 7d or 2026-11-24T10:42:00Z)")
    return stamp


#: vio-discover's options: the shared cloud and cache ones (no freshness: it always sweeps), then its own.
OPTIONS: tuple[Option, ...] = (
    *CLOUD_OPTIONS,
    *cache_options(freshness=False),
    TIMEOUT.replace(default=120.0, group=None, help="give up the sweep after this long (default: 120 s)"),
    Option(("--page-size",), type=int_range(1, 1000), default=1000, metavar="N",
           help="objects per list request, 1..1000 (default: 1000, Nova's maximum)"),
    Option(("--accept-empty",), kind=FLAG,
           help="store this sweep's lists as they are, this run only: a kind that dropped from some to "
                "none, and objects missing from a list, are taken as deleted (otherwise a sweep that "
                "empties a kind is distrusted and the previous inventory kept, and a missing object not "
                "confirmed deleted by a direct GET keeps its last known state)"),
    Option(("--json",), kind=FLAG, help="print JSON instead of text"),
    Option(("--events",), kind=FLAG,
           help="print the event log from the cache instead of sweeping (oldest first)"),
    Option(("--since",), type=since_arg, metavar="DURATION|ISO8601",
           help=f"with --events: only events this recent (e.g. 1h; {duration.range_text}) or after this UTC "
                "time"),
    VERBOSE.replace(group=None, help="more log output on stderr (repeatable)"),
    Option(("-V", "--version"), kind=VERSION, default=f"%(prog)s {__version__}", exposed=False),
)


def build_parser() -> argparse.ArgumentParser:
    """vio-discover's parser, built from OPTIONS."""
    p = argparse.ArgumentParser(
        prog="vio-discover",
        description="Sweep a VMware Integrated OpenStack cloud through its APIs and store the inventory "
                    "that every vio-checks check reads. Run it from a timer with the checks on --cache-only, "
                    "or let the checks refresh the cache themselves.",
    )
    add_options(p, OPTIONS)
    return p


def print_events(args: argparse.Namespace) -> int:
    """The event log, oldest first, as text lines or a JSON array. No sweep."""
    try:
        events = EventLog(store_for(args)).recent(args.since or 0.0)
    except VioError as e:
        print(json.dumps({"error": str(e)}) if args.json else f"vio-discover: {e}",
              file=sys.stdout if args.json else sys.stderr)
        return EXIT_FAILED
    events.reverse()
    if args.json:
        print(json.dumps([{**e.as_dict(), "time": iso_utc(e.time)} for e in events], indent=1))
    else:
        for e in events:
            print(describe(e, iso_utc(e.time)))
        if not events:
            print("no events" + (" in that period" if args.since else " yet (the log starts with the "
                                                                   "second sweep)"))
    return EXIT_OK


@pipe_safe
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.since is not None and not args.events:
        build_parser().error("--since goes with --events")
    if args.events:
        return print_events(args)
    try:
        # The sweep gets the budget minus a moment to store its result; the alarm is the backstop.
        with guard_timeout(max(0.5, args.timeout + 0.9 - process_age())):
            result = snapshot(args, timeout=args.timeout - 0.3, force=True)
            if result.error or not result.snapshot:
                raise VioError(f"sweep failed: {result.error or result.stale_reason}")
            inv = result.snapshot.inventory()
    except (VioError, TimeoutError) as e:
        message = str(e) if isinstance(e, VioError) else f"timed out after {args.timeout:.0f} s"
        if getattr(e, "sweep_error", None):
            message = f"sweep failed: {e.sweep_error}"
        if "sweep distrusted:" in message:
            message = (message.replace("sweep failed: ", "") + " (the previous inventory is kept; if the "
                       "cloud really is that empty, run vio-discover --accept-empty)")
        if args.json:
            print(json.dumps({"error": message}))
        else:
            print(f"vio-discover: {message}", file=sys.stderr)
        return EXIT_FAILED
    # The stored inventory names the region of the options only (object names derive from it); the JSON
    # also names the one clouds.yaml gives, which is what the sweep talked to.
    from vio_checks.cloud import configured_region  # the sweep has imported the SDK already

    region = inv.meta.region or configured_region(args.os_cloud, args.os_region_name)
    if args.json:
        print(json.dumps({**as_json(inv), "region": region}))
    else:
        lines = describe_inventory(inv)
        if not result.swept:
            lines[0] += " (swept by another process; waited for it)"
        print("\n".join(lines))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
