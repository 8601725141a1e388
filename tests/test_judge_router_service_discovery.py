"""In-process tests of the router, service and discovery judges (hand-built records, frozen time)."""

from __future__ import annotations

import argparse
import time

import pytest
from freezegun import freeze_time

from vio_checks.cache import Store
from vio_checks.checks import discovery as discovery_check
from vio_checks.checks import service as service_check
from vio_checks.judge.discovery import DiscoveryOptions, judge_discovery, judge_unavailable
from vio_checks.judge.router import RouterOptions, judge_router
from vio_checks.judge.service import (
    ServiceOptions,
    Services,
    expectations,
    judge_endpoint,
    judge_one,
    judge_service,
    judge_services,
)
from vio_checks.judge.verdict import State
from vio_checks.model import KINDS, Agent, Endpoint, Inventory, Meta, Router, Service

NOW = 1795516920.0  # 2026-11-24 10:42:00 UTC


def perf(v):
    return {p.label: p for p in v.perf}


# --- router ----------------------------------------------------------------------------------------


def l3(aid, host, alive=True, admin=True):
    return Agent(id=aid, binary="neutron-l3-agent", agent_type="L3 agent", host=host, alive=alive,
                 admin_state_up=admin, heartbeat=NOW - 600)


def router(**kw):
    base = dict(id="r1", name="router-a", status="ACTIVE")
    base.update(kw)
    return Router(**base)


def agents(*items):
    return {a.id: a for a in items}


def test_router_nsx_ok_on_its_own_status():
    v = judge_router(router(), {}, RouterOptions(), NOW)
    assert v.state == State.OK
    assert v.summary == "router-a is ACTIVE (NSX, no L3 agents)"
    assert "agents_alive" not in perf(v)
    assert any("judged on the router's own status" in d for d in v.details)


def test_router_error_is_critical():
    v = judge_router(router(status="ERROR"), {}, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.CRITICAL, "router-a is ERROR")


def test_router_admin_down_ok_noted_or_warning_on_request():
    """A deliberate admin action is OK by default, with the fact in the status line (as other checks)."""
    v = judge_router(router(admin_state_up=False), {}, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.OK, "router-a is ACTIVE (admin down) (NSX, no L3 agents)")
    v = judge_router(router(admin_state_up=False), {}, RouterOptions(warn_disabled=True), NOW)
    assert (v.state, v.summary) == (State.WARNING, "router-a is admin down")
    # a deliberate admin action does not hide an ERROR
    v = judge_router(router(admin_state_up=False, status="ERROR"), {}, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.CRITICAL, "router-a is ERROR")


def test_router_allocating_is_warning():
    v = judge_router(router(status="ALLOCATING"), {}, RouterOptions(), NOW)
    assert v.state == State.WARNING and "ALLOCATING" in v.summary


def test_router_hosted_by_alive_agents():
    ags = agents(l3("a1", "net-01"), l3("a2", "net-02"))
    v = judge_router(router(ha=True, agent_ids=["a1", "a2"], ha_states={"a1": "active", "a2": "standby"}),
                     ags, RouterOptions(), NOW)
    assert v.state == State.OK
    assert v.summary == "router-a is ACTIVE, 2 of 2 hosting L3 agents alive"
    p = perf(v)
    assert (p["agents_alive"].value, p["agents_alive"].max, p["agents_total"].value) == (2, 2, 2)


def test_router_ha_one_agent_dead_is_warning():
    ags = agents(l3("a1", "net-01"), l3("a2", "net-02", alive=False))
    v = judge_router(router(ha=True, agent_ids=["a1", "a2"]), ags, RouterOptions(), NOW)
    assert v.state == State.WARNING
    assert v.summary == "router-a: HA router with 1 of 2 hosting L3 agents dead: neutron-l3-agent@net-02"
    assert perf(v)["agents_alive"].value == 1


def test_router_all_agents_dead_is_critical():
    ags = agents(l3("a1", "net-01", alive=False), l3("a2", "net-02", alive=False))
    v = judge_router(router(ha=True, agent_ids=["a1", "a2"]), ags, RouterOptions(), NOW)
    assert v.state == State.CRITICAL
    assert v.summary.startswith("router-a: no alive L3 agent (2 hosting, all dead: ")


