"""Shared helpers of the simulator's services: API time formats, deterministic ids, the admin error."""

from __future__ import annotations

import functools
import hashlib
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import State

NS = uuid.UUID("6f0c3b52-6c1e-4e0b-9a53-7a1d1c0f5e10")

# -- time ------------------------------------------------------------------------------------------

FMT_Z = "%Y-%m-%dT%H:%M:%SZ"
FMT_US = "%Y-%m-%dT%H:%M:%S.%f"
FMT_SPACE = "%Y-%m-%d %H:%M:%S"

_REL = re.compile(r"^(?:now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def to_epoch(value: Any, now: float | None = None) -> float | None:
    """Seconds since the epoch for an absolute or relative (``-3h``) time; None for None/""."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    now = time.time() if now is None else now
    s = str(value).strip()
    if s == "now":
        return now
    m = _REL.match(s)
    if m:
        sign = -1.0 if m.group(1) == "-" else 1.0
        return now + sign * float(m.group(2)) * _UNITS[m.group(3)]
    s = s.replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError as exc:
        raise ValueError(f"not a time: {value!r} (use ISO 8601, epoch seconds, 'now' or '-3h')") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def fmt_time(ts: float | None, fmt: str = FMT_Z) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def iso_z(ts: float) -> str:
    return fmt_time(ts, FMT_Z)  # type: ignore[return-value]


def expand(c: dict, shorthands: tuple[tuple[str, str], ...]) -> None:
    """Rename shorthand keys of an incoming object to their API field names, in place."""
    for short, full in shorthands:
        if short in c:
            c[full] = c.pop(short)


# -- ids -------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def det_uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def det_mac(key: str) -> str:
    h = hashlib.sha1(key.encode()).digest()
    return f"fa:16:3e:{h[0]:02x}:{h[1]:02x}:{h[2]:02x}"


_UUIDISH = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def looks_like_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUIDISH.match(value))


class SimError(Exception):
    """A bad admin request (unknown kind/object, invalid value): carries an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- the kind registry ---------------------------------------------------------------------------------

#: Turns an incoming object or patch into stored field names: (state, changes, old or None, now) -> changes.
Ingest = Callable[["State", dict, "dict | None", float], dict]
#: Completes a stored object in place: (state, obj, new, now).
Fill = Callable[["State", dict, bool, float], None]


def keep(st: State, changes: dict, old: dict | None, now: float) -> dict:
    """The default ingest step: fields are stored as given."""
    return changes


def nothing(st: State, obj: dict, new: bool, now: float) -> None:
    """The default fill/after step."""
    return None


@dataclass(frozen=True)
class Kind:
    """How the store ingests one kind of object; each service module declares its kinds."""

    name: str
    ingest: Ingest = keep
    fill: Fill = nothing
    #: runs after the object is stored (may create dependent objects)
    after: Fill = nothing
    #: time fields and the API format each is stored in
    times: dict[str, str] = field(default_factory=dict)
    #: the field a patch bumps to "now" unless the patch sets it
    updated: str | None = None
    #: also carries an integer id (Nova's pre-2.53 ids, a migration's ``id``)
    int_id: bool = False

    @property
    def key(self) -> str:
        """The field that keys the objects of this kind."""
        return "uuid" if self.name == "migrations" else "id"

    @property
    def int_field(self) -> str:
        return "id" if self.name == "migrations" else "_int_id"


# -- services (Nova's os-services and Cinder's os-services share the shape) ---------------------------

def ingest_service(st: State, c: dict, old: dict | None, now: float) -> dict:
    """The ``disabled`` shorthand; a service going down gets a last heartbeat in the past."""
    if "disabled" in c:
        c["status"] = "disabled" if c.pop("disabled") else "enabled"
    going_down = c.get("state") == "down" or c.get("forced_down") is True
    was_up = old is None or (old.get("state") != "down" and not old.get("forced_down"))
    if going_down and was_up and "updated_at" not in c:
        c["updated_at"] = now - (600 if old is None else 60)
    if c.get("status") == "enabled" and "disabled_reason" not in c:
        c["disabled_reason"] = None
    return c


def fill_service(st: State, o: dict, new: bool, default_binary: str, zone: str) -> None:
    """Defaults shared by compute and volume services."""
    if new:
        o.setdefault("binary", default_binary)
        o.setdefault("host", f"host-{st.seq}")
        o.setdefault("zone", zone)
        o.setdefault("status", "enabled")
        o.setdefault("state", "up")
        o.setdefault("disabled_reason", None)
        o.setdefault("updated_at", None)
    if o.get("id") is None:
        o["id"] = det_uuid(o["binary"], o["host"])


#: Nova's and Cinder's default ``service_down_time``, Neutron's default ``agent_down_time`` (seconds): how
#: long a record that stopped reporting still reads up (vio_sim.services: the delayed down).
SERVICE_DOWN_TIME = 60.0
AGENT_DOWN_TIME = 75.0
#: The kinds whose records have a heartbeat.
SERVICE_KINDS = ("compute_services", "volume_services", "agents")


def down_time(st: State | None, kind: str) -> float:
    """How long a stopped record of `kind` still reads up (the region's setting, else the default)."""
    name, default = ("agent_down_time", AGENT_DOWN_TIME) if kind == "agents" else (
        "service_down_time", SERVICE_DOWN_TIME)
    value = (st.settings.get(name) if st is not None else None)
    return float(default if value is None else value)


def last_report(o: dict) -> float | None:
    """When a record the state calls running stopped reporting (stopped, or a nova-compute cut off from its
    conductors), or None when it still reports."""
    times = [t for t in (o.get("_stopped_at"), o.get("_silenced_at")) if t is not None]
    return min(times) if times else None


def still_up(o: dict, st: State | None, kind: str, now: float | None = None) -> bool:
    """Whether a record the state calls running still reads up: it reports, or it stopped no longer than
    the down time ago (the APIs' own rule: vio_sim.services)."""
    stop = last_report(o)
    return stop is None or abs((time.time() if now is None else now) - stop) <= down_time(st, kind)


def service_state(s: dict | None, st: State | None = None, kind: str = "compute_services") -> str:
    """"up" or "down" as the API shows it (a missing service is down; a stopped one once the down time
    has passed: vio_sim.services)."""
    if s is None:
        return "down"
    if s.get("forced_down") or s.get("state") == "down":
        return "down"
    return "up" if still_up(s, st, kind) else "down"


def service_updated_at(s: dict, fmt: str = FMT_US, st: State | None = None,
                       kind: str = "compute_services") -> str | None:
    """A live service's heartbeat is a few seconds old; a stopped one's is when it stopped; a dead one
    keeps its stored last heartbeat."""
    stop = last_report(s) if s.get("state") != "down" and not s.get("forced_down") else None
    if stop is not None:
        return fmt_time(stop, fmt)
    if service_state(s, st, kind) == "up":
        return fmt_time(int(time.time()) - 3, fmt)
    return s.get("updated_at")


def render_service_fields(s: dict, st: State | None = None, kind: str = "compute_services") -> dict:
    """The os-services fields Nova and Cinder show alike."""
    return {
        "binary": s.get("binary"),
        "host": s.get("host"),
        "zone": s.get("zone"),
        "status": s.get("status"),
        "state": service_state(s, st, kind),
        "updated_at": service_updated_at(s, FMT_US, st, kind),
        "disabled_reason": s.get("disabled_reason"),
    }
