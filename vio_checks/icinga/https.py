"""The HTTPS connection and Basic auth every Icinga API client of ours shares (deploy.IcingaApi through
urllib, targets.IcingaTarget on keep-alive http.client connections).

TLS is always verified: against --ca-file (else the system's CAs), for the URL's host name, or for
--tls-server-name when given. The latter is for Icinga endpoints, whose certificates carry the endpoint
name (`icinga2 pki`: CN = subjectAltName = NodeName), which is often not a DNS name: connect to the
address in the URL, verify the certificate for the endpoint name.

    context = tls_context(ca_file)                      # ValueError: a one-line message
    conn = connection("https", "127.0.0.1", 5665, 30, context, server_name="satellite-regionone")
    opener = urllib.request.build_opener(HTTPSHandler(context, "satellite-regionone"), ...)
"""

from __future__ import annotations

import base64
import functools
import http.client
import logging
import ssl
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Statuses that mean "busy, try again": another config update (423), a reload (503), a proxy's 502/504.
RETRY_STATUSES = frozenset({423, 502, 503, 504})


def auth_headers(user: str, password: str) -> dict[str, str]:
    """Basic auth and JSON accept headers (the password only ever goes into the Authorization header)."""
    from vio_checks import redact

    redact.register(password)
    redact.register(f"{user}:{password}")  # its base64 is the Basic credential
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": "application/json"}


class Retries:
    """Exponential backoff for one request: `backoff`, 2x, 4x ... seconds (at most 30) between attempts.

        retry = Retries(self.retries, self.backoff, self.sleep)
        while True:
            ...                                  # on a retryable failure:
            retry.pause(problem, ApiUnavailable)  # raises ApiUnavailable after the last attempt
    """

    def __init__(self, retries: int, backoff: float, sleep: Callable[[float], None]) -> None:
        self.retries, self.backoff, self.sleep = retries, backoff, sleep
        self.attempt = 0

    def pause(self, problem: str, give_up: Callable[[str], Exception]) -> None:
        """Sleep before the next attempt, or raise give_up("<problem>; gave up after N attempts")."""
        if self.attempt >= self.retries:
            raise give_up(f"{problem}; gave up after {self.attempt + 1} attempts")
        delay = min(30.0, self.backoff * 2 ** self.attempt)
        log.info("%s; retrying in %.1f s", problem, delay)
        self.sleep(delay)
        self.attempt += 1


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context for the Icinga API: `ca_file` (None: the system's CAs), host name checked.
    Raises ValueError (one line).

    Python 3.13 turns on VERIFY_X509_STRICT in default contexts, which refuses a certificate without
    Authority/Subject Key Identifiers: exactly what `icinga2 pki` issues (Icinga/icinga2#10469). Only that
    flag is cleared, only here: the chain must still lead to the CA and the name must still match.
    """
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"cannot load --ca-file {ca_file}: {e}") from None
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context


class ServerNameHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the given host and port; verifies the certificate for `server_name` (default: host)."""

    def __init__(self, host: str, port: int | None = None, *, server_name: str | None = None,
                 **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self.server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # the TCP connection to host:port (no proxy tunnel: unused)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name or self.host)


def connection(scheme: str, host: str, port: int, timeout: float, context: ssl.SSLContext | None,
               server_name: str | None = None) -> http.client.HTTPConnection:
    """A (keep-alive) connection to host:port: HTTPS verified for `server_name` or host, or plain HTTP."""
    if scheme == "https":
        return ServerNameHTTPSConnection(host, port, server_name=server_name, timeout=timeout,
                                         context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


class HTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS with `ServerNameHTTPSConnection`: the certificate verified for `server_name`."""

    def __init__(self, context: ssl.SSLContext, server_name: str | None = None) -> None:
        super().__init__(context=context)
        self.server_name = server_name

    def https_open(self, req):
        factory = functools.partial(ServerNameHTTPSConnection, server_name=self.server_name)
        return self.do_open(factory, req, context=self._context)
