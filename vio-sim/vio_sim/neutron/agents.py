"""Neutron agents (L3, DHCP, OVS...) and the HA state of the routers they host: state and rendering."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..common import FMT_SPACE, Kind, det_uuid, fmt_time, last_report, still_up

if TYPE_CHECKING:
    from ..store import State


AGENT_BINARIES = {
    "L3 agent": "neutron-l3-agent",
    "DHCP agent": "neutron-dhcp-agent",
    "Open vSwitch agent": "neutron-openvswitch-agent",
    "Metadata agent": "neutron-metadata-agent",
    "Linux bridge agent": "neutron-linuxbridge-agent",
    "Metering agent": "neutron-metering-agent",
}
_AGENT_TOPICS = {"L3 agent": "l3_agent", "DHCP agent": "dhcp_agent", "Open vSwitch agent": "N/A",
                 "Metadata agent": "N/A"}

def ingest_agents(st: State, c: dict, old: dict | None, now: float) -> dict:
    """References of an incoming agent; an agent going dead gets a last heartbeat in the past."""
    if "routers" in c:
        c["routers"] = [st.ref("routers", r) for r in c["routers"] or ()]
    if isinstance(c.get("ha_states"), dict):
        c["ha_states"] = {st.ref("routers", k): v for k, v in c["ha_states"].items()}
    was_alive = old is None or old.get("alive", True)
    if c.get("alive") is False and was_alive and "heartbeat_timestamp" not in c:
        c["heartbeat_timestamp"] = now - (600 if old is None else 120)
    return c

def fill_agents(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new agent."""
    if new:
        at = o.setdefault("agent_type", "L3 agent")
        o.setdefault("binary", AGENT_BINARIES.get(at, "neutron-agent"))
        o.setdefault("host", st.settings.get("network_host") or "vio-network-01")
        o.setdefault("alive", True)
        o.setdefault("admin_state_up", True)
        o.setdefault("availability_zone", "nova" if at in ("L3 agent", "DHCP agent") else None)
        o.setdefault("topic", _AGENT_TOPICS.get(at, "N/A"))
        o.setdefault("configurations", {})
        o.setdefault("description", None)
        o.setdefault("resources_synced", None)
        o.setdefault("created_at", fmt_time(now - 120 * 86400, FMT_SPACE))
        o.setdefault("started_at", fmt_time(now - 7 * 86400, FMT_SPACE))
        o.setdefault("heartbeat_timestamp", None)
        o.setdefault("routers", [])
    if o.get("id") is None:
        o["id"] = det_uuid("agents", o["binary"], o["host"])

def render_agent(st: State, a: dict, router: dict | None = None) -> dict:
    """An agent as Neutron shows it (with ``ha_state`` when listed under a router)."""
    out = {k: v for k, v in a.items() if not k.startswith("_") and k not in ("routers", "ha_states")}
    stop = last_report(a) if a.get("alive", True) else None
    if stop is not None:  # stopped: its last heartbeat; dead once agent_down_time has passed
        out["heartbeat_timestamp"] = fmt_time(stop, FMT_SPACE)
        out["alive"] = alive(st, a)
    elif a.get("alive", True):
        out["heartbeat_timestamp"] = fmt_time(int(time.time()) - 2, FMT_SPACE)
    if router is not None:
        # Neutron's /routers/{id}/l3-agents: the agent's ha_state for an HA router, null otherwise
        out["ha_state"] = ha_state(st, router, a) if router.get("ha") else None
    return out

def ha_state(st: State, router: dict, agent: dict) -> str:
    """An L3 agent's HA state for a router: pinned, else first alive active, other alive standby."""
    pinned = (agent.get("ha_states") or {}).get(router["id"])
    if pinned:
        return pinned
    if not alive(st, agent):
        return "unknown"
    up = [a for a in st.index().agents_by_router.get(router["id"], ()) if alive(st, a)]
    return "active" if up and up[0] is agent else "standby"


def alive(st: State, a: dict) -> bool:
    """An agent is alive while it reports, and agent_down_time after it stopped (vio_sim.services)."""
    return bool(a.get("alive", True)) and still_up(a, st, "agents")

KIND = Kind("agents", ingest=ingest_agents, fill=fill_agents,
            times={"heartbeat_timestamp": FMT_SPACE, "created_at": FMT_SPACE, "started_at": FMT_SPACE})
