"""Cloud access: the only module that knows openstacksdk and keystoneauth1.

It builds a connection from clouds.yaml / OS_* variables through openstacksdk's own loader, keeps the
Keystone token between processes (auth state in a 0600 file in the cache dir), counts every HTTP request
it sends, and fetches JSON within a deadline. Imported lazily: only a sweep needs it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import requests
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import session as ks_session
from openstack import config as os_config
from openstack import exceptions as sdk_exc

from vio_checks import redact
from vio_checks.errors import SweepError
from vio_checks.errtext import error_line
from vio_checks.fileutil import atomic_write
from vio_checks.text import inert
from vio_checks.versiondoc import KeystoneRefuses, check_keystone_answer

log = logging.getLogger(__name__)

#: Status codes worth another try, honouring Retry-After within the deadline.
RETRIABLE = (429, 502, 503, 504)
MAX_RETRIES = 3
#: Objects one list may hold before we call its paging broken (VIO's largest clouds have tens of thousands).
MAX_LIST = 200_000
#: The catalog service types a sweep reads objects from: their endpoints' regions decide which region it sees.
DATA_SERVICES = frozenset({"compute", "network", "volumev3", "block-storage", "volume", "volumev2"})


class _BoundedAdapter(ks_session.TCPKeepAliveAdapter):
    """keystoneauth's transport adapter, each request's timeouts capped by what is left of the client's
    budget; it also notes the request on the wire (for the sweep's overrun message) and ends a 401 to
    Keystone's version document at once (versiondoc.py)."""

    def __init__(self, client: CloudClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> Any:
        client = self.client
        left = client.remaining()
        if isinstance(timeout, tuple):
            timeout = tuple(min(t, left) if t else left for t in timeout)
        else:
            timeout = min(timeout, left) if timeout else min(client.read_timeout, left)
        method, path = request.method, urllib.parse.urlsplit(request.url).path
        main = threading.current_thread() is threading.main_thread()  # not a probe's thread
        if main:
            client.in_flight = (f"{method} {path}", time.monotonic())
        limit = timeout[-1] if isinstance(timeout, tuple) else timeout
        try:
            resp = super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                                proxies=proxies)
            if not stream:
                resp.content  # noqa: B018  # the body too (requests reads it after the adapter): a reply
                # trickling in is still the request on the wire
        except BaseException as e:  # the sweep's guard leaves in_flight set: its message names it
            if main and isinstance(e, Exception):
                client.in_flight = None
            if isinstance(e, requests.exceptions.Timeout):  # keystoneauth tolerates some (discovery)
                client.timed_out = f"{method} {path} got no answer within {limit:.0f} s"
            raise
        if main:
            client.in_flight = None
        check_keystone_answer(resp, method, request.url, request.headers,
                              getattr(client.session.auth, "auth_url", None))
        return resp


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
        self.started = time.monotonic()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.requests, self._lock = 0, threading.Lock()
        self.auth_state_file = auth_state_file
        try:
            self.conn = openstack.connect(
                cloud=cloud, region_name=region or None, load_yaml_config=True, load_envvars=True,
                api_timeout=read_timeout,
            )
        except (sdk_exc.ConfigException, ks_exc.MissingRequiredOptions, ks_exc.AuthPluginException) as e:
            hint = ""
            if "is not a valid region name" in str(e):  # clouds.yaml's region_name allows no other region
                hint = " (to pick one of several regions, list them under regions: in its clouds.yaml entry)"
            raise SweepError(f"cloud configuration: {unreadable_config() or error_line(e)}{hint}") from None
        except Exception as e:  # the loader raises a variety of errors for broken clouds.yaml
            raise SweepError(f"cloud configuration: {unreadable_config() or error_line(e)}") from None
        self.cloud = cloud
        for secret in ("password", "token", "application_credential_secret"):  # never printed, anywhere
            redact.register((getattr(self.conn.config, "auth", None) or {}).get(secret))
        self.session = self.conn.session
        self.session.session.hooks["response"].append(self._count)
        self.timed_out: str | None = None  # the last request that got no answer in time
        self.in_flight: tuple[str, float] | None = None  # the request on the wire: (what, since)
        self._bound_requests()
        self._authenticated = False
        self._saved_state: str | None = None
        self._load_auth_state()

    def _bound_requests(self) -> None:
        """Cap every HTTP request's timeouts by what is left of the budget, at the lowest level.

        keystoneauth authenticates and discovers versions on its own (the first service adapter, a token
        renewal), with the session's default timeout and its own retries: only the transport adapter of its
        requests session sees every one of those calls. requests' adapters are its public way to do this;
        ours is keystoneauth's own keep-alive adapter with the bound added (_BoundedAdapter).
        """
        adapter = _BoundedAdapter(self)
        for prefix in ("https://", "http://"):
            self.session.session.mount(prefix, adapter)

    def overrun(self) -> str:
        """Why the sweep's budget ran out: the request still unfinished (a reply trickling in), or so."""
        if self.in_flight:
            what, since = self.in_flight
            return (f"timed out: {what} still unfinished after {time.monotonic() - since:.0f} s when the "
                    "sweep's budget ran out")
        return f"timed out: {self.timed_out}" if self.timed_out else "timed out (sweep budget used up)"

    # --- accounting and auth state -------------------------------------------------------------

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        with self._lock:  # probes and load balancers' status trees are read on threads
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
        try:
            atomic_write(self.auth_state_file, json.dumps({"id": cache_id, "state": state}).encode())
        except OSError as e:  # a full disk, a directory in its place: the next sweep asks for a token
            return log.warning("cannot keep the token in %s: %s", self.auth_state_file, e.strerror or e)
        self._saved_state = state

    # --- time budget ---------------------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left in the budget; raises SweepError when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise SweepError(f"timed out: {self.timed_out}" if self.timed_out else
                             "timed out (sweep budget used up)")
        return left

    def _timeout(self) -> tuple[float, float]:
        left = self.remaining()
        self.session.timeout = min(self.read_timeout, left)  # used by auth and version discovery
        return (min(self.connect_timeout, left), min(self.read_timeout, left))

    # --- requests ------------------------------------------------------------------------------

    def _credentials_hint(self) -> str:
        if self.cloud:
            return f"for cloud {self.cloud}: check the credentials in clouds.yaml (HTTP 401)"
        return "with the OS_* variables: check the credentials in them (HTTP 401)"

    def authenticate(self) -> None:
        """Get a token (or reuse the stored one) before anything else, so a Keystone fault is named as one.

        429 and 5xx are retried like any other request (Retry-After honoured within the budget).
        """
        if self._authenticated:
            return
        for attempt in range(MAX_RETRIES + 1):
            self._timeout()
            try:
                access = self.session.auth.get_access(self.session)
            except (SweepError, KeystoneRefuses) as e:
                raise SweepError(f"keystone: {e}") from None
            except ks_exc.Unauthorized:
                raise SweepError(f"keystone: authentication failed {self._credentials_hint()}") from None
            except ks_exc.HttpError as e:
                status = e.http_status
                if status in RETRIABLE and attempt < MAX_RETRIES:
                    headers = getattr(getattr(e, "response", None), "headers", None) or {}
                    self._pause(f"keystone: HTTP {status}", _retry_after(headers.get("Retry-After"), attempt))
                    continue
                if status == 403:
                    raise SweepError("keystone: forbidden (403): the account may not get a token for its "
                                     "project") from None
                raise SweepError(f"keystone: HTTP {status}: {error_line(e)}") from None
            except ks_exc.ConnectTimeout as e:
                raise SweepError(f"keystone: timed out: {error_line(e)}") from None
            except (ks_exc.ConnectFailure, ks_exc.SSLError) as e:
                raise SweepError(f"keystone: cannot connect: {error_line(e)}") from None
            except ks_exc.DiscoveryFailure as e:
                raise SweepError(f"keystone: version discovery failed: {error_line(e)}") from None
            except Exception as e:
                raise SweepError(f"keystone: {error_line(e)}") from None
            redact.register(getattr(access, "auth_token", None))
            self._check_region(access.service_catalog.catalog or [])
            self._authenticated = True
            return

    @property
    def region(self) -> str | None:
        """The region the connection uses: --os-region-name, else clouds.yaml's (None: not set)."""
        return getattr(self.conn.config, "region_name", None) or None

    def _check_region(self, catalog: list[dict]) -> None:
        """Refuse a sweep that would read no region, or could read several regions mixed together.

        keystoneauth picks a service's first endpoint when no region is set: with a catalog of several
        regions each service could come from another one, so one inventory would mix regions.
        """
        regions = catalog_regions(catalog)
        if not regions:
            return  # a catalog without region names: nothing to choose from
        names = ", ".join(inert(r, 60) for r in sorted(regions))
        if self.region and self.region not in regions:
            raise SweepError(f"region {inert(self.region, 60)} is not in the service catalog (its regions: "
                             f"{names})")
        if not self.region and len(regions) > 1:
            raise SweepError(f"the service catalog has several regions ({names}): name one with "
                             "--os-region-name or region_name in clouds.yaml")

    def _pause(self, what: str, delay: float) -> None:
        """Sleep before a retry, or give up when the budget would not cover the wait."""
        if time.monotonic() + delay >= self.deadline - 0.5:
            raise SweepError(f"{what} and no time left to retry")
        log.info("%s, retrying in %.1f s", what, delay)
        time.sleep(delay)

    def adapter(self, service: str) -> Any:
        """The SDK's service adapter (compute, network, block_storage, identity), after authenticating.

        Clouds that share one Keystone between regions may list it in the first region's catalog only:
        a region without an identity endpoint of its own reaches Keystone where the token came from.
        """
        self.authenticate()
        try:
            self._timeout()
            if service == "identity" and not self.has_service("identity"):
                return ks_adapter.Adapter(
                    session=self.session, service_type="identity", interface=ks_plugin.AUTH_INTERFACE,
                    min_version="3", max_version="3.latest")
            return getattr(self.conn, service)
        except SweepError as e:
            raise SweepError(f"{service}: {e}") from None
        except Exception as e:
            raise SweepError(f"{service}: {error_line(e)}") from None

    def has_service(self, service_type: str) -> bool:
        """Whether the token's catalog has an endpoint of this type in our region, on the SDK's interface."""
        interface = (self.conn.config.get_interface(service_type) or "public").removesuffix("URL")
        access = self.session.auth.get_access(self.session)
        return any(
            svc.get("type") == service_type and ep.get("interface") == interface
            and (not self.region or (ep.get("region_id") or ep.get("region") or self.region) == self.region)
            for svc in access.service_catalog.catalog or [] for ep in svc.get("endpoints") or ())

    def endpoint_max_microversion(self, adapter: Any) -> tuple[int, int] | None:
        """The highest microversion the service announces, or None when it has none."""
        try:
            self._timeout()
            data = adapter.get_endpoint_data()
        except SweepError as e:
            raise SweepError(f"{adapter.service_type}: version discovery: {e}") from None
        except Exception as e:
            raise SweepError(f"{adapter.service_type}: version discovery failed: {error_line(e)}") from None
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
            try:
                timeout = self._timeout()
                resp = adapter.get(
                    url, microversion=microversion, raise_exc=False, timeout=timeout,
                    status_code_retries=0, connect_retries=0,
                )
            except SweepError as e:  # the budget ran out (token renewal included)
                raise SweepError(f"{what}: {e}") from None
            except ks_exc.ConnectTimeout:  # keystoneauth's name for connect and read timeouts alike
                raise SweepError(f"{what}: timed out after {timeout[1]:.0f} s") from None
            except (ks_exc.ConnectFailure, ks_exc.SSLError) as e:
                raise SweepError(f"{what}: cannot connect: {error_line(e)}") from None
            except ks_exc.RetriableConnectionFailure as e:
                raise SweepError(f"{what}: {error_line(e)}") from None
            except ks_exc.Unauthorized:
                raise SweepError(f"{what}: authentication failed (401)") from None
            except ks_exc.ClientException as e:
                raise SweepError(f"{what}: {error_line(e)}") from None
            except Exception as e:  # requests' own errors for broken or truncated bodies
                raise SweepError(f"{what}: {error_line(e)}") from None
            status = resp.status_code
            if status in RETRIABLE and attempt < MAX_RETRIES:
                self._pause(f"{what}: HTTP {status}", _retry_after(resp.headers.get("Retry-After"), attempt))
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
        missing_ok: bool = False, links: str | None = None,
    ) -> Iterator[list[dict]]:
        """Yield the `key` list of each page, following the next link of `links` (default `<key>_links`;
        Heat's `links`, Glance's `next`: an href alone).

        The next link's query (marker, limit) is applied to our own path rather than fetching the link's
        URL, so a next link naming an internal host name behind a proxy still works.
        """
        query = dict(params)
        seen_markers: set[str] = set()
        max_pages = _max_pages(params)
        for _page in range(max_pages):
            url = path + ("?" + urllib.parse.urlencode(query) if query else "")
            body = self.get_json(adapter, url, microversion=microversion, missing_ok=missing_ok)
            if body is None:
                return
            items = body.get(key)
            if not isinstance(items, list):
                raise SweepError(f"{adapter.service_type} {path}: malformed reply (no '{key}' list)")
            yield items
            nxt = _next_query(body.get(links or f"{key}_links"))
            if not nxt or not items:
                return
            marker = nxt.get("marker", "")
            if marker in seen_markers:
                raise SweepError(f"{adapter.service_type} {path}: paging loops (marker {marker!r} again)")
            seen_markers.add(marker)
            query.update(nxt)
        raise SweepError(f"{adapter.service_type} {path}: paging does not end (more than {max_pages} pages, "
                         f"{MAX_LIST:,} objects: more than any real cloud has)")

    def public_endpoints(self, interface: str = "public") -> list[tuple[str, str, str | None]]:
        """(service type, URL, region) of our region's endpoints of `interface` in the token's catalog."""
        self.authenticate()
        try:
            self._timeout()
            access = self.session.auth.get_access(self.session)
        except SweepError as e:
            raise SweepError(f"keystone: {e}") from None
        except ks_exc.Unauthorized:
            raise SweepError(f"keystone: authentication failed {self._credentials_hint()}") from None
        except Exception as e:
            raise SweepError(f"keystone: {error_line(e)}") from None
        region = self.region
        found = []
        for svc in access.service_catalog.catalog or []:
            for ep in svc.get("endpoints", []):
                where = ep.get("region_id") or ep.get("region")
                if ep.get("interface") != interface or not ep.get("url"):
                    continue
                if region and where and where != region:
                    continue  # another region's endpoint: its own namespace probes it
                found.append((svc.get("type", ""), ep["url"], where))
        return found


