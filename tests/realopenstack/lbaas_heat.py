"""Octavia and Heat in the stack: configs, schemas, processes and health.

Octavia runs the amphora provider with its own no-op compute, network and amphora drivers: the API (under
gunicorn) casts each change to octavia-worker over the stack's RabbitMQ, the worker runs Octavia's real
taskflow flows (amphora records, a server certificate signed by the CA under state/octavia, VIP, listeners,
pools, members) and marks the objects ACTIVE. Operating status comes from octavia-health-manager, fed by
fake_amphorae.py with the heartbeats an amphora would send (members UP, or DOWN on request: DEGRADED).
Until the CA exists (`octavia_ca()`), the worker's flow fails at signing the amphora's certificate and
reverts the load balancer to ERROR: that is how the seeding makes one.

Heat runs heat-api (under gunicorn) and one heat-engine; stacks authenticate with Keystone trusts. A second
heat-api (`heat-api-tls`) terminates TLS itself (gunicorn's --certfile) on a port of its own and is the
catalog's public orchestration endpoint, so the product's Heat requests go over https, verified against the
stack's CA (clouds.yaml's cacert); the internal endpoint stays the plain heat-api. Its certificate, minted with
openssl (pki.py) for IP:127.0.0.1, expires NEAR_EXPIRY from start-up: it verifies, only its expiry is near.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from .configs import PASSWORD, REGION
from .pki import mint_ca, mint_server
from .procs import ini

#: Octavia's [controller_worker] with no-op drivers: the worker's flows run, nothing is built.
NOOP_DRIVERS = {"amphora_driver": "amphora_noop_driver", "compute_driver": "compute_noop_driver",
                "network_driver": "network_noop_driver"}
#: How far from expiry the https endpoint's certificate is minted: 5 whole days left (check_vio_certificate's
#: CRITICAL is below 7) for the first hour of the stack's life.
NEAR_EXPIRY = dt.timedelta(days=5, hours=1)


class LbaasHeat:
    """Stack's part for Octavia and Heat."""

    @property
    def octavia_state(self) -> Path:
        return self.root / "state" / "octavia"

    @property
    def amphora_control(self) -> Path:
        """Where a `<member id>.down` file makes the fake amphora report that member DOWN."""
        return self.root / "amphorae"

    @property
    def pki(self) -> Path:
        """The https endpoint's CA (ca.pem: clouds.yaml's cacert) and certificate (heat-tls.pem, .key)."""
        return self.root / "pki"

    @property
    def tls_ca(self) -> Path:
        return self.pki / "ca.pem"

    def _mint_tls(self) -> None:
        mint_ca(self.pki, "realos-tls-ca", days=3650)
        mint_server(self.pki, "heat-tls", "127.0.0.1", dt.datetime.now(dt.UTC) + NEAR_EXPIRY)

    def _write_lbaas_heat_configs(self) -> None:
        etc = self.root / "etc"
        for sub in ("octavia", "heat"):
            (etc / sub).mkdir(parents=True, exist_ok=True)
        self.octavia_state.mkdir(parents=True, exist_ok=True)
        self.amphora_control.mkdir(exist_ok=True)
        locks = {"lock_path": str(self.root / "state" / "locks")}
        common = {"debug": False, "use_stderr": True, "transport_url": self.transport_url}
        hm = f"127.0.0.1:{self.ports['octavia-hm']}"
        self.conf["octavia"] = ini(etc / "octavia" / "octavia.conf", {
            "DEFAULT": common,
            "api_settings": {"bind_host": "127.0.0.1", "bind_port": self.ports["octavia"],
                             "auth_strategy": "keystone", "default_provider_driver": "amphora",
                             "enabled_provider_drivers": "amphora: The Octavia Amphora driver."},
            "database": {"connection": self.db_url("octavia")},
            "keystone_authtoken": self._authtoken("octavia"),
            "service_auth": self._authtoken("octavia"),
            "controller_worker": {**NOOP_DRIVERS, "loadbalancer_topology": "SINGLE", "workers": 1,
                                  "amp_image_tag": "amphora", "amp_flavor_id": "1",
                                  "amp_boot_network_list": "00000000-0000-4000-8000-00000000a4b0",
                                  "amp_active_retries": 3, "amp_active_wait_sec": 1,
                                  # the amphora's config drive carries it (compute_tasks.CertComputeCreate)
                                  "client_ca": str(self.octavia_state / "ca.pem")},
            "health_manager": {"bind_ip": "127.0.0.1", "bind_port": self.ports["octavia-hm"],
                               "controller_ip_port_list": hm, "heartbeat_key": secrets.token_hex(16),
                               "health_update_threads": 1, "stats_update_threads": 1, "failover_threads": 1,
                               "heartbeat_timeout": 3600, "health_check_interval": 3},
            "certificates": {"cert_generator": "local_cert_generator",
                             "ca_certificate": str(self.octavia_state / "ca.pem"),
                             "ca_private_key": str(self.octavia_state / "ca.key")},
            "oslo_messaging": {"topic": "octavia_prov"},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": {"driver": "noop"},
            "task_flow": {"jobboard_enabled": False},
        })
        self.conf["heat"] = ini(etc / "heat" / "heat.conf", {
            "DEFAULT": {**common, "num_engine_workers": 1, "region_name_for_services": REGION,
                        "heat_metadata_server_url": f"http://127.0.0.1:{self.ports['heat']}",
                        "heat_waitcondition_server_url": f"http://127.0.0.1:{self.ports['heat']}/v1/waitcondition"},
            "database": {"connection": self.db_url("heat")},
            "keystone_authtoken": self._authtoken("heat"),
            "trustee": {"auth_type": "password", "auth_url": self.auth_url, "username": "heat",
                        "password": PASSWORD, "user_domain_name": "Default"},
            "clients_keystone": {"auth_uri": self.auth_url.rsplit("/v3", 1)[0]},
            "heat_api": {"workers": 1},
            "paste_deploy": {"api_paste_config": str(self.venv / "etc" / "heat" / "api-paste.ini")},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": {"driver": "noop"},
            "oslo_policy": {"policy_file": str(self._heat_policy(etc / "heat"))},
        })

    @staticmethod
    def _heat_policy(etc: Path) -> Path:
        """Heat denies the global tenant listing to everyone by default; the monitoring admin needs it."""
        path = etc / "policy.yaml"
        path.write_text('"stacks:global_index": "role:admin"\n')
        return path

    def lbaas_heat_schema_jobs(self) -> dict[str, list[list[str]]]:
        """The schema commands of Octavia and Heat, for Configs._sync_schemas' parallel run."""
        return {
            "octavia-db-manage": [[self.bin("octavia-db-manage"), "--config-file", str(self.conf["octavia"]),
                                   "upgrade", "head"]],
            "heat-manage": [[self.bin("heat-manage"), "--config-file", str(self.conf["heat"]), "db_sync"]],
        }

    def octavia_ca(self) -> None:
        """Mint the CA the worker signs amphora certificates with (until then, creating a load balancer fails)."""
        mint_ca(self.octavia_state, "realos-octavia-ca", days=30)

    def _start_lbaas_heat(self) -> None:
        octavia = ["--config-file", str(self.conf["octavia"])]
        self._gunicorn("octavia-api", "octavia", self.ports["octavia"],
                       {"REALOS_OCTAVIA_CONF": str(self.conf["octavia"])})
        self.spawn("octavia-worker", [self.bin("octavia-worker"), *octavia])
        self.spawn("octavia-health-manager", [self.bin("octavia-health-manager"), *octavia])
        self.spawn("fake-amphorae", [self.bin("python"), str(Path(__file__).parent / "fake_amphorae.py"),
                                     str(self.conf["octavia"]), str(self.amphora_control)])
        heat_env = {"REALOS_HEAT_CONF": str(self.conf["heat"])}
        self._gunicorn("heat-api", "heat", self.ports["heat"], heat_env)
        self._mint_tls()
        self._gunicorn("heat-api-tls", "heat", self.ports["heat-tls"], heat_env,
                       tls=(self.pki / "heat-tls.pem", self.pki / "heat-tls.key"))
        self.spawn("heat-engine", [self.bin("heat-engine"), "--config-file", str(self.conf["heat"])])

    def _wait_lbaas_heat(self) -> None:
        """Octavia's and Heat's APIs answer, heat-engine reports up."""
        names = ("octavia-api", "octavia-worker", "octavia-health-manager", "heat-api", "heat-api-tls",
                 "heat-engine")
        self.wait_for("octavia-api", lambda: self.http_ok(self.urls["load-balancer"]), 120, names)
        heat_root = f"http://127.0.0.1:{self.ports['heat']}/"
        self.wait_for("heat-api", lambda: self.http_ok(heat_root), 120, names)
        tls_root = f"https://127.0.0.1:{self.ports['heat-tls']}/"
        self.wait_for("heat-api-tls", lambda: self.http_ok(tls_root, self.tls_ca), 120, names)
        s = self.admin_session()

        def engine_up() -> bool:
            url = self.urls["orchestration"] % {"project_id": s.get_project_id()}
            return any(e.get("status") == "up" for e in s.get(url + "/services").json()["services"])

        self.wait_for("heat-engine up", engine_up, 120, names)
