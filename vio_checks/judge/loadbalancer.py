"""Octavia load balancers: provisioning and operating status of a balancer, its listeners, pools, members.

Provisioning status (every object): ACTIVE OK; PENDING_* is an operation in progress, WARNING once it lasts
longer than --stuck-after (the one stuck rule, judge/timefmt, counted from the balancer's `updated_at`, else
its `created_at`: the children have no timestamps of their own); ERROR CRITICAL; DELETED still listed WARNING.

Operating status, as Octavia's health manager reports it: ONLINE OK; DEGRADED WARNING, naming the members
down; ERROR CRITICAL; OFFLINE CRITICAL unless the object is admin-disabled (then the one admin-action rule:
judge/admin.py); NO_MONITOR OK and said: a pool without a health monitor is not checked by Octavia, so its
members' health is not known to it (not a failure); DRAINING (a member taking no new connections: weight 0)
is a deliberate admin action too.

A status that is absent, of the wrong type or not documented (documented.py) is unverified, never OK. A
balancer whose status tree could not be read (`tree_error`) keeps its own list statuses and has its
listeners, pools and members unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vio_checks.documented import LB_OPERATING, LB_PROVISIONING
from vio_checks.judge.admin import admin_action
from vio_checks.judge.timefmt import STUCK_AFTER, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import unreported
from vio_checks.optional_records import LbMember, LoadBalancer
from vio_checks.text import counted, inert

#: Operating statuses of a member that is down (the ones DEGRADED names).
MEMBER_DOWN = frozenset({"ERROR", "OFFLINE"})
#: What NO_MONITOR means, said wherever it is seen.
NO_MONITOR = "no health monitor: Octavia does not check the members (NO_MONITOR is not a failure)"


@dataclass
class LbOptions:
    stuck_after: float = STUCK_AFTER  # --stuck-after: a PENDING_* status longer than this is WARNING
    warn_disabled: bool = False  # an admin-disabled object (or a draining member) is WARNING (default: OK)


def lb_label(lb: LoadBalancer) -> str:
    """The balancer's name, or its id when it has none (inert)."""
    return inert(lb.name) or inert(lb.id)


def member_label(m: LbMember) -> str:
    """`web-01 (10.10.1.10:80)`, or the address alone for a member without a name (inert)."""
    where = f"{inert(m.address, 60) or '?'}:{m.protocol_port if m.protocol_port is not None else '?'}"
    return f"{inert(m.name)} ({where})" if m.name else where


def _child_label(kind: str, obj: object) -> str:
    return f"{kind} {inert(getattr(obj, 'name', '')) or inert(getattr(obj, 'id', ''))}"


def _provisioning(v: Verdict, label: str, status: str, lb: LoadBalancer, opts: LbOptions, now: float) -> None:
    """The provisioning rule of one object (its status already known documented)."""
    shown = inert(status, 40)
    if status == "ERROR":
        v.add(State.CRITICAL, f"{label}: provisioning ERROR")
    elif status.startswith("PENDING_"):
        # Octavia leaves updated_at null until the first update: a new balancer counts from created_at
        took = elapsed(lb.updated if lb.updated is not None else lb.created, now, opts.stuck_after,
                       source="Octavia")
        if took.stuck:
            v.add(State.WARNING, f"{label}: {shown} {took.text} (stuck: longer than --stuck-after)")
        else:
            v.details.append(f"{label}: {shown} {took.text} {took.since}: an operation in progress")
    elif status == "DELETED":
        v.add(State.WARNING, f"{label}: provisioning DELETED but still listed")


def _unknown(v: Verdict, label: str, why: str) -> None:
    v.unverified = True
    v.cause = v.cause or why
    v.add(State.UNKNOWN, f"{label}: {why}: state unverified")


def _documented(v: Verdict, label: str, obj: object) -> bool:
    """Whether `obj`'s statuses can be judged; an UNKNOWN finding names what is wrong when not."""
    missing = unreported(obj)
    if missing:
        _unknown(v, label, missing)
        return False
    prov, oper = getattr(obj, "provisioning_status", ""), getattr(obj, "operating_status", "")
    if prov not in LB_PROVISIONING or oper not in LB_OPERATING:
        _unknown(v, label, f"Octavia reported an undocumented status {inert(prov, 40)!r}/{inert(oper, 40)!r}")
        return False
    return True


