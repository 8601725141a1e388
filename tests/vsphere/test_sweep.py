"""The vCenter sweep against govmomi's simulator: what it reads, what it costs, and the join to vio-sim."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from vio_checks.vsphere import VSphereError
from vio_checks.vsphere.connect import Credentials, load_credentials
from vio_checks.vsphere.join import join
from vio_checks.vsphere.sweep import collect

from .vcsim import VCenterSim


def creds(vc: VCenterSim, tmp_path: Path) -> Credentials:
    f = tmp_path / "vcenter.yaml"
    f.write_text(vc.credentials_yaml())
    f.chmod(0o600)
    return load_credentials(f)


def delta(before: dict, after: dict) -> dict[str, int]:
    """SOAP calls per method between two /vio/stats readings."""
    out = {k: v - before["methods"].get(k, 0) for k, v in after["methods"].items()}
    return {k: v for k, v in out.items() if v}


def test_sweep_reads_hosts_vms_datastores_and_alarms(vcsim: VCenterSim, tmp_path: Path) -> None:
    clusters = vcsim.inventory()["clusters"]
    c0, c1 = sorted(clusters, key=lambda m: int(m.rsplit("-", 1)[-1]))
    down, other = clusters[c0][0], clusters[c0][1]
    vcsim.stage_host(down, connection="notResponding", status="red")
    vcsim.stage_host(other, power="standBy")
    vcsim.stage_alarm("HostSystem", down)
    vm = vcsim.create_vm("web-01", "6a1b2c3d-0000-4000-8000-00000000abcd", clusters[c1][2], power_on=False)

    vs = collect(creds(vcsim, tmp_path), budget=30)

    assert vs.vcenter.instance_uuid == vcsim.instance_uuid
    assert {c.moref for c in vs.clusters} == {c0, c1}
    assert len(vs.hosts) == 6 and all(h.missing == () for h in vs.hosts)
    hosts = {h.moref: h for h in vs.hosts}
    assert (hosts[down].connection_state, hosts[down].overall_status, hosts[down].cluster) == (
        "notResponding", "red", c0)
    assert hosts[other].power_state == "standBy" and hosts[other].maintenance is False
    (v,) = vs.vms
    assert (v.moref, v.instance_uuid, v.host, v.power_state) == (
        vm, "6a1b2c3d-0000-4000-8000-00000000abcd", clusters[c1][2], "poweredOff")
    (ds,) = vs.datastores
    assert ds.accessible is True and ds.capacity > 0 and 0 <= ds.free <= ds.capacity and ds.mounts
    (alarm,) = vs.alarms
    assert (alarm.entity_type, alarm.entity, alarm.status) == ("HostSystem", down, "red")

    # faults the simulator's own API drives: maintenance mode, a datastore staged full and inaccessible
    from pyVim.task import WaitForTask
    from pyVmomi import vim
    WaitForTask(vim.HostSystem(other, vcsim.si._stub).EnterMaintenanceMode_Task(timeout=0))
    vcsim.stage_datastore(ds.moref, accessible=False, free=0)
    vs = collect(creds(vcsim, tmp_path), budget=30)
    assert {h.moref: h for h in vs.hosts}[other].maintenance is True
    assert (vs.datastores[0].accessible, vs.datastores[0].free) == (False, 0)


def test_sweep_costs_the_same_handful_of_calls_whatever_the_size(vcsim_binary: Path, tmp_path: Path) -> None:
    costs = []
    for shape in ({"clusters": 1, "hosts": 1, "vms": 0}, {"clusters": 4, "hosts": 8, "vms": 12, "datastores": 3}):
        vc = VCenterSim(vcsim_binary, **shape)
        try:
            if shape["vms"]:
                vc.stage_alarm("HostSystem", next(iter(vc.inventory()["clusters"].values()))[0])
            before = vc.stats()
            vs = collect(creds(vc, tmp_path), budget=30)
            calls = delta(before, vc.stats())
        finally:
            vc.stop()
        assert sum(calls.values()) == vs.requests  # the sweep's own count is the server's
        costs.append((calls, vs.counts()))
    (small, small_counts), (large, large_counts) = costs
    assert large_counts["vms"] >= 48 and large_counts["hosts"] == 32 and large_counts["alarms"] == 1
    # never a call per object: no Fetch / RetrieveProperties of single properties
    assert set(large) <= {"RetrieveServiceContent", "Login", "CreateContainerView", "RetrievePropertiesEx",
                          "ContinueRetrievePropertiesEx", "DestroyView", "Logout"}, large
    assert small == {"RetrieveServiceContent": 2, "Login": 1, "CreateContainerView": 1,
                     "RetrievePropertiesEx": 1, "DestroyView": 1, "Logout": 1}
    # the large one only adds the one retrieval of the triggered alarms' names
    assert large == dict(small, RetrievePropertiesEx=2)


def test_a_vcenter_that_does_not_answer_is_one_line(vcsim: VCenterSim, tmp_path: Path) -> None:
    c = creds(vcsim, tmp_path)
    vcsim.stop()
    started = time.monotonic()
    with pytest.raises(VSphereError) as e:
        collect(c, budget=5)
    assert time.monotonic() - started < 10
    msg = str(e.value)
    assert msg.startswith(f"vCenter {vcsim.host}: login failed:") and "\n" not in msg
    assert "vcsim-secret-password" not in msg


def test_join_against_the_simulator(joined_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vio-sim's hypervisors are the simulator's clusters; every server's VM is found on its cluster."""
    from vio_checks.cloud import CloudClient
    from vio_checks.sweep import sweep

    vc, sim = joined_cloud.vc, joined_cloud.sim
    # a VM that is no Nova server (a VIO management VM) is counted, not joined
    hosts = vc.inventory()["clusters"]
    vc.create_vm("vio-manager", "0badc0de-0000-4000-8000-000000000001", next(iter(hosts.values()))[0])
    sim.write_clouds_yaml(tmp_path / "clouds.yaml", cloud="vio-sim")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    inv = sweep(CloudClient("vio-sim", None, time.monotonic() + 60), "vio-sim", None)
    vs = collect(creds(vc, tmp_path), budget=30)

    j = join(vs, inv.hypervisors, inv.servers)

    assert len(inv.hypervisors) == 2
    assert set(j.cluster_of_hypervisor) == {h.hostname for h in inv.hypervisors}
    assert all(h.hostname.endswith("." + vc.instance_uuid) for h in inv.hypervisors)
    assert j.vm_of_server == joined_cloud.vm_of_server and len(j.vm_of_server) >= 6
    cluster_of_host = {h.moref: h.cluster for h in vs.hosts}
    by_id = {s.id: s for s in inv.servers}
    for sid, host in j.host_of_server.items():
        assert cluster_of_host[host] == j.cluster_of_hypervisor[by_id[sid].hypervisor_hostname]
    assert (j.unjoined_vms, j.misplaced, j.unknown_clusters, j.other_hypervisors) == (1, [], [], [])
    assert j.servers_without_vm == [s.id for s in inv.servers
                                    if s.id not in j.vm_of_server and s.hypervisor_hostname]


