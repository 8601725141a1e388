"""The simulator's controller services (vio_sim.services): members per layout, pod-style restarts, the
delayed down of service_down_time / agent_down_time, and nova-compute reporting through nova-conductor;
driven through the real openstacksdk over HTTP (no mocks)."""

# ruff: noqa: F811  (the fixtures imported from sim_fixtures are redefined as test arguments)

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sim_fixtures import connect

from vio_sim import AdminError, Simulator
from vio_sim.services import with_layout
from vio_sim.store import load_scenario


def services(conn, path: str = "/os-services", mv: str = "2.53") -> list[dict]:
    return conn.compute.get(path, microversion=mv).json()["services"]


def volume_services(conn) -> list[dict]:
    return conn.block_storage.get("/os-services").json()["services"]


def agents(conn) -> list[dict]:
    return conn.network.get("/agents").json()["agents"]


def one(records: list[dict], binary: str, host: str) -> dict:
    return next(r for r in records if r["binary"] == binary and r["host"] == host)


def epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace(" ", "T").removesuffix("Z")).replace(tzinfo=UTC).timestamp()


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize(("layout", "members"), [("ha", 3), ("compact", 1), ("tiny", 1)])
def test_a_layout_runs_its_members_of_each_controller_binary(layout: str, members: int) -> None:
    with Simulator(with_layout(load_scenario("healthy"), layout)) as sim:
        conn = connect(sim)
        nova = Counter(s["binary"] for s in services(conn))
        cinder = Counter(s["binary"] for s in volume_services(conn))
        neutron = Counter(a["binary"] for a in agents(conn))
        assert nova["nova-scheduler"] == nova["nova-conductor"] == members and "nova-consoleauth" not in nova
        assert nova["nova-compute"] == 2  # per-resource records stay as the scenario has them
        assert cinder["cinder-scheduler"] == members and cinder["cinder-volume"] == 1
        assert neutron["neutron-dhcp-agent"] == neutron["neutron-metadata-agent"] == members
        assert neutron["neutron-l3-agent"] == 2


def test_pods_name_the_members_as_kubernetes_does() -> None:
    scenario = with_layout(load_scenario("healthy"), "ha", pods=True)
    assert scenario == with_layout(load_scenario("healthy"), "ha", pods=True)  # deterministic
    hosts = [s["host"] for s in scenario["compute_services"] if s["binary"] == "nova-conductor"]
    assert len(set(hosts)) == 3
    assert all(h.startswith("nova-conductor-") and len(h.split("-")[-1]) == 5 for h in hosts)
    with pytest.raises(Exception, match="unknown layout"):
        with_layout(load_scenario("healthy"), "huge")


def test_a_pod_restart_registers_a_new_record_and_leaves_the_old_one_down() -> None:
    with Simulator(with_layout(load_scenario("healthy"), "ha", pods=True)) as sim:
        sim.admin("PATCH", "/_sim/settings", {"service_down_time": 1, "agent_down_time": 1})
        conn = connect(sim)
        old = next(s for s in services(conn) if s["binary"] == "nova-conductor")
        out = sim.admin("POST", f"/_sim/compute_services/{old['id']}/restart")
        new_host = out["started"]["host"]
        assert new_host != old["host"] and new_host.rsplit("-", 1)[0] == old["host"].rsplit("-", 1)[0]
        listed = services(conn)
        assert sum(s["binary"] == "nova-conductor" for s in listed) == 4
        fresh = one(listed, "nova-conductor", new_host)
        assert fresh["state"] == "up" and fresh["status"] == "enabled" and fresh["id"] != old["id"]
        # the old record: still up (service_down_time has not passed), then down with its last heartbeat
        stopped = one(listed, "nova-conductor", old["host"])
        last = stopped["updated_at"]
        time.sleep(1.3)
        stopped = one(services(conn), "nova-conductor", old["host"])
        assert stopped["state"] == "down" and stopped["updated_at"] == last
        assert one(services(conn), "nova-conductor", new_host)["state"] == "up"
        # the pre-2.53 integer ids of the two records differ too
        assert len({s["id"] for s in services(conn, mv="2.1") if s["binary"] == "nova-conductor"}) == 4

        # a Neutron agent: the new one's created_at is after the old one's last heartbeat
        dhcp = next(a for a in agents(conn) if a["binary"] == "neutron-dhcp-agent")
        out = sim.admin("POST", f"/_sim/agents/{dhcp['id']}/restart", {"host": "dhcp-new"})
        time.sleep(1.3)
        listed = agents(conn)
        gone, fresh = one(listed, "neutron-dhcp-agent", dhcp["host"]), one(listed, "neutron-dhcp-agent", "dhcp-new")
        assert gone["alive"] is False and fresh["alive"] is True
        assert epoch(fresh["created_at"]) >= epoch(gone["heartbeat_timestamp"])
        # Cinder's records (no ids: binary@host)
        sched = next(s for s in volume_services(conn) if s["binary"] == "cinder-scheduler")
        out = sim.admin("POST", f"/_sim/volume_services/cinder-scheduler@{sched['host']}/restart")
        assert sum(s["binary"] == "cinder-scheduler" for s in volume_services(conn)) == 4


