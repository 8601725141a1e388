"""The simulator's HTTP server: Keystone v3, Nova v2.1, Neutron v2.0 and Cinder v3 as a VIO cloud shows them.

Standard library only. One ``ThreadingHTTPServer`` serves the OpenStack APIs under ``/identity``,
``/compute``, ``/network`` and ``/volume``, and the unauthenticated admin API under ``/_sim/`` (see
``ADMIN_HELP``). ``Simulator`` runs it in a background thread for tests and the demo.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from .state import (
    CINDER_MAX,
    CINDER_MIN,
    FMT_US,
    KINDS,
    NOVA_MAX,
    NOVA_MIN,
    SimError,
    State,
    det_uuid,
    fmt_time,
    load_scenario,
    to_epoch,
)

ADMIN_HELP = """\
Admin API (no auth, JSON in and out; not counted, never faulted):
  GET    /_sim/counters                 {"total", "token_issues", "paths": {"GET /compute/v2.1/...": n}}
  POST   /_sim/counters/reset
  GET    /_sim/state                    the whole state in scenario format
  POST   /_sim/state                    load a scenario: a scenario object, or {"scenario": "demo"|PATH}
  POST   /_sim/reset                    reload the starting scenario, clear faults and counters
  GET    /_sim/<kind>[/<id>]            stored objects (kinds: projects users flavors hypervisors servers
                                        compute_services volume_services volumes networks subnets ports
                                        floatingips routers agents migrations)
  POST   /_sim/<kind>                   add an object (id generated when absent); returns it
  PATCH  /_sim/<kind>/<id>              merge fields (API field names); returns the object
  DELETE /_sim/<kind>/<id>              <id> may also be a name, binary@host (services, agents), a
                                        hypervisor hostname / compute host / cluster name, an integer id
  PATCH  /_sim/agents/<id>              {"ha_states": {router: "active"|"standby"|"unknown"}} pins this L3
                                        agent's ha_state per HA router, as GET /v2.0/routers/{id}/l3-agents
                                        serves it (unpinned: first alive agent active, other alive standby,
                                        dead unknown)
  POST   /_sim/servers/<id>/migrate     {"to": host|hypervisor, "type": "live-migration"|"migration"|
                                        "resize"|"evacuation", "status": "completed"|"error"|"failed"}
  GET|POST|DELETE /_sim/faults[/<id>]   fault injection: {"path": regex on the URL path, "method": "GET",
                                        "status": 500|503|429|401, "retry_after": s, "delay": s,
                                        "hang": true (until DELETE /_sim/faults or stop), "malformed": true,
                                        "truncated": true, "count": N (then expire; default unlimited),
                                        "missing_fields": {KIND: [FIELD, ...]} (strip these API fields
                                        from every KIND record in matching replies, e.g. {"servers":
                                        ["status"]}; a.b for a nested one; KIND one of MISSING_KINDS),
                                        "endless_paging": true (a list's next link never ends: the
                                        first page again, each time with a new marker)}
  POST   /_sim/tokens/expire            invalidate every token
  GET|PATCH /_sim/settings              {"token_ttl", "page_max", "agents", "region"}
"""

NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                    405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
                    429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
REASONS = {300: "Multiple Choices", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}

SERVER_FRAG_DEPS = ("compute_services", "ports", "floatingips", "volumes", "flavors", "networks")
NEUTRON_COLLECTIONS = {"ports": "port", "networks": "network", "subnets": "subnet", "routers": "router",
                       "floatingips": "floatingip", "agents": "agent"}
_PAGING_PARAMS = {"limit", "marker", "fields", "sort_key", "sort_dir", "page_reverse", "all_tenants",
                  "all_projects", "with_count", "offset"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list = field(default_factory=list)
    truncate: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: Any
    raw: bytes
    base: str

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else default

    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"null")
        except ValueError as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from exc


def jbody(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def jresp(status: int, obj: Any, headers: list | None = None) -> Response:
    return Response(status, jbody(obj), [("Content-Type", "application/json")] + (headers or []))


def _truthy(v: str | None) -> bool:
    return v is not None and v.strip().lower() not in ("0", "false", "no", "off", "f", "n")


def _parse_mv(raw: str, lo: tuple[int, int], hi: tuple[int, int], label: str) -> tuple[int, int]:
    raw = raw.strip()
    if raw.lower() == "latest":
        return hi
    m = re.fullmatch(r"(\d+)\.(\d+)", raw)
    if not m:
        raise ApiError(400, f"Invalid {label} API version format: {raw!r}")
    v = (int(m.group(1)), int(m.group(2)))
    if v < lo or v > hi:
        raise ApiError(406, f"Version {raw} is not supported by the API. Minimum is {lo[0]}.{lo[1]} and "
                            f"maximum is {hi[0]}.{hi[1]}.")
    return v


def _header_mv(headers: Any, service: str) -> str | None:
    for h in headers.get_all("OpenStack-API-Version") or ():
        for part in h.split(","):
            svc, _, ver = part.strip().partition(" ")
            if svc.lower() == service and ver.strip():
                return ver.strip()
    return None


#: missing_fields kinds → (the API's path prefix, the reply keys of a list and of one record).
MISSING_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "servers": ("/compute", ("servers", "server")),
    "hypervisors": ("/compute", ("hypervisors", "hypervisor")),
    "compute_services": ("/compute", ("services", "service")),
    "migrations": ("/compute", ("migrations",)),
    "volumes": ("/volume", ("volumes", "volume")),
    "volume_services": ("/volume", ("services",)),
    "ports": ("/network", ("ports", "port")),
    "networks": ("/network", ("networks", "network")),
    "routers": ("/network", ("routers", "router")),
    "agents": ("/network", ("agents", "agent")),
}


def _missing_fields(spec: Any) -> dict[str, list[str]]:
    """Validate a fault's missing_fields: {kind: [field, ...]}."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SimError(400, "missing_fields is an object {kind: [field, ...]}")
    out = {}
    for kind, names in spec.items():
        if kind not in MISSING_KINDS:
            raise SimError(400, f"missing_fields: unknown kind {kind!r} (known: {sorted(MISSING_KINDS)})")
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise SimError(400, f"missing_fields: {kind} needs a list of field names")
        out[kind] = names
    return out


