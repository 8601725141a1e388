"""check_vio_router, check_vio_service and check_vio_discovery as subprocesses against the simulator.

Each test changes the simulator, refreshes the cache once (`sweep`), then runs several checks against that
one inventory, so the whole file stays fast.
"""

from __future__ import annotations


def expect(run, rc: int, status: str) -> None:
    """The exit code and the beginning of the status line."""
    assert run.rc == rc, str(run)
    assert run.status.startswith(status), str(run)
    assert "Traceback" not in run.stdout + run.stderr, str(run)


# --- check_vio_router ------------------------------------------------------------------------------


def test_router_demo_states(demo_cloud):
    """demo: webshop-router HA with one of two L3 agents dead, engineering-router ERROR, finance admin down."""
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_router")
    expect(r, 2, "VIO ROUTER CRITICAL - 1 CRITICAL, 1 WARNING of 3 routers: engineering-router is ERROR; ")
    assert (r.perfdata["total"], r.perfdata["critical"], r.perfdata["warning"], r.perfdata["ok"]) == (3, 1, 1, 1)

    r = demo_cloud.run("check_vio_router", "--name", "engineering-router")
    expect(r, 2, "VIO ROUTER CRITICAL - engineering-router is ERROR")

    r = demo_cloud.run("check_vio_router", "--name", "webshop-router")
    expect(r, 1, "VIO ROUTER WARNING - webshop-router: HA router with 1 of 2 hosting L3 agents dead: "
                 "neutron-l3-agent@vio-network-02")
    assert (r.perfdata["agents_alive"], r.perfdata["agents_total"]) == (1, 2)
    assert "agents_alive=1;;;0;2" in r.lines[0]

    # admin down is a deliberate admin action: OK with the fact in the status line, WARNING on request
    r = demo_cloud.run("check_vio_router", "--name", "finance-router")
    expect(r, 0, "VIO ROUTER OK - finance-router is ACTIVE (admin down), 1 of 1 hosting L3 agent alive")
    r = demo_cloud.run("check_vio_router", "--name", "finance-router", "--warn-disabled")
    expect(r, 1, "VIO ROUTER WARNING - finance-router is admin down")
    r = demo_cloud.run("check_vio_router", "--name", "finance-router", "--ignore-admin-down")  # deprecated no-op
    expect(r, 0, "VIO ROUTER OK - finance-router is ACTIVE (admin down), 1 of 1 hosting L3 agent alive")
    r = demo_cloud.run("check_vio_router", "--warn-disabled")
    expect(r, 2, "VIO ROUTER CRITICAL - 1 CRITICAL, 2 WARNING of 3 routers: engineering-router is ERROR; ")
    r = demo_cloud.run("check_vio_router", "--help")
    assert r.rc == 0 and "deprecated, no effect" in r.stdout and "--warn-disabled" in r.stdout

    r = demo_cloud.run("check_vio_router", "-w", "5", "-c", "10")
    expect(r, 0, "VIO ROUTER OK - 1 CRITICAL, 1 WARNING of 3 routers")

    r = demo_cloud.run("check_vio_router", "--name", "no-such-router")
    expect(r, 3, "VIO ROUTER UNKNOWN - router named 'no-such-router' not found in inventory")
    r = demo_cloud.run("check_vio_router", "--bogus")
    expect(r, 3, "VIO ROUTER UNKNOWN - bad option")
    assert len(r.lines) == 1 and "|" not in r.stdout  # no usage line: its `|` would start perfdata


