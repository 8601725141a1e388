"""End to end with Nagios 4: the same cloud and faults as test_e2e_icinga, with `vio-icinga generate --format
nagios` (host `parents` and servicedependencies), our checks run by a real nagios4.

Nagios has no API: checks are forced through its external command file (SCHEDULE_FORCED_*_CHECK), states
read from status.dat, and notifications are what a test notify command wrote to a file.

Nagios cannot make a host depend on a service: a hypervisor's parent is the cloud host (its nova-compute
service lives there), so when a nova-compute service fails the hypervisor host itself is DOWN, not
UNREACHABLE, and notifies too; everything below it is UNREACHABLE and quiet.
"""

from __future__ import annotations

import copy
import shutil

import pytest
from conftest import CloudEnv
from icinga_e2e import DOWN, E2E_SCENARIO, HARD, NAGIOS4, PREFIX, Nagios4, require, running

pytestmark = pytest.mark.e2e


@pytest.fixture
def nagios(make_cloud, tmp_path):
    """(cloud, nagios): the e2e cloud swept, its Nagios objects generated, nagios4 started, nothing checked."""
    require(NAGIOS4, "nagios4-core")
    cloud: CloudEnv = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    core = Nagios4(tmp_path / "nagios", cloud.env)
    core.root.mkdir(parents=True)
    core.generate(cloud)
    with running(core):
        yield cloud, core


def healthy(core: Nagios4) -> None:
    objs = core.drive()
    bad = [str(o) for o in objs.values() if o.state != 0 or not o.reachable]
    assert not bad, "not everything is UP/OK on the healthy cloud:\n" + "\n".join(bad)
    assert core.notifications() == []


def non_aggregate(core: Nagios4) -> list[str]:
    objs = core.objects()
    return [n for n in core.notified() if objs[n].vars.get("vio_kind") != "aggregate"]


def test_nagios_hypervisor_down(nagios):
    cloud, core = nagios
    healthy(core)
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    objs = core.drive()

    root = f"{PREFIX}!nova-compute@vio-compute-01"
    hv = core.one("hypervisor", vio_compute_host="vio-compute-01")
    assert objs[root].state == 2 and objs[root].hard
    assert (objs[hv.name].state, objs[hv.name].state_type, objs[hv.name].reachable) == (DOWN, HARD, True)
    # the service and (Nagios cannot do better, see the module docstring) its hypervisor host
    assert non_aggregate(core) == sorted([root, hv.name]), core.report()
    vms = core.find("vm", vio_compute_host="vio-compute-01")
    assert len(vms) == 2
    for vm in vms:
        assert (vm.state, vm.state_type, vm.reachable) == (DOWN, HARD, False), str(vm)  # UNREACHABLE
    below = core.below(hv.name)
    assert {o.name for o in vms} <= {o.name for o in below}
    notified = set(core.notified())
    assert not notified & {o.name for o in below}, core.report()
    other = core.one("hypervisor", vio_compute_host="vio-compute-02")
    for o in [other, *core.below(other.name)]:
        assert o.state == 0 and o.reachable, str(o)


def test_nagios_api_down(nagios):
    """The API stops answering for longer than --max-stale (simulated by stopping it and discarding the
    cached inventory): every check fails, and only the cloud host (check_vio_discovery) notifies."""
    cloud, core = nagios
    healthy(core)
    cloud.sim.stop()
    for path in cloud.cache_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    objs = core.drive()
    cloud_host = objs[PREFIX]
    assert (cloud_host.state, cloud_host.state_type, cloud_host.reachable) == (DOWN, HARD, True), str(cloud_host)
    assert "no inventory" in cloud_host.output
    assert core.notified() == [PREFIX], core.report()
    hosts = [o for o in objs.values() if o.type == "Host" and o.name != PREFIX]
    for h in hosts:
        assert (h.state, h.reachable) == (DOWN, False), str(h)  # UNREACHABLE, through `parents`
    failing = [o for o in objs.values() if o.state != 0]
    assert len(failing) > len(objs) // 2, core.report()  # the checks themselves fail ...
    assert core.notified() == [PREFIX], core.report()  # ... and Nagios stays quiet about them
