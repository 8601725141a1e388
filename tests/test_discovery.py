"""The sweep against the simulator, through the real openstacksdk over HTTP: counts, paging, auth, faults."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from vio_sim.generator import generate

SERVERS = "GET /compute/v2.1/servers/detail"


def list_requests(counters: dict, suffix: str) -> int:
    """Requests to paths ending with suffix (the volume path carries the project id)."""
    return sum(n for path, n in counters["paths"].items() if path.endswith(suffix))


def test_vio_discover_json_counts_what_the_api_has(demo_cloud):
    r = demo_cloud.sweep()
    out = json.loads(r.stdout)
    state = demo_cloud.sim.admin("GET", "/_sim/state")
    assert set(out) >= {"cloud", "fetched_at", "seconds", "requests", "counts"}
    assert out["cloud"] == "vio-sim" and out["fetched_at"].endswith("Z")
    assert out["counts"]["servers"] == len(state["servers"])
    assert out["counts"]["hypervisors"] == len(state["hypervisors"])
    assert out["counts"]["volumes"] == len(state["volumes"])
    assert out["counts"]["ports"] == len(state["ports"])
    assert out["counts"]["routers"] == len(state["routers"])
    assert list(out["counts"]) == ["hypervisors", "servers", "volumes", "ports", "networks", "routers", "agents",
                                   "compute_services", "volume_services", "migrations", "load_balancers",
                                   "images", "stacks", "certificates"]
    assert out["counts"]["load_balancers"] == len(state["loadbalancers"])
    # requests counts every HTTP request the sweep sent, token and discovery requests included.
    assert out["requests"] == demo_cloud.sim.counters()["total"]


def test_vio_discover_text_summary(demo_cloud):
    r = demo_cloud.run("vio-discover")
    assert r.rc == 0, r
    assert r.lines[0].startswith("vio-sim: swept at ")
    assert any(line.strip().startswith("servers") for line in r.lines)


def test_paging_and_request_count_do_not_grow_with_objects(make_cloud):
    """2,500 VMs at 1000 a page → exactly 3 server list requests; the total grows only with pages.

    (And with HA routers: each costs one `/routers/{id}/l3-agents` request for its ha_state; see
    test_request_count_grows_with_ha_routers_only.)
    """
    totals = {}
    for vms in (2500, 2900):
        env = make_cloud(generate(vms=vms, clusters=4, volumes=1500, ports=2600, routers=20, projects=5, seed=1))
        out = json.loads(env.sweep().stdout)
        c = env.sim.counters()
        assert c["paths"][SERVERS] == 3
        assert list_requests(c, "/volumes/detail") == 2
        assert list_requests(c, "/v2.0/ports") == 3
        assert list_requests(c, "/l3-agents") == 10  # the 10 HA routers of 20
        assert out["counts"]["servers"] == vms
        totals[vms] = out["requests"]
    assert totals[2500] == totals[2900]


def test_request_count_grows_with_ha_routers_only(make_cloud):
    """ha_state is only in the per-router reply: one request per HA router, none for any other router."""
    totals = {}
    for routers in (4, 8):
        env = make_cloud(generate(vms=20, clusters=2, volumes=10, ports=10, routers=routers, projects=2, seed=3))
        state = env.sim.admin("GET", "/_sim/state")
        ha = [r["id"] for r in state["routers"] if r.get("ha")]
        out = json.loads(env.sweep().stdout)
        c = env.sim.counters()
        asked = {p.split("/routers/")[1].split("/")[0] for p in c["paths"] if p.endswith("/l3-agents")}
        assert asked == set(ha) and list_requests(c, "/l3-agents") == len(ha)
        totals[routers] = (out["requests"], len(ha))
    # 4 more routers, 2 of them HA: exactly 2 more requests
    assert totals[8][0] - totals[4][0] == totals[8][1] - totals[4][1] == 2


def test_sweep_reads_ha_state_per_hosting_agent(healthy_cloud):
    from vio_checks.cache import Store, namespace

    cloud = healthy_cloud
    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-02", ha_states={"shop-router": "active"})
    cloud.sweep()
    store = Store(cloud.cache_dir / namespace("vio-sim", None))
    agents = {a.id: a.host for a in store.current().all("agents")}
    routers = {r.name: r for r in store.current().all("routers")}
    store.close()
    shop, backoffice = routers["shop-router"], routers["backoffice-router"]
    assert shop.ha and {agents[a]: s for a, s in shop.ha_states.items()} == {
        "vio-network-01": "active", "vio-network-02": "active"}
    assert not backoffice.ha and backoffice.ha_states == {}


def test_one_rule_for_which_routers_serve_a_network(demo_cloud):
    """Discovery's Router.network_ids and the topology's routers_of_network come from one function."""
    from vio_checks import model, topology
    from vio_checks.cache import Store, namespace

    assert topology.routers_by_network is model.routers_by_network
    demo_cloud.sweep()
    store = Store(demo_cloud.cache_dir / namespace("vio-sim", None))
    snap = store.current()
    routers, ports = snap.all("routers"), snap.all("ports")
    store.close()
    bare = [model.Router(id=r.id, name=r.name) for r in routers]
    served = model.routers_by_network(bare, ports)  # from the interface ports alone
    assert served
    for r in routers:
        assert r.network_ids == sorted(n for n, ids in served.items() if r.id in ids)


def test_full_last_page_gets_a_next_link(make_cloud):
    env = make_cloud(generate(vms=2000, clusters=2, volumes=10, ports=10, routers=2, projects=2, seed=2))
    env.sweep()
    assert env.sim.counters()["paths"][SERVERS] == 3  # 1000 + 1000 (with next link) + empty page


def test_token_reused_across_sweeps(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sweep()
    assert demo_cloud.sim.counters()["token_issues"] == 1
    auth = next(demo_cloud.cache_dir.glob("*/auth-state.json"))
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert "vio-sim-password" not in auth.read_text()


def test_expired_token_is_renewed(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sim.admin("POST", "/_sim/tokens/expire")
    demo_cloud.sweep()
    assert demo_cloud.sim.counters()["token_issues"] == 2


def test_401_mid_sweep_reauthenticates_once(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sim.reset_counters()
    demo_cloud.sim.fault(path="/compute/v2.1/servers/detail", status=401, count=1)
    demo_cloud.sweep()
    c = demo_cloud.sim.counters()
    assert c["token_issues"] == 1
    assert c["paths"][SERVERS] == 2


def test_429_with_retry_after_is_retried(demo_cloud):
    demo_cloud.sim.fault(path="/compute/v2.1/servers/detail", status=429, retry_after=1, count=1)
    t = time.monotonic()
    demo_cloud.sweep()
    assert time.monotonic() - t >= 1
    assert demo_cloud.sim.counters()["paths"][SERVERS] == 2


@pytest.mark.parametrize("fault,message", [
    ({"status": 503}, "HTTP 503"),
    ({"status": 500}, "HTTP 500"),
    ({"malformed": True}, "malformed reply"),
    ({"truncated": True}, "volumes"),
])
def test_faults_fail_the_sweep_with_one_line(demo_cloud, fault, message):
    demo_cloud.sim.fault(path="/volumes/detail", **fault)
    r = demo_cloud.run("vio-discover", "-t", "20")
    assert r.rc == 2, r
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r
    assert "Traceback" not in r.stderr
    j = demo_cloud.run("vio-discover", "--json", "-t", "20")
    assert j.rc == 2 and message in json.loads(j.stdout)["error"]


def test_hanging_api_is_bounded_by_the_timeout(demo_cloud):
    demo_cloud.sim.fault(path="/compute/v2.1/servers/detail", hang=True)
    t = time.monotonic()
    r = demo_cloud.run("vio-discover", "-t", "3")
    assert r.rc == 2 and "timed out" in r.stderr, r
    assert time.monotonic() - t < 8


def test_bad_credentials_and_unknown_cloud(demo_cloud):
    r = demo_cloud.run("vio-discover", "--os-cloud", "nope")
    assert r.rc == 2 and "nope" in r.stderr and len(r.stderr.splitlines()) == 1, r
    text = demo_cloud.clouds_yaml.read_text().replace(f'password: "{demo_cloud.sim.password}"',
                                                       'password: "wrong-password"')
    demo_cloud.clouds_yaml.write_text(text)
    r = demo_cloud.run("vio-discover")
    assert r.rc == 2 and "401" in r.stderr, r
    assert "wrong-password" not in r.stderr


def test_api_down_entirely(demo_cloud, tmp_path):
    demo_cloud.sweep()
    demo_cloud.sim.stop()
    r = demo_cloud.run("vio-discover", "-t", "10")
    assert r.rc == 2 and "connect" in r.stderr, r


def test_sweep_links_topology(demo_cloud):
    """The stored records carry the links checks and the generator follow."""
    from vio_checks.cache import Store, namespace

    demo_cloud.sweep()
    store = Store(demo_cloud.cache_dir / namespace("vio-sim", None))
    snap = store.current()
    hvs = {h.hostname for h in snap.all("hypervisors")}
    servers = snap.all("servers")
    assert any(s.hypervisor_hostname in hvs for s in servers)
    assert all(h.service_host for h in snap.all("hypervisors"))
    routers = snap.all("routers")
    assert any(r.network_ids for r in routers)
    assert any(r.agent_ids for r in routers)
    vm_ports = [p for p in snap.all("ports") if p.is_vm_port]
    assert vm_ports and all(snap.get("servers", p.device_id) or p.device_id for p in vm_ports)
    attached = [v for v in snap.all("volumes") if v.attachments]
    assert attached and all(v.service_host for v in attached)
    assert snap.meta.compute_microversion == "2.87"
    assert any(h.vcpus for h in snap.all("hypervisors"))  # usage fields are present at 2.87
    assert snap.all("endpoints") and all(e.ok for e in snap.all("endpoints"))
    store.close()


def test_hundred_concurrent_readers_on_an_expired_cache_sweep_once(demo_cloud):
    from vio_checks.cache import Store, namespace

    demo_cloud.sweep()
    # Age the stored inventory by an hour: every reader finds it expired (--max-age 120 s); exactly one
    # may sweep, the rest wait for its result or, starting later, find the new one fresh.
    store = Store(demo_cloud.cache_dir / namespace("vio-sim", None))
    inv = store.current().inventory()
    inv.meta.fetched_at -= 3600
    store.store(inv)
    store.close()
    demo_cloud.sim.reset_counters()
    cmd = demo_cloud.command("check_vio_hypervisor", "-t", "60")
    env = {**demo_cloud.env}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(100)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = {p.returncode for p in procs}
    assert codes <= {0, 1, 2}, outs[:3]
    assert all(o[0].startswith("VIO HYPERVISOR") for o in outs), outs[:3]
    assert demo_cloud.sim.counters()["paths"][SERVERS] == 1


def test_fresh_cache_check_imports_no_sdk(demo_cloud):
    demo_cloud.sweep()
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('SDK:' + str(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('openstack', 'keystoneauth1')))))\n"
        "sys.argv = ['check_vio_hypervisor']\n"
        "from vio_checks.checks.hypervisor import main\n"
        "main()\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=demo_cloud.env, capture_output=True, text=True)
    assert p.stdout.startswith("VIO HYPERVISOR"), p.stdout + p.stderr
    assert "SDK:[]" in p.stderr, p.stderr


def test_cache_dir_that_is_not_a_directory(demo_cloud, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = demo_cloud.run("check_vio_hypervisor", "--cache-dir", str(f))
    assert r.rc == 3 and "not a directory" in r.status, r
    r = demo_cloud.run("vio-discover", "--cache-dir", str(f))
    assert r.rc == 2 and "not a directory" in r.stderr, r


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_cache_dir_is_an_error(demo_cloud, tmp_path):
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    r = demo_cloud.run("check_vio_hypervisor", "--cache-dir", str(d))
    assert r.rc == 3 and "not writable" in r.status, r


def test_check_timeout_is_honoured_when_the_api_hangs(demo_cloud):
    demo_cloud.sim.fault(path="/compute/v2.1/servers/detail", hang=True)
    t = time.monotonic()
    r = demo_cloud.run("check_vio_hypervisor", "-t", "5")
    assert time.monotonic() - t < 7, r
    assert r.rc == 3 and r.status.startswith("VIO HYPERVISOR UNKNOWN - no inventory: sweep failed:"), r
    assert "timed out" in r.status and len(r.lines) == 1


def test_stale_inventory_is_used_and_said_when_the_api_hangs(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sim.fault(path="/compute/v2.1/servers/detail", hang=True)
    r = demo_cloud.run("check_vio_hypervisor", "--max-age", "0", "-t", "4")
    assert r.rc in (0, 1, 2), r
    assert "NOTE: inventory" in r.stdout and "sweep failed" in r.stdout and "timed out" in r.stdout, r
