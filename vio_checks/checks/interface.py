"""check_vio_interface: a Neutron port (a VM's interface), all ports of one VM, or all VM ports."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
    stuck_after_option,
)
from vio_checks.checks.select import as_kept, resolve, select_one
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.interface import InterfaceOptions, judge_port, port_label, status_perf
from vio_checks.judge.verdict import Verdict
from vio_checks.options import FLAG, Option, selector
from vio_checks.reporter import Reporters
from vio_checks.selection import selection_from_args, selection_options
from vio_checks.text import inert

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
states:
  CRITICAL  binding:vif_type binding_failed (any port); port status ERROR; a VM port that is DOWN, or
            not bound at all (vif_type unbound), while admin up and its VM is ACTIVE; a VM port that is
            DOWN while its VM's state is unknown (Nova's UNKNOWN, or no or an undocumented status)
  WARNING   BUILD for longer than --stuck-after, measured from the port's `updated_at` (younger: OK);
            when that does not parse, from when a sweep first saw the port in BUILD, which the line says;
            a VM port whose server no longer exists in the inventory (once the port is older than
            --stuck-after since its last update, so a VM created during the sweep is not flagged)
  OK        ACTIVE; admin down ("(admin down)", whatever its status; --warn-disabled makes it WARNING);
            DOWN on a VM that is not ACTIVE ("DOWN (VM SHUTOFF)"); DOWN or N/A on router, gateway, DHCP
            and floating IP ports (normal with DVR and NSX: shown, not judged)
  UNKNOWN   its reporter cannot vouch for it: every L2 agent (OVS, Linux bridge, SR-IOV, DVS, OVSvApp,
            OVN controller, ...) on its binding host (`binding:host_id`) is dead or did not report
            whether it is alive ("web-01 port eth0 on private: L2 agent neutron-openvswitch-agent@
            compute-1 dead (last heartbeat 10:42): state unverified (Neutron last reported ACTIVE)").
            Such a port is "unverified": its last reported status is shown but not judged. A port bound
            to a host that runs no L2 agent (NSX), or bound nowhere, is judged on Neutron's record.
  UNKNOWN   Neutron's record has no status ("Neutron reported no status: state unverified"), or one it
            does not document, or a judged field of the wrong type ("Neutron reported status as a list:
            [...]"): counted as unverified in the aggregate; --id/--name/--server not found or ambiguous
  aggregate (no --id/--name): all VM ports (device_owner compute:*), or every port with --all-ports;
            with --server VM: all ports of that VM. Judged by the aggregate rule below; a port without a
            VM (no interface service of its own) is never left to --ignore-states or --accept-unverified.
  The output names the VM (server name) and the network name.

perfdata:
  aggregate only: those of the aggregate rule below, and ports per status
            (active, down, build, error always; others when present, N/A as n_a)

examples:
  check_vio_interface --os-cloud vio --server web-01
  VIO INTERFACE CRITICAL - 1 CRITICAL of 2 ports of web-01: web-01 port eth0 on private is DOWN while \
the VM is ACTIVE | active=1;;;0;2 ...
  check_vio_interface --os-cloud vio --id 3f1c2a8e-...
  VIO INTERFACE OK - web-01 port 3f1c2a8e-... on private is ACTIVE
""" + AGGREGATE_RULE


OPTIONS = (
    *selector_options("port", id_help="the port's id (UUID)"),
    Option(("--server",), type=selector, metavar="VM", group="interface",
           help="all ports of this VM (its id or unique name), judged as an aggregate"),
    Option(("--all-ports",), kind=FLAG, group="interface",
           help="aggregate over every port (router, DHCP, gateway, ...), not only VM ports"),
    stuck_after_option("interface",
                       "WARNING when a port stays BUILD longer than this, counted from its last update; "
                       "also the grace before a port of a deleted VM warns (default: 30m)"),
    Option(("--warn-disabled",), kind=FLAG, group="interface",
           help="an admin-down port is WARNING (default: OK, noted as \"(admin down)\")"),
    *count_threshold_options("ports"),
    *selection_options("ports"),
)


def validate(args: argparse.Namespace) -> None:
    if args.server and (args.id or args.name):
        raise ValueError("--server cannot be combined with --id or --name")


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = InterfaceOptions(stuck_after=args.stuck_after, warn_disabled=args.warn_disabled)
    port = select_one(snap, "ports", args, "port")
    if port is not None:
        server = snap.get("servers", port.device_id) if port.is_vm_port and port.device_id else None
        network = snap.get("networks", port.network_id) if port.network_id else None
        agents = Reporters(agents=snap.find("agents", "host", port.binding_host or ""))
        v = judge_port(port, server, network, opts, now, agents.port(port, now))
        return as_kept(snap, "ports", port, v, now)

    networks = {n.id: n for n in snap.all("networks")}
    if args.server:
        vm = resolve(snap, "servers", args.server, "VM")
        servers = {vm.id: vm}
        ports = snap.find("ports", "device", vm.id)
        what = f"ports of {inert(vm.name) or inert(vm.id)}"
    else:
        servers = {s.id: s for s in snap.all("servers")}
        selection = selection_from_args(args, snap)
        ports = [p for p in snap.all("ports") if (args.all_ports or p.is_vm_port)
                 and selection.port_selected(p, servers.get(p.device_id) if p.is_vm_port else None)]
        what = "ports" if args.all_ports else "VM ports"

    agents = Reporters(agents=snap.all("agents"))
    items, orphans = [], set()
    for p in ports:
        server = servers.get(p.device_id) if p.is_vm_port else None
        network = networks.get(p.network_id)
        items.append(Member(p.id, port_label(p, server, network),
                            judge_port(p, server, network, opts, now, agents.port(p, now))))
        if server is None:  # no VM host, so no interface service of its own reports it
            orphans.add(p.id)
    verdict = aggregate(items, what, args.warning, args.critical, ignore_states=args.ignore_states,
                        uncovered=frozenset(orphans), accept_unverified=args.accept_unverified)
    verdict.perf += status_perf(list({p.id: p for p in ports}.values()))
    return verdict


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads a Neutron port (`--id`) or all ports of a VM (`--server`), the VM and network, and the L2 agents of
the host the port is bound to: while all of them are dead the port is unverified ([the reporter
rule](#unverified-the-reporter-rule)); a host without L2 agents (NSX) leaves Neutron's record as the only
word. The states are those of `--help` below.

    VIO INTERFACE CRITICAL - web-01 port eth0 on private is DOWN while the VM is ACTIVE
"""

SPEC = CheckSpec(
    name="interface",
    description="Check a VIO VM interface (Neutron port) from the cached inventory, all ports of a VM, "
                "or all VM ports at once.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    validate=validate,
    members="ports",
    doc=DOC,
)
main = main_for(SPEC)
