"""Request handling, independent of the socket layer: routing to the services, tokens, counters, faults."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import admin, cinder, glance_heat, keystone, octavia
from .common import SimError
from .faults import Fault, hide_objects, strip_fields
from .http import REASONS, ApiError, Request, Response, error_response, jresp, next_link
from .neutron import api as neutron
from .nova import api as nova
from .regions import REGION_SEGMENT, Region, RegionView, split_regions
from .store import State

#: The services by the first path segment.
SERVICES = {
    "identity": keystone.identity,
    "compute": nova.compute,
    "network": neutron.network,
    "volume": cinder.volume,
    "load-balancer": octavia.load_balancer,
    "image": glance_heat.image,
    "orchestration": glance_heat.orchestration,
}


class App:
    """Request handling, independent of the socket layer."""

    def __init__(
        self,
        state: State,
        *,
        page_max: int = 1000,
        token_ttl: float = 3600,
        region: str | None = None,
        agents: bool = True,
        scenario: Any = None,
        verbose: bool = False,
        regions: dict[str, State] | None = None,
    ) -> None:
        """``state`` is the primary region's; ``regions`` maps every other region's name to its state."""
        self.scenario = scenario
        self.page_max = page_max
        self.token_ttl = token_ttl
        self.agents = agents
        self.verbose = verbose
        self.lock = threading.Lock()
        self.tokens: dict[str, dict] = {}
        self.counts: dict[str, int] = {}
        self.total = 0
        self.token_issues = 0
        self._all_faults: list[Fault] = []
        self._fault_seq = 0
        self.stopping = threading.Event()
        primary = region or state.settings.get("region") or "RegionOne"
        self.regions: dict[str, Region] = {primary: Region(primary, state, primary=True)}
        for name, st in (regions or {}).items():
            if name == primary:
                raise ValueError(f"region {name} is the primary region")
            self.regions[name] = Region(name, st, primary=False)

    @property
    def primary(self) -> Region:
        """The region whose services have the unprefixed URLs (the only one of a one-region cloud)."""
        return next(iter(self.regions.values()))

    @property
    def state(self) -> State:
        """The primary region's objects (Keystone's projects and users are the same in every region)."""
        return self.primary.state

    @property
    def region(self) -> str:
        return self.primary.name

    @region.setter
    def region(self, name: str) -> None:
        """Rename the primary region (the catalog shows the new name)."""
        if name != self.region and name in self.regions:
            raise SimError(409, f"region {name} exists")
        old = self.primary
        rest = {k: v for k, v in self.regions.items() if v is not old}
        old.name = name
        self.regions = {name: old, **rest}

    @property
    def faults(self) -> list[Fault]:
        """The primary region's active faults (Keystone's requests take theirs from the primary)."""
        return self.primary.faults

    def region_named(self, name: str | None) -> Region:
        """A region by name (None: the primary); 404 for a region the cloud does not have."""
        if name is None or name == "":
            return self.primary
        found = self.regions.get(name)
        if found is None:
            raise SimError(404, f"no region {name!r} (regions: {', '.join(self.regions)})")
        return found

    def load(self, scenario: Any) -> None:
        """Replace every region's objects with a scenario's (a region no longer named is dropped, except
        the primary); a ``State`` kept across loads stays the same object."""
        _primary, parts = split_regions(scenario, self.region)
        new: dict[str, Region] = {}
        for name, sub in parts.items():
            old = self.regions.get(name)
            if old is not None:
                old.state.load(sub)
                new[name] = old
            else:
                new[name] = Region(name, State(sub), primary=False)
        self.regions = new

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def agents_enabled(self) -> bool:
        """Whether the primary region's Neutron has the agent extension."""
        return self.agents and self.state.neutron_backend != "nsx"

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, fallback_host: str
    ) -> Response | None:
        parts = urlsplit(target)
        path = unquote(parts.path or "/")
        query = parse_qs(parts.query, keep_blank_values=True)
        base = "http://" + (headers.get("Host") or fallback_host)
        if path == "/_sim" or path.startswith("/_sim/"):
            return admin.handle(self, method, path, raw, query)
        region, rel = self._region_of(path)
        with self.lock:
            self.total += 1
            key = f"{method} {path}"
            self.counts[key] = self.counts.get(key, 0) + 1
            if region is not None and not rel.startswith("/identity"):
                region.requests += 1
        if region is None:
            return error_response(rel, 404, "The resource could not be found.")
        # Within a region everything sees the path after its prefix; links carry the prefix via the base.
        path = rel
        fault = self._take_fault(method, path, region)
        req = Request(method, path, query, headers, raw, base + region.prefix)
        if fault is not None:
            if fault.delay:
                if self.stopping.wait(fault.delay):
                    return None
            if fault.hang:
                while not (fault.released.is_set() or self.stopping.is_set()):
                    fault.released.wait(0.05)
                if self.stopping.is_set():
                    return None
            if fault.status is not None:
                return self._fault_response(fault, path, req)
            if fault.malformed:
                return Response(200, b'{"malformed": [{"id": "', [("Content-Type", "application/json")])
        if fault is not None and fault.endless_paging:
            req.query.pop("marker", None)  # every page is the first page, under a marker never seen before
        try:
            resp = self._route(req, region)
            if fault is not None and fault.endless_paging:
                resp = self._endless(req, resp)
        except ApiError as exc:
            resp = error_response(path, exc.status, exc.message, exc.headers)
        except SimError as exc:
            resp = error_response(path, exc.status, exc.message)
        if fault is not None and (fault.missing_fields or fault.replace_fields) and resp.status < 300:
            resp.body = strip_fields(path, resp.body, fault.missing_fields, fault.replace_fields)
        if fault is not None and fault.hide and resp.status < 300:
            resp.body = hide_objects(resp.body, fault.hide)
        if fault is not None and fault.truncated:
            resp.truncate = True
        if fault is not None and fault.trickle:
            resp.trickle = fault.trickle
        return resp

    def _region_of(self, path: str) -> tuple[Region | None, str]:
        """The region a request path is for and the path after the region's prefix (None: no such region)."""
        segs = path.split("/", 3)  # "", "regions", name, rest
        if len(segs) < 3 or segs[1] != REGION_SEGMENT or len(self.regions) < 2:
            return self.primary, path
        region = self.regions.get(segs[2])
        if region is None or region.primary:
            return None, "/" + (segs[3] if len(segs) > 3 else "")
        return region, "/" + (segs[3] if len(segs) > 3 else "")

    def _endless(self, req: Request, resp: Response) -> Response:
        """A list reply whose next link points to yet another page, forever."""
        try:
            body = json.loads(resp.body)
        except ValueError:
            return resp
        if resp.status != 200 or not isinstance(body, dict):
            return resp
        limit = self.limit(req)
        for key, value in list(body.items()):
            if isinstance(value, list) and value and not key.endswith("_links") and key != "links":
                body[f"{key}_links"] = next_link(req, limit, uuid.uuid4())
        if isinstance(body.get("images"), list):  # Glance's next href; Heat's `links`
            body["next"] = f"/v2/images?limit={limit}&marker={uuid.uuid4()}"
        if isinstance(body.get("stacks"), list):
            body["links"] = next_link(req, limit, uuid.uuid4())
        return jresp(200, body)

    def _take_fault(self, method: str, path: str, region: Region) -> Fault | None:
        with self.lock:
            for f in region.faults:
                if f.method and f.method != method:
                    continue
                if not f.regex.search(path):
                    continue
                f.hits += 1
                if f.remaining is not None:
                    f.remaining -= 1
                    if f.remaining <= 0:
                        region.faults.remove(f)
                return f
        return None

    def _fault_response(self, f: Fault, path: str, req: Request) -> Response:
        headers = []
        if f.retry_after is not None:
            headers.append(("Retry-After", str(f.retry_after)))
        msg = f.spec.get("message") or f"simulated {f.status} {REASONS.get(f.status, '')}".strip()
        if f.spec.get("echo"):  # what a debugging proxy says: the request it got, credentials and all
            sent = "; ".join(f"{k}: {v}" for k, v in req.headers.items())
            msg += f" (request: {req.method} {req.path} {sent} body: {req.raw.decode('utf-8', 'replace')})"
        return error_response(path, f.status, msg, headers)  # type: ignore[arg-type]

    def _route(self, req: Request, region: Region) -> Response:
        segs = [s for s in req.path.split("/") if s]
        if not segs:
            return jresp(
                200,
                {
                    "vio-sim": {k: f"{req.base}/{k}/" for k in ("identity", "compute", "network", "volume")},
                    "admin": f"{req.base}/_sim/",
                },
            )
        service = SERVICES.get(segs[0])
        if service is None or (segs[0] == "identity" and not region.primary):
            raise ApiError(404, "The resource could not be found.")
        if segs[0] == "identity":
            return service(self, req, segs[1:])
        return service(RegionView(self, region), req, segs[1:])  # type: ignore[arg-type]

    def auth(self, req: Request) -> dict:
        """The token record of an authenticated request (401 otherwise)."""
        tok = req.headers.get("X-Auth-Token")
        if not tok:
            raise ApiError(401, "The request you have made requires authentication.")
        with self.lock:
            info = self.tokens.get(tok)
            if info is None or info["expires"] <= time.time():
                self.tokens.pop(tok, None)
                raise ApiError(401, "The request you have made requires authentication.")
        return info

    def limit(self, req: Request) -> int:
        """The page size a request asks for, capped at ``page_max``."""
        raw = req.q("limit")
        if raw is None or raw == "":
            return self.page_max
        try:
            n = int(raw)
        except ValueError as exc:
            raise ApiError(400, f"limit must be an integer, not {raw!r}") from exc
        if n < 0:
            raise ApiError(400, "limit must be >= 0")
        return min(n, self.page_max)

    # -- admin API -------------------------------------------------------------------------------


    def counters(self) -> dict:
        """Requests by method and path, in total, and per region (Keystone's not counted there)."""
        with self.lock:
            return {
                "total": self.total,
                "token_issues": self.token_issues,
                "paths": dict(self.counts),
                "regions": {name: r.requests for name, r in self.regions.items()},
            }

    def reset_counters(self) -> None:
        with self.lock:
            self.total = 0
            self.token_issues = 0
            self.counts.clear()
            for r in self.regions.values():
                r.requests = 0

    def add_fault(self, spec: dict, region: str | None = None) -> dict:
        """Inject a fault into one region's services (default: the primary's, and Keystone)."""
        target = self.region_named(region)
        with self.lock:
            self._fault_seq += 1
            f = Fault(self._fault_seq, spec)
            f.region = target.name
            target.faults.append(f)
            self._all_faults.append(f)
            return f.describe()

    def clear_faults(self, fid: int | None = None, region: str | None = None) -> int:
        """Clear a fault by id, one region's faults, or (both None) every fault of every region."""
        only = self.region_named(region).name if region else None
        with self.lock:
            gone = [
                f for f in self._all_faults
                if (fid is None or f.id == fid) and (only is None or f.region == only)
            ]
            for f in gone:
                f.released.set()
                for r in self.regions.values():
                    if f in r.faults:
                        r.faults.remove(f)
                self._all_faults.remove(f)
            return len(gone)