def test_retrieval_follows_continuation_tokens() -> None:
    """A vCenter pages RetrievePropertiesEx: every page is read with ContinueRetrievePropertiesEx."""
    pytest.importorskip("pyVmomi")
    from pyVmomi import vim, vmodl

    from vio_checks.vsphere.sweep import retrieve

    pc = vmodl.query.PropertyCollector
    pages = [[f"host-{i}" for i in range(j, j + 2)] for j in (1, 3, 5)]
    calls: list[str] = []

    def page(n: int) -> object:
        objs = [pc.ObjectContent(obj=vim.HostSystem(m), propSet=[vmodl.DynamicProperty(name="name", val=m)])
                for m in pages[n]]
        return SimpleNamespace(objects=objs, token=str(n + 1) if n + 1 < len(pages) else None)

    collector = SimpleNamespace(
        RetrievePropertiesEx=lambda specs, options: calls.append("first") or page(0),
        ContinueRetrievePropertiesEx=lambda token: calls.append(token) or page(int(token)),
        CancelRetrievePropertiesEx=lambda token: calls.append("cancel"),
    )
    view = SimpleNamespace(DestroyView=lambda: calls.append("destroy"))
    # the ObjectSpec needs a real managed object: hand the spec builder one, keep the fake's DestroyView
    real_view = vim.view.ContainerView("session[1]view-1")
    real_view.DestroyView = view.DestroyView  # type: ignore[method-assign]
    content = SimpleNamespace(rootFolder=vim.Folder("group-d1"), propertyCollector=collector,
                              viewManager=SimpleNamespace(CreateContainerView=lambda *a: real_view))
    raw = retrieve(SimpleNamespace(content=content), time.monotonic() + 30, page=2)
    assert [o.moref for o in raw] == [m for p in pages for m in p]
    assert calls == ["first", "1", "2", "destroy"]