def members_down(lb: LoadBalancer) -> list[LbMember]:
    """The members of a balancer Octavia reports down (ERROR, or OFFLINE while admin up)."""
    return members_down_of(lb.members)


def _named(members: list[LbMember], limit: int = 5) -> str:
    names = [member_label(m) for m in members[:limit]]
    more = f", +{len(members) - limit} more" if len(members) > limit else ""
    return ", ".join(names) + more


def _operating(v: Verdict, label: str, status: str, admin_up: bool | None, opts: LbOptions,
               down: list[LbMember], of: int) -> None:
    """The operating rule of a balancer, listener or pool (`down`: its members down, of `of`)."""
    if status == "DEGRADED":
        who = f": {len(down)} of {counted(of, 'members')} down: {_named(down)}" if down else \
            " (Octavia names no member down)"
        v.add(State.WARNING, f"{label} is DEGRADED{who}")
    elif status == "ERROR":
        who = f" ({len(down)} of {counted(of, 'members')} down)" if of else ""
        v.add(State.CRITICAL, f"{label} is ERROR{who}")
    elif status == "OFFLINE":
        if admin_up is False:
            admin_action(v, f"{label} is OFFLINE (admin disabled)", opts.warn_disabled)
        else:
            v.add(State.CRITICAL, f"{label} is OFFLINE")
    elif status == "DRAINING":
        admin_action(v, f"{label} is DRAINING", opts.warn_disabled)
    elif status == "NO_MONITOR":
        v.details.append(f"{label}: {NO_MONITOR}")


def judge_load_balancer(lb: LoadBalancer, opts: LbOptions, now: float) -> Verdict:
    """One load balancer: its own statuses, then its listeners', pools' and members' (its status tree)."""
    v = Verdict()
    label = lb_label(lb)
    own = _documented(v, label, lb)
    down = members_down(lb)
    members = lb.members
    if own:
        _provisioning(v, label, lb.provisioning_status, lb, opts, now)
        _operating(v, label, lb.operating_status, lb.admin_state_up, opts, down, len(members))
    if lb.admin_state_up is False and lb.operating_status != "OFFLINE":
        admin_action(v, f"{label} is admin disabled", opts.warn_disabled, noted=True)
    own_rank = v.state.rank
    if lb.tree_error:
        _unknown(v, label, "status tree not read")
        v.details.append(f"status tree: {inert(lb.tree_error, 200)}: listeners, pools and members unverified")
    else:
        _children(v, lb, opts, now, own_rank)
    if not v.findings:
        monitor = " (no health monitor)" if lb.pools and all(p.operating_status == "NO_MONITOR"
                                                              for p in lb.pools) else ""
        v.add(State.OK, f"{label} is {inert(lb.provisioning_status, 40)}/{inert(lb.operating_status, 40)}, "
                        f"{len(members) - len(down)} of {counted(len(members), 'members')} up{monitor}")
    unjoined = sum(1 for m in members if m.server_id is None)
    v.perf += [
        Perf("members_up", len(members) - len(down), "", None, None, 0, len(members)),
        Perf("members_down", len(down), "", None, None, 0, len(members)),
        Perf("members_unjoined", unjoined, "", None, None, 0, len(members)),
        Perf("listeners", len(lb.listeners), "", None, None, 0),
        Perf("pools", len(lb.pools), "", None, None, 0),
    ]
    v.details.append(f"load balancer {inert(lb.id)} ({inert(lb.name) or 'no name'}), project "
                     f"{inert(lb.project_id) or '?'}, VIP {inert(lb.vip_address, 60) or '?'} on subnet "
                     f"{inert(lb.vip_subnet_id) or '?'}, provider {inert(lb.provider, 40) or '?'}")
    if unjoined:
        v.details.append(f"{counted(unjoined, 'members')} not joined to a VM (no single server's port holds "
                         "the address on the member's subnet)")
    return v


