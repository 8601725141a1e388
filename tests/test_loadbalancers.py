"""Load balancers end to end on the simulator: Octavia in the sweep (requests: 1 per page + 1 per load
balancer + 1 per pool, none without Octavia in the catalog), the member → VM join and its unjoined count,
and check_vio_loadbalancer's modes (aggregate, --id/--name, --member)."""

from __future__ import annotations

import json

from vio_checks.model import FixedIP, Inventory, Meta, Port, Server
from vio_checks.octavia_sweep import join_members
from vio_checks.optional_records import LbMember, LoadBalancer, Pool


def expect(run, rc: int, status: str) -> None:
    assert run.rc == rc, str(run)
    assert run.status.startswith(status), str(run)
    assert "Traceback" not in run.stdout + run.stderr, str(run)


def octavia_requests(sim) -> dict[str, int]:
    """Octavia's requests of the last sweep by kind: discovery, list pages, status trees, members lists."""
    out = {"discovery": 0, "list": 0, "status": 0, "members": 0}
    for key, n in sim.counters()["paths"].items():
        path = key.split(" ", 1)[1]
        if not path.startswith("/load-balancer"):
            continue
        if path.endswith("/status"):
            out["status"] += n
        elif path.endswith("/members"):
            out["members"] += n
        elif path.endswith("/lbaas/loadbalancers"):
            out["list"] += n
        else:
            out["discovery"] += n
    return out


def test_sweep_reads_octavia_with_one_request_per_balancer_and_per_pool(demo_cloud):
    """demo: shop-lb (1 pool, 3 members), ci-lb (1 pool, DEGRADED), ledger-lb (ERROR, no pools)."""
    demo_cloud.sim.reset_counters()
    out = json.loads(demo_cloud.sweep().stdout)
    assert octavia_requests(demo_cloud.sim) == {"discovery": 1, "list": 1, "status": 3, "members": 2}
    assert out["requests"] == demo_cloud.sim.counters()["total"]
    assert demo_cloud.run("check_vio_loadbalancer").perfdata["total"] == 3


def test_paging_the_list_costs_one_request_per_page(make_cloud):
    cloud = make_cloud("demo", page_max=2)
    cloud.sim.reset_counters()
    cloud.sweep()
    got = octavia_requests(cloud.sim)
    # 3 balancers at 2 a page: 2 pages; a members list pages too (3 members: 2 pages; 2: a full page and
    # the empty last), so "one per pool" holds while a pool's members fit the page size (1000 by default)
    assert got["list"] == 2 and got["status"] == 3 and got["members"] == 4, got
    r = cloud.run("check_vio_loadbalancer")
    assert r.perfdata["total"] == 3, str(r)


def test_without_octavia_in_the_catalog_no_request_and_one_line(make_cloud):
    cloud = make_cloud("demo")
    cloud.sim.admin("PATCH", "/_sim/settings", {"octavia": False})
    cloud.sim.reset_counters()
    cloud.sweep()
    assert octavia_requests(cloud.sim) == {"discovery": 0, "list": 0, "status": 0, "members": 0}
    r = cloud.run("check_vio_loadbalancer")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - no load balancing in this region: the catalog has no "
                 "load-balancer (Octavia) endpoint")
    assert len(r.stdout.strip().splitlines()) == 1, str(r)


def test_healthy_cloud_reads_octavia_and_all_ok(healthy_cloud):
    healthy_cloud.sweep()
    r = healthy_cloud.run("check_vio_loadbalancer")
    expect(r, 0, "VIO LOADBALANCER OK - ")
    assert r.perfdata["members_unjoined"] == 0, str(r)
    r = healthy_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 0, "VIO LOADBALANCER OK - shop-lb is ACTIVE/ONLINE, 2 of 2 members up")


def test_demo_states_and_modes(demo_cloud):
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer")
    expect(r, 2, "VIO LOADBALANCER CRITICAL - 1 CRITICAL, 1 WARNING of 3 load balancers: ledger-lb")
    assert "ci-lb is DEGRADED: 1 of 2 members down: ci-runner-01" in r.status, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 0, "VIO LOADBALANCER OK - shop-lb is ACTIVE/ONLINE, 3 of 3 members up")
    assert (r.perfdata["members_up"], r.perfdata["members_unjoined"]) == (3, 0), str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb")
    expect(r, 1, "VIO LOADBALANCER WARNING - ci-lb is DEGRADED: 1 of 2 members down: ci-runner-01")
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ledger-lb")
    expect(r, 2, "VIO LOADBALANCER CRITICAL - ledger-lb: provisioning ERROR")
    lb = demo_cloud.sim.get("loadbalancers", "shop-lb")
    r = demo_cloud.run("check_vio_loadbalancer", "--id", lb["id"])
    expect(r, 0, "VIO LOADBALANCER OK - shop-lb")
    r = demo_cloud.run("check_vio_loadbalancer", "--member", "x")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - ")


