"""check_vio_hypervisor: a vSphere cluster's Nova hypervisor: state, status, capacity."""

from __future__ import annotations

import argparse

from vio_checks.checks.base import CheckSpec, add_count_thresholds, add_selector, main_for, range_arg
from vio_checks.checks.select import select_one
from vio_checks.judge.aggregate import aggregate
from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor
from vio_checks.judge.verdict import Verdict

EPILOG = """\
states:
  CRITICAL  the hypervisor is down (its nova-compute service stopped reporting), or the VMware driver
            disabled it itself because vCenter is unreachable ("set by vmwareapi host_state")
  WARNING   disabled by an admin (with the reason; --ignore-disabled makes it OK)
  WARNING/CRITICAL  vCPU, RAM or disk usage in % outside the --*-warning/--*-critical ranges
            (defaults: RAM and disk 90/95, vCPU none: overcommit above 100 % is normal on VMware)
  aggregate (no --id/--name): the worst hypervisor's state, or -w/-c on the number of problem hypervisors

example:
  check_vio_hypervisor --os-cloud vio --id domain-c8.5f2e...
  VIO HYPERVISOR CRITICAL - domain-c8.5f2e... is down; compute service vio-compute-02 down since 10:42
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selector(p, "hypervisor", id_help="the hypervisor's id or hypervisor_hostname")
    g = p.add_argument_group("hypervisor")
    g.add_argument("--ignore-disabled", action="store_true",
                   help="an admin-disabled hypervisor is OK (vCenter loss stays CRITICAL)")
    g.add_argument("--state-only", action="store_true",
                   help="judge state and status only; usage is reported as perfdata without thresholds "
                        "(for a host check: a full cluster is not a down one)")
    for key, text, warn, crit in (("vcpu", "vCPU", None, None), ("memory", "RAM", "90", "95"),
                                  ("disk", "disk", "90", "95")):
        g.add_argument(f"--{key}-warning", type=range_arg, default=warn, metavar="RANGE",
                       help=f"{text} usage in %% (default: {warn or 'none'})")
        g.add_argument(f"--{key}-critical", type=range_arg, default=crit, metavar="RANGE",
                       help=f"{text} usage in %% (default: {crit or 'none'})")
    add_count_thresholds(p, "hypervisors")


def _options(args: argparse.Namespace) -> HypervisorOptions:
    return HypervisorOptions(
        ignore_disabled=args.ignore_disabled, state_only=args.state_only,
        vcpu_warning=args.vcpu_warning, vcpu_critical=args.vcpu_critical,
        memory_warning=args.memory_warning, memory_critical=args.memory_critical,
        disk_warning=args.disk_warning, disk_critical=args.disk_critical,
    )


def _service(snap, h):
    found = [s for s in snap.find("compute_services", "host", h.service_host) if s.binary == "nova-compute"]
    return found[0] if found else None


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = _options(args)
    h = select_one(snap, "hypervisors", args, "hypervisor", id_falls_back_to_name=True)
    if h is not None:
        return judge_hypervisor(h, _service(snap, h), opts, now)
    services = {s.host: s for s in snap.all("compute_services") if s.binary == "nova-compute"}
    items = [(h.label, judge_hypervisor(h, services.get(h.service_host), opts, now))
             for h in snap.all("hypervisors")]
    return aggregate(items, "hypervisors", args.warning, args.critical, ignore_states=args.ignore_states)


SPEC = CheckSpec(
    name="hypervisor",
    description="Check a VIO hypervisor (one per vSphere cluster) from the cached inventory.",
    evaluate=evaluate,
    add_arguments=add_arguments,
    epilog=EPILOG,
)
main = main_for(SPEC)
