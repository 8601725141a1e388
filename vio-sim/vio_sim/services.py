"""Controller services as a deployment runs them: members per binary, pod-style restarts, the delayed down.

**The delayed down.** A service that stops does not read down at once. Nova's servicegroup DB driver
(nova/servicegroup/drivers/db.py, ``DbDriver.is_up``) answers up while ``abs(now - last_heartbeat) <=
service_down_time`` (``[DEFAULT] service_down_time``, 60 s by default), the last heartbeat being the
record's ``last_seen_up`` (else its ``created_at``); a ``forced_down`` record is down at once
(nova/servicegroup/api.py, ``API.service_is_up``). Cinder's os-services applies the same rule to its
``updated_at`` (cinder/api/contrib/services.py, ``ServiceController.index``; ``service_down_time``, 60 s).
Neutron calls an agent dead when its heartbeat is older than ``agent_down_time`` (75 s;
neutron/agent/common/utils.py, ``is_agent_down``). So a stopped service keeps reading up, with a heartbeat
that no longer moves, until that time has passed; then down, with that last heartbeat. The region's
settings ``service_down_time`` and ``agent_down_time`` override the defaults (a test sets 1 s).

**nova-compute reports through nova-conductor.** nova-compute has no database access
(nova/cmd/compute.py, ``main``: ``DISABLE_DB_ACCESS``, ``NovaObject.indirection_api =
ConductorAPI()``), so its heartbeat (``DbDriver._report_state``: ``service_ref.save()``, a remotable
method) is an RPC to a conductor (nova/conductor/manager.py, ``ConductorManager.object_action``). With no
conductor running, every nova-compute stops reporting (it logs "Lost connection to nova-conductor") from
the moment the last conductor stopped, and reads down service_down_time later. The simulator keeps this
edge when the region has nova-conductor records at all (`silence_computes`).

**Pod-style restarts.** Where the control plane runs in Kubernetes pods, a recreated pod registers a new
record under a new host name (the pod's); the old record is left as it was, down with its last
heartbeat (`restart`).

**Layouts.** `with_layout` gives a scenario the members VIO's deployment modes run: ``ha`` three of each
controller binary, ``compact`` and ``tiny`` one; ``pods`` names them as Kubernetes pods.
"""

from __future__ import annotations

import copy
import re
import time
from typing import TYPE_CHECKING, Any

from .common import FMT_SPACE, FMT_US, SERVICE_KINDS, SimError, det_uuid, fmt_time, to_epoch

if TYPE_CHECKING:
    from .store import State

#: Seconds between an old pod's last heartbeat and its successor's registration (a pod starts in seconds;
#: Neutron's timestamps have whole seconds, so a tie would prove no order).
RESTART_GAP = 2.0
#: Members of each controller binary per VIO deployment mode.
LAYOUTS = {"ha": 3, "compact": 1, "tiny": 1}
#: The binaries that run as interchangeable members anywhere in the region, per kind (agent binaries by
#: their agent type).
CLUSTER_BINARIES: dict[str, tuple[str, ...]] = {
    "compute_services": ("nova-scheduler", "nova-conductor"),
    "volume_services": ("cinder-scheduler",),
    "agents": ("DHCP agent", "Metadata agent"),
}
_AGENT_BINARY = {"DHCP agent": "neutron-dhcp-agent", "Metadata agent": "neutron-metadata-agent"}
_POD = re.compile(r"^(?P<base>.+)-[a-z0-9]{5}$")


def _host_for(st: State, kind: str, old: dict, host: str | None) -> str:
    if host:
        return host
    m = _POD.match(old["host"])
    base = m.group("base") if m else old["host"]
    return f"{base}-{det_uuid(kind, old['host'], str(st.seq)).replace('-', '')[:5]}"


def _at(body: dict | None, now: float) -> float:
    at = (body or {}).get("at")
    return now if at is None else to_epoch(at, now)


def stop(st: State, kind: str, ref: Any, body: dict | None = None) -> dict:
    """Stop a service or agent at ``at`` (default now): it stops reporting, and reads down only once the
    down time has passed. Returns the record."""
    _check(kind)
    now = time.time()
    with st.lock:
        old = st.get(kind, ref)
        at = _at(body, now)
        hb = "heartbeat_timestamp" if kind == "agents" else "updated_at"
        obj = st.put(kind, {hb: fmt_time(at, FMT_SPACE if kind == "agents" else FMT_US)}, old, now)
        obj["_stopped_at"] = at
        silence_computes(st)
        return obj


