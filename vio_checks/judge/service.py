"""OpenStack control-plane services: Nova and Cinder services, Neutron agents, Keystone catalog endpoints.

Each service, agent and endpoint is judged on its own, except the records of a controller binary
(CLUSTER_BINARIES), judged as one cluster (judge/cluster.py) unless one record is selected by host; on top
of that, an expected number of each other binary must be up (`--expect BINARY=N`, or a `--deployment-mode`
preset).
A disabled service or admin-down agent is a deliberate admin action: OK with its reason, WARNING with
--warn-disabled. A record without the fields its judgement needs is unverified (counted, never up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vio_checks.judge.admin import admin_action
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.cluster import judge_cluster
from vio_checks.judge.service_rules import (
    CLUSTER_BINARIES,
    COMPONENTS,
    DEPLOYMENT_MODES,
    ServiceOptions,
    Services,
    component_of,
    is_disabled,
    is_up,
    label_of,
)
from vio_checks.judge.verdict import Finding, Perf, State, Verdict
from vio_checks.model import Agent, Endpoint, Service, unreported
from vio_checks.text import clock, inert, perf_label
from vio_checks.text import counted as count


def judge_service(s: Service, opts: ServiceOptions, now: float) -> Verdict:
    """One Nova or Cinder service: enabled-but-down is CRITICAL, a VMware-driver disable is vCenter lost."""
    v = Verdict()
    label = label_of(s)
    since = f" since {clock(s.updated, now)}" if s.updated else ""
    forced = " (forced down)" if s.forced_down else ""
    reason = inert(s.disabled_reason)
    missing = unreported(s)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    elif s.vcenter_lost:
        v.add(State.CRITICAL, f"{label}: vCenter unreachable (disabled by the VMware driver: {reason})")
    elif s.status == "disabled":
        down = " and down" if s.state == "down" else ""
        text = f"{label} is disabled{down}: {reason or 'no reason given'}"
        admin_action(v, text, opts.warn_disabled)
    elif s.status != "enabled" or s.state not in ("up", "down"):
        v.unverified, v.cause = True, "status and state not documented"
        v.add(State.UNKNOWN, f"{label}: status {inert(s.status, 40)}, state {inert(s.state, 40)}: "
                             "not documented, state unverified")
    elif s.state == "down":
        v.add(State.CRITICAL, f"{label} is down{since}{forced}")
    else:
        v.add(State.OK, f"{label} is up")
    v.details.append(f"{inert(s.component, 20)} service {label} (id {inert(s.id)}, "
                     f"zone {inert(s.zone) or '?'}): "
                     f"{inert(s.status, 40) or '?'}, {inert(s.state, 40) or '?'}, "
                     f"last update {clock(s.updated, now)}" + (f", disabled: {reason}" if reason else ""))
    return v


def judge_agent(a: Agent, opts: ServiceOptions, now: float) -> Verdict:
    """One Neutron agent: admin-up but not alive is CRITICAL; admin-down agents are OK, noted."""
    v = Verdict()
    label = label_of(a)
    heartbeat = clock(a.heartbeat, now)
    missing = unreported(a)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    elif not a.admin_state_up:
        alive = "alive" if a.alive else "not alive"
        admin_action(v, f"{label} is admin down ({alive})", opts.warn_disabled)
    elif not a.alive:
        v.add(State.CRITICAL, f"{label} is not alive (last heartbeat {heartbeat})")
    else:
        v.add(State.OK, f"{label} is alive")
    v.details.append(f"neutron agent {label} ({inert(a.agent_type, 60) or '?'}, id {inert(a.id)}): "
                     f"{'alive' if a.alive else 'dead'}, admin {'up' if a.admin_state_up else 'down'}, "
                     f"last heartbeat {heartbeat}")
    return v


def endpoint_label(e: Endpoint) -> str:
    """`compute endpoint https://...`, inert."""
    return f"{inert(e.service_type, 60)} endpoint {inert(e.url, 200)}"


def endpoint_answer(e: Endpoint) -> str:
    """What an endpoint answered the sweep's probe: `HTTP 401`, else the error (not inert yet), else
    `no answer`."""
    return f"HTTP {e.status_code}" if e.status_code is not None else e.error or "no answer"


def judge_endpoint(e: Endpoint) -> Verdict:
    """One public catalog endpoint: did it answer during the sweep?"""
    v = Verdict()
    latency = f" in {e.latency:.3f} s" if e.latency is not None else ""
    if e.ok:  # reachable: the probe sends no token, so a 401 or 404 still proves the endpoint answers
        v.add(State.OK, f"{endpoint_label(e)} answered {inert(endpoint_answer(e), 60)}{latency}")
    else:
        why = inert(e.error, 200) or (f"HTTP {e.status_code}" if e.status_code else "no answer")
        v.add(State.CRITICAL, f"{endpoint_label(e)} failed: {why}")
    v.details.append(f"{endpoint_label(e)} ({inert(e.region) or 'no region'}): "
                     + (f"HTTP {e.status_code}" if e.status_code else "no HTTP status") + latency)
    return v


# --- counts per binary ---------------------------------------------------------------------------


@dataclass
class BinaryCount:
    up: int = 0
    down: int = 0  # enabled / admin up, but not reporting
    disabled: int = 0  # disabled service or admin-down agent
    unverified: int = 0  # its record lacks the fields that tell: not counted as up

    @property
    def total(self) -> int:
        return self.up + self.down + self.disabled + self.unverified


def count_binaries(objects: Iterable[Service | Agent]) -> dict[str, BinaryCount]:
    counts: dict[str, BinaryCount] = {}
    for obj in objects:
        c = counts.setdefault(obj.binary, BinaryCount())
        if unreported(obj):
            c.unverified += 1
        elif is_disabled(obj):
            c.disabled += 1
        elif is_up(obj):
            c.up += 1
        else:
            c.down += 1
    return counts


def expectations(opts: ServiceOptions, present: Iterable[str], components: Iterable[str]) -> dict[str, int]:
    """binary → how many must be up: the deployment-mode preset, overridden by explicit --expect."""
    present, components = set(present), set(components)
    found: dict[str, int] = {}
    if opts.deployment_mode:
        for binary, (n, required) in DEPLOYMENT_MODES[opts.deployment_mode].items():
            if component_of(binary) in components and (required or binary in present):
                found[binary] = n
    found.update(opts.expect)
    return {binary: n for binary, n in found.items() if binary not in opts.exclude}


def judge_counts(counts: Mapping[str, BinaryCount], expected: Mapping[str, int]) -> Verdict:
    """Fewer up than expected → CRITICAL `nova-scheduler: 1 of 2 up`; perfdata per binary."""
    v = Verdict()
    for binary in sorted(set(counts) | set(expected)):
        c = counts.get(binary, BinaryCount())
        want = expected.get(binary)
        name = inert(binary, 60)
        if want is not None and c.up < want:
            unverified = f" ({c.unverified} unverified)" if c.unverified else ""
            if not c.total:
                v.add(State.CRITICAL, f"{name}: none in the inventory, {want} expected")
            else:
                extra = f", {want} expected" if want != c.total else ""
                v.add(State.CRITICAL, f"{name}: {c.up} of {c.total} up{extra}{unverified}")
        v.details.append(f"{name}: {c.up} up, {c.down} down, {c.disabled} disabled"
                         + (f", {c.unverified} unverified" if c.unverified else "")
                         + (f" ({want} expected up)" if want is not None else ""))
        crit = f"{want}:" if want is not None else None
        label = perf_label(binary)
        v.perf += [
            Perf(f"{label}_up", c.up, "", None, crit, 0, c.total),
            Perf(f"{label}_down", c.down, "", None, None, 0, c.total),
            Perf(f"{label}_disabled", c.disabled, "", None, None, 0, c.total),
        ]
    return v


def _latency_perf(endpoints: list[Endpoint]) -> list[Perf]:
    perf, seen = [], {}
    for e in endpoints:
        if e.latency is None:
            continue
        seen[e.service_type] = seen.get(e.service_type, 0) + 1
        n = seen[e.service_type]
        stype = perf_label(e.service_type)
        label = f"{stype}_latency" if n == 1 else f"{stype}_{n}_latency"
        perf.append(Perf(label, e.latency, "s", None, None, 0))
    return perf


# --- the whole picture ---------------------------------------------------------------------------


def judge_services(
    found: Services, opts: ServiceOptions, now: float, components: Iterable[str] = COMPONENTS,
    binary: str | None = None, host: str | None = None,
) -> Verdict:
    """Every selected service, agent and endpoint, plus the expected counts per binary.

    The records of a controller binary (CLUSTER_BINARIES) are judged as one cluster (judge/cluster.py),
    not one by one, unless a `host` is given: with `binary` alone that cluster is the whole verdict.
    `binary` and/or `host` narrow the services and agents judged (endpoints are then left out); with a host,
    no counts are expected. The status line names the worst problems first (Verdict.summary keeps only the
    worst state's texts, and findings are sorted worst first).
    """
    components = tuple(c for c in COMPONENTS if c in set(components))
    if binary or host:
        def keep(o: Service | Agent) -> bool:
            return (not binary or o.binary == binary) and (not host or o.host == host)

        found = Services(nova=[s for s in found.nova if keep(s)], cinder=[s for s in found.cinder if keep(s)],
                         agents=[a for a in found.agents if keep(a)])
        present = {"nova": found.nova, "neutron": found.agents, "cinder": found.cinder}
        wanted = component_of(binary) if binary and not host else None
        components = tuple(c for c in components if c != "keystone" and (present[c] or c == wanted))
    clustered = set() if host else {b for b in CLUSTER_BINARIES if b not in opts.exclude}

    def single(objects: list) -> list:
        return [o for o in objects if o.binary not in clustered]

    groups = {
        "nova": ("nova services", found.nova, lambda s: judge_service(s, opts, now)),
        "neutron": ("neutron agents", found.agents, lambda a: judge_agent(a, opts, now)),
        "cinder": ("cinder services", found.cinder, lambda s: judge_service(s, opts, now)),
        "keystone": ("public endpoints", found.endpoints, judge_endpoint),
    }
    out = Verdict()
    noted: list[str] = []
    for comp in components:
        what, records, judge = groups[comp]
        objects = records if comp == "keystone" else single(records)
        clusters = [] if comp == "keystone" else sorted({o.binary for o in records}
                                                         - {o.binary for o in objects})
        quiet = []  # clusters all up with nothing to say: one short text for them all
        for name in clusters:
            part = judge_cluster(name, records, opts, now)
            values = {p.label: p.value for p in part.perf}
            label = perf_label(name)
            if binary or part.state != State.OK or values[f"{label}_stale"] or values[f"{label}_replaced"]:
                out.findings += part.findings
            else:
                quiet.append(f"{inert(name, 60)} {values[f'{label}_up']:g} up")
                out.details.append(f"OK: {part.summary}")
            out.details += part.details
            out.perf += part.perf
        if quiet:
            out.add(State.OK, f"{count(len(quiet), comp + ' clusters')} OK ({', '.join(quiet)})")
        if clusters and not objects:
            continue  # nothing but clusters: no "no nova services" line beside them
        left = [b for b in found.excluded if component_of(b) == comp]
        if not records and left and not (binary or host):  # not "none listed": each reported elsewhere
            out.add(State.OK, f"{what}: {', '.join(inert(b, 60) for b in left)} left to their own services")
            continue
        judged = [(o, judge(o)) for o in objects]
        part = aggregate([Member(str(o.id), inert(o.id, 200) if comp == "keystone" else label_of(o), v)
                          for o, v in judged], what)
        if comp == "keystone":  # reachable, but what it answered is no success: say so in the long output;
            # the status line leaves out a 401, what a token-guarded endpoint (Cinder's /v3/<project>) owes
            # a probe without a token
            notes = [v.summary for o, v in judged if v.state == State.OK and (o.status_code or 0) >= 400]
            counted = sum(1 for o, v in judged
                          if v.state == State.OK and (o.status_code or 0) >= 400 and o.status_code != 401)
            note = "answered an error status"
        else:
            notes = [v.summary for o, v in judged if v.state == State.OK and is_disabled(o)]
            counted = len(notes)
            note = "admin down" if comp == "neutron" else "disabled"
        if counted and part.state == State.OK:
            part.findings[0].text += f" ({counted} {note})"
        if comp == "neutron" and not records and not (binary or host):
            if found.agents_expected:
                part.add(State.UNKNOWN, "no neutron agents listed although Neutron announces the agent "
                                        "extension: unverified (an empty list is not proof of NSX)")
            else:
                part.findings[0].text += " (NSX)"
        out.findings += part.findings
        out.details += part.details
        noted += [f"OK: {n}" for n in notes]

    services = [*found.nova, *found.cinder, *found.agents]
    counts = count_binaries(services)
    expected = {} if host else expectations(opts, counts, components)
    if binary:
        expected = {b: n for b, n in expected.items() if b == binary}
    if (binary or host) and not services and not expected:
        what = " ".join(x for x in (inert(binary, 60) if binary else None,
                                    f"on host {inert(host)}" if host else None) if x)
        return Verdict(findings=[Finding(State.UNKNOWN, f"no service or agent {what} in the inventory")])
    # a cluster with records carries its own expectation; one with none is the count rule's "none in the
    # inventory, N expected"
    tally = judge_counts({b: c for b, c in counts.items() if b not in clustered},
                         {b: n for b, n in expected.items() if b not in clustered or b not in counts})
    out.findings += tally.findings
    out.details += noted + tally.details
    out.perf += tally.perf
    if "keystone" in components:
        out.perf += _latency_perf(found.endpoints)
    out.findings.sort(key=lambda f: -f.state.rank)
    return out


def judge_one(obj: Service | Agent, opts: ServiceOptions, now: float) -> Verdict:
    """One selected service or agent (--binary and --host), with its own up/down perfdata."""
    v = judge_agent(obj, opts, now) if isinstance(obj, Agent) else judge_service(obj, opts, now)
    v.perf += judge_counts(count_binaries([obj]), {}).perf
    return v
