"""check_vio_datastore: a vSphere datastore's accessibility and free space (vSphere layer), or all of them."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    range_arg,
    selector_options,
)
from vio_checks.checks.esxi import NEEDS_LAYER, require_layer
from vio_checks.checks.select import as_kept, select_one
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.datastore import DatastoreOptions, judge_datastore
from vio_checks.judge.verdict import Threshold, Verdict
from vio_checks.options import Option

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

EPILOG = NEEDS_LAYER + """\

states:
  CRITICAL  the datastore is not accessible; free space below --free-critical (default 5 %)
  WARNING   free space below --free-warning (default 15 %)
  UNKNOWN   vCenter reported no accessibility, capacity or free space (counted as unverified in the
            aggregate); the vSphere layer is not configured or was unavailable at the last sweep
  aggregate (no --id/--name): every datastore judged as above, by the aggregate rule below
  perfdata: free (%, 0..100), free_bytes and used_bytes (B, max = capacity)

example:
  check_vio_datastore --os-cloud vio --name vsanDatastore
  VIO DATASTORE WARNING - datastore vsanDatastore: 12 % free (1.2 TiB of 10.00 TiB)
""" + AGGREGATE_RULE

GROUP = "datastore"

OPTIONS = (
    *selector_options("datastore", id_help="the datastore's vCenter moref (datastore-55)"),
    Option(("--free-warning",), type=range_arg, default="15:", metavar="RANGE", group=GROUP,
           help="free space in %% (default: 15:, WARNING below 15 %%)"),
    Option(("--free-critical",), type=range_arg, default="5:", metavar="RANGE", group=GROUP,
           help="free space in %% (default: 5:, CRITICAL below 5 %%)"),
    *count_threshold_options("datastores"),
)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    require_layer(snap)
    opts = DatastoreOptions(free=Threshold.parse(args.free_warning, args.free_critical))
    d = select_one(snap, "datastores", args, "datastore", id_falls_back_to_name=True)
    if d is not None:
        return as_kept(snap, "datastores", d, judge_datastore(d, opts), now)
    items = [Member(d.moref, d.name or d.moref, judge_datastore(d, opts)) for d in snap.all("datastores")]
    return aggregate(items, "datastores", args.warning, args.critical, ignore_states=args.ignore_states,
                     accept_unverified=args.accept_unverified)


SPEC = CheckSpec(
    name="datastore",
    description="Check a vSphere datastore (vSphere layer) from the cached inventory, or all of them.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="datastores",
)
main = main_for(SPEC)
