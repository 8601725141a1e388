"""In-memory cloud state of the VIO API simulator: scenario loading, mutations and derived fields.

Scenario format
===============
A scenario is a JSON object (file or dict). Every key is optional::

    {
      "description": "free text",
      "settings": {"region": "RegionOne", "neutron_backend": "ml2" | "nsx", "vif_type": "ovs",
                   "vcenter_uuid": "...", "vcenter_ip": "10.0.0.10", "network_host": "vio-network-01"},
      "users":            [{"name": "admin", "password": "vio-sim", "project": "admin"}],
      "projects":         [{"name": "admin"}, {"name": "webshop", "description": "..."}],
      "flavors":          [{"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}],
      "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"}, ...],
      "hypervisors":      [{"hypervisor_hostname": "domain-c8.<vcenter-uuid>", "host": "vio-compute-01",
                            "vcpus": 128, "memory_mb": 524288, "local_gb": 10240}],
      "volume_services":  [{"binary": "cinder-volume", "host": "vio-controller-01@vmdk"}],
      "networks":         [{"name": "ext-net", "router:external": true, "cidr": "203.0.113.0/24"}],
      "subnets":          [{"name": "extra", "network_id": "ext-net", "cidr": "198.51.100.0/24"}],
      "routers":          [{"name": "r1", "external_network": "ext-net", "ha": true}],
      "servers":          [{"name": "web-01", "project": "webshop", "flavor": "m1.small",
                            "host": "vio-compute-01", "status": "ACTIVE"}],
      "ports":            [{"name": "web-01-p0", "network_id": "webshop-net", "device_id": "web-01"}],
      "floatingips":      [{"port_id": "web-01-p0", "floating_network_id": "ext-net"}],
      "volumes":          [{"name": "db-data", "size": 100, "attachments": [{"server_id": "web-01"}]}],
      "agents":           [{"agent_type": "L3 agent", "host": "vio-network-01", "routers": ["r1"]}],
      "migrations":       [{"server": "web-01", "migration_type": "live-migration", "status": "completed",
                            "from": "vio-compute-02", "to": "vio-compute-01", "created_at": "-2d"}]
    }

Objects use the API field names of the service that owns them (``status``, ``OS-EXT-STS:power_state``,
``binding:vif_type``, ``router:external``...). What an object does not give is filled with a plausible
default. Rules:

* **Ids** default to ``uuid5(kind/name)``: deterministic, stable across loads. Migrations are keyed by
  ``uuid`` and also carry Nova's integer ``id``; hypervisors and services also get an integer id (shown
  before compute microversion 2.53). Keys starting with ``_`` are simulator-internal and never rendered.
* **References** (``tenant_id``/``project_id``, ``network_id``, ``device_id``, ``subnet_id``,
  ``server_id``, ``instance_uuid``, an agent's ``routers``...) may name the object instead of giving its id;
  an unknown value is kept as is (a dangling reference, e.g. a volume attached to a deleted server).
* **Shorthands** (accepted on load, ``POST`` and ``PATCH``): ``project`` (sets the kind's project field),
  server ``host`` (a compute host, hypervisor hostname or cluster name: sets ``OS-EXT-SRV-ATTR:host`` and
  ``OS-EXT-SRV-ATTR:hypervisor_hostname``), server ``power_state``/``task_state``/``vm_state``/
  ``availability_zone``, ``flavor`` as a name, hypervisor ``host`` (its nova-compute service host),
  volume ``host``/``attached_to``, port ``network``/``device``/``host``/``vif_type``/``ip``, network
  ``cidr`` (creates a subnet), router ``external_network``, floating ip ``port``/``network``/``ip``,
  migration ``server``/``type``/``from``/``to``.
* **Times** may be absolute (ISO 8601, ``Z`` or offset or naive UTC, epoch seconds) or relative to the
  moment they are loaded or patched: ``"now"``, ``"-3h"``, ``"-90m"``, ``"-2d"``, ``"+30s"``, ``"-1w"``
  (units s, m, h, d, w). They are stored in the owning API's format (Nova servers ``...Z``, Nova services,
  migrations and Cinder ``...%f``, Neutron ``...Z``, Neutron agents ``YYYY-MM-DD HH:MM:SS``).

Derived at render time (never stored, so a mutation anywhere shows everywhere):

* hypervisor ``state``/``status``/``service.disabled_reason`` from its nova-compute service (state down or
  ``forced_down`` -> down; status disabled -> disabled with the reason); ``running_vms`` and the
  ``*_used``/``free_*`` usage from the servers on it, unless the hypervisor sets ``vcpus_used`` etc. itself;
* server ``host_status`` (UP / DOWN / MAINTENANCE / UNKNOWN / ""), ``addresses`` (from its ports and
  floating ips unless the server sets ``addresses``), ``os-extended-volumes:volumes_attached``,
  ``hostId``, and a generic ``fault`` for an ERROR server that has none;
* network ``subnets``; service ``updated_at`` (and agent ``heartbeat_timestamp``) is "now" while the
  service is up / the agent alive, and the stored value otherwise;
* an HA router's ``ha_state`` per hosting agent: the first alive agent ``active``, other alive agents
  ``standby``, dead agents ``unknown`` (an agent may pin it with ``"ha_states": {router_id: state}``).

Mutation rules: a ``PATCH`` merges top-level fields. Patching a server's ``status`` also resets
``vm_state``/``task_state``/``power_state`` to what Nova shows for that status unless the patch sets them;
patching anything bumps ``updated``/``updated_at`` to now unless the patch sets it; a service patched to
``state: down`` (an agent to ``alive: false``) gets a last heartbeat 60 s back unless the patch gives one.
Patching a hypervisor's ``state``/``status``/``disabled_reason`` writes through to its nova-compute service.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NS = uuid.UUID("6f0c3b52-6c1e-4e0b-9a53-7a1d1c0f5e10")

#: Kinds in load order (a kind may reference the kinds before it by name).
KINDS = (
    "projects", "users", "flavors", "compute_services", "hypervisors", "volume_services", "networks",
    "subnets", "routers", "servers", "ports", "floatingips", "volumes", "agents", "migrations",
)
SERVICE_KINDS = ("compute_services", "volume_services")
_INT_ID_KINDS = ("hypervisors", "compute_services", "volume_services", "migrations")

SCENARIO_DIR = Path(__file__).with_name("scenarios")

NOVA_MAX = (2, 96)
NOVA_MIN = (2, 1)
CINDER_MAX = (3, 70)
CINDER_MIN = (3, 0)

DEFAULT_SETTINGS: dict[str, Any] = {
    "region": "RegionOne",
    "neutron_backend": None,  # None: "ml2" when the scenario has agents, else "nsx"
    "vif_type": None,  # default binding:vif_type of bound ports: "ovs" (ml2) / "nsx" (nsx)
    "vcenter_uuid": "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11",
    "vcenter_ip": "10.0.0.10",
    "network_host": "vio-network-01",
}

DEFAULT_USER = {"name": "admin", "password": "vio-sim", "project": "admin"}

# -- time ------------------------------------------------------------------------------------------

FMT_Z = "%Y-%m-%dT%H:%M:%SZ"
FMT_US = "%Y-%m-%dT%H:%M:%S.%f"
FMT_SPACE = "%Y-%m-%d %H:%M:%S"

_NEUTRON_TIMES = {"created_at": FMT_Z, "updated_at": FMT_Z}
TIME_FIELDS: dict[str, dict[str, str]] = {
    "servers": {"created": FMT_Z, "updated": FMT_Z, "OS-SRV-USG:launched_at": FMT_US,
                "OS-SRV-USG:terminated_at": FMT_US},
    "compute_services": {"updated_at": FMT_US},
    "volume_services": {"updated_at": FMT_US},
    "migrations": {"created_at": FMT_US, "updated_at": FMT_US},
    "volumes": {"created_at": FMT_US, "updated_at": FMT_US},
    "ports": _NEUTRON_TIMES, "networks": _NEUTRON_TIMES, "subnets": _NEUTRON_TIMES,
    "routers": _NEUTRON_TIMES, "floatingips": _NEUTRON_TIMES,
    "agents": {"heartbeat_timestamp": FMT_SPACE, "created_at": FMT_SPACE, "started_at": FMT_SPACE},
}
_UPDATED_FIELD = {"servers": "updated", "volumes": "updated_at", "migrations": "updated_at",
                  "ports": "updated_at", "networks": "updated_at", "subnets": "updated_at",
                  "routers": "updated_at", "floatingips": "updated_at"}

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


def _expand(c: dict, shorthands: tuple[tuple[str, str], ...]) -> None:
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


# -- Nova status table -----------------------------------------------------------------------------

#: status -> (vm_state, task_state, power_state) as Nova shows them.
SERVER_STATUS: dict[str, tuple[str, str | None, int]] = {
    "ACTIVE": ("active", None, 1),
    "BUILD": ("building", "spawning", 0),
    "DELETED": ("deleted", None, 0),
    "ERROR": ("error", None, 0),
    "HARD_REBOOT": ("active", "rebooting_hard", 1),
    "MIGRATING": ("active", "migrating", 1),
    "PASSWORD": ("active", "updating_password", 1),
    "PAUSED": ("paused", None, 3),
    "REBOOT": ("active", "rebooting", 1),
    "REBUILD": ("active", "rebuilding", 0),
    "RESCUE": ("rescued", None, 1),
    "RESIZE": ("active", "resize_migrating", 1),
    "REVERT_RESIZE": ("resized", "resize_reverting", 1),
    "SHELVED": ("shelved", None, 4),
    "SHELVED_OFFLOADED": ("shelved_offloaded", None, 0),
    "SHUTOFF": ("stopped", None, 4),
    "SOFT_DELETED": ("soft-delete", None, 4),
    "SUSPENDED": ("suspended", None, 7),
    "UNKNOWN": ("active", None, 0),
    "VERIFY_RESIZE": ("resized", None, 1),
}

VOLUME_STATUSES = (
    "creating", "available", "reserved", "attaching", "detaching", "in-use", "maintenance", "deleting",
    "awaiting-transfer", "error", "error_deleting", "backing-up", "restoring-backup", "error_backing-up",
    "error_restoring", "error_extending", "downloading", "uploading", "retyping", "extending",
)

AGENT_BINARIES = {
    "L3 agent": "neutron-l3-agent",
    "DHCP agent": "neutron-dhcp-agent",
    "Open vSwitch agent": "neutron-openvswitch-agent",
    "Metadata agent": "neutron-metadata-agent",
    "Linux bridge agent": "neutron-linuxbridge-agent",
    "Metering agent": "neutron-metering-agent",
}
_AGENT_TOPICS = {"L3 agent": "l3_agent", "DHCP agent": "dhcp_agent", "Open vSwitch agent": "N/A",
                 "Metadata agent": "N/A"}

_OLD_HV = re.compile(r"^(?P<moref>domain-c?\d+)\((?P<name>.*)\)$")


class SimError(Exception):
    """A bad admin request (unknown kind/object, invalid value): carries an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def load_scenario(scenario: Any) -> dict:
    """A scenario dict from a name (``demo``/``healthy``), a path, a JSON string or a dict."""
    if isinstance(scenario, dict):
        return scenario
    if isinstance(scenario, Path) or isinstance(scenario, str):
        s = str(scenario)
        if s.lstrip().startswith("{"):
            return json.loads(s)
        p = Path(s)
        if not p.exists() and (SCENARIO_DIR / f"{s}.json").exists():
            p = SCENARIO_DIR / f"{s}.json"
        if not p.exists():
            names = sorted(x.stem for x in SCENARIO_DIR.glob("*.json"))
            raise FileNotFoundError(f"no scenario {s!r} (built-in: {', '.join(names)}; or give a path)")
        return json.loads(p.read_text())
    raise TypeError(f"scenario must be a name, path or dict, not {type(scenario).__name__}")


