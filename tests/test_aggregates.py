"""One rule for sets (issue 20, item 1): every aggregate in the product, enumerated from the one registry of
checks (vio_checks.checks.CHECKS), given one member of each non-OK state, one unverified member, one
duplicated record and one unknown value, shows each in its state and status line.

In process: model records in an inventory, judged through each check's SPEC exactly as its executable
(`judge_result`, `render_verdict`), so the vSphere kinds need no vCenter.
"""

from __future__ import annotations

import configparser
import time
from pathlib import Path

import pytest

from vio_checks.checks import CHECKS, aggregate_checks, spec_of
from vio_checks.checks.base import build_parser, judge_result, render_verdict
from vio_checks.freshness import Result
from vio_checks.icinga import COMMAND_MODULES, bulk
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.esxi import judge_hosts, on_esxi
from vio_checks.judge.verdict import State, Verdict
from vio_checks.model import (
    Agent,
    Hypervisor,
    Inventory,
    Meta,
    Network,
    Port,
    Router,
    Server,
    Service,
    Volume,
)
from vio_checks.optional_records import Certificate, Image, LoadBalancer, Stack
from vio_checks.vsphere.records import Datastore, EsxHost, VSphereMeta

REPO = Path(__file__).resolve().parent.parent
NOW = time.time()
HV = "domain-c8.5f2e"
OLD = NOW - 7200  # older than any --stuck-after default


class _Snap:
    """cache.Snapshot's reads over an in-memory Inventory (wrapped by bulk.MemorySnapshot for get/find)."""

    def __init__(self, inv: Inventory) -> None:
        self.inv, self.meta, self.store, self.gen, self.layout = inv, inv.meta, None, 1, {}

    def age(self, now=None):
        return 0.0

    def all(self, kind):
        return list(self.inv.of_kind(kind))


def _inventory() -> Inventory:
    inv = Inventory(meta=Meta(cloud="c", region=None, fetched_at=NOW, seconds=1.0, requests=1,
                              vsphere=VSphereMeta()))
    inv.hypervisors = [Hypervisor("hv1", HV, "VMware vCenter Server", "up", "enabled", "cmp-01")]
    inv.compute_services = [Service("cs1", "nova", "nova-compute", "cmp-01", status="enabled", state="up")]
    inv.networks = [Network("net", "private", "p")]
    inv.meta.services = {"image": True, "orchestration": True}  # the optional services' aggregates judge
    return inv


# What makes one member of each kind OK, WARNING, CRITICAL, UNKNOWN (judged: an unknown value), unverified.
# Keyed by the kind a SPEC's `members` names: a new aggregate fails test_every_aggregate_has_a_recipe.
def _servers(inv, state):
    base = dict(project_id="p", status="ACTIVE", power_state=1, host="cmp-01", hypervisor_hostname=HV,
                host_status="UP", updated=OLD)
    base.update({"ok": {}, "warning": dict(status="MIGRATING", task_state="migrating"),
                 "critical": dict(status="ERROR"), "unknown": dict(status="NEW_STATUS"),
                 "unverified": dict(status="", missing=("status",))}[state])
    return Server(f"vm-{state}", f"{state} 01", **base)


def _volumes(inv, state):
    status = {"ok": "available", "warning": "attaching", "critical": "error", "unknown": "new-status",
              "unverified": ""}[state]
    return Volume(f"vol-{state}", f"{state} 01", "p", status, 1, "ctl@vmdk#vmdk", updated=OLD,
                  missing=("status",) if state == "unverified" else ())


def _ports(inv, state):
    if not any(s.id == "vm-host" for s in inv.servers):
        inv.servers.append(Server("vm-host", "host vm", "p", "ACTIVE", power_state=1, host="cmp-01",
                                  hypervisor_hostname=HV, host_status="UP", updated=OLD))
    status = {"ok": "ACTIVE", "warning": "BUILD", "critical": "ERROR", "unknown": "NEW", "unverified": ""}[state]
    return Port(f"port-{state}", f"{state} 01", "p", "net", "vm-host", "compute:nova", status,
                updated=OLD, missing=("status",) if state == "unverified" else ())


