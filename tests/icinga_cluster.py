"""A real Icinga 2 cluster for the distributed tests: one master and one satellite per region on 127.0.0.1.

Each daemon is an `Icinga2` of tests/icinga_e2e.py (same foreground start, API client, `drive`, `deploy`)
on its own throw-away tree with its own port, state, certificate (CN = endpoint name, all signed by one CA
made by `icinga2 pki`, see `make_pki`) and its own inventory cache for our checks (`VIO_CHECKS_CACHE_DIR`).
The zones are those of icinga/zones.conf.example:

    master            the master's endpoint "localhost" (so `vio-icinga deploy --api-url https://localhost:…`
                      verifies its certificate); checks nothing of the regions
    vio-regionone     endpoint "satellite-regionone", parent master, accept_config / accept_commands
    vio-regiontwo     endpoint "satellite-regiontwo", parent master (only when the test asks for two)
    global-templates  global: our commands.conf and templates.conf, in the master's zones.d/

Config reaches a satellite only through Icinga's own config sync: files in the master's
`zones.d/<zone>/` (`write_zone_file`, before `start`) and the `zones.d/<zone>/` files of a config package
(`master.deploy(cloud, "--zone", zone)`). As in the e2e harness no check runs on a timer: a test forces
checks through the *master's* API (`master.drive()`, `master.check()`); the force travels to the satellite
of the object's zone, the satellite runs the check and sends the result back, so every result the master
shows went through the cluster (`check_sources()` names the endpoint that ran it).

    cluster = Cluster(tmp_path / "cluster", pki, cloud.env, zones=["vio-regionone"]).start()
    cluster.master.deploy(cloud, "--zone", "vio-regionone", expect_host=PREFIX)
    cluster.wait_synced("vio-regionone", PREFIX)
    objs = cluster.master.drive()
    cluster.stop_satellite("vio-regionone"); ...; cluster.stop()

Both sides know each other's address (master → satellite and satellite → master), unlike a production
zones.conf where one direction is enough: whichever daemon reloads reconnects at once instead of waiting for
the other side's 10 s reconnect timer.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import time
import urllib.request
from pathlib import Path

from icinga_e2e import (
    API_PASSWORD,
    API_USER,
    BIN,
    CHECK_DUMMY_DIR,
    ICINGA_DIR,
    NODE,
    Icinga2,
    free_port,
    make_pki,
    notification_conf,
    notify_script,
    wait_for,
)

MASTER_ZONE = "master"
GLOBAL_ZONE = "global-templates"
#: The master's endpoint name: the URL host of its API, so it must resolve (and be the certificate's CN).
MASTER = NODE
#: satellite zone → its endpoint name (resolved by the harness's own API client only: see _LoopbackHTTPS).
SATELLITES = {"vio-regionone": "satellite-regionone", "vio-regiontwo": "satellite-regiontwo"}


def cluster_pki(root: Path) -> Path:
    """One CA and a certificate per endpoint of every zone the harness can start."""
    return make_pki(root, [MASTER, *SATELLITES.values()])


class _LoopbackHTTPS(http.client.HTTPSConnection):
    """Connects to 127.0.0.1 whatever the URL's host; TLS still verifies the certificate for that host name."""

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _LoopbackHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_LoopbackHTTPS, req, context=self._context)


