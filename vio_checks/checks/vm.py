"""check_vio_vm: a Nova server's state (ERROR, power, stuck tasks), or all VMs' states at once."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
    stuck_after_option,
)
from vio_checks.checks.select import NotFound, as_kept, select_one
from vio_checks.eventlog import EventLog
from vio_checks.judge.verdict import Verdict
from vio_checks.judge.vm import (
    NOVA_STATUSES,
    VmOptions,
    history_notes,
    judge_deleted_vm,
    judge_vm,
    status_perf,
    vsphere_power,
)
from vio_checks.options import Option, comma_list, duration_range, type_error
from vio_checks.placement import Placement, vsphere_vm_by_server
from vio_checks.selection import selection_from_args, selection_options
from vio_checks.text import inert

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
states:
  CRITICAL  the VM is ERROR (with Nova's fault message when it gives one); or it is ACTIVE but its power
            state is not RUNNING (SHUTDOWN, CRASHED, PAUSED, SUSPENDED, NOSTATE)
  CRITICAL  with the vSphere layer: Nova says ACTIVE with no task in progress while vCenter says the VM
            is poweredOff or suspended, in this sweep and the previous one ("Nova says ACTIVE, vCenter
            says poweredOff since 08:42"): vCenter is closer to the truth, Nova's power sync lags
  WARNING   the same, seen in this sweep only (a reboot in flight does not page)
  WARNING   a transitional status (BUILD, MIGRATING, RESIZE, REBOOT, HARD_REBOOT, REBUILD, REVERT_RESIZE,
            PASSWORD) or any task_state (image_snapshot, powering-on, ...) for longer than --stuck-after,
            measured from the server's `updated` time; younger: OK ("migrating for 4 min"); when `updated`
            does not parse, from when a sweep first saw the VM in that status and task ("migrating for
            2 h (since first seen 08:42; Nova's timestamp unreadable)")
  OK        ACTIVE and running; resting statuses SHUTOFF, SUSPENDED, PAUSED, SHELVED, SHELVED_OFFLOADED,
            RESCUE, VERIFY_RESIZE (resized, awaiting confirm/revert), SOFT_DELETED, unless listed in
            --warning-states / --critical-states
  UNKNOWN   the VM's host cannot vouch for it: host_status DOWN/UNKNOWN, its hypervisor down, its
            nova-compute service down, or vCenter lost (the VMware driver's "set by vmwareapi host_state"
            on a disabled or down nova-compute; the same reason on an enabled, up service is not a loss),
            or, with the vSphere layer, the ESXi host its vSphere VM runs on is down;
            also Nova's own status UNKNOWN, no status in Nova's record ("Nova reported no status"), or a
            status, task_state, power_state or host_status Nova does not document or of the wrong type
            ("Nova reported an undocumented status 'X'", "Nova reported status as a list: [...]").
            Such a VM is "unverified": its last reported status (even ERROR) is shown but not judged.
            Also UNKNOWN: --id/--name not found or ambiguous.
  aggregate (no --id/--name): every VM judged as above, by the aggregate rule below: unverified VMs make
            it WARNING "3 unverified (hypervisor domain-c10 down: 3)" unless --accept-unverified
  The output names the hypervisor: the vSphere cluster name when the hostname has the `domain-c9(Name)`
  form, else the hypervisor hostname.

perfdata:
  one VM: vcpus, ram (B) from its flavor
  aggregate: those of the aggregate rule below, and VMs per Nova status
            (active, error, shutoff, suspended, paused, shelved, shelved_offloaded, build always; others
            when present; Nova's UNKNOWN status as status_unknown)

examples:
  check_vio_vm --os-cloud vio --name web-01
  VIO VM CRITICAL - web-01 is ERROR: No valid host was found (on Cluster-B)
  check_vio_vm --os-cloud vio --name mig-01
  VIO VM WARNING - mig-01 stuck migrating for 2 h 0 min since 08:42 (on Cluster-B) | ram=2147483648B;;;0 ...
  check_vio_vm --os-cloud vio --critical-states SHUTOFF -w 0 -c 5
  VIO VM WARNING - 1 CRITICAL of 42 VMs, 1 unverified (hypervisor domain-c10 down: 1): web-01 is SHUTOFF \
(on Cluster-B) | active=40;;;0;42 ...
""" + AGGREGATE_RULE


def status_list(text: str) -> frozenset[str]:
    """argparse type: a comma list of Nova server statuses."""
    statuses = frozenset(s.upper() for s in comma_list(text))
    unknown = sorted(statuses - NOVA_STATUSES)
    if unknown:
        raise type_error(f"not a Nova server status: {', '.join(unknown)} "
                                         f"(use e.g. SHUTOFF,SUSPENDED,PAUSED,SHELVED,SHELVED_OFFLOADED)")
    return statuses


