"""The generator's load balancers (vio_sim.generator_lb): the sizes of issue 24's benchmark cloud, members
that are real VM ports, and what they cost a sweep: one status tree per load balancer, one members list per
pool, none per member."""

import json

from test_discovery import list_requests

from vio_sim.generator import generate, scaled
from vio_sim.generator_lb import MEMBERS


def _members(scenario: dict) -> list[dict]:
    return [m for lb in scenario["loadbalancers"] for p in lb["pools"] for m in p["members"]]


def test_scaled_10000_has_the_benchmarks_sizes_and_every_member_is_a_vm_port():
    sc = scaled(10000)
    lbs = sc["loadbalancers"]
    assert (len(lbs), len(_members(sc)), len(sc["images"]), len(sc["stacks"])) == (500, 2000, 200, 100)
    assert all(len(lb["pools"]) == 1 and len(lb["listeners"]) == 1 for lb in lbs)
    servers = {s["id"]: s for s in sc["servers"]}
    vm_ips = {(ip["subnet_id"], ip["ip_address"]): p["device_id"] for p in sc["ports"]
              if p.get("device_id") in servers for ip in p["fixed_ips"]}
    for lb in lbs:
        [pool] = lb["pools"]
        assert lb["listeners"][0]["pools"] == [pool["id"]]
        joined = [vm_ips.get((m["subnet_id"], m["address"])) for m in pool["members"]]
        assert None not in joined, (lb["name"], pool["members"])
        assert len(set(joined)) == MEMBERS  # four distinct VMs, ACTIVE ones
        assert all(servers[sid]["status"] == "ACTIVE" for sid in joined)
    taken = {(p["network_id"], ip["ip_address"]) for p in sc["ports"] for ip in p["fixed_ips"]}
    assert not any((lb["vip_network_id"], lb["vip_address"]) in taken for lb in lbs)  # VIPs on no port
    assert len({(lb["vip_network_id"], lb["vip_address"]) for lb in lbs}) == len(lbs)


def test_load_balancers_are_deterministic_and_leave_the_other_objects_alone():
    sizes = dict(vms=200, clusters=2, volumes=10, ports=300, routers=4, projects=3, seed=4)
    a, b = generate(load_balancers=6, **sizes), generate(load_balancers=6, **sizes)
    assert a == b
    plain = generate(**sizes)
    assert "loadbalancers" not in plain
    assert {k: v for k, v in a.items() if k != "loadbalancers"} == plain
    assert generate(load_balancers=6, **{**sizes, "seed": 5})["loadbalancers"] != a["loadbalancers"]


def test_faults_make_one_load_balancer_error_and_one_degraded():
    sizes = dict(vms=200, clusters=2, volumes=10, ports=300, routers=4, projects=3, seed=4)
    lbs = generate(load_balancers=5, **sizes)["loadbalancers"]
    down = [sum(m.get("operating_status") == "ERROR" for m in lb["pools"][0]["members"]) for lb in lbs]
    assert down == [0, 0, 0, 1, MEMBERS]
    lbs = generate(load_balancers=5, faults=False, **sizes)["loadbalancers"]
    assert not any("operating_status" in m for lb in lbs for m in lb["pools"][0]["members"])


def test_a_sweep_costs_one_status_tree_per_load_balancer_and_one_members_list_per_pool(make_cloud):
    """3 more load balancers (one pool and 4 members each): exactly 6 more requests, none per member; every
    member joins its VM."""
    totals = {}
    for n in (2, 5):
        env = make_cloud(generate(vms=60, clusters=2, volumes=10, ports=80, routers=4, projects=2, seed=3,
                                  load_balancers=n))
        out = json.loads(env.sweep().stdout)
        c = env.sim.counters()
        assert list_requests(c, "/status") == n and list_requests(c, "/members") == n, c["paths"]
        assert list_requests(c, "/lbaas/loadbalancers") == 1
        totals[n] = out["requests"]
        r = env.run("check_vio_loadbalancer")
        assert f"total={n};" in r.stdout and "members_unjoined=0;" in r.stdout, str(r)
        assert r.rc == 2 and f"lb-{n - 1:04d} is ERROR" in r.status, str(r)
    assert totals[5] - totals[2] == 3 * 2
