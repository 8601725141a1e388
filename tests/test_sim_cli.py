"""The simulator's scenarios, cloud generator and command line: the shipped scenarios load (healthy is
healthy), the generator is deterministic and consistent, `vio-sim` serves until SIGTERM / SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sim_fixtures import ts

from vio_sim import State
from vio_sim.generator import generate
from vio_sim.keystone_state import in_catalog
from vio_sim.nova.servers import host_status

# -- scenarios, generator, CLI --------------------------------------------------------------------------


def test_scenarios_load_and_healthy_is_healthy(tmp_path):
    st = State("healthy")
    ix = st.index()
    assert all(s["status"] == "ACTIVE" and host_status(st, s, ix) == "UP" for s in st.objects["servers"].values())
    assert all(p["status"] == "ACTIVE" for p in st.objects["ports"].values())
    assert all(a["alive"] for a in st.objects["agents"].values())
    assert all(s["state"] == "up" for s in st.objects["compute_services"].values())
    assert all(v["status"] in ("available", "in-use") for v in st.objects["volumes"].values())
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"servers": [{"name": "a", "updated": "-2h", "created": "2024-01-01T00:00:00Z"}]}))
    s = State(str(path)).find("servers", "a")
    assert s["created"] == "2024-01-01T00:00:00Z" and 7190 < time.time() - ts(s["updated"]) < 7210
    assert State("demo").find("servers", "web-01")["id"] == State("demo").find("servers", "web-01")["id"]
    with pytest.raises(FileNotFoundError):
        State("no-such-scenario")


@pytest.mark.parametrize("setting, kind, obj", [("octavia", "loadbalancers", {"name": "lb"}),
                                                ("glance", "images", {"name": "cirros"}),
                                                ("heat", "stacks", {"name": "shop"})])
def test_an_optional_service_is_in_the_catalog_by_one_rule(setting, kind, obj):
    """Octavia, Glance and Heat: listed when the region has objects of their kind, unless the setting
    says otherwise (true lists it even without objects, false never)."""
    assert not in_catalog(State({}), setting)
    assert in_catalog(State({kind: [obj]}), setting)
    assert in_catalog(State({"settings": {setting: True}}), setting)
    assert not in_catalog(State({"settings": {setting: False}, kind: [obj]}), setting)


def test_generator_is_deterministic_and_consistent():
    a = generate(vms=300, clusters=3, volumes=200, ports=700, routers=6, projects=4, seed=5)
    assert a == generate(vms=300, clusters=3, volumes=200, ports=700, routers=6, projects=4, seed=5)
    assert a != generate(vms=300, clusters=3, volumes=200, ports=700, routers=6, projects=4, seed=6)
    st = State(a)
    o = st.objects
    assert (len(o["servers"]), len(o["volumes"]), len(o["ports"]), len(o["routers"]), len(o["hypervisors"]),
            len(o["projects"])) == (300, 200, 700, 6, 3, 4)
    nodes = {h["hypervisor_hostname"] for h in o["hypervisors"].values()}
    assert all(s["OS-EXT-SRV-ATTR:hypervisor_hostname"] in nodes for s in o["servers"].values()
               if s["status"] != "SHELVED_OFFLOADED")
    devices = set(o["servers"]) | set(o["routers"])
    assert all(p["device_id"] in devices for p in o["ports"].values() if p["device_owner"] != "network:dhcp")
    assert all(a["server_id"] in o["servers"] for v in o["volumes"].values() for a in v["attachments"])
    assert all(r in o["routers"] for ag in o["agents"].values() for r in ag["routers"])
    ips = [f["ip_address"] for p in o["ports"].values() for f in p["fixed_ips"]]
    assert len(ips) == len(set(ips))


def test_cli_serves_until_sigterm(tmp_path):
    cy = tmp_path / "clouds.yaml"
    p = subprocess.Popen([sys.executable, "-m", "vio_sim.cli", "--scenario", "healthy", "--port", "0",
                          "--write-clouds-yaml", str(cy), "--cloud-name", "lab"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while not cy.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "lab:" in cy.read_text() and url in cy.read_text()
        import urllib.request

        with urllib.request.urlopen(url + "/_sim/counters", timeout=5) as r:
            assert json.loads(r.read())["total"] == 0
        p.send_signal(signal.SIGTERM)
        _out, err = p.communicate(timeout=10)
        assert p.returncode == 0 and "Traceback" not in err
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    h = subprocess.run([sys.executable, "-m", "vio_sim.cli", "--help"], capture_output=True, text=True)
    assert h.returncode == 0
    for word in ("--scenario", "--generate", "--token-ttl", "--write-clouds-yaml", "/_sim/faults", "migrate"):
        assert word in h.stdout


def test_cli_sigint_and_generate(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "vio_sim.cli", "--generate", "300", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://")
        import urllib.request

        with urllib.request.urlopen(url + "/_sim/servers", timeout=5) as r:
            assert len(json.loads(r.read())["servers"]) == 300
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=10)
        assert p.returncode == 0 and "Traceback" not in err
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
