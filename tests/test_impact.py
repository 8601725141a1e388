"""vio-icinga impact / rootcause: the pure logic on a topology (in-process), and the commands' contract
(exit 0 answered / 3 unknown, ambiguous or unavailable, candidates, --json) against the simulator.
The --api-url path against a real Icinga 2 is in test_e2e_icinga (hypervisor-down scenario)."""

from __future__ import annotations

import copy
import json

import pytest
from icinga_e2e import E2E_SCENARIO, PREFIX, free_port
from icinga_helpers import small_inventory, uid

from vio_checks import topology as t
from vio_checks.icinga import analysis as im
from vio_checks.icinga import objects as o
from vio_checks.icinga import resolve as rs
from vio_checks.model import Server

P = "vio-demo-RegionOne"
HV8 = f"{P}-hv-53a9793a-9805-5c31-af66-a36a7dac316f"  # domain-c8.5f2e (UUID id)
HV9 = f"{P}-hv-domain-c9_Cluster-B-8645ce6f"  # Nova integer id 2, named by hypervisor_hostname
NOVA1, NOVA2 = f"{P}!nova-compute@vio-compute-01", f"{P}!nova-compute@vio-compute-02"
L3_2 = f"{P}!neutron-l3-agent@vio-net-02"  # vio-net-01 hosts the HA router only: its set reports it
HA_SET = f"{P}!l3-agents-{uid('router', 'ha')}"  # the HA router's L3 agents, one redundant set


@pytest.fixture(scope="module")
def topo() -> t.Topology:
    return o.build(small_inventory())


def by_name(topo: t.Topology, kind: str, display: str) -> t.Node:
    found = [n for n in topo.nodes.values() if n.kind == kind and n.display_name == display]
    assert len(found) == 1, found
    return found[0]


# --- resolve ----------------------------------------------------------------------------------------


def test_resolve_by_object_name_id_and_name(topo):
    vm = by_name(topo, t.VM, "web-01")
    assert rs.resolve(topo, vm.key) is vm
    assert rs.resolve(topo, vm.object_id) is vm
    assert rs.resolve(topo, vm.object_id.upper()) is vm  # ids case-insensitively
    assert rs.resolve(topo, "web-01") is vm
    assert rs.resolve(topo, " WEB-01 ") is vm  # names too, when nothing matches exactly
    assert rs.resolve(topo, "nova-compute@vio-compute-01").key == NOVA1
    assert rs.resolve(topo, "router-ha").kind == t.ROUTER


def test_resolve_hypervisor_by_label_hostname_and_integer_id(topo):
    # the hypervisor host and its capacity service share the id: the host wins
    for text in ("2", "Cluster-B", "domain-c9(Cluster-B)", HV9):
        assert rs.resolve(topo, text).key == HV9, text
    assert rs.resolve(topo, "domain-c8.5f2e").key == HV8
    assert rs.resolve(topo, f"{HV9}!capacity").kind == t.CAPACITY


def test_unknown_and_ambiguous_objects():
    inv = small_inventory()
    twin = copy.deepcopy(next(s for s in inv.servers if s.name == "db-01"))
    inv.servers.append(Server("f00df00d-0000-4000-8000-000000000001", "db-01", twin.project_id, "ACTIVE",
                              host=twin.host, hypervisor_hostname=twin.hypervisor_hostname))
    topo = o.build(inv)
    with pytest.raises(rs.Unresolved) as e:
        rs.resolve(topo, "no-such-thing")
    assert e.value.candidates == []
    with pytest.raises(rs.Unresolved) as e:
        rs.resolve(topo, "db-01")
    assert sorted(n.object_id for n in e.value.candidates) == sorted(
        [twin.id, "f00df00d-0000-4000-8000-000000000001"])
    assert "ambiguous" in str(e.value)
    # the unique id still works
    assert rs.resolve(topo, "f00df00d-0000-4000-8000-000000000001").display_name == "db-01"


# --- impact -------------------------------------------------------------------------------------------


