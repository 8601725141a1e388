"""Neutron router state, and the L3 agents that host it (when the cloud runs L3 agents at all).

With the NSX plugins VIO uses there are no L3 agents: a router is judged on its own status then. When the
inventory holds L3 agents, an admin-up router must be hosted by at least one agent that serves it (alive and
admin up: vio_checks.reporter; with Neutron's defaults an admin-down agent's routers are disabled there),
and an HA router must be active on exactly one serving agent (its `ha_states`, as Neutron reports them per
hosting agent). When no agent is known to serve it and some hosting agent's state was not reported, the
router is unverified.
A router without a status, or with one (or an ha_state) Neutron does not document, is unverified: UNKNOWN.

The L3 agents of a router hosted by several are also judged as one redundant set (`judge_l3_agents`, by
vio_checks.judge.redundant): the generated config's l3-agents service, the router's one parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vio_checks.documented import HA_STATES, ROUTER_STATUSES
from vio_checks.judge.admin import admin_action
from vio_checks.judge.redundant import DOWN, UNVERIFIED, UP, SetMember, judge_set
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import Agent, Router, unreported
from vio_checks.reporter import agent_label, not_serving, serves
from vio_checks.text import clock, counted, inert

HA_ACTIVE = "active"


@dataclass
class RouterOptions:
    warn_disabled: bool = False  # an admin-down router is WARNING instead of OK (noted)
    #: a router hosted by several L3 agents leaves the loss of some to its l3-agents service (noted)
    leave_l3_redundancy: bool = False


def router_label(r: Router) -> str:
    """The router's name, or its id when it has none (made inert for plugin output)."""
    return inert(r.name) or inert(r.id)


def _agent_text(a: Agent, r: Router, now: float) -> str:
    state = "alive" if a.alive else f"dead (last heartbeat {clock(a.heartbeat, now)})"
    admin = "" if a.admin_state_up else ", admin down"
    ha = ""
    if r.ha and r.ha_states:
        ha = f", HA {inert(r.ha_states.get(a.id) or 'state not reported')}"
    return f"{agent_label(a)} {state}{admin}{ha}"


def _kind(r: Router) -> str:
    if r.ha:
        return "HA router"
    if r.distributed:
        return "distributed router"
    return "router"


def _judge_ha(v: Verdict, r: Router, label: str, alive: list[Agent]) -> None:
    """An admin-up HA router with alive hosting agents: exactly one of them must be active."""
    if not r.ha_states:
        v.add(State.UNKNOWN, f"{label}: HA router whose ha_state Neutron did not report")
        return
    alive = sorted(alive, key=agent_label)
    odd = [a for a in alive if a.id in r.ha_states and r.ha_states[a.id] not in HA_STATES]
    if odd:
        v.add(State.UNKNOWN, f"{label}: HA router with an undocumented ha_state: " + ", ".join(
            f"{agent_label(a)} {inert(r.ha_states[a.id], 40)!r}" for a in odd))
    active = [a for a in alive if r.ha_states.get(a.id) == HA_ACTIVE]
    if not active:
        states = ", ".join(f"{agent_label(a)} {inert(r.ha_states.get(a.id) or 'no state')}" for a in alive)
        v.add(State.CRITICAL, f"{label}: HA router with no active L3 agent ({len(alive)} alive: {states})")
    elif len(active) > 1:
        v.add(State.CRITICAL, f"{label}: HA router active on {counted(len(active), 'L3 agents')} (split "
                              "brain): "
                              + ", ".join(agent_label(a) for a in active))


