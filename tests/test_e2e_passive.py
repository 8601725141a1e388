"""End to end in passive mode (`vio-icinga generate/deploy --mode passive` + `vio-icinga push`): the same
faults as tests/test_e2e_icinga.py and test_e2e_nagios.py, every result submitted by the pusher, judged by
the real Icinga 2 (process-check-result API) and Nagios 4 (external command file).

Each push round resends every problem, so a round is one more check attempt: `push_drive` pushes until
nothing is SOFT. The attempts of the shipped templates still make a parent HARD before its children, and the
pusher delivers parents first, so the dependency tree suppresses the same objects as in active mode.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import time

import pytest
from conftest import CloudEnv
from icinga_e2e import (
    API_PASSWORD,
    DOWN,
    E2E_SCENARIO,
    HARD,
    NAGIOS4,
    OK,
    PREFIX,
    Icinga2,
    Nagios4,
    require,
    running,
    wait_for,
)
from test_e2e_icinga import assert_only_nova_compute_alerts, icinga_pki  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

PASSIVE = ("--mode", "passive")


@pytest.fixture
def passive(make_cloud, icinga_pki, tmp_path):  # noqa: F811
    """(cloud, icinga): the e2e cloud swept, Icinga 2 with its objects deployed in passive mode."""
    cloud: CloudEnv = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", icinga_pki, cloud.env)
    with running(icinga):
        yield cloud, icinga


def healthy(core) -> None:
    objs = core.push_drive(core.cloud, *PASSIVE)
    bad = [str(o) for o in objs.values() if o.state != OK or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert core.notifications() == []


def test_passive_hypervisor_down_only_its_nova_compute_alerts(passive):
    cloud, icinga = passive
    icinga.cloud = cloud
    icinga.deploy(cloud, *PASSIVE, expect_host=PREFIX)
    healthy(icinga)
    assert all(o.output and not o.output.startswith("no result") for o in icinga.objects().values())
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    assert_only_nova_compute_alerts(icinga, icinga.push_drive(cloud, *PASSIVE))


def test_passive_api_down_only_the_cloud_host_alerts(passive):
    """No inventory at all: the pusher still reports on the cloud host (as check_vio_discovery does) and on
    every object it pushed before (UNKNOWN, as each check answers then), every round; only the cloud host
    notifies, everything else is unreachable below it."""
    cloud, icinga = passive
    icinga.cloud = cloud
    icinga.deploy(cloud, *PASSIVE, expect_host=PREFIX)
    healthy(icinga)
    cloud.sim.stop()
    time.sleep(2.2)  # the inventory is now past the --max-stale the pusher runs with
    objs = icinga.push_drive(cloud, *PASSIVE, "--max-age", "1s", "--max-stale", "2s")
    cloud_host = objs[PREFIX]
    assert (cloud_host.state, cloud_host.state_type, cloud_host.reachable) == (DOWN, HARD, True), str(cloud_host)
    assert "past --max-stale 2 s: last sweep failed" in cloud_host.output and "Connection refused" in \
        cloud_host.output, str(cloud_host)
    assert icinga.notified() == [PREFIX], icinga.report()
    for o in objs.values():
        if o.name != PREFIX:
            assert o.state != OK and not o.reachable, str(o)
            assert o.output.startswith("VIO UNKNOWN - inventory ") and "past --max-stale" in o.output, str(o)


def test_pusher_stopped_is_one_root_problem(passive):
    """The pusher loops (1 s interval, 4 s ttl), then stops. Within the heartbeat (3 intervals) the cloud
    host turns DOWN "no result from vio-icinga push", alone notified; within the ttl every other object
    turns UNKNOWN (hosts DOWN) with the same text, unreachable below it, and none of them notifies, up to
    HARD."""
    cloud, icinga = passive
    icinga.deploy(cloud, *PASSIVE, "--push-interval", "1s", "--push-ttl", "4s", expect_host=PREFIX)
    proc = subprocess.Popen(cloud.command("vio-icinga", "push", *icinga.push_args(), *PASSIVE, "--interval", "1s",
                                          "--ttl", "4s"),
                            env={**cloud.env, "VIO_ICINGA_API_PASSWORD": API_PASSWORD}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        for _ in range(3):  # three rounds: everything UP/OK
            line = proc.stdout.readline()
            assert line.startswith("vio-icinga push: ") and " 0 errors" in line, line
        objs = icinga.objects()
        assert all(o.state == OK and o.hard and o.checked for o in objs.values()), icinga.report()
        icinga.enable_checks()  # the stale checks run on their own schedule from now on
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
    stopped = time.monotonic()

    def stale(o) -> bool:
        return o.output.startswith("no result from vio-icinga push for ")

    wait_for(lambda: icinga.objects()[PREFIX].hard and stale(icinga.objects()[PREFIX]), 30,
             "the cloud host to turn DOWN (HARD) with the pusher's silence")
    host = icinga.objects()[PREFIX]
    assert (host.state, host.reachable) == (DOWN, True) and host.output == \
        "no result from vio-icinga push for 3 s", str(host)
    assert time.monotonic() - stopped < 3 + 4 + 5
    wait_for(lambda: all(stale(o) for o in icinga.objects().values()), 30, "every object to turn stale")
    wait_for(lambda: all(o.hard for o in icinga.objects().values()), 60, "every object HARD")
    icinga.quiet()
    for o in icinga.objects().values():
        assert o.state != OK, str(o)
        if o.name != PREFIX:
            assert o.output == "no result from vio-icinga push for 4 s" and not o.reachable, str(o)
    assert icinga.notified() == [PREFIX], icinga.report()


# --- Nagios 4: the command file ---------------------------------------------------------------------------


@pytest.fixture
def nagios_passive(make_cloud, tmp_path):
    require(NAGIOS4, "nagios4-core")
    cloud: CloudEnv = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    core = Nagios4(tmp_path / "nagios", cloud.env)
    core.root.mkdir(parents=True)
    core.generate(cloud, *PASSIVE)
    core.cloud = cloud
    with running(core):
        yield cloud, core


def test_nagios_passive_hypervisor_down(nagios_passive):
    """As test_e2e_nagios.test_nagios_hypervisor_down, every result through the external command file."""
    cloud, core = nagios_passive
    healthy(core)
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    objs = core.push_drive(cloud, *PASSIVE)
    root = f"{PREFIX}!nova-compute@vio-compute-01"
    hv = core.one("hypervisor", vio_compute_host="vio-compute-01")
    assert objs[root].state == 2 and objs[root].hard
    assert (objs[hv.name].state, objs[hv.name].state_type, objs[hv.name].reachable) == (DOWN, HARD, True)
    notified = [n for n in core.notified() if objs[n].vars.get("vio_kind") != "aggregate"]
    assert notified == sorted([root, hv.name]), core.report()
    vms = core.find("vm", vio_compute_host="vio-compute-01")
    assert len(vms) == 2
    for vm in vms:
        assert (vm.state, vm.state_type, vm.reachable) == (DOWN, HARD, False), str(vm)  # UNREACHABLE
    assert not set(core.notified()) & {o.name for o in core.below(hv.name)}, core.report()
    other = core.one("hypervisor", vio_compute_host="vio-compute-02")
    for o in [other, *core.below(other.name)]:
        assert o.state == 0 and o.reachable, str(o)
