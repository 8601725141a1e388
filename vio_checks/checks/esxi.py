"""check_vio_esxi: an ESXi host below a Nova hypervisor (vSphere layer), or a cluster's hosts at once."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    SELECTION_GROUP,
    THRESHOLD_GROUP,
    CheckSpec,
    accept_unverified_option,
    main_for,
    range_arg,
    selector_options,
)
from vio_checks.checks.select import NotFound, as_kept, select_one
from vio_checks.errors import VioError
from vio_checks.judge.esxi import EsxiOptions, judge_esxi, judge_hosts
from vio_checks.judge.verdict import Verdict
from vio_checks.options import FLAG, Option, selector
from vio_checks.text import age

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

#: The first paragraph of every vSphere-layer check's --help.
NEEDS_LAYER = """\
needs the vSphere layer: --vcenter-credentials FILE (or a vsphere: mapping in the cloud's clouds.yaml
entry) on the command that sweeps, and pyVmomi (pip install 'vio-checks[vsphere]').
"""

EPILOG = NEEDS_LAYER + """
states:
  CRITICAL  the host is disconnected, not responding, powered off or in standby; overall status red
  WARNING   in maintenance mode (OK with --allow-maintenance); overall status yellow
  UNKNOWN   overall status gray or undocumented (vCenter does not know its health)
  UNKNOWN   vCenter reported no state for it (unverified in an aggregate); the vSphere layer is not
            configured or was unavailable at the last sweep; --id/--name/--cluster not found
  aggregate (--cluster, or nothing: every host): by the aggregate rule below, with the number of
            connected hosts ("cluster Compute-A: all 5 ESXi hosts OK, 5 connected"); here -w/-c are Nagios
            ranges on the number of connected hosts (-c 1: is CRITICAL when none is); perfdata also
            hosts_connected (with the ranges) and hosts_maintenance

example:
  check_vio_esxi --os-cloud vio --vcenter-credentials /etc/vio-checks/vcenter.yaml --name esx-03
  VIO ESXI CRITICAL - ESXi host esx-03 is not responding
""" + AGGREGATE_RULE

GROUP = "ESXi host"

OPTIONS = (
    *selector_options("ESXi host", id_help="the host's vCenter moref (host-21)"),
    Option(("--cluster",), type=selector, metavar="CLUSTER", group=SELECTION_GROUP, exclusive="object",
           help="every ESXi host of one cluster: its name, moref or Nova hypervisor hostname"),
    Option(("--allow-maintenance",), kind=FLAG, group=GROUP,
           help="a host in maintenance mode is OK (default: WARNING)"),
    Option(("-w", "--warning"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
           help="aggregate: WARNING when the number of connected hosts is outside RANGE (e.g. 2:)"),
    Option(("-c", "--critical"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
           help="aggregate: CRITICAL when the number of connected hosts is outside RANGE (e.g. 1:)"),
    accept_unverified_option("ESXi hosts"),
)


def require_layer(snap) -> None:
    """Raise VioError (one UNKNOWN line) unless the snapshot holds the vSphere layer."""
    from vio_checks.vsphere import NOT_CONFIGURED

    vs = getattr(snap.meta, "vsphere", None)
    if vs is None:  # (a configured layer without pyVmomi is the sweep's stored error, below)
        raise VioError(NOT_CONFIGURED)
    if vs.error:
        raise VioError(vs.error)


def find_cluster(snap, ref: str):
    """The vSphere cluster by moref, name or Nova hypervisor hostname (NotFound otherwise)."""
    found = snap.get("vsphere_clusters", ref)
    if found is not None:
        return found
    for index in ("name", "hypervisor"):
        matches = snap.find("vsphere_clusters", index, ref)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NotFound(f"{len(matches)} clusters are named {ref!r}: use its moref")
    raise NotFound(f"cluster {ref} not found in inventory (age {age(snap.age())})")


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    require_layer(snap)
    opts = EsxiOptions(allow_maintenance=args.allow_maintenance)
    host = select_one(snap, "esxi_hosts", args, "ESXi host", id_falls_back_to_name=True)
    if host is not None:
        return as_kept(snap, "esxi_hosts", host, judge_esxi(host, opts), now)
    if args.cluster:
        cluster = find_cluster(snap, args.cluster)
        hosts = snap.find("esxi_hosts", "cluster", cluster.moref)
        return judge_hosts(hosts, f"cluster {cluster.name}", opts, args.warning, args.critical,
                           args.accept_unverified)
    return judge_hosts(snap.all("esxi_hosts"), "vCenter", opts, args.warning, args.critical,
                       args.accept_unverified)


SPEC = CheckSpec(
    name="esxi",
    description="Check an ESXi host (vSphere layer) from the cached inventory, or a cluster's hosts.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="esxi_hosts",
)
main = main_for(SPEC)
