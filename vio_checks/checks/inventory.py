"""check_vio_inventory: recent changes in the cloud: VMs added, deleted, migrated; failed migrations."""

from __future__ import annotations

from vio_checks.checks.base import CheckSpec, main_for, range_arg
from vio_checks.eventlog import EventLog
from vio_checks.judge.inventory import COUNTED, WORDS, InventoryOptions, judge_inventory
from vio_checks.judge.verdict import Verdict
from vio_checks.options import Option, duration_range, int_range

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
Reads the event log that every sweep appends to (comparing the new inventory with the previous one and
merging Nova's os-migrations records, which also catch migrations that reversed between two sweeps).

states:
  WARNING/CRITICAL  a count in --window outside its --<count>-warning / --<count>-critical range;
                    by default only failed migrations have a threshold: one or more → WARNING
  OK                otherwise (the counts are perfdata for graphs either way)
  A hypervisor going down followed by its VMs appearing elsewhere is told as one story:
  "domain-c8 down at 10:42; 37 VMs evacuated to domain-c9".

perfdata: added, deleted, migrated, failed (counts in the window)

example:
  check_vio_inventory --os-cloud vio --window 1h
  VIO INVENTORY WARNING - 1 failed migration in the last 60 min (2 VMs added, 0 VMs deleted, 1 VM
  migrated, 1 failed migration) | added=2;;;0 deleted=0;;;0 migrated=1;;;0 failed=1;0;;0
"""


def _count_options() -> list[Option]:
    out = []
    for name in COUNTED:
        default_warn = "0" if name == "failed" else None
        out += [Option((f"--{name}-warning",), type=range_arg, default=default_warn, metavar="RANGE",
                       group=GROUP,
                       help=f"range for the number of {WORDS[name]} (default: {default_warn or 'none'})"),
                Option((f"--{name}-critical",), type=range_arg, default=None, metavar="RANGE", group=GROUP,
                       help=f"range for the number of {WORDS[name]} (default: none)")]
    return out


GROUP = "inventory changes"
OPTIONS = (
    Option(("--window",), type=duration_range(60), default=3600.0, metavar="DURATION", group=GROUP,
           help="count changes this far back (default: 1h)"),
    Option(("--max-events",), type=int_range(0, 10_000), default=20, metavar="N", group=GROUP,
           help="list at most N events in the long output, newest first (default: 20)"),
    *_count_options(),
)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = InventoryOptions(
        window=args.window, max_events=max(0, args.max_events),
        thresholds={name: (getattr(args, f"{name}_warning"), getattr(args, f"{name}_critical"))
                    for name in COUNTED},
    )
    events = EventLog(snap.store).recent(now - args.window)
    return judge_inventory(events, opts, now)


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
What changed in `--window` (default 1 h), from the event log: VMs added, deleted, migrated, failed
migrations, each a perfdata count with its own thresholds (`--added-warning/--added-critical`,
`--deleted-...`, `--migrated-...`, `--failed-...`; default: one failed migration or more → WARNING, no
thresholds on the rest). The long output lists the events, newest first (`--max-events`, default 20). A
hypervisor going down followed by its VMs appearing elsewhere is one story:

    VIO INVENTORY OK - in the last 60 min: 0 VMs added, 0 VMs deleted, 37 VMs migrated, 0 failed \
migrations; domain-c8 down at 10:42; 37 VMs evacuated to domain-c9
"""

SPEC = CheckSpec(
    name="inventory",
    description="Check recent inventory changes of a VIO cloud: VM additions, deletions and migrations.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    doc=DOC,
)
main = main_for(SPEC)
