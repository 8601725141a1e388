"""Endpoint probes: one unauthenticated GET of each public catalog endpoint (its version document) for
reachability and latency, all at once within a bounded share of the sweep's budget.
"""

from __future__ import annotations

import threading
import time
from typing import Any

#: The endpoint probes' share of a sweep's budget, at least PROBE_MIN and at most PROBE_TIMEOUT seconds.
PROBE_SHARE = 0.25
PROBE_MIN = 1.0
PROBE_TIMEOUT = 5.0

#: (answered, HTTP status, latency s, error) of one probe.
Probe = tuple[bool, "int | None", float, "str | None"]


def probe(client: Any, url: str, timeout: float) -> Probe:
    """One unauthenticated GET of an endpoint through a CloudClient, within `timeout` seconds."""
    from vio_checks.errtext import error_line

    limits = tuple(min(t, timeout) for t in client._timeout())
    start = time.monotonic()
    try:
        resp = client.session.get(url, authenticated=False, raise_exc=False, timeout=limits,
                                  connect_retries=0, status_code_retries=0)
    except Exception as e:
        return False, None, time.monotonic() - start, error_line(e)
    latency = time.monotonic() - start
    ok = resp.status_code < 500
    return ok, resp.status_code, latency, None if ok else f"HTTP {resp.status_code}"


def probe_all(client: Any, urls: list[str]) -> dict[str, Probe]:
    """Probe every endpoint at once within PROBE_SHARE of the sweep's budget: an endpoint that does not
    answer in that window is its own finding, never the sweep's failure, and holds up no other. A reply
    still trickling in at the end is left behind (a daemon thread: it keeps no process alive)."""
    share = max(PROBE_MIN, PROBE_SHARE * (client.deadline - client.started))
    window = max(0.05, min(PROBE_TIMEOUT, share, client.remaining() - 0.05))
    until = time.monotonic() + window
    found: dict[str, Probe] = {}

    def one(url: str) -> None:
        found[url] = probe(client, url, window)

    threads = [threading.Thread(target=one, args=(url,), daemon=True, name="probe") for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, until - time.monotonic()))
    return {url: found.get(url) or (False, None, window, f"no answer within {window:.1f} s") for url in urls}
