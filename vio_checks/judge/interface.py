"""Neutron port (a VM's interface) state: down while its VM runs, failed bindings, stuck BUILD.

Neutron semantics used here:
- port status: ACTIVE, BUILD (being wired), DOWN, ERROR, N/A (not bound / not applicable).
- `binding:vif_type` `binding_failed`: no mechanism driver could bind the port: it carries no traffic.
  `unbound`: no binding yet; normal for a port without a host (detached, SHELVED_OFFLOADED VM), a failure
  for the port of an ACTIVE VM.
- DOWN is judged only on VM ports (device_owner `compute:*`), against the VM's status: a port of a VM
  that is not ACTIVE (SHUTOFF, ...) is rightly DOWN. Router, gateway, DHCP and floating IP ports are DOWN
  or N/A by design with several plugins (DVR, NSX), so their DOWN is shown, not judged.
- admin down (admin_state_up false) is a deliberate admin action: OK, or WARNING with --warn-disabled.
- a record without a status (the API left it out), or with one Neutron does not document, cannot be
  judged: unverified, never OK.
- a VM port that is DOWN while its VM's own state is unknown (Nova's UNKNOWN, no or an undocumented status)
  is judged on its own: nothing explains the DOWN, so it stays CRITICAL.
- stuck BUILD is measured from `updated_at`; when that does not parse, from when a sweep first saw the
  port in BUILD (firstseen.py), and the line says so.
- a bound port whose host's L2 agents are all dead (vio_checks.reporter) is unverified too: the agent is
  what reports it up or down, so its last reported status is shown, not judged. binding_failed and unbound
  ports have no agent reporting them: judged on Neutron's record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from vio_checks.documented import PORT_STATUSES, SERVER_STATUSES
from vio_checks.firstseen import since
from vio_checks.judge.admin import admin_action
from vio_checks.judge.timefmt import STUCK_AFTER, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import Network, Port, Server, unreported
from vio_checks.reporter import Vouch, unverified_text
from vio_checks.text import clock, inert, perf_label

#: Statuses always present in aggregate perfdata, in this order (others when present).
PERF_STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")


@dataclass
class InterfaceOptions:
    stuck_after: float = STUCK_AFTER  # seconds BUILD may last; also the grace before a VM-less port warns
    warn_disabled: bool = False  # an admin-down port is WARNING (default: OK)


def port_label(port: Port, server: Server | None, network: Network | None) -> str:
    """`web-01 port eth0 on private`, `port 3f1c... (network:dhcp) on private`, `port eth0 on private` (a VM
    port whose VM is not in the inventory)."""
    pname = inert(port.name) or inert(port.id)
    net = (inert(network.name) if network else "") or inert(port.network_id) or "?"
    if port.is_vm_port and server is not None:
        return f"{inert(server.name) or inert(server.id)} port {pname} on {net}"
    owner = f" ({inert(port.device_owner, 60)})" if port.device_owner and not port.is_vm_port else ""
    return f"port {pname}{owner} on {net}"


def judge_port(port: Port, server: Server | None, network: Network | None, opts: InterfaceOptions,
               now: float, vouch: Vouch | None = None) -> Verdict:
    """The state of one port, given its VM (None when not a VM port or the VM is gone) and network;
    `vouch`: whether the L2 agents of its binding host can vouch for it (`reporter.Reporters.port`; None:
    not asked)."""
    v = Verdict()
    label = port_label(port, server, network)
    status = inert(port.status, 40) or "?"
    vm_active = server is not None and server.status == "ACTIVE"
    vm_unknown = server is not None and (bool(unreported(server)) or server.status == "UNKNOWN"
                                         or server.status not in SERVER_STATUSES)
    took = elapsed(port.updated, now, opts.stuck_after, since(port), "Neutron")
    vif = inert(port.vif_type, 40)
    missing = unreported(port)

    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{label}: {missing}: state unverified")
    elif vouch is not None and not vouch.can_vouch:
        v.unverified, v.cause = True, vouch.trouble
        v.add(State.UNKNOWN, unverified_text(label, vouch, "Neutron", status))
        v.details += vouch.reasons
    elif status not in PORT_STATUSES:  # a record normalize.py did not make (it names these in `missing`)
        v.unverified = True
        v.add(State.UNKNOWN, f"{label}: Neutron reported an undocumented status {status!r}: state unverified")
    elif not port.admin_state_up:
        # A deliberate admin action: OK unless --warn-disabled.
        admin_action(v, f"{label} is {status} (admin down)", opts.warn_disabled)
    elif vif == "binding_failed":
        v.add(State.CRITICAL, f"{label}: binding failed on host {inert(port.binding_host) or '?'}")
    elif status == "ERROR":
        v.add(State.CRITICAL, f"{label} is ERROR")
    elif port.is_vm_port and vm_active and vif == "unbound":
        v.add(State.CRITICAL, f"{label} is not bound to any host (vif_type unbound) while the VM is ACTIVE")
    elif port.is_vm_port and vm_active and status == "DOWN":
        v.add(State.CRITICAL, f"{label} is DOWN while the VM is ACTIVE")
    elif port.is_vm_port and vm_unknown and status == "DOWN":
        why = unreported(server) or f"Nova reports status {inert(server.status, 40) or '?'}"
        v.add(State.CRITICAL, f"{label} is DOWN, and its VM's state is unknown ({why})")
    elif status == "BUILD":
        if took.stuck:
            v.add(State.WARNING, f"{label} stuck in BUILD {took.text} ({took.since})")
        else:
            v.add(State.OK, f"{label} is BUILD {took.text}{took.note}")
    elif port.is_vm_port and port.device_id and server is None and took.stuck:
        v.add(State.WARNING, f"{label}: server {inert(port.device_id)} no longer exists (port last updated "
                             f"{clock(port.updated, now)})")
    elif port.is_vm_port and server is not None and not vm_active:
        v.add(State.OK, f"{label} is {status} (VM {inert(server.status, 40) or '?'})")
    else:
        v.add(State.OK, f"{label} is {status}")

    ips = ", ".join(inert(f.ip_address, 60) for f in port.fixed_ips if f.ip_address)
    v.details += [
        f"port {inert(port.id)}" + (f" ({inert(port.name)})" if port.name else "")
        + f", project {inert(port.project_id) or '?'}",
        f"status {status}, admin {'up' if port.admin_state_up else 'down'}, vif_type {vif or '?'}, "
        f"host {inert(port.binding_host) or '-'}, updated {clock(port.updated, now)}",
        f"network {inert(port.network_id) or '?'}" + (f" ({inert(network.name)})" if network else "")
        + (f", MAC {inert(port.mac_address, 40)}" if port.mac_address else "")
        + (f", IP {ips}" if ips else ""),
    ]
    if port.device_owner or port.device_id:
        who = (f"server {inert(server.id)} ({inert(server.name)}, {inert(server.status, 40)})" if server
               else inert(port.device_id) or "-")
        v.details.append(f"owner {inert(port.device_owner, 60) or '?'}: {who}")
    return v


def status_perf(ports: Iterable[Port]) -> list[Perf]:
    """Ports per status (`N/A` as `n_a`): the common ones always, any other one when present."""
    counts = Counter(p.status or "NONE" for p in ports)
    total = sum(counts.values())
    order = list(PERF_STATUSES) + sorted(set(counts) - set(PERF_STATUSES))
    labels = {s: perf_label(s.lower().replace("/", "_")) for s in order}
    labels = {s: ("status_unknown" if lab == "unknown" else lab) for s, lab in labels.items()}
    return [Perf(labels[s], counts.get(s, 0), min=0, max=total) for s in order]