def test_router_not_hosted_when_agents_exist():
    ags = agents(l3("a1", "net-01"))
    v = judge_router(router(), ags, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.CRITICAL, "router-a is not hosted by any L3 agent")
    assert perf(v)["agents_total"].value == 0
    # admin down: only the admin state counts
    v = judge_router(router(admin_state_up=False), ags, RouterOptions(warn_disabled=True), NOW)
    assert (v.state, v.summary) == (State.WARNING, "router-a is admin down")
    v = judge_router(router(admin_state_up=False), ags, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.OK, "router-a is ACTIVE (admin down), not hosted by any L3 agent")


def test_router_non_l3_agents_do_not_count():
    dhcp = Agent(id="d1", binary="neutron-dhcp-agent", agent_type="DHCP agent", host="net-01", alive=True)
    v = judge_router(router(), agents(dhcp), RouterOptions(), NOW)
    assert v.state == State.OK and "NSX" in v.summary


def ha_router(states, *, alive=("a1", "a2"), dead=(), **kw):
    """An HA router hosted by a1, a2 (and the dead agents), with Neutron's ha_state per agent."""
    ags = agents(*(l3(a, f"net-{a}") for a in alive), *(l3(a, f"net-{a}", alive=False) for a in dead))
    return router(ha=True, agent_ids=sorted(ags), ha_states=states, **kw), ags


def test_router_ha_active_on_one_agent_ok():
    r, ags = ha_router({"a1": "active", "a2": "standby"})
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.OK, "router-a is ACTIVE, 2 of 2 hosting L3 agents alive")
    assert (perf(v)["agents_active"].value, perf(v)["agents_active"].max) == (1, 2)
    assert "L3 agent neutron-l3-agent@net-a1 alive, HA active" in v.details
    assert "L3 agent neutron-l3-agent@net-a2 alive, HA standby" in v.details


def test_router_ha_no_active_agent_is_critical():
    r, ags = ha_router({"a1": "standby", "a2": "standby"})
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert v.state == State.CRITICAL
    assert v.summary == ("router-a: HA router with no active L3 agent (2 alive: neutron-l3-agent@net-a1 standby, "
                         "neutron-l3-agent@net-a2 standby)")
    assert perf(v)["agents_active"].value == 0
    # a dead agent's stale "active" does not serve the router: still no active one among the alive
    r, ags = ha_router({"a1": "standby", "a2": "active"}, alive=("a1",), dead=("a2",))
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert v.state == State.CRITICAL
    assert "HA router with no active L3 agent (1 alive: neutron-l3-agent@net-a1 standby)" in v.summary


def test_router_ha_split_brain_is_critical():
    r, ags = ha_router({"a1": "active", "a2": "active"})
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert v.state == State.CRITICAL
    assert v.summary == ("router-a: HA router active on 2 L3 agents (split brain): neutron-l3-agent@net-a1, "
                         "neutron-l3-agent@net-a2")
    assert perf(v)["agents_active"].value == 2


def test_router_ha_active_with_dead_standby_is_warning():
    r, ags = ha_router({"a1": "active", "a2": "unknown"}, alive=("a1",), dead=("a2",))
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert v.state == State.WARNING
    assert v.summary == "router-a: HA router with 1 of 2 hosting L3 agents dead: neutron-l3-agent@net-a2"


def test_router_ha_state_not_reported_is_unknown_never_ok():
    r, ags = ha_router({})
    v = judge_router(r, ags, RouterOptions(), NOW)
    assert (v.state, v.summary) == (State.UNKNOWN, "router-a: HA router whose ha_state Neutron did not report")


def test_router_ha_admin_down_or_nsx_not_judged_on_ha_state():
    # admin down: keepalived stops, every agent is standby; that is the admin's doing
    r, ags = ha_router({"a1": "standby", "a2": "standby"}, admin_state_up=False)
    assert judge_router(r, ags, RouterOptions(), NOW).state == State.OK
    # non-HA router hosted by one agent: no ha_state at all
    v = judge_router(router(agent_ids=["a1"]), agents(l3("a1", "net-01")), RouterOptions(), NOW)
    assert v.state == State.OK and "agents_active" not in perf(v)
    # NSX: no agents, no HA state
    assert judge_router(router(ha=True), {}, RouterOptions(), NOW).state == State.OK


