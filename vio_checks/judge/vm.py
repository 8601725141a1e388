"""Nova server (VM) state: ERROR, power state, stuck tasks, and whether its host can vouch for it.

Nova semantics used here (see the API reference's server status table):
- transitional statuses (an operation is running, the VM should leave them by itself): BUILD, MIGRATING,
  RESIZE, REBOOT, HARD_REBOOT, REBUILD, REVERT_RESIZE, PASSWORD; and any status with a task_state set
  (e.g. ACTIVE + image_snapshot, SHUTOFF + powering-on).
- resting statuses (stay until someone acts): ACTIVE, SHUTOFF, SUSPENDED, PAUSED, SHELVED,
  SHELVED_OFFLOADED, RESCUE, VERIFY_RESIZE (a finished resize waiting for confirm or revert; Nova only
  confirms it by itself when resize_confirm_window is set), SOFT_DELETED, DELETED.
- ERROR is always a problem. UNKNOWN means Nova itself cannot tell (e.g. its cell is down).
- host_status (2.16+): UP; DOWN (service forced down); UNKNOWN (service not heartbeating); MAINTENANCE
  (service disabled, which is also what the VMware driver does when it loses vCenter); "" (no host).
- a record without a status (the API left it out), or with a status (task_state, power_state, host_status)
  of the wrong type or not documented (normalize.py names it in `missing`), cannot be judged: unverified,
  never OK. Only a documented resting status is OK.
- stuck is measured from `updated`; when that does not parse, from when a sweep first saw the VM in this
  status and task (firstseen.py), and the line says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from vio_checks.documented import SERVER_RESTING, SERVER_STATUSES, SERVER_TRANSITIONAL
from vio_checks.firstseen import since
from vio_checks.judge.timefmt import STUCK_AFTER, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import Hypervisor, Record, Server, Service, unreported
from vio_checks.reporter import hypervisor_label, of_server, unverified_text
from vio_checks.text import age, clock, inert, perf_label

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm check does not need it)
if TYPE_CHECKING:
    from vio_checks.changes import Event

MIB = 1024 * 1024

TRANSITIONAL = SERVER_TRANSITIONAL
RESTING = SERVER_RESTING
#: Every server status Nova documents (what --warning-states / --critical-states accept).
NOVA_STATUSES = SERVER_STATUSES
POWER_STATES = {0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED"}
RUNNING = 1
#: Statuses always present in aggregate perfdata (so graphs do not come and go), in this order.
PERF_STATUSES = ("ACTIVE", "ERROR", "SHUTOFF", "SUSPENDED", "PAUSED", "SHELVED", "SHELVED_OFFLOADED", "BUILD")


class VmOptions(Record):
    """The options of a VM's judgement."""

    def __init__(self, stuck_after: float = STUCK_AFTER, warning_states: frozenset[str] = frozenset(),
                 critical_states: frozenset[str] = frozenset()) -> None:
        self.stuck_after = stuck_after  # seconds a transitional status / task may last before WARNING
        self.warning_states = warning_states  # resting statuses that warn
        self.critical_states = critical_states  # resting statuses that are critical


def _on(label: str | None) -> str:
    return f" (on {label})" if label else ""


def _activity(server: Server) -> str:
    """`migrating`, `BUILD (spawning)`, `ACTIVE (image_snapshot)`: what the VM is busy with."""
    task = inert(server.task_state, 60)
    status = inert(server.status, 40)
    if not task:
        return status.lower()
    if status in TRANSITIONAL and status.lower() == task.lower():
        return task
    return f"{status} ({task})"


