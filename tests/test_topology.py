"""The dependency tree: shape, acyclicity, parents per kind, filters, names, attempts (pure, in-process)."""

from __future__ import annotations

import re
import time

import pytest
from icinga_helpers import ICINGA_DIR, big_inventory, small_inventory, uid

from vio_checks import topology as t
from vio_checks.icinga import ATTEMPTS, INTERVALS, TEMPLATES, command_options, option_var
from vio_checks.icinga import objects as o
from vio_checks.model import Agent, Server, Service
from vio_checks.selection import Selection, monitoring_off

P = "vio-demo-RegionOne"


def key(*parts: str) -> str:
    return "-".join([P, *parts])


def vm(name: str) -> str:
    return key("vm", uid("vm", name))


@pytest.fixture
def topo() -> t.Topology:
    return o.build(small_inventory())


def assert_tree(topo: t.Topology) -> None:
    """Acyclic; exactly one explicit parent per child (none for the cloud host and its services); every node
    reaches the cloud host."""
    topo.assert_acyclic()
    roots = [n.key for n in topo.nodes.values() if not topo.parent_keys(n.key)]
    assert roots == [topo.prefix]
    for node in topo.nodes.values():
        assert len(node.parents) <= 1, node.key
        for parent in node.parents:
            assert parent in topo, (node.key, parent)
        if node.key != topo.prefix:
            assert topo.prefix in {a.key for a in topo.ancestors(node.key)}


def test_small_cloud_is_a_tree(topo):
    assert_tree(topo)
    kinds = sorted(n.kind for n in topo.nodes.values())
    assert kinds.count(t.VM) == 4  # web-01, db-01, lab, broken; not the monitoring=off one
    assert kinds.count(t.HYPERVISOR) == 2 and kinds.count(t.CAPACITY) == 2
    assert kinds.count(t.ROUTER) == 2


def test_parents_per_kind(topo):
    hv1 = key("hv", uid("hv", 1))
    hv2 = key("hv", o.object_name("domain-c9(Cluster-B)"))  # Nova's integer id: named by hostname
    assert topo.get(hv1).parents == (f"{P}!nova-compute@vio-compute-01",)
    assert topo.get(hv2).parents == (f"{P}!nova-compute@vio-compute-02",)
    assert topo.get(hv2).check.args[0] == ("--id", "domain-c9(Cluster-B)")  # the check gets the real id
    assert [n.service for n in topo.services_of(hv1)] == ["capacity"]
    assert topo.get(vm("web-01")).parents == (hv1,)
    assert topo.get(vm("db-01")).parents == (hv2,)
    # a VM never scheduled: only the cloud vouches for it
    err = [n for n in topo.nodes.values() if n.kind == t.VM and n.object_id == uid("vm", "err")][0]
    assert err.parents == (P,)
    # VM address: floating IP first
    assert topo.get(vm("web-01")).address == "203.0.113.10"
    assert topo.get(vm("db-01")).address == "192.168.2.10"


def test_interfaces_depend_on_the_router_of_their_network(topo):
    r_ha, r_one = key("router", uid("router", "ha")), key("router", uid("router", "one"))
    web_port = topo.get(f"{vm('web-01')}!port-{uid('port', 'web-01')}")
    assert web_port.parents == (r_ha,)  # from Router.network_ids
    db_port = topo.get(f"{vm('db-01')}!port-{uid('port', 'db-01')}")
    assert db_port.parents == (r_one,)  # from the router's interface port only
    assert db_port.vars["vio_routers"] == [uid("router", "one")]
    lab_port = topo.get(f"{vm('lab')}!port-{uid('port', 'lab')}")
    assert lab_port.parents == ()  # external network, no router: only its VM host
    assert topo.parents_of(lab_port.key) == [topo.get(vm("lab"))]


def test_several_routers_on_a_network_lowest_id_wins_all_listed():
    inv = small_inventory()
    net_a = uid("net", "a")
    low = "00000000-0000-0000-0000-000000000001"
    inv.routers.append(inv.routers[1].replace(id=low, network_ids=[net_a]))
    topo = o.build(inv)
    port = topo.get(f"{vm('web-01')}!port-{uid('port', 'web-01')}")
    assert port.parents == (key("router", low),)
    assert port.vars["vio_routers"] == sorted([low, uid("router", "ha")])