def test_impact_of_a_hypervisor_counts_by_kind(topo):
    imp = im.impact(topo, topo.get(HV8))
    # scratch (monitoring=off) is not generated, so not counted
    assert imp.counts == {t.VM: 1, t.INTERFACE: 1, t.VOLUME: 1, t.CAPACITY: 1}
    assert imp.projects == [next(p.name for p in small_inventory().projects if p.id == "p-web")]
    assert imp.summary(topo) == "hypervisor domain-c8.5f2e (vio-compute-01): 1 VM, 1 interface, 1 volume, 1 capacity service, 1 project"


def test_impact_is_transitive_through_services_and_hosts(topo):
    imp = im.impact(topo, topo.get(NOVA2))
    assert imp.counts[t.HYPERVISOR] == 1 and imp.counts[t.VM] == 2  # db-01 and lab-01 on Cluster-B
    assert {d.key for d in imp.dependents} == {d.key for d in topo.descendants(NOVA2)}
    cloud = im.impact(topo, topo.get(P))
    assert len(cloud.dependents) == len(topo) - 1  # everything hangs below the cloud host
    assert im.impact(topo, by_name(topo, t.VM, "lab-01")).summary(topo).startswith("VM lab-01: 1 interface")
    leaf = next(n for n in topo.nodes.values() if n.kind == t.INTERFACE)
    assert im.impact(topo, leaf).summary(topo).endswith(": nothing depends on it")


def test_impact_of_a_router_and_its_l3_agents(topo):
    router = by_name(topo, t.ROUTER, "router-ha")
    assert im.impact(topo, router).counts == {t.INTERFACE: 1}
    # the HA router and its interfaces hang below its l3-agents set alone; the single-agent router below
    # its agent vio-net-02 (which also is a member of the set, but no longer a parent of the HA router)
    assert im.impact(topo, topo.get(HA_SET)).counts == {t.ROUTER: 1, t.INTERFACE: 1}
    assert [n.key for n in im.impact(topo, topo.get(HA_SET)).dependents][0] == router.key
    assert im.impact(topo, topo.get(L3_2)).counts == {t.ROUTER: 1, t.INTERFACE: 1}
    assert router.key not in {n.key for n in im.impact(topo, topo.get(L3_2)).dependents}
    assert rs.resolve(topo, f"l3-agents-{uid('router', 'ha')}").key == HA_SET
    assert rs.describe(topo, topo.get(HA_SET)) == "L3 agents of router router-ha"
    assert im.plural(1, t.L3_AGENTS) == "1 L3 agent set"


def test_impact_json_and_text(topo):
    imp = im.impact(topo, topo.get(NOVA1))
    data = im.impact_json(topo, imp)
    assert data["object"]["name"] == NOVA1 and data["object"]["kind"] == t.COMPUTE_SERVICE
    assert data["counts"] == {"hypervisor": 1, "vm": 1, "interface": 1, "volume": 1, "capacity": 1}
    assert {d["name"] for d in data["dependents"]} == {d.key for d in imp.dependents}
    json.dumps(data)  # serialisable
    text = im.impact_text(topo, imp)
    assert text.splitlines()[0].startswith("nova-compute on vio-compute-01: 1 hypervisor, 1 VM")
    assert "  VMs: web-01" in text


def test_impact_text_lists_at_most_ten_names_per_kind():
    from icinga_helpers import big_inventory

    topo = o.build(big_inventory(n_vms=200, hypervisors=2, routers=4, projects=3, unattached=0))
    hv = next(n for n in topo.nodes.values() if n.kind == t.HYPERVISOR)
    imp = im.impact(topo, hv)
    assert imp.counts[t.VM] == 100
    vms_line = next(line for line in im.impact_text(topo, imp).splitlines() if line.startswith("  VMs:"))
    assert vms_line.endswith("... and 90 more")


# --- root cause -----------------------------------------------------------------------------------------


def states(topo: t.Topology, problems: dict[str, tuple[int, str]] | None = None, since: float | None = None):
    """A status function: everything OK/UP except the given key → (state, output)."""
    problems = problems or {}

    def status(key: str) -> im.Status:
        node = topo.nodes[key]
        state, output = problems.get(key, (0, "fine"))
        return im.Status(state, node.is_host, output, since=since if key in problems else None)

    return status