def test_a_stopped_service_reads_up_until_service_down_time_has_passed() -> None:
    with Simulator("healthy") as sim:
        conn = connect(sim)
        sim.admin("PATCH", "/_sim/settings", {"service_down_time": 2})
        sim.admin("POST", "/_sim/compute_services/nova-scheduler@vio-controller-01/stop")
        first = one(services(conn), "nova-scheduler", "vio-controller-01")
        assert first["state"] == "up"  # Nova's DB driver: up while now - last heartbeat <= service_down_time
        time.sleep(1)
        again = one(services(conn), "nova-scheduler", "vio-controller-01")
        assert again["state"] == "up" and again["updated_at"] == first["updated_at"]  # the heartbeat stopped
        wait_until(lambda: one(services(conn), "nova-scheduler", "vio-controller-01")["state"] == "down")
        assert one(services(conn), "nova-scheduler", "vio-controller-01")["updated_at"] == first["updated_at"]
        # the default is Nova's 60 s
        sim.admin("PATCH", "/_sim/settings", {"service_down_time": None})
        assert one(services(conn), "nova-scheduler", "vio-controller-01")["state"] == "up"
        sim.admin("POST", "/_sim/compute_services/nova-scheduler@vio-controller-01/start")
        assert one(services(conn), "nova-scheduler", "vio-controller-01")["updated_at"] != first["updated_at"]
        # a stop in the past is down at once; a stop of a record without a heartbeat is refused
        sim.admin("POST", "/_sim/volume_services/cinder-scheduler@vio-controller-02/stop", {"at": "-2m"})
        assert one(volume_services(conn), "cinder-scheduler", "vio-controller-02")["state"] == "down"
        with pytest.raises(AdminError, match="no heartbeat"):
            sim.admin("POST", "/_sim/servers/shop-web-01/stop")


def test_with_every_conductor_stopped_nova_compute_goes_down_service_down_time_later() -> None:
    with Simulator("healthy") as sim:
        conn = connect(sim)
        sim.admin("PATCH", "/_sim/settings", {"service_down_time": 1})
        computes = [s for s in services(conn) if s["binary"] == "nova-compute"]
        assert computes and all(s["state"] == "up" for s in computes)
        sim.admin("POST", "/_sim/compute_services/nova-conductor@vio-controller-01/stop")
        time.sleep(1.3)
        listed = services(conn)  # one conductor left: the computes still report
        assert one(listed, "nova-conductor", "vio-controller-01")["state"] == "down"
        assert all(s["state"] == "up" for s in listed if s["binary"] == "nova-compute")
        sim.admin("POST", "/_sim/compute_services/nova-conductor@vio-controller-02/stop")
        assert all(s["state"] == "up" for s in services(conn) if s["binary"] == "nova-compute")
        time.sleep(1.3)
        listed = services(conn)
        assert all(s["state"] == "down" for s in listed if s["binary"] in ("nova-compute", "nova-conductor"))
        hyps = conn.compute.get("/os-hypervisors/detail", microversion="2.53").json()["hypervisors"]
        assert {h["state"] for h in hyps} == {"down"}
        # one conductor back: the computes report again
        sim.admin("POST", "/_sim/compute_services/nova-conductor@vio-controller-02/start")
        assert all(s["state"] == "up" for s in services(conn) if s["binary"] == "nova-compute")


def test_an_agent_stopped_reads_alive_until_agent_down_time() -> None:
    with Simulator("healthy") as sim:
        conn = connect(sim)
        sim.admin("PATCH", "/_sim/settings", {"agent_down_time": 1})
        sim.admin("POST", "/_sim/agents/neutron-metadata-agent@vio-network-01/stop")
        assert one(agents(conn), "neutron-metadata-agent", "vio-network-01")["alive"] is True
        time.sleep(1.3)
        assert one(agents(conn), "neutron-metadata-agent", "vio-network-01")["alive"] is False


def test_the_cli_takes_a_layout_with_pods(tmp_path) -> None:
    out = tmp_path / "scenario.json"
    r = subprocess.run([sys.executable, "-m", "vio_sim.cli", "--scenario", "healthy", "--layout", "ha", "--pods",
                        "--dump-scenario", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    scenario = load_scenario(str(out))
    assert sum(s["binary"] == "nova-conductor" for s in scenario["compute_services"]) == 3
    r = subprocess.run([sys.executable, "-m", "vio_sim.cli", "--pods", "--dump-scenario", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--pods needs --layout" in r.stderr
