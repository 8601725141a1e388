"""A human summary of an inventory: counts per kind with their states (vio-discover, the demo)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from vio_checks.judge.service import endpoint_answer
from vio_checks.model import Inventory
from vio_checks.text import counted, inert

#: What `vio-discover --json` counts, in its documented order.
JSON_COUNTS = ("hypervisors", "servers", "volumes", "ports", "networks", "routers", "agents",
               "compute_services", "volume_services", "migrations", "load_balancers", "images", "stacks",
               "certificates")


def iso_utc(ts: float) -> str:
    """POSIX seconds → `2026-11-24T10:42:00Z`."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _breakdown(values: Iterable[str]) -> str:
    counts = Counter(v or "?" for v in values)
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def describe(inv: Inventory) -> list[str]:
    """Lines: a header, then one line per kind with its state breakdown."""
    m = inv.meta
    where = f"{m.cloud} ({m.region})" if m.region else m.cloud
    lines = [
        f"{where}: swept at {iso_utc(m.fetched_at)} in {m.seconds:.2f} s with "
        f"{counted(m.requests, 'API requests')}"
        f" (compute microversion {m.compute_microversion})",
    ]
    rows = [
        ("hypervisors", inv.hypervisors,
         _breakdown(f"{h.state}/{h.status}" for h in inv.hypervisors)),
        ("servers", inv.servers, _breakdown(s.status for s in inv.servers)),
        ("nova services", inv.compute_services,
         _breakdown(f"{s.state}/{s.status}" for s in inv.compute_services)),
        ("migrations", inv.migrations, _breakdown(f"{x.migration_type} {x.status}" for x in inv.migrations)),
        ("volumes", inv.volumes, _breakdown(v.status for v in inv.volumes)),
        ("cinder services", inv.volume_services,
         _breakdown(f"{s.state}/{s.status}" for s in inv.volume_services)),
        ("ports", inv.ports, _breakdown(p.status for p in inv.ports)),
        ("networks", inv.networks, _breakdown(n.status for n in inv.networks)),
        ("routers", inv.routers, _breakdown(r.status for r in inv.routers)),
        ("neutron agents", inv.agents,
         _breakdown("alive" if a.alive else "dead" for a in inv.agents) if inv.agents
         else "none, although Neutron announces agents" if m.neutron_agents else "none (NSX)"),
        ("projects", inv.projects, ""),
        ("endpoints", inv.endpoints,
         _breakdown(f"answered {endpoint_answer(e)}" if e.ok
                    else "failed" + (f" ({endpoint_answer(e)})" if e.status_code else "")
                    for e in inv.endpoints)),
    ]
    width = max(len(r[0]) for r in rows)
    for label, objects, detail in rows:
        lines.append(f"  {label:<{width}} {len(objects):>6}" + (f"  {detail}" if detail else ""))
    if m.kept:
        from vio_checks.visibility import kept_summary

        lines.append(f"  {kept_summary(m)} (confirmation GETs this sweep: {m.confirmations})")
    vs = m.vsphere
    if vs is not None and vs.error:
        lines.append(f"  {inert(vs.error)}")
    elif vs is not None:
        states = _breakdown(h.connection_state for h in inv.esxi_hosts) or "none"
        lines.append(f"  vSphere: {inert(vs.vcenter.name) or 'vCenter'} {inert(vs.vcenter.instance_uuid)} "
                     f"swept in {vs.seconds:.2f} s with {counted(vs.requests, 'calls')}: "
                     f"{counted(len(inv.esxi_hosts), 'ESXi hosts')} ({states}"
                     + f"), {counted(len(inv.vsphere_vms), 'joined VMs')}, "
                     + counted(len(inv.datastores), "datastores")
                     + "".join(f", {n} {k.replace('_', ' ')} not joined" for k, n in vs.unjoined.items()))
    return lines


def as_json(inv: Inventory) -> dict:
    """The documented `vio-discover --json` object."""
    m = inv.meta
    return {
        "cloud": m.cloud,
        "region": m.region,
        "fetched_at": iso_utc(m.fetched_at),
        "seconds": m.seconds,
        "requests": m.requests,
        "counts": {k: len(inv.of_kind(k)) for k in JSON_COUNTS},
        "kept": {kind: sorted(ids) for kind, ids in m.kept.items() if ids},
        "confirmations": m.confirmations,
        "handshakes": getattr(m, "handshakes", 0),  # TLS handshakes of the certificates, not requests
        **({} if m.vsphere is None else {"vsphere": {
            "vcenter": m.vsphere.vcenter.instance_uuid if m.vsphere.vcenter else None,
            "error": m.vsphere.error, "seconds": m.vsphere.seconds, "requests": m.vsphere.requests,
            "counts": {k: len(inv.of_kind(k)) for k in ("esxi_hosts", "vsphere_vms", "datastores")},
            "unjoined": m.vsphere.unjoined}}),
    }
