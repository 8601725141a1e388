"""End to end with the vSphere layer: a real Icinga 2 runs the checks against vio-sim joined to govmomi's
simulator, with the tree `vio-icinga deploy` uploads (hypervisor → ESXi host → VM)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CloudEnv
from icinga_e2e import CRITICAL, DOWN, HARD, ICINGA2, OK, PREFIX, UP, Icinga2, make_pki, require, running

from .test_snapshot import credentials_file
from .vcsim import back_volumes

pytestmark = pytest.mark.e2e


@pytest.fixture
def vs_e2e(joined_cloud, tmp_path: Path, tmp_path_factory):
    """(joined cloud, its CloudEnv with the vSphere layer, Icinga 2 with the tree deployed, nothing checked)."""
    yield from _deployed(joined_cloud, tmp_path, tmp_path_factory)


@pytest.fixture
def vs_e2e_volumes(joined_cloud, tmp_path: Path, tmp_path_factory):
    """`vs_e2e` with a shadow VM per Cinder volume on the simulator's one datastore, as the VMDK driver keeps."""
    volumes = joined_cloud.sim.dump()["volumes"]
    back_volumes(joined_cloud.vc, volumes, joined_cloud.vc.inventory()["datastores"])
    yield from _deployed(joined_cloud, tmp_path, tmp_path_factory)


def _deployed(joined_cloud, tmp_path: Path, tmp_path_factory):
    require(ICINGA2, "icinga2-bin icinga2-common")
    pki = make_pki(tmp_path_factory.mktemp("icinga-pki"))
    env = CloudEnv(joined_cloud.sim, tmp_path / "cloud")
    env.env["VIO_VCENTER_CREDENTIALS"] = str(credentials_file(joined_cloud.vc, tmp_path))
    env.sweep()
    icinga = Icinga2(tmp_path / "icinga2", pki, env.env)
    with running(icinga):
        icinga.deploy(env, expect_host=PREFIX)
        yield joined_cloud, env, icinga


def _cluster(joined_cloud) -> tuple[str, list[str]]:
    clusters = joined_cloud.vc.inventory()["clusters"]
    c0 = sorted(clusters, key=lambda m: int(m.rsplit("-", 1)[-1]))[0]
    return c0, clusters[c0]


def test_an_esxi_host_down_pages_once_and_its_vms_are_unreachable(vs_e2e):
    joined, env, icinga = vs_e2e
    objs = icinga.drive()
    assert icinga.notified() == [], icinga.report()
    assert len(icinga.find("esxi")) == 6 and all(o.state == UP for o in icinga.find("esxi"))

    cluster, hosts = _cluster(joined)
    down = hosts[0]
    joined.vc.stage_host(down, connection="notResponding")
    env.sweep()
    objs = icinga.drive()

    esxi = icinga.one("esxi", vio_id=down)
    assert (esxi.state, esxi.state_type, esxi.reachable) == (DOWN, HARD, True), str(esxi)
    assert icinga.notified() == [esxi.name], icinga.report()
    below = icinga.below(esxi.name)
    vms = [o for o in below if o.vars.get("vio_kind") == "vm"]
    assert vms and all(not o.reachable for o in below), icinga.report()
    hv = icinga.one("hypervisor", vio_hypervisor_hostname=f"{cluster}.{joined.vc.instance_uuid}")
    assert (hv.state, hv.reachable) == (UP, True), str(hv)
    for other in icinga.find("esxi"):
        if other.name != esxi.name:
            assert objs[other.name].state == UP, str(other)


def test_all_hosts_of_a_cluster_down_the_hypervisor_is_the_root(vs_e2e):
    joined, env, icinga = vs_e2e
    icinga.drive()
    assert icinga.notified() == [], icinga.report()
    cluster, hosts = _cluster(joined)
    for h in hosts:
        joined.vc.stage_host(h, connection="notResponding")
    env.sweep()
    icinga.drive()

    hv = icinga.one("hypervisor", vio_hypervisor_hostname=f"{cluster}.{joined.vc.instance_uuid}")
    assert (hv.state, hv.state_type, hv.reachable) == (DOWN, HARD, True), str(hv)
    assert icinga.notified() == [hv.name], icinga.report()
    for o in icinga.below(hv.name):
        if o.vars.get("vio_kind") in ("esxi", "vm"):
            assert not o.reachable, str(o)
    objs = icinga.objects()
    assert objs[PREFIX].state == OK


def test_an_inaccessible_datastore_pages_once_and_its_volumes_are_unreachable(vs_e2e_volumes):
    joined, env, icinga = vs_e2e_volumes
    icinga.drive()
    assert icinga.notified() == [], icinga.report()
    ds = icinga.one("datastore")
    volumes = [o for o in icinga.below(ds.name) if o.vars.get("vio_kind") == "volume"]
    assert len(volumes) == len(joined.sim.dump()["volumes"]), icinga.report()

    joined.vc.stage_datastore(ds.vars["vio_id"], accessible=False)
    env.sweep()
    objs = icinga.drive()

    assert (objs[ds.name].state, objs[ds.name].state_type) == (CRITICAL, HARD), str(objs[ds.name])
    assert icinga.notified() == [ds.name], icinga.report()
    assert all(not objs[v.name].reachable for v in volumes), icinga.report()
    assert all(o.reachable for o in icinga.find("vm")), icinga.report()
