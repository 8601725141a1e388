"""Fake Neutron agents that talk to the real Neutron server over its own agent RPC (runs in the stack's venv).

    python fake_agents.py NEUTRON_CONF CONTROL_DIR DB_URL AGENTS_JSON

AGENTS_JSON is a list of {"binary", "host", "agent_type", "topic", "configurations"}. Every agent heartbeats
through Neutron's PluginReportStateAPI (the agents' own client), so the server sees them as an L3, DHCP or
Open vSwitch agent would look; ML2's openvswitch driver binds VM ports to a host with a live OVS agent.
What the real agents do beyond heartbeats, done just enough for a monitoring test:
- each L3 agent answers the RPC calls the server makes to it (router_added_to_agent is a call) and asks for
  its routers (sync_routers), which binds the router ports to its host;
- each OVS agent reports the ports bound to its host as up (update_device_list), so they go ACTIVE.
A file CONTROL_DIR/<binary>@<host>.stopped stops that agent's heartbeats (the agent "dies"); removing the
file revives it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit

import oslo_messaging
import pymysql
from neutron.agent import rpc as agent_rpc
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_conf
from neutron.conf.agent.database import agents_db as agents_db_conf
from neutron_lib import context as n_context
from neutron_lib import rpc as n_rpc
from oslo_config import cfg

INTERVAL = 2.0


class _AnyCall:
    """An RPC endpoint that accepts every method the server sends to an agent and answers None."""

    target = oslo_messaging.Target(version="1.99")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda ctxt, **kwargs: None


def _db(url: str):
    u = urlsplit(url.replace("mysql+pymysql", "mysql"))
    return pymysql.connect(host=u.hostname, port=u.port or 3306, user=u.username, password=u.password,
                           database=u.path.lstrip("/"), autocommit=True)


def _bound_down_ports(db_url: str, host: str) -> list[str]:
    """Ports bound to host that are not ACTIVE yet: what a real OVS agent would find on its bridge."""
    conn = _db(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT p.id FROM ports p JOIN ml2_port_bindings b ON b.port_id = p.id "
                "WHERE b.host = %s AND b.status = 'ACTIVE' AND b.vif_type NOT IN ('unbound', 'binding_failed') "
                "AND p.status <> 'ACTIVE' AND p.admin_state_up = 1", (host,))
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def run_agent(spec: dict, control_dir: str, db_url: str) -> None:
    """Heartbeat forever; plus the agent type's extra duty (see the module docstring)."""
    ctx = n_context.get_admin_context_without_session()
    reporter = agent_rpc.PluginReportStateAPI("q-reports-plugin")
    plugin = agent_rpc.PluginApi("q-plugin")
    l3 = n_rpc.get_client(oslo_messaging.Target(topic="q-l3-plugin", version="1.0"))
    stop_file = os.path.join(control_dir, f"{spec['binary']}@{spec['host']}.stopped")
    state = {k: spec[k] for k in ("binary", "host", "agent_type", "topic", "configurations")}
    state["start_flag"] = True
    while True:
        if not os.path.exists(stop_file):
            try:
                reporter.report_state(ctx, dict(state), use_call=True)
                state.pop("start_flag", None)
                if spec["agent_type"] == "L3 agent":
                    l3.prepare(timeout=10).call(ctx, "sync_routers", host=spec["host"], router_ids=None)
                if spec["agent_type"] == "Open vSwitch agent":
                    up = _bound_down_ports(db_url, spec["host"])
                    if up:
                        plugin.update_device_list(ctx, up, [], f"ovs-{spec['host']}", spec["host"])
            except Exception as e:  # the server may not listen yet, or be restarting: try again
                print(f"{spec['binary']}@{spec['host']}: {type(e).__name__}: {e}", flush=True)
        time.sleep(INTERVAL)


def main() -> None:
    neutron_conf, control_dir, db_url, agents_json = sys.argv[1:5]
    sys.argv = [sys.argv[0]]
    common_config.register_common_config_options()
    agent_conf.register_agent_state_opts_helper(cfg.CONF)
    agents_db_conf.register_db_agents_opts(cfg.CONF)
    common_config.init(["--config-file", neutron_conf])
    n_rpc.init(cfg.CONF)
    agents = json.loads(agents_json)
    for spec in agents:
        if spec["agent_type"] == "L3 agent":
            target = oslo_messaging.Target(topic=spec["topic"], server=spec["host"])
            server = n_rpc.get_server(target, [_AnyCall()])
            server.start()
    threads = [threading.Thread(target=run_agent, args=(spec, control_dir, db_url), daemon=True)
               for spec in agents]
    for t in threads:
        t.start()
    print("fake agents running", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