OPTIONS = (
    *selector_options("VM", id_help="the server's id (UUID)"),
    stuck_after_option("VM",
                       "WARNING when a transitional status or task lasts longer than this, counted from "
                       "the server's last update (default: 30m)"),
    Option(("--warning-states",), type=status_list, default=frozenset(), metavar="LIST", group="VM",
           help="Nova statuses that are WARNING, e.g. SHUTOFF,PAUSED,RESCUE (default: none; ERROR "
                "stays CRITICAL; a transitional status listed here warns at once)"),
    Option(("--critical-states",), type=status_list, default=frozenset(), metavar="LIST", group="VM",
           help="Nova statuses that are CRITICAL, e.g. SHUTOFF (default: none; wins over "
                "--warning-states)"),
    Option(("--window",), type=duration_range(60), default=3600.0, metavar="DURATION", group="VM",
           help="mention a migration of the VM this recent (default: 1h)"),
    *count_threshold_options("VMs"),
    *selection_options("VMs"),
)


def _options(args: argparse.Namespace) -> VmOptions:
    return VmOptions(stuck_after=args.stuck_after, warning_states=args.warning_states,
                     critical_states=args.critical_states)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = _options(args)
    try:
        server = select_one(snap, "servers", args, "VM")
    except NotFound:
        # A VM the log saw deleted is OK: config that still names it must not page anyone.
        log = EventLog(snap.store)
        gone = [e for e in log.for_object(args.id, 0) if e.kind == "vm_deleted"] if args.id else []
        if not gone:
            raise
        return judge_deleted_vm(gone[0], now)
    where = Placement(snap.all("hypervisors"), snap.all("compute_services"))
    if server is not None:
        history = EventLog(snap.store).for_object(server.id, now - args.window)
        project = snap.get("projects", server.project_id) if server.project_id else None
        v = judge_vm(server, where.hypervisor_of(server), where.service_of(server), opts, now,
                     notes=history_notes(history, now), project=project.name if project else None)
        if snap.meta.vsphere is None:
            return as_kept(snap, "servers", server, v, now)
        from vio_checks.judge.esxi import on_esxi

        vm = vsphere_vm_by_server(snap.find("vsphere_vms", "server", server.id)).get(server.id)
        host = snap.get("esxi_hosts", vm.host) if vm is not None and vm.host else None
        v = on_esxi(v, host, vm.power_state if vm is not None else None,
                    name=inert(server.name) or inert(server.id))
        v = vsphere_power(v, server, vm, snap.meta.fetched_at, now)
        return as_kept(snap, "servers", server, v, now)
    from vio_checks.judge.aggregate import Member, aggregate  # the aggregate mode's alone (warm path)

    selection = selection_from_args(args, snap)
    servers = [s for s in snap.all("servers") if selection.server_selected(s)]
    items = [Member(s.id, s.name or s.id, judge_vm(s, where.hypervisor_of(s), where.service_of(s), opts, now))
             for s in servers]
    if snap.meta.vsphere is not None:  # a VM on a down ESXi host is unverified, as on a down hypervisor
        from vio_checks.judge.esxi import on_esxi

        hosts = {h.moref: h for h in snap.all("esxi_hosts")}
        vm_of = vsphere_vm_by_server(snap.all("vsphere_vms"))
        host_of = {sid: hosts.get(v.host) for sid, v in vm_of.items() if v is not None}
        server_of = {s.id: s for s in servers}
        when = snap.meta.fetched_at
        items = [m._replace(verdict=vsphere_power(on_esxi(m.verdict, host_of.get(m.id), name=inert(m.label)),
                                                  server_of[m.id], vm_of.get(m.id), when, now))
                 for m in items]
    verdict = aggregate(items, "VMs", args.warning, args.critical, ignore_states=args.ignore_states,
                        accept_unverified=args.accept_unverified)
    verdict.perf += status_perf(list({s.id: s for s in servers}.values()))
    return verdict


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads the server, its hypervisor and nova-compute service (found by one rule, `placement.py`, which the
dependency tree and the event log use too: the hypervisor named by the server's `hypervisor_hostname`, else
the only one on its compute host), the vSphere VM when the vSphere layer is on (its power state wins over
Nova's), and the event log (moves and deletions within `--window`). A VM whose host cannot vouch for it is
unverified ([the reporter rule](#unverified-the-reporter-rule)); a VM the event log saw deleted is OK until
the next config generation removes it, so stale config never pages anyone.

    VIO VM CRITICAL - web-01 is ERROR: No valid host was found (on Cluster-B)
"""

SPEC = CheckSpec(
    name="vm",
    description="Check a VIO VM (Nova server) from the cached inventory, or all VMs at once.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="servers",
    doc=DOC,
)
main = main_for(SPEC)