def start(st: State, kind: str, ref: Any, body: dict | None = None) -> dict:
    """Start a stopped (or down) service or agent again under its own host name: it reports at once."""
    _check(kind)
    now = time.time()
    with st.lock:
        old = st.get(kind, ref)
        changes: dict[str, Any] = {"alive": True} if kind == "agents" else {"state": "up"}
        if kind == "agents":
            changes["started_at"] = fmt_time(now, FMT_SPACE)
        obj = st.put(kind, changes, old, now)
        obj.pop("_stopped_at", None)
        silence_computes(st)
        return obj


def restart(st: State, kind: str, ref: Any, body: dict | None = None) -> dict:
    """A pod-style restart: the record stops at ``at`` (default: RESTART_GAP seconds ago) and stays as it
    is, and a new record of the same binary registers now under ``host`` (default: the pod's name with a
    new suffix) and reports. Returns {"stopped": old record, "started": new record}."""
    _check(kind)
    now = time.time()
    with st.lock:
        old = stop(st, kind, ref, {"at": now - RESTART_GAP, **(body or {})})
        host = _host_for(st, kind, old, (body or {}).get("host"))
        new = {k: copy.deepcopy(v) for k, v in old.items()
               if not k.startswith("_") and k not in ("id", "host", "routers", "ha_states")}
        new["host"] = host
        if kind == "agents":
            new.update(alive=True, created_at=fmt_time(now, FMT_SPACE), started_at=fmt_time(now, FMT_SPACE),
                       heartbeat_timestamp=None, routers=[])
        else:  # a new process registers enabled
            new.update(state="up", status="enabled", disabled_reason=None, updated_at=None)
            new.pop("forced_down", None)
        started = st.put(kind, new, None, now)
        silence_computes(st)
        return {"stopped": old, "started": started}


def _check(kind: str) -> None:
    if kind not in SERVICE_KINDS:
        raise SimError(404, f"{kind} have no heartbeat to stop (only {', '.join(SERVICE_KINDS)})")


def silence_computes(st: State) -> None:
    """Keep the edge nova-compute → nova-conductor (module docstring): with nova-conductor records and none
    of them running, every nova-compute stopped reporting when the last one stopped; else they report."""
    svcs = st.objects["compute_services"].values()
    conductors = [s for s in svcs if s.get("binary") == "nova-conductor"]
    gone: float | None = None
    if conductors and not any(_running(s) for s in conductors):
        gone = max(_stopped(s) for s in conductors)
    for s in svcs:
        if s.get("binary") != "nova-compute":
            continue
        if gone is None:
            s.pop("_silenced_at", None)
        else:
            s["_silenced_at"] = gone


def _running(s: dict) -> bool:
    return s.get("state") != "down" and not s.get("forced_down") and s.get("_stopped_at") is None


def _stopped(s: dict) -> float:
    """When a conductor that is not running stopped: its stop, else its last heartbeat."""
    if s.get("_stopped_at") is not None:
        return float(s["_stopped_at"])
    return to_epoch(s.get("updated_at"), time.time()) if s.get("updated_at") else time.time()


def with_layout(scenario: dict, layout: str, pods: bool = False) -> dict:
    """A copy of `scenario` whose controller services (CLUSTER_BINARIES; nova-consoleauth and
    cinder-backup too) are the members `layout` runs: LAYOUTS[layout] of each, on vio-controller-NN, or
    with `pods` on Kubernetes pods named `<binary>-<hash>-<suffix>`. Other records are kept."""
    if layout not in LAYOUTS:
        raise SimError(400, f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    out = copy.deepcopy(scenario)
    n = LAYOUTS[layout]

    def hosts(binary: str) -> list[str]:
        if not pods:
            return [f"vio-controller-{i:02d}" for i in range(1, n + 1)]
        rs = det_uuid("replicaset", binary).replace("-", "")[:9]
        return [f"{binary}-{rs}-{det_uuid('pod', binary, str(i)).replace('-', '')[:5]}" for i in range(n)]

    dropped = {"nova-consoleauth", "cinder-backup", *CLUSTER_BINARIES["compute_services"],
               *CLUSTER_BINARIES["volume_services"]}
    for kind in ("compute_services", "volume_services"):
        kept = [s for s in out.get(kind) or () if s.get("binary") not in dropped]
        members = [{"binary": b, "host": h} for b in CLUSTER_BINARIES[kind] for h in hosts(b)]
        out[kind] = members + kept
    if out.get("agents"):  # an ML2 cloud (NSX runs no agents)
        kept = [a for a in out["agents"] if a.get("agent_type") not in CLUSTER_BINARIES["agents"]]
        out["agents"] = kept + [{"agent_type": t, "host": h} for t in CLUSTER_BINARIES["agents"]
                                for h in hosts(_AGENT_BINARY[t])]
    return out