def test_router_l3_agent_hosting(healthy_cloud):
    cloud = healthy_cloud
    r = cloud.run("check_vio_router")  # the first check sweeps by itself
    expect(r, 0, "VIO ROUTER OK - all 2 routers OK")
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 0, "VIO ROUTER OK - shop-router is ACTIVE, 2 of 2 hosting L3 agents alive")
    assert (r.perfdata["agents_alive"], r.perfdata["agents_total"]) == (2, 2)

    # backoffice-router loses its only agent's hosting; shop-router's HA standby dies
    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-01", routers=["shop-router"])
    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-02", alive=False)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "backoffice-router")
    expect(r, 2, "VIO ROUTER CRITICAL - backoffice-router is not hosted by any L3 agent")
    assert r.perfdata["agents_total"] == 0
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 1, "VIO ROUTER WARNING - shop-router: HA router with 1 of 2 hosting L3 agents dead")

    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-01", alive=False)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 2, "VIO ROUTER CRITICAL - shop-router: no alive L3 agent (2 hosting, all dead: ")
    assert (r.perfdata["agents_alive"], r.perfdata["agents_total"]) == (0, 2)


def test_router_ha_state(healthy_cloud):
    """An HA router must be active on exactly one alive L3 agent (ha_state from /routers/{id}/l3-agents)."""
    cloud = healthy_cloud
    net1, net2 = "neutron-l3-agent@vio-network-01", "neutron-l3-agent@vio-network-02"
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 0, "VIO ROUTER OK - shop-router is ACTIVE, 2 of 2 hosting L3 agents alive")
    assert r.perfdata["agents_active"] == 1
    assert "HA active" in r.stdout and "HA standby" in r.stdout

    # keepalived lost its master: both alive agents standby
    cloud.sim.patch("agents", net1, ha_states={"shop-router": "standby"})
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 2, f"VIO ROUTER CRITICAL - shop-router: HA router with no active L3 agent (2 alive: {net1} standby, "
                 f"{net2} standby)")
    assert r.perfdata["agents_active"] == 0

    # split brain: both active
    cloud.sim.patch("agents", net1, ha_states={"shop-router": "active"})
    cloud.sim.patch("agents", net2, ha_states={"shop-router": "active"})
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 2, f"VIO ROUTER CRITICAL - shop-router: HA router active on 2 L3 agents (split brain): {net1}, {net2}")
    r = cloud.run("check_vio_router")
    expect(r, 2, "VIO ROUTER CRITICAL - 1 CRITICAL of 2 routers: shop-router: HA router active on 2 L3 agents")

    # one active, the standby dead
    cloud.sim.patch("agents", net2, ha_states={}, alive=False)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 1, f"VIO ROUTER WARNING - shop-router: HA router with 1 of 2 hosting L3 agents dead: {net2}")
    assert r.perfdata["agents_active"] == 1


