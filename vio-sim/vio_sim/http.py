"""HTTP plumbing shared by the simulated services: requests, responses, errors, microversions, paging, and
the threaded HTTP server that feeds requests to the ``App``."""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from .app import App

NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                    405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
                    429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
REASONS = {300: "Multiple Choices", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


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
    trickle: float = 0.0  # seconds between two bytes of the body (a reply that trickles in)


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


def truthy(v: str | None) -> bool:
    return v is not None and v.strip().lower() not in ("0", "false", "no", "off", "f", "n")


def parse_mv(raw: str, lo: tuple[int, int], hi: tuple[int, int], label: str) -> tuple[int, int]:
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


def header_mv(headers: Any, service: str) -> str | None:
    for h in headers.get_all("OpenStack-API-Version") or ():
        for part in h.split(","):
            svc, _, ver = part.strip().partition(" ")
            if svc.lower() == service and ver.strip():
                return ver.strip()
    return None


#: missing_fields kinds → (the API's path prefix, the reply keys of a list and of one record).


def error_response(path: str, status: int, message: str, headers: list | None = None) -> Response:
    """An error in the shape the service under ``path`` uses (Keystone, Neutron, else Nova/Cinder)."""
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


# -- paging -------------------------------------------------------------------------------------------

def paginate(items: list, key: str, marker: str | None, limit: int, pos: dict | None = None) -> list:
    """The ``limit`` items after ``marker`` (``pos``: key -> position, when known)."""
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


def next_link(req: Request, limit: int, marker: Any) -> list:
    """A ``*_links`` value pointing at the page after ``marker``."""
    q = {k: v for k, v in req.query.items() if k not in ("limit", "marker")}
    q["limit"] = [str(limit)]
    q["marker"] = [str(marker)]
    return [{"rel": "next", "href": f"{req.base}{req.path}?{urlencode(q, doseq=True)}"}]


def fragment_list(req: Request, coll: str, page_items: list, frags: list[bytes], limit: int) -> Response:
    """A list reply assembled from pre-rendered JSON fragments, with a next link when the page is full."""
    out = b'{"' + coll.encode() + b'": [' + b", ".join(frags) + b"]"
    if limit and len(page_items) == limit:
        out += b', "' + coll.encode() + b'_links": ' + jbody(next_link(req, limit, page_items[-1]["id"]))
    return Response(200, out + b"}", [("Content-Type", "application/json")])


# -- microversioned services (Nova, Cinder) -----------------------------------------------------------

@dataclass(frozen=True)
class VersionedApi:
    """What differs between the microversioned services behind ``serve_versioned``."""

    service: str  # the service name in OpenStack-API-Version ("compute", "volume")
    label: str  # for messages ("Nova", "Cinder")
    lo: tuple[int, int]
    hi: tuple[int, int]
    legacy_header: str | None  # Nova's X-OpenStack-Nova-API-Version
    #: whether a path segment after the version is a project id (stripped, and the request's project)
    is_project: Callable[[App, str, dict], bool]
    #: (app, request, path after version and project, microversion, token, project) -> response
    route: Callable[[App, Request, list, tuple[int, int], dict, str | None], Response]


def serve_versioned(app: App, req: Request, rest: list, api: VersionedApi) -> Response:
    """Authenticate, negotiate the microversion, strip a project segment, refuse writes, route, and echo
    the microversion headers on the reply (errors included)."""
    tok = app.auth(req)
    raw = header_mv(req.headers, api.service)
    if not raw and api.legacy_header:
        raw = req.headers.get(api.legacy_header)
    mv = parse_mv(raw, api.lo, api.hi, api.service) if raw else api.lo
    vstr = f"{mv[0]}.{mv[1]}"
    mvh = [("OpenStack-API-Version", f"{api.service} {vstr}")]
    if api.legacy_header:
        mvh += [(api.legacy_header, vstr), ("Vary", f"OpenStack-API-Version, {api.legacy_header}")]
    else:
        mvh.append(("Vary", "OpenStack-API-Version"))
    project = tok.get("project")
    if rest and api.is_project(app, rest[0], tok):
        project, rest = rest[0], rest[1:]
    try:
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, f"The simulator's {api.label} is read-only (use /_sim/ to change state).")
        resp = api.route(app, req, rest, mv, tok, project)
    except ApiError as exc:
        exc.headers = exc.headers + mvh
        raise
    resp.headers.extend(mvh)
    return resp


# -- the socket layer ---------------------------------------------------------------------------------

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
        if resp.trickle:
            self._trickle(app, body, resp.trickle)
            return
        self.wfile.write(body)

    def _trickle(self, app: App, body: bytes, pause: float) -> None:
        """Send `body` one byte at a time, `pause` seconds apart: each read gets a byte well within any
        socket timeout, so only a deadline on the whole reply ends it. Stops when the simulator does."""
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            if app.stopping.wait(pause):
                self.close_connection = True
                return

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