def test_router_parents_ha_single_and_nsx(topo):
    """An HA router depends on its L3 agents as one redundant set, the l3-agents service, alone."""
    ha = topo.get(key("router", uid("router", "ha")))
    ha_set = f"{P}!l3-agents-{uid('router', 'ha')}"
    assert ha.parents == (ha_set,)
    assert ha.address == "203.0.113.1"  # its gateway port
    agents = topo.get(ha_set)
    assert (agents.kind, agents.host, agents.parents) == (t.L3_AGENTS, P, ())  # below the cloud host alone
    assert agents.check.command == "vio_router"
    # the check expects as many agents as hosted the router when the config was written
    assert agents.check.args == (("--id", uid("router", "ha")), ("--l3-agents", None), ("--expect-agents", "2"))
    assert agents.vars["vio_l3_agents"] == ["neutron-l3-agent@vio-net-01", "neutron-l3-agent@vio-net-02"]
    assert agents.vars["vio_router"] == small_inventory().routers[0].name and "vio_name" not in agents.vars
    assert TEMPLATES[agents.kind] == "vio-cloud-service"
    one = topo.get(key("router", uid("router", "one")))
    assert one.parents == (f"{P}!neutron-l3-agent@vio-net-02",)
    # vio-net-01 hosts the HA router only: the set reports its loss, a service of its own would page twice
    assert f"{P}!neutron-l3-agent@vio-net-01" not in topo
    assert f"{P}!neutron-l3-agent@vio-net-02" in topo
    inv = small_inventory()
    inv.agents = [a for a in inv.agents if not a.is_l3]  # NSX: no L3 agents at all, none hosts a router
    for r in inv.routers:
        r.agent_ids = []
    nsx = o.build(inv)
    assert nsx.get(key("router", uid("router", "ha"))).parents == (f"{P}!neutron-agents",)
    assert_tree(nsx)


def test_volumes_attached_unattached_and_filtered(topo):
    cinder = f"{P}!cinder-volume@vio-controller@vmdk"
    data = topo.get(f"{vm('web-01')}!volume-{uid('vol', 'web-01-data')}")
    assert data.parents == (cinder,)
    assert data.vars["vio_device"] == "/dev/sdb"
    backend = key("cinder", "vio-controller@vmdk")
    assert topo.get(backend).kind == t.BACKEND and topo.get(backend).parents == (cinder,)
    assert topo.get(f"{backend}!volume-{uid('vol', 'spare')}").parents == (cinder,)
    nobackend = key("cinder", "unscheduled")
    assert topo.get(f"{nobackend}!volume-{uid('vol', 'nobackend')}").parents == (f"{P}!cinder-services",)
    # the monitoring=off VM and its volume are left out
    assert vm("off") not in topo
    assert not [n for n in topo.nodes.values() if n.object_id == uid("vol", "off")]


def test_graph_queries(topo):
    nova = f"{P}!nova-compute@vio-compute-01"
    below = {n.key for n in topo.descendants(nova)}
    hv1 = key("hv", uid("hv", 1))
    assert {hv1, f"{hv1}!capacity", vm("web-01"), f"{vm('web-01')}!port-{uid('port', 'web-01')}"} <= below
    assert vm("db-01") not in below
    assert [n.key for n in topo.children_of(hv1, implicit=False)] == [vm("web-01")]
    assert {n.key for n in topo.children_of(hv1)} == {vm("web-01"), f"{hv1}!capacity"}
    port = f"{vm('web-01')}!port-{uid('port', 'web-01')}"
    assert [n.key for n in topo.parents_of(port)] == [key("router", uid("router", "ha")), vm("web-01")]
    assert [n.key for n in topo.parents_of(port, implicit=False)] == [key("router", uid("router", "ha"))]
    depth = topo.depth()
    assert depth[P] == 0 and depth[nova] == 1 and depth[hv1] == 2 and depth[vm("web-01")] == 3
    assert depth[port] == 4