def test_chain_lists_every_parent_once_by_distance(topo):
    port = next(n for n in topo.nodes.values() if n.kind == t.INTERFACE and n.host.endswith("0f5a970f-e62d-57d4-8f92-6d38df888314"))
    links = im.chain(topo, port)
    keys = [n.key for n, _ in links]
    assert len(keys) == len(set(keys))
    depth = {n.key: d for n, d in links}
    vm, router = port.host, port.parents[0]
    assert depth[port.key] == 0 and depth[router] == 1 and depth[vm] == 1
    assert depth[HV8] == 2 and depth[HA_SET] == 2 and L3_2 not in depth  # one parent: the set
    assert depth[NOVA1] == 3 and depth[P] == 3  # the cloud host first met above the set


def test_rootcause_names_the_topmost_failing_parent(topo):
    vm = by_name(topo, t.VM, "web-01")
    status = states(topo, {NOVA1: (2, "VIO SERVICE CRITICAL - nova-compute@vio-compute-01 is down since 10:42"),
                           HV8: (1, "VIO HYPERVISOR CRITICAL - domain-c8.5f2e is down"),
                           vm.key: (1, "VIO VM UNKNOWN - web-01: hypervisor down: state unverified")},
                    since=1_700_000_000.0)
    a = im.analyse(topo, vm, status, "icinga")
    assert a.via.key == HV8 and a.cause.key == NOVA1
    msg = im.message(topo, a, 1_700_000_100.0)
    assert msg.startswith("VM web-01 is unreachable because hypervisor domain-c8.5f2e (vio-compute-01) is DOWN since ")
    assert msg.endswith("(cause: nova-compute on vio-compute-01 CRITICAL: nova-compute@vio-compute-01 is down "
                        "since 10:42)")
    # a service's own host counts as a parent: the VM's interface is affected through the VM
    port = next(n for n in topo.nodes.values() if n.kind == t.INTERFACE and n.host == vm.key)
    a = im.analyse(topo, port, status, "inventory")
    assert a.via.key == vm.key and a.cause.key == NOVA1
    assert im.message(topo, a, 0).startswith(f"{rs.describe(topo, port)} is affected because VM web-01 is DOWN")


def test_rootcause_when_all_is_well_or_the_problem_is_its_own(topo):
    vm = by_name(topo, t.VM, "web-01")
    a = im.analyse(topo, vm, states(topo), "inventory")
    assert a.via is None and a.cause is None
    assert im.message(topo, a, 0) == "VM web-01 is UP, and so is every parent"
    a = im.analyse(topo, vm, states(topo, {vm.key: (1, "VIO VM CRITICAL - web-01 is ERROR: No valid host")}),
                   "inventory")
    assert a.via is None and a.cause.key == vm.key
    assert "every parent is fine, so the problem is its own: web-01 is ERROR" in im.message(topo, a, 0)


def test_warning_parent_does_not_block_and_a_redundant_set_fails_as_one(topo):
    router = by_name(topo, t.ROUTER, "router-ha")
    port = next(n for n in topo.nodes.values() if n.kind == t.INTERFACE and n.parents == (router.key,))
    # one of two L3 agents down: the set is WARNING, which passes a dependency (Icinga's default states
    # filter): the HA router still has a way out, and the set is not a cause
    one = states(topo, {HA_SET: (1, "VIO ROUTER WARNING - router router-ha: at risk: 1 of 2 L3 agents up"),
                        L3_2: (2, "dead")})
    a = im.analyse(topo, router, one, "icinga")
    assert a.via is None and a.cause is None
    # a member's own service failing is no cause of the HA router: the set is its one parent
    assert im.blocking_parents(topo, router.key, one) == []
    # both down: the set is CRITICAL, and the router (and what hangs below it) is cut off through it
    both = states(topo, {HA_SET: (2, "VIO ROUTER CRITICAL - router router-ha: all 2 L3 agents down"),
                         L3_2: (2, "dead"), router.key: (1, "VIO ROUTER CRITICAL")})
    a = im.analyse(topo, port, both, "icinga")
    assert a.via.key == router.key and a.cause.key == HA_SET
    assert im.message(topo, a, 0).startswith(f"{rs.describe(topo, port)} is unreachable because router router-ha")
    assert "(cause: L3 agents of router router-ha CRITICAL" in im.message(topo, a, 0)