def test_a_member_down_and_its_vm(demo_cloud):
    demo_cloud.sim.patch("loadbalancers", "shop-lb", member_status={"web-02": "ERROR"})
    demo_cloud.sim.patch("servers", "web-02", status="SHUTOFF")
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 1, "VIO LOADBALANCER WARNING - shop-lb is DEGRADED: 1 of 3 members down: web-02 (10.10.1.")
    lb = demo_cloud.sim.get("loadbalancers", "shop-lb")
    members = {m["name"]: m["id"] for m in lb["pools"][0]["members"]}
    r = demo_cloud.run("check_vio_loadbalancer", "--id", lb["id"], "--member", members["web-02"])
    expect(r, 2, "VIO LOADBALANCER CRITICAL - shop-lb member web-02 (10.10.1.")
    assert "VM web-02 is SHUTOFF" in r.status, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb", "--member", members["web-01"])
    expect(r, 0, "VIO LOADBALANCER OK - shop-lb member web-01")
    assert "VM web-01 is ACTIVE" in r.status, str(r)
    # every member down: ERROR, CRITICAL
    demo_cloud.sim.patch("loadbalancers", "shop-lb", member_status={"web-01": "ERROR", "web-03": "ERROR"})
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 2, "VIO LOADBALANCER CRITICAL - shop-lb is ERROR (3 of 3 members down)")


def test_admin_disabled_and_pending(demo_cloud):
    demo_cloud.sim.patch("loadbalancers", "shop-lb", admin_state_up=False, operating_status="OFFLINE")
    demo_cloud.sim.patch("loadbalancers", "ci-lb", provisioning_status="PENDING_UPDATE", updated_at="-2h",
                         member_status={"ci-runner-01": "ONLINE"})
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 0, "VIO LOADBALANCER OK - shop-lb is OFFLINE (admin disabled)")
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb", "--warn-disabled")
    expect(r, 1, "VIO LOADBALANCER WARNING - shop-lb is OFFLINE (admin disabled)")
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb")
    expect(r, 1, "VIO LOADBALANCER WARNING - ci-lb: PENDING_UPDATE for 2 h")
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb", "--stuck-after", "3h")
    expect(r, 0, "VIO LOADBALANCER OK - ci-lb")


def test_a_member_no_port_holds_is_counted_not_guessed(demo_cloud):
    demo_cloud.sim.add("loadbalancers", {
        "name": "odd-lb", "project": "webshop", "vip_network": "webshop-net", "vip_address": "10.10.1.60",
        "listeners": [{"name": "l", "protocol": "HTTP", "protocol_port": 80, "pools": ["p"]}],
        "pools": [{"name": "p", "members": [{"server": "db-01"}, {"name": "ghost", "address": "10.10.1.99"}]}]})
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "odd-lb", "-v")
    expect(r, 0, "VIO LOADBALANCER OK - odd-lb")
    assert r.perfdata["members_unjoined"] == 1, str(r)
    assert "1 member not joined to a VM" in r.stdout, str(r)
    r = demo_cloud.run("check_vio_loadbalancer")
    assert r.perfdata["members_unjoined"] == 1, str(r)


def _port(pid: str, device: str, subnet: str, address: str) -> Port:
    return Port(pid, pid, device_id=device, device_owner="compute:nova",
                fixed_ips=[FixedIP(ip_address=address, subnet_id=subnet)])


def test_join_rule_in_process():
    """The port with that address on that subnet; the VIP subnet when the member names none; an address
    two servers' ports hold, or one on another subnet, or a port of no known server: not joined."""
    inv = Inventory(meta=Meta(cloud="c", region=None, fetched_at=0, seconds=0, requests=0))
    inv.servers = [Server("s1", "a"), Server("s2", "b")]
    inv.ports = [_port("p1", "s1", "sn1", "10.0.0.1"), _port("p2", "s2", "sn2", "10.0.0.1"),
                 _port("p3", "s1", "sn1", "10.0.0.3"), _port("p4", "s2", "sn1", "10.0.0.3"),
                 _port("p5", "gone", "sn1", "10.0.0.5")]
    members = [LbMember("m1", address="10.0.0.1", subnet_id="sn1"), LbMember("m2", address="10.0.0.1"),
               LbMember("m3", address="10.0.0.3", subnet_id="sn1"), LbMember("m4", address="10.0.0.1",
                                                                              subnet_id="sn9"),
               LbMember("m5", address="10.0.0.5", subnet_id="sn1")]
    inv.load_balancers = [LoadBalancer("lb", "lb", vip_subnet_id="sn2", pools=[Pool("p", members=members)])]
    assert join_members(inv) == 3
    assert [m.server_id for m in members] == ["s1", "s2", None, None, None]
