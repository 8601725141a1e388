"""The dependency tree with the vSphere layer: hypervisor → ESXi host → VM, datastores; impact and rootcause."""

from __future__ import annotations

from pathlib import Path

from conftest import CloudEnv

from vio_checks import topology as t
from vio_checks.icinga import objects as o

from .test_snapshot import credentials_file, current


def test_vms_hang_below_the_esxi_host_they_run_on(joined_cloud, tmp_path: Path) -> None:
    vc = joined_cloud.vc
    env = CloudEnv(joined_cloud.sim, tmp_path)
    env.env["VIO_VCENTER_CREDENTIALS"] = str(credentials_file(vc, tmp_path))
    env.sweep()
    inv = current(env).inventory()
    topo = o.build(inv)
    esxi = {n.object_id: n for n in topo.nodes.values() if n.kind == t.ESXI}
    hypervisors = {n.vars["vio_hypervisor_hostname"]: n.key for n in topo.nodes.values() if n.kind == t.HYPERVISOR}
    assert len(esxi) == 6
    for h in inv.esxi_hosts:
        assert esxi[h.moref].parents == (hypervisors[h.hypervisor],)
        assert esxi[h.moref].check.command == "vio_esxi"
    host_of = {v.server_id: v.host for v in inv.vsphere_vms}
    vms = [n for n in topo.nodes.values() if n.kind == t.VM and n.object_id in host_of]
    assert len(vms) == len(joined_cloud.vm_of_server)
    for vm in vms:
        assert vm.parents == (esxi[host_of[vm.object_id]].key,)
    (ds,) = [n for n in topo.nodes.values() if n.kind == t.DATASTORE]
    assert ds.host == topo.prefix and ds.check.command == "vio_datastore"
    topo.assert_acyclic()

    # impact names the ESXi host and counts its VMs; the generated config carries the new templates
    busiest = max(esxi.values(), key=lambda n: sum(1 for v in vms if v.parents == (n.key,)))
    n_vms = sum(1 for v in vms if v.parents == (busiest.key,))
    r = env.run("vio-icinga", "impact", busiest.key)
    assert r.rc == 0 and r.lines[0].startswith(f"ESXi host {busiest.display_name}: {n_vms} VM"), str(r)

    down = busiest.object_id
    vc.stage_host(down, connection="notResponding")
    env.sweep()
    vm = next(v for v in vms if v.parents == (busiest.key,))
    r = env.run("vio-icinga", "rootcause", vm.key)
    assert f"because ESXi host {busiest.display_name} is DOWN" in r.stdout, str(r)

    r = env.run("vio-icinga", "generate", "--output", str(tmp_path / "vio.conf"))
    assert r.rc == 1 and "wrote" in r.stdout, str(r)  # 1: the file changed
    conf = (tmp_path / "vio.conf").read_text()
    assert 'import "vio-esxi-host"' in conf and 'import "vio-datastore-service"' in conf
