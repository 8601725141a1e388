"""Request handling, independent of the socket layer: routing to the services, tokens, counters, faults."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import admin, cinder, keystone, neutron, nova
from .common import SimError
from .faults import Fault, strip_fields
from .http import REASONS, ApiError, Request, Response, error_response, jresp, next_link
from .store import State

#: The services by the first path segment.
SERVICES = {
    "identity": keystone.identity,
    "compute": nova.compute,
    "network": neutron.network,
    "volume": cinder.volume,
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
    ) -> None:
        self.state = state
        self.scenario = scenario
        self.page_max = page_max
        self.token_ttl = token_ttl
        self.region = region or state.settings.get("region") or "RegionOne"
        self.agents = agents
        self.verbose = verbose
        self.lock = threading.Lock()
        self.tokens: dict[str, dict] = {}
        self.counts: dict[str, int] = {}
        self.total = 0
        self.token_issues = 0
        self.faults: list[Fault] = []
        self._all_faults: list[Fault] = []
        self._fault_seq = 0
        self.stopping = threading.Event()

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def agents_enabled(self) -> bool:
        return self.agents and self.state.neutron_backend != "nsx"

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, fallback_host: str
    ) -> Response | None:
        parts = urlsplit(target)
        path = unquote(parts.path or "/")
        query = parse_qs(parts.query, keep_blank_values=True)
        base = "http://" + (headers.get("Host") or fallback_host)
        if path == "/_sim" or path.startswith("/_sim/"):
            return admin.handle(self, method, path, raw)
        with self.lock:
            self.total += 1
            key = f"{method} {path}"
            self.counts[key] = self.counts.get(key, 0) + 1
        fault = self._take_fault(method, path)
        req = Request(method, path, query, headers, raw, base)
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
                return self._fault_response(fault, path)
            if fault.malformed:
                return Response(200, b'{"malformed": [{"id": "', [("Content-Type", "application/json")])
        if fault is not None and fault.endless_paging:
            req.query.pop("marker", None)  # every page is the first page, under a marker never seen before
        try:
            resp = self._route(req)
            if fault is not None and fault.endless_paging:
                resp = self._endless(req, resp)
        except ApiError as exc:
            resp = error_response(path, exc.status, exc.message, exc.headers)
        except SimError as exc:
            resp = error_response(path, exc.status, exc.message)
        if fault is not None and fault.missing_fields and resp.status < 300:
            resp.body = strip_fields(path, resp.body, fault.missing_fields)
        if fault is not None and fault.truncated:
            resp.truncate = True
        return resp

    def _endless(self, req: Request, resp: Response) -> Response:
        """A list reply whose next link points to yet another page, forever."""
        try:
            body = json.loads(resp.body)
        except ValueError:
            return resp
        if resp.status != 200 or not isinstance(body, dict):
            return resp
        for key, value in list(body.items()):
            if isinstance(value, list) and value and not key.endswith("_links"):
                limit = self.limit(req)
                body[f"{key}_links"] = next_link(req, limit, uuid.uuid4())
        return jresp(200, body)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.method and f.method != method:
                    continue
                if not f.regex.search(path):
                    continue
                f.hits += 1
                if f.remaining is not None:
                    f.remaining -= 1
                    if f.remaining <= 0:
                        self.faults.remove(f)
                return f
        return None

    def _fault_response(self, f: Fault, path: str) -> Response:
        headers = []
        if f.retry_after is not None:
            headers.append(("Retry-After", str(f.retry_after)))
        msg = f.spec.get("message") or f"simulated {f.status} {REASONS.get(f.status, '')}".strip()
        return error_response(path, f.status, msg, headers)  # type: ignore[arg-type]

    def _route(self, req: Request) -> Response:
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
        if service is None:
            raise ApiError(404, "The resource could not be found.")
        return service(self, req, segs[1:])

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
        with self.lock:
            return {"total": self.total, "token_issues": self.token_issues, "paths": dict(self.counts)}

    def reset_counters(self) -> None:
        with self.lock:
            self.total = 0
            self.token_issues = 0
            self.counts.clear()

    def add_fault(self, spec: dict) -> dict:
        with self.lock:
            self._fault_seq += 1
            f = Fault(self._fault_seq, spec)
            self.faults.append(f)
            self._all_faults.append(f)
            return f.describe()

    def clear_faults(self, fid: int | None = None) -> int:
        with self.lock:
            gone = [f for f in self._all_faults if fid is None or f.id == fid]
            for f in gone:
                f.released.set()
                if f in self.faults:
                    self.faults.remove(f)
                self._all_faults.remove(f)
            return len(gone)