class _Index:
    """Lookups derived from the whole state; rebuilt lazily after any mutation."""

    def __init__(self, st: State) -> None:
        o = st.objects
        self.svc_by_host = {}
        for s in o["compute_services"].values():
            if s.get("binary") == "nova-compute":
                self.svc_by_host.setdefault(s.get("host"), s)
        self.servers_by_node: dict[str, list] = defaultdict(list)
        for s in o["servers"].values():
            node = s.get("OS-EXT-SRV-ATTR:hypervisor_hostname")
            if node:
                self.servers_by_node[node].append(s)
        self.ports_by_device: dict[str, list] = defaultdict(list)
        for p in o["ports"].values():
            if p.get("device_id"):
                self.ports_by_device[p["device_id"]].append(p)
        self.fips_by_port: dict[str, list] = defaultdict(list)
        for f in o["floatingips"].values():
            if f.get("port_id"):
                self.fips_by_port[f["port_id"]].append(f)
        self.vols_by_server: dict[str, list] = defaultdict(list)
        for v in o["volumes"].values():
            for a in v.get("attachments") or ():
                if a.get("server_id"):
                    self.vols_by_server[a["server_id"]].append(v)
        self.subnets_by_net: dict[str, list] = defaultdict(list)
        for sn in o["subnets"].values():
            self.subnets_by_net[sn.get("network_id")].append(sn)
        self.agents_by_router: dict[str, list] = defaultdict(list)
        for a in o["agents"].values():
            for r in a.get("routers") or ():
                self.agents_by_router[r].append(a)