def test_router_l3_agents_as_one_redundant_set(healthy_cloud):
    """--l3-agents: the HA router's hosting L3 agents judged as one redundant set (the router's one parent
    in the generated config); the aggregate leaves their loss to it with --leave-l3-redundancy."""
    cloud = healthy_cloud
    net1, net2 = "neutron-l3-agent@vio-network-01", "neutron-l3-agent@vio-network-02"
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 0, "VIO ROUTER OK - router shop-router: all 2 L3 agents up")
    assert (r.perfdata["up"], r.perfdata["expected"], r.perfdata["down"], r.perfdata["unverified"]) == (2, 2, 0, 0)
    assert "up=2;2:;1:;0;2" in r.lines[0]
    r = cloud.run("check_vio_router", "--name", "backoffice-router", "--l3-agents")  # one agent: a set of one
    expect(r, 0, "VIO ROUTER OK - router backoffice-router: 1 of 1 L3 agent up")

    # an agent more is expected than hosts it (the generator's --expect-agents): the missing one is not up
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents", "--expect-agents", "3")
    expect(r, 1, "VIO ROUTER WARNING - router shop-router: reduced redundancy: 2 of 3 L3 agents up (1 expected "
                 "member not reported)")
    assert r.perfdata["unverified"] == 1
    # the standby no longer hosts it at all: an HA router still expects two
    cloud.sim.patch("agents", net2, routers=[])
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 1, "VIO ROUTER WARNING - router shop-router: at risk: 1 of 2 L3 agents up (1 expected member not "
                 "reported)")
    cloud.sim.patch("agents", net2, routers=["shop-router"])

    # the standby dies: the set is at risk, the router itself stays OK-ish (its own check WARNs)
    cloud.sim.patch("agents", net2, alive=False)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 1, f"VIO ROUTER WARNING - router shop-router: at risk: 1 of 2 L3 agents up (down: {net2})")
    assert f"down: {net2}: dead (last heartbeat " in r.stdout
    assert (r.perfdata["up"], r.perfdata["down"]) == (1, 1)
    r = cloud.run("check_vio_router")
    expect(r, 1, "VIO ROUTER WARNING - 1 WARNING of 2 routers: shop-router: HA router with 1 of 2 hosting L3 agents")
    r = cloud.run("check_vio_router", "--leave-l3-redundancy")  # its l3-agents service reports it: one page
    expect(r, 0, "VIO ROUTER OK - all 2 routers OK")
    r = cloud.run("check_vio_router", "--name", "shop-router", "--leave-l3-redundancy")
    expect(r, 0, "VIO ROUTER OK - shop-router is ACTIVE, 1 of 2 hosting L3 agents alive")
    assert f"1 of 2 hosting L3 agents dead: {net2} (left to its l3-agents service: --leave-l3-redundancy)" in r.stdout

    # an admin-down agent serves no router: down
    cloud.sim.patch("agents", net2, alive=True, admin_state_up=False)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 1, "VIO ROUTER WARNING - router shop-router: at risk: 1 of 2 L3 agents up")
    assert "admin down" in r.stdout

    # both dead: CRITICAL, and the aggregate still leaves no CRITICAL router unreported (its host pages)
    cloud.sim.patch("agents", net1, alive=False)
    cloud.sim.patch("agents", net2, alive=False, admin_state_up=True)
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 2, f"VIO ROUTER CRITICAL - router shop-router: all 2 L3 agents down (down: {net1}, {net2})")
    assert (r.perfdata["up"], r.perfdata["down"], r.perfdata["unverified"]) == (0, 2, 0)

    # Neutron leaves out whether the agents are alive: none verified up is UNKNOWN, never CRITICAL or OK
    cloud.sim.fault("agents", missing_fields={"agents": ["alive"]})
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router", "--l3-agents")
    expect(r, 3, "VIO ROUTER UNKNOWN - router shop-router: none of 2 L3 agents verified up (unverified: ")
    assert r.perfdata["unverified"] == 2

    r = cloud.run("check_vio_router", "--l3-agents")
    expect(r, 3, "VIO ROUTER UNKNOWN - bad option: --l3-agents judges one router's L3 agents: give --id or --name")


HOSTILE_NAMES = [
    "evil\nVIO ROUTER OK - all fine | forged=1;;;0;1",
    "a|b|c",
    "nul\x00byte\r\x1b[2Kwiped",
    "x" * 10_000,
]


def test_router_hostile_names_stay_inert(healthy_cloud):
    """A tenant's router name cannot forge a status line, perfdata, or flood the output."""
    cloud = healthy_cloud
    for name in HOSTILE_NAMES:
        rid = cloud.sim.patch("routers", "backoffice-router", name=name, status="ERROR")["id"]
        cloud.sweep()
        for run in (cloud.run("check_vio_router", "--id", rid), cloud.run("check_vio_router")):
            expect(run, 2, "VIO ROUTER CRITICAL - ")
            out = run.stdout
            assert "\x00" not in out and "\r" not in out and "\x1b" not in out, repr(out[:300])
            assert [line for line in run.lines if line.startswith("VIO ROUTER")] == [run.lines[0]], out[:2000]
            assert "forged" not in run.perfdata, run.perfdata
            assert max(len(line) for line in run.lines) < 2000
            assert run.status.count("|") == 0 and run.lines[0].count("|") <= 1
        cloud.sim.admin("POST", "/_sim/reset")


