"""End to end on a real Icinga 2: an Octavia load balancer in the generated tree, a hypervisor down.

The e2e cloud (icinga_e2e.E2E_SCENARIO) plus `shop-lb` on net-a (router-a) with three members: web-01 and
db-01 on vio-compute-01, web-02 on vio-compute-02. vio-compute-01's nova-compute goes down and Octavia's
health manager marks the two members on it ERROR (the simulator's member_status), so the load balancer is
DEGRADED. What Icinga must decide, and tests/test_e2e_icinga.py's hypervisor story already proves for the
rest of the tree:

- the nova-compute service is the only notification (exactly one, for the root);
- its hypervisor, its VMs and the two members on them are unreachable and quiet;
- the load balancer's own check keeps its WARNING (DEGRADED, naming the members down) while its host
  stays UP and reachable: the impact, not a second root cause, so nothing pages for it;
- the member on vio-compute-02 stays OK;
- `vio-icinga impact` of the hypervisor says "load balancer shop-lb: 2 of 3 members", and `rootcause` of
  a member on it names the hypervisor.

Needs check_vio_loadbalancer and the simulator's Octavia (branch i24-lb): refused with needs.not_run
until they are there.
"""

from __future__ import annotations

import copy

import pytest
from conftest import CloudEnv
from harness import needs
from icinga_e2e import (
    API_PASSWORD,
    DOWN,
    E2E_SCENARIO,
    HARD,
    ICINGA2,
    OK,
    PREFIX,
    UP,
    Icinga2,
    make_pki,
    require,
    running,
)

pytestmark = pytest.mark.e2e

LB = {"name": "shop-lb", "project": "shop", "vip_network": "net-a",
      "listeners": [{"name": "shop-http", "protocol": "HTTP", "protocol_port": 80, "pools": ["shop-pool"]}],
      "pools": [{"name": "shop-pool", "health_monitor": True,
                 "members": [{"server": "web-01", "protocol_port": 80}, {"server": "db-01", "protocol_port": 80},
                             {"server": "web-02", "protocol_port": 80}]}]}
ROOT = f"{PREFIX}!nova-compute@vio-compute-01"


@pytest.fixture(scope="module")
def icinga_pki(tmp_path_factory):
    """A CA and an API certificate, made once by icinga2 itself (about 2 s)."""
    require(ICINGA2, "icinga2-bin icinga2-common")
    return make_pki(tmp_path_factory.mktemp("icinga-pki-lb"))


@pytest.fixture
def lb_e2e(make_cloud, icinga_pki, tmp_path):
    """(cloud, icinga): the e2e cloud with shop-lb swept, Icinga 2 started with its objects deployed."""
    needs.module("vio_checks.checks.loadbalancer", "check_vio_loadbalancer: merge branch i24-lb",
                 suite="LOAD BALANCER E2E")
    needs.module("vio_sim.octavia", "the simulator's Octavia: merge branch i24-lb", suite="LOAD BALANCER E2E")
    scenario = copy.deepcopy(E2E_SCENARIO)
    scenario["loadbalancers"] = [copy.deepcopy(LB)]
    cloud: CloudEnv = make_cloud(scenario)
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", icinga_pki, cloud.env)
    with running(icinga):
        icinga.deploy(cloud, expect_host=PREFIX)
        yield cloud, icinga


def test_hypervisor_down_its_members_unreachable_the_load_balancer_degraded_one_notification(lb_e2e):
    cloud, icinga = lb_e2e
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != OK or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == []
    lb = icinga.one("loadbalancer", vio_name="shop-lb")
    members = {m.vars["vio_vm"]: m for m in icinga.find("lb-member", vio_balancer="shop-lb")}
    assert sorted(members) == ["db-01", "web-01", "web-02"]
    parents = icinga.parents()
    router = icinga.one("router", vio_name="router-a")
    assert router.name in parents[lb.name]
    for vm_name, m in members.items():
        assert icinga.one("vm", vio_name=vm_name).name in parents[m.name], (m.name, parents[m.name])

    # the hypervisor's compute service goes down; Octavia's health manager marks its members ERROR
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sim.patch("loadbalancers", "shop-lb", member_status={"web-01": "ERROR", "db-01": "ERROR"})
    cloud.sweep()
    objs = icinga.drive()

    assert objs[ROOT].state == 2 and objs[ROOT].hard and objs[ROOT].reachable, str(objs[ROOT])
    assert icinga.notified() == [ROOT], icinga.report()  # exactly one notification: the root
    hv = icinga.one("hypervisor", vio_compute_host="vio-compute-01")
    assert (hv.state, hv.state_type, hv.reachable) == (DOWN, HARD, False), str(hv)
    below = {o.name for o in icinga.below(hv.name)}
    for vm_name in ("web-01", "db-01"):
        m = icinga.objects()[members[vm_name].name]
        assert m.name in below and not m.reachable, str(m)
    # the load balancer: its WARNING (DEGRADED, naming the members down) kept, its host UP and reachable
    lb = icinga.objects()[lb.name]
    assert (lb.state, lb.reachable) == (UP, True), str(lb)
    assert "WARNING" in lb.output and "DEGRADED" in lb.output, str(lb)
    assert lb.name not in below
    web02 = icinga.objects()[members["web-02"].name]
    assert web02.state == OK and web02.reachable, str(web02)

    # the operator's view: impact of the hypervisor, rootcause of a member on it (live states)
    r = cloud.run("vio-icinga", "impact", "domain-c8")
    assert r.rc == 0, str(r)
    assert "load balancer shop-lb: 2 of 3 members" in r.stdout, r.stdout
    api = [*icinga.deploy_args(), "--api-user", "e2e"]
    r = cloud.run("vio-icinga", "rootcause", members["web-01"].name, *api,
                  env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD})
    assert r.rc == 0, str(r)
    assert "is unreachable because VM web-01" in r.lines[0], str(r)
    assert "hypervisor domain-c8" in r.stdout and "nova-compute on vio-compute-01" in r.stdout, str(r)
