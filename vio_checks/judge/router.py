"""Neutron router state, and the L3 agents that host it (when the cloud runs L3 agents at all).

With the NSX plugins VIO uses there are no L3 agents: a router is judged on its own status then. When the
inventory holds L3 agents, an admin-up router must be hosted by at least one alive agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vio_checks.judge.timefmt import clock
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import Agent, Router


@dataclass
class RouterOptions:
    ignore_admin_down: bool = False


def router_label(r: Router) -> str:
    """The router's name, or its id when it has none."""
    return r.name or r.id


def agent_label(a: Agent) -> str:
    return f"{a.binary or 'agent'}@{a.host or a.id}"


def _agent_text(a: Agent, now: float) -> str:
    state = "alive" if a.alive else f"dead (last heartbeat {clock(a.heartbeat, now)})"
    admin = "" if a.admin_state_up else ", admin down"
    return f"{agent_label(a)} {state}{admin}"


def _kind(r: Router) -> str:
    if r.ha:
        return "HA router"
    if r.distributed:
        return "distributed router"
    return "router"


def judge_router(r: Router, agents: Mapping[str, Agent], opts: RouterOptions, now: float) -> Verdict:
    """Status, admin state and L3-agent hosting of one router.

    `agents` maps agent id → Agent for every agent in the inventory: whether any L3 agent exists decides
    between the L3-agent rules and "NSX: judged on its own status".
    """
    v = Verdict()
    label = router_label(r)
    status = r.status or "?"
    if r.status == "ERROR":
        v.add(State.CRITICAL, f"{label} is ERROR")
    elif r.status != "ACTIVE":
        v.add(State.WARNING, f"{label} is {status} (not ACTIVE)")
    if not r.admin_state_up:
        if opts.ignore_admin_down:
            v.details.append("admin down, ignored (--ignore-admin-down)")
        else:
            v.add(State.WARNING, f"{label} is admin down")

    l3_in_cloud = any(a.is_l3 for a in agents.values())
    hosting = [agents.get(i) for i in r.agent_ids]
    missing = [i for i, a in zip(r.agent_ids, hosting, strict=True) if a is None]
    hosting_known = [a for a in hosting if a is not None]
    alive = [a for a in hosting_known if a.alive]
    dead = [a for a in hosting_known if not a.alive]
    total = len(r.agent_ids)
    hosting_text = ""
    if l3_in_cloud or total:
        dead_names = [agent_label(a) for a in dead] + [f"agent {i} (not in inventory)" for i in missing]
        if r.admin_state_up:
            if not total:
                v.add(State.CRITICAL, f"{label} is not hosted by any L3 agent")
            elif not alive:
                v.add(State.CRITICAL, f"{label}: no alive L3 agent ({total} hosting, all dead: "
                                      + ", ".join(dead_names) + ")")
            elif len(alive) < total:
                v.add(State.WARNING, f"{label}: {_kind(r)} with {total - len(alive)} of {total} hosting "
                                     "L3 agents dead: " + ", ".join(dead_names))
        elif total and len(alive) < total:
            v.details.append(f"{total - len(alive)} of {total} hosting L3 agents dead (router admin down)")
        hosting_text = f", {len(alive)} of {total} hosting L3 agents alive" if total else \
            ", not hosted by any L3 agent"
        v.perf += [
            Perf("agents_alive", len(alive), "", None, None, 0, total),
            Perf("agents_total", total, "", None, None, 0),
        ]
        v.details += [f"L3 agent {_agent_text(a, now)}" for a in hosting_known]
        v.details += [f"L3 agent {i}: not in inventory" for i in missing]
    else:
        v.details.append("no L3 agents in the inventory (NSX): judged on the router's own status")

    if not v.findings or v.state == State.OK:
        admin = "" if r.admin_state_up else " (admin down)"
        nsx = "" if hosting_text else " (NSX, no L3 agents)"
        v.add(State.OK, f"{label} is {status}{admin}{hosting_text}{nsx}")
    flags = [f for f, on in (("HA", r.ha), ("distributed", r.distributed)) if on]
    v.details.append(
        f"router {r.id} ({r.name or 'no name'}), project {r.project_id or '?'}"
        + (f", {' '.join(flags)}" if flags else "")
        + f", external network {r.external_network_id or 'none'}, {len(r.network_ids)} internal networks"
    )
    return v