def _children(v: Verdict, lb: LoadBalancer, opts: LbOptions, now: float, own_rank: int) -> None:
    """Listeners, pools and members: a finding worse than the balancer's own is added, others are noted."""
    sub = Verdict()
    # an admin-disabled balancer takes its listeners and pools OFFLINE with it: the same admin action
    admin = False if lb.admin_state_up is False else None
    for lst in lb.listeners:
        label = _child_label("listener", lst)
        if _documented(sub, label, lst):
            pools = [p for p in lb.pools if p.id in lst.pool_ids]
            _provisioning(sub, label, lst.provisioning_status, lb, opts, now)
            _operating(sub, label, lst.operating_status, admin, opts,
                       [m for p in pools for m in members_down_of(p.members)],
                       sum(len(p.members) for p in pools))
    for pool in lb.pools:
        label = _child_label("pool", pool)
        if _documented(sub, label, pool):
            _provisioning(sub, label, pool.provisioning_status, lb, opts, now)
            _operating(sub, label, pool.operating_status, admin, opts, members_down_of(pool.members),
                       len(pool.members))
        for m in pool.members:
            mlabel = f"member {member_label(m)}"
            if _documented(sub, mlabel, m):
                _provisioning(sub, mlabel, m.provisioning_status, lb, opts, now)
                if m.operating_status == "DRAINING" or (m.operating_status == "OFFLINE" and
                                                       m.admin_state_up is False):
                    admin_action(sub, f"{mlabel} is {m.operating_status} (admin action)", opts.warn_disabled,
                                 noted=True)
    v.unverified = v.unverified or sub.unverified
    v.cause = v.cause or sub.cause
    for f in sub.findings:
        if f.state.rank > own_rank or f.state == State.UNKNOWN:
            v.add(f.state, f.text)
        else:
            v.details.append(f"{f.text} (shown by the load balancer's own status)")
    v.details += sub.details


def members_down_of(members: list[LbMember]) -> list[LbMember]:
    """Of some members, those down (ERROR, or OFFLINE while admin up)."""
    return [m for m in members if m.operating_status == "ERROR"
            or (m.operating_status == "OFFLINE" and m.admin_state_up is not False)]


def find_member(lb: LoadBalancer, member_id: str) -> LbMember | None:
    """The member of `lb` with this id, or None."""
    return next((m for m in lb.members if m.id == member_id), None)


def judge_member(lb: LoadBalancer, member_id: str, opts: LbOptions, now: float,
                 servers: Mapping[str, object] | None = None) -> Verdict:
    """One member of a load balancer: its operating and provisioning status, and its VM's when joined."""
    v = Verdict()
    lbl = lb_label(lb)
    m = find_member(lb, member_id)
    if m is None:
        why = (f"status tree not read ({inert(lb.tree_error, 200)})" if lb.tree_error
               else "no such member in its status tree")
        _unknown(v, f"load balancer {lbl}: member {inert(member_id)}", why)
        return v
    label = f"{lbl} member {member_label(m)}"
    server = (servers or {}).get(m.server_id) if m.server_id else None
    vm = ""
    if server is not None:
        vm = f"; VM {inert(getattr(server, 'name', '')) or inert(m.server_id)} is " \
             f"{inert(getattr(server, 'status', ''), 40) or '?'}"
    if _documented(v, label, m):
        _provisioning(v, label, m.provisioning_status, lb, opts, now)
        status = m.operating_status
        if status == "ERROR":
            v.add(State.CRITICAL, f"{label} is ERROR (its health monitor fails){vm}")
        elif status == "OFFLINE" and m.admin_state_up is not False:
            v.add(State.CRITICAL, f"{label} is OFFLINE{vm}")
        elif status in ("OFFLINE", "DRAINING"):
            admin_action(v, f"{label} is {status} (admin action){vm}", opts.warn_disabled)
        elif status == "DEGRADED":
            v.add(State.WARNING, f"{label} is DEGRADED{vm}")
        elif status == "NO_MONITOR":
            v.add(State.OK, f"{label} is NO_MONITOR: {NO_MONITOR}{vm}")
    if not v.findings:
        v.add(State.OK, f"{label} is {inert(m.operating_status, 40)}{vm}")
    if m.server_id is None:
        v.details.append(f"not joined to a VM: no single server's port holds {inert(m.address, 60) or '?'} "
                         f"on subnet {inert(m.subnet_id or lb.vip_subnet_id) or '?'}")
    else:
        gone = "" if server is not None else " (not in the inventory)"
        v.details.append(f"VM {inert(m.server_id)}{gone}")
    v.details.append(f"member {inert(m.id)}, address {inert(m.address, 60) or '?'}, port "
                     f"{m.protocol_port if m.protocol_port is not None else '?'}, subnet "
                     f"{inert(m.subnet_id) or '?'}, admin {'up' if m.admin_state_up else 'down'}")
    return v
