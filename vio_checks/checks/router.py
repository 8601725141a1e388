"""check_vio_router: a Neutron router's status, admin state, L3-agent hosting and HA state."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
)
from vio_checks.checks.select import as_kept, select_one
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.router import RouterOptions, judge_l3_agents, judge_router, router_label
from vio_checks.judge.verdict import Verdict
from vio_checks.options import FLAG, Option, int_range
from vio_checks.selection import selection_from_args, selection_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
states:
  CRITICAL  status ERROR
  CRITICAL  L3 agents exist in the inventory and the (admin-up) router is hosted by none of them
            ("not hosted by any L3 agent"), or by none that is alive ("no alive L3 agent"), or by none
            that serves it: alive and admin up ("no L3 agent serves it"; with Neutron's default
            enable_services_on_agents_with_admin_state_down = False an admin-down L3 agent's routers
            are disabled there)
  CRITICAL  HA router: none of its serving (alive, admin-up) hosting L3 agents reports ha_state active
            ("no active L3 agent"), or two or more do ("split brain")
  WARNING   some, not all, of its hosting L3 agents are dead or admin down (an HA router lost its
            standby, a distributed router lost a node)
  WARNING   a documented status other than ACTIVE or ERROR (BUILD, DOWN, ALLOCATING, PENDING_*)
  UNKNOWN   HA router whose ha_state Neutron did not report (so its active agent cannot be verified), or
            an ha_state Neutron does not document;
            no hosting L3 agent serves it and Neutron did not report whether some of them are alive
            or admin up ("state unverified", counted as unverified in the aggregate)
  UNKNOWN   no status in Neutron's record ("Neutron reported no status: state unverified"), a status it
            does not document, or a judged field of the wrong type (status, admin_state_up, ha,
            distributed): unverified, counted as such in the aggregate
  OK        admin down: a deliberate admin action, noted in the status line ("(admin down)");
            --warn-disabled makes it WARNING; an admin-down router's hosting is only noted
  OK        ACTIVE, admin up, and (with L3 agents) hosted by alive, admin-up agents only, an HA router
            active on exactly one of them
  UNKNOWN   Neutron announces the agent extension (GET /v2.0/extensions) but listed no agents: the
            router's L3 hosting is unverified (an empty agents list is not proof of NSX)
  NSX:      the NSX plugins VIO uses run no L3 agents; when the inventory holds no L3 agent at all (and
            Neutron does not announce agents), a router is judged on its own status and admin state alone
  aggregate (no --id/--name): every router judged as above, by the aggregate rule below (a router whose
            ha_state Neutron did not report makes the set UNKNOWN)
  --l3-agents (with --id/--name): the router's hosting L3 agents as one redundant set, the parent the
            generated config gives a router hosted by several (its l3-agents service):
  OK        every hosting L3 agent serves (alive and admin up)
  WARNING   some do not: "reduced redundancy: 2 of 3 L3 agents up", "at risk: 1 of 2 L3 agents up"
  CRITICAL  none does, each known dead or admin down: "all 2 L3 agents down"
  UNKNOWN   none is known to serve and Neutron did not report (or document) some agent's state, or the
            router names an agent Neutron's agent list lacks, or fewer agents host it than expected
            (--expect-agents N; an HA router: two): never counted up; a router without agents
  --leave-l3-redundancy (aggregate): a router hosted by several L3 agents that lost some of them is not
            WARNING for that (noted): its l3-agents service reports it, so one fault pages once
perfdata (single router, L3 agents only): agents_alive (of agents_total hosting agents), agents_total;
  HA routers also agents_active (alive hosting agents reporting ha_state active); aggregate: below

example:
  check_vio_router --os-cloud vio --name router-a
  VIO ROUTER CRITICAL - router-a is ERROR
  VIO ROUTER WARNING - router-a: HA router with 1 of 2 hosting L3 agents dead: neutron-l3-agent@net-02
  VIO ROUTER CRITICAL - router-a: HA router active on 2 L3 agents (split brain): neutron-l3-agent@net-01, ...
  VIO ROUTER OK - router-b is ACTIVE (admin down), 1 of 1 hosting L3 agents alive
  check_vio_router --os-cloud vio --name router-a --l3-agents
  VIO ROUTER WARNING - router router-a: at risk: 1 of 2 L3 agents up (down: neutron-l3-agent@net-02)
""" + AGGREGATE_RULE


