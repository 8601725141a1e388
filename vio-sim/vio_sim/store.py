"""The scenario store: the simulated cloud's objects, scenario loading, lookups and mutations.

Each service's state module (``keystone_state``, ``nova.state``, ``neutron.state``, ``cinder_state``,
``octavia_state``, ``glance_heat_state``) declares how its kinds are ingested (a ``Kind`` in its ``KINDS``);
this module keeps the objects and runs the ingest pipeline. It imports none of the modules that serve HTTP
(keystone.py, nova.api ...): they import it and render what it keeps.

Scenario format
===============
A scenario is a JSON object (file or dict). Every key is optional::

    {
      "description": "free text",
      "settings": {"region": "RegionOne", "neutron_backend": "ml2" | "nsx", "vif_type": "ovs",
                   "vcenter_uuid": "...", "vcenter_ip": "10.0.0.10", "network_host": "vio-network-01",
                   "identity_endpoint": true},
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
                            "from": "vio-compute-02", "to": "vio-compute-01", "created_at": "-2d"}],
      "loadbalancers":    [{"name": "shop-lb", "vip_network": "webshop-net", "pools": [...]}]  (octavia_state)
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
import json
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import cinder_state, glance_heat_state, keystone_state, octavia_state
from .common import Kind, SimError, det_uuid, fmt_time, to_epoch
from .neutron import state as neutron_state
from .nova import state as nova_state

#: Kinds in load order (a kind may reference the kinds before it by name).
KINDS = (
    "projects", "users", "flavors", "compute_services", "hypervisors", "volume_services", "networks",
    "subnets", "routers", "servers", "ports", "floatingips", "volumes", "agents", "migrations",
    "loadbalancers", "images", "stacks",
)
#: How each kind is ingested, as its service's state module declares it.
REGISTRY: dict[str, Kind] = {k.name: k for k in (*keystone_state.KINDS, *nova_state.KINDS,
                                                  *neutron_state.KINDS, *cinder_state.KINDS,
                                                  *octavia_state.KINDS, *glance_heat_state.KINDS)}
assert set(REGISTRY) == set(KINDS), sorted(set(REGISTRY) ^ set(KINDS))

SERVICE_KINDS = ("compute_services", "volume_services")
_INT_ID_KINDS = tuple(k for k in KINDS if REGISTRY[k].int_id)

SCENARIO_DIR = Path(__file__).with_name("scenarios")

DEFAULT_SETTINGS: dict[str, Any] = {
    "region": "RegionOne",
    "neutron_backend": None,  # None: "ml2" when the scenario has agents, else "nsx"
    "vif_type": None,  # default binding:vif_type of bound ports: "ovs" (ml2) / "nsx" (nsx)
    "vcenter_uuid": "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11",
    "vcenter_ip": "10.0.0.10",
    "network_host": "vio-network-01",
    "identity_endpoint": True,  # false: the region's catalog lists no identity endpoint (vio_sim.regions)
    "glance": None,  # the image service in the catalog: true, false, None: when the region has images
    "heat": None,  # the orchestration service: likewise, when it has stacks (keystone_state.in_catalog)
}

DEFAULT_USER = {"name": "admin", "password": "vio-sim", "project": "admin"}

OLD_HV = nova_state.OLD_HV


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



class Index:
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
        self.seq = 0
        self._int_ids = dict.fromkeys(_INT_ID_KINDS, 0)
        self._names: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self._names_dirty: set[str] = set()
        self.alloc: dict[str, int] = {}
        self._ix: tuple[int, Index] | None = None
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
        """The field that keys the objects of ``kind`` (``uuid`` for migrations, else ``id``)."""
        return REGISTRY[kind].key

    def index(self) -> Index:
        """The derived lookups, rebuilt after any mutation."""
        if self._ix is None or self._ix[0] != self.generation:
            self._ix = (self.generation, Index(self))
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
        """"ml2" or "nsx" (the setting, else ml2 when the scenario has agents)."""
        b = self.settings.get("neutron_backend")
        if b:
            return b
        return "ml2" if self.objects["agents"] else "nsx"

    @property
    def default_vif_type(self) -> str:
        """The binding:vif_type of a bound port unless it sets one."""
        return self.settings.get("vif_type") or ("ovs" if self.neutron_backend == "ml2" else "nsx")

    # -- load / dump -------------------------------------------------------------------------------

    def load(self, data: dict) -> None:
        """Replace the state with a scenario."""
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
                    self.put(kind, raw, None, now)
            if not self.objects["users"]:
                self.put("users", dict(DEFAULT_USER), None, now)

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
                m = OLD_HV.match(hn)
                if ref_s in (hn, (o.get("service") or {}).get("host")) or (m and m.group("name") == ref_s):
                    return o
        if kind in _INT_ID_KINDS and ref_s.isdigit():
            field = "id" if kind == "migrations" else "_int_id"
            for o in objs.values():
                if str(o.get(field)) == ref_s:
                    return o
        return None

    def get(self, kind: str, ref: Any) -> dict:
        """An object (see ``find``); 404 when there is none."""
        o = self.find(kind, ref)
        if o is None:
            raise SimError(404, f"no {kind} {ref!r}")
        return o

    def ref(self, kind: str, value: Any) -> Any:
        """Resolve a reference by id or name; unknown values are kept (dangling references)."""
        if value is None or value == "" or not isinstance(value, str):
            return value
        if value in self.objects[kind]:
            return value
        key = self._name_map(kind).get(value)
        return key if key is not None else value

    def resolve_host(self, value: str) -> tuple[str | None, str | None]:
        """(compute host, hypervisor hostname) for a compute host, hypervisor hostname or cluster name."""
        if value is None or value == "":
            return None, None
        hv = self.find("hypervisors", value)
        if hv is not None:
            return (hv.get("service") or {}).get("host"), hv["hypervisor_hostname"]
        return value, value

    def default_project(self) -> str | None:
        """The first non-admin project (objects without a project go there)."""
        for p in self.objects["projects"].values():
            if p["name"] != "admin":
                return p["id"]
        return next(iter(self.objects["projects"]), None)

    def admin_project(self) -> str | None:
        """The id of the admin project."""
        key = self._name_map("projects").get("admin")
        return key or next(iter(self.objects["projects"]), None)

    def admin_user(self) -> dict | None:
        """The first user (the one the credentials name)."""
        return next(iter(self.objects["users"].values()), None)

    # -- mutations ---------------------------------------------------------------------------------

    def add(self, kind: str, obj: dict) -> dict:
        """Add an object (admin ``POST``)."""
        with self.lock:
            if kind not in self.objects:
                raise SimError(404, f"unknown kind {kind!r}")
            if not isinstance(obj, dict):
                raise SimError(400, "body must be a JSON object")
            kf = self.key_field(kind)
            if obj.get(kf) is not None and str(obj[kf]) in self.objects[kind]:
                raise SimError(409, f"{kind} {obj[kf]} exists")
            return self.put(kind, copy.deepcopy(obj), None, time.time())

    def patch(self, kind: str, ref: Any, changes: dict) -> dict:
        """Merge fields into an object (admin ``PATCH``)."""
        with self.lock:
            old = self.get(kind, ref)
            if not isinstance(changes, dict):
                raise SimError(400, "body must be a JSON object")
            kf = self.key_field(kind)
            if kf in changes and changes[kf] != old[kf]:
                raise SimError(400, f"cannot change {kf}")
            return self.put(kind, copy.deepcopy(changes), old, time.time())

    def delete(self, kind: str, ref: Any) -> dict:
        """Delete an object (admin ``DELETE``)."""
        with self.lock:
            old = self.get(kind, ref)
            key = old[self.key_field(kind)]
            del self.objects[kind][key]
            self._names_dirty.add(kind)
            self._touch(kind, key)
            return old

    # -- the ingest pipeline -----------------------------------------------------------------------

    def put(self, kind: str, raw: dict, old: dict | None, now: float) -> dict:
        """Store a new object (``old`` None) or merge a patch into ``old``, through the kind's ingest steps:
        ``ingest`` (shorthands, references), time formats, ``fill`` (defaults, ids), then ``after``."""
        if not isinstance(raw, dict):
            raise SimError(400, f"{kind}: objects must be JSON objects, not {raw!r}")
        spec = REGISTRY[kind]
        changes = spec.ingest(self, raw, old, now)
        for field, fmt in spec.times.items():
            if field in changes and changes[field] is not None:
                changes[field] = fmt_time(to_epoch(changes[field], now), fmt)
        upd = spec.updated
        if old is not None and upd and upd not in changes:
            changes[upd] = fmt_time(now, spec.times[upd])
        obj = dict(old) if old is not None else {}
        obj.update(changes)
        if old is None:
            self.seq += 1
            if spec.int_id:
                field = spec.int_field
                if obj.get(field) is None:
                    self._int_ids[kind] += 1
                    obj[field] = self._int_ids[kind]
                else:
                    obj[field] = int(obj[field])
                    self._int_ids[kind] = max(self._int_ids[kind], obj[field])
        spec.fill(self, obj, old is None, now)
        kf = spec.key
        if obj.get(kf) is None:
            obj[kf] = det_uuid(kind, obj.get("name") or f"#{self.seq}")
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
        spec.after(self, obj, old is None, now)
        return obj
