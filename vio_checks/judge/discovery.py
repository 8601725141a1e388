"""The discovery layer's own health: inventory age, the last sweep's cost, and its last error.

Everything else is judged from the inventory, so this is the check the others depend on: an API outage
shows up here once (CRITICAL) instead of as every object's problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import CLOCK_SKEW, KINDS, Meta
from vio_checks.optional_sweep import service_errors
from vio_checks.text import age, clock, counted, inert, stamped_ahead
from vio_checks.visibility import kept_details, kept_summary

#: Sweep errors carry API messages (shortened to 300 characters in cloud.py, reason kept) plus our context.
ERROR_LEN = 400


@dataclass
class DiscoveryOptions:
    max_age: float = 120.0
    max_stale: float = 900.0


#: How counts read in the status line (kinds not listed here are only in perfdata and long output).
_COUNT_NAMES = (
    ("hypervisors", "hypervisors"), ("servers", "VMs"), ("volumes", "volumes"), ("ports", "ports"),
    ("networks", "networks"), ("routers", "routers"), ("agents", "agents"),
    ("compute_services", "nova services"), ("volume_services", "cinder services"),
    ("endpoints", "endpoints"),
)


def _duration(seconds: float) -> str:
    return age(seconds) if seconds >= 120 else f"{seconds:g} s"


def counts_text(counts: dict[str, int]) -> str:
    """`3 hypervisors, 15 VMs, ...` (agents only when there are any)."""
    parts = [counted(counts.get(kind, 0), name) for kind, name in _COUNT_NAMES
             if kind in counts and (counts[kind] or kind != "agents")]
    return ", ".join(parts) or "no counts recorded"


def last_error(status: dict, meta: Meta | None) -> tuple[str, float | None] | None:
    """The last sweep's error when the last attempt failed after the snapshot was taken, else None."""
    error = status.get("error")
    if not error:
        return None
    when = status.get("error_at") or status.get("attempt_at")
    if meta is not None and when is not None and when < meta.fetched_at:
        return None  # an older failure, since replaced by a good sweep
    return inert(error, ERROR_LEN), when


def judge_discovery(meta: Meta, status: dict, opts: DiscoveryOptions, now: float,
                    names: dict[str, dict[str, str]] | None = None) -> Verdict:
    """The inventory's age against --max-age/--max-stale, whether the last sweep failed or was distrusted,
    the objects it kept because its lists left them out unconfirmed (`names`: kind → id → name), and a
    configured vSphere layer that the inventory's sweep could not read (WARNING)."""
    v = Verdict()
    ahead = meta.fetched_at - now
    inv_age = max(0.0, now - meta.fetched_at)
    warn_age = 2 * opts.max_age
    stats = f"last sweep {meta.seconds:.1f} s, {counted(meta.requests, 'requests')}"
    failed = last_error(status, meta)
    if failed:
        error, when = failed
        if error.startswith("sweep distrusted:"):
            v.add(State.CRITICAL, f"{error} at {clock(when, now)}; answering from the inventory of "
                                  f"{age(inv_age)} ago")
            v.details.append("a sweep that empties a kind of objects (servers, volumes, ports, networks, "
                             "routers, agents, services, hypervisors) while the API answers is not stored "
                             "(e.g. the account lost its admin role); if the cloud really is that empty, run "
                             "vio-discover --accept-empty once")
        else:
            v.add(State.CRITICAL, f"last sweep failed at {clock(when, now)}: {error}; "
                                  f"inventory {age(inv_age)} old")
    kept = kept_summary(meta)
    if kept:
        v.add(State.CRITICAL, kept)
        v.details += kept_details(meta, names or {}, now)
        v.details.append("an object missing from a list is deleted only when a direct GET answers 404, or "
                         "when the drop is small (at most max(5, 10 %)) in an otherwise healthy sweep; the "
                         "others keep their last known state (the checks say so) and are asked for again "
                         "each sweep; vio-discover --accept-empty stores the lists as they are")
    vsphere_error = getattr(getattr(meta, "vsphere", None), "error", None)
    if vsphere_error:
        v.add(State.WARNING, f"{inert(vsphere_error, ERROR_LEN)} in the sweep at "
                             f"{clock(meta.fetched_at, now)}; the OpenStack part is current")
        v.details.append("the vSphere layer is configured but the sweep could not read vCenter: its ESXi "
                         "hosts, clusters, datastores and VM power states are not in the inventory "
                         "(check_vio_esxi and check_vio_datastore say UNKNOWN, the other checks judge from "
                         "OpenStack alone) until a sweep reads it again")
    for stype, error in sorted(service_errors(meta).items()):
        # an optional service's list that failed: that service's finding, not a failed sweep
        v.add(State.WARNING, f"{inert(error, ERROR_LEN)} in the sweep at {clock(meta.fetched_at, now)}: "
                             "its last known records kept; the other lists are current")
        v.details.append(f"{inert(stype, 40)}: its kind keeps the records of the last sweep that read it")
    if ahead > CLOCK_SKEW:
        v.add(State.CRITICAL, stamped_ahead(ahead))
    elif inv_age > opts.max_stale:
        v.add(State.CRITICAL, f"inventory {age(inv_age)} old, past --max-stale {_duration(opts.max_stale)}")
    elif inv_age > warn_age:
        v.add(State.WARNING, f"inventory {age(inv_age)} old, more than twice --max-age "
                             f"{_duration(opts.max_age)}: refreshes are falling behind")
    if not v.findings:
        v.add(State.OK, f"inventory {age(inv_age)} old, {stats}: {counts_text(meta.counts)}")

    where = f"{meta.cloud} ({meta.region})" if meta.region else meta.cloud
    v.details.append(f"{where}: swept at {clock(meta.fetched_at, now)} in {meta.seconds:.2f} s with "
                     f"{counted(meta.requests, 'API requests')} (compute microversion "
                     f"{meta.compute_microversion or '?'})")
    if status.get("ok_at"):
        v.details.append(f"last good sweep {clock(status['ok_at'], now)}")
    if status.get("attempt_at"):
        v.details.append(f"last attempt {clock(status['attempt_at'], now)}")
    if status.get("error") and not failed:
        v.details.append(f"an earlier sweep failed: {inert(status['error'], ERROR_LEN)}")
    v.details.append("counts: " + ", ".join(f"{k} {n}" for k, n in meta.counts.items()))

    v.perf += [
        Perf("age", round(inv_age, 1), "s", _number(warn_age), _number(opts.max_stale), 0),
        Perf("sweep_seconds", meta.seconds, "s", None, None, 0),
        Perf("requests", meta.requests, "", None, None, 0),
    ]
    v.perf += [Perf(kind, meta.counts[kind], "", None, None, 0) for kind in KINDS if kind in meta.counts]
    return v


def judge_unavailable(message: str, status: dict, now: float) -> Verdict:
    """No usable inventory (nothing cached, or too old and the API down): CRITICAL, never UNKNOWN."""
    v = Verdict()
    v.add(State.CRITICAL, inert(message, ERROR_LEN))
    if status.get("ok_at"):
        v.details.append(f"last good sweep {clock(status['ok_at'], now)} ({age(now - status['ok_at'])} ago)")
    else:
        v.details.append("no sweep has succeeded with this cache")
    failed = last_error(status, None)
    if failed:
        v.details.append(f"last sweep failed at {clock(failed[1], now)}: {failed[0]}")
    return v


def _number(seconds: float) -> str:
    return f"{seconds:g}"
