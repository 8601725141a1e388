"""Cloud access: the only module that knows openstacksdk and keystoneauth1.

It builds a connection from clouds.yaml / OS_* variables through openstacksdk's own loader, keeps the
Keystone token between processes (auth state in a 0600 file in the cache dir), counts every HTTP request
it sends, and fetches JSON within a deadline. Imported lazily: only a sweep needs it.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from vio_checks.errors import SweepError
from vio_checks.fileutil import atomic_write

log = logging.getLogger(__name__)

#: Status codes worth another try, honouring Retry-After within the deadline.
RETRIABLE = (429, 502, 503, 504)
MAX_RETRIES = 3


class CloudClient:
    """A connection plus a deadline, a request counter and deadline-bounded JSON GETs."""

    def __init__(
        self,
        cloud: str | None,
        region: str | None,
        deadline: float,
        auth_state_file: Path | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.requests = 0
        self.auth_state_file = auth_state_file
        try:
            self.conn = openstack.connect(
                cloud=cloud, region_name=region or None, load_yaml_config=True, load_envvars=True,
                api_timeout=read_timeout,
            )
        except (sdk_exc.ConfigException, ks_exc.MissingRequiredOptions, ks_exc.AuthPluginException) as e:
            raise SweepError(f"cloud configuration: {_one_line(e)}") from None
        except Exception as e:  # the loader raises a variety of errors for broken clouds.yaml
            raise SweepError(f"cloud configuration: {_one_line(e)}") from None
        self.session = self.conn.session
        self.session.session.hooks["response"].append(self._count)
        self._saved_state: str | None = None
        self._load_auth_state()

    # --- accounting and auth state -------------------------------------------------------------

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    def _cache_id(self) -> str | None:
        try:
            return self.session.auth.get_cache_id()
        except Exception:
            return None

    def _load_auth_state(self) -> None:
        """Reuse a stored token for the same credentials; keystoneauth renews it when near expiry."""
        path = self.auth_state_file
        if not path or not path.exists():
            return
        try:
            stored = json.loads(path.read_text())
            if stored.get("id") and stored.get("id") == self._cache_id():
                self.session.auth.set_auth_state(stored["state"])
                self._saved_state = stored["state"]
        except Exception as e:  # a damaged state file only costs one token request
            log.debug("ignoring auth state %s: %s", path, e)

    def save_auth_state(self) -> None:
        """Store the current token (if it changed) for the next sweep, mode 0600."""
        if not self.auth_state_file:
            return
        try:
            state = self.session.auth.get_auth_state()
            cache_id = self._cache_id()
        except Exception:
            return
        if not state or not cache_id or state == self._saved_state:
            return
        atomic_write(self.auth_state_file, json.dumps({"id": cache_id, "state": state}).encode())
        self._saved_state = state

    # --- time budget ---------------------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left in the budget; raises SweepError when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise SweepError("timed out (sweep budget used up)")
        return left

    def _timeout(self) -> tuple[float, float]:
        left = self.remaining()
        self.session.timeout = min(self.read_timeout, left)  # used by auth and version discovery
        return (min(self.connect_timeout, left), min(self.read_timeout, left))

    # --- requests ------------------------------------------------------------------------------

    def adapter(self, service: str) -> Any:
        """The SDK's service adapter (compute, network, block_storage, identity)."""
        try:
            return getattr(self.conn, service)
        except Exception as e:
            raise SweepError(f"{service}: {_one_line(e)}") from None

    def endpoint_max_microversion(self, adapter: Any) -> tuple[int, int] | None:
        """The highest microversion the service announces, or None when it has none."""
        try:
            self._timeout()
            data = adapter.get_endpoint_data()
        except Exception as e:
            raise SweepError(f"{adapter.service_type}: version discovery failed: {_one_line(e)}") from None
        mv = getattr(data, "max_microversion", None) if data else None
        return (int(mv[0]), int(mv[1])) if mv else None

    def get_json(
        self, adapter: Any, url: str, microversion: str | None = None, missing_ok: bool = False
    ) -> dict | None:
        """GET url through a service adapter and decode it, retrying 429/5xx within the deadline.

        Returns None for 404 when missing_ok (an optional extension), raises SweepError otherwise.
        """
        what = f"{adapter.service_type} {url.split('?', 1)[0]}"
        for attempt in range(MAX_RETRIES + 1):
            timeout = self._timeout()
            try:
                resp = adapter.get(
                    url, microversion=microversion, raise_exc=False, timeout=timeout,
                    status_code_retries=0, connect_retries=0,
                )
            except ks_exc.ConnectTimeout:  # keystoneauth's name for connect and read timeouts alike
                raise SweepError(f"{what}: timed out after {timeout[1]:.0f} s") from None
            except (ks_exc.ConnectFailure, ks_exc.SSLError) as e:
                raise SweepError(f"{what}: cannot connect: {_one_line(e)}") from None
            except ks_exc.RetriableConnectionFailure as e:
                raise SweepError(f"{what}: {_one_line(e)}") from None
            except ks_exc.Unauthorized:
                raise SweepError(f"{what}: authentication failed (401)") from None
            except ks_exc.ClientException as e:
                raise SweepError(f"{what}: {_one_line(e)}") from None
            except Exception as e:  # requests' own errors for broken or truncated bodies
                raise SweepError(f"{what}: {_one_line(e)}") from None
            status = resp.status_code
            if status in RETRIABLE and attempt < MAX_RETRIES:
                delay = _retry_after(resp.headers.get("Retry-After"), attempt)
                if time.monotonic() + delay >= self.deadline - 0.5:
                    raise SweepError(f"{what}: HTTP {status} and no time left to retry")
                log.info("%s: HTTP %s, retrying in %.1f s", what, status, delay)
                time.sleep(delay)
                continue
            if status == 404 and missing_ok:
                return None
            if status == 401:
                raise SweepError(f"{what}: authentication failed (401)")
            if status == 403:
                raise SweepError(f"{what}: forbidden (403): the account needs the admin role")
            if status >= 400:
                raise SweepError(f"{what}: HTTP {status}")
            try:
                body = resp.json()
            except Exception:
                raise SweepError(f"{what}: malformed reply (not JSON)") from None
            if not isinstance(body, dict):
                raise SweepError(f"{what}: malformed reply (not a JSON object)")
            return body
        raise SweepError(f"{what}: gave up after {MAX_RETRIES} retries")  # pragma: no cover

    def pages(
        self, adapter: Any, path: str, key: str, params: dict[str, Any], microversion: str | None = None,
        missing_ok: bool = False,
    ) -> Iterator[list[dict]]:
        """Yield the `key` list of each page, following `<key>_links` next links.

        The next link's query (marker, limit) is applied to our own path rather than fetching the link's
        URL, so a next link naming an internal host name behind a proxy still works.
        """
        query = dict(params)
        seen_markers: set[str] = set()
        while True:
            url = path + ("?" + urllib.parse.urlencode(query) if query else "")
            body = self.get_json(adapter, url, microversion=microversion, missing_ok=missing_ok)
            if body is None:
                return
            items = body.get(key)
            if not isinstance(items, list):
                raise SweepError(f"{adapter.service_type} {path}: malformed reply (no '{key}' list)")
            yield items
            nxt = _next_query(body.get(f"{key}_links"))
            if not nxt or not items:
                return
            marker = nxt.get("marker", "")
            if marker in seen_markers:
                raise SweepError(f"{adapter.service_type} {path}: paging loops (marker {marker!r} again)")
            seen_markers.add(marker)
            query.update(nxt)

    def probe(self, url: str) -> tuple[bool, int | None, float, str | None]:
        """One unauthenticated GET of an endpoint: (answered, status, latency s, error)."""
        timeout = self._timeout()
        start = time.monotonic()
        try:
            resp = self.session.get(
                url, authenticated=False, raise_exc=False, timeout=timeout, connect_retries=0,
                status_code_retries=0,
            )
        except Exception as e:
            return False, None, time.monotonic() - start, _one_line(e)
        latency = time.monotonic() - start
        ok = resp.status_code < 500
        return ok, resp.status_code, latency, None if ok else f"HTTP {resp.status_code}"

    def public_endpoints(self) -> list[tuple[str, str, str | None]]:
        """(service type, URL, region) of the public endpoints of our region in the token's catalog."""
        try:
            self._timeout()
            access = self.session.auth.get_access(self.session)
        except ks_exc.Unauthorized:
            raise SweepError("keystone: authentication failed (401): check the credentials") from None
        except Exception as e:
            raise SweepError(f"keystone: {_one_line(e)}") from None
        region = getattr(self.conn.config, "region_name", None)
        found = []
        for svc in access.service_catalog.catalog or []:
            for ep in svc.get("endpoints", []):
                where = ep.get("region_id") or ep.get("region")
                if ep.get("interface") != "public" or not ep.get("url"):
                    continue
                if region and where and where != region:
                    continue  # another region's endpoint: its own namespace probes it
                found.append((svc.get("type", ""), ep["url"], where))
        return found


def _next_query(links: Any) -> dict[str, str] | None:
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            query = urllib.parse.urlparse(link["href"]).query
            return dict(urllib.parse.parse_qsl(query))
    return None


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return max(0.0, min(float(value), 60.0)) if value else 0.5 * 2**attempt
    except ValueError:
        return 0.5 * 2**attempt


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:300]

