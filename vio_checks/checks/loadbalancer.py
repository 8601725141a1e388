"""check_vio_loadbalancer: Octavia load balancers (all of them, one, or one member of one)."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
    stuck_after_option,
)
from vio_checks.checks.optional_common import absent, list_error, unlisted, with_list_error
from vio_checks.checks.select import NotFound, as_kept, select_one
from vio_checks.errors import VioError
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.loadbalancer import LbOptions, judge_load_balancer, judge_member, lb_label
from vio_checks.judge.verdict import Perf
from vio_checks.options import FLAG, Option, selector

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

    from vio_checks.judge.verdict import Verdict

SERVICE_TYPE = "load-balancer"
KIND = "load_balancers"

EPILOG = """\
states (each load balancer; its listeners, pools and members from its status tree, one request each):
  CRITICAL  provisioning_status ERROR; operating_status ERROR; OFFLINE while admin enabled; a listener,
            pool or member ERROR (or OFFLINE while admin up) where the balancer's own status says less
  WARNING   operating_status DEGRADED, naming the members down ("2 of 3 members down: web-02 (10.0.0.5:80)")
  WARNING   provisioning_status PENDING_CREATE/PENDING_UPDATE/PENDING_DELETE for longer than --stuck-after
            (counted from the balancer's updated_at); shorter: an operation in progress, noted
  OK        ACTIVE and ONLINE; NO_MONITOR (a pool without a health monitor: Octavia does not check its
            members, said in the output; not a failure)
  OK        admin disabled (OFFLINE), or a member DRAINING or admin down: a deliberate admin action, noted;
            --warn-disabled makes it WARNING
  UNKNOWN   a status Octavia did not report, or one it does not document: unverified (never OK); the
            status tree could not be read at the sweep: listeners, pools and members unverified
  UNKNOWN   the region's catalog has no Octavia: one line saying so
  UNKNOWN   Octavia's load balancer list failed at the last sweep: a balancer judged OK from its last
            record is unverified; a problem stands, said to be the last known state
  --member MEMBER_ID (with --id): that member's operating and provisioning status, and the state of its VM
            when the member joins one (the Nova server whose port holds the member's address on its subnet)
  aggregate (no --id/--name): every load balancer judged as above, by the aggregate rule below; perfdata
            also members_unjoined (members no single VM's port holds: counted, never guessed)
perfdata (one balancer): members_up, members_down, members_unjoined (of the members), listeners, pools

examples:
  check_vio_loadbalancer --os-cloud vio
  VIO LOADBALANCER WARNING - 1 of 3 load balancers WARNING: ci-lb is DEGRADED: 1 of 2 members down: ...
  check_vio_loadbalancer --os-cloud vio --name shop-lb
  VIO LOADBALANCER OK - shop-lb is ACTIVE/ONLINE, 3 of 3 members up
  VIO LOADBALANCER CRITICAL - ledger-lb: provisioning ERROR; ledger-lb is ERROR
  check_vio_loadbalancer --os-cloud vio --id 5b50c58d-... --member 9c1e...
  VIO LOADBALANCER CRITICAL - shop-lb member web-02 (10.10.1.11:80) is ERROR (its health monitor fails); VM
  web-02 is SHUTOFF
""" + AGGREGATE_RULE

GROUP = "load balancer"

OPTIONS = (
    *selector_options("load balancer"),
    Option(("--member",), type=selector, metavar="MEMBER_ID", group=GROUP,
           help="with --id or --name: judge this one member of the load balancer (its operating status, "
                "and its VM's state when it joins one)"),
    stuck_after_option(GROUP, "a PENDING_* provisioning status lasting longer than this is WARNING "
                              "(default: 30m)"),
    Option(("--warn-disabled",), kind=FLAG, group=GROUP,
           help="an admin-disabled load balancer or member (or a DRAINING member) is WARNING (default: OK, "
                "noted)"),
    *count_threshold_options("load balancers"),
)


def validate(args: argparse.Namespace) -> None:
    if args.member and not (args.id or args.name):
        raise ValueError("--member judges one member of one load balancer: give --id or --name too")


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    missing = absent(snap.meta, SERVICE_TYPE)
    if missing is not None:
        return missing
    failed = list_error(snap.meta, SERVICE_TYPE)
    opts = LbOptions(stuck_after=args.stuck_after, warn_disabled=args.warn_disabled)
    try:
        lb = select_one(snap, KIND, args, "load balancer")
    except NotFound:
        if failed:
            raise VioError(f"{failed}; no earlier record of this load balancer") from None
        raise
    if lb is not None and args.member:
        servers = {s.id: s for s in snap.all("servers")}
        v = judge_member(lb, args.member, opts, now, servers)
    elif lb is not None:
        v = as_kept(snap, KIND, lb, judge_load_balancer(lb, opts, now), now)
    else:
        lbs = snap.all(KIND)
        items = [Member(lb.id, lb_label(lb), unlisted(judge_load_balancer(lb, opts, now), failed))
                 for lb in lbs]
        v = aggregate(items, "load balancers", args.warning, args.critical, ignore_states=args.ignore_states,
                      accept_unverified=args.accept_unverified)
        members = [m for lb in lbs for m in lb.members]
        unjoined = sum(1 for m in members if m.server_id is None)
        v.perf.append(Perf("members_unjoined", unjoined, "", None, None, 0, len(members)))
        if unjoined:
            v.details.append(f"{unjoined} of {len(members)} members not joined to a VM (no single server's "
                             "port holds the address on the member's subnet)")
        return with_list_error(v, failed)
    return unlisted(v, failed)


SPEC = CheckSpec(
    name="loadbalancer",
    description="Check VIO (Octavia) load balancers from the cached inventory: all, one, or one member.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    validate=validate,
    members="load_balancers",
)
main = main_for(SPEC)
