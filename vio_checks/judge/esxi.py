"""ESXi host state (vCenter's HostSystem), one host or a cluster's hosts (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vio_checks.judge.aggregate import Count, Member, aggregate
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import unreported
from vio_checks.reporter import of_esxi_host
from vio_checks.text import inert

#: vSphere's connection states, as a person reads them.
_CONNECTION = {"connected": "connected", "disconnected": "disconnected", "notResponding": "not responding"}
_POWER = {"poweredOn": "powered on", "poweredOff": "powered off", "standBy": "in standby"}
MAX_LISTED = 3


@dataclass(frozen=True)
class EsxiOptions:
    allow_maintenance: bool = False  # a host in maintenance mode is OK (default: WARNING)


def host_label(h) -> str:
    """An ESXi host's name as people know it (inert)."""
    return inert(h.name) or inert(h.moref)


def judge_esxi(h, opts: EsxiOptions = EsxiOptions()) -> Verdict:
    """Connection, power, maintenance mode and overall status of one ESXi host (a records.EsxHost)."""
    v = Verdict()
    label = host_label(h)
    missing = unreported(h)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    connection = _CONNECTION.get(h.connection_state, inert(h.connection_state, 40) or "?")
    power = _POWER.get(h.power_state, inert(h.power_state, 40) or "?")
    if h.connection_state in ("disconnected", "notResponding"):
        v.add(State.CRITICAL, f"ESXi host {label} is {connection}")
    elif h.power_state in ("poweredOff", "standBy"):
        v.add(State.CRITICAL, f"ESXi host {label} is {power}")
    elif h.connection_state != "connected" or h.power_state != "poweredOn":
        if not missing:
            v.add(State.UNKNOWN,
                  f"ESXi host {label}: connection {connection}, power {power}: state unverified")
            v.unverified, v.cause = True, f"connection {connection}, power {power}"
    else:
        if h.maintenance:
            v.add(State.OK if opts.allow_maintenance else State.WARNING,
                  f"ESXi host {label} is in maintenance mode")
        status = h.overall_status
        alarms = f" (alarms: {', '.join(inert(a, 80) for a in h.alarms[:MAX_LISTED])})" if h.alarms else ""
        if status == "red":
            v.add(State.CRITICAL, f"ESXi host {label}: overall status red{alarms}")
        elif status == "yellow":
            v.add(State.WARNING, f"ESXi host {label}: overall status yellow{alarms}")
        elif status not in ("green", "red", "yellow") and not missing:
            v.add(State.UNKNOWN, f"ESXi host {label}: overall status {inert(status, 40) or 'not reported'}")
    if not v.findings or v.state == State.OK:
        mm = ", in maintenance mode (allowed)" if h.maintenance else ""
        v.add(State.OK, f"ESXi host {label} is {connection} and {power}{mm}: status "
                        f"{inert(h.overall_status, 40) or '?'}")
    v.details.append(f"ESXi host {inert(h.name)} (moref {inert(h.moref)}, cluster "
                     f"{inert(h.cluster) or '-'}, hypervisor {inert(h.hypervisor) or '-'})")
    return v


def is_down(h) -> bool:
    """The host serves no VM: disconnected, not responding, powered off or in standby."""
    return h.down  # records.EsxHost.down: the one rule


def judge_hosts(hosts: Sequence, what: str, opts: EsxiOptions = EsxiOptions(), warning: str | None = None,
                critical: str | None = None, accept_unverified: bool = False) -> Verdict:
    """A set of ESXi hosts (a cluster's), through the one aggregate rule (judge.aggregate): "cluster X: all
    5 ESXi hosts OK, 5 connected". -w/-c are Nagios ranges on the number of connected hosts (`-c 1:`:
    CRITICAL when none is); without them the worst host's state counts, UNKNOWN (e.g. "gray") included."""
    unique = {h.moref: h for h in hosts}.values()  # connected hosts counted once, as the members are
    up = sum(1 for h in unique if h.connection_state == "connected" and h.power_state == "poweredOn")
    maintenance = sum(1 for h in unique if h.maintenance)
    members = [Member(h.moref, h.name or h.moref, judge_esxi(h, opts)) for h in hosts]
    out = aggregate(members, "ESXi hosts", warning, critical, accept_unverified=accept_unverified,
                    counted=Count("connected", "hosts_connected", up), context=what)
    out.perf.append(Perf("hosts_maintenance", maintenance, min=0, max=len(unique)))
    return out


def cluster_unavailable(hosts: Sequence, label: str) -> Verdict | None:
    """A cluster (one Nova hypervisor) on which no ESXi host can run a VM: CRITICAL when every host is down
    or in maintenance mode and at least one is down ("all 3 ESXi hosts are down" when all are); WARNING
    when every host is in maintenance mode (an admin's doing, but nothing runs there). None while some
    host can run VMs, or whether one can is not known (a host's state not reported): check_vio_esxi
    judges the hosts themselves."""
    if not hosts:
        return None
    down = [h for h in hosts if is_down(h)]
    maintenance = [h for h in hosts if not is_down(h) and h.maintenance is True
                   and h.connection_state == "connected" and h.power_state == "poweredOn"]
    if len(down) + len(maintenance) < len(hosts):
        return None
    v = Verdict()
    if len(down) == len(hosts):
        v.add(State.CRITICAL, f"{inert(label)}: " + (f"all {len(hosts)} ESXi hosts are down" if len(hosts) > 1
                                                        else "its only ESXi host is down"))
    elif down:
        v.add(State.CRITICAL, f"{inert(label)}: no ESXi host can run a VM: {len(down)} down ("
              + ", ".join(_listed(down)) + f"), {len(maintenance)} in maintenance mode ("
              + ", ".join(_listed(maintenance)) + ")")
    else:
        v.add(State.WARNING,
              f"{inert(label)}: no ESXi host can run a VM: "
              + (f"all {len(hosts)} in maintenance mode" if len(hosts) > 1
                 else "its only one in maintenance mode"))
    return v


def _listed(hosts: Sequence) -> list[str]:
    """The first few hosts' names (sorted), `+N more` for the rest."""
    names = sorted(host_label(h) for h in hosts)
    more = [f"+{len(names) - MAX_LISTED} more"] if len(names) > MAX_LISTED else []
    return names[:MAX_LISTED] + more


def on_esxi(v: Verdict, host, vm_power: str | None = None, name: str = "the VM") -> Verdict:
    """A VM's verdict told with the ESXi host its vSphere VM runs on (`host`: a records.EsxHost or None;
    `name`: the VM's name as people know it, inert).

    On a down host the VM's own state cannot be verified: UNKNOWN and unverified, whatever Nova said.
    """
    if host is None:
        return v
    label = host_label(host)
    vouch = of_esxi_host(host)
    if not vouch.can_vouch and not v.unverified:
        v.findings = []
        v.unverified, v.cause = True, vouch.trouble
        v.add(State.UNKNOWN, f"{name}: {vouch.trouble}: state unverified")
    else:
        state = v.state
        for f in v.findings:
            if f.state == state:
                f.text += f" (ESXi host {label})"
                break
    v.details.append(f"ESXi host {label} (moref {inert(host.moref)}): "
                     f"{_CONNECTION.get(host.connection_state, inert(host.connection_state, 40) or '?')}, "
                     f"{_POWER.get(host.power_state, inert(host.power_state, 40) or '?')}"
                     + (f"; vSphere VM {inert(vm_power, 40)}" if vm_power else ""))
    return v