def test_analysis_json_and_text(topo):
    vm = by_name(topo, t.VM, "web-01")
    status = states(topo, {NOVA1: (2, "VIO SERVICE CRITICAL - down | x=1"), HV8: (1, "down")})
    a = im.analyse(topo, vm, status, "inventory")
    data = im.analysis_json(topo, a, 0)
    json.dumps(data)
    assert data["object"]["name"] == vm.key and data["source"] == "inventory"
    assert data["via"]["name"] == HV8 and data["cause"]["name"] == NOVA1 and data["cause"]["state"] == "CRITICAL"
    assert data["cause"]["output"] == "VIO SERVICE CRITICAL - down"  # no perfdata
    assert [c["name"] for c in data["chain"]] == [vm.key, HV8, NOVA1, P]
    text = im.analysis_text(topo, a, 0, "chain:")
    lines = text.splitlines()
    assert lines[0] == data["message"] and lines[1] == "chain:"
    assert lines[-2].lstrip().startswith("nova-compute on vio-compute-01") and lines[-2].endswith("<- cause")


def test_missing_object_in_icinga_is_said_so(topo):
    vm = by_name(topo, t.VM, "web-01")

    def status(key):
        return im.Status(0, topo.nodes[key].is_host, missing=key == vm.key)

    a = im.analyse(topo, vm, status, "icinga")
    assert "is not in Icinga" in im.message(topo, a, 0)


class _Replies:
    """Icinga's /v1/objects replies by object name (an in-memory stand-in for deploy.IcingaApi)."""

    def __init__(self, replies: dict):
        self.replies = replies

    def request(self, method, path, not_found=None):
        from urllib.parse import unquote

        return self.replies.get(unquote(path.split("?")[0].rsplit("/", 1)[1]), not_found)  # absent: a 404


def _attrs(**attrs):
    return {"results": [{"attrs": attrs}]}


#: Replies of Icinga that carry no usable state (one per class), with what the Status says why.
NO_STATE = {
    "no state attribute": (_attrs(state_type=1.0, last_check_result={"output": "x"}), "no state in Icinga's reply"),
    "state null": (_attrs(state=None, state_type=1.0), "no state in Icinga's reply"),
    "never checked": (_attrs(state=0.0, state_type=1.0, last_check_result=None), "never checked (pending)"),
    "state text": (_attrs(state="0", state_type=1.0), "state '0' is not a"),
    "state bool": (_attrs(state=False, state_type=1.0), "state False is not a"),
    "state out of range": (_attrs(state=7.0, state_type=1.0), "state 7.0 is not a"),
    "state fraction": (_attrs(state=0.5), "state 0.5 is not a"),
    "attrs not a mapping": ({"results": [{"attrs": ["state", 0]}]}, "no state in Icinga's reply"),
}


@pytest.mark.parametrize("case", sorted(NO_STATE))
def test_a_reply_without_a_usable_state_is_unknown_never_up(topo, case):
    """Icinga's reply for a parent without a usable state: the parent is NO STATE (not UP, not failing),
    and rootcause says it could not tell instead of "every parent is fine"."""
    from vio_checks.icinga.states import icinga_states

    vm = by_name(topo, t.VM, "web-01")
    keys = [n.key for n, _ in im.chain(topo, vm)]
    hosts = {k for k in keys if topo.nodes[k].is_host}
    replies = {k: _attrs(state=0.0, state_type=1.0, last_check_result={"output": "VIO X OK - fine"})
               for k in keys}
    reply, why = NO_STATE[case]
    replies[HV8] = reply
    live = icinga_states(_Replies(replies), keys, hosts)
    assert live[vm.key].known and live[vm.key].state == 0 and live[vm.key].name == "UP"
    hv = live[HV8]
    assert not hv.known and hv.name == "NO STATE" and why in hv.unknown
    assert not hv.failing and not hv.problem
    a = im.analyse(topo, vm, live.__getitem__, "icinga")
    assert [n.key for n in a.unknown] == [HV8]
    msg = im.message(topo, a, 0)
    assert "every parent" not in msg.replace("whether every parent is fine", ""), msg
    assert msg == ("VM web-01 is UP; could not tell whether every parent is fine: no state for hypervisor "
                   "domain-c8.5f2e (vio-compute-01) (NO STATE)"), msg
    assert im.analysis_json(topo, a, 0)["unknown"][0]["name"] == HV8


