"""Load balancers in the dependency tree (topology_lb.py, icinga/objects_lb.py) and in impact / rootcause:
pure, in-process, on a hand-built inventory (lb_helpers)."""

from __future__ import annotations

from icinga_helpers import HOSTILE, uid
from lb_helpers import HV1, P, lb_inventory, lb_key, member_key

from vio_checks import topology as t
from vio_checks.icinga import ATTEMPTS, TEMPLATES
from vio_checks.icinga import objects as o
from vio_checks.icinga.analysis import Status, analyse, impact, impact_json, impact_text, message
from vio_checks.icinga.resolve import describe

ROUTER_HA = f"{P}-router-{uid('router', 'ha')}"


def vm(name: str) -> str:
    return f"{P}-vm-{uid('vm', name)}"


def test_a_load_balancer_host_depends_on_the_router_of_its_vip_network():
    topo = o.build(lb_inventory())
    shop = topo.get(lb_key("shop"))
    assert shop.kind == t.LOADBALANCER and shop.is_host
    assert shop.parents == (ROUTER_HA,)
    assert shop.check == o.Check("vio_loadbalancer", (("--id", uid("lb", "shop")),))
    assert shop.address == "192.168.1.100"
    assert shop.vars["vio_vip_network_id"] == uid("net", "a") and shop.vars["vio_members"] == 3
    # no router serves the external network, and other-lb has no VIP network: only the cloud vouches
    assert topo.get(lb_key("edge")).parents == (P,)
    assert topo.get(lb_key("other")).parents == (P,)


def test_each_member_is_a_service_of_its_load_balancer_depending_on_its_vm_host():
    topo = o.build(lb_inventory())
    members = [n for n in topo.services_of(lb_key("shop")) if n.kind == t.LB_MEMBER]
    assert [n.key for n in members] == sorted(member_key("shop", m) for m in ("web-01", "web-02", "app-01"))
    web01 = topo.get(member_key("shop", "web-01"))
    assert web01.parents == (vm("web-01"),)
    assert web01.check == o.Check("vio_loadbalancer", (("--id", uid("lb", "shop")),
                                                       ("--member", uid("member", "web-01"))))
    assert web01.vars["vio_vm"] == "web-01" and web01.vars["vio_joined"] is True
    assert web01.display_name == "member web-01 (192.168.1.10:80)"
    assert topo.get(member_key("shop", "app-01")).parents == (vm("app-01"),)
    # a member that joins no VM: no VM parent, only its load balancer host (implicit), and said so
    outside = topo.get(member_key("edge", "outside"))
    assert outside.parents == () and outside.vars["vio_joined"] is False and "vio_server_id" not in outside.vars
    assert topo.parent_keys(outside.key) == [lb_key("edge")]
    topo.assert_acyclic()


def test_attempts_make_parents_hard_first():
    topo = o.build(lb_inventory())
    for node in topo.nodes.values():
        if node.kind not in (t.LOADBALANCER, t.LB_MEMBER):
            continue
        mine = ATTEMPTS[TEMPLATES[node.kind]]
        for parent in topo.parents_of(node.key):
            assert ATTEMPTS[TEMPLATES[parent.kind]] < mine, (node.key, parent.key)


def test_no_octavia_or_no_load_balancer_writes_nothing():
    without = o.build(lb_inventory(octavia=False))
    assert not [n for n in without.nodes.values() if n.kind in (t.LOADBALANCER, t.LB_MEMBER)]
    inv = lb_inventory()
    inv.load_balancers = []
    empty = o.build(inv)
    assert not [g for g in empty.groups if "loadbalancers" in g[1] or "lb-members" in g[1]]
    assert set(empty.nodes) == set(without.nodes)


def test_the_project_filters_apply_to_load_balancers():
    topo = o.build(lb_inventory(), o.Options(exclude_projects=frozenset({"db"})))
    assert lb_key("other") not in topo and lb_key("shop") in topo


def test_a_vm_left_out_leaves_its_member_without_vm_parent():
    topo = o.build(lb_inventory(), o.Options(kinds=frozenset(t.SELECTABLE_KINDS) - {"vms"}))
    assert topo.get(member_key("shop", "web-01")).parents == ()


def test_object_names_come_from_ids_and_tenant_strings_are_vars():
    topo = o.build(lb_inventory(hostile=True))
    shop = topo.get(lb_key("shop"))
    assert shop.display_name == f"shop-lb {HOSTILE}" and HOSTILE not in shop.key
    web01 = topo.get(member_key("shop", "web-01"))
    assert web01.vars["vio_name"] == f"web-01 {HOSTILE}" and HOSTILE not in web01.key


def test_the_tree_is_deterministic():
    a, b = o.build(lb_inventory()), o.build(lb_inventory())
    assert [(n.key, n.parents, n.vars) for n in a.sorted_nodes()] == \
        [(n.key, n.parents, n.vars) for n in b.sorted_nodes()]


# --- impact / rootcause ------------------------------------------------------------------------------------


def test_impact_of_a_hypervisor_lists_the_load_balancer_it_degrades():
    topo = o.build(lb_inventory())
    imp = impact(topo, topo.get(HV1))
    text = impact_text(topo, imp)
    assert "  load balancer shop-lb: 2 of 3 members\n" in text, text
    assert "member web-01 (192.168.1.10:80) of load balancer shop-lb" in text, text
    assert imp.counts[t.LB_MEMBER] == 2 and t.LOADBALANCER not in imp.counts  # the balancer itself stays up
    doc = impact_json(topo, imp)
    assert [(b["display_name"], b["members_affected"], b["members"]) for b in doc["load_balancers"]] == \
        [("shop-lb", 2, 3)]


def test_impact_of_a_router_counts_the_load_balancer_and_all_its_members():
    topo = o.build(lb_inventory())
    imp = impact(topo, topo.get(ROUTER_HA))
    assert imp.counts[t.LOADBALANCER] == 1 and imp.counts[t.LB_MEMBER] == 3
    assert imp.balancers == {}  # taken down whole: counted, not "n of m"
    assert "load balancer shop-lb: " not in impact_text(topo, imp)


def test_impact_of_a_load_balancer_and_its_label():
    topo = o.build(lb_inventory())
    shop = topo.get(lb_key("shop"))
    assert describe(topo, shop) == "load balancer shop-lb"
    assert impact(topo, shop).summary(topo) == "load balancer shop-lb: 3 load balancer members, 1 project"


def test_rootcause_of_a_member_names_the_hypervisor():
    topo = o.build(lb_inventory())
    down = {HV1, vm("web-01")}

    def status(key: str) -> Status:
        node = topo.get(key)
        if key in down:
            return Status(1, True, "DOWN")
        if key == member_key("shop", "web-01"):
            return Status(2, False, "member web-01 is ERROR; VM web-01 is SHUTOFF")
        if key == lb_key("shop"):
            return Status(0, True, "shop-lb is DEGRADED: 1 of 3 members down")  # WARNING: UP to Icinga
        return Status(0, node.is_host)

    member = topo.get(member_key("shop", "web-01"))
    a = analyse(topo, member, status, "test")
    assert a.cause is not None and a.cause.key == HV1
    text = message(topo, a, 0.0)
    assert "hypervisor domain-c8.5f2e" in text, text
    assert a.via is not None and a.via.key == vm("web-01")  # through its VM, not its (UP) load balancer
