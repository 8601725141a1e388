"""Change tracking with the vSphere layer: vMotion/DRS moves, and an ESXi host's failure with vSphere HA's
restarts told as one story. The simulator does not restart VMs by itself: the harness relocates them."""

from __future__ import annotations

from pathlib import Path

from conftest import CloudEnv

from vio_checks.cache import Store, namespace
from vio_checks.eventlog import EventLog

from .test_snapshot import credentials_file, current


def relocate(vc, vm_moref: str, host_moref: str) -> None:
    """Move a VM to another ESXi host through the vSphere API (vMotion, or HA's restart, staged)."""
    from pyVim.task import WaitForTask
    from pyVmomi import vim

    host = vim.HostSystem(host_moref, vc.si._stub)
    WaitForTask(vim.VirtualMachine(vm_moref, vc.si._stub).RelocateVM_Task(
        vim.vm.RelocateSpec(host=host, pool=host.parent.resourcePool)))


def events(env: CloudEnv) -> list:
    return EventLog(Store(env.cache_dir / namespace(env.cloud, None))).recent(0)


def test_vmotion_and_an_ha_failover(joined_cloud, tmp_path: Path) -> None:
    vc = joined_cloud.vc
    env = CloudEnv(joined_cloud.sim, tmp_path)
    env.env["VIO_VCENTER_CREDENTIALS"] = str(credentials_file(vc, tmp_path))
    env.sweep()
    snap = current(env)
    vms = {v.server_id: v for v in snap.all("vsphere_vms")}
    hosts = {h.moref: h for h in snap.all("esxi_hosts")}
    sid, vm = sorted(vms.items())[0]
    others = [m for m, h in hosts.items() if h.cluster == hosts[vm.host].cluster and m != vm.host]

    relocate(vc, vm.moref, others[0])
    env.sweep()
    (e,) = [e for e in events(env) if e.kind == "vm_vmotion"]
    assert (e.id, e.from_, e.to, e.cause) == (sid, hosts[vm.host].name, hosts[others[0]].name, "vMotion / DRS")
    assert not [e for e in events(env) if e.kind == "vm_moved"]  # same cluster: Nova saw nothing

    # the host fails; vSphere HA restarts its VMs on the other hosts of the cluster
    failed = others[0]
    on_it = [v for v in current(env).all("vsphere_vms") if v.host == failed]
    vc.stage_host(failed, connection="notResponding")
    survivors = [m for m in others[1:]] + [vm.host]
    for i, v in enumerate(on_it):
        relocate(vc, v.moref, survivors[i % len(survivors)])
    env.sweep()
    log = events(env)
    (down,) = [e for e in log if e.kind == "esxi_down"]
    assert (down.id, down.name) == (failed, hosts[failed].name)
    assert down.cause.startswith(f"vSphere HA restarted {len(on_it)} VMs on ")
    restarted = [e for e in log if e.kind == "vm_ha_restarted"]
    assert {e.id for e in restarted} == {v.server_id for v in on_it}
    assert all(e.cause == f"vSphere HA: ESXi host {hosts[failed].name} went down" for e in restarted)
    r = env.run("check_vio_vm", "--id", sid)
    assert r.rc == 0, str(r)