def test_an_object_icinga_does_not_have_is_unknown_never_up(topo):
    """A parent absent from Icinga (no result, a 404) is MISSING; a reply that cannot be read (an empty body,
    a JSON array, null, results that are no list of objects) is NO STATE naming what was wrong, since
    garbage is no proof that the object is absent: neither is fine."""
    from vio_checks.icinga.states import icinga_states

    vm = by_name(topo, t.VM, "web-01")
    keys = [n.key for n, _ in im.chain(topo, vm)]
    ok = _attrs(state=0.0, state_type=1.0, last_check_result={"output": "VIO X OK - fine"})
    absent = object()
    for reply, name in (({"results": []}, "MISSING"), (absent, "MISSING"),
                        ({}, "NO STATE"), (None, "NO STATE"), ({"results": "x"}, "NO STATE"),
                        (["x"], "NO STATE"), ({"results": [None]}, "NO STATE"), ("x", "NO STATE")):
        replies = {k: ok for k in keys}
        if reply is not absent:
            replies[NOVA1] = reply
        else:
            del replies[NOVA1]
        live = icinga_states(_Replies(replies), keys, {k for k in keys if topo.nodes[k].is_host})
        assert live[NOVA1].name == name and not live[NOVA1].known, reply
        if name == "NO STATE":
            assert live[NOVA1].unknown.startswith("Icinga's reply "), live[NOVA1].unknown
        a = im.analyse(topo, vm, live.__getitem__, "icinga")
        assert im.message(topo, a, 0) == ("VM web-01 is UP; could not tell whether every parent is fine: "
                                          f"no state for nova-compute on vio-compute-01 ({name})")


def test_unknown_parents_are_named_whatever_else_the_message_says(topo):
    """The object's own problem, a failing parent, the object itself missing: each message still says which
    parents could not be told."""
    vm = by_name(topo, t.VM, "web-01")
    base = states(topo, {vm.key: (1, "VIO VM CRITICAL - web-01 is ERROR")})

    def status(key):
        return im.Status(0, True, unknown="never checked (pending)") if key == NOVA1 else base(key)

    msg = im.message(topo, im.analyse(topo, vm, status, "icinga"), 0)
    assert msg == ("VM web-01 is DOWN; could not tell whether every parent is fine: no state for nova-compute "
                   "on vio-compute-01 (NO STATE), so the problem may not be its own: web-01 is ERROR")
    failing = states(topo, {HV8: (1, "VIO HYPERVISOR CRITICAL - down")})

    def above(key):
        return im.Status(0, False, missing=True) if key == NOVA1 else failing(key)

    msg = im.message(topo, im.analyse(topo, vm, above, "icinga"), 0)
    assert msg.startswith("VM web-01 is unreachable because hypervisor domain-c8.5f2e (vio-compute-01) is DOWN")
    assert msg.endswith("; the cause may be higher up: no state for nova-compute on vio-compute-01 (MISSING)")

    def itself(key):
        return im.Status(0, True, missing=True) if key in (vm.key, HV8) else base(key)

    msg = im.message(topo, im.analyse(topo, vm, itself, "icinga"), 0)
    assert msg == ("VM web-01 is not in Icinga (deploy the current config); could not tell whether every "
                   "parent is fine: no state for hypervisor domain-c8.5f2e (vio-compute-01) (MISSING)")


# --- the commands -----------------------------------------------------------------------------------------


@pytest.fixture
def cloud(make_cloud):
    c = make_cloud(copy.deepcopy(E2E_SCENARIO))
    c.sweep()
    return c


