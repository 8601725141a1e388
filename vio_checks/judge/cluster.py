"""Controller service clusters: the records of one controller binary (service.CLUSTER_BINARIES) judged as
one redundant set (judge/redundant.py) once stale records are set aside (judge/stale.py).

VMware Smart Assurance's VIO module calls such a set a controller service cluster; its three impact states
are the redundant-set judge's: ReducedRedundancy and AtRisk are WARNING, AllComponentsDown is CRITICAL.

    all expected members up                OK        "cluster nova-conductor: all 3 members up"
    fewer up, more than one                WARNING   "cluster nova-conductor: reduced redundancy: 2 of 3
                                                      members up (down: nova-conductor@ctl-01)"
    exactly one up where more expected     WARNING   "cluster nova-conductor: at risk: 1 of 3 members up"
    none up, each member known down        CRITICAL  "cluster nova-conductor: all components down: 0 of 3
                                                      members up"
    none up, some member unverified        UNKNOWN   "cluster nova-conductor: none of 3 members verified up"

A member is up when it reports and is enabled (an agent: alive and admin up), the rule of the service
counts; down otherwise, with its cause ("down since 10:42", "disabled: maintenance"); unverified when the
API left out what tells (never up).

Expected size: --expect BINARY=N, else the --deployment-mode preset, else the number of members (stale and
replaced records left out). More members than expected widen the set, so a member that is down is never
hidden by a smaller expectation.

Records of restarted pods (stale.split):
- stale (down for --stale-after or longer, replaced by an up record registered after its last heartbeat):
  not a member; named in the status line, counted (`_stale`), listed with the command that removes it.
- replaced but not yet stale (`pending`): its successor is up and took its place one for one, so it is not
  counted either: a routine restart pages no one, and the number of working members is what it was. It is
  named in the status line with when it turns stale ("stale in 50 min"); the removal command is given only
  once it is stale. A down record without a successor is a member that is down, however old.

Standalone use may raise the state earlier (never lower it): --critical-at-risk (one member up where more
are expected is CRITICAL) and -w/-c (Nagios ranges on the number of members up). The generated config passes
neither: a cluster that turns CRITICAL while a member still serves would make its dependents unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable

from vio_checks.documented import ENABLED_DISABLED, UP_DOWN
from vio_checks.judge.redundant import DOWN, UNVERIFIED, UP, SetMember, judge_set
from vio_checks.judge.service_rules import DEPLOYMENT_MODES, ServiceOptions, is_up, label_of
from vio_checks.judge.stale import Stale, split
from vio_checks.judge.verdict import Perf, State, Verdict, check_range, parse_range, worst
from vio_checks.model import Agent, Service, unreported
from vio_checks.text import age, clock, counted, inert, perf_label

#: The CRITICAL lead (Smart Assurance's AllComponentsDown).
ALL_DOWN = "all components down"


def expected_size(binary: str, opts: ServiceOptions, members: int) -> int:
    """--expect, else the deployment-mode preset, else the number of members."""
    if binary in opts.expect:
        return opts.expect[binary]
    preset = DEPLOYMENT_MODES.get(opts.deployment_mode or "", {}).get(binary)
    return preset[0] if preset else members


def member(obj: Service | Agent, now: float) -> SetMember:
    """A record as a set member: up, down (with its cause) or unverified."""
    label = label_of(obj)
    missing = unreported(obj)
    if missing:
        return SetMember(str(obj.id), label, UNVERIFIED, missing)
    if isinstance(obj, Agent):
        if not isinstance(obj.alive, bool) or not isinstance(obj.admin_state_up, bool):
            return SetMember(str(obj.id), label, UNVERIFIED, "alive or admin_state_up not documented")
        if is_up(obj):
            return SetMember(str(obj.id), label, UP)
        why = f"not alive (last heartbeat {clock(obj.heartbeat, now)})" if not obj.alive else "admin down"
        return SetMember(str(obj.id), label, DOWN, why)
    if obj.status not in ENABLED_DISABLED or obj.state not in UP_DOWN:
        return SetMember(str(obj.id), label, UNVERIFIED,
                         f"status {inert(obj.status, 40)}, state {inert(obj.state, 40)}: not documented")
    if is_up(obj):
        return SetMember(str(obj.id), label, UP)
    if obj.status == "disabled":
        reason = inert(obj.disabled_reason) or "no reason given"
        return SetMember(str(obj.id), label, DOWN, f"disabled: {reason}")
    forced = " (forced down)" if obj.forced_down else ""
    return SetMember(str(obj.id), label, DOWN, f"down since {clock(obj.updated, now)}{forced}")


def _replaced(s: Stale, stale_after: float) -> str:
    left = max(0.0, stale_after - (s.down.seconds or 0.0))
    return f"{label_of(s.record)} replaced by {label_of(s.successor)}, stale in {age(left)}"


def judge_cluster(binary: str, records: Iterable[Service | Agent], opts: ServiceOptions,
                  now: float) -> Verdict:
    """The cluster of one controller binary (see the module docstring for the rule)."""
    records = [r for r in records if r.binary == binary]
    parts = split(records, now, opts.stale_after)
    replaced = {id(p.record) for p in parts.pending}
    members = [member(r, now) for r in parts.members if id(r) not in replaced]
    expected = expected_size(binary, opts, len({m.id for m in members}))  # a duplicate counted once
    name = inert(binary, 60)
    v = judge_set(members, expected, "members", f"cluster {name}", all_down=ALL_DOWN)
    counts = {p.label: p.value for p in v.perf}  # the set judge's own counts: duplicates once, missing added
    up, total = counts["up"], counts["expected"]

    state, why = v.state, ""
    if state != State.UNKNOWN:  # ranges judge members up; an unverified set stays UNKNOWN
        if opts.critical_at_risk and up == 1 and total > 1:
            state, why = worst((state, State.CRITICAL)), "--critical-at-risk"
        ranged = check_range(up, parse_range(opts.warning), parse_range(opts.critical))
        if ranged.rank > state.rank:
            flag = "-c" if ranged == State.CRITICAL else "-w"
            state, why = ranged, f"{flag} {opts.critical if flag == '-c' else opts.warning}"
    finding = v.findings[0]
    notes = []
    if why:
        notes.append(f"{up} up is {state.name} by {why}")
    if parts.pending:
        notes.append(f"{counted(len(parts.pending), 'replaced records')}: "
                     + ", ".join(_replaced(s, opts.stale_after) for s in parts.pending[:3]))
    if parts.stale:
        notes.append(f"{counted(len(parts.stale), 'stale records')}: "
                     + ", ".join(label_of(s.record) for s in parts.stale[:3])
                     + (" (+more)" if len(parts.stale) > 3 else "") + " (removal command in the long output)")
    finding.state = state
    if notes:
        finding.text += "; " + "; ".join(notes)

    for s in parts.pending:
        v.details.append(f"replaced: {_replaced(s, opts.stale_after)} (down {s.down.text}, not counted: "
                         "its successor took its place)")
    for s in parts.stale:
        v.details.append(f"stale: {label_of(s.record)} (id {inert(s.record.id)}), down {s.down.text}, "
                         f"replaced by {label_of(s.successor)}; remove it: {inert(s.command, 400)}")
    label = perf_label(binary)
    perf = []
    for p in v.perf:
        if p.label == "up":
            p = Perf(p.label, p.value, p.uom, opts.warning or p.warn, opts.critical or p.crit, p.min, p.max)
        perf.append(Perf(f"{label}_{p.label}", p.value, p.uom, p.warn, p.crit, p.min, p.max))
    perf += [Perf(f"{label}_stale", len(parts.stale), min=0),
             Perf(f"{label}_replaced", len(parts.pending), min=0)]
    v.perf = perf
    return v