def _routers(inv, state):
    if not inv.agents:
        inv.agents = [Agent("l3-a", "neutron-l3-agent", "L3 agent", "net-01", alive=True),
                      Agent("l3-b", "neutron-l3-agent", "L3 agent", "net-02", alive=False)]
    if state == "unknown":  # issue 20's example: an HA router whose ha_state Neutron did not report
        return Router("r-unknown", "unknown 01", "p", "ACTIVE", ha=True, agent_ids=["l3-a"])
    if state == "unverified":
        return None  # a router has no reporter rule yet (issue 20, item 3)
    agents = {"ok": ["l3-a"], "warning": ["l3-a", "l3-b"], "critical": ["l3-a"]}[state]
    status = "ERROR" if state == "critical" else "ACTIVE"
    return Router(f"r-{state}", f"{state} 01", "p", status, ha=False, agent_ids=agents)


def _hypervisors(inv, state):
    inv.compute_services.append(Service(f"cs-{state}", "nova", "nova-compute", f"cmp-{state}",
                                        status="enabled", state="down" if state == "critical" else "up"))
    kw = dict(memory_mb=1000, memory_mb_used=100, local_gb=100, local_gb_used=10, vcpus=10, vcpus_used=1)
    kw.update({"warning": dict(memory_mb_used=920), "critical": dict(state="down"),
               "unknown": dict(state="new-state")}.get(state, {}))
    h = Hypervisor(f"hv-{state}", f"domain-c{state}.5f2e", "VMware vCenter Server", kw.pop("state", "up"),
                   "enabled" if state != "unverified" else "", f"cmp-{state}", **kw)
    if state == "unverified":
        h.missing = ("status",)
    return h


def _esxi_hosts(inv, state):
    kw = {"ok": {}, "warning": dict(maintenance=True), "critical": dict(connection_state="notResponding"),
          "unknown": dict(overall_status="gray"),  # issue 20: "gray" must not vanish from the cluster verdict
          "unverified": dict(connection_state="", missing=("runtime.connectionState",))}[state]
    base = dict(cluster="domain-c8", connection_state="connected", power_state="poweredOn", maintenance=False,
                overall_status="green")
    base.update(kw)
    return EsxHost(f"host-{state}", f"esx {state}", **base)


def _datastores(inv, state):
    gib = 2**30
    kw = {"ok": dict(accessible=True, capacity=100 * gib, free=50 * gib),
          "warning": dict(accessible=True, capacity=100 * gib, free=10 * gib),
          "critical": dict(accessible=False, capacity=100 * gib, free=50 * gib),
          "unknown": dict(accessible="maybe", capacity=100 * gib, free=50 * gib),
          "unverified": dict(accessible=None, capacity=100 * gib, free=50 * gib,
                             missing=("summary.accessible",))}[state]
    return Datastore(f"datastore-{state}", f"ds {state}", "VMFS", **kw)


def _services(inv, state):
    kw = {"ok": {}, "warning": dict(status="disabled", disabled_reason="maintenance"),
          "critical": dict(state="down"), "unknown": dict(state="new-state"),
          "unverified": dict(state="", missing=("state",))}[state]
    base = dict(status="enabled", state="up", updated=NOW)
    base.update(kw)
    # a per-resource binary: judged record by record (the controller clusters: test_every_cluster_state...)
    return Service(f"s-{state}", "nova", "nova-compute", f"cmp-{state}", **base)


def _load_balancers(inv, state):
    inv.meta.services = {"load-balancer": True}
    kw = {"ok": {}, "warning": dict(operating_status="DEGRADED"), "critical": dict(provisioning_status="ERROR"),
          "unknown": dict(operating_status="SHINY"),
          "unverified": dict(provisioning_status="", missing=("provisioning_status",))}[state]
    base = dict(provisioning_status="ACTIVE", operating_status="ONLINE", updated=OLD)
    base.update(kw)
    return LoadBalancer(f"lb-{state}", f"{state} 01", **base)


def _images(inv, state):
    status = {"ok": "active", "warning": "queued", "critical": "killed", "unknown": "new-status",
              "unverified": ""}[state]
    return Image(f"img-{state}", f"{state} 01", "p", status, updated=OLD,
                 missing=("status",) if state == "unverified" else ())


def _stacks(inv, state):
    status = {"ok": "CREATE_COMPLETE", "warning": "UPDATE_IN_PROGRESS", "critical": "CREATE_FAILED",
              "unknown": "NEW_STATUS", "unverified": ""}[state]
    return Stack(f"stack-{state}", f"{state} 01", "p", status, "Resource CREATE failed", updated=OLD,
                 missing=("stack_status",) if state == "unverified" else ())