def test_subcommands_are_registered(cloud):
    r = cloud.run("vio-icinga", "--help")
    assert r.rc == 0 and "impact" in r.stdout and "rootcause" in r.stdout
    r = cloud.run("vio-icinga", "rootcause", "--help")
    assert r.rc == 0 and "--api-url" in r.stdout and "exit codes" in r.stdout


def test_impact_command(cloud):
    r = cloud.run("vio-icinga", "impact", "nova-compute@vio-compute-01")
    assert r.rc == 0, str(r)
    assert r.lines[0].startswith("nova-compute on vio-compute-01: 1 hypervisor, 2 VMs, 2 interfaces, 1 volume")
    assert r.lines[0].endswith(f"[{PREFIX}!nova-compute@vio-compute-01]")
    r = cloud.run("vio-icinga", "impact", "router-b", "--json")
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    assert data["counts"] == {"interface": 2} and data["projects"] == ["shop"]
    assert sorted(d["description"].split(" of VM ")[1] for d in data["dependents"]) == ["db-01", "db-02"]


def test_the_short_cluster_id_every_output_prints_names_the_hypervisor(cloud):
    """`domain-c8`, as impact, rootcause, the checks and the config show a Nova `domain-c8.<uuid>`, is
    accepted as the hypervisor's name by impact and rootcause."""
    full = cloud.run("vio-icinga", "impact", "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11")
    assert full.rc == 0 and full.lines[0].startswith("hypervisor domain-c8 (vio-compute-01): "), str(full)
    short = cloud.run("vio-icinga", "impact", "domain-c8")
    assert short.rc == 0 and short.lines == full.lines, str(short)
    for command in ("rootcause", "impact"):
        r = cloud.run("vio-icinga", command, "DOMAIN-C9", "--json")
        assert r.rc == 0, str(r)
        assert json.loads(r.stdout)["object"]["description"] == "hypervisor domain-c9 (vio-compute-02)"
    assert cloud.run("vio-icinga", "impact", "domain-c7").rc == 3


def test_a_reader_that_goes_away_is_no_traceback(cloud):
    import subprocess

    icinga, discover = cloud.command("vio-icinga")[0], cloud.command("vio-discover")[0]
    for cmd in (f"{icinga} impact nova-compute@vio-compute-01 --json | true", f"{discover} --json | true"):
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=cloud.env, capture_output=True, text=True,
                           timeout=60)
        assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr


def test_unknown_and_ambiguous_exit_3(cloud):
    r = cloud.run("vio-icinga", "impact", "no-such-vm")
    assert r.rc == 3 and r.stdout == "" and "unknown object 'no-such-vm'" in r.stderr
    # both clusters' hypervisor_hostnames end in the vCenter uuid; a VM named like a cluster is ambiguous
    cloud.sim.add("servers", {"name": "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", "project": "shop",
                              "flavor": "m1.small", "host": "vio-compute-02"})
    cloud.sweep()
    r = cloud.run("vio-icinga", "rootcause", "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11")
    assert r.rc == 3, str(r)
    assert "ambiguous; 2 objects match" in r.stderr
    assert f"{PREFIX}-hv-" in r.stderr and f"{PREFIX}-vm-" in r.stderr  # the candidates, by object name


def test_rootcause_from_the_inventory(cloud):
    r = cloud.run("vio-icinga", "rootcause", "web-01")
    assert r.rc == 0 and r.lines[0] == "VM web-01 is UP, and so is every parent", str(r)
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    r = cloud.run("vio-icinga", "rootcause", "web-01")
    assert r.rc == 0, str(r)
    assert r.lines[0].startswith("VM web-01 is unreachable because hypervisor domain-c8 (vio-compute-01) is DOWN")
    assert "(cause: nova-compute on vio-compute-01 CRITICAL: nova-compute@vio-compute-01 is down since" in r.lines[0]
    assert r.lines[1].startswith("chain (judged from the cached inventory of ")
    r = cloud.run("vio-icinga", "rootcause", "db-01-eth0", "--json")
    data = json.loads(r.stdout)
    assert r.rc == 0 and data["source"] == "inventory"
    assert data["via"]["kind"] == "vm" and data["cause"]["name"] == f"{PREFIX}!nova-compute@vio-compute-01"
    states = {c["kind"]: c["state"] for c in data["chain"]}
    assert states["vm"] == "DOWN" and states["hypervisor"] == "DOWN" and states["router"] == "UP"


