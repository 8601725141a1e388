"""End to end: a real Icinga 2 runs our real checks against the simulator with the config `vio-icinga deploy`
uploads, and suppresses what the dependency tree says it should.

Every assertion reads what Icinga itself decided, through its API: host/service state, state type,
`last_reachable`, and the notifications it really sent (a NotificationCommand appending to a file). Checks
run only when a test forces them (`reschedule-check`), parents before children, each until HARD (see
tests/icinga_e2e.py). Each test gets its own simulator and its own Icinga 2.

The aggregate services on the cloud host (nova-services, routers, interfaces, ...) judge the same objects as
the per-object checks, but the generator tells them to leave what those objects report to them
(`--ignore-states`, `--exclude-binary`): "the only notification" in each scenario includes them.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import CloudEnv
from icinga_e2e import (
    API_PASSWORD,
    BIN,
    DOWN,
    E2E_SCENARIO,
    HARD,
    ICINGA2,
    ICINGA_DIR,
    OK,
    PREFIX,
    UP,
    Icinga2,
    assert_one_parent_each,
    cluster_story,
    ha_router_story,
    make_pki,
    require,
    running,
    wait_for,
)

from vio_checks.icinga import settings

pytestmark = pytest.mark.e2e

VCENTER_LOST = "set by vmwareapi host_state"


@pytest.fixture(scope="session")
def icinga_pki(tmp_path_factory):
    """A CA and an API certificate, made once by icinga2 itself (about 2 s)."""
    require(ICINGA2, "icinga2-bin icinga2-common")
    return make_pki(tmp_path_factory.mktemp("icinga-pki"))


@pytest.fixture
def e2e(make_cloud, icinga_pki, tmp_path, request):
    """(cloud, icinga): the e2e cloud swept, Icinga 2 started with its objects deployed, nothing checked yet."""
    cloud: CloudEnv = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", icinga_pki, cloud.env)
    try:
        with running(icinga):
            icinga.deploy(cloud, expect_host=PREFIX)
            yield cloud, icinga
    finally:
        _record(request, icinga)


def _record(request, core) -> None:
    """The daemon's start, deploy and drive times, shown with -rA / in junit XML."""
    request.node.user_properties.append(("timings", json.dumps({k: round(v, 2) for k, v in core.timings.items()})))