class ClusterNode(Icinga2):
    """One endpoint of the cluster: the master or the (single) endpoint of a satellite zone."""

    def __init__(self, cluster: Cluster, zone: str, node: str, env: dict[str, str]) -> None:
        root = cluster.root / zone
        super().__init__(root, cluster.pki, {**env, "VIO_CHECKS_CACHE_DIR": str(root / "vio-cache")})
        self.cluster = cluster
        self.zone = zone
        self.node = node
        self.port = free_port()  # known before any daemon starts: every zones.conf names every port

    @property
    def is_master(self) -> bool:
        return self.zone == MASTER_ZONE

    @property
    def cache_dir(self) -> Path:
        """The inventory cache our checks use when this daemon runs them."""
        return Path(self.env["VIO_CHECKS_CACHE_DIR"])

    @property
    def zones_dir(self) -> Path:
        return self.root / "zones.d"

    def defines(self) -> list[str]:
        return [*super().defines(), f"-DZonesDir={self.zones_dir}"]

    def write_config(self) -> Path:
        certs = self.root / "data" / "certs"
        certs.mkdir(parents=True, exist_ok=True)
        for name in (f"{self.node}.crt", f"{self.node}.key", "ca.crt"):
            shutil.copy(self.pki / name, certs / name)
        self.zones_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "zones.conf").write_text(self.cluster.zones_conf(self))
        accept = "false" if self.is_master else "true"
        notify = "true" if self.is_master else "false"
        conf = f"""
include <itl>
const PluginDir = "{CHECK_DUMMY_DIR}"
const VioChecksDir = "{BIN}"

// No check runs on a timer: the tests force every check through the master's API. Only the master notifies.
object IcingaApplication "app" {{
  enable_host_checks = false
  enable_service_checks = false
  enable_notifications = {notify}
  enable_flapping = false
  enable_perfdata = false
}}

include "zones.conf"

object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {self.port}
  accept_config = {accept}
  accept_commands = {accept}
}}
object ApiUser "{API_USER}" {{
  password = "{API_PASSWORD}"
  permissions = [ "*" ]
}}
object CheckerComponent "checker" {{ }}
object FileLogger "main-log" {{
  severity = "information"
  path = LogDir + "/icinga2.log"
}}
"""
        if self.is_master:
            conf += self.notifications_conf()
        path = self.root / "icinga2.conf"
        path.write_text(conf)
        return path

    def notifications_conf(self) -> str:
        """The master's notifications, as in the single-node harness: one line per notification in
        notifications.log (`notified()`). Outside zones.d, so never synced: the satellites send none."""
        notify = notify_script(self.root / "notify.sh", self.notify_log)
        return 'object NotificationComponent "notification" { }\n' + notification_conf(notify)

    def api(self, method: str, path: str, body=None, timeout: float = 10):
        if self._opener is None:
            from vio_checks.icinga.https import tls_context

            context = tls_context(str(self.ca_file))  # the product's: Python 3.13 and `icinga2 pki`
            self._opener = urllib.request.build_opener(_LoopbackHTTPSHandler(context=context),
                                                       urllib.request.ProxyHandler({}))
        return super().api(method, path, body, timeout)

    def api_args(self) -> list[str]:
        """Options of `vio-icinga deploy` / `push` for this daemon's API the way a satellite is reached in
        production: its address in the URL, its endpoint name (the certificate's CN) as --tls-server-name."""
        return ["--api-url", f"https://127.0.0.1:{self.port}", "--tls-server-name", self.node,
                "--api-user", API_USER, "--ca-file", str(self.ca_file)]

    def force(self, names: list[str]) -> None:
        """Ask the endpoint that runs each object's checks: the master for its own zone, else the satellite of
        the object's zone. (A satellite drops a next-check change from its parent during its first minute,
        `next_check < start time + 60` in ClusterEvents::NextCheckChangedAPIHandler, and every config sync
        restarts it: a reschedule through the master would wait for the check interval.)"""
        if not self.is_master:
            super().force(names)
            return
        zones = self.zone_of()
        by_zone: dict[str, list[str]] = {}
        for name in names:
            by_zone.setdefault(zones[name], []).append(name)
        for zone, items in by_zone.items():
            node = self if zone == self.zone else self.cluster.satellites[zone]
            Icinga2.force(node, items)

    def connected(self, endpoint: str) -> bool:
        """Whether this daemon has a live cluster connection to `endpoint`."""
        r = self.api("GET", f"/v1/objects/endpoints/{endpoint}", {"attrs": ["connected"]})
        return bool(r["results"][0]["attrs"]["connected"])

    def check_sources(self) -> dict[str, str]:
        """name → the endpoint that ran the last check (its result's check_source), for every checked object."""
        out = {}
        for plural in ("hosts", "services"):
            data = self.api("GET", f"/v1/objects/{plural}", {"attrs": ["__name", "last_check_result"]})
            for r in data["results"]:
                cr = r["attrs"].get("last_check_result")
                if cr:
                    out[r["attrs"]["__name"]] = cr.get("check_source", "")
        return out

    def zone_of(self) -> dict[str, str]:
        """name → zone attribute of every host and service this daemon has loaded."""
        out = {}
        for plural in ("hosts", "services"):
            for r in self.api("GET", f"/v1/objects/{plural}", {"attrs": ["__name", "zone"]})["results"]:
                out[r["attrs"]["__name"]] = r["attrs"]["zone"]
        return out

    def perfdata(self, name: str) -> dict[str, float]:
        """label → value of a service's last check result (e.g. the `icinga` check's num_hosts_unreachable)."""
        host, service = name.split("!", 1)
        r = self.api("GET", f"/v1/objects/services/{host}!{service}", {"attrs": ["last_check_result"]})
        cr = r["results"][0]["attrs"]["last_check_result"] or {}
        out = {}
        for item in cr.get("performance_data") or []:
            if isinstance(item, dict):
                out[item["label"]] = float(item["value"])
            else:
                label, _, rest = item.partition("=")
                out[label.strip("'")] = float(rest.split(";")[0].rstrip("%sBc") or 0)
        return out