def test_assert_acyclic_names_the_cycle(topo):
    hv1 = key("hv", uid("hv", 1))
    nova = f"{P}!nova-compute@vio-compute-01"
    topo.get(P).parents = (vm("web-01"),)  # cloud → VM → hypervisor → nova-compute → cloud
    with pytest.raises(t.CycleError) as e:
        topo.assert_acyclic()
    cycle = e.value.cycle
    assert cycle[0] == cycle[-1] and {P, vm("web-01"), hv1, nova} <= set(cycle)
    assert "dependency cycle" in str(e.value)
    topo.get(P).parents = ("nowhere",)
    with pytest.raises(t.CycleError, match="not in the graph"):
        topo.assert_acyclic()


def test_acyclicity_is_proved_once_per_tree(monkeypatch):
    """build() proves the tree acyclic; depth() and the commands reuse that proof until a node is added."""
    calls = []
    real = t.Topology.assert_acyclic
    monkeypatch.setattr(t.Topology, "assert_acyclic", lambda self: calls.append(1) or real(self))
    topo = o.build(small_inventory())
    topo.depth()
    assert len(calls) == 1
    topo.add(o.Node(kind=t.VM, host="extra", service=None, display_name="x", object_id=None,
                    check=o.Check("vio_vm"), parents=(P,)))
    assert topo.depth()["extra"] == 1 and len(calls) == 2


def test_migrated_vm_follows_its_hypervisor():
    inv = small_inventory()
    before = o.build(inv)
    web = next(s for s in inv.servers if s.name == "web-01")
    web.hypervisor_hostname, web.host = "domain-c9(Cluster-B)", "vio-compute-02"
    after = o.build(inv)
    assert before.get(vm("web-01")).parents == (key("hv", uid("hv", 1)),)
    assert after.get(vm("web-01")).parents == (key("hv", o.object_name("domain-c9(Cluster-B)")),)


def test_filters():
    inv = small_inventory()
    only_web = o.build(inv, o.Options(include_projects=frozenset({"web"})))
    assert {n.vars.get("vio_project") for n in only_web.nodes.values() if n.kind == t.VM} == {"web"}
    no_db = o.build(inv, o.Options(exclude_projects=frozenset({"p-db"})))  # by id
    assert vm("db-01") not in no_db
    assert not [n for n in no_db.nodes.values() if n.vars.get("vio_project_id") == "p-db"]
    assert key("router", uid("router", "one")) not in no_db
    no_volumes = o.build(inv, o.Options(kinds=frozenset(t.SELECTABLE_KINDS) - {"volumes"}))
    assert not [n for n in no_volumes.nodes.values() if n.kind in (t.VOLUME, t.BACKEND)]
    # Without per-volume services the volumes aggregate is their only watcher: it judges every state (of the
    # volumes the generator keeps: monitoring=off servers are always left out, with their volumes).
    assert no_volumes.get(f"{P}!volumes").check.args == (("--skip-unmonitored", None),)
    assert f"{P}!cinder-services" in no_volumes
    assert_tree(no_volumes)
    bare = o.build(inv, o.Options(kinds=frozenset({"vms"})))  # no hypervisors, no per-service nodes
    assert bare.get(vm("web-01")).parents == (P,)
    assert_tree(bare)
    no_hv = o.build(inv, o.Options(kinds=frozenset(t.SELECTABLE_KINDS) - {"hypervisors"}))
    assert no_hv.get(vm("web-01")).parents == (f"{P}!nova-compute@vio-compute-01",)
    assert_tree(no_hv)


def test_monitoring_off_variants():
    s = Server("x", "x")
    for value in ("off", "OFF", "false", "no", "0", "disabled"):
        s.metadata = {"Monitoring": value}
        assert monitoring_off(s)
    s.metadata = {"monitoring": "on"}
    assert not monitoring_off(s)


def test_names_come_from_ids_and_are_safe():
    hostile = o.build(small_inventory(hostile=True))
    plain = o.build(small_inventory())
    assert set(hostile.nodes) == set(plain.nodes)  # renames never rename objects
    assert set(hostile.groups) == set(plain.groups)
    for node in hostile.nodes.values():
        for part in (node.host, node.service or "x", *node.groups):
            assert re.fullmatch(r"[A-Za-z0-9_.@-]+", part), part
    assert o.object_name("domain-c9(Cluster-B)") != o.object_name("domain-c9_Cluster-B_")
    assert o.object_name("a" * 300) != o.object_name("a" * 301) and len(o.object_name("a" * 300)) < 140