class State:
    """The simulated cloud. All access from server threads goes through ``lock``."""

    def __init__(self, scenario: Any = None) -> None:
        self.lock = threading.RLock()
        self._reset()
        if scenario is not None:
            self.load(load_scenario(scenario))

    # -- bookkeeping -------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.description = ""
        self.settings: dict[str, Any] = dict(DEFAULT_SETTINGS)
        self.objects: dict[str, dict[str, dict]] = {k: {} for k in KINDS}
        self.gens = dict.fromkeys(KINDS, 0)
        self.generation = 0
        self._seq = 0
        self._int_ids = dict.fromkeys(_INT_ID_KINDS, 0)
        self._names: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self._names_dirty: set[str] = set()
        self._alloc: dict[str, int] = {}
        self._ix: tuple[int, _Index] | None = None
        self._ordered: dict[str, tuple[int, list, dict]] = {}
        self.frags: dict[tuple, tuple[tuple, dict]] = {}

    def _touch(self, kind: str, key: str | None = None) -> None:
        self.gens[kind] += 1
        self.generation += 1
        if key is not None:
            for (k, _variant), (_sig, cache) in self.frags.items():
                if k == kind:
                    cache.pop(key, None)

    @staticmethod
    def key_field(kind: str) -> str:
        return "uuid" if kind == "migrations" else "id"

    def index(self) -> _Index:
        if self._ix is None or self._ix[0] != self.generation:
            self._ix = (self.generation, _Index(self))
        return self._ix[1]

    def ordered(self, kind: str) -> tuple[list, dict]:
        """All objects of a kind in insertion order, and key -> position."""
        cached = self._ordered.get(kind)
        if cached is None or cached[0] != self.gens[kind]:
            items = list(self.objects[kind].values())
            kf = self.key_field(kind)
            cached = (self.gens[kind], items, {o[kf]: i for i, o in enumerate(items)})
            self._ordered[kind] = cached
        return cached[1], cached[2]

    def frag_cache(self, kind: str, variant: tuple, deps: tuple[str, ...]) -> dict:
        """Per-object rendered JSON fragments, dropped when a kind in ``deps`` changes."""
        sig = tuple(self.gens[d] for d in deps)
        entry = self.frags.get((kind, variant))
        if entry is None or entry[0] != sig:
            entry = (sig, {})
            self.frags[(kind, variant)] = entry
        return entry[1]

    @property
    def neutron_backend(self) -> str:
        b = self.settings.get("neutron_backend")
        if b:
            return b
        return "ml2" if self.objects["agents"] else "nsx"

    @property
    def default_vif_type(self) -> str:
        return self.settings.get("vif_type") or ("ovs" if self.neutron_backend == "ml2" else "nsx")

    # -- load / dump -------------------------------------------------------------------------------

    def load(self, data: dict) -> None:
        with self.lock:
            self._reset()
            data = json.loads(json.dumps(load_scenario(data)))  # a private copy, much faster than deepcopy
            self.description = data.get("description", "")
            self.settings.update(data.get("settings") or {})
            now = time.time()
            if not any(p.get("name") == "admin" for p in data.get("projects") or ()):
                data["projects"] = [{"name": "admin"}] + list(data.get("projects") or ())
            for kind in KINDS:
                for raw in data.get(kind) or ():
                    self._put(kind, raw, None, now)
            if not self.objects["users"]:
                self._put("users", dict(DEFAULT_USER), None, now)

    def dump(self) -> dict:
        """The state in scenario format (absolute times): loadable again."""
        with self.lock:
            out: dict[str, Any] = {"description": self.description, "settings": dict(self.settings)}
            for kind in KINDS:
                out[kind] = copy.deepcopy(list(self.objects[kind].values()))
            return out

    # -- lookups -----------------------------------------------------------------------------------

    def _name_map(self, kind: str) -> dict[str, str]:
        if kind in self._names_dirty:
            m: dict[str, str] = {}
            for key, o in self.objects[kind].items():
                n = o.get("name")
                if n:
                    m.setdefault(n, key)
            self._names[kind] = m
            self._names_dirty.discard(kind)
        return self._names[kind]

    def find(self, kind: str, ref: Any) -> dict | None:
        """An object by key, name, or a kind-specific handle (``binary@host`` for services, a hypervisor's
        hostname/host/cluster name, a migration's integer id, an integer id)."""
        if kind not in self.objects:
            raise SimError(404, f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
        objs = self.objects[kind]
        ref_s = str(ref)
        if ref_s in objs:
            return objs[ref_s]
        key = self._name_map(kind).get(ref_s)
        if key is not None:
            return objs[key]
        if kind in SERVICE_KINDS + ("agents",) and "@" in ref_s:
            binary, _, host = ref_s.partition("@")
            for o in objs.values():
                if o.get("binary") == binary and o.get("host") == host:
                    return o
        if kind == "hypervisors":
            for o in objs.values():
                hn = o.get("hypervisor_hostname", "")
                m = _OLD_HV.match(hn)
                if ref_s in (hn, (o.get("service") or {}).get("host")) or (m and m.group("name") == ref_s):
                    return o
        if kind in _INT_ID_KINDS and ref_s.isdigit():
            field = "id" if kind == "migrations" else "_int_id"
            for o in objs.values():
                if str(o.get(field)) == ref_s:
                    return o
        return None

    def get(self, kind: str, ref: Any) -> dict:
        o = self.find(kind, ref)
        if o is None:
            raise SimError(404, f"no {kind} {ref!r}")
        return o

    def _ref(self, kind: str, value: Any) -> Any:
        """Resolve a reference by id or name; unknown values are kept (dangling references)."""
        if value is None or value == "" or not isinstance(value, str):
            return value
        if value in self.objects[kind]:
            return value
        key = self._name_map(kind).get(value)
        return key if key is not None else value

    def _ref_project(self, value: Any) -> Any:
        return self._ref("projects", value)

    def resolve_host(self, value: str) -> tuple[str | None, str | None]:
        """(compute host, hypervisor hostname) for a compute host, hypervisor hostname or cluster name."""
        if value is None or value == "":
            return None, None
        hv = self.find("hypervisors", value)
        if hv is not None:
            return (hv.get("service") or {}).get("host"), hv["hypervisor_hostname"]
        return value, value

    def default_project(self) -> str | None:
        for p in self.objects["projects"].values():
            if p["name"] != "admin":
                return p["id"]
        return next(iter(self.objects["projects"]), None)

    def admin_project(self) -> str | None:
        key = self._name_map("projects").get("admin")
        return key or next(iter(self.objects["projects"]), None)

    def admin_user(self) -> dict | None:
        return next(iter(self.objects["users"].values()), None)

    # -- mutations ---------------------------------------------------------------------------------

    def add(self, kind: str, obj: dict) -> dict:
        with self.lock:
            if kind not in self.objects:
                raise SimError(404, f"unknown kind {kind!r}")
            if not isinstance(obj, dict):
                raise SimError(400, "body must be a JSON object")
            kf = self.key_field(kind)
            if obj.get(kf) is not None and str(obj[kf]) in self.objects[kind]:
                raise SimError(409, f"{kind} {obj[kf]} exists")
            return self._put(kind, copy.deepcopy(obj), None, time.time())

    def patch(self, kind: str, ref: Any, changes: dict) -> dict:
        with self.lock:
            old = self.get(kind, ref)
            if not isinstance(changes, dict):
                raise SimError(400, "body must be a JSON object")
            kf = self.key_field(kind)
            if kf in changes and changes[kf] != old[kf]:
                raise SimError(400, f"cannot change {kf}")
            return self._put(kind, copy.deepcopy(changes), old, time.time())

    def delete(self, kind: str, ref: Any) -> dict:
        with self.lock:
            old = self.get(kind, ref)
            key = old[self.key_field(kind)]
            del self.objects[kind][key]
            self._names_dirty.add(kind)
            self._touch(kind, key)
            return old

    def migrate(self, server_ref: Any, to: str, mtype: str = "live-migration", status: str = "completed",
                **extra: Any) -> dict:
        """Move a server (on success) and record a migration row."""
        with self.lock:
            s = self.get("servers", server_ref)
            if not to:
                raise SimError(400, "'to' (a compute host or hypervisor hostname) is required")
            if mtype not in ("live-migration", "migration", "resize", "evacuation"):
                raise SimError(400, f"bad migration type {mtype!r}")
            dest_host, dest_node = self.resolve_host(to)
            now = time.time()
            row = {
                "instance_uuid": s["id"], "migration_type": mtype, "status": status,
                "source_compute": s.get("OS-EXT-SRV-ATTR:host"),
                "source_node": s.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
                "dest_compute": dest_host, "dest_node": dest_node,
                "created_at": extra.pop("created_at", now - 30), "updated_at": extra.pop("updated_at", now),
            }
            row.update(extra)
            mig = self._put("migrations", row, None, now)
            if status in ("completed", "confirmed", "finished", "done"):
                changes: dict[str, Any] = {"OS-EXT-SRV-ATTR:host": dest_host,
                                           "OS-EXT-SRV-ATTR:hypervisor_hostname": dest_node}
                if s.get("OS-EXT-STS:task_state") in ("migrating", "resize_migrating", "resize_migrated"):
                    changes["OS-EXT-STS:task_state"] = None
                if s.get("status") in ("MIGRATING", "RESIZE"):
                    changes["status"] = "VERIFY_RESIZE" if mtype in ("resize", "migration") else "ACTIVE"
                self._put("servers", changes, s, now)
                ix = self.index()
                for p in list(ix.ports_by_device.get(s["id"], ())):
                    if p.get("binding:host_id"):
                        self._put("ports", {"binding:host_id": dest_host}, p, now)
                for v in list(ix.vols_by_server.get(s["id"], ())):
                    atts = [dict(a, host_name=dest_host) if a.get("server_id") == s["id"] else a
                            for a in v.get("attachments") or ()]
                    self._put("volumes", {"attachments": atts}, v, now)
            return mig

    # -- the ingest pipeline -----------------------------------------------------------------------

    def _put(self, kind: str, raw: dict, old: dict | None, now: float) -> dict:
        if not isinstance(raw, dict):
            raise SimError(400, f"{kind}: objects must be JSON objects, not {raw!r}")
        changes = getattr(self, f"_in_{kind}", self._in_default)(raw, old, now)
        for field, fmt in TIME_FIELDS.get(kind, {}).items():
            if field in changes and changes[field] is not None:
                changes[field] = fmt_time(to_epoch(changes[field], now), fmt)
        upd = _UPDATED_FIELD.get(kind)
        if old is not None and upd and upd not in changes:
            changes[upd] = fmt_time(now, TIME_FIELDS[kind][upd])
        obj = dict(old) if old is not None else {}
        obj.update(changes)
        if old is None:
            self._seq += 1
            if kind in _INT_ID_KINDS:
                field = "id" if kind == "migrations" else "_int_id"
                if obj.get(field) is None:
                    self._int_ids[kind] += 1
                    obj[field] = self._int_ids[kind]
                else:
                    obj[field] = int(obj[field])
                    self._int_ids[kind] = max(self._int_ids[kind], obj[field])
        getattr(self, f"_fill_{kind}", self._fill_default)(obj, old is None, now)
        kf = self.key_field(kind)
        if obj.get(kf) is None:
            obj[kf] = det_uuid(kind, obj.get("name") or f"#{self._seq}")
        obj[kf] = str(obj[kf])
        key = obj[kf]
        if old is None and key in self.objects[kind]:
            raise SimError(409, f"duplicate {kind} {key} (give a unique name or id)")
        self.objects[kind][key] = obj
        if old is None and obj.get("name"):
            self._names[kind].setdefault(obj["name"], key)
        elif old is not None and obj.get("name") != old.get("name"):
            self._names_dirty.add(kind)
        self._touch(kind, key)
        getattr(self, f"_after_{kind}", lambda o, n, t: None)(obj, old is None, now)
        return obj

    @staticmethod
    def _in_default(raw: dict, old: dict | None, now: float) -> dict:
        return raw

    @staticmethod
    def _fill_default(obj: dict, new: bool, now: float) -> None:
        return None

    def _project_pair(self, c: dict, new: bool) -> None:
        """Neutron objects carry project_id and tenant_id: keep them equal."""
        if "project" in c:
            c["project_id"] = c.pop("project")
        if "tenant_id" in c and "project_id" not in c:
            c["project_id"] = c["tenant_id"]
        if "project_id" in c:
            c["project_id"] = c["tenant_id"] = self._ref_project(c["project_id"])

    # projects / users / flavors

    def _fill_projects(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"project-{self._seq}")
            o.setdefault("domain_id", "default")
            o.setdefault("description", "")
            o.setdefault("enabled", True)
            o.setdefault("is_domain", False)
            o.setdefault("parent_id", o["domain_id"])
            o.setdefault("tags", [])
            o.setdefault("options", {})

    def _in_users(self, c: dict, old: dict | None, now: float) -> dict:
        if "project" in c:
            c["default_project_id"] = c.pop("project")
        if "default_project_id" in c:
            c["default_project_id"] = self._ref_project(c["default_project_id"])
        return c

    def _fill_users(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", "admin")
            o.setdefault("password", "vio-sim")
            o.setdefault("domain_id", "default")
            o.setdefault("enabled", True)
            o.setdefault("default_project_id", self.admin_project())

    def _in_flavors(self, c: dict, old: dict | None, now: float) -> dict:
        if "ephemeral" in c:
            c["OS-FLV-EXT-DATA:ephemeral"] = c.pop("ephemeral")
        if "is_public" in c:
            c["os-flavor-access:is_public"] = c.pop("is_public")
        return c

    def _fill_flavors(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"flavor-{self._seq}")
            o.setdefault("vcpus", 1)
            o.setdefault("ram", 2048)
            o.setdefault("disk", 20)
            o.setdefault("OS-FLV-EXT-DATA:ephemeral", 0)
            o.setdefault("swap", "")
            o.setdefault("rxtx_factor", 1.0)
            o.setdefault("os-flavor-access:is_public", True)
            o.setdefault("OS-FLV-DISABLED:disabled", False)
            o.setdefault("description", None)
            o.setdefault("extra_specs", {})

    # services

    def _in_compute_services(self, c: dict, old: dict | None, now: float) -> dict:
        return self._in_service(c, old, now)

    def _in_volume_services(self, c: dict, old: dict | None, now: float) -> dict:
        return self._in_service(c, old, now)

    @staticmethod
    def _in_service(c: dict, old: dict | None, now: float) -> dict:
        if "disabled" in c:
            c["status"] = "disabled" if c.pop("disabled") else "enabled"
        going_down = c.get("state") == "down" or c.get("forced_down") is True
        was_up = old is None or (old.get("state") != "down" and not old.get("forced_down"))
        if going_down and was_up and "updated_at" not in c:
            c["updated_at"] = now - (600 if old is None else 60)
        if c.get("status") == "enabled" and "disabled_reason" not in c:
            c["disabled_reason"] = None
        return c

    def _fill_service(self, o: dict, new: bool, default_binary: str, zone: str) -> None:
        if new:
            o.setdefault("binary", default_binary)
            o.setdefault("host", f"host-{self._seq}")
            o.setdefault("zone", zone)
            o.setdefault("status", "enabled")
            o.setdefault("state", "up")
            o.setdefault("disabled_reason", None)
            o.setdefault("updated_at", None)
        if o.get("id") is None:
            o["id"] = det_uuid(o["binary"], o["host"])

    def _fill_compute_services(self, o: dict, new: bool, now: float) -> None:
        zone = "nova" if o.get("binary", "nova-compute") == "nova-compute" else "internal"
        self._fill_service(o, new, "nova-compute", zone)
        o.setdefault("forced_down", False)

    def _fill_volume_services(self, o: dict, new: bool, now: float) -> None:
        self._fill_service(o, new, "cinder-volume", "nova")

    # hypervisors

    def _in_hypervisors(self, c: dict, old: dict | None, now: float) -> dict:
        if "host" in c:
            c["service"] = {"host": c.pop("host")}
        if isinstance(c.get("service"), dict):
            c["service"] = {"host": c["service"].get("host")}
        if old is not None:  # write-through of state/status to the nova-compute service
            through = {k: c.pop(k) for k in ("state", "status", "disabled_reason", "forced_down") if k in c}
            svc = self._compute_service((old.get("service") or {}).get("host"))
            if through and svc is not None:
                self._put("compute_services", through, svc, now)
            elif through:
                c.update({"_" + k: v for k, v in through.items()})
        else:
            for k in ("state", "status", "disabled_reason"):
                if k in c:
                    c["_" + k] = c.pop(k)
        return c

    def _compute_service(self, host: str | None) -> dict | None:
        for s in self.objects["compute_services"].values():
            if s.get("binary") == "nova-compute" and s.get("host") == host:
                return s
        return None

    def _fill_hypervisors(self, o: dict, new: bool, now: float) -> None:
        if new:
            n = len(self.objects["hypervisors"]) + 1
            o.setdefault("hypervisor_hostname", f"domain-c{6 + 2 * n}.{self.settings['vcenter_uuid']}")
            o.setdefault("service", {"host": f"vio-compute-{n:02d}"})
            o.setdefault("hypervisor_type", "VMware vCenter Server")
            o.setdefault("hypervisor_version", 7000003)
            o.setdefault("host_ip", self.settings.get("vcenter_ip"))
            o.setdefault("vcpus", 128)
            o.setdefault("memory_mb", 524288)
            o.setdefault("local_gb", 10240)
            o.setdefault("cpu_info", "")
        if o.get("id") is None:
            o["id"] = det_uuid("hypervisors", o["hypervisor_hostname"])

    def _after_hypervisors(self, o: dict, new: bool, now: float) -> None:
        host = (o.get("service") or {}).get("host")
        if host and self._compute_service(host) is None:
            svc: dict[str, Any] = {"binary": "nova-compute", "host": host}
            for k in ("state", "status", "disabled_reason"):
                if o.get("_" + k) is not None:
                    svc[k] = o.pop("_" + k)
            self._put("compute_services", svc, None, now)

    # networks / subnets

    def _in_networks(self, c: dict, old: dict | None, now: float) -> dict:
        self._project_pair(c, old is None)
        if "external" in c:
            c["router:external"] = bool(c.pop("external"))
        return c

    def _fill_networks(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"net-{self._seq}")
            o.setdefault("status", "ACTIVE")
            o.setdefault("admin_state_up", True)
            o.setdefault("shared", False)
            o.setdefault("router:external", False)
            if "project_id" not in o:
                o["project_id"] = o["tenant_id"] = self.admin_project() if o["router:external"] else \
                    self.default_project()
            nsx = self.neutron_backend == "nsx"
            o.setdefault("mtu", 1500)
            o.setdefault("provider:network_type", "flat" if o["router:external"] else ("geneve" if nsx
                                                                                       else "vxlan"))
            o.setdefault("provider:physical_network", "external" if o["router:external"] else None)
            o.setdefault("provider:segmentation_id", None)
            o.setdefault("availability_zones", ["nova"])
            o.setdefault("availability_zone_hints", [])
            o.setdefault("description", "")
            o.setdefault("port_security_enabled", True)
            o.setdefault("is_default", False)
            o.setdefault("ipv4_address_scope", None)
            o.setdefault("ipv6_address_scope", None)
            o.setdefault("revision_number", 1)
            o.setdefault("tags", [])
            o.setdefault("created_at", fmt_time(now - 90 * 86400, FMT_Z))
            o.setdefault("updated_at", o["created_at"])
        o.pop("subnets", None)  # derived

    def _after_networks(self, o: dict, new: bool, now: float) -> None:
        cidr = o.pop("cidr", None)
        if cidr:
            sub = {"name": f"{o['name']}-subnet", "network_id": o["id"], "cidr": cidr,
                   "project_id": o["project_id"], "created_at": o.get("created_at")}
            self._put("subnets", sub, None, now)

    def _in_subnets(self, c: dict, old: dict | None, now: float) -> dict:
        self._project_pair(c, old is None)
        if "network" in c:
            c["network_id"] = c.pop("network")
        if "network_id" in c:
            c["network_id"] = self._ref("networks", c["network_id"])
        return c

    def _fill_subnets(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"subnet-{self._seq}")
            net = ipaddress.ip_network(o.setdefault("cidr", "10.0.0.0/24"), strict=False)
            o["cidr"] = str(net)
            o.setdefault("ip_version", net.version)
            o.setdefault("gateway_ip", str(net.network_address + 1))
            o.setdefault(
                "allocation_pools",
                [{"start": str(net.network_address + 2), "end": str(net.broadcast_address - 1)}],
            )
            o.setdefault("enable_dhcp", True)
            o.setdefault("dns_nameservers", [])
            o.setdefault("host_routes", [])
            parent = self.objects["networks"].get(o.get("network_id")) or {}
            if "project_id" not in o:
                o["project_id"] = o["tenant_id"] = parent.get("project_id")
            o.setdefault("description", "")
            o.setdefault("ipv6_ra_mode", None)
            o.setdefault("ipv6_address_mode", None)
            o.setdefault("subnetpool_id", None)
            o.setdefault("service_types", [])
            o.setdefault("revision_number", 0)
            o.setdefault("tags", [])
            o.setdefault("created_at", parent.get("created_at") or fmt_time(now - 90 * 86400, FMT_Z))
            o.setdefault("updated_at", o["created_at"])

    def allocate_ip(self, network_id: str | None, subnet_id: str | None = None) -> dict | None:
        """The next free fixed ip ``{subnet_id, ip_address}`` on a network (or subnet)."""
        subnets = [
            sn
            for sn in self.objects["subnets"].values()
            if (subnet_id and sn["id"] == subnet_id) or (not subnet_id and sn["network_id"] == network_id)
        ]
        if not subnets:
            return None
        sn = subnets[0]
        net = ipaddress.ip_network(sn["cidr"], strict=False)
        if sn["id"] not in self._alloc:
            used = set()
            for p in self.objects["ports"].values():
                for f in p.get("fixed_ips") or ():
                    if f.get("subnet_id") == sn["id"]:
                        used.add(f.get("ip_address"))
            for f in self.objects["floatingips"].values():
                used.add(f.get("floating_ip_address"))
            self._alloc[sn["id"]] = 10
            while str(net.network_address + self._alloc[sn["id"]]) in used:
                self._alloc[sn["id"]] += 1
        off = self._alloc[sn["id"]]
        self._alloc[sn["id"]] = off + 1
        if off >= net.num_addresses - 1:
            return None
        return {"subnet_id": sn["id"], "ip_address": str(net.network_address + off)}

    # routers

    def _in_routers(self, c: dict, old: dict | None, now: float) -> dict:
        self._project_pair(c, old is None)
        ext = c.pop("external_network", None)
        if ext:
            c["external_gateway_info"] = {"network_id": ext}
        gw = c.get("external_gateway_info")
        if isinstance(gw, dict) and gw.get("network_id"):
            gw = dict(gw)
            gw["network_id"] = self._ref("networks", gw["network_id"])
            gw.setdefault("enable_snat", True)
            if not gw.get("external_fixed_ips"):
                ip = self.allocate_ip(gw["network_id"])
                gw["external_fixed_ips"] = [ip] if ip else []
            else:
                gw["external_fixed_ips"] = [
                    dict(f, subnet_id=self._ref("subnets", f.get("subnet_id")))
                    for f in gw["external_fixed_ips"]
                ]
            c["external_gateway_info"] = gw
        return c

    def _fill_routers(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"router-{self._seq}")
            o.setdefault("status", "ACTIVE")
            o.setdefault("admin_state_up", True)
            o.setdefault("ha", False)
            o.setdefault("distributed", False)
            o.setdefault("external_gateway_info", None)
            if "project_id" not in o:
                o["project_id"] = o["tenant_id"] = self.default_project()
            o.setdefault("routes", [])
            o.setdefault("description", "")
            o.setdefault("availability_zones", ["nova"])
            o.setdefault("availability_zone_hints", [])
            o.setdefault("flavor_id", None)
            o.setdefault("revision_number", 1)
            o.setdefault("tags", [])
            o.setdefault("created_at", fmt_time(now - 60 * 86400, FMT_Z))
            o.setdefault("updated_at", o["created_at"])

    # servers

    def _flavor_snapshot(self, ref: Any) -> dict:
        if isinstance(ref, dict):
            name = ref.get("original_name") or ref.get("name") or ref.get("id")
            f = self.find("flavors", name) if name is not None else None
            if f is None:
                return {
                    "id": ref.get("id") or det_uuid("flavors", name),
                    "original_name": name,
                    "vcpus": ref.get("vcpus", 1),
                    "ram": ref.get("ram", 2048),
                    "disk": ref.get("disk", 20),
                    "ephemeral": ref.get("ephemeral", 0),
                    "swap": ref.get("swap", 0),
                    "extra_specs": ref.get("extra_specs", {}),
                }
        else:
            f = self.find("flavors", ref)
            if f is None:
                raise SimError(400, f"unknown flavor {ref!r}")
        return {
            "id": f["id"],
            "original_name": f["name"],
            "vcpus": f["vcpus"],
            "ram": f["ram"],
            "disk": f["disk"],
            "ephemeral": f.get("OS-FLV-EXT-DATA:ephemeral", 0),
            "swap": f.get("swap") or 0,
            "extra_specs": dict(f.get("extra_specs") or {}),
        }

    def _in_servers(self, c: dict, old: dict | None, now: float) -> dict:
        _expand(c, (
            ("power_state", "OS-EXT-STS:power_state"),
            ("task_state", "OS-EXT-STS:task_state"),
            ("vm_state", "OS-EXT-STS:vm_state"),
            ("availability_zone", "OS-EXT-AZ:availability_zone"),
            ("instance_name", "OS-EXT-SRV-ATTR:instance_name"),
            ("launched_at", "OS-SRV-USG:launched_at"),
            ("hypervisor_hostname", "OS-EXT-SRV-ATTR:hypervisor_hostname"),
        ))
        if "project" in c:
            c["tenant_id"] = c.pop("project")
        if "project_id" in c:
            c["tenant_id"] = c.pop("project_id")
        if "tenant_id" in c:
            c["tenant_id"] = self._ref_project(c["tenant_id"])
        if "host" in c:
            host, node = self.resolve_host(c.pop("host"))
            c["OS-EXT-SRV-ATTR:host"] = host
            c.setdefault("OS-EXT-SRV-ATTR:hypervisor_hostname", node)
        elif "OS-EXT-SRV-ATTR:host" in c and "OS-EXT-SRV-ATTR:hypervisor_hostname" not in c:
            c["OS-EXT-SRV-ATTR:hypervisor_hostname"] = self.resolve_host(c["OS-EXT-SRV-ATTR:host"])[1]
        if "flavor" in c:
            c["flavor"] = self._flavor_snapshot(c["flavor"])
        if "status" in c:
            st = str(c["status"]).upper()
            c["status"] = st
            if st not in SERVER_STATUS:
                raise SimError(400, f"unknown server status {st!r}")
            vm, task, power = SERVER_STATUS[st]
            c.setdefault("OS-EXT-STS:vm_state", vm)
            c.setdefault("OS-EXT-STS:task_state", task)
            c.setdefault("OS-EXT-STS:power_state", power)
            if st == "SHELVED_OFFLOADED":
                c.setdefault("OS-EXT-SRV-ATTR:host", None)
                c.setdefault("OS-EXT-SRV-ATTR:hypervisor_hostname", None)
        if isinstance(c.get("fault"), dict) and c["fault"].get("created") is not None:
            c["fault"] = dict(c["fault"], created=fmt_time(to_epoch(c["fault"]["created"], now), FMT_Z))
        return c

    def _fill_servers(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"server-{self._seq}")
            st = o.setdefault("status", "ACTIVE")
            vm, task, power = SERVER_STATUS[st]
            o.setdefault("OS-EXT-STS:vm_state", vm)
            o.setdefault("OS-EXT-STS:task_state", task)
            o.setdefault("OS-EXT-STS:power_state", power)
            if not o.get("tenant_id"):
                o["tenant_id"] = self.default_project()
            if not o.get("user_id"):
                u = self.admin_user()
                o["user_id"] = u["id"] if u else det_uuid("users", "admin")
            if "flavor" not in o:
                f = next(iter(self.objects["flavors"].values()), None)
                o["flavor"] = self._flavor_snapshot(f["id"] if f else {"original_name": "m1.small"})
            o.setdefault("image", {"id": det_uuid("images", "ubuntu-22.04")})
            o.setdefault("metadata", {})
            o.setdefault("created", fmt_time(now - 30 * 86400, FMT_Z))
            o.setdefault("updated", o["created"])
            if st not in ("BUILD", "ERROR") or o.get("OS-EXT-SRV-ATTR:host"):
                o.setdefault("OS-SRV-USG:launched_at", fmt_time(to_epoch(o["created"], now) + 42, FMT_US))
            o.setdefault("OS-SRV-USG:launched_at", None)
            o.setdefault("OS-SRV-USG:terminated_at", None)
            o.setdefault("OS-EXT-SRV-ATTR:host", None)
            if "OS-EXT-SRV-ATTR:hypervisor_hostname" not in o:
                o["OS-EXT-SRV-ATTR:hypervisor_hostname"] = self.resolve_host(o["OS-EXT-SRV-ATTR:host"])[1]
            o.setdefault("OS-EXT-SRV-ATTR:instance_name", f"instance-{self._seq:08x}")
            o.setdefault("OS-EXT-AZ:availability_zone", "nova")
            o.setdefault("key_name", None)
            o.setdefault("description", None)
            o.setdefault("tags", [])
            o.setdefault("locked", False)
            o.setdefault("security_groups", [{"name": "default"}])

    # ports / floating ips

    def _in_ports(self, c: dict, old: dict | None, now: float) -> dict:
        self._project_pair(c, old is None)
        _expand(c, (
            ("network", "network_id"),
            ("device", "device_id"),
            ("host", "binding:host_id"),
            ("vif_type", "binding:vif_type"),
            ("vnic_type", "binding:vnic_type"),
        ))
        if "network_id" in c:
            c["network_id"] = self._ref("networks", c["network_id"])
        if c.get("device_id"):
            dev = c["device_id"]
            owner = c.get("device_owner") or (old or {}).get("device_owner") or ""
            if owner.startswith("network:router"):
                c["device_id"] = self._ref("routers", dev)
            elif owner.startswith("compute:"):
                c["device_id"] = self._ref("servers", dev)
            else:
                r = self._ref("servers", dev)
                c["device_id"] = r if r != dev else self._ref("routers", dev)
        if "ip" in c:
            ips = c.pop("ip")
            ips = ips if isinstance(ips, list) else [ips]
            c["fixed_ips"] = [{"ip_address": ip} for ip in ips]
        if "fixed_ips" in c:
            out = []
            net_id = c.get("network_id") or (old or {}).get("network_id")
            for f in c["fixed_ips"] or ():
                f = dict(f)
                if f.get("subnet_id"):
                    f["subnet_id"] = self._ref("subnets", f["subnet_id"])
                elif f.get("ip_address"):
                    f["subnet_id"] = self._subnet_for(net_id, f["ip_address"])
                if not f.get("ip_address"):
                    got = self.allocate_ip(net_id, f.get("subnet_id"))
                    f["ip_address"] = got["ip_address"] if got else None
                out.append(f)
            c["fixed_ips"] = out
        return c

    def _subnet_for(self, network_id: str | None, ip: str) -> str | None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        for sn in self.objects["subnets"].values():
            if sn.get("network_id") == network_id and addr in ipaddress.ip_network(sn["cidr"], strict=False):
                return sn["id"]
        return None

    def _fill_ports(self, o: dict, new: bool, now: float) -> None:
        if new:
            dev = o.setdefault("device_id", "")
            if "device_owner" not in o:
                if dev in self.objects["servers"]:
                    az = self.objects["servers"][dev].get("OS-EXT-AZ:availability_zone") or "nova"
                    o["device_owner"] = f"compute:{az}"
                elif dev in self.objects["routers"]:
                    o["device_owner"] = "network:router_interface"
                else:
                    o["device_owner"] = ""
            owner = o["device_owner"]
            if not o.get("network_id"):
                raise SimError(400, "a port needs a network_id")
            if owner == "network:dhcp" and not dev:
                o["device_id"] = "dhcp" + det_uuid("dhcp", o["network_id"]) + "-" + o["network_id"]
            if "project_id" not in o:
                server = self.objects["servers"].get(o["device_id"])
                net = self.objects["networks"].get(o["network_id"]) or {}
                pid = server["tenant_id"] if server else net.get("project_id")
                if owner in ("network:router_gateway", "network:floatingip"):
                    pid = "" if owner == "network:router_gateway" else pid
                o["project_id"] = o["tenant_id"] = pid
            o.setdefault("name", "")
            if "binding:host_id" not in o:
                server = self.objects["servers"].get(o["device_id"])
                if server is not None:
                    o["binding:host_id"] = server.get("OS-EXT-SRV-ATTR:host") or ""
                elif owner.startswith("network:") and owner != "network:floatingip":
                    o["binding:host_id"] = self.settings.get("network_host") or ""
                else:
                    o["binding:host_id"] = ""
            if "binding:vif_type" not in o:
                o["binding:vif_type"] = self.default_vif_type if o["binding:host_id"] else "unbound"
            if "status" not in o:
                bound = o["binding:host_id"] and o["binding:vif_type"] not in ("unbound", "binding_failed")
                o["status"] = "ACTIVE" if bound else ("N/A" if owner == "network:floatingip" else "DOWN")
            o.setdefault("admin_state_up", True)
            if "fixed_ips" not in o:
                ip = self.allocate_ip(o["network_id"])
                o["fixed_ips"] = [ip] if ip else []
            o.setdefault("binding:vnic_type", "normal")
            o.setdefault("binding:profile", {})
            o.setdefault("binding:vif_details", {})
            o.setdefault(
                "security_groups",
                []
                if owner.startswith("network:")
                else [det_uuid("security_groups", o["project_id"], "default")],
            )
            o.setdefault("allowed_address_pairs", [])
            o.setdefault("extra_dhcp_opts", [])
            o.setdefault("description", "")
            o.setdefault("port_security_enabled", not owner.startswith("network:"))
            o.setdefault("dns_name", "")
            o.setdefault("dns_assignment", [])
            o.setdefault("ip_allocation", "immediate")
            o.setdefault("propagate_uplink_status", False)
            o.setdefault("revision_number", 1)
            o.setdefault("tags", [])
            server = self.objects["servers"].get(o["device_id"])
            o.setdefault(
                "created_at",
                fmt_time(to_epoch(server["created"], now), FMT_Z)
                if server
                else fmt_time(now - 60 * 86400, FMT_Z),
            )
            o.setdefault("updated_at", o["created_at"])
        if o.get("id") is None:
            o["id"] = det_uuid(
                "ports", o.get("name") or f"#{self._seq}", o.get("device_id"), o.get("network_id")
            )
        o.setdefault("mac_address", det_mac(o["id"]))

    def _in_floatingips(self, c: dict, old: dict | None, now: float) -> dict:
        self._project_pair(c, old is None)
        _expand(c, (
            ("port", "port_id"),
            ("network", "floating_network_id"),
            ("ip", "floating_ip_address"),
            ("router", "router_id"),
        ))
        if c.get("port_id"):
            c["port_id"] = self._ref("ports", c["port_id"])
        if c.get("floating_network_id"):
            c["floating_network_id"] = self._ref("networks", c["floating_network_id"])
        if c.get("router_id"):
            c["router_id"] = self._ref("routers", c["router_id"])
        return c

    def _fill_floatingips(self, o: dict, new: bool, now: float) -> None:
        port = self.objects["ports"].get(o.get("port_id") or "")
        if new:
            if not o.get("floating_network_id"):
                ext = next((n for n in self.objects["networks"].values() if n.get("router:external")), None)
                o["floating_network_id"] = ext["id"] if ext else None
            if not o.get("floating_ip_address"):
                ip = self.allocate_ip(o["floating_network_id"])
                o["floating_ip_address"] = ip["ip_address"] if ip else None
            if "project_id" not in o:
                o["project_id"] = o["tenant_id"] = port["project_id"] if port else self.default_project()
            o.setdefault("status", "ACTIVE" if port else "DOWN")
            o.setdefault("description", "")
            o.setdefault("port_forwardings", [])
            o.setdefault("qos_policy_id", None)
            o.setdefault("revision_number", 1)
            o.setdefault("tags", [])
            o.setdefault("dns_domain", "")
            o.setdefault("dns_name", "")
            o.setdefault("created_at", fmt_time(now - 30 * 86400, FMT_Z))
            o.setdefault("updated_at", o["created_at"])
            o.setdefault("port_id", None)
        if port is not None and not o.get("fixed_ip_address"):
            fips = port.get("fixed_ips") or []
            o["fixed_ip_address"] = fips[0]["ip_address"] if fips else None
        if port is not None and not o.get("router_id"):
            for p in self.objects["ports"].values():
                if p.get("device_owner") == "network:router_interface" and p.get("network_id") == port.get(
                    "network_id"
                ):
                    o["router_id"] = p.get("device_id")
                    break
        o.setdefault("fixed_ip_address", None)
        o.setdefault("router_id", None)
        if o.get("id") is None:
            o["id"] = det_uuid("floatingips", o.get("floating_ip_address"))

    # volumes

    def _in_volumes(self, c: dict, old: dict | None, now: float) -> dict:
        if "project" in c:
            c["os-vol-tenant-attr:tenant_id"] = c.pop("project")
        if "project_id" in c:
            c["os-vol-tenant-attr:tenant_id"] = c.pop("project_id")
        if "os-vol-tenant-attr:tenant_id" in c:
            c["os-vol-tenant-attr:tenant_id"] = self._ref_project(c["os-vol-tenant-attr:tenant_id"])
        if "host" in c:
            c["os-vol-host-attr:host"] = c.pop("host")
        if "bootable" in c and isinstance(c["bootable"], bool):
            c["bootable"] = "true" if c["bootable"] else "false"
        if "attached_to" in c:
            at = c.pop("attached_to")
            at = [] if at is None else (at if isinstance(at, list) else [at])
            c["attachments"] = [{"server_id": s} for s in at]
        if "status" in c and c["status"] not in VOLUME_STATUSES:
            raise SimError(400, f"unknown volume status {c['status']!r}")
        if "attachments" in c:
            c["attachments"] = list(c["attachments"] or [])
            c["_attachments_dirty"] = True
        return c

    def _fill_volumes(self, o: dict, new: bool, now: float) -> None:
        if new:
            o.setdefault("name", f"volume-{self._seq}")
            o.setdefault("attachments", [])
            o.setdefault("status", "in-use" if o["attachments"] else "available")
            o.setdefault("size", 10)
            if not o.get("os-vol-host-attr:host"):
                cv = next(
                    (
                        s
                        for s in self.objects["volume_services"].values()
                        if s.get("binary") == "cinder-volume"
                    ),
                    None,
                )
                o["os-vol-host-attr:host"] = f"{cv['host']}#vmdk" if cv else "vio-controller-01@vmdk#vmdk"
            if not o.get("os-vol-tenant-attr:tenant_id"):
                o["os-vol-tenant-attr:tenant_id"] = self.default_project()
            o.setdefault("user_id", (self.admin_user() or {}).get("id"))
            o.setdefault("volume_type", "vmdk")
            o.setdefault("bootable", "false")
            o.setdefault("availability_zone", "nova")
            o.setdefault("description", None)
            o.setdefault("metadata", {})
            o.setdefault("multiattach", False)
            o.setdefault("encrypted", False)
            o.setdefault("replication_status", None)
            o.setdefault("snapshot_id", None)
            o.setdefault("source_volid", None)
            o.setdefault("consistencygroup_id", None)
            o.setdefault("os-vol-mig-status-attr:migstat", None)
            o.setdefault("os-vol-mig-status-attr:name_id", None)
            o.setdefault("created_at", fmt_time(now - 20 * 86400, FMT_US))
            o.setdefault("updated_at", o["created_at"])
        if o.get("id") is None:
            o["id"] = det_uuid("volumes", o.get("name") or f"#{self._seq}")
        if o.pop("_attachments_dirty", False) or new:
            atts = []
            for a in o.get("attachments") or ():
                a = dict(a) if isinstance(a, dict) else {"server_id": a}
                a["server_id"] = self._ref("servers", a.get("server_id"))
                a.setdefault("attachment_id", det_uuid("attachments", o["id"], a["server_id"]))
                a["volume_id"] = o["id"]
                a["id"] = o["id"]
                a.setdefault("device", f"/dev/sd{'bcdefghijklmnop'[len(atts) % 15]}")
                server = self.objects["servers"].get(a["server_id"])
                a.setdefault("host_name", server.get("OS-EXT-SRV-ATTR:host") if server else None)
                a["attached_at"] = fmt_time(
                    to_epoch(a.get("attached_at") or o.get("created_at"), now), FMT_US
                )
                atts.append(a)
            o["attachments"] = atts

    # agents / migrations

    def _in_agents(self, c: dict, old: dict | None, now: float) -> dict:
        if "routers" in c:
            c["routers"] = [self._ref("routers", r) for r in c["routers"] or ()]
        if isinstance(c.get("ha_states"), dict):
            c["ha_states"] = {self._ref("routers", k): v for k, v in c["ha_states"].items()}
        was_alive = old is None or old.get("alive", True)
        if c.get("alive") is False and was_alive and "heartbeat_timestamp" not in c:
            c["heartbeat_timestamp"] = now - (600 if old is None else 120)
        return c

    def _fill_agents(self, o: dict, new: bool, now: float) -> None:
        if new:
            at = o.setdefault("agent_type", "L3 agent")
            o.setdefault("binary", AGENT_BINARIES.get(at, "neutron-agent"))
            o.setdefault("host", self.settings.get("network_host") or "vio-network-01")
            o.setdefault("alive", True)
            o.setdefault("admin_state_up", True)
            o.setdefault("availability_zone", "nova" if at in ("L3 agent", "DHCP agent") else None)
            o.setdefault("topic", _AGENT_TOPICS.get(at, "N/A"))
            o.setdefault("configurations", {})
            o.setdefault("description", None)
            o.setdefault("resources_synced", None)
            o.setdefault("created_at", fmt_time(now - 120 * 86400, FMT_SPACE))
            o.setdefault("started_at", fmt_time(now - 7 * 86400, FMT_SPACE))
            o.setdefault("heartbeat_timestamp", None)
            o.setdefault("routers", [])
        if o.get("id") is None:
            o["id"] = det_uuid("agents", o["binary"], o["host"])

    def _in_migrations(self, c: dict, old: dict | None, now: float) -> dict:
        _expand(c, (("server", "instance_uuid"), ("type", "migration_type")))
        if "instance_uuid" in c:
            c["instance_uuid"] = self._ref("servers", c["instance_uuid"])
        for short, pre in (("from", "source"), ("to", "dest")):
            if short in c:
                host, node = self.resolve_host(c.pop(short))
                c.setdefault(f"{pre}_compute", host)
                c.setdefault(f"{pre}_node", node)
        for pre in ("source", "dest"):
            if c.get(f"{pre}_compute") and f"{pre}_node" not in c:
                c[f"{pre}_node"] = self.resolve_host(c[f"{pre}_compute"])[1]
        return c

    def _fill_migrations(self, o: dict, new: bool, now: float) -> None:
        if new:
            server = self.objects["servers"].get(o.get("instance_uuid") or "") or {}
            o.setdefault("instance_uuid", None)
            o.setdefault("migration_type", "live-migration")
            o.setdefault("status", "completed")
            o.setdefault("source_compute", server.get("OS-EXT-SRV-ATTR:host"))
            o.setdefault("source_node", server.get("OS-EXT-SRV-ATTR:hypervisor_hostname"))
            o.setdefault("dest_compute", None)
            o.setdefault("dest_node", None)
            o.setdefault("dest_host", self.settings.get("vcenter_ip") if o["dest_compute"] else None)
            o.setdefault("source_region", self.settings.get("region"))
            o.setdefault("dest_region", self.settings.get("region"))
            o.setdefault("created_at", fmt_time(now, FMT_US))
            o.setdefault("updated_at", o["created_at"])
            flavor = server.get("flavor") or {}
            o.setdefault("old_instance_type_id", flavor.get("id"))
            o.setdefault("new_instance_type_id", flavor.get("id"))
            o.setdefault("project_id", server.get("tenant_id"))
            o.setdefault("user_id", server.get("user_id"))
            o.setdefault("hidden", False)
        if o.get("uuid") is None:
            o["uuid"] = det_uuid("migrations", o["id"])

    # -- derived fields / renderers ----------------------------------------------------------------

    def service_state(self, s: dict | None) -> str:
        if s is None:
            return "down"
        return "down" if s.get("forced_down") or s.get("state") == "down" else "up"

    def service_updated_at(self, s: dict, fmt: str = FMT_US) -> str | None:
        if self.service_state(s) == "up":
            return fmt_time(int(time.time()) - 3, fmt)
        return s.get("updated_at")

    def host_status(self, server: dict, ix: _Index) -> str:
        host = server.get("OS-EXT-SRV-ATTR:host")
        if not host:
            return ""
        svc = ix.svc_by_host.get(host)
        if svc is None:
            return "UNKNOWN"
        if self.service_state(svc) == "down":
            return "DOWN"
        if svc.get("status") == "disabled":
            return "MAINTENANCE"
        return "UP"

    def addresses(self, server: dict, ix: _Index) -> dict:
        if server.get("addresses") is not None:
            return server["addresses"]
        nets = self.objects["networks"]
        out: dict[str, list] = {}
        for p in ix.ports_by_device.get(server["id"], ()):
            if not str(p.get("device_owner", "")).startswith("compute:"):
                continue
            net = nets.get(p.get("network_id"))
            lst = out.setdefault(net["name"] if net else p.get("network_id"), [])
            for f in p.get("fixed_ips") or ():
                ip = f.get("ip_address") or ""
                lst.append(
                    {
                        "version": 6 if ":" in ip else 4,
                        "addr": ip,
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": p.get("mac_address"),
                    }
                )
            for fip in ix.fips_by_port.get(p["id"], ()):
                ip = fip.get("floating_ip_address") or ""
                lst.append(
                    {
                        "version": 6 if ":" in ip else 4,
                        "addr": ip,
                        "OS-EXT-IPS:type": "floating",
                        "OS-EXT-IPS-MAC:mac_addr": p.get("mac_address"),
                    }
                )
        return out

    def render_server(self, s: dict, mv: tuple[int, int], base: str, ix: _Index) -> dict:
        sid = s["id"]
        host = s.get("OS-EXT-SRV-ATTR:host")
        fl = s.get("flavor") or {}
        if mv >= (2, 47):
            flavor: dict[str, Any] = {
                "vcpus": fl.get("vcpus"),
                "ram": fl.get("ram"),
                "disk": fl.get("disk"),
                "ephemeral": fl.get("ephemeral", 0),
                "swap": fl.get("swap", 0),
                "original_name": fl.get("original_name"),
                "extra_specs": fl.get("extra_specs", {}),
            }
        else:
            flavor = {
                "id": fl.get("id"),
                "links": [{"rel": "bookmark", "href": f"{base}/compute/flavors/{fl.get('id')}"}],
            }
        image = s.get("image")
        if isinstance(image, dict) and image.get("id"):
            image = {
                "id": image["id"],
                "links": [{"rel": "bookmark", "href": f"{base}/compute/images/{image['id']}"}],
            }
        tenant = s.get("tenant_id")
        host_id = hashlib.sha224(f"{tenant}{host}".encode()).hexdigest() if host else ""
        vols = ix.vols_by_server.get(sid, ())
        out: dict[str, Any] = {
            "id": sid,
            "name": s.get("name"),
            "status": s.get("status"),
            "tenant_id": tenant,
            "user_id": s.get("user_id"),
            "metadata": s.get("metadata", {}),
            "hostId": host_id,
            "image": image if image is not None else "",
            "flavor": flavor,
            "created": s.get("created"),
            "updated": s.get("updated"),
            "addresses": self.addresses(s, ix),
            "accessIPv4": "",
            "accessIPv6": "",
            "links": [
                {"rel": "self", "href": f"{base}/compute/v2.1/servers/{sid}"},
                {"rel": "bookmark", "href": f"{base}/compute/servers/{sid}"},
            ],
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "OS-EXT-AZ:availability_zone": s.get("OS-EXT-AZ:availability_zone"),
            "config_drive": "",
            "key_name": s.get("key_name"),
            "OS-SRV-USG:launched_at": s.get("OS-SRV-USG:launched_at"),
            "OS-SRV-USG:terminated_at": s.get("OS-SRV-USG:terminated_at"),
            "security_groups": s.get("security_groups", []),
            "OS-EXT-SRV-ATTR:host": host,
            "OS-EXT-SRV-ATTR:instance_name": s.get("OS-EXT-SRV-ATTR:instance_name"),
            "OS-EXT-SRV-ATTR:hypervisor_hostname": s.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
            "OS-EXT-STS:task_state": s.get("OS-EXT-STS:task_state"),
            "OS-EXT-STS:vm_state": s.get("OS-EXT-STS:vm_state"),
            "OS-EXT-STS:power_state": s.get("OS-EXT-STS:power_state"),
            "os-extended-volumes:volumes_attached": (
                [{"id": v["id"], "delete_on_termination": False} for v in vols]
                if mv >= (2, 3)
                else [{"id": v["id"]} for v in vols]
            ),
        }
        if mv >= (2, 3):
            out.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": s.get("reservation_id") or "r-" + sid[:8],
                    "OS-EXT-SRV-ATTR:launch_index": 0,
                    "OS-EXT-SRV-ATTR:hostname": s.get("name"),
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/sda",
                    "OS-EXT-SRV-ATTR:user_data": None,
                }
            )
        if mv >= (2, 9):
            out["locked"] = bool(s.get("locked"))
        if mv >= (2, 16):
            out["host_status"] = s["host_status"] if "host_status" in s else self.host_status(s, ix)
        if mv >= (2, 19):
            out["description"] = s.get("description")
        if mv >= (2, 26):
            out["tags"] = s.get("tags", [])
        if mv >= (2, 63):
            out["trusted_image_certificates"] = None
        if mv >= (2, 73):
            out["locked_reason"] = s.get("locked_reason")
        if mv >= (2, 96):
            out["pinned_availability_zone"] = None
        if s.get("status") in ("ERROR", "DELETED"):
            fault = s.get("fault")
            if fault is None and s.get("status") == "ERROR":
                fault = {"code": 500, "message": "Unknown error", "created": s.get("updated")}
            if fault is not None:
                out["fault"] = {
                    "code": fault.get("code", 500),
                    "created": fault.get("created") or s.get("updated"),
                    "message": fault.get("message", ""),
                }
                if fault.get("details"):
                    out["fault"]["details"] = fault["details"]
        return out

    def hypervisor_usage(self, h: dict, ix: _Index) -> dict:
        servers = ix.servers_by_node.get(h["hypervisor_hostname"], ())
        vcpus_used = sum((s.get("flavor") or {}).get("vcpus") or 0 for s in servers)
        ram_used = 512 + sum((s.get("flavor") or {}).get("ram") or 0 for s in servers)
        disk_used = sum((s.get("flavor") or {}).get("disk") or 0 for s in servers)
        u = {
            "vcpus_used": h.get("vcpus_used", vcpus_used),
            "memory_mb_used": h.get("memory_mb_used", ram_used),
            "local_gb_used": h.get("local_gb_used", disk_used),
            "running_vms": h.get("running_vms", len(servers)),
        }
        u["free_ram_mb"] = h.get("free_ram_mb", (h.get("memory_mb") or 0) - u["memory_mb_used"])
        u["free_disk_gb"] = h.get("free_disk_gb", (h.get("local_gb") or 0) - u["local_gb_used"])
        u["disk_available_least"] = h.get("disk_available_least", u["free_disk_gb"])
        u["current_workload"] = h.get("current_workload", 0)
        return u

    def render_hypervisor(
        self, h: dict, mv: tuple[int, int], detail: bool, ix: _Index, with_servers: bool = False
    ) -> dict:
        host = (h.get("service") or {}).get("host")
        svc = ix.svc_by_host.get(host)
        if svc is not None:
            state = self.service_state(svc)
            status = svc.get("status", "enabled")
            reason = svc.get("disabled_reason")
        else:
            state, status, reason = (
                h.get("_state", "down"),
                h.get("_status", "enabled"),
                h.get("_disabled_reason"),
            )
        uuids = mv >= (2, 53)
        out: dict[str, Any] = {
            "id": h["id"] if uuids else h["_int_id"],
            "hypervisor_hostname": h["hypervisor_hostname"],
            "state": state,
            "status": status,
        }
        if detail:
            out.update(
                {
                    "hypervisor_type": h.get("hypervisor_type"),
                    "hypervisor_version": h.get("hypervisor_version"),
                    "host_ip": h.get("host_ip"),
                    "service": {
                        "host": host,
                        "id": (svc["id"] if uuids else svc["_int_id"]) if svc else None,
                        "disabled_reason": reason,
                    },
                }
            )
            if mv < (2, 88):
                out.update(
                    {"vcpus": h.get("vcpus"), "memory_mb": h.get("memory_mb"), "local_gb": h.get("local_gb")}
                )
                out.update(self.hypervisor_usage(h, ix))
                cpu = h.get("cpu_info", "")
                if mv >= (2, 28):
                    cpu = json.loads(cpu) if isinstance(cpu, str) and cpu else (cpu or {})
                out["cpu_info"] = cpu
            else:
                out["uptime"] = h.get("uptime")
        if with_servers and mv >= (2, 53):
            out["servers"] = [
                {"name": s.get("OS-EXT-SRV-ATTR:instance_name"), "uuid": s["id"]}
                for s in ix.servers_by_node.get(h["hypervisor_hostname"], ())
            ]
        return out

    def render_compute_service(self, s: dict, mv: tuple[int, int]) -> dict:
        out = {
            "id": s["id"] if mv >= (2, 53) else s["_int_id"],
            "binary": s.get("binary"),
            "host": s.get("host"),
            "zone": s.get("zone"),
            "status": s.get("status"),
            "state": self.service_state(s),
            "updated_at": self.service_updated_at(s),
            "disabled_reason": s.get("disabled_reason"),
        }
        if mv >= (2, 11):
            out["forced_down"] = bool(s.get("forced_down"))
        return out

    def render_volume_service(self, s: dict, mv: tuple[int, int]) -> dict:
        out: dict[str, Any] = {
            "binary": s.get("binary"),
            "host": s.get("host"),
            "zone": s.get("zone"),
            "status": s.get("status"),
            "state": self.service_state(s),
            "updated_at": self.service_updated_at(s),
            "disabled_reason": s.get("disabled_reason"),
        }
        if s.get("binary") == "cinder-volume":
            out.update({"replication_status": "disabled", "active_backend_id": None, "frozen": False})
            if mv >= (3, 49):
                out["backend_state"] = s.get("backend_state", "up" if out["state"] == "up" else "down")
        if mv >= (3, 7):
            out["cluster"] = s.get("cluster")
        return out

    def render_volume(self, v: dict, mv: tuple[int, int], base: str) -> dict:
        out = {k: val for k, val in v.items() if not k.startswith("_")}
        out["links"] = [
            {"rel": "self", "href": f"{base}/volume/v3/{v['os-vol-tenant-attr:tenant_id']}/volumes/{v['id']}"}
        ]
        out["attachments"] = [
            {
                k: a.get(k)
                for k in (
                    "server_id",
                    "attachment_id",
                    "attached_at",
                    "host_name",
                    "volume_id",
                    "device",
                    "id",
                )
            }
            for a in v.get("attachments") or ()
        ]
        if mv >= (3, 13):
            out.setdefault("group_id", None)
        if mv >= (3, 21):
            out.setdefault("provider_id", None)
        if mv >= (3, 48):
            out.setdefault("service_uuid", None)
            out.setdefault("shared_targets", False)
        if mv >= (3, 61):
            out.setdefault("cluster_name", None)
        if mv >= (3, 63):
            out.setdefault("volume_type_id", det_uuid("volume_types", v.get("volume_type")))
        if mv >= (3, 65):
            out.setdefault("consumes_quota", True)
        return out

    def render_network(self, n: dict, ix: _Index) -> dict:
        out = {k: v for k, v in n.items() if not k.startswith("_")}
        out["subnets"] = [sn["id"] for sn in ix.subnets_by_net.get(n["id"], ())]
        return out

    @staticmethod
    def render_plain(o: dict) -> dict:
        return {k: v for k, v in o.items() if not k.startswith("_")}

    def render_agent(self, a: dict, router: dict | None = None) -> dict:
        out = {k: v for k, v in a.items() if not k.startswith("_") and k not in ("routers", "ha_states")}
        if a.get("alive", True):
            out["heartbeat_timestamp"] = fmt_time(int(time.time()) - 2, FMT_SPACE)
        if router is not None:
            # Neutron's /routers/{id}/l3-agents: the agent's ha_state for an HA router, null otherwise
            out["ha_state"] = self.ha_state(router, a) if router.get("ha") else None
        return out

    def ha_state(self, router: dict, agent: dict) -> str:
        pinned = (agent.get("ha_states") or {}).get(router["id"])
        if pinned:
            return pinned
        if not agent.get("alive", True):
            return "unknown"
        alive = [a for a in self.index().agents_by_router.get(router["id"], ()) if a.get("alive", True)]
        return "active" if alive and alive[0] is agent else "standby"

    def render_migration(self, m: dict, mv: tuple[int, int], base: str) -> dict:
        out = {
            k: m.get(k)
            for k in (
                "id",
                "instance_uuid",
                "status",
                "source_compute",
                "dest_compute",
                "source_node",
                "dest_node",
                "dest_host",
                "source_region",
                "dest_region",
                "created_at",
                "updated_at",
                "old_instance_type_id",
                "new_instance_type_id",
            )
        }
        if mv >= (2, 23):
            out["migration_type"] = m.get("migration_type")
            if m.get("migration_type") == "live-migration" and m.get("status") in (
                "queued",
                "preparing",
                "running",
                "post-migrating",
            ):
                out["links"] = [
                    {
                        "rel": "self",
                        "href": f"{base}/compute/v2.1/servers/{m['instance_uuid']}/migrations/{m['id']}",
                    },
                    {
                        "rel": "bookmark",
                        "href": f"{base}/compute/servers/{m['instance_uuid']}/migrations/{m['id']}",
                    },
                ]
        if mv >= (2, 59):
            out["uuid"] = m.get("uuid")
        if mv >= (2, 80):
            out["project_id"] = m.get("project_id")
            out["user_id"] = m.get("user_id")
        return out

    def render_project(self, p: dict, base: str) -> dict:
        out = {k: v for k, v in p.items() if not k.startswith("_")}
        out["links"] = {"self": f"{base}/identity/v3/projects/{p['id']}"}
        return out

    def render_flavor(self, f: dict, base: str, detail: bool = True) -> dict:
        links = [
            {"rel": "self", "href": f"{base}/compute/v2.1/flavors/{f['id']}"},
            {"rel": "bookmark", "href": f"{base}/compute/flavors/{f['id']}"},
        ]
        if not detail:
            return {"id": f["id"], "name": f["name"], "links": links, "description": f.get("description")}
        out = {k: v for k, v in f.items() if not k.startswith("_")}
        out["links"] = links
        return out