class Cluster:
    """A master and one satellite per zone, started master first and stopped satellites first."""

    def __init__(self, root: Path, pki: Path, env: dict[str, str], zones: list[str] = ("vio-regionone",)) -> None:
        self.root = root
        self.pki = pki
        root.mkdir(parents=True, exist_ok=True)
        self.master = ClusterNode(self, MASTER_ZONE, MASTER, env)
        self.satellites = {zone: ClusterNode(self, zone, SATELLITES[zone], env) for zone in zones}
        self.timings: dict[str, float] = {}
        for name, text in (("vio-commands.conf", (ICINGA_DIR / "commands.conf").read_text()),
                           ("vio-templates.conf", (ICINGA_DIR / "templates.conf").read_text())):
            self.write_zone_file(GLOBAL_ZONE, name, text)

    @property
    def nodes(self) -> list[ClusterNode]:
        return [self.master, *self.satellites.values()]

    def zones_conf(self, node: ClusterNode) -> str:
        """zones.conf of `node`: the master knows every satellite zone, a satellite its own and the master."""
        known = self.nodes if node.is_master else [self.master, node]
        lines = []
        for other in known:
            address = "" if other is node else f'\n  host = "127.0.0.1"\n  port = "{other.port}"\n'
            lines.append(f'object Endpoint "{other.node}" {{{address}}}')
            parent = "" if other.is_master else f'\n  parent = "{MASTER_ZONE}"'
            lines.append(f'object Zone "{other.zone}" {{\n  endpoints = [ "{other.node}" ]{parent}\n}}')
        lines.append(f'object Zone "{GLOBAL_ZONE}" {{\n  global = true\n}}')
        return "\n".join(lines) + "\n"

    def write_zone_file(self, zone: str, name: str, text: str) -> Path:
        """A config file in the master's zones.d/<zone>/ (before start, or followed by a master reload)."""
        path = self.master.zones_dir / zone / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Cluster:
        """The master, then every satellite at once (each reloads once for its first config sync)."""
        try:
            self.master.start()
            self.timings["master start"] = self.master.timings["start"]
            self.start_satellites(*self.satellites)
        except BaseException:
            print(self.log_tail())
            self.stop()
            raise
        return self

    def start_satellites(self, *zones: str, timeout: float = 60) -> None:
        """Start satellites; wait until each is connected to the master and runs the config it synced."""
        t0 = time.monotonic()
        sats = [self.satellites[zone] for zone in zones]
        for sat in sats:
            sat.start()
        wait_for(lambda: all(self._joined(sat) for sat in sats), timeout,
                 f"{[sat.node for sat in sats]} connected to the master and running the synced config", interval=0.1)
        self.timings["satellites start"] = self.timings.get("satellites start", 0.0) + time.monotonic() - t0

    def _joined(self, sat: ClusterNode) -> bool:
        """Connected both ways, and the global zone synced (the first connection brings it: the satellite
        validates it and reloads; our CheckCommands 404 until then)."""
        return _quiet(lambda: self.master.connected(sat.node) and sat.connected(self.master.node)
                      and bool(sat.api("GET", "/v1/objects/checkcommands/vio_discovery", timeout=2)["results"]))

    def stop_satellite(self, zone: str) -> None:
        self.satellites[zone].stop()
        wait_for(lambda: not self.master.connected(self.satellites[zone].node), 30,
                 f"the master to notice {zone} is gone", interval=0.1)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        return "".join(f"=== {n.node} ({n.zone})\n{n.log_tail(lines)}" for n in self.nodes)

    # --- config sync -------------------------------------------------------------------------------

    def wait_synced(self, zone: str, *names: str, timeout: float = 60) -> None:
        """Wait until the satellite of `zone` has loaded the named hosts/services (through the config sync)."""
        t0 = time.monotonic()
        sat = self.satellites[zone]

        wait_for(lambda: _quiet(lambda: set(names) <= set(sat.zone_of())), timeout, f"{sorted(names)} synced to {sat.node}", interval=0.1)
        self.timings[f"{zone} sync"] = self.timings.get(f"{zone} sync", 0.0) + time.monotonic() - t0


def _quiet(predicate) -> bool:
    """predicate(), or False while the API is not answering (a daemon reloading resets connections)."""
    try:
        return bool(predicate())
    except OSError:  # URLError, HTTPError (404 before a synced object exists), SSLError, ConnectionReset
        return False