def healthy(icinga: Icinga2) -> dict:
    """Drive every check once on the healthy cloud: every host UP, every service OK, no notification."""
    objs = icinga.drive()
    bad = [str(o) for o in objs.values() if o.state != OK or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert icinga.notifications() == []
    return objs


def assert_suppressed(icinga: Icinga2, names, why: str) -> None:
    """Each object is unreachable in Icinga's eyes and got no notification."""
    objs = icinga.objects()
    notified = set(icinga.notified())
    for name in names:
        o = objs[name]
        assert not o.reachable, f"{why}: {o} should be unreachable\n{icinga.report()}"
        assert name not in notified, f"{why}: {name} was notified\n{icinga.report()}"


def root_notifications(icinga: Icinga2, scenario: str) -> list[str]:
    """Every problem notification Icinga sent (aggregates included: one fault must page once)."""
    return icinga.notified()


def assert_only_nova_compute_alerts(icinga, objs) -> str:
    """Scenario 2's outcome (nova-compute on vio-compute-01 down), however the results reached Icinga: the
    service alone notifies; its hypervisor, VMs and their services are DOWN/HARD, unreachable and quiet;
    the other cluster is untouched. Returns the service's name."""
    root = f"{PREFIX}!nova-compute@vio-compute-01"
    assert objs[root].state == 2 and objs[root].hard and objs[root].reachable, str(objs[root])
    assert root_notifications(icinga, "hypervisor down") == [root], icinga.report()

    hv = icinga.one("hypervisor", vio_compute_host="vio-compute-01")
    assert (hv.state, hv.state_type, hv.reachable) == (DOWN, HARD, False), str(hv)
    vms = icinga.find("vm", vio_compute_host="vio-compute-01")
    assert len(vms) == 2 and all(vm.state == DOWN and vm.hard for vm in vms), [str(v) for v in vms]
    below = icinga.below(hv.name)
    assert {o.name for o in vms} <= {o.name for o in below}
    assert {o.vars["vio_kind"] for o in below} == {"capacity", "vm", "interface", "volume"}
    assert_suppressed(icinga, [hv.name, *(o.name for o in below)], "below the down hypervisor")

    other = icinga.one("hypervisor", vio_compute_host="vio-compute-02")
    for o in [other, *icinga.below(other.name)]:
        assert o.state == OK and o.reachable, str(o)
    return root


# --- 1. healthy ---------------------------------------------------------------------------------------------


def test_healthy_cloud_everything_up_and_ok(e2e):
    cloud, icinga = e2e
    objs = healthy(icinga)
    kinds = sorted({o.vars.get("vio_kind") for o in objs.values()})
    assert kinds == ["aggregate", "capacity", "cloud", "cluster", "compute-service", "hypervisor", "interface",
                     "l3-agent", "l3-agents", "router", "vm", "volume", "volume-service"]
    assert all(o.hard and o.checked for o in objs.values())
    # the generated tree as Icinga loaded it: each VM below its hypervisor, each hypervisor below its
    # nova-compute service, each interface below the router of its network
    parents = icinga.parents()
    for vm in icinga.find("vm"):
        hv = icinga.one("hypervisor", vio_compute_host=vm.vars["vio_compute_host"])
        assert parents[vm.name] == {hv.name}
    for hv in icinga.find("hypervisor"):
        assert parents[hv.name] == {f"{PREFIX}!nova-compute@{hv.vars['vio_compute_host']}"}
    # one parent per Dependency child, as Icinga loaded them: the HA router's is its l3-agents set
    dependency_parents = assert_one_parent_each(icinga)
    ha = icinga.one("router", vio_name="router-a")
    assert dependency_parents[ha.name] == icinga.one("l3-agents", vio_router="router-a").name
    # each nova-compute service below the nova-conductor cluster (it reports through it); one service per
    # controller cluster, keyed by binary
    conductor = icinga.one("cluster", vio_binary="nova-conductor").name
    assert all(dependency_parents[s.name] == conductor for s in icinga.find("compute-service"))
    assert sorted(o.vars["vio_binary"] for o in icinga.find("cluster")) == ["cinder-scheduler", "neutron-dhcp-agent",
                                                                            "nova-conductor", "nova-scheduler"]


# --- 2. a hypervisor goes down --------------------------------------------------------------------------------


def test_hypervisor_down_only_its_nova_compute_alerts(e2e):
    cloud, icinga = e2e
    healthy(icinga)
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    objs = icinga.drive()
    root = assert_only_nova_compute_alerts(icinga, objs)

    # vio-icinga rootcause reads the same story from Icinga's live states
    api = [*icinga.deploy_args(), "--api-user", "e2e"]
    r = cloud.run("vio-icinga", "rootcause", "web-01", *api, env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD})
    assert r.rc == 0, str(r)
    assert r.lines[0].startswith("VM web-01 is unreachable because hypervisor domain-c8 (vio-compute-01) is "
                                 "DOWN since "), str(r)
    assert "(cause: nova-compute on vio-compute-01 CRITICAL" in r.lines[0], str(r)
    assert r.lines[1].startswith("chain (live states from https://")
    r = cloud.run("vio-icinga", "rootcause", "web-01", "--json", *api, env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD})
    data = json.loads(r.stdout)
    assert data["source"] == "icinga" and data["cause"]["name"] == root
    assert data["object"]["reachable"] is False and data["object"]["state"] == "DOWN"


def test_a_child_ahead_of_its_parent_is_held_until_the_parent_is_judged(e2e):
    """The race one more attempt cannot win alone: the hypervisor turns HARD while its nova-compute service,
    checked late, is only SOFT. The hypervisor is unreachable already and does not notify; the service alone
    does once HARD."""
    cloud, icinga = e2e
    healthy(icinga)
    root = f"{PREFIX}!nova-compute@vio-compute-01"
    hv = icinga.one("hypervisor", vio_compute_host="vio-compute-01").name
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    objs = icinga.check([root])
    assert objs[root].problem and not objs[root].hard, str(objs[root])
    icinga.settle([hv])
    icinga.quiet()
    objs = icinga.objects()
    assert (objs[hv].state, objs[hv].hard, objs[hv].reachable) == (DOWN, True, False), str(objs[hv])
    assert icinga.notifications() == [], icinga.report()
    icinga.settle([root])
    icinga.quiet()
    assert icinga.notified() == [root], icinga.report()


