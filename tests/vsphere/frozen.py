"""A vCenter that hangs: it accepts TCP connections and never answers.

`FrozenVCenter("tcp")` accepts and reads, never writes; `FrozenVCenter("tls")` completes the TLS handshake
(a throw-away self-signed certificate) and then never answers; `FrozenVCenter("proxy", upstream=(host,
port), answers=N, delay=D)` forwards each connection to a real (simulated) vCenter, each request D seconds
late, until N HTTP requests have gone through, then holds every connection open in silence: a slow vCenter
that hangs in the middle of a sweep.
`connections` counts the connections accepted, so a test can tell whether a command tried vCenter at all.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path


class FrozenVCenter:
    """A listening socket on 127.0.0.1 that never answers (see the module's docstring)."""

    def __init__(self, mode: str, tmp: Path | None = None, upstream: tuple[str, int] | None = None,
                 answers: int = 0, delay: float = 0.0) -> None:
        self.mode = mode
        self.delay = delay
        self.upstream = upstream
        self.answers = answers
        self.requests = 0
        self.connections = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._context = _server_context(tmp) if mode == "tls" else None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def credentials_yaml(self) -> str:
        """A vCenter credentials file's text for this server."""
        protocol = "https" if self.mode == "tls" else "http"
        return (f"host: 127.0.0.1\nport: {self.port}\nprotocol: {protocol}\ninsecure: true\n"
                "user: monitoring\npassword: frozen-secret-password\n")

    def write_credentials(self, path: Path) -> Path:
        path.write_text(self.credentials_yaml())
        path.chmod(0o600)
        return path

    def _keep(self, s: socket.socket) -> None:
        with self._lock:
            self._open.append(s)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._keep(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "tls":
                conn.settimeout(5)
                conn = self._context.wrap_socket(conn, server_side=True)
                self._keep(conn)
            if self.mode == "proxy":
                self._proxy(conn)
                return
            conn.settimeout(0.2)
            while not self._stop.is_set():  # read whatever comes, answer nothing
                try:
                    if not conn.recv(65536):
                        return
                except TimeoutError:
                    continue
        except OSError:
            return

    def _proxy(self, conn: socket.socket) -> None:
        up = socket.create_connection(self.upstream, timeout=5)
        self._keep(up)
        threading.Thread(target=self._answers, args=(up, conn), daemon=True).start()
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            with self._lock:
                self.requests += data.count(b"POST /sdk") + data.count(b"GET /sdk")
                frozen = self.requests > self.answers
            if frozen:  # this request and every later one stay unanswered
                self._hold(conn)
                return
            time.sleep(self.delay)
            up.sendall(data)

    def _answers(self, up: socket.socket, conn: socket.socket) -> None:
        """vCenter's answers, passed on as they come."""
        up.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = up.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                conn.sendall(data)
            except OSError:
                return

    def _hold(self, conn: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for s in self._open:
                try:
                    s.close()
                except OSError:
                    pass
        self._thread.join(timeout=5)


def _server_context(tmp: Path | None) -> ssl.SSLContext:
    """A server-side TLS context with a fresh self-signed certificate for 127.0.0.1 (openssl)."""
    assert tmp is not None, "the tls mode needs a directory for its certificate"
    key, cert = tmp / "frozen-key.pem", tmp / "frozen-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