def _certificates(inv, state):
    kw = {"ok": dict(not_after=NOW + 100 * 86400, verified=True),
          "warning": dict(not_after=NOW + 20 * 86400, verified=True),
          "critical": dict(not_after=NOW + 100 * 86400, verified=False, verify_error="unknown issuer"),
          "unknown": dict(error="cannot connect: Connection refused"),
          "unverified": dict(missing=("not_after",))}[state]
    return Certificate(f"{state} 01:443", f"{state} 01", 443, ("compute",), **kw)


#: members kind → (record maker, the inventory list it goes to, extra arguments of the check)
RECIPES = {
    "servers": (_servers, "servers", ()),
    "volumes": (_volumes, "volumes", ()),
    "ports": (_ports, "ports", ()),
    "routers": (_routers, "routers", ()),
    "hypervisors": (_hypervisors, "hypervisors", ()),
    "esxi_hosts": (_esxi_hosts, "esxi_hosts", ()),
    "datastores": (_datastores, "datastores", ()),
    "certificates": (_certificates, "certificates", ()),
    "services": (_services, "compute_services", ("--component", "nova", "--warn-disabled")),
    "load_balancers": (_load_balancers, "load_balancers", ()),
    "images": (_images, "images", ()),
    "stacks": (_stacks, "stacks", ()),
}
STATES = ("ok", "warning", "critical", "unknown", "unverified")


def _run(check: str, inv: Inventory, *args: str) -> tuple[str, int]:
    spec = spec_of(check)
    ns = build_parser(spec).parse_args(["--cache-only", *args])
    verdict = judge_result(spec, ns, Result(bulk.MemorySnapshot(_Snap(inv))), NOW)
    return render_verdict(spec.title, verdict)


def test_the_registry_is_the_one_list_of_checks():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    scripts = [line.split("=")[0].strip() for line in cfg["options.entry_points"]["console_scripts"].splitlines()
               if line.strip().startswith("check_vio_")]
    assert sorted(CHECKS) == sorted(s.removeprefix("check_vio_") for s in scripts)
    assert sorted(CHECKS) == sorted(COMMAND_MODULES.values())
    assert set(aggregate_checks()) == {"service", "hypervisor", "vm", "volume", "interface", "router", "esxi",
                                       "datastore", "loadbalancer", "image", "stack", "certificate"}


def test_every_aggregate_has_a_recipe():
    missing = {spec_of(c).members for c in aggregate_checks()} - set(RECIPES)
    assert not missing, f"a new aggregate: add its members' recipe to RECIPES: {missing}"


@pytest.mark.parametrize("check", aggregate_checks())
def test_every_aggregate_shows_each_member_it_could_not_call_ok(check):
    make, where, extra = RECIPES[spec_of(check).members]
    inv = _inventory()
    records = [r for r in (make(inv, s) for s in STATES) if r is not None]
    getattr(inv, where).extend([*records, records[0]])  # the OK one listed twice: a sweep anomaly
    if where != "esxi_hosts":
        inv.esxi_hosts = []
    text, code = _run(check, inv, *extra)
    status = text.splitlines()[0].split("|")[0]
    # the worst member sets the state; each non-OK member and the set's anomalies are in the status line
    assert code == 2 and " CRITICAL - " in status, text
    for shown in ("1 CRITICAL", "WARNING", "1 duplicate record counted once"):
        assert shown in status, (shown, text)
    if len(records) == len(STATES):
        assert "1 unverified" in status or "2 unverified" in status, text
    assert "critical 01" in status or "cmp-critical" in status or "esx critical" in status \
        or "ds critical" in status or "domain-ccritical" in status, text
    # counted once
    perf = dict(p.split("=", 1) for p in text.splitlines()[0].split("|", 1)[1].split()) \
        if check != "service" else {}
    if perf:
        unique = len({x.id for x in getattr(inv, where)})
        assert perf["total"].split(";")[0] == str(unique) and perf["duplicates"].startswith("1;"), text

    # -w/-c count problems, but the UNKNOWN / unverified members still keep the set from reading OK
    if check not in ("service", "esxi", "certificate"):  # their -w/-c are not counts
        text, code = _run(check, inv, *extra, "-w", "5", "-c", "10")
        assert code in (1, 3) and "OK - " not in text.splitlines()[0], text
    # the unknown value: never OK (a judged UNKNOWN member, or counted unverified)
    assert "1 UNKNOWN" in status or f"{len(records) - 3} unverified" in status, status


