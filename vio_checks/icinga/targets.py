"""Where bulk results go: the Icinga 2 API (process-check-result over keep-alive connections, bounded
concurrency, retries while Icinga is busy) or the Nagios 4 external command file."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import stat
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vio_checks import redact
from vio_checks.icinga import https
from vio_checks.icinga.bulk import Outcome, split_output
from vio_checks.redact import Redacted
from vio_checks.text import inert

#: Exit codes of a push round (vio-icinga's convention): all sent, some failed, configuration, unavailable.
EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG, EXIT_UNAVAILABLE = 0, 1, 2, 3

#: The service Nagios configs carry on a host that is a service's parent (render_nagios.STATE_SERVICE).
NAGIOS_STATE_SERVICE = "state"
#: Nagios 4 reads at most this many bytes of one external command (MAX_EXTERNAL_COMMAND_LENGTH 8192).
NAGIOS_MAX_LINE = 8000


def nagios_line(node_host: str, service: str | None, code: int, text: str, when: float) -> str:
    """One external command: the whole plugin output (perfdata included), newlines escaped as `\\n`."""
    body = text.rstrip("\n").replace("\\", "\\\\").replace("\n", "\\n")
    if service is None:
        head = f"[{int(when)}] PROCESS_HOST_CHECK_RESULT;{node_host};{code};"
    else:
        head = f"[{int(when)}] PROCESS_SERVICE_CHECK_RESULT;{node_host};{service};{code};"
    limit = NAGIOS_MAX_LINE - len(head.encode())
    if len(body.encode()) > limit:  # keep the status line; cut the long output
        body = body.encode()[:limit - 20].decode("utf-8", "ignore").rsplit("\\n", 1)[0] + "\\n(truncated)"
    return head + body


# --- targets ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One result to submit."""

    key: str  # the tracker's key: the Icinga object name (host or host!service)
    host: str
    service: str | None
    code: int  # exit status to submit (hosts already mapped to 0/1)
    outcome: Outcome
    digest: str
    ttl: float | None = None  # how long Icinga trusts this result (None: the target's default)
    level: int = 0  # depth in the tree: results are delivered parents first, level by level
    node: str = ""  # the tree node it reports on (default: key; a Nagios `state` service: its host)

    def __post_init__(self) -> None:
        self.node = self.node or self.key

    @property
    def problem(self) -> bool:
        """Not OK / UP: resent every round (see push.Tracker)."""
        return self.code != 0


@dataclass
class Delivery:
    """What a target did with a batch: the keys it delivered, and per failed key a one-line error."""

    sent: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False  # failures were the target being unreachable (not rejections)
    requests: int = 0