def test_router_nsx_without_agents(healthy_cloud):
    """With NSX there are no agents at all: routers are judged on their own status."""
    cloud = healthy_cloud
    cloud.sim.admin("PATCH", "/_sim/settings", {"agents": False})
    cloud.sim.patch("routers", "backoffice-router", status="ERROR")
    cloud.sweep()
    r = cloud.run("check_vio_router", "--name", "shop-router")
    expect(r, 0, "VIO ROUTER OK - shop-router is ACTIVE (NSX, no L3 agents)")
    assert "agents_alive" not in r.perfdata
    r = cloud.run("check_vio_router", "--name", "backoffice-router")
    expect(r, 2, "VIO ROUTER CRITICAL - backoffice-router is ERROR")
    r = cloud.run("check_vio_service", "--component", "neutron")
    expect(r, 0, "VIO SERVICE OK - no neutron agents in the inventory (NSX)")


# --- check_vio_service -----------------------------------------------------------------------------


def test_service_healthy_ha(healthy_cloud):
    r = healthy_cloud.run("check_vio_service", "--deployment-mode", "ha")
    # controller binaries are clusters (judge/cluster.py); the per-resource ones records
    expect(r, 0, "VIO SERVICE OK - 3 nova clusters OK (nova-conductor 2 up, nova-consoleauth 1 up, nova-scheduler "
                 "2 up); all 2 nova services OK; 2 neutron clusters OK (neutron-dhcp-agent 2 up, "
                 "neutron-metadata-agent 2 up); all 2 neutron agents OK; 1 cinder cluster OK (cinder-scheduler 2 "
                 "up); 1 cinder service OK; all 5 public endpoints OK")
    p = r.perfdata
    assert (p["nova-scheduler_up"], p["nova-scheduler_down"], p["nova-scheduler_expected"]) == (2, 0, 2)
    assert p["neutron-l3-agent_up"] == 2 and p["cinder-volume_up"] == 1
    assert "'nova-scheduler_up'=2;2:;1:;0;2" in r.lines[0]  # below all expected warns, none up is critical
    assert "'neutron-l3-agent_up'=2;;2:;0;2" in r.lines[0]  # a per-resource binary: the expected count
    assert "identity_latency" in p and "s;;;0" in r.lines[0].split("identity_latency=")[1].split()[0]


