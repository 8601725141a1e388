"""Inventory changes: compare two sweeps (and Nova's migration records) and say what happened.

Pure functions: `changes(previous, new, seen_migrations)` → events. The event log (eventlog.py) stores
them; check_vio_inventory, check_vio_vm and `vio-discover --events` read them.
"""

from __future__ import annotations

from vio_checks.model import Hypervisor, Inventory, Record, Server
from vio_checks.placement import Placement
from vio_checks.text import counted, inert

#: Nova migration statuses that mean the VM now runs on the destination.
MIGRATION_DONE = {"completed", "finished", "confirmed", "done"}
#: ... and those that mean it failed (the VM stays where it was).
MIGRATION_FAILED = {"error", "failed"}

#: migration_type → how we name the cause.
CAUSES = {"live-migration": "live-migration", "migration": "cold migration", "resize": "resize",
          "evacuation": "evacuation"}


class Event(Record):
    """One change. `time` is POSIX seconds (UTC); `from_`/`to` are hypervisor names for moves;
    `project` is the project's name when Keystone told it, else its id."""

    def __init__(self, time: float, kind: str, id: str, name: str = "", project: str = "",
                 from_: str | None = None, to: str | None = None, cause: str | None = None) -> None:
        self.time = time
        self.kind = kind  # vm_added, vm_deleted, vm_moved, migration_failed, hypervisor_added, ...
        self.id = id
        self.name = name
        self.project = project
        self.from_ = from_
        self.to = to
        self.cause = cause

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["from"] = d.pop("from_")
        return d


def _in_window(ts: float | None, start: float, end: float) -> float:
    """ts when it falls in (start, end], else end (we only know it happened before this sweep)."""
    return ts if ts is not None and start < ts <= end else end


def _hv_of(server: Server, where: Placement) -> str | None:
    return where.label_of(server)


def changes(
    previous: Inventory | None, new: Inventory, seen_migrations: dict[str, str]
) -> tuple[list[Event], dict[str, str]]:
    """Events between two sweeps, and the updated {migration id: status} already reported.

    Without a previous sweep only migrations are reported (everything else would be "added").
    Migration records explain moves (and catch moves that reversed between two sweeps); a move the
    records do not explain is still reported, with an unknown cause.
    """
    now = new.meta.fetched_at
    start = previous.meta.fetched_at if previous else now
    # Where things are (placement.py's rule), the new sweep's hypervisors winning over the previous one's.
    names = Placement([*(previous.hypervisors if previous else []), *new.hypervisors])
    servers = {s.id: s for s in new.servers}
    events: list[Event] = []

    seen = dict(seen_migrations)
    explained: set[str] = set()
    gone = {s.id: s for s in previous.servers} if previous else {}
    for m in sorted(new.migrations, key=lambda m: (m.updated or m.created or 0, m.id)):
        status = m.status
        if seen.get(m.id) == status or (status not in MIGRATION_DONE and status not in MIGRATION_FAILED):
            continue
        seen[m.id] = status
        s = servers.get(m.server_id) or gone.get(m.server_id)
        src = names.label(m.source_node, m.source_compute)
        dst = names.label(m.dest_node, m.dest_compute)
        cause = CAUSES.get(m.migration_type, m.migration_type or "migration")
        when = m.updated or m.created or now
        base = dict(time=when, id=m.server_id, name=s.name if s else "", project=s.project_id if s else "",
                    from_=src, to=dst)
        if status in MIGRATION_FAILED:
            events.append(Event(kind="migration_failed", cause=f"{cause} {status}", **base))
        elif src != dst:  # a resize within the same cluster is not a move
            events.append(Event(kind="vm_moved", cause=cause, **base))
            explained.add(m.server_id)

    if previous is not None:
        events += _diff_servers(previous, new, servers, names, explained, start, now)
        events += _diff_hypervisors(previous.hypervisors, new.hypervisors, now)
        events += _diff_simple(previous.volumes, new.volumes, "volume", start, now)
        events += _diff_simple(previous.routers, new.routers, "router", start, now)
        events += _diff_vsphere(previous, new, servers, now)
    projects = {p.id: p.name for p in new.projects if p.name}
    for e in events:
        e.project = projects.get(e.project, e.project)
    events.sort(key=lambda e: (e.time, e.kind, e.id))
    current = {m.id for m in new.migrations}  # records age out of the sweep's window: forget them too
    return events, {mid: st for mid, st in seen.items() if mid in current}


