"""check_vio_esxi, check_vio_datastore and check_vio_vm's ESXi host: judges (pure) and executables."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CloudEnv

from vio_checks.judge.datastore import judge_datastore
from vio_checks.judge.esxi import EsxiOptions, judge_esxi, judge_hosts, on_esxi
from vio_checks.judge.verdict import State, Verdict
from vio_checks.vsphere import NOT_CONFIGURED
from vio_checks.vsphere.records import Datastore, EsxHost, Mount

from .test_snapshot import credentials_file


def host(name: str = "esx-01", connection: str = "connected", power: str = "poweredOn",
         maintenance: bool = False, status: str = "green", missing: tuple[str, ...] = ()) -> EsxHost:
    return EsxHost(f"host-{name}", name, "domain-c8", connection, power, maintenance, status, missing)


@pytest.mark.parametrize(("h", "opts", "state", "text"), [
    (host(), EsxiOptions(), State.OK, "ESXi host esx-01 is connected and powered on: status green"),
    (host(connection="notResponding", power="unknown", status="gray"), EsxiOptions(), State.CRITICAL,
     "ESXi host esx-01 is not responding"),
    (host(connection="disconnected"), EsxiOptions(), State.CRITICAL, "ESXi host esx-01 is disconnected"),
    (host(power="standBy"), EsxiOptions(), State.CRITICAL, "ESXi host esx-01 is in standby"),
    (host(maintenance=True), EsxiOptions(), State.WARNING, "ESXi host esx-01 is in maintenance mode"),
    (host(maintenance=True), EsxiOptions(allow_maintenance=True), State.OK,
     "ESXi host esx-01 is in maintenance mode"),
    (host(status="yellow"), EsxiOptions(), State.WARNING, "ESXi host esx-01: overall status yellow"),
    (host(status="red"), EsxiOptions(), State.CRITICAL, "ESXi host esx-01: overall status red"),
    (host(status="gray"), EsxiOptions(), State.UNKNOWN, "ESXi host esx-01: overall status gray"),
    (host(connection="", missing=("runtime.connectionState",)), EsxiOptions(), State.UNKNOWN,
     "esx-01: vCenter reported no runtime.connectionState: state unverified"),
])
def test_one_esxi_host(h: EsxHost, opts: EsxiOptions, state: State, text: str) -> None:
    v = judge_esxi(h, opts)
    assert (v.state, v.summary.split("; ")[0]) == (state, text)


def test_a_host_with_nothing_reported_is_never_ok() -> None:
    v = judge_esxi(EsxHost("host-9", "esx-09", missing=("runtime.connectionState", "runtime.powerState")))
    assert v.state == State.UNKNOWN and v.unverified


def test_a_cluster_counts_its_connected_hosts() -> None:
    hosts = [host("esx-01"), host("esx-02", connection="notResponding"), host("esx-03"), host("esx-04"),
             host("esx-05")]
    v = judge_hosts(hosts, "cluster Compute-A")
    assert v.state == State.CRITICAL
    assert v.summary == ("cluster Compute-A: 4 of 5 ESXi hosts connected, 1 CRITICAL: ESXi host esx-02 is not "
                         "responding")
    v = judge_hosts(hosts, "cluster Compute-A", warning="5:", critical="1:")
    assert v.state == State.WARNING and v.rule == "the number of connected ESXi hosts (4) against -w 5:, -c 1:"
    perf = {p.label: p for p in v.perf}
    assert (perf["hosts_connected"].value, perf["hosts_connected"].max, perf["hosts_connected"].crit) == (4, 5, "1:")
    down = [host(f"esx-0{i}", connection="disconnected") for i in range(1, 4)]
    assert judge_hosts(down, "c", critical="1:").state == State.CRITICAL


def test_a_vm_on_a_down_esxi_host_is_unverified_and_names_it() -> None:
    ok = Verdict()
    ok.add(State.OK, "web-01 is ACTIVE and running on Compute-A")
    v = on_esxi(ok, host("esx-03", connection="notResponding"), name="web-01")
    assert (v.state, v.unverified, v.summary) == (
        State.UNKNOWN, True, "web-01: ESXi host esx-03 is not responding: state unverified")
    assert v.cause == "ESXi host esx-03 is not responding"
    ok = Verdict()
    ok.add(State.OK, "web-01 is ACTIVE and running on Compute-A")
    assert on_esxi(ok, host("esx-03")).summary == "web-01 is ACTIVE and running on Compute-A (ESXi host esx-03)"


@pytest.mark.parametrize(("d", "state", "text"), [
    (Datastore("datastore-1", "ds1", "VMFS", True, 100 * 2**30, 50 * 2**30), State.OK,
     "datastore ds1: 50 % free (50.0 GiB of 100.0 GiB)"),
    (Datastore("datastore-1", "ds1", "VMFS", True, 100 * 2**30, 10 * 2**30), State.WARNING,
     "datastore ds1: 10 % free (10.0 GiB of 100.0 GiB)"),
    (Datastore("datastore-1", "ds1", "VMFS", True, 100 * 2**30, 2**30), State.CRITICAL,
     "datastore ds1: 1 % free (1.0 GiB of 100.0 GiB)"),
    (Datastore("datastore-1", "ds1", "VMFS", False, 100 * 2**30, 50 * 2**30), State.CRITICAL,
     "datastore ds1 is not accessible"),
    (Datastore("datastore-1", "ds1", "VMFS", None, None, None, missing=("summary.accessible",)), State.UNKNOWN,
     "datastore ds1: vCenter reported no summary.accessible: state unverified"),
])
def test_one_datastore(d: Datastore, state: State, text: str) -> None:
    d.mounts = [Mount("host-1", True, True)]
    v = judge_datastore(d)
    assert (v.state, v.summary) == (state, text)
    if d.capacity:
        perf = {p.label: p for p in v.perf}
        assert (perf["free"].uom, perf["free"].warn, perf["free"].crit, perf["free"].max) == ("%", "15:", "5:", 100)
        assert (perf["free_bytes"].value, perf["free_bytes"].max) == (d.free, d.capacity)


def test_without_the_layer_the_checks_say_so_in_one_line(healthy_cloud: CloudEnv) -> None:
    healthy_cloud.sweep()
    expected = NOT_CONFIGURED  # with or without pyVmomi (a configured layer reports a missing pyVmomi)
    for check, title in (("check_vio_esxi", "VIO ESXI"), ("check_vio_datastore", "VIO DATASTORE")):
        r = healthy_cloud.run(check)
        assert (r.rc, r.stdout) == (3, f"{title} UNKNOWN - {expected}\n"), str(r)
    r = healthy_cloud.run("check_vio_vm")
    assert r.rc == 0 and "ESXi" not in r.stdout


def test_the_checks_against_the_simulator(joined_cloud, tmp_path: Path) -> None:
    vc = joined_cloud.vc
    env = CloudEnv(joined_cloud.sim, tmp_path)
    creds = str(credentials_file(vc, tmp_path))
    env.env["VIO_VCENTER_CREDENTIALS"] = creds
    clusters = vc.inventory()["clusters"]
    c0 = sorted(clusters, key=lambda m: int(m.rsplit("-", 1)[-1]))[0]
    down = clusters[c0][0]
    vc.stage_host(down, connection="notResponding")
    env.sweep()

    r = env.run("check_vio_esxi", "--id", down)
    assert r.rc == 2 and r.status.startswith("VIO ESXI CRITICAL - ESXi host ") and "not responding" in r.status
    r = env.run("check_vio_esxi", "--cluster", c0, "-c", "1:")
    assert r.rc == 0 and "2 of 3 ESXi hosts connected" in r.status, str(r)
    r = env.run("check_vio_esxi", "--cluster", c0)
    assert r.rc == 2 and "2 of 3 ESXi hosts connected" in r.status, str(r)
    r = env.run("check_vio_datastore")
    assert r.rc == 0 and r.status == "VIO DATASTORE OK - 1 datastore OK", str(r)

    on_down = [sid for sid, vm in joined_cloud.vm_of_server.items()
               if any(v.moref == vm and v.host == down for v in _vms(env))]
    assert on_down
    r = env.run("check_vio_vm", "--id", on_down[0])
    assert r.rc == 3 and "is not responding: state unverified" in r.status, str(r)
    other = next(sid for sid in joined_cloud.vm_of_server if sid not in on_down)
    r = env.run("check_vio_vm", "--id", other)
    assert "(ESXi host DC0_C" in r.status, str(r)

    r = env.run("check_vio_hypervisor", "--id", f"{c0}.{vc.instance_uuid}", "--state-only")
    assert r.rc == 0, str(r)
    for h in clusters[c0][1:]:
        vc.stage_host(h, power="poweredOff")
    env.sweep()
    r = env.run("check_vio_hypervisor", "--id", f"{c0}.{vc.instance_uuid}", "--state-only")
    assert r.rc == 2 and "all 3 ESXi hosts are down" in r.status, str(r)


def _vms(env: CloudEnv) -> list:
    from .test_snapshot import current
    return current(env).all("vsphere_vms")


# --- the reporter rule's vSphere cases (issue 20 item 3) ---------------------------------------------


@pytest.mark.parametrize(("hosts", "state", "text"), [
    ([host("a"), host("b", maintenance=True)], None, None),  # one host can run VMs
    ([host("a", power="poweredOff"), host("b", connection="notResponding")], State.CRITICAL,
     "Compute-A: all 2 ESXi hosts are down"),
    ([host("a", maintenance=True), host("b", connection="notResponding"), host("c", maintenance=True)],
     State.CRITICAL, "Compute-A: no ESXi host can run a VM: 1 down (b), 2 in maintenance mode (a, c)"),
    ([host("a", maintenance=True), host("b", maintenance=True)], State.WARNING,
     "Compute-A: no ESXi host can run a VM: all 2 in maintenance mode"),
    ([host("a", connection="", missing=("runtime.connectionState",)), host("b", power="poweredOff")], None,
     None),  # whether a can run VMs is not known: check_vio_esxi reports that host
])
def test_a_cluster_where_no_host_can_run_a_vm(hosts, state, text) -> None:
    from vio_checks.judge.esxi import cluster_unavailable
    v = cluster_unavailable(hosts, "Compute-A")
    assert (v.state, v.summary) == (state, text) if state else v is None


def test_a_volume_on_an_inaccessible_datastore_is_critical_naming_it() -> None:
    from vio_checks.judge.datastore import on_datastore
    from vio_checks.judge.volume import VolumeOptions, judge_volume
    from vio_checks.model import Volume
    from vio_checks.reporter import Vouch

    vol = Volume("v1", "db-data", status="available", size_gb=5, backend_host="b@vmdk#vmdk", updated=0)
    ds = Datastore("datastore-5", "ds-01", accessible=False)
    v = on_datastore(judge_volume(vol, {}, VolumeOptions(), 10), vol, ds)
    assert (v.state, v.summary) == (State.CRITICAL, "db-data is on datastore ds-01, which is not accessible")
    # a fact from vCenter: not hidden as "unverified" even when the backend cannot vouch
    down = judge_volume(vol, {}, VolumeOptions(), 10, Vouch(["cinder-volume b@vmdk"], "backend b@vmdk: down"))
    v = on_datastore(down, vol, ds)
    assert v.state == State.CRITICAL and not v.unverified
    ok = on_datastore(judge_volume(vol, {}, VolumeOptions(), 10), vol, Datastore("datastore-5", "ds-01", accessible=True))
    assert ok.state == State.OK and "on datastore ds-01 (moref datastore-5): accessible" in ok.details


def test_a_cluster_with_hosts_down_or_in_maintenance_is_critical(joined_cloud, tmp_path: Path) -> None:
    """Some ESXi hosts down, the others in maintenance mode: no host can run a VM, the hypervisor is not
    "up and enabled"."""
    vc = joined_cloud.vc
    env = CloudEnv(joined_cloud.sim, tmp_path)
    env.env["VIO_VCENTER_CREDENTIALS"] = str(credentials_file(vc, tmp_path))
    clusters = vc.inventory()["clusters"]
    c0 = sorted(clusters, key=lambda m: int(m.rsplit("-", 1)[-1]))[0]
    first, *rest = clusters[c0]
    vc.stage_host(first, connection="notResponding")
    for h in rest:
        vc.stage_host(h, maintenance=True)
    env.sweep()
    r = env.run("check_vio_hypervisor", "--id", f"{c0}.{vc.instance_uuid}", "--state-only")
    assert r.rc == 2, str(r)
    assert "no ESXi host can run a VM: 1 down (" in r.status and f"{len(rest)} in maintenance mode (" \
        in r.status, str(r)