def test_service_problems(healthy_cloud):
    cloud = healthy_cloud
    sim = cloud.sim
    sim.patch("compute_services", "nova-scheduler@vio-controller-02", state="down")
    sim.patch("compute_services", "nova-compute@vio-compute-01", status="disabled",
              disabled_reason="set by vmwareapi host_state")
    sim.patch("compute_services", "nova-compute@vio-compute-02", status="disabled",
              disabled_reason="ESXi patching")
    sim.patch("agents", "neutron-l3-agent@vio-network-02", alive=False)
    sim.patch("agents", "neutron-dhcp-agent@vio-network-02", admin_state_up=False)
    sim.fault(path="^/network/?$", status=503)  # only the catalog probe of the network endpoint
    cloud.sweep()

    r = cloud.run("check_vio_service")
    expect(r, 2, "VIO SERVICE CRITICAL - 1 CRITICAL of 2 nova services: nova-compute@vio-compute-01: vCenter "
                 "unreachable (disabled by the VMware driver: set by vmwareapi host_state)")
    assert "1 CRITICAL of 2 neutron agents: neutron-l3-agent@vio-network-02 is not alive" in r.status
    assert "1 CRITICAL of 5 public endpoints: network endpoint http" in r.status
    # the down scheduler and the admin-down DHCP agent: their clusters are at risk (WARNING, long output)
    assert "WARNING" not in r.status
    assert any(line.startswith("down: nova-scheduler@vio-controller-02: down since ") for line in r.lines)
    assert "down: neutron-dhcp-agent@vio-network-02: admin down" in r.lines
    p = r.perfdata
    assert (p["nova-scheduler_up"], p["nova-scheduler_down"]) == (1, 1)
    assert (p["nova-compute_up"], p["nova-compute_disabled"]) == (0, 2)
    assert (p["neutron-dhcp-agent_up"], p["neutron-dhcp-agent_down"]) == (1, 1)
    assert "OK: nova-compute@vio-compute-02 is disabled: ESXi patching" in r.lines

    r = cloud.run("check_vio_service", "--component", "nova", "--deployment-mode", "ha",
                  "--exclude-binary", "nova-compute")
    expect(r, 1, "VIO SERVICE WARNING - cluster nova-scheduler: at risk: 1 of 2 members up (down: "
                 "nova-scheduler@vio-controller-02)")
    assert "'nova-scheduler_up'=1;2:;1:;0;2" in r.lines[0]
    r = cloud.run("check_vio_service", "--binary", "nova-scheduler", "--deployment-mode", "ha",
                  "--expect", "nova-scheduler=1")
    expect(r, 1, "VIO SERVICE WARNING - cluster nova-scheduler: at risk: 1 of 2 members up")
    assert set(r.perfdata) == {f"nova-scheduler_{x}" for x in
                               ("up", "expected", "down", "unverified", "stale", "replaced")}
    r = cloud.run("check_vio_service", "--binary", "nova-scheduler", "--critical-at-risk")
    expect(r, 2, "VIO SERVICE CRITICAL - cluster nova-scheduler: at risk: 1 of 2 members up")
    assert "1 up is CRITICAL by --critical-at-risk" in r.status
    r = cloud.run("check_vio_service", "--binary", "nova-scheduler", "-c", "2:")
    expect(r, 2, "VIO SERVICE CRITICAL - cluster nova-scheduler: at risk")
    assert "'nova-scheduler_up'=1;2:;2:;0;2" in r.lines[0]
    r = cloud.run("check_vio_service", "--binary", "nova-compute", "-c", "2:")
    expect(r, 3, "VIO SERVICE UNKNOWN - bad option: --critical-at-risk, -w and -c judge a controller cluster")
    r = cloud.run("check_vio_service", "--binary", "nova-scheduler", "--host", "vio-controller-02")
    expect(r, 2, "VIO SERVICE CRITICAL - nova-scheduler@vio-controller-02 is down since ")  # one record

    r = cloud.run("check_vio_service", "--binary", "nova-compute", "--host", "vio-compute-01")
    expect(r, 2, "VIO SERVICE CRITICAL - nova-compute@vio-compute-01: vCenter unreachable")
    r = cloud.run("check_vio_service", "--binary", "nova-compute", "--host", "vio-compute-02")
    expect(r, 0, "VIO SERVICE OK - nova-compute@vio-compute-02 is disabled: ESXi patching")
    r = cloud.run("check_vio_service", "--binary", "nova-compute", "--host", "vio-compute-02", "--warn-disabled")
    expect(r, 1, "VIO SERVICE WARNING - nova-compute@vio-compute-02 is disabled: ESXi patching")
    r = cloud.run("check_vio_service", "--binary", "neutron-l3-agent", "--host", "vio-network-02")
    expect(r, 2, "VIO SERVICE CRITICAL - neutron-l3-agent@vio-network-02 is not alive (last heartbeat ")
    assert (r.perfdata["neutron-l3-agent_up"], r.perfdata["neutron-l3-agent_down"]) == (0, 1)
    r = cloud.run("check_vio_service", "--binary", "neutron-dhcp-agent", "--host", "vio-network-02")
    expect(r, 0, "VIO SERVICE OK - neutron-dhcp-agent@vio-network-02 is admin down (alive)")

    r = cloud.run("check_vio_service", "--component", "keystone")
    expect(r, 2, "VIO SERVICE CRITICAL - 1 CRITICAL of 5 public endpoints: network endpoint "
                 f"{sim.url}/network failed: HTTP 503")
    r = cloud.run("check_vio_service", "--component", "cinder")
    expect(r, 0, "VIO SERVICE OK - 1 cinder cluster OK (cinder-scheduler 2 up); 1 cinder service OK")
    r = cloud.run("check_vio_service", "--component", "cinder", "--expect", "cinder-volume=2")
    expect(r, 2, "VIO SERVICE CRITICAL - cinder-volume: 1 of 1 up, 2 expected")

    r = cloud.run("check_vio_service", "--binary", "nova-scheduler", "--host", "vio-controller-09")
    expect(r, 3, "VIO SERVICE UNKNOWN - service nova-scheduler@vio-controller-09 not found in inventory")
    r = cloud.run("check_vio_service", "--component", "nova", "--expect", "cinder-scheduler=2")
    expect(r, 3, "VIO SERVICE UNKNOWN - bad option: cinder-scheduler is a cinder binary")
    r = cloud.run("check_vio_service", "--expect", "nova-scheduler")
    expect(r, 3, "VIO SERVICE UNKNOWN - bad option: argument --expect: invalid expectation")