class TargetError(Redacted):
    """The target cannot be used at all this round; `code` is the exit code. No credential in the message."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class IcingaTarget:
    """Submits check results to `/v1/actions/process-check-result` over keep-alive connections."""

    PATH = "/v1/actions/process-check-result"

    def __init__(self, url: str, user: str, password: str, ca_file: str | None = None, *,
                 check_source: str, ttl: float, concurrency: int = 4, timeout: float = 30.0,
                 retries: int = 5, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 server_name: str | None = None) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise TargetError(f"--api-url {url!r}: use https://HOST:5665", EXIT_CONFIG)
        self.url = url.rstrip("/")
        self.scheme, self.host = parsed.scheme, parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.base_path = parsed.path.rstrip("/")
        self.context = None
        self.server_name = server_name
        if parsed.scheme == "https":
            try:
                self.context = https.tls_context(ca_file)
            except ValueError as e:
                raise TargetError(str(e), EXIT_CONFIG) from None
        self.headers = {**https.auth_headers(user, password), "Content-Type": "application/json",
                        "Connection": "keep-alive"}
        host_header = self.host if self.port in (80, 443) else f"{self.host}:{self.port}"
        self._head = (f"POST {self.base_path}{self.PATH} HTTP/1.1\r\nHost: {host_header}\r\n"
                      + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
                      + "Content-Length: ").encode("latin-1")
        self.check_source = check_source
        self.ttl = ttl
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.requests = 0  # HTTP requests made (all rounds), for tests and -v
        self.connections = 0  # connections opened
        self._count = threading.Lock()
        self._local = threading.local()
        self._open: list[http.client.HTTPConnection] = []
        self._fatal: TargetError | None = None

    # --- one request, on this thread's connection --------------------------------------------------

    def _connection(self) -> tuple[http.client.HTTPConnection, Any]:
        """This thread's keep-alive connection (connected) and a buffered reader of its socket."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = https.connection(self.scheme, self.host, self.port, self.timeout, self.context,
                                    self.server_name)
            conn.connect()
            self._local.conn, self._local.reader = conn, conn.sock.makefile("rb")
            with self._count:
                self.connections += 1
                self._open.append(conn)
        return conn, self._local.reader

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.reader.close()
            conn.close()
            self._local.conn = self._local.reader = None

    def _post(self, body: bytes) -> tuple[int, bytes]:
        """One POST on this thread's connection: the request written in one piece, the answer read with
        no more parsing than status, length and Connection (http.client's per-request header handling
        cost more CPU than the rest of a bulk round's sending)."""
        with self._count:
            self.requests += 1
        try:
            conn, reader = self._connection()
            conn.sock.sendall(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, data, close = read_response(reader)
        except BaseException:
            self._drop()
            raise
        if close:
            self._drop()
        return status, data

    def body(self, item: Item) -> dict[str, Any]:
        """The request body: the object-name shortcut (`host` / `service` = host!service), no filter."""
        output, perf = split_output(item.outcome.text)
        body: dict[str, Any] = {"type": "Host", "host": item.host} if item.service is None else \
            {"type": "Service", "service": f"{item.host}!{item.service}"}
        body.update(exit_status=item.code, plugin_output=output, performance_data=perf,
                    check_source=self.check_source, execution_start=item.outcome.started,
                    execution_end=item.outcome.ended, ttl=int(item.ttl or self.ttl))
        return body

    def submit_one(self, item: Item) -> str | None:
        """Submit one result; None when Icinga took it, else a one-line error. Raises TargetError when
        the API refuses us (401/403: no use going on) and ConnectionError when unavailable past retries."""
        if self._fatal is not None:
            raise self._fatal
        data = json.dumps(self.body(item)).encode()
        retry, stale_retry = https.Retries(self.retries, self.backoff, self.sleep), True
        while True:
            try:
                status, payload = self._post(data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if stale_retry:  # the server closed an idle keep-alive connection: reconnect once, now
                    stale_retry = False
                    continue
                problem = f"cannot reach {self.url}: {e or type(e).__name__}"
            except ssl.SSLError as e:
                self._fatal = TargetError(f"TLS error talking to {self.url}: {e} (check --ca-file and "
                                          "--tls-server-name)", EXIT_CONFIG)
                raise self._fatal from None
            except (OSError, http.client.HTTPException) as e:
                problem = f"cannot reach {self.url}: {e or type(e).__name__}"
            else:
                if status in (401, 403):
                    hint = " (check --api-user and the password)" if status == 401 else \
                        " (the ApiUser needs permission actions/process-check-result)"
                    self._fatal = TargetError(f"POST {self.PATH}: HTTP {status}{hint}", EXIT_CONFIG)
                    raise self._fatal
                if status not in https.RETRY_STATUSES:
                    return _result_error(status, payload)
                problem = f"POST {self.PATH}: HTTP {status}"
            retry.pause(problem, ConnectionError)

    def deliver(self, items: list[Item]) -> Delivery:
        """Submit a batch with `concurrency` workers, each on its own keep-alive connection."""
        out = Delivery()
        before = self.requests
        self._fatal = None

        def work(item: Item) -> tuple[Item, str | None, bool]:
            try:
                return item, self.submit_one(item), False
            except ConnectionError as e:
                return item, str(e), True

        try:
            workers = min(self.concurrency, max(1, len(items)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
                results = list(pool.map(work, items))
        finally:
            out.requests = self.requests - before
            # A round's connections end with it (its worker threads are gone): a loop never reuses one the
            # server closed while idle.
            with self._count:
                opened, self._open = self._open, []
            for conn in opened:
                conn.close()
        unavailable = []
        for item, error, down in results:
            if error is None:
                out.sent.append(item.key)
            else:
                out.errors[item.key] = error
                unavailable.append(down)
        out.unavailable = bool(unavailable) and all(unavailable)
        return out


#: Bounds of what read_response accepts from the API (a line, the headers, a body).
_MAX_LINE, _MAX_HEADERS, _MAX_BODY = 65536, 100, 64 * 1024 * 1024


def read_response(reader: Any) -> tuple[int, bytes, bool]:
    """(status, body, the server closes the connection) of one HTTP/1.x response from a buffered reader:
    Content-Length or chunked bodies. Raises http.client.RemoteDisconnected when the server closed the
    connection before answering (an idle keep-alive connection: the caller reconnects), and
    http.client.HTTPException for anything that is not HTTP."""
    line = reader.readline(_MAX_LINE)
    if not line:
        raise http.client.RemoteDisconnected("the API closed the connection without a response")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise http.client.BadStatusLine(line.decode("latin-1", "replace").strip())
    status = int(parts[1])
    close = parts[0] == b"HTTP/1.0"
    length, chunked = None, False
    for _ in range(_MAX_HEADERS):
        header = reader.readline(_MAX_LINE)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            close = value == b"close" or (close and value != b"keep-alive")
    else:
        raise http.client.HTTPException("too many response headers")
    if chunked:
        body = bytearray()
        while True:
            size = int(reader.readline(_MAX_LINE).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while reader.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            body += reader.read(size)
            reader.readline(_MAX_LINE)
            if len(body) > _MAX_BODY:
                raise http.client.HTTPException("response body too large")
        return status, bytes(body), close
    if length is None:  # the body ends with the connection
        return status, reader.read(_MAX_BODY), True
    if length > _MAX_BODY:
        raise http.client.HTTPException("response body too large")
    data = reader.read(length)
    if len(data) < length:
        raise http.client.IncompleteRead(data, length - len(data))
    return status, data, close


def _result_error(status: int, payload: bytes) -> str | None:
    """None when process-check-result took the result, else Icinga's reason (one line)."""
    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        data = {}
    results = data.get("results") if isinstance(data, dict) else None
    if status == 200 and isinstance(results, list) and results:
        bad = [r for r in results if isinstance(r, dict) and int(r.get("code", 200)) >= 400]
        if not bad:
            return None
        return f"HTTP {bad[0].get('code')}: {inert(redact.text(bad[0].get('status', '')), 300)}"
    reason = data.get("status") or data.get("error") if isinstance(data, dict) else None
    if status == 404:
        return "no such object in Icinga (is the generated config deployed?)"
    return f"HTTP {status}: {inert(redact.text(reason or 'no results'), 300)}"


class NagiosTarget:
    """Appends external commands to the Nagios command file (a FIFO, or a plain file for tests/spools)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.requests = 0  # writes (one per round), for symmetry with IcingaTarget

    def deliver(self, items: list[Item], now: float | None = None) -> Delivery:
        out = Delivery()
        if not items:
            return out
        when = time.time() if now is None else now
        lines = []
        for item in items:
            lines.append(nagios_line(item.host, item.service, item.code, item.outcome.text, when) + "\n")
        try:
            fd = self._open()
        except OSError as e:
            out.errors = {item.key: f"cannot open --command-file {self.path}: {e.strerror or e}"
                          for item in items}
            out.unavailable = True
            return out
        try:
            self.requests += 1
            out.requests = 1
            for item, line in zip(items, lines, strict=True):
                data = line.encode("utf-8", "replace")
                try:
                    while data:  # one line per write: ≤ PIPE_BUF lines reach the pipe whole
                        n = os.write(fd, data)
                        data = data[n:]
                    out.sent.append(item.key)
                except OSError as e:
                    out.errors[item.key] = f"writing --command-file {self.path}: {e.strerror or e}"
                    out.unavailable = True
        finally:
            os.close(fd)
        return out

    def _open(self) -> int:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise OSError(2, "no such file (is Nagios running with check_external_commands=1?)") from None
        if stat.S_ISFIFO(st.st_mode):
            # Non-blocking open fails at once (ENXIO) when Nagios is not reading; then write blocking.
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == 6:  # ENXIO
                    raise OSError(6, "nobody reads the command file (is Nagios running?)") from None
                raise
            os.set_blocking(fd, True)
            return fd
        return os.open(self.path, os.O_WRONLY | os.O_APPEND)