def _diff_servers(previous: Inventory, new: Inventory, servers: dict[str, Server], names: Placement,
                  explained: set[str], start: float, now: float) -> list[Event]:
    events = []
    before = {s.id: s for s in previous.servers}
    for sid, s in servers.items():
        old = before.get(sid)
        if old is None:
            events.append(Event(_in_window(s.created, start, now), "vm_added", sid, s.name, s.project_id,
                                to=_hv_of(s, names)))
            continue
        was, now_on = _hv_of(old, names), _hv_of(s, names)
        if was and now_on and was != now_on and sid not in explained:
            events.append(Event(_in_window(s.updated, start, now), "vm_moved", sid, s.name, s.project_id,
                                from_=was, to=now_on, cause="unknown (moved between sweeps)"))
    for sid, old in before.items():
        if sid not in servers:
            events.append(Event(now, "vm_deleted", sid, old.name, old.project_id, from_=_hv_of(old, names)))
    return events


def _diff_hypervisors(before: list[Hypervisor], after: list[Hypervisor], now: float) -> list[Event]:
    events = []
    old = {h.id: h for h in before}
    new = {h.id: h for h in after}
    for hid, h in new.items():
        if hid not in old:
            events.append(Event(now, "hypervisor_added", hid, h.label))
        elif old[hid].state != h.state and h.state in ("up", "down"):
            events.append(Event(now, f"hypervisor_{h.state}", hid, h.label))
    for hid, h in old.items():
        if hid not in new:
            events.append(Event(now, "hypervisor_removed", hid, h.label))
    return events


def _diff_simple(before: list, after: list, what: str, start: float, now: float) -> list[Event]:
    old = {o.id: o for o in before}
    new = {o.id: o for o in after}
    events = [Event(_in_window(getattr(o, "created", None), start, now), f"{what}_added", i, o.name,
                    o.project_id) for i, o in new.items() if i not in old]
    events += [Event(now, f"{what}_deleted", i, o.name, o.project_id) for i, o in old.items() if i not in new]
    return events



def _diff_vsphere(previous: Inventory, new: Inventory, servers: dict[str, Server], now: float) -> list[Event]:
    """ESXi hosts going down or up, and VMs moving between ESXi hosts: `vm_vmotion` (vMotion, DRS), or,
    when the host they left went down, vSphere HA's restarts told with that host's `esxi_down` event.

    Only between two sweeps that both read vCenter (a failed vCenter sweep has no hosts: no events)."""
    if not previous.esxi_hosts or not new.esxi_hosts:
        return []
    old_hosts = {h.moref: h for h in previous.esxi_hosts}
    hosts = {h.moref: h for h in new.esxi_hosts}

    def name(moref: str | None) -> str:
        h = hosts.get(moref or "") or old_hosts.get(moref or "")
        return h.name if h else (moref or "?")

    went_down = {m for m, h in hosts.items() if h.down and m in old_hosts and not old_hosts[m].down}
    before = {v.server_id: v for v in previous.vsphere_vms if v.server_id}
    events: list[Event] = []
    restarted: dict[str, list[str]] = {}
    for v in new.vsphere_vms:
        old = before.get(v.server_id or "")
        if old is None or not old.host or not v.host or old.host == v.host:
            continue
        s = servers.get(v.server_id or "")
        base = dict(id=v.server_id or v.moref, name=s.name if s else v.name,
                    project=s.project_id if s else "", from_=name(old.host), to=name(v.host))
        if old.host in went_down:
            restarted.setdefault(old.host, []).append(name(v.host))
            events.append(Event(now, "vm_ha_restarted", cause=f"vSphere HA: ESXi host {name(old.host)} went "
                                                              "down", **base))
        else:
            events.append(Event(now, "vm_vmotion", cause="vMotion / DRS", **base))
    for moref, h in sorted(hosts.items()):
        old = old_hosts.get(moref)
        if old is None or old.down == h.down:
            continue
        cause = None
        if moref in restarted:
            targets = sorted(set(restarted[moref]))
            cause = f"vSphere HA restarted {counted(len(restarted[moref]), 'VMs')} on {', '.join(targets)}"
        events.append(Event(now, "esxi_down" if h.down else "esxi_up", moref, h.name, cause=cause))
    return events


def describe(e: Event, clock_text: str) -> str:
    """One line for people: `10:42 vm_moved web-01 [webshop] domain-c8 → domain-c9 (live-migration)`."""
    name, ident = inert(e.name), inert(e.id)
    who = name or ident
    if name and e.kind.startswith(("vm_", "migration")):
        who = f"{name} ({ident})"
    parts = [clock_text, inert(e.kind, 40), who]
    if e.project:
        parts.append(f"[{inert(e.project)}]")
    src, dst = inert(e.from_), inert(e.to)
    if src and dst:
        parts.append(f"{src} → {dst}")
    elif dst:
        parts.append(f"on {dst}")
    elif src:
        parts.append(f"was on {src}")
    if e.cause:
        parts.append(f"({inert(e.cause)})")
    return " ".join(p for p in parts if p)
