"""check_vio_hypervisor: a vSphere cluster's Nova hypervisor: state, status, capacity."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    range_arg,
    selector_options,
)
from vio_checks.checks.select import as_kept, select_one
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor
from vio_checks.judge.verdict import Threshold, Verdict
from vio_checks.options import FLAG, Option
from vio_checks.placement import Placement

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
states:
  CRITICAL  the hypervisor is down: its nova-compute service, which reports it, is down or forced down
            (or the hypervisor record says down); or vCenter is lost: the VMware driver's reason "set by
            vmwareapi host_state" on a disabled (or down) nova-compute (the driver leaves that reason on
            re-enabling it too: enabled and up is fine)
  OK        disabled by an admin, with the reason in the status line ("domain-c8 is disabled:
            maintenance"); --warn-disabled makes it WARNING
  WARNING/CRITICAL  vCPU, RAM or disk usage in % outside the --*-warning/--*-critical ranges
            (defaults: RAM and disk 90/95, vCPU none: overcommit above 100 % is normal on VMware)
  CRITICAL  with the vSphere layer: no ESXi host of its cluster can run a VM: every host is down
            (disconnected, not responding, powered off, in standby) or in maintenance mode, at least one
            down ("all 3 ESXi hosts are down", or "no ESXi host can run a VM: 1 down (...), 2 in
            maintenance mode (...)"); WARNING when every host is in maintenance mode
  UNKNOWN   Nova's record has no state or status ("Nova reported no state: state unverified"), or one
            Nova does not document (state other than up/down, status other than enabled/disabled) or of
            the wrong type: counted as unverified in the aggregate; --id/--name not found or ambiguous
  aggregate (no --id/--name): every hypervisor judged as above, by the aggregate rule below

example:
  check_vio_hypervisor --os-cloud vio --id domain-c8.5f2e...
  VIO HYPERVISOR CRITICAL - domain-c8.5f2e... is down; compute service vio-compute-02 down since 10:42
""" + AGGREGATE_RULE


GROUP = "hypervisor"


def _usage_options() -> list[Option]:
    out = []
    for key, text, warn, crit in (("vcpu", "vCPU", None, None), ("memory", "RAM", "90", "95"),
                                  ("disk", "disk", "90", "95")):
        out += [Option((f"--{key}-warning",), type=range_arg, default=warn, metavar="RANGE", group=GROUP,
                       help=f"{text} usage in %% (default: {warn or 'none'})"),
                Option((f"--{key}-critical",), type=range_arg, default=crit, metavar="RANGE", group=GROUP,
                       help=f"{text} usage in %% (default: {crit or 'none'})")]
    return out


OPTIONS = (
    *selector_options("hypervisor", id_help="the hypervisor's id or hypervisor_hostname"),
    Option(("--warn-disabled",), kind=FLAG, group=GROUP,
           help="an admin-disabled hypervisor is WARNING (default: OK, with its reason; vCenter loss "
                "is CRITICAL either way)"),
    Option(("--ignore-disabled",), kind=FLAG, group=GROUP,
           help="deprecated, no effect: an admin-disabled hypervisor is OK by default"),
    Option(("--state-only",), kind=FLAG, group=GROUP,
           help="judge state and status only; usage is reported as perfdata without thresholds "
                "(for a host check: a full cluster is not a down one)"),
    *_usage_options(),
    *count_threshold_options("hypervisors"),
)


def _options(args: argparse.Namespace) -> HypervisorOptions:
    return HypervisorOptions(
        warn_disabled=args.warn_disabled, state_only=args.state_only,
        vcpu=Threshold.parse(args.vcpu_warning, args.vcpu_critical),
        memory=Threshold.parse(args.memory_warning, args.memory_critical),
        disk=Threshold.parse(args.disk_warning, args.disk_critical),
    )


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = _options(args)
    h = select_one(snap, "hypervisors", args, "hypervisor", id_falls_back_to_name=True)
    if h is not None:
        where = Placement([h], snap.find("compute_services", "host", h.service_host))
        return as_kept(snap, "hypervisors", h,
                       _below(snap, h, judge_hypervisor(h, where.service_of_hypervisor(h), opts, now)), now)
    hypervisors = snap.all("hypervisors")
    where = Placement(hypervisors, snap.all("compute_services"))
    items = [Member(str(h.id), h.label, _below(snap, h, judge_hypervisor(h, where.service_of_hypervisor(h),
                                                                          opts, now)))
             for h in hypervisors]
    return aggregate(items, "hypervisors", args.warning, args.critical, ignore_states=args.ignore_states,
                     accept_unverified=args.accept_unverified)


def _below(snap, h, v: Verdict) -> Verdict:
    """With the vSphere layer: CRITICAL when no ESXi host of the hypervisor's cluster can run a VM (every
    one down or in maintenance mode, at least one down), WARNING when all are in maintenance mode (one
    down host leaves it UP: check_vio_esxi reports that host)."""
    if getattr(snap.meta, "vsphere", None) is None:
        return v
    from vio_checks.judge.esxi import cluster_unavailable

    unavailable = cluster_unavailable(snap.find("esxi_hosts", "hypervisor", h.hostname), h.label)
    if unavailable is not None:
        v.findings[:0] = unavailable.findings
    return v


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads the hypervisor (one per vSphere cluster under the VMware driver) and its nova-compute service, at
compute microversion 2.87 so the usage fields exist; a cloud that does not report them is judged on state
alone, and says so. Nova does not expose vSphere cluster names: the older `domain-c8(Cluster-B)` hostname
form is shown by name. The states are those of `--help` below.

    VIO HYPERVISOR CRITICAL - domain-c8.5f2e... is down; compute service vio-compute-02 down since 10:42
"""

SPEC = CheckSpec(
    name="hypervisor",
    description="Check a VIO hypervisor (one per vSphere cluster) from the cached inventory.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="hypervisors",
    doc=DOC,
)
main = main_for(SPEC)
