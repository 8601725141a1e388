"""The certificates part of a sweep: the TLS certificate of every https catalog endpoint (and of vCenter).

For each distinct host:port among the catalog's https endpoints of the interface the cloud config uses
(public by default), one TLS handshake on a connection of its own, verifying against the CA the cloud
config names (its `cacert`, else the CA bundle the API requests use). When that handshake verifies, its
certificate is read from it: one handshake. When it does not, a second handshake with verification off
reads the certificate that failed (two). With verification off in the cloud config (`insecure`), one
handshake reads it unverified. Handshakes are counted in `Meta.handshakes`, apart from the API requests.

Handshakes run in parallel (at most MAX_PARALLEL at once) within HANDSHAKE_TIMEOUT seconds and what is left
of the sweep's -t; an endpoint that does not answer, or answers without TLS, is that endpoint's finding (its
record's `error`), never the sweep's failure. A catalog without https endpoints costs nothing.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Any

from vio_checks.judge.certificate import VERIFICATION_OFF
from vio_checks.optional_records import Certificate
from vio_checks.text import inert

log = logging.getLogger(__name__)

#: Seconds one endpoint's handshakes may take at most (less when less of -t is left).
HANDSHAKE_TIMEOUT = 5.0
#: Handshakes in flight at once.
MAX_PARALLEL = 8
#: What `verify_error` says when the cloud config turns verification off.
VERIFY_OFF = f"{VERIFICATION_OFF} in the cloud configuration (insecure)"

#: (certificate DER or None, verified, verify_error, error, handshakes made) of one endpoint.
Read = tuple["bytes | None", "bool | None", "str | None", "str | None", int]


def endpoint_name(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def https_targets(endpoints: list[tuple[str, str, str | None]]) -> dict[tuple[str, int], tuple[str, ...]]:
    """(host, port) → the sorted service types on it, of the catalog endpoints whose URL is https."""
    found: dict[tuple[str, int], set[str]] = {}
    for stype, url, _region in endpoints:
        try:
            parts = urllib.parse.urlsplit(url)
            host, port = parts.hostname, parts.port or 443
        except ValueError:  # a malformed URL or port: not an endpoint we can reach (probes.py says so)
            continue
        if parts.scheme.lower() == "https" and host:
            found.setdefault((host, port), set()).add(stype or "?")
    return {k: tuple(sorted(v)) for k, v in sorted(found.items())}


def verify_context(verify: Any) -> ssl.SSLContext | None:
    """The verifying SSL context for a session's `verify` (True: the CA bundle requests uses, the one its
    REQUESTS_CA_BUNDLE names or certifi's; a path: that file or directory; False: None, verification off)."""
    import os

    if verify is False:
        return None
    if verify is True:  # requests' own order: its CA bundle variables, else certifi's bundle
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    if isinstance(verify, str) and verify:
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    try:
        import certifi  # what requests verifies with (the API requests' own CA bundle)

        return ssl.create_default_context(cafile=certifi.where())
    except (ImportError, OSError):
        return ssl.create_default_context()


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _peer_der(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> bytes | None:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError | socket.timeout):
        return "no TLS handshake within the time left"
    if isinstance(e, ssl.SSLError):
        return f"TLS handshake failed: {e.reason or e.strerror or type(e).__name__}"
    if isinstance(e, OSError):
        return f"cannot connect: {e.strerror or type(e).__name__}"
    return f"{type(e).__name__}"


def read_certificate(host: str, port: int, timeout: float, verifying: ssl.SSLContext | None) -> Read:
    """The certificate `host:port` presents, verified against `verifying` (None: verification off)."""
    until = time.monotonic() + timeout
    if verifying is not None:
        try:
            return _peer_der(host, port, verifying, timeout), True, None, None, 1
        except ssl.SSLCertVerificationError as e:
            failed = inert(e.verify_message or e.reason or "certificate verification failed", 200)
        except (OSError, ValueError) as e:
            return None, None, None, _why(e), 1
        left = until - time.monotonic()
        if left <= 0.05:
            return None, False, failed, "no time left to read the certificate that failed verification", 1
        try:
            return _peer_der(host, port, _unverified_context(), left), False, failed, None, 2
        except (OSError, ValueError) as e:
            return None, False, failed, _why(e), 2
    try:
        return _peer_der(host, port, _unverified_context(), timeout), None, VERIFY_OFF, None, 1
    except (OSError, ValueError) as e:
        return None, None, VERIFY_OFF, _why(e), 1