def catalog_regions(catalog: list[dict]) -> set[str]:
    """The regions with a public endpoint of a service the sweep reads objects from."""
    return {
        ep.get("region_id") or ep.get("region")
        for svc in catalog if svc.get("type") in DATA_SERVICES
        for ep in svc.get("endpoints") or () if ep.get("interface") == "public"
    } - {None, ""}


def configured_region(cloud: str | None, region: str | None) -> str | None:
    """The region a connection for these options would use (--os-region-name, else clouds.yaml's
    region_name or first of its regions, else OS_REGION_NAME), without connecting; None when none is set
    or the configuration cannot be read."""
    if region:
        return region
    try:
        return os_config.get_cloud_region(
            cloud=cloud, load_yaml_config=True, load_envvars=True
        ).region_name or None
    except Exception:  # a broken configuration is the sweep's to report
        return None


def unreadable_config() -> str | None:
    """`cannot read PATH (permission denied)` for a clouds.yaml this user may not open, else None.

    openstacksdk skips such a file silently and then reports the cloud as not found.
    """
    import os

    from openstack.config import loader

    override = os.environ.get("OS_CLIENT_CONFIG_FILE")
    for path in ([override] if override else []) + list(loader.CONFIG_FILES):
        if not os.path.exists(path):
            continue
        try:
            with open(path, "rb"):
                pass
        except PermissionError:
            return f"cannot read {path} (permission denied)"
        except OSError:
            continue
        return None  # the loader reads the first file it can open: the later ones do not matter
    return None


def _max_pages(params: dict[str, Any]) -> int:
    """Pages a list may take: MAX_LIST objects at the page size asked for (or 1000 when the API decides)."""
    try:
        limit = max(1, int(params.get("limit") or 1000))
    except (TypeError, ValueError):
        limit = 1000
    return max(20, -(-MAX_LIST // limit))


def _next_query(links: Any) -> dict[str, str] | None:
    links = [{"rel": "next", "href": links}] if isinstance(links, str) else links
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
