"""One snapshot: vio-discover reads vCenter after the OpenStack APIs into the same cache generation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from conftest import CloudEnv

from vio_checks.cache import Store, namespace

from .vcsim import VCenterSim


def credentials_file(vc: VCenterSim, tmp_path: Path) -> Path:
    f = tmp_path / "vcenter.yaml"
    f.write_text(vc.credentials_yaml())
    f.chmod(0o600)
    return f


def current(env: CloudEnv):
    snap = Store(env.cache_dir / namespace(env.cloud, None)).current()
    assert snap is not None
    return snap


def test_the_vcenter_sweep_lands_in_the_same_snapshot(joined_cloud, tmp_path: Path) -> None:
    env = CloudEnv(joined_cloud.sim, tmp_path)
    r = env.sweep("--vcenter-credentials", credentials_file(joined_cloud.vc, tmp_path))
    assert "vcsim-secret-password" not in r.stdout + r.stderr
    out = json.loads(r.stdout)["vsphere"]
    assert (out["vcenter"], out["error"], out["counts"]["esxi_hosts"]) == (joined_cloud.vc.instance_uuid, None, 6)
    text = env.run("vio-discover", "--vcenter-credentials", credentials_file(joined_cloud.vc, tmp_path))
    assert "6 ESXi hosts (6 connected)" in text.stdout, str(text)
    snap = current(env)
    vs = snap.meta.vsphere
    assert vs.error is None and vs.vcenter.instance_uuid == joined_cloud.vc.instance_uuid
    assert 7 <= vs.requests <= 9 and vs.seconds > 0
    assert len(snap.all("esxi_hosts")) == 6 and len(snap.all("vsphere_clusters")) == 2
    assert snap.meta.counts["esxi_hosts"] == 6 and snap.meta.counts["servers"] == len(snap.all("servers"))
    hypervisors = {h.hostname for h in snap.all("hypervisors")}
    assert {c.hypervisor for c in snap.all("vsphere_clusters")} == hypervisors
    assert {h.hypervisor for h in snap.all("esxi_hosts")} == hypervisors
    for sid, moref in joined_cloud.vm_of_server.items():
        (vm,) = snap.find("vsphere_vms", "server", sid)
        assert vm.moref == moref and snap.get("esxi_hosts", vm.host).hypervisor == \
            snap.get("servers", sid).hypervisor_hostname
    assert len(snap.all("vsphere_vms")) == len(joined_cloud.vm_of_server)
    (ds,) = snap.all("datastores")
    assert ds.mounts and snap.find("datastores", "host", ds.mounts[0].host) == [ds]


def test_a_vsphere_mapping_in_clouds_yaml_configures_the_layer(joined_cloud, tmp_path: Path) -> None:
    env = CloudEnv(joined_cloud.sim, tmp_path)
    config = yaml.safe_load(env.clouds_yaml.read_text())
    config["clouds"][env.cloud]["vsphere"] = yaml.safe_load(joined_cloud.vc.credentials_yaml())
    env.clouds_yaml.write_text(yaml.safe_dump(config))
    env.sweep()
    snap = current(env)
    assert snap.meta.vsphere.error is None and len(snap.all("esxi_hosts")) == 6


def test_a_vcenter_failure_never_fails_the_openstack_part(joined_cloud, tmp_path: Path) -> None:
    env = CloudEnv(joined_cloud.sim, tmp_path)
    creds = credentials_file(joined_cloud.vc, tmp_path)
    joined_cloud.vc.stop()
    r = env.run("vio-discover", "--json", "--vcenter-credentials", creds, "-t", "20")
    assert r.rc == 0, str(r)
    assert "vcsim-secret-password" not in r.stdout + r.stderr
    snap = current(env)
    assert snap.meta.vsphere.error.startswith("vSphere layer unavailable: vCenter 127.0.0.1: login failed")
    assert snap.all("servers") and snap.all("esxi_hosts") == [] and "esxi_hosts" not in snap.meta.counts
    assert json.loads(r.stdout)["vsphere"]["error"] == snap.meta.vsphere.error


def test_a_credentials_file_open_to_others_is_the_stored_error(healthy_cloud: CloudEnv, tmp_path: Path) -> None:
    f = tmp_path / "vcenter.yaml"
    f.write_text("host: vc\nuser: u\npassword: hunter2-secret\n")
    f.chmod(0o644)
    healthy_cloud.sweep("--vcenter-credentials", f)
    snap = current(healthy_cloud)
    assert snap.meta.vsphere.error == (f"vSphere layer unavailable: vCenter credentials file {f} is open to "
                                       "group or others: chmod 600 it")
    assert snap.all("servers")


def test_without_the_layer_nothing_changes_and_pyvmomi_is_never_imported(healthy_cloud: CloudEnv) -> None:
    script = (
        "import sys, time, types\n"
        "from vio_checks.sweep import run\n"
        "args = types.SimpleNamespace(os_cloud='vio-sim', os_region_name=None)\n"
        "inv = run(args, None, time.monotonic() + 60)\n"
        "assert inv.meta.vsphere is None and inv.esxi_hosts == []\n"
        "assert not any(k in inv.meta.counts for k in ('esxi_hosts', 'vsphere_vms', 'datastores'))\n"
        "assert 'pyVmomi' not in sys.modules and 'vio_checks.vsphere' not in sys.modules\n"
        "print('ok')\n"
    )
    r = healthy_cloud.run(Path(sys.executable).name, "-c", script)
    assert r.rc == 0 and r.stdout.strip() == "ok", str(r)