def test_prefix_includes_region_so_regions_never_collide():
    one = o.build(small_inventory(region="RegionOne"))
    two = o.build(small_inventory(region="RegionTwo"))
    none = o.build(small_inventory(region=None))
    assert (one.prefix, two.prefix, none.prefix) == ("vio-demo-RegionOne", "vio-demo-RegionTwo", "vio-demo")
    assert not set(one.nodes) & set(two.nodes)
    assert o.build(small_inventory(), o.Options(prefix="prod eu!")).prefix == o.object_name("prod eu!")
    weird = o.build(small_inventory(region='Re"gion!'))
    assert re.fullmatch(r"[A-Za-z0-9_.@-]+", weird.prefix)


def test_vars_for_apply_rules(topo):
    web = topo.get(vm("web-01"))
    assert web.vars["vio_cloud"] == "demo" and web.vars["vio_region"] == "RegionOne"
    assert web.vars["vio_kind"] == "vm" and web.vars["vio_id"] == uid("vm", "web-01")
    assert web.vars["vio_project"] == "web" and web.vars["vio_project_id"] == "p-web"
    assert web.vars["vio_hypervisor"] == "domain-c8.5f2e" and web.vars["vio_flavor"] == "m1.small"
    assert web.vars["vio_networks"] == ["net-a"] and web.vars["vio_metadata"]["role"] == "web"
    assert web.display_name == "web-01"
    assert web.check.args == (("--id", uid("vm", "web-01")),)  # identifiers, never display names


def test_descriptive_vars_never_shadow_check_arguments():
    """A node's vars must not set a custom var some CheckCommand reads (Icinga resolves host vars for
    services too), except the node's own check arguments."""
    argument_vars = {option_var(command, opt) for command, options in command_options().items()
                     for opt in options if opt.exposed}
    assert {"vio_os_cloud", "vio_vm_id", "vio_service_host", "vio_timeout"} <= argument_vars
    for node in o.build(small_inventory()).nodes.values():
        assert not set(node.vars) & argument_vars, (node.key, set(node.vars) & argument_vars)


def test_urls_are_templates_with_quoted_values():
    inv = small_inventory(hostile=True)
    opts = o.Options(notes_urls={t.VM: "https://horizon/project/instances/{id}/?n={name}"})
    topo = o.build(inv, opts)
    url = topo.get(vm("web-01")).notes_url
    assert url.startswith(f"https://horizon/project/instances/{uid('vm', 'web-01')}/?n=web-01%20he%20said")
    assert '"' not in url and "$" not in url and "\n" not in url
    with pytest.raises(ValueError):
        o.check_url_template("https://x/{nope}")


def test_children_attempts_exceed_their_parents():
    """Parents go HARD first: for every edge (explicit and a service's host), more attempts below; the one
    exception, named in templates.conf: nova-compute → its nova-conductor cluster (equal attempts; the
    dependency counts the cluster's SOFT state, and the e2e cluster story proves one notification)."""
    with_conductor = small_inventory()
    with_conductor.compute_services.append(Service("cc1", "nova", "nova-conductor", "ctl-1", status="enabled",
                                                   state="up"))
    for topo in (o.build(with_conductor), o.build(big_inventory(n_vms=200))):
        for child, parent, _implicit in topo.edges():
            c, p = TEMPLATES[topo.get(child).kind], TEMPLATES[topo.get(parent).kind]
            if (topo.get(child).kind, topo.get(parent).kind) == (t.COMPUTE_SERVICE, t.CLUSTER):
                assert ATTEMPTS[c] == ATTEMPTS[p], (child, parent)
                continue
            assert ATTEMPTS[c] > ATTEMPTS[p], (child, c, parent, p)


def _blocks(text: str, pattern: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(pattern, text, re.S)}


