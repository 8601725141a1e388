"""Cinder volume → datastore: the VMDK driver's shadow VMs joined to the volumes, and the tree below datastores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CloudEnv

from vio_checks import topology as t
from vio_checks.icinga import objects as o
from vio_checks.model import Volume
from vio_checks.vsphere.join import join
from vio_checks.vsphere.normalize import RawObject, Ref, inventory
from vio_checks.vsphere.records import Datastore
from vio_sim import Simulator

from .conftest import JoinedCloud
from .test_snapshot import credentials_file, current
from .vcsim import VCenterSim, back_volumes, bind_scenario, populate

VC = "dbed6e0c-bd88-4ef6-b594-21283e1c677f"
V1, V2, V3, V4, V5, V6 = (f"0000000{i}-bbbb-4bbb-8ccc-000000000000" for i in range(1, 7))


def _shadow(moref: str, name: str, uuid: str | None, *datastores: str) -> RawObject:
    props = {"name": name, "runtime.host": Ref("HostSystem", "host-1"), "runtime.powerState": "poweredOff",
             "datastore": [Ref("Datastore", d) for d in datastores]}
    if uuid:
        props["config.instanceUuid"] = uuid.upper()
    return RawObject("VirtualMachine", moref, props)


def test_join_places_each_volume_on_the_datastore_of_its_shadow_vm() -> None:
    vs = inventory({"instanceUuid": VC}, [
        _shadow("vm-11", f"volume-{V1}", V1, "datastore-5"),  # today's driver: instance UUID = volume id
        _shadow("vm-12", f"volume-{V2.upper()}", None, "datastore-6"),  # an older one: the name only
        _shadow("vm-13", f"volume-{V3}", V3, "datastore-5", "datastore-6"),  # spread: which one is a guess
        _shadow("vm-14", f"volume-{V4}", V4, "datastore-5"),  # two VMs claim V4 (a leftover clone)
        _shadow("vm-15", f"clone-of-{V4}", V4, "datastore-6"),
        _shadow("vm-16", "volume-99999999-bbbb-4bbb-8ccc-000000000000", None, "datastore-5"),  # Cinder forgot it
        _shadow("vm-17", "vio-manager", None, "datastore-5"),
        RawObject("Datastore", "datastore-5", {"name": "ds-01"}),
        RawObject("Datastore", "datastore-6", {"name": "ds-02"}),
    ], fetched_at=0)
    assert next(v for v in vs.vms if v.moref == "vm-13").datastores == ["datastore-5", "datastore-6"]
    volumes = [Volume(v, f"vol-{v[7]}") for v in (V1, V2, V3, V4, V5, V6)]

    j = join(vs, [], [], volumes)

    assert j.volume_datastore == {V1: "datastore-5", V2: "datastore-6"}
    assert j.volume_vm == {V1: "vm-11", V2: "vm-12"}
    assert j.ambiguous_backings == [V3, V4]
    assert j.volumes_without_backing == [V5, V6]  # never attached (created lazily) or another backend's
    # shadow VMs of known volumes are no unjoined VMs; the forgotten one and the manager are
    assert (j.unjoined_vms, j.ambiguous_vms) == (2, 2)
    # without the volumes (the join of servers only) nothing is linked and every VM is counted as before
    j = join(vs, [], [])
    assert j.volume_datastore == {} and j.volumes_without_backing == [] and j.unjoined_vms == 5


class VolumeCloud(JoinedCloud):
    """A JoinedCloud whose volumes have shadow VMs: {volume id: datastore name}, and the one without."""

    datastore_of_volume: dict[str, str]
    unbacked: str


def test_a_datastore_cached_before_the_volume_join_has_no_volumes() -> None:
    """A snapshot pickled by the previous release has Datastore records without `volumes`: the tree reads []."""
    d = Datastore("datastore-5", "ds-01")
    del d.__dict__["volumes"]
    assert d.volumes == []


@pytest.fixture
def volume_cloud(vcsim_binary: Path) -> Iterator[VolumeCloud]:
    """`healthy` bound to a simulator with 2 datastores; a shadow VM per volume (round robin over the
    datastores) except for the never-attached `bo-spare-01`; `ubuntu-template`'s as an older driver made it."""
    vc = VCenterSim(vcsim_binary, clusters=2, hosts=3, datastores=2)
    try:
        clusters = sorted(vc.inventory()["clusters"], key=lambda m: int(m.rsplit("-", 1)[-1]))
        with Simulator(bind_scenario("healthy", vc, clusters)) as sim:
            dump = sim.dump()
            joined = VolumeCloud(vc, sim, populate(vc, dump["servers"]))
            volumes = sorted(dump["volumes"], key=lambda v: v["name"])
            by_name = {v["name"]: v["id"] for v in volumes}
            joined.unbacked = by_name["bo-spare-01"]
            joined.datastore_of_volume = back_volumes(
                vc, [v for v in volumes if v["id"] != joined.unbacked], sorted(vc.inventory()["datastores"]),
                by_name_only=(by_name["ubuntu-template"],))
            yield joined
    finally:
        vc.stop()