def judge_vm(server: Server, hypervisor: Hypervisor | None, service: Service | None, opts: VmOptions,
             now: float, notes: Sequence[str] = (), project: str | None = None) -> Verdict:
    """The state of one VM, given its hypervisor and nova-compute service records (None when unknown).

    `notes` are extra lines from elsewhere (e.g. a later event log: "moved from A to B 4 min ago"); they
    join the long output, and the status line when the VM is OK.
    """
    v = Verdict()
    name = inert(server.name) or inert(server.id)
    hv = hypervisor_label(server, hypervisor)
    status = inert(server.status, 40) or "?"
    missing = unreported(server)

    vouch = of_server(server, hypervisor, service, now)
    if not vouch.can_vouch:
        v.unverified, v.cause = True, vouch.trouble
        v.add(State.UNKNOWN, unverified_text(name, vouch, "Nova", status))
        v.details += vouch.reasons
    elif missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{name}: {missing}: state unverified{_on(hv)}")
    elif status == "UNKNOWN":
        v.unverified, v.cause = True, "Nova reports status UNKNOWN"
        v.add(State.UNKNOWN, f"{name}: Nova reports status UNKNOWN: state unverified{_on(hv)}")
    elif status not in NOVA_STATUSES:  # a record normalize.py did not make (it names these in `missing`)
        v.unverified = True
        v.add(State.UNKNOWN, f"{name}: Nova reported an undocumented status {status!r}: state unverified"
                             f"{_on(hv)}")
    elif status == "ERROR":
        fault = inert(server.fault_message)
        v.add(State.CRITICAL, f"{name} is ERROR" + (f": {fault}" if fault else "") + _on(hv))
    elif status in opts.critical_states:
        v.add(State.CRITICAL, f"{name} is {status}{_on(hv)}")
    elif status in opts.warning_states:
        v.add(State.WARNING, f"{name} is {status}{_on(hv)}")
    elif server.task_state or status in TRANSITIONAL:
        busy = _activity(server)
        took = elapsed(server.updated, now, opts.stuck_after, since(server), "Nova")
        if took.stuck:
            v.add(State.WARNING, f"{name} stuck {busy} {took.text} {took.since}{_on(hv)}")
        else:
            v.add(State.OK, f"{name} {busy} {took.text}{took.note}{_on(hv)}")
    elif status == "ACTIVE" and server.power_state is not None and server.power_state != RUNNING:
        power = POWER_STATES.get(server.power_state, str(server.power_state))
        v.add(State.CRITICAL, f"{name} is ACTIVE but its power state is {power}{_on(hv)}")
    elif status == "ACTIVE":
        v.add(State.OK, f"{name} is ACTIVE and running{_on(hv)}")
    elif status == "VERIFY_RESIZE":
        waited = f" for {age(now - server.updated)}" if server.updated is not None else ""
        v.add(State.OK, f"{name} is VERIFY_RESIZE: resized, awaiting confirm or revert{waited}{_on(hv)}")
    elif status in RESTING:
        v.add(State.OK, f"{name} is {status}{_on(hv)}")
    else:  # not reached: every documented status has its branch above
        v.unverified = True
        v.add(State.UNKNOWN, f"{name}: status {status!r} has no rule: state unverified{_on(hv)}")

    for note in notes:
        v.details.append(inert(note, 500))
        if v.state == State.OK:
            v.add(State.OK, inert(note, 300))  # composed of inert pieces; two hypervisor names fit

    power = POWER_STATES.get(server.power_state, "?") if server.power_state is not None else "?"
    v.details += [
        f"server {inert(server.id)} ({name}), project "
        + (f"{inert(project)} ({inert(server.project_id)})" if project else inert(server.project_id) or "?"),
        f"status {status}, vm_state {inert(server.vm_state, 40) or '?'}, "
        f"task_state {inert(server.task_state, 60) or '-'}, power state {power}, "
        f"updated {clock(server.updated, now)}",
    ]
    if server.hypervisor_hostname or server.host:
        v.details.append(f"hypervisor {inert(server.hypervisor_hostname) or '?'}, "
                         f"compute host {inert(server.host) or '?'}"
                         + (f", host_status {inert(server.host_status, 40)}" if server.host_status else ""))
    if status == "ERROR" and (server.fault_code or server.fault_message):
        v.details.append(f"fault {server.fault_code or '?'}: {inert(server.fault_message, 500)}")
    if server.flavor or server.flavor_vcpus is not None:
        ram = f", {server.flavor_ram_mb} MB RAM" if server.flavor_ram_mb is not None else ""
        vcpus = f", {server.flavor_vcpus} vCPU" if server.flavor_vcpus is not None else ""
        v.details.append(f"flavor {inert(server.flavor) or '?'}{vcpus}{ram}")
    if server.addresses:
        v.details.append("addresses: " + ", ".join(
            f"{inert(a.network)} {inert(a.addr, 60)}" + (" (floating)" if a.kind == "floating" else "")
            for a in server.addresses))

    if server.flavor_vcpus is not None:
        v.perf.append(Perf("vcpus", server.flavor_vcpus, min=0))
    if server.flavor_ram_mb is not None:
        v.perf.append(Perf("ram", server.flavor_ram_mb * MIB, "B", min=0))
    return v