def strip_fields(path: str, body: bytes, missing: dict[str, list[str]]) -> bytes:
    """The JSON reply `body` to `path` without the fields `missing` names for the kinds it carries."""
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return body
    if not isinstance(doc, dict):
        return body
    changed = False
    for kind, names in missing.items():
        prefix, keys = MISSING_KINDS[kind]
        if not path.startswith(prefix + "/"):
            continue
        for key in keys:
            value = doc.get(key)
            records = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            for record in records:
                for name in names:
                    *parents, leaf = name.split(".")
                    target = record
                    for part in parents:
                        target = target.get(part) if isinstance(target, dict) else None
                    if isinstance(target, dict) and leaf in target:
                        del target[leaf]
                        changed = True
    return json.dumps(doc).encode() if changed else body


class Fault:
    def __init__(self, fid: int, spec: dict) -> None:
        if not isinstance(spec, dict):
            raise SimError(400, "a fault is a JSON object")
        known = {
            "path",
            "method",
            "status",
            "retry_after",
            "delay",
            "hang",
            "malformed",
            "truncated",
            "endless_paging",
            "count",
            "message",
            "missing_fields",
        }
        unknown = set(spec) - known
        if unknown:
            raise SimError(400, f"unknown fault fields {sorted(unknown)} (known: {sorted(known)})")
        self.id = fid
        self.spec = dict(spec)
        try:
            self.regex = re.compile(spec.get("path") or ".*")
        except re.error as exc:
            raise SimError(400, f"bad path regex: {exc}") from exc
        self.method = (spec.get("method") or "").upper() or None
        self.status = int(spec["status"]) if spec.get("status") is not None else None
        self.retry_after = spec.get("retry_after")
        self.delay = float(spec.get("delay") or 0)
        self.hang = bool(spec.get("hang"))
        self.malformed = bool(spec.get("malformed"))
        self.truncated = bool(spec.get("truncated"))
        self.missing_fields = _missing_fields(spec.get("missing_fields"))
        self.endless_paging = bool(spec.get("endless_paging"))
        self.count = int(spec["count"]) if spec.get("count") is not None else None
        self.remaining = self.count
        self.hits = 0
        self.released = threading.Event()

    def describe(self) -> dict:
        return dict(self.spec, id=self.id, hits=self.hits, remaining=self.remaining)


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
            return self._admin(method, path, query, raw, base)
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
            resp = self._error(path, exc.status, exc.message, exc.headers)
        except SimError as exc:
            resp = self._error(path, exc.status, exc.message)
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
                limit = self._limit(req)
                body[f"{key}_links"] = self._next_link(req, limit, uuid.uuid4())
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
        return self._error(path, f.status, msg, headers)  # type: ignore[arg-type]

    def _error(self, path: str, status: int, message: str, headers: list | None = None) -> Response:
        headers = list(headers or [])
        if status == 401:
            headers.append(("WWW-Authenticate", 'Keystone uri="/identity/v3"'))
            body: Any = {"error": {"code": 401, "title": "Unauthorized", "message": message}}
        elif path.startswith("/network"):
            body = {
                "NeutronError": {
                    "type": REASONS.get(status, "Error").replace(" ", ""),
                    "message": message,
                    "detail": "",
                }
            }
        elif path.startswith("/identity"):
            body = {"error": {"code": status, "title": REASONS.get(status, "Error"), "message": message}}
        else:
            body = {NOVA_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}}
        return jresp(status, body, headers)

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
        head, rest = segs[0], segs[1:]
        if head == "identity":
            return self._identity(req, rest)
        if head == "compute":
            return self._compute(req, rest)
        if head == "network":
            return self._network(req, rest)
        if head == "volume":
            return self._volume(req, rest)
        raise ApiError(404, "The resource could not be found.")

    def _auth(self, req: Request) -> dict:
        tok = req.headers.get("X-Auth-Token")
        if not tok:
            raise ApiError(401, "The request you have made requires authentication.")
        with self.lock:
            info = self.tokens.get(tok)
            if info is None or info["expires"] <= time.time():
                self.tokens.pop(tok, None)
                raise ApiError(401, "The request you have made requires authentication.")
        return info

    def _limit(self, req: Request) -> int:
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

    @staticmethod
    def _page(items: list, key: str, marker: str | None, limit: int, pos: dict | None = None) -> list:
        start = 0
        if marker:
            if pos is not None:
                i = pos.get(marker)
            else:
                i = next((n for n, o in enumerate(items) if str(o.get(key)) == marker), None)
            if i is None:
                raise ApiError(400, f"marker [{marker}] not found")
            start = i + 1
        return items[start : start + limit]

    @staticmethod
    def _next_link(req: Request, limit: int, marker: Any) -> list:
        q = {k: v for k, v in req.query.items() if k not in ("limit", "marker")}
        q["limit"] = [str(limit)]
        q["marker"] = [str(marker)]
        return [{"rel": "next", "href": f"{req.base}{req.path}?{urlencode(q, doseq=True)}"}]

    # -- Keystone --------------------------------------------------------------------------------

    def _keystone_version(self, base: str) -> dict:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    def _identity(self, req: Request, segs: list) -> Response:
        if not segs:
            return jresp(300, {"versions": {"values": [self._keystone_version(req.base)]}})
        if segs[0] != "v3":
            raise ApiError(404, "The resource could not be found.")
        rest = segs[1:]
        if not rest:
            return jresp(200, {"version": self._keystone_version(req.base)})
        if rest == ["auth", "tokens"]:
            if req.method == "POST":
                return self._issue_token(req)
            caller = self._auth(req)
            subject = req.headers.get("X-Subject-Token")
            with self.lock:
                info = self.tokens.get(subject or "")
                if req.method == "DELETE" and info is not None:
                    self.tokens.pop(subject, None)
                    return Response(204)
            if info is None or info["expires"] <= time.time():
                raise ApiError(404, "Could not find token.")
            del caller
            body = info["body"]
            if "nocatalog" in req.query:
                body = {"token": {k: v for k, v in body["token"].items() if k != "catalog"}}
            return jresp(200, body, [("X-Subject-Token", subject)])
        self._auth(req)
        if req.method != "GET":
            raise ApiError(405, "The simulator's Keystone is read-only.")
        st = self.state
        if rest in (["projects"], ["auth", "projects"]):
            with st.lock:
                items = [st.render_project(p, req.base) for p in st.objects["projects"].values()]
            for k in ("name", "domain_id", "parent_id"):
                if req.q(k) is not None:
                    items = [p for p in items if str(p.get(k)) == req.q(k)]
            if req.q("enabled") is not None:
                items = [p for p in items if bool(p.get("enabled")) == _truthy(req.q("enabled"))]
            return jresp(
                200,
                {
                    "projects": items,
                    "links": {"self": f"{req.base}{req.path}", "previous": None, "next": None},
                },
            )
        if len(rest) == 2 and rest[0] == "projects":
            with st.lock:
                p = st.objects["projects"].get(rest[1])
                if p is None:
                    raise ApiError(404, f"Could not find project: {rest[1]}.")
                return jresp(200, {"project": st.render_project(p, req.base)})
        if rest == ["auth", "catalog"]:
            info = self._auth(req)
            return jresp(
                200,
                {
                    "catalog": info["body"]["token"].get("catalog", []),
                    "links": {"self": f"{req.base}{req.path}"},
                },
            )
        raise ApiError(404, "The resource could not be found.")

    def _find_user(self, spec: dict) -> dict | None:
        users = self.state.objects["users"].values()
        if spec.get("id"):
            return self.state.objects["users"].get(spec["id"])
        dom = spec.get("domain") or {}
        for u in users:
            if u.get("name") != spec.get("name"):
                continue
            if dom.get("id") and dom["id"] != u.get("domain_id"):
                continue
            if dom.get("name") and dom["name"].lower() != str(u.get("domain_id")).lower():
                continue
            return u
        return None

    def _issue_token(self, req: Request) -> Response:
        body = req.json()
        auth = (body or {}).get("auth") if isinstance(body, dict) else None
        if not isinstance(auth, dict):
            raise ApiError(400, "Expecting to find auth in request body.")
        ident = auth.get("identity") or {}
        methods = ident.get("methods") or []
        st = self.state
        denied = ApiError(401, "The request you have made requires authentication.")
        project_id = None
        with st.lock:
            if "password" in methods:
                spec = (ident.get("password") or {}).get("user") or {}
                user = self._find_user(spec)
                if (
                    user is None
                    or user.get("password") != spec.get("password")
                    or not user.get("enabled", True)
                ):
                    raise denied
            elif "token" in methods:
                old = self.tokens.get((ident.get("token") or {}).get("id") or "")
                if old is None or old["expires"] <= time.time():
                    raise denied
                user = st.objects["users"].get(old["user"])
                if user is None:
                    raise denied
            elif "application_credential" in methods:
                spec = ident.get("application_credential") or {}
                user, cred = None, None
                for u in st.objects["users"].values():
                    for c in u.get("application_credentials") or ():
                        if (spec.get("id") and c.get("id") == spec["id"]) or (
                            spec.get("name")
                            and c.get("name") == spec["name"]
                            and (spec.get("user") or {}).get("name") in (u.get("name"), None)
                        ):
                            user, cred = u, c
                if cred is None or cred.get("secret") != spec.get("secret"):
                    raise denied
                project_id = st._ref("projects", cred.get("project")) or user.get("default_project_id")
            else:
                raise denied
            scope = auth.get("scope")
            if isinstance(scope, dict) and isinstance(scope.get("project"), dict):
                ps = scope["project"]
                proj = st.objects["projects"].get(ps.get("id") or "") if ps.get("id") else None
                if proj is None and ps.get("name"):
                    dom = ps.get("domain") or {}
                    for p in st.objects["projects"].values():
                        if p.get("name") == ps["name"] and (
                            (dom.get("id") or p.get("domain_id")) == p.get("domain_id")
                            and (dom.get("name") or str(p.get("domain_id"))).lower()
                            == str(p.get("domain_id")).lower()
                        ):
                            proj = p
                            break
                if proj is None:
                    raise denied
                project_id = proj["id"]
            project = st.objects["projects"].get(project_id or "")
            now = time.time()
            expires = now + float(self.token_ttl)
            token = "gAAAAA" + uuid.uuid4().hex + uuid.uuid4().hex
            domain = {
                "id": user.get("domain_id", "default"),
                "name": "Default" if user.get("domain_id", "default") == "default" else user["domain_id"],
            }
            tok: dict[str, Any] = {
                "methods": methods,
                "audit_ids": [uuid.uuid4().hex[:22]],
                "expires_at": fmt_time(expires, FMT_US) + "Z",
                "issued_at": fmt_time(now, FMT_US) + "Z",
                "user": {
                    "id": user["id"],
                    "name": user["name"],
                    "domain": domain,
                    "password_expires_at": None,
                },
            }
            if project is not None:
                pdom = project.get("domain_id", "default")
                tok["project"] = {
                    "id": project["id"],
                    "name": project["name"],
                    "domain": {"id": pdom, "name": "Default" if pdom == "default" else pdom},
                }
                tok["is_domain"] = False
                tok["roles"] = [
                    {"id": det_uuid("roles", r), "name": r} for r in ("admin", "member", "reader")
                ]
                tok["catalog"] = self._catalog(req.base, project["id"])
            body_out = {"token": tok}
        with self.lock:
            self.tokens[token] = {
                "expires": expires,
                "user": user["id"],
                "project": project_id,
                "body": body_out,
            }
            self.token_issues += 1
        return jresp(201, body_out, [("X-Subject-Token", token)])

    def _catalog(self, base: str, project_id: str) -> list:
        out = []
        for stype, name, path in (
            ("identity", "keystone", "/identity/v3"),
            ("compute", "nova", "/compute/v2.1"),
            ("network", "neutron", "/network"),
            ("volumev3", "cinderv3", f"/volume/v3/{project_id}"),
            ("block-storage", "cinder", f"/volume/v3/{project_id}"),
        ):
            eps = [
                {
                    "id": det_uuid("endpoint", stype, iface),
                    "interface": iface,
                    "region": self.region,
                    "region_id": self.region,
                    "url": base + path,
                }
                for iface in ("public", "internal", "admin")
            ]
            out.append({"id": det_uuid("service", stype), "type": stype, "name": name, "endpoints": eps})
        return out

    # -- Nova ------------------------------------------------------------------------------------

    def _nova_versions(self, base: str) -> tuple[dict, dict]:
        media = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}]
        v20 = {
            "id": "v2.0",
            "status": "SUPPORTED",
            "version": "",
            "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": f"{base}/compute/v2/"}],
            "media-types": media,
        }
        v21 = {
            "id": "v2.1",
            "status": "CURRENT",
            "version": f"{NOVA_MAX[0]}.{NOVA_MAX[1]}",
            "min_version": f"{NOVA_MIN[0]}.{NOVA_MIN[1]}",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
            ],
        }
        return v20, v21

    def _nova_mv(self, req: Request) -> tuple[int, int]:
        raw = _header_mv(req.headers, "compute") or req.headers.get("X-OpenStack-Nova-API-Version")
        if not raw:
            return NOVA_MIN
        return _parse_mv(raw, NOVA_MIN, NOVA_MAX, "compute")

    def _compute(self, req: Request, segs: list) -> Response:
        v20, v21 = self._nova_versions(req.base)
        if not segs:
            return jresp(200, {"versions": [v20, v21]})
        if segs[0] not in ("v2.1", "v2"):
            raise ApiError(404, "The resource could not be found.")
        if len(segs) == 1:
            # Nova's version document already passes its microversion middleware: the minimum, as headers.
            floor = f"{NOVA_MIN[0]}.{NOVA_MIN[1]}"
            return jresp(200, {"version": v21 if segs[0] == "v2.1" else v20}, headers=[
                ("OpenStack-API-Version", f"compute {floor}"), ("X-OpenStack-Nova-API-Version", floor),
                ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")])
        tok = self._auth(req)
        mv = self._nova_mv(req)
        vstr = f"{mv[0]}.{mv[1]}"
        mvh = [
            ("OpenStack-API-Version", f"compute {vstr}"),
            ("X-OpenStack-Nova-API-Version", vstr),
            ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
        ]
        rest = segs[1:]
        if rest and (rest[0] in self.state.objects["projects"] or rest[0] == tok.get("project")):
            rest = rest[1:]
        try:
            if req.method not in ("GET", "HEAD"):
                raise ApiError(405, "The simulator's Nova is read-only (use /_sim/ to change state).")
            resp = self._nova_route(req, rest, mv, tok)
        except ApiError as exc:
            exc.headers = exc.headers + mvh
            raise
        resp.headers.extend(mvh)
        return resp

    def _nova_route(self, req: Request, rest: list, mv: tuple[int, int], tok: dict) -> Response:
        n = len(rest)
        if not rest:
            raise ApiError(404, "The resource could not be found.")
        head = rest[0]
        if head == "servers":
            if n == 1 or (n == 2 and rest[1] == "detail"):
                return self._servers(req, n == 2, mv, tok)
            if n == 2:
                return self._server(req, rest[1], mv)
        elif head == "os-hypervisors":
            return self._hypervisors(req, rest[1:], mv)
        elif head == "os-services" and n == 1:
            return self._nova_services(req, mv)
        elif head == "os-migrations" and n == 1:
            return self._migrations(req, mv)
        elif head == "flavors":
            return self._flavors(req, rest[1:])
        elif head == "os-availability-zone" and n <= 2:
            return self._azs(req, n == 2)
        raise ApiError(404, "The resource could not be found.")

    def _servers(self, req: Request, detail: bool, mv: tuple[int, int], tok: dict) -> Response:
        st = self.state
        limit = self._limit(req)
        marker = req.q("marker")
        all_t = "all_tenants" in req.query and (req.q("all_tenants") == "" or _truthy(req.q("all_tenants")))
        preds = []
        if not all_t:
            pid = tok.get("project")
            preds.append(lambda s: s.get("tenant_id") == pid)
        else:
            proj = req.q("project_id") or req.q("tenant_id")
            if proj:
                preds.append(lambda s: s.get("tenant_id") == proj)
        show_deleted = _truthy(req.q("deleted"))
        if not show_deleted:
            preds.append(lambda s: s.get("status") != "DELETED")
        if req.q("status"):
            wanted = {v.upper() for v in req.query["status"]}
            preds.append(lambda s: s.get("status") in wanted)
        if req.q("host"):
            host = req.q("host")
            preds.append(lambda s: s.get("OS-EXT-SRV-ATTR:host") == host)
        if req.q("node"):
            node = req.q("node")
            preds.append(lambda s: s.get("OS-EXT-SRV-ATTR:hypervisor_hostname") == node)
        if req.q("name"):
            try:
                rx = re.compile(req.q("name") or "")
            except re.error as exc:
                raise ApiError(400, f"bad name regex: {exc}") from exc
            preds.append(lambda s: bool(rx.search(s.get("name") or "")))
        if req.q("changes-since"):
            since = self._time_param(req, "changes-since")
            preds.append(lambda s: (to_epoch(s.get("updated")) or 0) >= since)
        with st.lock:
            ix = st.index()
            items, pos = st.ordered("servers")
            if preds:
                items = [s for s in items if all(p(s) for p in preds)]
                pos = None
            page = self._page(items, "id", marker, limit, pos)
            cache = st.frag_cache("servers", (mv, req.base, detail), SERVER_FRAG_DEPS)
            frags = []
            for s in page:
                b = cache.get(s["id"])
                if b is None:
                    if detail:
                        obj = st.render_server(s, mv, req.base, ix)
                    else:
                        obj = {
                            "id": s["id"],
                            "name": s.get("name"),
                            "links": [
                                {"rel": "self", "href": f"{req.base}/compute/v2.1/servers/{s['id']}"},
                                {"rel": "bookmark", "href": f"{req.base}/compute/servers/{s['id']}"},
                            ],
                        }
                    b = jbody(obj)
                    cache[s["id"]] = b
                frags.append(b)
        out = b'{"servers": [' + b", ".join(frags) + b"]"
        if limit and len(page) == limit:
            out += b', "servers_links": ' + jbody(self._next_link(req, limit, page[-1]["id"]))
        return Response(200, out + b"}", [("Content-Type", "application/json")])

    def _time_param(self, req: Request, name: str) -> float:
        try:
            ts = to_epoch(req.q(name))
        except ValueError as exc:
            raise ApiError(400, f"Invalid {name} value") from exc
        return ts or 0.0

    def _server(self, req: Request, sid: str, mv: tuple[int, int]) -> Response:
        st = self.state
        with st.lock:
            s = st.objects["servers"].get(sid)
            if s is None or s.get("status") == "DELETED":
                raise ApiError(404, f"Instance {sid} could not be found.")
            return jresp(200, {"server": st.render_server(s, mv, req.base, st.index())})

    def _hypervisors(self, req: Request, rest: list, mv: tuple[int, int]) -> Response:
        st = self.state
        uuids = mv >= (2, 53)
        with st.lock:
            ix = st.index()
            hvs = list(st.objects["hypervisors"].values())
            if rest == ["statistics"]:
                if mv >= (2, 88):
                    raise ApiError(404, "The resource could not be found.")
                tot: dict[str, int] = {"count": len(hvs)}
                for h in hvs:
                    u = st.hypervisor_usage(h, ix)
                    for k in ("vcpus", "memory_mb", "local_gb"):
                        tot[k] = tot.get(k, 0) + (h.get(k) or 0)
                    for k in (
                        "vcpus_used",
                        "memory_mb_used",
                        "local_gb_used",
                        "free_ram_mb",
                        "free_disk_gb",
                        "current_workload",
                        "running_vms",
                        "disk_available_least",
                    ):
                        tot[k] = tot.get(k, 0) + (u.get(k) or 0)
                return jresp(200, {"hypervisor_statistics": tot})
            if len(rest) == 2 and rest[1] in ("search", "servers") and not uuids:
                found = [h for h in hvs if rest[0] in h["hypervisor_hostname"]]
                if not found:
                    raise ApiError(404, f"No hypervisor matching '{rest[0]}' could be found.")
                return jresp(
                    200,
                    {
                        "hypervisors": [
                            st.render_hypervisor(h, mv, False, ix, rest[1] == "servers") for h in found
                        ]
                    },
                )
            if len(rest) == 1 and rest[0] != "detail":
                hid = rest[0]
                h = next((h for h in hvs if str(h["id"] if uuids else h["_int_id"]) == hid), None)
                if h is None:
                    raise ApiError(
                        404 if uuids or hid.isdigit() else 400,
                        f"Hypervisor with ID {hid} could not be found.",
                    )
                return jresp(
                    200, {"hypervisor": st.render_hypervisor(h, mv, True, ix, _truthy(req.q("with_servers")))}
                )
            if len(rest) > 1:
                raise ApiError(404, "The resource could not be found.")
            detail = rest == ["detail"]
            with_servers = uuids and _truthy(req.q("with_servers"))
            pattern = req.q("hypervisor_hostname_pattern") if uuids else None
            if pattern:
                hvs = [h for h in hvs if pattern in h["hypervisor_hostname"]]
            links = None
            if mv >= (2, 33) and not pattern:
                limit = self._limit(req)
                keyed = [dict(h, _key=h["id"] if uuids else h["_int_id"]) for h in hvs]
                page = self._page(keyed, "_key", req.q("marker"), limit)
                if limit and len(page) == limit:
                    links = self._next_link(req, limit, page[-1]["_key"])
                hvs = [st.objects["hypervisors"][h["id"]] for h in page]
            body: dict[str, Any] = {
                "hypervisors": [st.render_hypervisor(h, mv, detail, ix, with_servers) for h in hvs]
            }
        if links:
            body["hypervisors_links"] = links
        return jresp(200, body)

    def _nova_services(self, req: Request, mv: tuple[int, int]) -> Response:
        st = self.state
        with st.lock:
            items = [st.render_compute_service(s, mv) for s in st.objects["compute_services"].values()]
        for k in ("binary", "host"):
            if req.q(k):
                items = [s for s in items if s.get(k) == req.q(k)]
        return jresp(200, {"services": items})

    def _migrations(self, req: Request, mv: tuple[int, int]) -> Response:
        st = self.state
        with st.lock:
            items = list(st.objects["migrations"].values())
        items = [m for m in items if not m.get("hidden")]
        for k in ("status", "source_compute", "instance_uuid", "migration_type"):
            if req.q(k):
                items = [m for m in items if str(m.get(k)) == req.q(k)]
        if req.q("host"):
            items = [m for m in items if req.q("host") in (m.get("source_compute"), m.get("dest_compute"))]
        if mv >= (2, 59) and req.q("changes-since"):
            since = self._time_param(req, "changes-since")
            items = [m for m in items if (to_epoch(m.get("updated_at")) or 0) >= since]
        if mv >= (2, 66) and req.q("changes-before"):
            before = self._time_param(req, "changes-before")
            items = [m for m in items if (to_epoch(m.get("updated_at")) or 0) <= before]
        if mv >= (2, 80):
            for k in ("project_id", "user_id"):
                if req.q(k):
                    items = [m for m in items if m.get(k) == req.q(k)]
        links = None
        if mv >= (2, 59):
            items.sort(key=lambda m: (to_epoch(m.get("created_at")) or 0, m.get("id") or 0), reverse=True)
            limit = self._limit(req)
            items = self._page(items, "uuid", req.q("marker"), limit)
            if limit and len(items) == limit:
                links = self._next_link(req, limit, items[-1]["uuid"])
        body: dict[str, Any] = {"migrations": [st.render_migration(m, mv, req.base) for m in items]}
        if links:
            body["migrations_links"] = links
        return jresp(200, body)

    def _flavors(self, req: Request, rest: list) -> Response:
        st = self.state
        with st.lock:
            fl = list(st.objects["flavors"].values())
            if not rest or rest == ["detail"]:
                return jresp(200, {"flavors": [st.render_flavor(f, req.base, bool(rest)) for f in fl]})
            if len(rest) == 1:
                f = st.objects["flavors"].get(rest[0])
                if f is None:
                    raise ApiError(404, f"Flavor {rest[0]} could not be found.")
                return jresp(200, {"flavor": st.render_flavor(f, req.base)})
        raise ApiError(404, "The resource could not be found.")

    def _azs(self, req: Request, detail: bool) -> Response:
        st = self.state
        with st.lock:
            svcs = list(st.objects["compute_services"].values())
            zones: dict[str, dict] = {}
            for s in svcs:
                if not detail and s.get("zone") == "internal":
                    continue
                z = zones.setdefault(
                    s.get("zone"),
                    {
                        "zoneName": s.get("zone"),
                        "zoneState": {"available": False},
                        "hosts": {} if detail else None,
                    },
                )
                up = st.service_state(s) == "up" and s.get("status") == "enabled"
                if s.get("binary") == "nova-compute" and up or s.get("zone") == "internal":
                    z["zoneState"]["available"] = True
                if detail:
                    z["hosts"].setdefault(s.get("host"), {})[s.get("binary")] = {
                        "available": up,
                        "active": s.get("status") == "enabled",
                        "updated_at": st.service_updated_at(s),
                    }
        return jresp(200, {"availabilityZoneInfo": list(zones.values())})

    # -- Cinder ----------------------------------------------------------------------------------

    def _cinder_version(self, base: str) -> dict:
        return {
            "id": "v3.0",
            "status": "CURRENT",
            "version": f"{CINDER_MAX[0]}.{CINDER_MAX[1]}",
            "min_version": f"{CINDER_MIN[0]}.{CINDER_MIN[1]}",
            "updated": "2023-08-31T00:00:00Z",
            "links": [
                {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                {"rel": "self", "href": f"{base}/volume/v3/"},
            ],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
            ],
        }

    def _volume(self, req: Request, segs: list) -> Response:
        if not segs:
            return jresp(300, {"versions": [self._cinder_version(req.base)]})
        if segs[0] != "v3":
            raise ApiError(404, "The resource could not be found.")
        if len(segs) == 1:
            return jresp(200, {"versions": [self._cinder_version(req.base)]})
        tok = self._auth(req)
        raw = _header_mv(req.headers, "volume")
        mv = _parse_mv(raw, CINDER_MIN, CINDER_MAX, "volume") if raw else CINDER_MIN
        vstr = f"{mv[0]}.{mv[1]}"
        mvh = [("OpenStack-API-Version", f"volume {vstr}"), ("Vary", "OpenStack-API-Version")]
        rest = segs[1:]
        project = tok.get("project")
        if rest[0] in self.state.objects["projects"] or re.fullmatch(r"[0-9a-fA-F-]{32,36}", rest[0]):
            project = rest.pop(0)
        try:
            if req.method not in ("GET", "HEAD"):
                raise ApiError(405, "The simulator's Cinder is read-only (use /_sim/ to change state).")
            resp = self._cinder_route(req, rest, mv, project)
        except ApiError as exc:
            exc.headers = exc.headers + mvh
            raise
        resp.headers.extend(mvh)
        return resp

    def _cinder_route(self, req: Request, rest: list, mv: tuple[int, int], project: str | None) -> Response:
        st = self.state
        if not rest:
            return jresp(200, {"versions": [self._cinder_version(req.base)]})
        head, n = rest[0], len(rest)
        if head == "volumes" and (n == 1 or (n == 2 and rest[1] == "detail")):
            return self._volumes(req, n == 2, mv, project)
        if head == "volumes" and n == 2:
            with st.lock:
                v = st.objects["volumes"].get(rest[1])
                if v is None:
                    raise ApiError(404, f"Volume {rest[1]} could not be found.")
                return jresp(200, {"volume": st.render_volume(v, mv, req.base)})
        if head == "os-services" and n == 1:
            with st.lock:
                items = [st.render_volume_service(s, mv) for s in st.objects["volume_services"].values()]
            for k in ("binary", "host"):
                if req.q(k):
                    items = [s for s in items if s.get(k) == req.q(k)]
            return jresp(200, {"services": items})
        if head == "types" and n == 1:
            with st.lock:
                names = sorted({v.get("volume_type") for v in st.objects["volumes"].values()} | {"vmdk"})
            return jresp(
                200,
                {
                    "volume_types": [
                        {
                            "id": det_uuid("volume_types", t),
                            "name": t,
                            "is_public": True,
                            "description": None,
                            "extra_specs": {"volume_backend_name": "vmdk"} if t == "vmdk" else {},
                        }
                        for t in names
                        if t
                    ]
                },
            )
        raise ApiError(404, "The resource could not be found.")

    def _volumes(self, req: Request, detail: bool, mv: tuple[int, int], project: str | None) -> Response:
        st = self.state
        limit = self._limit(req)
        all_t = _truthy(req.q("all_tenants")) or req.q("all_tenants") == ""
        preds = []
        if not all_t:
            preds.append(lambda v: v.get("os-vol-tenant-attr:tenant_id") == project)
        elif req.q("project_id"):
            pid = req.q("project_id")
            preds.append(lambda v: v.get("os-vol-tenant-attr:tenant_id") == pid)
        for k in ("status", "name", "bootable", "volume_type", "availability_zone"):
            if req.q(k) is not None:
                val = req.q(k)
                preds.append(lambda v, k=k, val=val: str(v.get(k)) == val)
        with st.lock:
            items, pos = st.ordered("volumes")
            if preds:
                items = [v for v in items if all(p(v) for p in preds)]
                pos = None
            page = self._page(items, "id", req.q("marker"), limit, pos)
            cache = st.frag_cache("volumes", (mv, req.base, detail), ())
            frags = []
            for v in page:
                b = cache.get(v["id"])
                if b is None:
                    if detail:
                        obj = st.render_volume(v, mv, req.base)
                    else:
                        obj = {
                            "id": v["id"],
                            "name": v.get("name"),
                            "links": [
                                {"rel": "self", "href": f"{req.base}/volume/v3/{project}/volumes/{v['id']}"}
                            ],
                        }
                    b = jbody(obj)
                    cache[v["id"]] = b
                frags.append(b)
        out = b'{"volumes": [' + b", ".join(frags) + b"]"
        if limit and len(page) == limit:
            out += b', "volumes_links": ' + jbody(self._next_link(req, limit, page[-1]["id"]))
        return Response(200, out + b"}", [("Content-Type", "application/json")])

    # -- Neutron ---------------------------------------------------------------------------------

    def _network(self, req: Request, segs: list) -> Response:
        if not segs:
            return jresp(
                200,
                {
                    "versions": [
                        {
                            "id": "v2.0",
                            "status": "CURRENT",
                            "links": [{"rel": "self", "href": f"{req.base}/network/v2.0/"}],
                        }
                    ]
                },
            )
        if segs[0] != "v2.0":
            raise ApiError(404, "The resource could not be found.")
        rest = segs[1:]
        if not rest:
            colls = [c for c in NEUTRON_COLLECTIONS if c != "agents" or self.agents_enabled]
            return jresp(
                200,
                {
                    "resources": [
                        {
                            "name": NEUTRON_COLLECTIONS[c],
                            "collection": c,
                            "links": [{"rel": "self", "href": f"{req.base}/network/v2.0/{c}"}],
                        }
                        for c in colls
                    ]
                },
            )
        self._auth(req)
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "The simulator's Neutron is read-only (use /_sim/ to change state).")
        if rest[-1].endswith(".json"):
            rest[-1] = rest[-1][:-5]
        coll = rest[0]
        if coll == "extensions" and len(rest) == 1:
            return jresp(200, {"extensions": self._extensions()})
        if coll not in NEUTRON_COLLECTIONS or (coll == "agents" and not self.agents_enabled):
            raise ApiError(404, "The resource could not be found.")
        st = self.state
        with st.lock:
            ix = st.index()
            if len(rest) == 1:
                return self._neutron_list(req, coll)
            obj = st.objects[coll].get(rest[1])
            if obj is None:
                raise ApiError(404, f"{NEUTRON_COLLECTIONS[coll].capitalize()} {rest[1]} could not be found.")
            if len(rest) == 2:
                return jresp(200, {NEUTRON_COLLECTIONS[coll]: self._neutron_render(coll, obj)})
            if len(rest) == 3 and coll == "agents" and rest[2] == "l3-routers":
                routers = [
                    st.objects["routers"][r] for r in obj.get("routers") or () if r in st.objects["routers"]
                ]
                return jresp(200, {"routers": [st.render_plain(r) for r in routers]})
            if len(rest) == 3 and coll == "routers" and rest[2] == "l3-agents":
                if not self.agents_enabled:
                    raise ApiError(404, "The resource could not be found.")
                return jresp(
                    200, {"agents": [st.render_agent(a, obj) for a in ix.agents_by_router.get(obj["id"], ())]}
                )
            if len(rest) == 3 and coll == "agents" and rest[2] == "dhcp-networks":
                nets = [
                    n
                    for n in st.objects["networks"].values()
                    if obj.get("agent_type") == "DHCP agent" and ix.subnets_by_net.get(n["id"])
                ]
                return jresp(200, {"networks": [st.render_network(n, ix) for n in nets]})
        raise ApiError(404, "The resource could not be found.")

    def _extensions(self) -> list:
        aliases = [
            "router",
            "extraroute",
            "l3-ha",
            "dvr",
            "binding",
            "external-net",
            "quotas",
            "project-id",
            "availability_zone",
            "network_availability_zone",
            "router_availability_zone",
            "standard-attr-timestamp",
            "standard-attr-revisions",
            "pagination",
            "sorting",
            "security-group",
            "port-security",
            "allowed-address-pairs",
            "extra_dhcp_opt",
            "subnet_allocation",
        ]
        if self.agents_enabled:
            aliases += ["agent", "l3_agent_scheduler", "dhcp_agent_scheduler"]
        return [
            {
                "alias": a,
                "name": a,
                "description": f"simulated {a} extension",
                "links": [],
                "updated": "2013-01-01T10:00:00-00:00",
            }
            for a in aliases
        ]

    def _neutron_render(self, coll: str, obj: dict) -> dict:
        st = self.state
        if coll == "networks":
            return st.render_network(obj, st.index())
        if coll == "agents":
            return st.render_agent(obj)
        return st.render_plain(obj)

    def _neutron_list(self, req: Request, coll: str) -> Response:
        st = self.state
        filters = {k: set(v) for k, v in req.query.items() if k not in _PAGING_PARAMS}
        fields = [f for v in req.query.get("fields", ()) for f in v.split(",") if f]
        items, pos = st.ordered(coll)
        if filters:

            def match(o: dict) -> bool:
                for k, vals in filters.items():
                    if k not in o:
                        continue
                    v = o[k]
                    sv = str(v).lower() if isinstance(v, bool) else str(v)
                    if sv not in vals:
                        return False
                return True

            items = [o for o in items if match(o)]
            pos = None
        limit = self._limit(req)
        page = self._page(items, "id", req.q("marker"), limit, pos)
        cacheable = coll == "ports" and not fields
        cache = st.frag_cache(coll, (req.base,), ()) if cacheable else None
        frags = []
        for o in page:
            b = cache.get(o["id"]) if cache is not None else None
            if b is None:
                r = self._neutron_render(coll, o)
                if fields:
                    r = {k: v for k, v in r.items() if k in fields}
                b = jbody(r)
                if cache is not None:
                    cache[o["id"]] = b
            frags.append(b)
        out = b'{"' + coll.encode() + b'": [' + b", ".join(frags) + b"]"
        if limit and len(page) == limit:
            out += b', "' + coll.encode() + b'_links": ' + jbody(self._next_link(req, limit, page[-1]["id"]))
        return Response(200, out + b"}", [("Content-Type", "application/json")])

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

    def _admin(self, method: str, path: str, query: dict, raw: bytes, base: str) -> Response:
        segs = [s for s in path.split("/") if s][1:]
        try:
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError as exc:
                raise SimError(400, f"malformed JSON: {exc}") from exc
            out = self._admin_route(method, segs, body)
            if isinstance(out, Response):
                return out
            return jresp(200, out)
        except SimError as exc:
            return jresp(exc.status, {"error": exc.message})
        except (ValueError, TypeError, KeyError) as exc:
            return jresp(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _admin_route(self, method: str, segs: list, body: Any) -> Any:
        st = self.state
        n = len(segs)
        if n == 0:
            return Response(200, ADMIN_HELP.encode(), [("Content-Type", "text/plain; charset=utf-8")])
        head = segs[0]
        if head == "counters":
            if n == 2 and segs[1] == "reset" and method == "POST":
                self.reset_counters()
                return self.counters()
            if n == 1 and method == "GET":
                return self.counters()
            if n == 1 and method == "DELETE":
                self.reset_counters()
                return self.counters()
        elif head == "state" and n == 1:
            if method == "GET":
                return st.dump()
            if method in ("POST", "PUT"):
                scen = body.get("scenario") if isinstance(body, dict) and set(body) == {"scenario"} else body
                st.load(load_scenario(scen))
                return {"loaded": True, "counts": {k: len(v) for k, v in st.objects.items()}}
        elif head == "reset" and n == 1 and method == "POST":
            if self.scenario is None:
                raise SimError(409, "started from a State object: load a scenario with POST /_sim/state")
            st.load(load_scenario(self.scenario))
            self.clear_faults()
            self.reset_counters()
            return {"reset": True}
        elif head == "faults":
            if n == 1 and method == "GET":
                with self.lock:
                    return {"faults": [f.describe() for f in self.faults]}
            if n == 1 and method == "POST":
                return self.add_fault(body or {})
            if n == 1 and method == "DELETE":
                return {"cleared": self.clear_faults()}
            if n == 2 and method == "DELETE":
                return {"cleared": self.clear_faults(int(segs[1]))}
        elif head == "tokens":
            if n == 2 and segs[1] == "expire" and method == "POST":
                with self.lock:
                    k = len(self.tokens)
                    self.tokens.clear()
                return {"expired": k}
            if n == 1 and method == "GET":
                with self.lock:
                    return {"tokens": len(self.tokens), "token_issues": self.token_issues}
        elif head == "settings" and n == 1:
            if method in ("PATCH", "POST", "PUT") and isinstance(body, dict):
                for k, v in body.items():
                    if k == "token_ttl":
                        self.token_ttl = float(v)
                    elif k == "page_max":
                        self.page_max = int(v)
                    elif k == "agents":
                        self.agents = bool(v)
                    elif k == "region":
                        self.region = str(v)
                    else:
                        st.settings[k] = v
            return {
                "token_ttl": self.token_ttl,
                "page_max": self.page_max,
                "agents": self.agents,
                "agents_enabled": self.agents_enabled,
                "region": self.region,
                "state": st.settings,
            }
        elif head in KINDS:
            if n == 1 and method == "GET":
                with st.lock:
                    return {head: list(st.objects[head].values())}
            if n == 1 and method == "POST":
                return st.add(head, body or {})
            if n == 2 and method == "GET":
                with st.lock:
                    return st.get(head, segs[1])
            if n == 2 and method in ("PATCH", "PUT"):
                return st.patch(head, segs[1], body or {})
            if n == 2 and method == "DELETE":
                return st.delete(head, segs[1])
            if n == 3 and head == "servers" and segs[2] == "migrate" and method == "POST":
                b = dict(body or {})
                to = b.pop("to", None) or b.pop("host", None)
                return st.migrate(
                    segs[1],
                    to,
                    b.pop("type", None) or b.pop("migration_type", "live-migration"),
                    b.pop("status", "completed"),
                    **b,
                )
        raise SimError(404, f"no admin route {method} /_sim/{'/'.join(segs)} (GET /_sim/ for help)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vio-sim"
    sys_version = ""
    disable_nagle_algorithm = True

    def _run(self, method: str) -> None:
        app: App = self.server.app  # type: ignore[attr-defined]
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b""
        host, port = self.server.server_address[:2]  # type: ignore[misc]
        try:
            resp = app.handle(method, self.path, self.headers, raw, f"{host}:{port}")
        except Exception:  # a bug in the simulator: answer 500 with the traceback
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            resp = jresp(500, {"computeFault": {"code": 500, "message": "simulator error", "details": tb}})
        if resp is None:
            self.close_connection = True
            return
        self.send_response(resp.status, REASONS.get(resp.status))
        for k, v in resp.headers:
            self.send_header(k, v)
        body = resp.body
        length = len(body) + (max(64, len(body)) if resp.truncate else 0)
        self.send_header("Content-Length", str(length))
        if resp.truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if resp.truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._run("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._run("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._run("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._run("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._run("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._run("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        app = getattr(self.server, "app", None)
        if app is not None and app.verbose:
            sys.stderr.write(f"vio-sim: {self.address_string()} {format % args}\n")


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], app: App) -> None:
        self.app = app
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, closed connection) is normal here, not worth a traceback.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class AdminError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"admin request failed: HTTP {status}: {body}")
        self.status = status
        self.body = body


class Simulator:
    """A running simulator: ``with Simulator("demo") as sim: ...`` (see the package docstring)."""

    def __init__(
        self,
        scenario: Any = "demo",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_max: int = 1000,
        token_ttl: float = 3600,
        region: str | None = None,
        agents: bool = True,
        verbose: bool = False,
    ) -> None:
        self.scenario = scenario
        self.host = host
        self.port = port
        self.options = {
            "page_max": page_max,
            "token_ttl": token_ttl,
            "region": region,
            "agents": agents,
            "verbose": verbose,
        }
        self.state: State | None = None
        self.app: App | None = None
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        if isinstance(self.scenario, State):
            self.state, source = self.scenario, None
        else:
            source = load_scenario(self.scenario)
            self.state = State(source)
        region = self.options["region"] or self.state.settings.get("region") or "RegionOne"
        self.state.settings["region"] = region
        self.app = App(
            self.state,
            page_max=self.options["page_max"],
            token_ttl=self.options["token_ttl"],
            region=region,
            agents=self.options["agents"],
            scenario=source,
            verbose=self.options["verbose"],
        )
        self._server = SimHTTPServer((self.host, self.port), self.app)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="vio-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        srv, self._server = self._server, None
        if srv is None:
            return
        assert self.app is not None
        self.app.stopping.set()
        srv.shutdown()
        srv.close_connections()
        srv.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- addresses and credentials ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.url + "/identity/v3"

    @property
    def credentials(self) -> dict:
        """Keyword arguments for ``openstack.connect(**sim.credentials)``."""
        assert self.state is not None, "start the simulator first"
        st = self.state
        user = st.admin_user() or {}
        proj = (
            st.objects["projects"].get(user.get("default_project_id") or "")
            or st.objects["projects"].get(st.admin_project() or "")
            or {}
        )
        return {
            "auth_url": self.auth_url,
            "username": user.get("name"),
            "password": user.get("password"),
            "project_name": proj.get("name"),
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": self.app.region if self.app else "RegionOne",
        }

    @property
    def username(self) -> str:
        return self.credentials["username"]

    @property
    def password(self) -> str:
        return self.credentials["password"]

    @property
    def project_name(self) -> str:
        return self.credentials["project_name"]

    @property
    def region(self) -> str:
        return self.credentials["region_name"]

    def write_clouds_yaml(self, path: str | Path, cloud: str = "vio-sim") -> Path:
        """Write a clouds.yaml with one cloud for this simulator (replaces the file)."""
        c = self.credentials
        lines = ["clouds:", f"  {cloud}:", "    auth:"]
        for k in (
            "auth_url",
            "username",
            "password",
            "project_name",
            "user_domain_name",
            "project_domain_name",
        ):
            lines.append(f"      {k}: {json.dumps(c[k])}")
        lines += [
            f"    region_name: {json.dumps(c['region_name'])}",
            "    interface: public",
            "    identity_api_version: 3",
            "",
        ]
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines))
        return p

    # -- admin helpers ---------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API over HTTP; returns decoded JSON (text for the help page)."""
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/_sim"):
            path = "/_sim" + path
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + quote(path, safe="/@:()"),
            data=data,
            method=method.upper(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw)
            except ValueError:
                detail = raw.decode(errors="replace")
            raise AdminError(exc.code, detail) from None
        return json.loads(raw) if "json" in ctype else raw.decode()

    def counters(self) -> dict:
        return self.admin("GET", "/_sim/counters")

    def reset_counters(self) -> dict:
        return self.admin("POST", "/_sim/counters/reset")

    def fault(self, path: str = ".*", **spec: Any) -> dict:
        return self.admin("POST", "/_sim/faults", dict(spec, path=path))

    def clear_faults(self) -> dict:
        return self.admin("DELETE", "/_sim/faults")

    def expire_tokens(self) -> dict:
        return self.admin("POST", "/_sim/tokens/expire")

    def get(self, kind: str, ref: str) -> dict:
        return self.admin("GET", f"/_sim/{kind}/{ref}")

    def patch(self, kind: str, ref: str, **fields: Any) -> dict:
        return self.admin("PATCH", f"/_sim/{kind}/{ref}", fields)

    def add(self, kind: str, obj: dict) -> dict:
        return self.admin("POST", f"/_sim/{kind}", obj)

    def delete(self, kind: str, ref: str) -> dict:
        return self.admin("DELETE", f"/_sim/{kind}/{ref}")

    def migrate(
        self,
        server: str,
        to: str,
        type: str = "live-migration",  # noqa: A002
        status: str = "completed",
    ) -> dict:
        return self.admin(
            "POST", f"/_sim/servers/{server}/migrate", {"to": to, "type": type, "status": status}
        )

    def reset(self) -> dict:
        return self.admin("POST", "/_sim/reset")

    def dump(self) -> dict:
        return self.admin("GET", "/_sim/state")


__all__ = ["ADMIN_HELP", "AdminError", "App", "SimHTTPServer", "Simulator"]