OPTIONS = (
    *selector_options("router"),
    Option(("--warn-disabled",), kind=FLAG, group="router",
           help="an admin-down router is WARNING (default: OK, noted; status ERROR stays CRITICAL)"),
    Option(("--ignore-admin-down",), kind=FLAG, group="router",
           help="deprecated, no effect: an admin-down router is OK by default (see --warn-disabled)"),
    Option(("--l3-agents",), kind=FLAG, group="router",
           help="judge the router's hosting L3 agents as one redundant set (needs --id or --name): the "
                "parent of a router hosted by several in the generated config"),
    Option(("--expect-agents",), type=int_range(1, 1000), metavar="N", group="router",
           help="with --l3-agents: how many L3 agents should host the router (the generator passes how many "
                "did when it wrote the config); fewer hosting it now count as unverified, never up (an HA "
                "router expects two at least)"),
    Option(("--leave-l3-redundancy",), kind=FLAG, group="router",
           help="aggregate: a router hosted by several L3 agents that lost some is not WARNING for it (its "
                "l3-agents service reports that: the generated config passes this)"),
    *count_threshold_options("routers"),
    *selection_options("routers", unmonitored=False),
)


def validate(args: argparse.Namespace) -> None:
    if args.l3_agents and not (args.id or args.name):
        raise ValueError("--l3-agents judges one router's L3 agents: give --id or --name")


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = RouterOptions(warn_disabled=args.warn_disabled, leave_l3_redundancy=args.leave_l3_redundancy)
    agents = {a.id: a for a in snap.all("agents")}
    has_agents = getattr(snap.meta, "neutron_agents", None)
    r = select_one(snap, "routers", args, "router")
    if r is not None and args.l3_agents:
        return as_kept(snap, "routers", r, judge_l3_agents(r, agents, now, args.expect_agents), now)
    if r is not None:
        return as_kept(snap, "routers", r, judge_router(r, agents, opts, now, has_agents), now)
    selection = selection_from_args(args, snap)
    routers = [r for r in snap.all("routers") if selection.router_selected(r)]
    items = [Member(r.id, router_label(r), judge_router(r, agents, opts, now, has_agents)) for r in routers]
    return aggregate(items, "routers", args.warning, args.critical, ignore_states=args.ignore_states,
                     accept_unverified=args.accept_unverified)


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads the router and the L3 agents hosting it. `--l3-agents` (with `--id`/`--name`) judges the hosting
agents as one **redundant set** instead: the l3-agents service the generator makes the parent of a router
hosted by several, judged by the one redundant-set judge (`vio_checks/judge/redundant.py`) that also judges
[controller service clusters](#controller-service-clusters). **NSX:** the NSX plugins VIO uses run no L3
agents; whether the cloud has agents is what Neutron announces (the `agent` extension, one request a sweep),
not one empty list, and without it a router is judged on its own status and admin state alone. The states
are those of `--help` below.

    VIO ROUTER CRITICAL - shop-router: HA router active on 2 L3 agents (split brain): \
neutron-l3-agent@net-01, neutron-l3-agent@net-02
    VIO ROUTER WARNING - router webshop-router: at risk: 1 of 2 L3 agents up (down: \
neutron-l3-agent@net-02)   (--l3-agents)
"""

SPEC = CheckSpec(
    name="router",
    description="Check a VIO (Neutron) router from the cached inventory.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    validate=validate,
    members="routers",
    doc=DOC,
)
main = main_for(SPEC)