# --- check_vio_discovery ---------------------------------------------------------------------------


def test_discovery_healthy_then_api_down(healthy_cloud, tmp_path):
    cloud = healthy_cloud
    r = cloud.run("check_vio_discovery")
    expect(r, 0, "VIO DISCOVERY OK - inventory ")
    assert ", 8 VMs, " in r.status and "2 hypervisors" in r.status and "requests: " in r.status
    p = r.perfdata
    assert p["age"] < 60 and p["requests"] > 0 and p["sweep_seconds"] >= 0
    assert (p["hypervisors"], p["servers"], p["routers"], p["agents"]) == (2, 8, 2, 6)
    assert ";240;900;0" in r.lines[0].split("age=")[1].split()[0]  # warn 2 x max-age, crit max-stale

    # The API goes down: the next refresh fails, the cached inventory still serves, this check is CRITICAL.
    cloud.sim.fault(path=".*", status=503)
    r = cloud.run("check_vio_discovery", "--max-age", "0")
    expect(r, 2, "VIO DISCOVERY CRITICAL - last sweep failed at ")
    assert "HTTP 503" in r.status and "; inventory " in r.status
    assert r.perfdata["hypervisors"] == 2
    # the other checks keep answering from the cached inventory meanwhile
    r = cloud.run("check_vio_router", "--max-age", "0")
    expect(r, 0, "VIO ROUTER OK - all 2 routers OK (inventory ")

    # No inventory at all and the API down: CRITICAL, not UNKNOWN.
    empty = {"VIO_CHECKS_CACHE_DIR": str(tmp_path / "empty-cache")}
    r = cloud.run("check_vio_discovery", env=empty)
    expect(r, 2, "VIO DISCOVERY CRITICAL - no inventory: sweep failed: ")
    assert "no sweep has succeeded with this cache" in r.lines
    r = cloud.run("check_vio_router", env=empty)
    expect(r, 3, "VIO ROUTER UNKNOWN - no inventory: ")  # the others stay UNKNOWN


def test_discovery_cache_only_without_inventory(healthy_cloud):
    r = healthy_cloud.run("check_vio_discovery", "--cache-only")
    expect(r, 2, "VIO DISCOVERY CRITICAL - no inventory in the cache (--cache-only: run vio-discover)")
    r = healthy_cloud.run("check_vio_discovery", "--max-age", "soon")
    expect(r, 3, "VIO DISCOVERY UNKNOWN - bad option")



def test_fresh_cache_does_not_import_the_sdk(demo_cloud):
    """With a fresh inventory the checks read the cache only: no openstacksdk/keystoneauth1 import."""
    import subprocess

    demo_cloud.sweep()
    for module in ("router", "service", "discovery"):
        code = ("import atexit, sys\n"
                "atexit.register(lambda: sys.stderr.write('SDK-IMPORTED' if any(m.split('.')[0] in "
                "('openstack', 'keystoneauth1') for m in sys.modules) else 'NO-SDK'))\n"
                f"from vio_checks.checks.{module} import main\n"
                f"sys.argv = ['check_vio_{module}']\n"
                "main()\n")
        p = subprocess.run([str(demo_cloud.command("python")[0]), "-c", code], env=demo_cloud.env,
                           capture_output=True, text=True, timeout=60)
        assert p.stdout.startswith(f"VIO {module.upper()} "), p.stdout + p.stderr
        assert p.stderr.endswith("NO-SDK"), p.stdout + p.stderr