#: vSphere power states of a VM that is not running (vim.VirtualMachine.PowerState, besides poweredOn).
VSPHERE_NOT_RUNNING = frozenset({"poweredOff", "suspended"})


def vsphere_power(v: Verdict, server: Server, vm, fetched_at: float, now: float) -> Verdict:
    """A VM's verdict with vCenter's power state (`vm`: its records.VsVm, None when not joined) believed
    over Nova's status: vCenter is closer to the truth, Nova's power sync lags by minutes.

    Nova ACTIVE with no task in progress while vCenter says poweredOff or suspended is CRITICAL when both
    were already so in the previous stored sweep (their first-seen times, firstseen.py, are older than
    this sweep's `fetched_at`), WARNING when seen in this sweep only (a reboot in flight must not page).
    An unverified verdict (host down, record unusable) stays as it is.
    """
    if vm is None or v.unverified or unreported(server) or server.status != "ACTIVE" or server.task_state \
            or vm.power_state not in VSPHERE_NOT_RUNNING:
        return v
    seen = [since(server), since(vm)]
    first = max(seen) if None not in seen else None  # both have been so since the later of the two
    confirmed = first is not None and first < fetched_at
    name = inert(server.name) or inert(server.id)
    text = (f"{name}: Nova says ACTIVE, vCenter says {vm.power_state} since "
            f"{clock(fetched_at if first is None else first, now)}{_on(hypervisor_label(server, None))}")
    if not confirmed:
        text += " (first seen in this sweep: confirmed or cleared by the next one)"
    v.findings = [f for f in v.findings if f.state != State.OK]
    v.add(State.CRITICAL if confirmed else State.WARNING, text)
    v.details.append(f"vSphere VM {inert(vm.name)} (moref {inert(vm.moref)}): {inert(vm.power_state, 40)}, "
                     "while Nova reports ACTIVE with no task in progress")
    return v


def status_label(status: str) -> str:
    """Perfdata label for a Nova status; Nova's UNKNOWN becomes `status_unknown` (aggregate has `unknown`)."""
    label = perf_label((status or "none").lower().replace("-", "_"))
    return "status_unknown" if label == "unknown" else label


def status_perf(servers: Iterable[Server]) -> list[Perf]:
    """VM counts per Nova status: the common ones always, any other one when present."""
    counts = Counter(s.status or "NONE" for s in servers)
    total = sum(counts.values())
    order = list(PERF_STATUSES) + sorted(set(counts) - set(PERF_STATUSES))
    return [Perf(status_label(s), counts.get(s, 0), min=0, max=total) for s in order]


def history_notes(events: Iterable[Event], now: float) -> list[str]:
    """`moved from A to B 4 min ago (live-migration)` for a VM's recent moves and failed migrations."""
    notes = []
    for e in events:
        ago = age(now - e.time)
        src, dst, cause = inert(e.from_) or "?", inert(e.to) or "?", inert(e.cause)
        if e.kind == "vm_moved":
            notes.append(f"moved from {src} to {dst} {ago} ago ({cause})")
        elif e.kind == "migration_failed":
            notes.append(f"{cause} from {src} to {dst} {ago} ago; it stayed on {src}")
    return notes


def judge_deleted_vm(event: Event, now: float) -> Verdict:
    """A VM the event log saw deleted: OK, so config that still names it pages no one."""
    v = Verdict()
    v.add(State.OK, f"{inert(event.name) or inert(event.id)} deleted at {clock(event.time, now)}; "
                    "remove it with the next config generation")
    return v
