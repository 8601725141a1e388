"""Octavia's faults give clear answers, never OK: its list failing (Octavia's finding, not a failed sweep:
the kind keeps its last records, check_vio_discovery WARNs), a status tree failing or malformed (that
balancer unverified, the others judged), statuses left out or undocumented, Octavia absent from the catalog."""

from __future__ import annotations

LIST = r"/lbaas/loadbalancers$"


def expect(run, rc: int, status: str) -> None:
    assert run.rc == rc, str(run)
    assert run.status.startswith(status), str(run)
    assert "Traceback" not in run.stdout + run.stderr, str(run)


def test_list_500_before_any_good_sweep_is_unknown_not_ok(demo_cloud):
    demo_cloud.sim.fault(LIST, status=500)
    demo_cloud.sweep()  # the sweep itself succeeds: the rest of the cloud is current
    r = demo_cloud.run("check_vio_loadbalancer")  # the optional services' one rule (checks/optional_common.py)
    assert r.rc == 3 and " OK - " not in r.status, str(r)
    assert "octavia: load balancers not read" in r.stdout and "HTTP 500" in r.stdout, str(r)
    r = demo_cloud.run("check_vio_discovery")
    expect(r, 1, "VIO DISCOVERY WARNING - octavia: load balancers not read")
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - octavia: load balancers not read")


def test_list_500_after_a_good_sweep_keeps_the_last_records(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sim.fault(LIST, status=500)
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb")
    expect(r, 1, "VIO LOADBALANCER WARNING - ci-lb is DEGRADED")  # a problem stands, as the last known state
    assert "(last known state: the last sweep's list failed)" in r.status, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb is ")  # its OK is not verified: never OK
    assert "unverified (octavia: load balancers not read" in r.status and "last known state kept" in r.status
    r = demo_cloud.run("check_vio_loadbalancer")
    assert r.perfdata["total"] == 3 and r.rc == 2, str(r)  # ledger-lb's ERROR kept
    assert "1 unverified (octavia: load balancers not read" in r.status, str(r)


def test_status_tree_500_leaves_that_balancer_unverified(demo_cloud):
    shop = demo_cloud.sim.get("loadbalancers", "shop-lb")["id"]
    demo_cloud.sim.fault(rf"/lbaas/loadbalancers/{shop}/status$", status=500)
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb", "-v")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb: status tree not read: state unverified")
    assert "HTTP 500" in r.stdout, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb")
    expect(r, 1, "VIO LOADBALANCER WARNING - ci-lb is DEGRADED")
    r = demo_cloud.run("check_vio_loadbalancer")
    assert r.rc == 2 and "1 unverified" in r.status, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--id", shop, "--member", "anything")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - load balancer shop-lb: member anything: status tree not read")


def test_members_list_500_is_the_balancers_tree_error(demo_cloud):
    demo_cloud.sim.fault(r"/lbaas/pools/[^/]+/members$", status=500)
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb: status tree not read")


def test_malformed_status_tree(demo_cloud):
    demo_cloud.sim.fault(r"/lbaas/loadbalancers/[^/]+/status$", malformed=True)
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb: status tree not read")


def test_statuses_left_out_or_undocumented_are_unverified(demo_cloud):
    demo_cloud.sim.fault(r"/status$", missing_fields={"lb_status_trees": ["loadbalancer.operating_status"]},
                         replace_fields={"lb_status_trees": {"loadbalancer.provisioning_status": "SHINY"}})
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb: Octavia reported no operating_status")
    r = demo_cloud.run("check_vio_loadbalancer")
    assert r.rc != 0 and " OK - " not in r.status, str(r)


def test_hostile_names_from_octavia_are_inert(demo_cloud):
    evil = "evil-lb\n$(reboot) | bad=1;\x1b[31m"
    demo_cloud.sim.patch("loadbalancers", "ci-lb", name=evil)
    demo_cloud.sweep()
    r = demo_cloud.run("check_vio_loadbalancer")
    assert "\x1b" not in r.stdout and "$(reboot) | bad" not in r.stdout, str(r)
    assert r.status.count("|") == 0 and r.rc == 2, str(r)


def test_absent_from_the_catalog_with_a_name_is_one_line(make_cloud):
    cloud = make_cloud("healthy")
    cloud.sim.admin("PATCH", "/_sim/settings", {"octavia": False})
    cloud.sweep()
    for args in ((), ("--name", "shop-lb"), ("--name", "shop-lb", "--member", "x")):
        r = cloud.run("check_vio_loadbalancer", *args)
        expect(r, 3, "VIO LOADBALANCER UNKNOWN - no load balancing in this region")
    r = cloud.run("check_vio_discovery")
    expect(r, 0, "VIO DISCOVERY OK - ")


def test_a_hanging_list_is_octavias_finding_within_t(demo_cloud):
    """A hanging Octavia list uses a share of -t (optional_sweep.budget_share): the sweep stands with the
    rest of the cloud current, and no load balancer reads OK."""
    demo_cloud.sweep()
    demo_cloud.sim.fault(LIST, hang=True)
    r = demo_cloud.run("vio-discover", "-t", "6", timeout=30)
    assert r.rc == 0 and "Traceback" not in r.stdout + r.stderr, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb", "--max-age", "1h")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb is ")
    expect(demo_cloud.run("check_vio_discovery"), 1, "VIO DISCOVERY WARNING - octavia: load balancers not read")


def test_a_hanging_status_tree_is_that_balancers_finding_alone(demo_cloud):
    """The trees are read on threads (octavia_sweep.TREE_WORKERS): one that hangs holds up no other, ends
    with the budget's share, and leaves only its balancer unverified."""
    shop = demo_cloud.sim.get("loadbalancers", "shop-lb")["id"]
    demo_cloud.sim.fault(rf"/lbaas/loadbalancers/{shop}/status$", hang=True)
    r = demo_cloud.run("vio-discover", "-t", "6", timeout=30)
    assert r.rc == 0 and "Traceback" not in r.stdout + r.stderr, str(r)
    r = demo_cloud.run("check_vio_loadbalancer", "--name", "shop-lb", "--max-age", "1h")
    expect(r, 3, "VIO LOADBALANCER UNKNOWN - shop-lb: status tree not read")
    expect(demo_cloud.run("check_vio_loadbalancer", "--name", "ci-lb"), 1, "VIO LOADBALANCER WARNING - ci-lb is DEGRADED")