#: A controller cluster (judge/cluster.py) per state: its members' states → the cluster's state and line.
CLUSTERS = {
    "ok": (("up", "up", "up"), State.OK, "1 nova cluster OK (nova-conductor 3 up)"),
    "warning": (("up", "up", "down"), State.WARNING, "reduced redundancy: 2 of 3 members up"),
    "at risk": (("up", "down", "down"), State.WARNING, "at risk: 1 of 3 members up"),
    "critical": (("down", "down", "down"), State.CRITICAL, "all components down: 0 of 3 members up"),
    "unverified": (("down", "down", ""), State.UNKNOWN, "none of 3 members verified up"),
    "undocumented": (("down", "new-state", "down"), State.UNKNOWN, "none of 3 members verified up"),
}


@pytest.mark.parametrize("case", CLUSTERS)
def test_every_cluster_state_shows_in_the_services_aggregate(case):
    """The services aggregate judges a controller binary as one cluster: each state reaches the aggregate's
    state and status line, unverified members never count as up, a duplicated record is counted once."""
    members, state, line = CLUSTERS[case]
    inv = _inventory()
    for i, st in enumerate(members):
        inv.compute_services.append(Service(f"c{i}", "nova", "nova-conductor", f"ctl-{i}", status="enabled",
                                            state=st, updated=NOW, missing=("state",) if st == "" else ()))
    inv.compute_services.append(inv.compute_services[-1])  # listed twice: one member
    for args in (("--component", "nova"), ("--binary", "nova-conductor")):
        text, code = _run("service", inv, *args)
        status = text.splitlines()[0].split("|")[0]
        assert code == state.value and f" {state.name} - " in status, text
        assert line in status or (state == State.OK and "cluster nova-conductor: all 3 members up" in status), text
        if state != State.OK:
            assert "1 duplicate record counted once" in status, text


def _v(state: State, unverified: bool = False, cause: str | None = None) -> Verdict:
    v = Verdict(unverified=unverified)
    v.cause = cause
    v.add(state, f"x {state.name}")
    return v


# --- focused: each bug of item 1 -------------------------------------------------------------------------


def test_a_judged_unknown_member_is_never_dropped():
    members = [Member("a", "a", _v(State.OK)), Member("b", "b", _v(State.UNKNOWN))]
    v = aggregate(members, "routers")
    assert v.state == State.UNKNOWN and v.summary.startswith("1 UNKNOWN of 2 routers"), v.summary
    # -w/-c count WARNING and CRITICAL members; the UNKNOWN still shows, and the set is not OK
    v = aggregate(members, "routers", warning="1", critical="2")
    assert v.state == State.UNKNOWN and "1 UNKNOWN" in v.summary
    # a WARNING from the ranges outranks it, and it is still named
    members.append(Member("c", "c", _v(State.CRITICAL)))
    v = aggregate(members, "routers", warning="0", critical="5")
    assert v.state == State.WARNING and "1 CRITICAL, 1 UNKNOWN of 3 routers" in v.summary


def test_the_router_with_an_unreported_ha_state_makes_the_set_unknown():
    inv = _inventory()
    inv.agents = [Agent("l3-a", "neutron-l3-agent", "L3 agent", "net-01", alive=True)]
    inv.routers = [Router("r1", "ok 01", "p", "ACTIVE", ha=False, agent_ids=["l3-a"]),
                   Router("r2", "ha 01", "p", "ACTIVE", ha=True, agent_ids=["l3-a"])]
    text, code = _run("router", inv)
    assert code == 3 and text.startswith("VIO ROUTER UNKNOWN - 1 UNKNOWN of 2 routers: ha 01"), text


def test_a_set_with_nothing_judged_is_unknown():
    unverified = [Member(str(i), str(i), _v(State.UNKNOWN, True, "hypervisor h down")) for i in range(2)]
    v = aggregate(unverified, "hypervisors")
    assert (v.state, v.summary) == (State.UNKNOWN, "none of 2 hypervisors verified, 2 unverified "
                                                   "(hypervisor h down: 2)")
    assert aggregate([Member("a", "a", _v(State.UNKNOWN))], "VMs").state == State.UNKNOWN
    # accepted (their cause is reported by the dependency tree): not a problem here, and it says so
    v = aggregate(unverified, "hypervisors", accept_unverified=True)
    assert v.state == State.OK and v.summary.startswith("none of 2 hypervisors verified, 2 unverified, accepted")
    # an empty set is a fact of a trusted inventory
    assert (aggregate([], "VMs").state, aggregate([], "VMs").summary) == (State.OK, "no VMs in the inventory")