def test_shipped_templates_match_the_attempts_table():
    conf = _blocks((ICINGA_DIR / "templates.conf").read_text(), r'template (?:Host|Service) "([^"]+)" \{(.*?)\n\}')
    cfg = _blocks((ICINGA_DIR / "nagios" / "templates.cfg").read_text(),
                  r"define (?:host|service) \{\s*name\s+(\S+)(.*?)\n\}")
    for template, attempts in ATTEMPTS.items():
        assert f"max_check_attempts = {attempts}\n" in conf[template] + "\n", template
        assert re.search(rf"max_check_attempts\s+{attempts}\n", cfg[template] + "\n"), template
        check, retry = INTERVALS[template]
        minutes = f"{check // 60}m" if check % 60 == 0 else f"{check}s"
        assert f"check_interval = {minutes}" in conf[template], template
        assert re.search(rf"check_interval\s+{check / 60:g}\n", cfg[template] + "\n"), template
    assert "retry_interval = 30s" in conf["vio-host"] and "retry_interval = 30s" in conf["vio-service"]
    assert re.search(r"max_check_attempts\s+4\n", cfg["vio-host-state-service"] + "\n")  # = vio-router-host


def test_ten_thousand_vms_build_fast_and_stay_a_tree():
    inv = big_inventory()
    start = time.monotonic()
    topo = o.build(inv)
    elapsed = time.monotonic() - start
    assert elapsed < 10, elapsed
    assert sum(1 for n in topo.nodes.values() if n.kind == t.VM) == 10_000
    assert sum(1 for n in topo.nodes.values() if n.kind == t.L3_AGENTS) == 10
    assert sum(1 for n in topo.nodes.values() if n.kind == t.ROUTER
               and topo.get(n.parents[0]).kind == t.L3_AGENTS) == 10
    assert_tree(topo)


def test_agents_missing_from_inventory_fall_back():
    inv = small_inventory()
    inv.agents = [Agent(uid("other"), "neutron-l3-agent", "L3 agent", "vio-net-09", alive=True)]
    topo = o.build(inv)  # routers name agents that are gone
    # several agents named: still the set (its check counts the missing ones unverified, never up)
    assert topo.get(key("router", uid("router", "ha"))).parents == (f"{P}!l3-agents-{uid('router', 'ha')}",)
    assert topo.get(key("router", uid("router", "one"))).parents == (f"{P}!neutron-agents",)
    assert_tree(topo)


def test_two_parents_for_one_node_are_refused():
    """Every child has exactly one parent: a node with two is refused when added, so no renderer ever
    needs a redundancy_group (which Icinga 2.13 rejects and 2.14 needs)."""
    topo = t.Topology("c", None, "p")
    topo.add(t.Node(t.CLOUD, "p", None, "cloud", None))
    for name in ("a", "b"):
        topo.add(t.Node(t.L3_AGENT, "p", name, name, name))
    with pytest.raises(t.TwoParentsError, match="p-r has 2 parents .*every child has exactly one"):
        topo.add(t.Node(t.ROUTER, "p-r", None, "r", "r", parents=("p!a", "p!b")))
    assert "p-r" not in topo


def test_an_agent_keeps_its_service_unless_every_router_it_hosts_is_a_set():
    """An L3 agent gets no service of its own only when each router it hosts is generated with its
    l3-agents set (which reports the agent): with a router of its own, a router filtered out, or no
    routers generated at all it keeps one."""
    inv = small_inventory()
    net01 = f"{P}!neutron-l3-agent@vio-net-01"
    ha = next(r for r in inv.routers if r.id == uid("router", "ha"))
    assert net01 not in o.build(inv)
    # the HA router is filtered out: nothing else reports vio-net-01
    assert net01 in o.build(inv, o.Options(exclude_projects=frozenset({ha.project_id})))
    # no routers generated: no sets
    no_routers = o.build(inv, o.Options(kinds=frozenset(t.SELECTABLE_KINDS) - {"routers"}))
    assert net01 in no_routers and not [n for n in no_routers.nodes.values() if n.kind == t.L3_AGENTS]
    # vio-net-01 also hosts a router of its own: it is that router's parent
    agent01 = next(a.id for a in inv.agents if a.host == "vio-net-01" and a.is_l3)
    one = next(r for r in inv.routers if r.id == uid("router", "one"))
    one.agent_ids = [agent01]
    topo = o.build(inv)
    assert topo.get(key("router", uid("router", "one"))).parents == (net01,)