def _env(joined: JoinedCloud, tmp_path: Path) -> CloudEnv:
    env = CloudEnv(joined.sim, tmp_path)
    env.env["VIO_VCENTER_CREDENTIALS"] = str(credentials_file(joined.vc, tmp_path))
    return env


def test_the_sweep_keeps_each_volume_on_its_datastore(volume_cloud: VolumeCloud, tmp_path: Path) -> None:
    env = _env(volume_cloud, tmp_path)
    env.sweep()
    snap = current(env)
    expected = volume_cloud.datastore_of_volume
    found = {v: d.name for d in snap.all("datastores") for v in d.volumes}
    assert found == expected and len(set(found.values())) == 2
    vs = snap.meta.vsphere
    assert 7 <= vs.requests <= 9  # the same single retrieval: `datastore` is one more property
    assert vs.unjoined.get("volumes_without_backing") == 1 and "vms" not in vs.unjoined, vs.unjoined
    assert "ambiguous_backings" not in vs.unjoined
    assert len(snap.all("vsphere_vms")) == len(volume_cloud.vm_of_server)  # shadow VMs are no server VMs


def test_volumes_hang_below_their_datastore_and_its_failure_explains_theirs(volume_cloud: VolumeCloud,
                                                                         tmp_path: Path) -> None:
    env = _env(volume_cloud, tmp_path)
    env.sweep()
    inv = current(env).inventory()
    topo = o.build(inv)
    datastores = {n.object_id: n for n in topo.nodes.values() if n.kind == t.DATASTORE}
    ds_of = {v: datastores[d.moref].key for d in inv.datastores for v in d.volumes}
    volumes = [n for n in topo.nodes.values() if n.kind == t.VOLUME]
    assert {n.object_id for n in volumes} == {v.id for v in inv.volumes}
    (cinder_volume,) = [n.key for n in topo.nodes.values() if n.kind == t.VOLUME_SERVICE]
    for n in volumes:
        expected = cinder_volume if n.object_id == volume_cloud.unbacked else ds_of[n.object_id]
        assert n.parents == (expected,), n
    topo.assert_acyclic()

    # a datastore gone inaccessible: rootcause of a volume on it names the datastore; impact counts them
    attached = next(n for n in volumes if n.object_id in ds_of and topo.get(n.host).kind == t.VM)
    ds = topo.get(ds_of[attached.object_id])
    r = env.run("vio-icinga", "impact", ds.key)
    on_it = sum(1 for n in volumes if n.parents == (ds.key,))
    assert r.rc == 0 and f": {on_it} volume" in r.lines[0], str(r)
    volume_cloud.vc.stage_datastore(ds.object_id, accessible=False)
    env.sweep()
    r = env.run("vio-icinga", "rootcause", attached.key)
    # the volume is CRITICAL itself now (on an inaccessible datastore), and its parent explains it
    assert f"is unreachable because {ds.display_name} is CRITICAL" in r.lines[0], str(r)


def test_a_volume_on_an_inaccessible_datastore_is_critical(volume_cloud: VolumeCloud, tmp_path: Path) -> None:
    env = _env(volume_cloud, tmp_path)
    vid, ds_name = sorted(volume_cloud.datastore_of_volume.items())[0]
    env.sweep()
    ds = next(d for d in current(env).all("datastores") if d.name == ds_name)
    r = env.run("check_vio_volume", "--id", vid)
    assert r.rc == 0, str(r)
    volume_cloud.vc.stage_datastore(ds.moref, accessible=False)
    env.sweep()
    r = env.run("check_vio_volume", "--id", vid)
    assert r.rc == 2 and f"is on datastore {ds_name}, which is not accessible" in r.status, str(r)
    other = next(v for v, d in volume_cloud.datastore_of_volume.items() if d != ds_name)
    assert env.run("check_vio_volume", "--id", other).rc == 0
