"""Hypervisor (vSphere cluster) state and capacity."""

from __future__ import annotations

from dataclasses import dataclass

from vio_checks.judge.timefmt import clock
from vio_checks.judge.verdict import Perf, State, Verdict, check_range, parse_range
from vio_checks.model import Hypervisor, Service

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass
class HypervisorOptions:
    ignore_disabled: bool = False
    state_only: bool = False  # judge state and status only; usage is reported, not judged
    vcpu_warning: str | None = None
    vcpu_critical: str | None = None
    memory_warning: str | None = "90"
    memory_critical: str | None = "95"
    disk_warning: str | None = "90"
    disk_critical: str | None = "95"


def service_text(service: Service | None, h: Hypervisor, now: float) -> str:
    """`compute service vio-compute-02 down since 10:42` (or what is known of it)."""
    host = service.host if service else h.service_host or "?"
    if service is None:
        return f"compute service {host} not found"
    if service.state == "down":
        return f"compute service {host} down since {clock(service.updated, now)}"
    return f"compute service {host} {service.state or '?'}"


def _pct(used: int | None, total: int | None) -> float | None:
    if used is None or not total:
        return None
    return used * 100.0 / total


def judge_hypervisor(h: Hypervisor, service: Service | None, opts: HypervisorOptions, now: float) -> Verdict:
    """State (down, disabled, vCenter lost) and usage of one hypervisor."""
    v = Verdict()
    label = h.label
    if h.state == "down":
        v.add(State.CRITICAL, f"{label} is down; {service_text(service, h, now)}")
    if h.status == "disabled":
        reason = (service.disabled_reason if service else None) or h.disabled_reason
        if (service and service.disabled_by_vmware_driver) or (
            (h.disabled_reason or "").strip().lower() == "set by vmwareapi host_state"
        ):
            v.add(State.CRITICAL, f"{label}: vCenter unreachable (nova-compute {h.service_host} "
                                  "disabled by the VMware driver)")
        elif opts.ignore_disabled:
            v.details.append(f"disabled ({reason or 'no reason given'}), ignored")
        else:
            v.add(State.WARNING, f"{label} is disabled: {reason or 'no reason given'}")

    usage = [
        ("vcpu", "vCPU", h.vcpus_used, h.vcpus, opts.vcpu_warning, opts.vcpu_critical),
        ("memory", "RAM", h.memory_mb_used, h.memory_mb, opts.memory_warning, opts.memory_critical),
        ("disk", "disk", h.local_gb_used, h.local_gb, opts.disk_warning, opts.disk_critical),
    ]
    parts = []
    for key, text, used, total, warn, crit in usage:
        pct = _pct(used, total)
        if pct is None:
            continue
        if opts.state_only:
            warn = crit = None
        state = check_range(pct, parse_range(warn), parse_range(crit))
        parts.append(f"{text} {pct:.0f} %")
        if state != State.OK:
            v.add(state, f"{label} {text} usage {pct:.0f} % ({used} of {total}"
                         f"{' MB' if key == 'memory' else ' GB' if key == 'disk' else ''})")
        v.perf.append(Perf(f"{key}_usage", round(pct, 1), "%", warn, crit, 0))
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
        vms = f"{h.running_vms} VMs, " if h.running_vms is not None else ""
        v.add(State.OK, f"{label} is {h.state or '?'} and {h.status or '?'}: {vms}{usage_text}")
    v.details += [
        f"hypervisor {h.hostname} (id {h.id}, type {h.type or '?'})",
        service_text(service, h, now) + (f", disabled: {service.disabled_reason}"
                                          if service and service.status == "disabled" else ""),
    ]
    return v
