"""The vSphere layer without a simulator: normalising raw properties, the join, credentials, no pyVmomi."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vio_checks.model import Hypervisor, Server
from vio_checks.vsphere import MISSING_PYVMOMI, VSphereError, require
from vio_checks.vsphere.connect import Credentials, credentials_from_cloud, describe, load_credentials
from vio_checks.vsphere.join import join, split_hypervisor_hostname
from vio_checks.vsphere.normalize import RawObject, Ref, inventory

VC = "dbed6e0c-bd88-4ef6-b594-21283e1c677f"
S1, S2, S3 = (f"0000000{i}-aaaa-4bbb-8ccc-000000000000" for i in (1, 2, 3))


def raw_inventory() -> list[RawObject]:
    c8, c9 = Ref("ClusterComputeResource", "domain-c8"), Ref("ClusterComputeResource", "domain-c9")
    h = {n: Ref("HostSystem", n) for n in ("host-1", "host-2", "host-3", "host-9")}
    alarm = {"key": "alarm-7.host-2", "entity": h["host-2"], "alarm": Ref("Alarm", "alarm-7"),
             "overallStatus": "red", "time": datetime(2024, 5, 1, 10, 42, tzinfo=UTC)}
    hostprops = {"runtime.connectionState": "connected", "runtime.powerState": "poweredOn",
                 "runtime.inMaintenanceMode": False, "overallStatus": "green"}
    return [
        RawObject("ClusterComputeResource", "domain-c8", {"name": "Cluster-A", "overallStatus": "green",
                                                          "triggeredAlarmState": [alarm]}),
        RawObject("ClusterComputeResource", "domain-c9", {"name": "Cluster-B", "overallStatus": "green"}),
        RawObject("HostSystem", "host-1", dict(hostprops, name="esx-01", parent=c8)),
        RawObject("HostSystem", "host-2", dict(hostprops, name="esx-02", parent=c8, **{
            "runtime.connectionState": "notResponding", "triggeredAlarmState": [alarm]})),
        RawObject("HostSystem", "host-3", dict(hostprops, name="esx-03", parent=c9)),
        RawObject("HostSystem", "host-9", dict(hostprops, name="esx-solo",
                                               parent=Ref("ComputeResource", "domain-s5"))),
        RawObject("VirtualMachine", "vm-1", {"name": "web", "config.instanceUuid": S1.upper(),
                                             "runtime.host": h["host-1"], "runtime.powerState": "poweredOn"}),
        RawObject("VirtualMachine", "vm-2", {"name": "db", "config.instanceUuid": S2,
                                             "runtime.host": h["host-3"], "runtime.powerState": "poweredOff"}),
        RawObject("VirtualMachine", "vm-3", {"name": "vio-manager", "config.instanceUuid": "f" * 8 + VC[8:],
                                             "runtime.host": h["host-1"], "runtime.powerState": "poweredOn"}),
        RawObject("VirtualMachine", "vm-4", {"name": "orphan", "runtime.powerState": "poweredOn"},
                  missing=("config.instanceUuid",)),
        RawObject("Datastore", "datastore-5", {
            "name": "ds-01", "summary.type": "VMFS", "summary.accessible": True, "summary.capacity": 1000,
            "summary.freeSpace": 250, "host": [
                {"key": h["host-1"], "mountInfo": {"mounted": True, "accessible": True}},
                {"key": h["host-2"], "mountInfo": {"mounted": True, "accessible": False}},
            ]}),
        RawObject("Datastore", "datastore-6", {"name": "ds-02", "summary.accessible": False}),
        RawObject("Folder", "group-d1", {"triggeredAlarmState": [alarm]}),
    ]


def test_normalize_keeps_vsphere_states_and_names_what_is_missing() -> None:
    vs = inventory({"instanceUuid": VC.upper(), "fullName": "VMware vCenter Server 8.0"}, raw_inventory(),
                   fetched_at=1.0, requests=7, alarm_names={"alarm-7": "Host connection and power state"})
    assert vs.vcenter.instance_uuid == VC
    assert vs.counts() == {"clusters": 2, "hosts": 4, "vms": 4, "datastores": 2, "alarms": 1}
    hosts = {h.moref: h for h in vs.hosts}
    assert hosts["host-2"].connection_state == "notResponding" and hosts["host-2"].cluster == "domain-c8"
    assert hosts["host-9"].cluster is None  # standalone
    vms = {v.moref: v for v in vs.vms}
    assert vms["vm-1"].instance_uuid == S1 and vms["vm-1"].host == "host-1"
    assert vms["vm-4"].instance_uuid is None and vms["vm-4"].missing == ("config.instanceUuid", "runtime.host")
    ds = {d.moref: d for d in vs.datastores}
    assert (ds["datastore-5"].capacity, ds["datastore-5"].free) == (1000, 250)
    assert [(m.host, m.accessible) for m in ds["datastore-5"].mounts] == [("host-1", True), ("host-2", False)]
    assert ds["datastore-6"].missing == ("summary.capacity", "summary.freeSpace")
    (alarm,) = vs.alarms  # repeated on the cluster and the root folder: one alarm
    assert (alarm.entity_type, alarm.entity, alarm.name, alarm.status) == (
        "HostSystem", "host-2", "Host connection and power state", "red")
    assert alarm.time == datetime(2024, 5, 1, 10, 42, tzinfo=UTC).timestamp()


def test_hypervisor_hostnames_as_the_vmware_driver_writes_them() -> None:
    assert split_hypervisor_hostname(f"domain-c8.{VC.upper()}") == ("domain-c8", VC)
    assert split_hypervisor_hostname(f"clustercomputeresource-27.{VC}") == ("clustercomputeresource-27", VC)
    assert split_hypervisor_hostname("domain-c9(Cluster-B)") == ("domain-c9", None)
    assert split_hypervisor_hostname("compute-01.example.org") is None


def test_join_links_what_joins_and_counts_the_rest() -> None:
    vs = inventory({"instanceUuid": VC}, raw_inventory(), fetched_at=1.0)
    hvs = [Hypervisor("1", f"domain-c8.{VC}"), Hypervisor("2", "domain-c9(Cluster-B)"),
           Hypervisor("3", "domain-c8.11111111-2222-4333-8444-555555555555"),
           Hypervisor("4", f"domain-c77.{VC}")]
    servers = [
        Server(S1, "web", hypervisor_hostname=f"domain-c8.{VC}"),
        Server(S2, "db", hypervisor_hostname=f"domain-c8.{VC}"),  # Nova says c8, its VM runs in c9
        Server(S3, "lost", hypervisor_hostname="domain-c9(Cluster-B)"),  # no VM in vCenter
        Server("99999999-aaaa-4bbb-8ccc-000000000000", "elsewhere",
               hypervisor_hostname="domain-c8.11111111-2222-4333-8444-555555555555"),
    ]
    j = join(vs, hvs, servers)
    assert j.cluster_of_hypervisor == {f"domain-c8.{VC}": "domain-c8", "domain-c9(Cluster-B)": "domain-c9"}
    assert j.other_hypervisors == ["domain-c8.11111111-2222-4333-8444-555555555555"]
    assert j.unknown_clusters == [f"domain-c77.{VC}"]
    assert j.vm_of_server == {S1: "vm-1", S2: "vm-2"}
    assert j.host_of_server == {S1: "host-1", S2: "host-3"}
    assert j.misplaced == [S2]
    assert j.servers_without_vm == [S3]  # the other vCenter's server is not this one's business
    assert (j.unjoined_vms, j.ambiguous_vms) == (2, 0)  # vio-manager and the orphan


def test_join_never_picks_one_of_several_vms_with_the_same_instance_uuid() -> None:
    objs = raw_inventory()
    objs.append(RawObject("VirtualMachine", "vm-clone", {"name": "web-clone", "config.instanceUuid": S1,
                                                         "runtime.host": Ref("HostSystem", "host-3")}))
    vs = inventory({"instanceUuid": VC}, objs, fetched_at=1.0)
    j = join(vs, [Hypervisor("1", f"domain-c8.{VC}")], [Server(S1, "web", hypervisor_hostname=f"domain-c8.{VC}")])
    assert S1 not in j.vm_of_server and j.servers_without_vm == []
    assert (j.ambiguous_vms, j.unjoined_vms) == (2, 3)


def test_credentials_file_must_be_private(tmp_path: Path) -> None:
    f = tmp_path / "vcenter.yaml"
    f.write_text("host: vc.example.org\nuser: ro@vsphere.local\npassword: s3cret-pass\n")
    f.chmod(0o640)
    with pytest.raises(VSphereError, match="chmod 600"):
        load_credentials(f)
    f.chmod(0o600)
    c = load_credentials(f)
    assert (c.host, c.port, c.protocol, c.password) == ("vc.example.org", 443, "https", "s3cret-pass")
    assert "s3cret" not in repr(c) and "s3cret" not in str(c)
    f.write_text("host: vc\npassword: [unclosed s3cret-pass\n")
    with pytest.raises(VSphereError) as e:
        load_credentials(f)
    assert "s3cret" not in str(e.value)
    with pytest.raises(VSphereError, match="no user"):
        Credentials.from_mapping({"host": "vc", "password": "x"}, "test")


def test_credentials_from_the_clouds_yaml_entry() -> None:
    assert credentials_from_cloud({"auth": {}}, "vio") is None
    c = credentials_from_cloud({"vsphere": {"host": "vc", "user": "u", "password": "p", "port": 8443}}, "vio")
    assert (c.host, c.port) == ("vc", 8443)
    assert describe(RuntimeError("bad password s3cret-pass given"), "s3cret-pass") == "bad password *** given"


def test_without_pyvmomi_the_layer_says_so_in_one_line(tmp_path: Path) -> None:
    # a child Python where pyVmomi cannot be imported: the package imports, require() explains
    code = ("import sys; sys.modules['pyVmomi'] = None; import importlib.util as u; "
            "u.find_spec = lambda name, *a: None if name == 'pyVmomi' else _f(name, *a)\n"
            "from vio_checks.vsphere import require, VSphereError\n"
            "from vio_checks.vsphere import join, normalize, records, sweep, connect\n"
            "try:\n    require()\nexcept VSphereError as e:\n    print(e)\n")
    code = "import importlib.util; _f = importlib.util.find_spec\n" + code
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == MISSING_PYVMOMI and "\n" not in r.stdout.strip()


def test_require_passes_when_pyvmomi_is_there() -> None:
    pytest.importorskip("pyVmomi")
    require()