def test_impact_and_rootcause_through_the_l3_agents_set(cloud):
    """The HA router router-a hangs below its l3-agents set alone; rootcause judges the set as the
    generated service does (check_vio_router --l3-agents): one dead agent is no cause, both are."""
    r = cloud.run("vio-icinga", "impact", "L3 agents of router router-a", "--json")
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    assert data["object"]["kind"] == "l3-agents" and data["counts"] == {"router": 1, "interface": 2}
    rid = data["object"]["name"].split("!l3-agents-")[1]
    assert cloud.run("vio-icinga", "impact", f"l3-agents-{rid}").lines[0].startswith(
        "L3 agents of router router-a: 1 router, 2 interfaces")
    # vio-network-02 hosts router-a only: no service of its own (the set reports it)
    assert cloud.run("vio-icinga", "impact", "neutron-l3-agent@vio-network-02").rc == 3
    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-02", alive=False)
    cloud.sweep()
    r = cloud.run("vio-icinga", "rootcause", "web-01-eth0", "--json")
    data = json.loads(r.stdout)
    assert r.rc == 0 and data["cause"] is None, str(r)  # a WARNING set passes: the router has a way out
    states = {c["kind"]: c["state"] for c in data["chain"]}
    assert states["l3-agents"] == "WARNING" and states["router"] == "UP", states
    cloud.sim.patch("agents", "neutron-l3-agent@vio-network-01", alive=False)
    cloud.sweep()
    r = cloud.run("vio-icinga", "rootcause", "web-01-eth0")
    assert r.rc == 0, str(r)
    assert "of VM web-01 is affected because router router-a is DOWN" in r.lines[0], str(r)
    assert "(cause: L3 agents of router router-a CRITICAL: router router-a: all 2 L3 agents down" in r.lines[0]


def test_rootcause_from_a_stale_inventory_carries_the_stale_note(cloud):
    """rootcause judges as the executables do: a stale inventory's note is in every judged object's line,
    as the executable (and push) print it."""
    stale = ("--cache-only", "--max-age", "0")
    r = cloud.run("vio-icinga", "rootcause", "web-01-eth0", "--json", *stale)
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    assert data["unknown"] == []
    fine = [link for link in data["chain"] if " OK - " in link["output"]]
    assert {link["kind"] for link in fine} >= {"vm", "interface"}, data["chain"]
    for link in fine:  # an OK status line ends with the note (a problem's carries it in the long output)
        assert link["output"].endswith("s old: not refreshed (--cache-only))"), link
    vm = next(link for link in data["chain"] if link["kind"] == "vm")
    run = cloud.run("check_vio_vm", "--id", vm["id"], *stale)
    assert run.status.removesuffix(")").rsplit("(inventory ", 1)[0] == \
        vm["output"].removesuffix(")").rsplit("(inventory ", 1)[0], str(run)


def test_rootcause_icinga_unreachable_exits_3(cloud):
    url = f"https://127.0.0.1:{free_port()}"
    r = cloud.run("vio-icinga", "rootcause", "web-01", "--api-url", url, "--retries", "0",
                  env={"VIO_ICINGA_API_PASSWORD": "x"})
    assert r.rc == 3 and "Icinga API unavailable" in r.stderr and "cannot reach" in r.stderr, str(r)
    r = cloud.run("vio-icinga", "rootcause", "web-01", "--api-url", url)
    assert r.rc == 2 and "no API password" in r.stderr, str(r)  # a configuration to fix, as in push and deploy


def test_bad_filter_options_exit_2_in_one_line(cloud):
    for command in ("impact", "rootcause"):
        r = cloud.run("vio-icinga", command, "web-01", "--kinds", "vms,bogus")
        assert r.rc == 2 and r.stdout == "", str(r)
        assert r.stderr.startswith("vio-icinga: unknown --kinds bogus") and len(r.stderr.splitlines()) == 1, str(r)