def test_a_held_notification_goes_out_when_the_parent_recovers_and_the_child_does_not(e2e):
    """A VM in ERROR turns HARD while its hypervisor has one failed check: held. The hypervisor recovers, the
    VM does not: the VM is its own root cause now, and Icinga sends the notification it held."""
    cloud, icinga = e2e
    healthy(icinga)
    hv = icinga.one("hypervisor", vio_compute_host="vio-compute-01").name
    vm = icinga.one("vm", vio_name="web-01").name
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sim.patch("servers", "web-01", status="ERROR", fault={"message": "disk full", "code": 500})
    cloud.sweep()
    assert icinga.check([hv])[hv].state == DOWN
    icinga.settle([vm])
    icinga.quiet()
    objs = icinga.objects()
    assert (objs[vm].state, objs[vm].hard, objs[vm].reachable) == (DOWN, True, False), str(objs[vm])
    assert icinga.notifications() == [], icinga.report()

    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="up")
    cloud.sweep()
    assert icinga.check([hv])[hv].state == UP
    assert icinga.check([vm])[vm].state == DOWN  # after the parent's recovery: Icinga waits for this check
    wait_for(lambda: vm in icinga.notified(), 30, f"the held notification of {vm}")
    icinga.quiet()
    assert icinga.notified() == [vm], icinga.report()


# --- 3. vCenter lost --------------------------------------------------------------------------------------------


def test_vcenter_lost_nova_compute_is_the_root(e2e):
    cloud, icinga = e2e
    healthy(icinga)
    # The VMware driver disables its own service when it loses vCenter; both clusters are in one vCenter.
    for host in ("vio-compute-01", "vio-compute-02"):
        cloud.sim.patch("compute_services", f"nova-compute@{host}", status="disabled", disabled_reason=VCENTER_LOST)
    cloud.sweep()
    objs = icinga.drive()

    roots = [f"{PREFIX}!nova-compute@vio-compute-01", f"{PREFIX}!nova-compute@vio-compute-02"]
    for root in roots:
        assert objs[root].state == 2 and objs[root].reachable, str(objs[root])
        assert "vCenter" in objs[root].output, str(objs[root])
    assert root_notifications(icinga, "vCenter lost") == roots, icinga.report()
    for hv in icinga.find("hypervisor"):
        assert hv.state == DOWN and hv.hard, str(hv)
        assert_suppressed(icinga, [hv.name, *(o.name for o in icinga.below(hv.name))], "below vCenter")
    assert all(vm.state == DOWN and vm.hard for vm in icinga.find("vm"))


# --- 4. the API is down -----------------------------------------------------------------------------------------


def test_api_down_only_discovery_alerts(e2e):
    cloud, icinga = e2e
    healthy(icinga)
    # The API answers 503 to everything: the next sweep (vio-discover from its timer) fails.
    cloud.sim.fault(".*", status=503)
    r = cloud.run("vio-discover", "-t", "3")
    assert r.rc == 2, str(r)
    objs = icinga.drive()
    cloud_host = objs[PREFIX]
    assert (cloud_host.state, cloud_host.state_type, cloud_host.reachable) == (DOWN, HARD, True), str(cloud_host)
    assert "sweep failed" in cloud_host.output
    assert icinga.notified() == [PREFIX], icinga.report()
    everything_else = [n for n in objs if n != PREFIX]
    assert_suppressed(icinga, everything_else, "API down")

    # Past --max-stale the checks have no inventory left and fail themselves (simulated by stopping the
    # API for good and discarding the cached inventory): still one notification, nothing else alerts.
    cloud.sim.stop()
    for path in cloud.cache_dir.iterdir():
        _remove(path)
    objs = icinga.drive()
    failing = [o for o in objs.values() if o.state != OK]
    assert len(failing) > len(objs) // 2, icinga.report()  # the checks themselves fail now ...
    assert icinga.notified() == [PREFIX], icinga.report()  # ... and Icinga keeps quiet about them
    assert_suppressed(icinga, everything_else, "API down, no inventory")


