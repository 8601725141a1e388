"""The tree every `vio-icinga` subcommand works on: the cloud, cache and filter options that decide it, and
loading it (snapshot → its staleness noted once → the objects, proved acyclic once by the build).

generate, deploy, impact and rootcause all load it here, so what the shell says is what Icinga was told.
"""

from __future__ import annotations

import argparse
import sys

from vio_checks import topology as t
from vio_checks.freshness import Result
from vio_checks.icinga import objects as o
from vio_checks.icinga.generate import topology_options
from vio_checks.open_inventory import snapshot
from vio_checks.options import add_bounded, add_cache_options, add_cloud_options, comma_list, timeout_duration


def add_topology_options(p: argparse.ArgumentParser) -> None:
    """Cloud, cache, timeout and the filters that decide what the tree holds."""
    add_cloud_options(p)
    add_cache_options(p)
    add_bounded(p, "-t", "--timeout", type=timeout_duration, default=120.0, metavar="DURATION",
                   help="give up refreshing a stale inventory after this long (default: 120 s)")
    f = p.add_argument_group("what to monitor")
    f.add_argument("--prefix", metavar="NAME",
                   help="object-name prefix (default: vio-<cloud>, vio-<cloud>-<region> with a region)")
    f.add_argument("--include-projects", type=comma_list, metavar="LIST",
                   help="only these projects (ids or names, comma-separated)")
    f.add_argument("--exclude-projects", type=comma_list, metavar="LIST",
                   help="leave out these projects (ids or names)")
    f.add_argument("--kinds", type=comma_list, metavar="LIST",
                   help=f"object kinds to generate (default: all of {','.join(t.SELECTABLE_KINDS)}); the "
                        "cloud host and its aggregate services are always there. Servers with the "
                        "metadata monitoring=off are always left out")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more output on stderr")


def load_tree(args: argparse.Namespace, opts: o.Options | None = None) -> tuple[Result, o.Objects]:
    """(snapshot result, objects) for the options of add_topology_options: the tree generate writes.

    `opts` when the caller already read them from `args` (to fail on bad options before the snapshot)."""
    opts = opts if opts is not None else topology_options(args)
    result = snapshot(args, timeout=args.timeout)
    if result.stale_reason:
        print(f"vio-icinga: note: {result.stale_reason}", file=sys.stderr)
    return result, o.build(result.snapshot.inventory(), opts)