def test_aggregates_leave_problems_to_the_objects_that_report_them():
    """One fault pages once: an aggregate ignores what an object of its own already reports."""
    topo = o.build(small_inventory(), o.Options())
    args = {n.service: dict(n.check.args) for n in topo.nodes.values() if n.kind == t.AGGREGATE}
    assert args["vms"]["--ignore-states"] == "critical"  # stuck tasks (WARNING) only show here
    assert args["routers"]["--ignore-states"] == "critical"
    assert args["volumes"]["--ignore-states"] == "warning,critical"
    assert args["interfaces"]["--ignore-states"] == "warning,critical"
    # per-resource records and controller clusters each have a service of their own
    assert args["nova-services"]["--exclude-binary"] == "nova-compute,nova-conductor,nova-scheduler,nova-consoleauth"
    assert args["cinder-services"]["--exclude-binary"] == "cinder-volume,cinder-scheduler,cinder-backup"
    assert args["neutron-agents"]["--exclude-binary"] == \
        "neutron-l3-agent,neutron-dhcp-agent,neutron-metadata-agent"
    assert "--ignore-states" not in args["keystone-endpoints"]


def test_aggregates_take_the_generators_filters():
    """The aggregates judge exactly the objects the generated config keeps, and leave to the generated
    objects only what those report themselves."""
    inv = small_inventory()
    topo = o.build(inv, o.Options(include_projects=frozenset({"web", "p-lab"}), exclude_projects=frozenset({"lab"})))
    filters = (("--include-projects", "p-lab,web"), ("--exclude-projects", "lab"), ("--skip-unmonitored", None))
    accept = ("--accept-unverified", None)  # their own objects report each unverified member, the tree its cause
    assert topo.get(f"{P}!vms").check.args == (*filters, ("--ignore-states", "critical"), accept)
    assert topo.get(f"{P}!volumes").check.args == (*filters, ("--ignore-states", "warning,critical"), accept)
    assert topo.get(f"{P}!interfaces").check.args == (*filters, ("--ignore-states", "warning,critical"), accept)
    leave = ("--leave-l3-redundancy", None)  # a router's lost L3 agents are its l3-agents service's to report
    assert topo.get(f"{P}!routers").check.args == (*filters[:2], ("--ignore-states", "critical"), accept, leave)
    for name in ("nova-services", "neutron-agents", "cinder-services", "keystone-endpoints", "inventory-changes"):
        assert not {o for o, _ in topo.get(f"{P}!{name}").check.args} & {o for o, _ in filters}, name
    plain = o.build(inv)
    assert plain.get(f"{P}!vms").check.args == (("--skip-unmonitored", None), ("--ignore-states", "critical"),
                                                accept)
    assert plain.get(f"{P}!routers").check.args == (("--ignore-states", "critical"), accept, leave)
    # interface services live on VM hosts: without VMs nothing else reports a port, the aggregate judges all
    no_vms = o.build(inv, o.Options(kinds=frozenset(t.SELECTABLE_KINDS) - {"vms"}))
    assert not [n for n in no_vms.nodes.values() if n.kind == t.INTERFACE]
    assert no_vms.get(f"{P}!interfaces").check.args == (("--skip-unmonitored", None),)


def test_generator_and_checks_share_one_selection():
    """The generator keeps exactly what selection.py selects (the checks' aggregates use the same rules)."""
    inv = small_inventory()
    opts = o.Options(exclude_projects=frozenset({"db"}))
    topo = o.build(inv, opts)
    sel = Selection(opts.include_projects, opts.exclude_projects, skip_unmonitored=True,
                    project_names={p.id: p.name for p in inv.projects})
    servers = {s.id: s for s in inv.servers}
    generated = {n.object_id for n in topo.nodes.values()}
    assert {s.id for s in inv.servers if sel.server_selected(s)} == {
        n.object_id for n in topo.nodes.values() if n.kind == t.VM}
    assert {v.id for v in inv.volumes if sel.volume_selected(v, servers)} == {
        n.object_id for n in topo.nodes.values() if n.kind == t.VOLUME}
    assert {r.id for r in inv.routers if sel.router_selected(r)} == {
        n.object_id for n in topo.nodes.values() if n.kind == t.ROUTER}
    vm_ports = {p.id for p in inv.ports if p.is_vm_port and p.device_id in servers
                and sel.port_selected(p, servers[p.device_id])}
    assert vm_ports == {n.object_id for n in topo.nodes.values() if n.kind == t.INTERFACE}
    assert vm_ports <= generated