def test_no_inventory_exits_3(make_cloud):
    c = make_cloud(copy.deepcopy(E2E_SCENARIO))
    c.sim.stop()
    r = c.run("vio-icinga", "impact", "web-01", "-t", "5")
    assert r.rc == 3 and r.stdout == "" and r.stderr.startswith("vio-icinga: "), str(r)


def test_hostile_names_are_inert_in_impact_text(topo):
    inv = copy.deepcopy(small_inventory())
    web = next(s for s in inv.servers if s.name == "web-01")
    web.name = "web\x1b]0;pwned\x07\nVM db-01 OK | x=1 " + "y" * 5000
    hostile = o.build(inv)
    text = im.impact_text(hostile, im.impact(hostile, hostile.get(NOVA1)))
    assert "\x1b" not in text and "\x07" not in text and "|" not in text
    assert all(len(line) < 400 for line in text.splitlines())
    plain = im.impact_text(topo, im.impact(topo, topo.get(NOVA1)))
    assert len(text.splitlines()) == len(plain.splitlines())  # no forged line


class _Icinga:
    """An HTTP stand-in for Icinga's API answering every GET with one body (200, JSON content type)."""

    def __init__(self, body: bytes) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _reply(state, output: str = "VIO X OK - fine") -> bytes:
    return json.dumps({"results": [{"attrs": {"state": state, "state_type": 1.0, "last_state_change": 1.0,
                                              "last_check_result": {"output": output}}}]}).encode()


#: Replies rootcause cannot read, and what its one answer says about each.
UNREADABLE = {
    "empty body": (b"", "Icinga's reply is empty"),
    "JSON array": (b"[]", "Icinga's reply is an array, not a JSON object"),
    "array of objects": (b'[{"attrs": {"state": 0}}]', "Icinga's reply is an array, not a JSON object"),
    "non-numeric state": (_reply("UP"), "state 'UP' is not a host state"),
    "state object": (_reply({"x": 1}), "state {'x': 1} is not a host state"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_rootcause_names_a_reply_it_cannot_read(cloud, case):
    body, why = UNREADABLE[case]
    with _Icinga(body) as api:
        for extra in ((), ("--json",)):
            r = cloud.run("vio-icinga", "rootcause", "web-01", *extra, "--api-url", api.url, "--retries", "0",
                          env={"VIO_ICINGA_API_PASSWORD": "x"})
            assert r.rc == 0 and "Traceback" not in r.stderr + r.stdout and "Error" not in r.stderr, str(r)
            message = json.loads(r.stdout)["message"] if extra else r.stdout.splitlines()[0]
            assert message.startswith(f"VM web-01 has no state in Icinga ({why})"), message


def test_rootcause_bounds_what_it_prints_of_a_huge_reply(cloud):
    """A 5 MB plugin output (and a 5 MB one-line one) is shown as its bounded first line, not 4 times over;
    a reply nested deeper than the JSON parser goes is one line, exit 2 (not Icinga: a configuration to
    fix, as in deploy)."""
    for output in ("VIO VM CRITICAL - " + "A" * 5_000_000, "B" * 5_000_000 + "\nlong output\n" * 100_000):
        with _Icinga(_reply(1.0, output)) as api:
            for extra in ((), ("--json",)):
                r = cloud.run("vio-icinga", "rootcause", "web-01", *extra, "--api-url", api.url,
                              env={"VIO_ICINGA_API_PASSWORD": "x"})
                assert r.rc == 0 and "Traceback" not in r.stderr, r.stderr[-500:]
                assert len(r.stdout) < 20_000, len(r.stdout)
                assert max(len(line) for line in r.stdout.splitlines()) < 2_000
    with _Icinga(b"[" * 100_000 + b"]" * 100_000) as api:
        r = cloud.run("vio-icinga", "rootcause", "web-01", "--api-url", api.url, "--retries", "0",
                      env={"VIO_ICINGA_API_PASSWORD": "x"})
    assert r.rc == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr[-500:]
    assert "not JSON" in r.stderr and len(r.stderr) < 1000, r.stderr
