"""Hypervisor (vSphere cluster) state and capacity.

Only the documented states are judged (state up / down, status enabled / disabled); a record without them,
or with another value, is unverified (UNKNOWN), never OK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vio_checks.documented import ENABLED_DISABLED, UP_DOWN
from vio_checks.judge.admin import admin_action
from vio_checks.judge.verdict import Perf, State, Threshold, Verdict
from vio_checks.model import Hypervisor, Service, unreported
from vio_checks.reporter import of_hypervisor
from vio_checks.text import clock, counted, inert

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass
class HypervisorOptions:
    """Thresholds are parsed once, when the options are built (Threshold.parse)."""

    warn_disabled: bool = False  # an admin-disabled hypervisor is WARNING (default: OK, with its reason)
    state_only: bool = False  # judge state and status only; usage is reported, not judged
    vcpu: Threshold = field(default_factory=Threshold)
    memory: Threshold = field(default_factory=lambda: Threshold.parse("90", "95"))
    disk: Threshold = field(default_factory=lambda: Threshold.parse("90", "95"))


def service_text(service: Service | None, h: Hypervisor, now: float) -> str:
    """`compute service vio-compute-02 down since 10:42` (or what is known of it)."""
    host = inert(service.host if service else h.service_host) or "?"
    if service is None:
        return f"compute service {host} not found"
    if service.state == "down":
        return f"compute service {host} down since {clock(service.updated, now)}"
    return f"compute service {host} {inert(service.state, 40) or '?'}"


def _pct(used: int | None, total: int | None) -> float | None:
    if used is None or not total:
        return None
    return used * 100.0 / total


def judge_hypervisor(h: Hypervisor, service: Service | None, opts: HypervisorOptions, now: float) -> Verdict:
    """State (down, disabled, vCenter lost, not reported) and usage of one hypervisor."""
    v = Verdict()
    label = inert(h.label) or inert(h.id)
    missing = unreported(h)
    lost = h.vcenter_lost or (service is not None and service.vcenter_lost)
    reason = inert((service.disabled_reason if service else None) or h.disabled_reason) or "no reason given"
    disabled_noted = False
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    elif h.state not in UP_DOWN or h.status not in ENABLED_DISABLED:  # a record normalize.py did not make
        v.unverified = True
        v.add(State.UNKNOWN, f"{label}: Nova reported state {inert(h.state, 40)!r}, status "
                             f"{inert(h.status, 40)!r}: not documented, state unverified")
    if lost:
        v.add(State.CRITICAL, f"{label}: vCenter unreachable (nova-compute {inert(h.service_host) or '?'} "
                              "disabled by the VMware driver)")
    vouch = of_hypervisor(h, service, now)  # its nova-compute: not reporting is its own failure
    if not vouch.can_vouch:
        v.add(State.CRITICAL, f"{label} is down; "
                              + (vouch.trouble if service is not None else service_text(service, h, now)))
    elif h.status == "disabled" and not lost:
        # A deliberate admin action: OK with its reason unless --warn-disabled.
        admin_action(v, f"{label} is disabled: {reason}", opts.warn_disabled)
        disabled_noted = True

    usage = [
        ("vcpu", "vCPU", h.vcpus_used, h.vcpus, opts.vcpu),
        ("memory", "RAM", h.memory_mb_used, h.memory_mb, opts.memory),
        ("disk", "disk", h.local_gb_used, h.local_gb, opts.disk),
    ]
    parts = []
    for key, text, used, total, limits in usage:
        pct = _pct(used, total)
        if pct is None:
            continue
        if opts.state_only:
            limits = Threshold()
        state = limits.state(pct)
        parts.append(f"{text} {pct:.0f} %")
        if state != State.OK:
            v.add(state, f"{label} {text} usage {pct:.0f} % ({used} of {total}"
                         f"{' MB' if key == 'memory' else ' GB' if key == 'disk' else ''})")
        v.perf.append(Perf(f"{key}_usage", round(pct, 1), "%", limits.warn_text, limits.crit_text, 0, 100))
    if h.memory_mb is not None:
        used = (h.memory_mb_used or 0) * MIB
        v.perf.append(Perf("memory_used", used, "B", None, None, 0, h.memory_mb * MIB))
    if h.local_gb is not None:
        v.perf.append(Perf("disk_used", (h.local_gb_used or 0) * GIB, "B", None, None, 0, h.local_gb * GIB))
    if h.vcpus is not None:
        v.perf.append(Perf("vcpus_used", h.vcpus_used or 0, "", None, None, 0, h.vcpus))
    if h.running_vms is not None:
        v.perf.append(Perf("running_vms", h.running_vms, "", None, None, 0))

    if not parts:
        usage_text = "usage not reported by Nova (needs compute microversion below 2.88)"
        v.details.append(usage_text)
    else:
        usage_text = ", ".join(parts)
    if not v.findings or v.state == State.OK:
        vms = f"{counted(h.running_vms, 'VMs')}, " if h.running_vms is not None else ""
        state = inert(h.state, 40) or "?"
        how = state if disabled_noted else f"{state} and {inert(h.status, 40) or '?'}"
        v.add(State.OK, f"{label} is {how}: {vms}{usage_text}")
    v.details += [
        f"hypervisor {inert(h.hostname)} (id {inert(h.id)}, type {inert(h.type) or '?'})",
        service_text(service, h, now) + (f", disabled: {inert(service.disabled_reason)}"
                                          if service and service.status == "disabled" else ""),
    ]
    return v