HOSTILE = [
    "evil\nVIO ROUTER OK - all fine | agents_alive=2;;;0;2",
    "pipe|in|name",
    "nul\x00byte\r\x1b[31mred",
    "x" * 10_000,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_router_cloud_strings_are_inert(name):
    ags = {name: Agent(id=name, binary=name, agent_type="L3 agent", host=name, alive=False, heartbeat=NOW)}
    r = router(id=name, name=name, project_id=name, external_network_id=name, status="ERROR",
               ha=True, agent_ids=[name, "gone\n|x"], ha_states={name: name})
    for v in (judge_router(r, ags, RouterOptions(), NOW), judge_router(r, {}, RouterOptions(), NOW)):
        for line in [f.text for f in v.findings] + v.details:
            assert "\n" not in line and "\r" not in line and "|" not in line and "\x00" not in line, line
            assert "\x1b" not in line
            assert len(line) < 1200, len(line)


def test_router_unnamed_uses_id():
    v = judge_router(router(name="", status="ERROR"), {}, RouterOptions(), NOW)
    assert v.summary == "r1 is ERROR"


# --- service ---------------------------------------------------------------------------------------


def svc(binary, host, state="up", status="enabled", reason=None, component=None, **kw):
    component = component or binary.split("-", 1)[0]
    return Service(id=f"{binary}@{host}", component=component, binary=binary, host=host, state=state,
                   status=status, disabled_reason=reason, updated=NOW - 300, **kw)


def agent(binary, host, alive=True, admin=True):
    return Agent(id=f"{binary}@{host}", binary=binary, agent_type="", host=host, alive=alive,
                 admin_state_up=admin, heartbeat=NOW - 300)


def endpoint(stype, url, ok=True, status=200, latency=0.05, error=None):
    return Endpoint(service_type=stype, url=url, ok=ok, status_code=status, latency=latency, error=error)


def cloud(**kw):
    found = Services(
        nova=[svc("nova-scheduler", "ctl-01"), svc("nova-scheduler", "ctl-02"),
              svc("nova-conductor", "ctl-01"), svc("nova-conductor", "ctl-02"),
              svc("nova-compute", "cmp-01"), svc("nova-compute", "cmp-02")],
        cinder=[svc("cinder-scheduler", "ctl-01"), svc("cinder-scheduler", "ctl-02"),
                svc("cinder-volume", "cinder@vmdk")],
        agents=[],
        endpoints=[endpoint("identity", "https://vio/identity/v3"), endpoint("compute", "https://vio:8774")],
    )
    for k, v in kw.items():
        setattr(found, k, v)
    return found


@freeze_time("2026-11-24 10:42:00")
def test_service_down_is_critical_since():
    now = time.time()
    s = svc("nova-scheduler", "ctl-01", state="down")
    s.updated = now - 120
    v = judge_service(s, ServiceOptions(), now)
    assert v.state == State.CRITICAL
    assert v.summary == f"nova-scheduler@ctl-01 is down since {time.strftime('%H:%M', time.localtime(now - 120))}"


def test_service_disabled_ok_with_reason_or_warning():
    s = svc("nova-compute", "cmp-01", status="disabled", reason="maintenance")
    v = judge_service(s, ServiceOptions(), NOW)
    assert (v.state, v.summary) == (State.OK, "nova-compute@cmp-01 is disabled: maintenance")
    assert judge_service(s, ServiceOptions(warn_disabled=True), NOW).state == State.WARNING


def test_service_disabled_by_vmware_driver_is_vcenter_unreachable():
    s = svc("nova-compute", "cmp-01", status="disabled", reason="set by vmwareapi host_state")
    for opts in (ServiceOptions(), ServiceOptions(warn_disabled=True)):
        v = judge_service(s, opts, NOW)
        assert v.state == State.CRITICAL and "vCenter unreachable" in v.summary


def test_agent_states():
    assert judge_one(agent("neutron-l3-agent", "net-01"), ServiceOptions(), NOW).state == State.OK
    v = judge_one(agent("neutron-l3-agent", "net-01", alive=False), ServiceOptions(), NOW)
    assert v.state == State.CRITICAL and v.summary.startswith("neutron-l3-agent@net-01 is not alive")
    assert perf(v)["neutron-l3-agent_up"].value == 0 and perf(v)["neutron-l3-agent_down"].value == 1
    v = judge_one(agent("neutron-l3-agent", "net-01", alive=False, admin=False), ServiceOptions(), NOW)
    assert (v.state, v.summary) == (State.OK, "neutron-l3-agent@net-01 is admin down (not alive)")


def test_endpoint_failed_names_it():
    v = judge_endpoint(endpoint("compute", "https://vio:8774", ok=False, status=503, error=None))
    assert (v.state, v.summary) == (State.CRITICAL, "compute endpoint https://vio:8774 failed: HTTP 503")
    v = judge_endpoint(endpoint("image", "https://vio:9292", ok=False, status=None, latency=None,
                                error="connection refused"))
    assert v.summary == "image endpoint https://vio:9292 failed: connection refused"


def test_services_all_ok_line_and_perf():
    v = judge_services(cloud(), ServiceOptions(), NOW)
    assert v.state == State.OK
    # controller binaries are clusters (judge/cluster.py), the others records
    assert v.summary == ("2 nova clusters OK (nova-conductor 2 up, nova-scheduler 2 up); all 2 nova services OK; "
                         "no neutron agents in the inventory (NSX); 1 cinder cluster OK (cinder-scheduler 2 up); "
                         "1 cinder service OK; all 2 public endpoints OK")
    assert "OK: cluster nova-conductor: all 2 members up" in v.details
    p = perf(v)
    assert p["nova-scheduler_up"].value == 2 and p["nova-scheduler_up"].crit == "1:"
    assert p["nova-scheduler_down"].value == 0 and p["cinder-volume_up"].value == 1
    assert p["identity_latency"].value == 0.05 and p["identity_latency"].uom == "s"
    assert "total" not in p  # the per-component aggregates' perfdata would collide


def test_services_worst_problem_leads():
    found = cloud()
    found.nova[4] = svc("nova-compute", "cmp-01", status="disabled", reason="maintenance")
    found.cinder[2] = svc("cinder-volume", "cinder@vmdk", state="down")
    v = judge_services(found, ServiceOptions(warn_disabled=True), NOW)
    assert v.state == State.CRITICAL
    assert v.summary.startswith("1 CRITICAL of 1 cinder service: cinder-volume@cinder@vmdk is down since")
    assert "maintenance" not in v.summary  # the WARNING is in the long output
    assert any("WARNING: nova-compute@cmp-01 is disabled: maintenance" in d for d in v.details)


def test_services_disabled_noted_when_ok():
    found = cloud()
    found.nova[4] = svc("nova-compute", "cmp-01", status="disabled", reason="maintenance")
    v = judge_services(found, ServiceOptions(), NOW, components=["nova"])
    assert v.state == State.OK and v.summary.endswith("all 2 nova services OK (1 disabled)")
    assert "OK: nova-compute@cmp-01 is disabled: maintenance" in v.details
    assert perf(v)["nova-compute_disabled"].value == 1


def test_services_keystone_endpoint_failure():
    found = cloud(endpoints=[endpoint("identity", "https://vio/identity/v3"),
                             endpoint("compute", "https://vio:8774", ok=False, status=503)])
    v = judge_services(found, ServiceOptions(), NOW, components=["keystone"])
    assert v.state == State.CRITICAL
    assert v.summary == "1 CRITICAL of 2 public endpoints: compute endpoint https://vio:8774 failed: HTTP 503"


def test_expectations_preset_and_override():
    present = {"nova-scheduler", "nova-conductor", "cinder-scheduler", "cinder-volume"}
    ha = expectations(ServiceOptions(deployment_mode="ha"), present, ["nova", "cinder", "neutron"])
    assert ha == {"nova-scheduler": 2, "nova-conductor": 2, "cinder-scheduler": 2, "cinder-volume": 1}
    opts = ServiceOptions(deployment_mode="ha", expect={"nova-scheduler": 3, "nova-compute": 2})
    assert expectations(opts, present, ["nova"]) == {"nova-scheduler": 3, "nova-conductor": 2,
                                                       "nova-compute": 2}
    assert expectations(ServiceOptions(deployment_mode="tiny"), present | {"neutron-dhcp-agent"},
                        ["neutron"]) == {"neutron-dhcp-agent": 1}
    assert expectations(ServiceOptions(), present, ["nova"]) == {}


def test_expected_count_short_is_critical():
    found = cloud()
    found.nova[1] = svc("nova-scheduler", "ctl-02", state="down")
    v = judge_services(found, ServiceOptions(deployment_mode="ha"), NOW, components=["nova"])
    # a cluster (judge/cluster.py): one of two left is at risk, a WARNING; none is CRITICAL
    assert v.state == State.WARNING
    assert "cluster nova-scheduler: at risk: 1 of 2 members up" in v.summary
    p = perf(v)["nova-scheduler_up"]
    assert (p.value, p.warn, p.crit, p.max) == (1, "2:", "1:", 2)
    # a per-resource binary keeps the count rule
    found.nova[4] = svc("nova-compute", "cmp-01", state="down")
    v = judge_services(found, ServiceOptions(expect={"nova-compute": 2}), NOW, components=["nova"])
    assert v.state == State.CRITICAL and "nova-compute: 1 of 2 up" in v.summary


def test_expected_binary_missing():
    v = judge_services(cloud(), ServiceOptions(expect={"nova-consoleauth": 1}), NOW, components=["nova"])
    assert "nova-consoleauth: none in the inventory, 1 expected" in v.summary
    v = judge_services(cloud(), ServiceOptions(expect={"nova-scheduler": 3}), NOW, components=["nova"])
    assert "cluster nova-scheduler: reduced redundancy: 2 of 3 members up (1 expected member not reported)" \
        in v.summary


def test_filter_by_binary_and_host():
    found = cloud()
    found.nova[1] = svc("nova-scheduler", "ctl-02", state="down")
    v = judge_services(found, ServiceOptions(deployment_mode="ha"), NOW, binary="nova-scheduler")
    assert v.state == State.WARNING and "nova-scheduler: at risk: 1 of 2 members up" in v.summary
    assert set(perf(v)) == {f"nova-scheduler_{p}" for p in ("up", "expected", "down", "unverified", "stale",
                                                            "replaced")}
    v = judge_services(found, ServiceOptions(deployment_mode="ha"), NOW, host="ctl-01")
    assert v.state == State.OK and "of 2 up" not in v.summary  # no counts by host
    assert "cinder-scheduler_up" in perf(v) and "identity_latency" not in perf(v)
    v = judge_services(found, ServiceOptions(), NOW, binary="nova-spicehtml5proxy")
    assert (v.state, v.summary) == (State.UNKNOWN, "no service or agent nova-spicehtml5proxy in the inventory")


# --- discovery -------------------------------------------------------------------------------------


def meta(fetched_at, **kw):
    counts = {k: 0 for k in KINDS} | {"hypervisors": 3, "servers": 15, "volumes": 4, "endpoints": 6}
    base = dict(cloud="vio", region=None, fetched_at=fetched_at, seconds=1.234, requests=23, counts=counts)
    base.update(kw)
    return Meta(**base)


OPTS = DiscoveryOptions(max_age=120, max_stale=900)


@freeze_time("2026-11-24 10:42:00")
def test_discovery_ok():
    now = time.time()
    v = judge_discovery(meta(now - 42), {"ok_at": now - 42}, OPTS, now)
    assert v.state == State.OK
    assert v.summary.startswith("inventory 42 s old, last sweep 1.2 s, 23 requests: 3 hypervisors, 15 VMs, "
                                "4 volumes, 0 ports")
    assert "agents" not in v.summary  # zero agents (NSX) are left out of the status line
    p = perf(v)
    assert (p["age"].value, p["age"].uom, p["age"].warn, p["age"].crit) == (42, "s", "240", "900")
    assert (p["sweep_seconds"].value, p["sweep_seconds"].uom) == (1.234, "s")
    assert p["requests"].value == 23 and p["servers"].value == 15 and p["agents"].value == 0


@pytest.mark.parametrize("age_s,state", [(240, State.OK), (241, State.WARNING), (900, State.WARNING),
                                         (901, State.CRITICAL)])
def test_discovery_age_boundaries(age_s, state):
    with freeze_time("2026-11-24 10:42:00") as frozen:
        fetched = time.time()
        frozen.tick(age_s)
        v = judge_discovery(meta(fetched), {}, OPTS, time.time())
    assert v.state == state, v.summary
    if state == State.WARNING:
        assert "more than twice --max-age 2 min: refreshes are falling behind" in v.summary
    if state == State.CRITICAL:
        assert "past --max-stale 15 min" in v.summary


@freeze_time("2026-11-24 10:42:00")
def test_discovery_last_sweep_failed():
    now = time.time()
    status = {"ok_at": now - 60, "attempt_at": now - 5, "error": "compute: HTTP 503", "error_at": now - 5}
    v = judge_discovery(meta(now - 60), status, OPTS, now)
    assert v.state == State.CRITICAL
    assert v.summary.startswith("last sweep failed at ") and "compute: HTTP 503; inventory 60 s old" in v.summary
    # an error older than the snapshot was since replaced by a good sweep
    status = {"ok_at": now - 10, "error": "compute: HTTP 503", "error_at": now - 30}
    assert judge_discovery(meta(now - 10), status, OPTS, now).state == State.OK


def test_discovery_unavailable_is_critical():
    v = judge_unavailable("no inventory: sweep failed: HTTP 503", {"error": "HTTP 503", "error_at": NOW},
                          NOW)
    assert (v.state, v.summary) == (State.CRITICAL, "no inventory: sweep failed: HTTP 503")
    assert "no sweep has succeeded with this cache" in v.details


def _discovery_args(tmp_path, *extra):
    from vio_checks.checks.base import build_parser

    return build_parser(discovery_check.SPEC).parse_args(
        ["--os-cloud", "vio", "--cache-dir", str(tmp_path), *extra])


def test_discovery_check_warns_when_the_timer_falls_behind(tmp_path, capsys):
    """The whole check in-process: a --cache-only inventory five minutes old with --max-age 2m → WARNING."""
    from vio_checks.checks.base import run
    from vio_checks.open_inventory import store_for

    with freeze_time("2026-11-24 10:42:00") as frozen:
        args = _discovery_args(tmp_path)
        store = store_for(args)
        store.store(Inventory(meta=meta(time.time())))
        store.close()
        frozen.tick(300)
        with pytest.raises(SystemExit) as exit_:
            run(discovery_check.SPEC, ["--os-cloud", "vio", "--cache-dir", str(tmp_path), "--cache-only",
                                       "--max-age", "2m"])
    out = capsys.readouterr().out
    assert exit_.value.code == 1, out
    assert out.startswith("VIO DISCOVERY WARNING - inventory 5 min old, more than twice --max-age 2 min")
    assert "age=300s;240;900;0" in out


def test_discovery_check_no_inventory_is_critical(tmp_path, capsys):
    from vio_checks.checks.base import run

    with pytest.raises(SystemExit) as exit_:
        run(discovery_check.SPEC, ["--os-cloud", "vio", "--cache-dir", str(tmp_path), "--cache-only"])
    out = capsys.readouterr().out
    assert exit_.value.code == 2, out
    assert out.startswith("VIO DISCOVERY CRITICAL - no inventory in the cache (--cache-only")


def test_service_options_validation():
    from vio_checks.checks.base import build_parser

    parser = build_parser(service_check.SPEC)

    def validate(*argv):
        service_check.SPEC.validate(parser.parse_args(list(argv)))

    validate("--expect", "nova-scheduler=2", "--deployment-mode", "ha")
    with pytest.raises(ValueError, match="cinder binary"):
        validate("--component", "nova", "--expect", "cinder-scheduler=2")
    with pytest.raises(ValueError, match="not keystone"):
        validate("--component", "keystone", "--binary", "nova-compute")
    with pytest.raises(argparse.ArgumentTypeError):
        service_check.expect_arg("nova-scheduler")
    with pytest.raises(argparse.ArgumentTypeError):
        service_check.expect_arg("nova-scheduler=-1")
    assert service_check.expect_arg(" nova-scheduler = 2") == ("nova-scheduler", 2)


def test_store_roundtrip_keeps_meta_counts(tmp_path):
    store = Store(tmp_path / "ns")
    store.store(Inventory(meta=meta(NOW)))
    snap = store.current()
    v = judge_discovery(snap.meta, store.status(), OPTS, NOW + 1)
    assert v.state == State.OK and perf(v)["hypervisors"].value == 3
    store.close()