def judge_router(r: Router, agents: Mapping[str, Agent], opts: RouterOptions, now: float,
                 neutron_agents: bool | None = None) -> Verdict:
    """Status, admin state, L3-agent hosting and (HA routers) active agent of one router.

    `agents` maps agent id → Agent for every agent in the inventory: whether any L3 agent exists decides
    between the L3-agent rules and "NSX: judged on its own status" — unless Neutron announces the agent
    extension (`neutron_agents`, the sweep's Meta) and listed none: then its hosting is unverified.
    """
    v = Verdict()
    label = router_label(r)
    status = inert(r.status, 40) or "?"
    missing = unreported(r)
    if missing:
        v.unverified = True
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    elif r.status not in ROUTER_STATUSES:  # a record normalize.py did not make (it names these in `missing`)
        v.unverified = True
        v.add(State.UNKNOWN, f"{label}: Neutron reported an undocumented status {status!r}: state unverified")
    elif r.status == "ERROR":
        v.add(State.CRITICAL, f"{label} is ERROR")
    elif r.status != "ACTIVE":
        v.add(State.WARNING, f"{label} is {status} (not ACTIVE)")
    if not r.admin_state_up:
        admin_action(v, f"{label} is admin down", opts.warn_disabled, noted=True)

    l3_in_cloud = any(a.is_l3 for a in agents.values())
    hosting = [agents.get(i) for i in r.agent_ids]
    missing = [i for i, a in zip(r.agent_ids, hosting, strict=True) if a is None]
    hosting_known = [a for a in hosting if a is not None]
    alive = [a for a in hosting_known if a.alive]
    serving = [a for a in hosting_known if serves(a)]  # the reporter rule: alive and admin up
    idle = sorted((a for a in hosting_known if not serves(a)), key=agent_label)
    total = len(r.agent_ids)
    hosting_text = ""
    if l3_in_cloud or total:
        all_dead = all(not a.alive and not unreported(a) for a in idle)
        idle_names = [agent_label(a) if all_dead else not_serving(a, now) for a in idle]
        idle_names += [f"agent {inert(i)} (not in inventory)" for i in missing]
        unsure = [a for a in idle if unreported(a)]
        if r.admin_state_up:
            if not total:
                v.add(State.CRITICAL, f"{label} is not hosted by any L3 agent")
            elif not serving and unsure:
                v.unverified, v.cause = True, "no L3 agent known to serve it"
                v.add(State.UNKNOWN, f"{label}: no L3 agent known to serve it ({total} hosting: "
                                     + ", ".join(idle_names) + "): state unverified")
            elif not serving and all_dead:
                v.add(State.CRITICAL, f"{label}: no alive L3 agent ({total} hosting, all dead: "
                                      + ", ".join(idle_names) + ")")
            elif not serving:
                v.add(State.CRITICAL, f"{label}: no L3 agent serves it ({total} hosting: "
                                      + ", ".join(idle_names) + "; an admin-down L3 agent serves no router)")
            else:
                if len(serving) < total:
                    how = "dead" if all_dead else "not serving"
                    lost = (f"{label}: {_kind(r)} with {total - len(serving)} of {total} hosting L3 agents "
                            f"{how}: " + ", ".join(idle_names))
                    if opts.leave_l3_redundancy:
                        v.details.append(f"{lost} (left to its l3-agents service: --leave-l3-redundancy)")
                    else:
                        v.add(State.WARNING, lost)
                if r.ha:
                    _judge_ha(v, r, label, serving)
        elif total and len(serving) < total:
            how = "dead" if all_dead else "not serving"
            v.details.append(f"{total - len(serving)} of {total} hosting L3 agents {how} (router admin down)")
        hosting_text = f", {len(alive)} of {counted(total, 'hosting L3 agents')} alive" if total else \
            ", not hosted by any L3 agent"
        v.perf += [
            Perf("agents_alive", len(alive), "", None, None, 0, total),
            Perf("agents_total", total, "", None, None, 0),
        ]
        if r.ha and r.ha_states:
            active = sum(1 for a in alive if r.ha_states.get(a.id) == HA_ACTIVE)
            v.perf.append(Perf("agents_active", active, "", None, None, 0, total))
        v.details += [f"L3 agent {_agent_text(a, r, now)}" for a in hosting_known]
        v.details += [f"L3 agent {inert(i)}: not in inventory" for i in missing]
    elif neutron_agents and not agents:
        v.unverified = True
        v.add(State.UNKNOWN, f"{label}: Neutron announces the agent extension but listed no agents: its L3 "
                             "hosting is unverified")
    else:
        v.details.append("no L3 agents in the inventory (NSX): judged on the router's own status")

    if not v.findings or v.state == State.OK:
        admin = "" if r.admin_state_up else " (admin down)"
        nsx = "" if hosting_text else " (NSX, no L3 agents)"
        v.add(State.OK, f"{label} is {status}{admin}{hosting_text}{nsx}")
    flags = [f for f, on in (("HA", r.ha), ("distributed", r.distributed)) if on]
    v.details.append(
        f"router {inert(r.id)} ({inert(r.name) or 'no name'}), project {inert(r.project_id) or '?'}"
        + (f", {' '.join(flags)}" if flags else "")
        + f", external network {inert(r.external_network_id) or 'none'}"
        + f", {counted(len(r.network_ids), 'internal networks')}"
    )
    return v


def l3_agent_member(a: Agent, now: float) -> SetMember:
    """One hosting L3 agent as a member of its router's set: up when it serves (alive and admin up), down
    when Neutron says it is dead or admin down, unverified when Neutron did not report (or document) it."""
    label = agent_label(a)
    if unreported(a):
        return SetMember(a.id, label, UNVERIFIED, unreported(a))
    if not serves(a):  # `neutron-l3-agent@net-02 dead (last heartbeat 10:42)`: the label is the member's
        return SetMember(a.id, label, DOWN, not_serving(a, now).removeprefix(label).strip())
    return SetMember(a.id, label, UP)


#: An HA router is redundant only with two hosting L3 agents at least (Neutron's own minimum).
HA_MIN_AGENTS = 2


def judge_l3_agents(r: Router, agents: Mapping[str, Agent], now: float,
                    expected: int | None = None) -> Verdict:
    """The L3 agents hosting a router as one redundant set (`check_vio_router --l3-agents`): all serving
    OK; some lost WARNING; none CRITICAL. Expected: as many as host it now, at least `expected` (what
    hosted it when the config was written) and, for an HA router, two. An agent Neutron lists for the
    router but not in its agent list, or one no longer listed at all, counts as unverified, never up."""
    ids = list(dict.fromkeys(r.agent_ids))
    members = [l3_agent_member(agents[i], now) for i in ids if i in agents]
    want = max(len(ids), expected or 0, HA_MIN_AGENTS if r.ha else 0)
    v = judge_set(members, want, "L3 agents", context=f"router {router_label(r)}")
    v.details += [f"unverified: agent {inert(i)} hosts the router but is not in Neutron's agent list"
                  for i in ids if i not in agents]
    if want > len(ids):
        v.details.append(f"{counted(want, 'L3 agents')} expected (--expect-agents {expected or '-'}"
                         f"{', an HA router' if r.ha else ''}), Neutron lists {len(ids)} hosting it")
    return v
