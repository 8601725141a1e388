"""``Simulator``: the simulator's HTTP server in a background thread, with admin helpers for tests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from .app import App
from .http import SimHTTPServer
from .regions import split_regions
from .store import State, load_scenario


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
        self._tls: list = []  # TlsServer (tls_endpoint)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        others: dict[str, State] = {}
        if isinstance(self.scenario, State):
            self.state, source = self.scenario, None
            region = self.options["region"] or self.state.settings.get("region") or "RegionOne"
        else:
            source = load_scenario(self.scenario)
            region, parts = split_regions(source, self.options["region"])
            self.state = State(parts.pop(region))
            others = {name: State(sub) for name, sub in parts.items()}
        self.state.settings["region"] = region
        self.app = App(
            self.state,
            regions=others,
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
        while self._tls:
            self._tls.pop().stop()
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
        """The primary region (the one clouds.yaml and the credentials name)."""
        return self.credentials["region_name"]

    @property
    def regions(self) -> list[str]:
        """Every region's name, the primary first."""
        assert self.app is not None, "start the simulator first"
        return list(self.app.regions)

    def state_of(self, region: str | None = None) -> State:
        """A region's objects (default: the primary's, ``sim.state``)."""
        assert self.app is not None, "start the simulator first"
        return self.app.region_named(region).state

    def region_url(self, region: str | None = None) -> str:
        """The base URL of a region's services (the primary's is ``sim.url``)."""
        assert self.app is not None, "start the simulator first"
        return self.url + self.app.region_named(region).prefix

    def write_clouds_yaml(
        self, path: str | Path, cloud: str = "vio-sim", region: str | None = None, regions: list | None = None
    ) -> Path:
        """Write a clouds.yaml with one cloud for this simulator (replaces the file).

        ``regions``: a ``regions:`` list (openstacksdk's default region is the first; ``--os-region-name``
        may pick any listed); else ``region``: ``region_name: <region>`` (the SDK allows no other); else
        the simulator's regions, primary first, as a ``regions:`` list when there are several, and
        ``region_name: <primary>`` when there is one.
        """
        c = dict(self.credentials)
        if regions is None and region is None and len(self.regions) > 1:
            regions = self.regions
        if region is not None:
            c["region_name"] = region
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
        if regions is not None:
            lines += ["    regions:"] + [f"      - {json.dumps(r)}" for r in regions]
        else:
            lines.append(f"    region_name: {json.dumps(c['region_name'])}")
        lines += [
            "    interface: public",
            "    identity_api_version: 3",
            "",
        ]
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        part = p.with_name(f".{p.name}.part")  # renamed into place: a reader never sees half a file
        part.write_text("\n".join(lines))
        part.replace(p)
        return p

    # -- admin helpers ---------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, region: str | None = None) -> Any:
        """Call the admin API over HTTP; returns decoded JSON (text for the help page). ``region``: act
        on that region (default: the primary)."""
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/_sim"):
            path = "/_sim" + path
        data = json.dumps(body).encode() if body is not None else None
        query = "?" + urlencode({"region": region}) if region is not None else ""
        req = urllib.request.Request(
            self.url + quote(path, safe="/@:()") + query,
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

    def tls_endpoint(self, service_type: str, certfile: Any, keyfile: Any, *, path: str = "",
                     name: str = "localhost", interfaces: Any = None, region: str | None = None) -> Any:
        """Serve this simulator's API over TLS with the certificate in `certfile` (its key in `keyfile`)
        on a port of its own, and add it to the catalog as a `service_type` endpoint at
        ``https://NAME:PORT/PATH`` (NAME: the host name the certificate names). Returns the running
        ``tls.TlsServer`` (``.base``, ``.port``, ``.handshakes``); stopped with the simulator."""
        from .tls import TlsServer

        server = TlsServer(self.app, str(certfile), str(keyfile), host=self.host, name=name)
        self._tls.append(server)
        self.add_catalog_endpoint(service_type, server.base + path, interfaces=interfaces, region=region)
        return server

    def add_catalog_endpoint(self, service_type: str, url: str, *, name: str | None = None,
                             interfaces: Any = None, region: str | None = None) -> dict:
        """Add an endpoint to the token's catalog (the ``catalog_extra`` setting, see tls.py); new tokens
        carry it."""
        current = self.admin("GET", "/settings", region=region)["state"].get("catalog_extra") or []
        entry: dict = {"type": service_type, "name": name or service_type, "url": url}
        if interfaces:
            entry["interfaces"] = list(interfaces)
        return self.admin("PATCH", "/settings", {"catalog_extra": [*current, entry]}, region=region)

    def counters(self) -> dict:
        return self.admin("GET", "/_sim/counters")

    def reset_counters(self) -> dict:
        return self.admin("POST", "/_sim/counters/reset")

    def fault(self, path: str = ".*", *, region: str | None = None, **spec: Any) -> dict:
        """Inject a fault into one region's services (default: the primary's, and Keystone's)."""
        return self.admin("POST", "/_sim/faults", dict(spec, path=path), region=region)

    def clear_faults(self, region: str | None = None) -> dict:
        """Clear one region's faults, or every region's (``region`` None)."""
        return self.admin("DELETE", "/_sim/faults", region=region)

    def expire_tokens(self) -> dict:
        return self.admin("POST", "/_sim/tokens/expire")

    def get(self, kind: str, ref: str, *, region: str | None = None) -> dict:
        return self.admin("GET", f"/_sim/{kind}/{ref}", region=region)

    def patch(self, kind: str, ref: str, *, region: str | None = None, **fields: Any) -> dict:
        return self.admin("PATCH", f"/_sim/{kind}/{ref}", fields, region=region)

    def add(self, kind: str, obj: dict, *, region: str | None = None) -> dict:
        return self.admin("POST", f"/_sim/{kind}", obj, region=region)

    def delete(self, kind: str, ref: str, *, region: str | None = None) -> dict:
        return self.admin("DELETE", f"/_sim/{kind}/{ref}", region=region)

    def migrate(
        self,
        server: str,
        to: str,
        type: str = "live-migration",  # noqa: A002
        status: str = "completed",
        *,
        region: str | None = None,
    ) -> dict:
        return self.admin(
            "POST", f"/_sim/servers/{server}/migrate", {"to": to, "type": type, "status": status},
            region=region,
        )

    def reset(self) -> dict:
        return self.admin("POST", "/_sim/reset")

    def dump(self, region: str | None = None) -> dict:
        """The state in scenario format: every region's (others under ``regions``), or one region's."""
        return self.admin("GET", "/_sim/state", region=region)
