"""One endpoint served over TLS with a given certificate, and extra catalog endpoints.

The simulator speaks plain http; a test that needs an https catalog endpoint (a certificate near expiry,
one that does not verify) starts a ``TlsServer``: the same App on a port of its own behind TLS, counting the
handshakes it accepts. ``catalog_extra`` (a region's scenario setting, set
through ``PATCH /_sim/settings``) adds endpoints to the token's catalog:
``[{"type": "key-manager", "name": "barbican", "url": "https://localhost:8443/key-manager",
"interfaces": ["public"]}]`` (interfaces default to public, internal and admin).
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

from .http import SimHTTPServer

INTERFACES = ("public", "internal", "admin")


def catalog_extra(app: Any, region: Any) -> list[dict]:
    """The catalog services one region's ``catalog_extra`` setting adds (endpoints of that region)."""
    out = []
    for i, extra in enumerate(region.state.settings.get("catalog_extra") or []):
        eps = [{"id": f"extra-{region.name}-{i}-{iface}", "interface": iface, "region": region.name,
                "region_id": region.name, "url": extra["url"]}
               for iface in extra.get("interfaces") or INTERFACES]
        out.append({"id": f"extra-{i}", "type": extra.get("type", "key-manager"),
                    "name": extra.get("name", "extra"), "endpoints": eps})
    return out


class _TlsHTTPServer(SimHTTPServer):
    """SimHTTPServer whose connections are TLS, the handshake made in the connection's own thread."""

    def __init__(self, addr: tuple[str, int], app: Any, context: ssl.SSLContext) -> None:
        self.context = context
        self.handshakes = 0  # connections whose handshake was attempted
        self.counts_lock = threading.Lock()
        super().__init__(addr, app)

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self.counts_lock:
            self.handshakes += 1
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that refused the certificate, or only read it
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class TlsServer:
    """A running TLS endpoint of a simulator's App (see the module docstring)."""

    def __init__(self, app: Any, certfile: str, keyfile: str, host: str = "127.0.0.1", port: int = 0,
                 name: str = "localhost") -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self._server = _TlsHTTPServer((host, port), app, context)
        self.port = self._server.server_address[1]
        self.name = name  # the host name URLs use (the certificate names it)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="vio-sim-tls", daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        """`https://NAME:PORT`."""
        return f"https://{self.name}:{self.port}"

    @property
    def handshakes(self) -> int:
        """TLS connections accepted (each one handshake)."""
        return self._server.handshakes

    def stop(self) -> None:
        srv = self._server
        srv.shutdown()
        srv.close_connections()
        srv.server_close()
        self._thread.join(timeout=5)