def test_unverified_members_warn_with_their_causes_unless_accepted():
    members = [Member("a", "a", _v(State.OK)),
               *(Member(f"u{i}", f"u{i}", _v(State.UNKNOWN, True, "hypervisor domain-c10 down")) for i in range(3)),
               Member("m", "m", _v(State.UNKNOWN, True, "Nova reported no status"))]
    v = aggregate(members, "VMs")
    assert (v.state, v.summary) == (State.WARNING, "1 of 5 VMs OK, 4 unverified (hypervisor domain-c10 down: 3; "
                                                   "Nova reported no status: 1)")
    assert any(line.startswith("UNVERIFIED: x UNKNOWN") for line in v.details)
    v = aggregate(members, "VMs", accept_unverified=True)
    assert v.state == State.OK and "4 unverified, accepted (" in v.summary
    # a member with no object of its own (uncovered) is never accepted
    v = aggregate(members, "VMs", accept_unverified=True, uncovered=frozenset({"m"}))
    assert v.state == State.WARNING and "4 unverified, 3 accepted" in v.summary


def test_a_duplicated_record_is_counted_once_and_noted():
    ok, bad = _v(State.OK), _v(State.CRITICAL)
    v = aggregate([Member("a", "web", ok), Member("a", "web", bad), Member("b", "db", _v(State.OK))], "VMs")
    assert v.state == State.CRITICAL  # the copies disagree: the worse one is judged
    assert v.summary.startswith("1 CRITICAL of 2 VMs, 1 duplicate record counted once: x CRITICAL"), v.summary
    perf = {p.label: p for p in v.perf}
    assert (perf["total"].value, perf["duplicates"].value, perf["duplicates"].min) == (2, 1, 0)
    assert any("duplicate records in the sweep" in d and "web (a) x2" in d for d in v.details)
    twenty = [Member(f"vm{i % 10}", f"vm{i % 10}", _v(State.OK)) for i in range(20)]
    assert aggregate(twenty, "VMs").summary == "all 10 VMs OK, 10 duplicate records counted once"


def test_a_vm_check_counts_a_duplicated_server_once():
    inv = _inventory()
    inv.servers = [_servers(inv, "ok")] * 2 + [_servers(inv, "critical")]
    text, code = _run("vm", inv)
    assert code == 2 and text.startswith("VIO VM CRITICAL - 1 CRITICAL of 2 VMs, 1 duplicate record"), text
    assert "active=1;" in text  # the per-status perfdata counts it once too


def test_the_esxi_aggregate_does_not_lose_a_gray_host():
    hosts = [_esxi_hosts(None, "ok"), _esxi_hosts(None, "unknown")]
    v = judge_hosts(hosts, "cluster C")
    assert v.state == State.UNKNOWN and v.summary.startswith("cluster C: 2 of 2 ESXi hosts connected, 1 UNKNOWN")
    assert "gray" in v.summary
    # -c on connected hosts: satisfied, yet the gray host keeps the set from reading OK
    assert judge_hosts(hosts, "cluster C", critical="1:").state == State.UNKNOWN


def test_a_vm_name_is_passed_to_on_esxi_never_cut_from_text():
    ok = Verdict()
    ok.add(State.OK, "web 01 is ACTIVE and running")
    down = _esxi_hosts(None, "critical")
    v = on_esxi(ok, down, name="web 01")
    assert v.summary == "web 01: ESXi host esx critical is not responding: state unverified", v.summary
    # through the check: a VM named with a space, on a down ESXi host
    from vio_checks.vsphere.records import VsVm

    inv = _inventory()
    inv.servers = [_servers(inv, "ok")]
    inv.servers[0].name = "web 01"
    inv.esxi_hosts = [down]
    inv.vsphere_vms = [VsVm("vm-1", "web 01", host=down.moref)]
    inv.vsphere_vms[0].server_id = inv.servers[0].id
    text, code = _run("vm", inv)
    assert code == 3 and "1 unverified (ESXi host esx critical is not responding: 1)" in text, text
    assert "UNVERIFIED: web 01: ESXi host esx critical is not responding: state unverified" in text, text