def _remove(path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


# --- 5. a VM migrates -------------------------------------------------------------------------------------------


def test_migrated_vm_follows_its_new_hypervisor_after_redeploy(e2e):
    cloud, icinga = e2e
    healthy(icinga)
    vm = icinga.one("vm", vio_name="web-01")
    hv1 = icinga.one("hypervisor", vio_compute_host="vio-compute-01")
    hv2 = icinga.one("hypervisor", vio_compute_host="vio-compute-02")
    assert icinga.parents()[vm.name] == {hv1.name}

    cloud.sim.migrate("web-01", to="vio-compute-02")
    cloud.sweep()
    # generate sees the change ...
    out = cloud.cache_dir.parent / "generated"
    out.mkdir()
    assert cloud.run("vio-icinga", "generate", "--output", str(out)).rc == 1
    # ... and deploy uploads it as a new stage; Icinga reloads
    icinga.deploy(cloud, expect_host=vm.name)
    assert icinga.parents()[vm.name] == {hv2.name}
    assert icinga.one("vm", vio_name="web-01").vars["vio_compute_host"] == "vio-compute-02"

    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    objs = icinga.drive()
    assert objs[hv1.name].state == DOWN and not objs[hv1.name].reachable
    moved = objs[vm.name]
    assert (moved.state, moved.reachable) == (UP, True), str(moved)  # no longer behind the failed cluster
    for svc in icinga.below(vm.name):
        assert svc.state == OK and svc.reachable, str(svc)
    stayed = icinga.one("vm", vio_name="db-01")
    assert stayed.state == DOWN and not stayed.reachable, str(stayed)
    assert root_notifications(icinga, "VM migrated") == [f"{PREFIX}!nova-compute@vio-compute-01"], icinga.report()


# --- 6. a router fails ------------------------------------------------------------------------------------------


def test_router_failure_makes_interfaces_on_its_network_unreachable(e2e):
    cloud, icinga = e2e
    healthy(icinga)
    router = icinga.one("router", vio_name="router-b")
    # The router fails, and with it the VM ports on its network (so their failures are there to suppress).
    cloud.sim.patch("routers", "router-b", status="ERROR")
    for port in ("db-01-eth0", "db-02-eth0"):
        cloud.sim.patch("ports", port, status="DOWN")
    cloud.sweep()
    objs = icinga.drive()

    assert (objs[router.name].state, objs[router.name].reachable) == (DOWN, True), str(objs[router.name])
    assert root_notifications(icinga, "router failed") == [router.name], icinga.report()
    on_net_b = icinga.find("interface", vio_network="net-b")
    assert len(on_net_b) == 2
    for port in on_net_b:
        assert port.state == 2 and port.hard, str(port)  # failing, HARD ...
    assert_suppressed(icinga, [p.name for p in on_net_b], "behind the failed router")  # ... and suppressed
    for vm in icinga.find("vm"):
        assert vm.state == UP and vm.reachable, str(vm)  # the VMs themselves are fine
    for port in icinga.find("interface", vio_network="net-a"):
        assert port.state == OK and port.reachable, str(port)


# --- 6b. an HA router and its L3 agents ---------------------------------------------------------------------


def test_ha_router_standby_dies_then_error_then_both_agents_dead(e2e, request):
    """The HA router depends on its L3 agents as one set (the l3-agents service) alone, so the same file
    means the same on Icinga 2.13 and 2.14: the standby's death is the set's WARNING only (the router stays
    reachable), the router's later ERROR pages once, both agents dead is the set's CRITICAL once."""
    cloud, icinga = e2e
    timings = ha_router_story(cloud, icinga)
    request.node.user_properties.append(("story", json.dumps({k: round(v, 2) for k, v in timings.items()})))


# --- 6c. the nova-conductor cluster ---------------------------------------------------------------------------


def test_conductor_cluster_one_down_warns_once_all_down_pages_once(e2e, request):
    """Issue 23 on the real icinga2: one conductor of two down is one WARNING and nothing else; all down is
    one CRITICAL notification (the cluster) and every nova-compute service, hypervisor and VM below it is
    unreachable; then recovery."""
    cloud, icinga = e2e
    timings = cluster_story(cloud, icinga)
    request.node.user_properties.append(("story", json.dumps({k: round(v, 2) for k, v in timings.items()})))


# --- 7. a cluster fills up --------------------------------------------------------------------------------------


def test_full_cluster_alerts_on_capacity_while_its_hypervisor_stays_up(e2e):
    """The hypervisor host judges state only (`--state-only`); its capacity service runs the same command and
    must not inherit that flag from the host's vars: RAM at 96 % is the capacity service's CRITICAL."""
    cloud, icinga = e2e
    healthy(icinga)
    hv = icinga.one("hypervisor", vio_compute_host="vio-compute-01")
    capacity = f"{hv.name}!capacity"
    cloud.sim.patch("hypervisors", "vio-compute-01", memory_mb_used=int(262144 * 0.96))
    cloud.sweep()
    objs = icinga.drive()

    assert objs[capacity].state in (1, 2) and objs[capacity].hard and objs[capacity].reachable, str(objs[capacity])
    assert "ram" in objs[capacity].output.lower() or "memory" in objs[capacity].output.lower(), str(objs[capacity])
    assert (objs[hv.name].state, objs[hv.name].reachable) == (UP, True), str(objs[hv.name])
    assert root_notifications(icinga, "cluster full") == [capacity], icinga.report()
    for o in icinga.below(hv.name):
        if o.name != capacity:
            assert o.state == OK and o.reachable, str(o)


# --- settings given once ------------------------------------------------------------------------------------


def test_settings_given_to_deploy_reach_every_check(e2e):
    """Cache settings given to `vio-icinga deploy` once are on every generated object, host and service, and
    Icinga runs every check executable with them (read from the command line Icinga itself ran)."""
    cloud, icinga = e2e
    icinga.deploy(cloud, "--max-age", "10m", "--max-stale", "1h", "--cache-only", expect_host=PREFIX)
    healthy(icinga)
    data = []
    for plural in ("hosts", "services"):
        data += icinga.api("GET", f"/v1/objects/{plural}", {"attrs": ["__name", "last_check_result", "vars"]})[
            "results"]
    ran = 0
    for r in data:
        a = r["attrs"]
        assert a["vars"]["vio_max_age"] == "600s" and a["vars"]["vio_cache_only"] is True, a["__name"]
        command = a["last_check_result"]["command"]
        if a["vars"].get("vio_kind") == "backend":  # the container hosts run Icinga's dummy
            continue
        assert isinstance(command, list) and command[0].startswith(str(BIN)), (a["__name"], command)
        i = command.index("--max-age")
        assert command[i + 1] == "600s" and command[command.index("--max-stale") + 1] == "3600s", command
        assert "--cache-only" in command, command
        ran += 1
    assert ran > 25


# --- from a fault to its notification, on Icinga's own timers ---------------------------------------------------

#: Every interval of the shipped templates and --max-age divided by this: the delay formula scales with it.
SCALE = 20


def scaled_templates(path) -> Path:
    """icinga/templates.conf with each check and retry interval divided by SCALE."""
    units = {"s": 1, "m": 60, "h": 3600}

    def scaled(m: re.Match) -> str:
        return f"{m.group(1)} = {int(m.group(2)) * units[m.group(3)] / SCALE:g}s"

    text = re.sub(r"\b(check_interval|retry_interval) = (\d+)([smh])\b", scaled,
                  (ICINGA_DIR / "templates.conf").read_text())
    path.write_text(text)
    return path


def test_fault_to_notification_within_the_formula(make_cloud, icinga_pki, tmp_path):
    """Icinga 2 schedules every check itself (timers on), with the intervals and --max-age of the defaults
    divided by SCALE: a nova-compute service that goes down notifies within README's formula
    max_age + check_interval + (attempts - 1) x retry_interval (scaled), and alone."""
    cloud: CloudEnv = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", icinga_pki, cloud.env)
    icinga.timers = True
    icinga.templates = scaled_templates(tmp_path / "templates-scaled.conf")
    max_age = settings.DEFAULT_MAX_AGE / SCALE
    with running(icinga):
        icinga.deploy(cloud, "--max-age", f"{max_age:g}s", expect_host=PREFIX)
        wait_for(lambda: all(o.checked and o.state == OK and o.hard for o in icinga.objects().values()), 90,
                 "every object checked and OK on Icinga's own timers")
        assert icinga.notifications() == []
        root = f"{PREFIX}!nova-compute@vio-compute-01"
        bound = settings.notification_delay("vio-cloud-service") / SCALE
        started = time.monotonic()
        cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
        wait_for(lambda: root in icinga.notified(), 4 * bound, f"the notification of {root}")
        elapsed = time.monotonic() - started
        # sweep and check run times come on top of the formula (README): a few seconds on 2 busy cores
        assert elapsed <= bound + 5, f"{elapsed:.1f} s > {bound:.1f} s (+5 s for the runs)"
        time.sleep(bound)  # everything below has had the time to turn HARD too
        icinga.quiet()
        assert icinga.notified() == [root], icinga.report()
        print(f"fault → notification: {elapsed:.1f} s (formula: {bound:.1f} s, 1/{SCALE} of the defaults)")
