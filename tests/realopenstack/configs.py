"""The configuration files and database schemas of Keystone, Nova, Placement, Glance, Cinder and Neutron."""

from __future__ import annotations

import shutil
import time
from typing import Any

from .procs import ini as _ini

PASSWORD = "realos-secret"
ADMIN_PASSWORD = "realos-admin"
REGION = "RegionOne"
#: Short liveness windows so fault tests stay quick (defaults: 60 s for Nova, 75 s for Neutron).
REPORT_INTERVAL = 2
SERVICE_DOWN_TIME = 10
AGENT_DOWN_TIME = 8
COMPUTE_HOSTS = ("compute-1", "compute-2")
#: Two nova-conductors under different [DEFAULT] host names: a cluster of two (issue 23)
CONDUCTOR_HOSTS = ("controller", "controller-2")


class Configs:
    """Stack's part that writes every service's config and syncs their schemas."""

    def _authtoken(self, user: str) -> dict[str, Any]:
        return {
            "www_authenticate_uri": self.auth_url, "auth_url": self.auth_url, "auth_type": "password",
            "project_domain_name": "Default", "user_domain_name": "Default", "project_name": "service",
            "username": user, "password": PASSWORD, "region_name": REGION,
        }

    def _write_configs(self) -> None:
        etc = self.root / "etc"
        for sub in ("keystone", "nova", "placement", "glance", "cinder", "neutron", "state"):
            (etc / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "home").mkdir(exist_ok=True)
        state = self.root / "state"
        venv_etc = self.venv / "etc"
        common = {"debug": False, "use_stderr": True}
        rpc = {"transport_url": self.transport_url}
        locks = {"lock_path": str(state / "locks")}
        notifications = {"driver": "noop"}

        self.conf["keystone"] = _ini(etc / "keystone" / "keystone.conf", {
            "DEFAULT": common,
            "database": {"connection": self.db_url("keystone")},
            "token": {"provider": "fernet", "expiration": 7200},
            "fernet_tokens": {"key_repository": str(etc / "keystone" / "fernet-keys")},
            "credential": {"key_repository": str(etc / "keystone" / "credential-keys")},
            # In-process cache: a token costs ~20 ms instead of ~300, a validation ~5 ms instead of ~700.
            "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
            "identity": {"password_hash_rounds": 4},
        })

        nova_common = {
            "DEFAULT": {
                **common, **rpc, "compute_driver": "fake.FakeDriverWithoutFakeNodes", "my_ip": "127.0.0.1",
                "host": "controller", "state_path": str(state / "nova"), "report_interval": REPORT_INTERVAL,
                "service_down_time": SERVICE_DOWN_TIME, "instances_path": str(state / "nova" / "instances"),
                "heal_instance_info_cache_interval": -1, "update_resources_interval": 5,
            },
            "api": {"auth_strategy": "keystone"},
            "api_database": {"connection": self.db_url("nova_api")},
            "database": {"connection": self.db_url("nova")},
            "keystone_authtoken": self._authtoken("nova"),
            "service_user": {**self._authtoken("nova"), "send_service_user_token": True},
            "placement": self._authtoken("placement") | {"username": "nova"},
            "neutron": self._authtoken("neutron") | {"username": "nova"},
            "cinder": {"os_region_name": REGION, **(self._authtoken("cinder") | {"username": "nova"})},
            "glance": {"region_name": REGION},
            "scheduler": {"discover_hosts_in_cells_interval": 5, "workers": 1},
            "conductor": {"workers": 1},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
            "vnc": {"enabled": False},
            "cells": {},
        }
        nova_common.pop("cells")
        self.conf["nova"] = _ini(etc / "nova" / "nova.conf", nova_common)
        for host in CONDUCTOR_HOSTS[1:]:  # the first is nova.conf's own host
            self.conf[f"nova-{host}"] = _ini(etc / "nova" / f"{host}.conf", {"DEFAULT": {"host": host}})
        for host in COMPUTE_HOSTS:
            self.conf[f"nova-{host}"] = _ini(etc / "nova" / f"{host}.conf", {"DEFAULT": {
                "host": host, "state_path": str(state / host), "instances_path": str(state / host / "instances"),
            }})

        self.conf["placement"] = _ini(etc / "placement" / "placement.conf", {
            "DEFAULT": common,
            "api": {"auth_strategy": "keystone"},
            "placement_database": {"connection": self.db_url("placement")},
            "keystone_authtoken": self._authtoken("placement"),
        })

        glance_dir = etc / "glance"
        shutil.copy(venv_etc / "glance" / "glance-api-paste.ini", glance_dir / "glance-api-paste.ini")
        self.conf["glance"] = _ini(glance_dir / "glance-api.conf", {
            "DEFAULT": {**common, "enabled_backends": "file:file"},
            "database": {"connection": self.db_url("glance")},
            "keystone_authtoken": self._authtoken("glance"),
            "paste_deploy": {"flavor": "keystone", "config_file": str(glance_dir / "glance-api-paste.ini")},
            "glance_store": {"default_backend": "file"},
            "file": {"filesystem_store_datadir": str(state / "glance" / "images")},
            "os_glance_staging_store": {"filesystem_store_datadir": str(state / "glance" / "staging")},
            "os_glance_tasks_store": {"filesystem_store_datadir": str(state / "glance" / "tasks")},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })

        self.conf["cinder"] = _ini(etc / "cinder" / "cinder.conf", {
            "DEFAULT": {
                **common, **rpc, "auth_strategy": "keystone", "enabled_backends": "fake", "my_ip": "127.0.0.1",
                "state_path": str(state / "cinder"), "api_paste_config": str(venv_etc / "cinder" / "api-paste.ini"),
                "report_interval": REPORT_INTERVAL, "service_down_time": SERVICE_DOWN_TIME,
                "osapi_volume_workers": 1,
            },
            "fake": {"volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
                     "volume_backend_name": "fake"},
            "database": {"connection": self.db_url("cinder")},
            "keystone_authtoken": self._authtoken("cinder"),
            "coordination": {"backend_url": f"file://{state / 'cinder' / 'coordination'}"},
            "nova": self._authtoken("nova") | {"username": "cinder"},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })

        self.conf["neutron"] = _ini(etc / "neutron" / "neutron.conf", {
            "DEFAULT": {
                **common, **rpc, "core_plugin": "ml2", "service_plugins": "router", "auth_strategy": "keystone",
                "state_path": str(state / "neutron"), "api_paste_config": str(venv_etc / "neutron" / "api-paste.ini"),
                "notify_nova_on_port_status_changes": False, "notify_nova_on_port_data_changes": False,
                "agent_down_time": AGENT_DOWN_TIME, "rpc_workers": 1, "rpc_state_report_workers": 1,
                "api_workers": 1, "allow_overlapping_ips": True, "dhcp_agents_per_network": 1,
            },
            "agent": {"report_interval": REPORT_INTERVAL},
            "database": {"connection": self.db_url("neutron")},
            "keystone_authtoken": self._authtoken("neutron"),
            "nova": self._authtoken("nova") | {"username": "neutron"},
            "oslo_concurrency": locks,
            "oslo_messaging_notifications": notifications,
        })
        self.conf["ml2"] = _ini(etc / "neutron" / "ml2_conf.ini", {
            "ml2": {"type_drivers": "flat,vlan,vxlan", "tenant_network_types": "vxlan",
                    "mechanism_drivers": "openvswitch", "extension_drivers": "port_security"},
            "ml2_type_flat": {"flat_networks": "public"},
            "ml2_type_vxlan": {"vni_ranges": "1:1000"},
        })
        for sub in ("nova", "glance", "cinder", "neutron", "locks", *COMPUTE_HOSTS):
            (state / sub).mkdir(parents=True, exist_ok=True)

    def _sync_schemas(self) -> None:
        t = time.monotonic()
        ks = ["--config-file", str(self.conf["keystone"])]
        nova = ["--config-file", str(self.conf["nova"])]
        neutron = ["--config-file", str(self.conf["neutron"]), "--config-file", str(self.conf["ml2"])]
        keystone_user = ["--keystone-user", "root", "--keystone-group", "root"]
        self.run_parallel({
            "keystone-manage": [
                [self.bin("keystone-manage"), *ks, "fernet_setup", *keystone_user],
                [self.bin("keystone-manage"), *ks, "credential_setup", *keystone_user],
                [self.bin("keystone-manage"), *ks, "db_sync"],
                [self.bin("keystone-manage"), *ks, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                 "--bootstrap-admin-url", self.auth_url, "--bootstrap-internal-url", self.auth_url,
                 "--bootstrap-public-url", self.auth_url, "--bootstrap-region-id", REGION],
            ],
            "nova-manage": [
                [self.bin("nova-manage"), *nova, "api_db", "sync"],
                [self.bin("nova-manage"), *nova, "cell_v2", "map_cell0",
                 "--database_connection", self.db_url("nova_cell0")],
                [self.bin("nova-manage"), *nova, "db", "sync"],
                [self.bin("nova-manage"), *nova, "cell_v2", "create_cell", "--name", "cell1"],
            ],
            "placement-manage": [[self.bin("placement-manage"), "--config-file", str(self.conf["placement"]),
                                  "db", "sync"]],
            "glance-manage": [[self.bin("glance-manage"), "--config-file", str(self.conf["glance"]), "db_sync"]],
            "cinder-manage": [[self.bin("cinder-manage"), "--config-file", str(self.conf["cinder"]), "db", "sync"]],
            "neutron-db-manage": [[self.bin("neutron-db-manage"), *neutron, "upgrade", "heads"]],
            **self.lbaas_heat_schema_jobs(),
        })
        self._timed("schemas", t)