def certificate(host: str, port: int, services: tuple[str, ...], read: Read) -> Certificate:
    """The record of what one endpoint's handshakes read (the certificate decoded with `cryptography`)."""
    der, verified, verify_error, error, _n = read
    cert = Certificate(endpoint_name(host, port), host, port, services, verified=verified,
                       verify_error=verify_error, error=error)
    if der is None:
        if error is None:
            cert.error = "the endpoint presented no certificate"
        return cert
    try:
        from cryptography import x509

        parsed = x509.load_der_x509_certificate(der)
        after = getattr(parsed, "not_valid_after_utc", None)
        if after is None:  # cryptography < 42: a naive datetime in UTC
            import datetime as dt

            after = parsed.not_valid_after.replace(tzinfo=dt.UTC)
        cert.not_after = after.timestamp()
        cert.subject = parsed.subject.rfc4514_string()
        cert.issuer = parsed.issuer.rfc4514_string()
    except Exception as e:  # an undecodable certificate: unverified, never a guess
        cert.error = f"unreadable certificate: {type(e).__name__}"
    return cert


def read_all(targets: dict[tuple[str, int], tuple[str, ...]], window: float,
             verify: Any) -> tuple[list[Certificate], int]:
    """Every target's certificate, at most MAX_PARALLEL handshakes at once, all within `window` seconds;
    a target still unanswered then is its own finding. `verify` as a session's (verify_context). Returns
    the records and the handshakes made."""
    try:
        verifying = verify_context(verify)
    except (OSError, ssl.SSLError) as e:  # the configured CA cannot be read: nothing can be verified
        why = f"cannot read the configured CA {inert(verify, 200)}: {e.strerror or type(e).__name__}"
        return [certificate(h, p, s, (None, None, None, why, 0)) for (h, p), s in targets.items()], 0
    until = time.monotonic() + window
    found: dict[tuple[str, int], Read] = {}
    gate = threading.BoundedSemaphore(MAX_PARALLEL)

    def one(host: str, port: int) -> None:
        with gate:
            left = until - time.monotonic()
            if left > 0.05:
                found[(host, port)] = read_certificate(host, port, left, verifying)

    threads = [threading.Thread(target=one, args=key, daemon=True, name="tls") for key in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, until - time.monotonic()))
    late = (None, None, None, f"no TLS handshake within {window:.1f} s", 0)
    reads = {key: found.get(key, late) for key in targets}
    return ([certificate(h, p, services, reads[(h, p)]) for (h, p), services in targets.items()],
            sum(r[4] for r in reads.values()))


def _window(left: float) -> float:
    return max(0.0, min(HANDSHAKE_TIMEOUT, left - 0.05))


def sweep_certificates(client: Any, inv: Any) -> None:
    """Fill `inv.certificates` from the catalog's https endpoints of the configured interface, and count
    the handshakes in `inv.meta.handshakes`."""
    interface = (client.conn.config.get_interface() or "public").removesuffix("URL")
    targets = https_targets(client.public_endpoints(interface))
    if not targets:
        return
    window = _window(client.deadline - time.monotonic())
    certs, made = read_all(targets, window, getattr(client.session, "verify", True))
    inv.certificates = certs
    inv.meta.handshakes = getattr(inv.meta, "handshakes", 0) + made
    log.info("%d TLS handshakes for %d https endpoints", made, len(targets))


def add_vcenter(inv: Any, creds: Any, deadline: float) -> None:
    """vCenter's certificate (the vSphere layer's credentials: host, port, cafile, insecure) into `inv`."""
    if creds is None or getattr(creds, "protocol", "https") != "https":
        return
    targets = {(creds.host, creds.port): ("vcenter",)}
    window = _window(deadline - time.monotonic())
    certs, made = read_all(targets, window, False if creds.insecure else creds.cafile or True)
    names = {c.name for c in certs}
    inv.certificates = [c for c in inv.certificates if c.name not in names] + certs
    inv.meta.handshakes = getattr(inv.meta, "handshakes", 0) + made
    inv.meta.counts["certificates"] = len(inv.certificates)
