"""A vCenter that hangs is held to its share of -t (issue 21, item 1).

A vCenter that accepts TCP and never answers, one that answers nothing after the TLS handshake, and one
that hangs in the middle of a sweep: the layer ends by its deadline with "timed out", the sweep is stored
with "vSphere layer unavailable: timed out ...", the OpenStack checks judge from the OpenStack part, and
check_vio_discovery warns while the layer is unavailable. Only the frozen-mid-sweep case needs govmomi's
simulator; the others need pyVmomi and a socket.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CloudEnv

from vio_checks.cache import Store, namespace
from vio_checks.runtime import guard_timeout
from vio_checks.vsphere import VSphereError

from .frozen import FrozenVCenter
from .test_snapshot import credentials_file
from .vcsim import VCenterSim

pytestmark = pytest.mark.usefixtures("pyvmomi_installed")

UNAVAILABLE_TIMED_OUT = "vSphere layer unavailable: timed out after "


@pytest.fixture(params=["tcp", "tls"])
def frozen(request, tmp_path: Path) -> Iterator[FrozenVCenter]:
    """A vCenter that accepts TCP and never answers ("tcp"), or never answers after TLS ("tls")."""
    vc = FrozenVCenter(request.param, tmp_path)
    try:
        yield vc
    finally:
        vc.stop()


def test_the_vcenter_layer_ends_at_its_budget_against_a_frozen_vcenter(frozen, tmp_path: Path) -> None:
    """pyVmomi's API version request (and the TLS handshake before it) get the layer's deadline."""
    from vio_checks.vsphere.connect import load_credentials
    from vio_checks.vsphere.sweep import collect

    creds = load_credentials(frozen.write_credentials(tmp_path / "vcenter.yaml"))
    started = time.monotonic()
    with pytest.raises(VSphereError) as e, guard_timeout(15):  # the guard: a hang fails, never blocks the run
        collect(creds, budget=2)
    took = time.monotonic() - started
    assert took < 3, f"{took:.1f} s"
    msg = str(e.value)
    assert msg.startswith("timed out after ") and "waiting for vCenter 127.0.0.1" in msg, msg
    assert "\n" not in msg and "frozen-secret-password" not in msg
    assert frozen.connections >= 1


def test_vio_discover_ends_within_t_and_stores_the_layer_unavailable(healthy_cloud: CloudEnv, frozen,
                                                                     tmp_path: Path) -> None:
    creds = frozen.write_credentials(tmp_path / "vcenter.yaml")
    started = time.monotonic()
    r = healthy_cloud.run("vio-discover", "-t", "10", "--vcenter-credentials", creds, timeout=60)
    took = time.monotonic() - started
    assert took < 11, f"{took:.1f} s\n{r}"  # the bound: -t + 1 s
    assert r.rc == 0, str(r)
    assert "frozen-secret-password" not in r.stdout + r.stderr
    snap = Store(healthy_cloud.cache_dir / namespace(healthy_cloud.cloud, None)).current()
    assert snap is not None and snap.all("servers") and snap.all("hypervisors")
    assert snap.meta.vsphere.error.startswith(UNAVAILABLE_TIMED_OUT), snap.meta.vsphere.error
    assert "waiting for vCenter 127.0.0.1" in snap.meta.vsphere.error
    assert snap.all("esxi_hosts") == []

    d = healthy_cloud.run("check_vio_discovery", "--cache-only")
    assert d.rc == 1 and d.status.startswith("VIO DISCOVERY WARNING - vSphere layer unavailable: timed out"), \
        str(d)
    assert "the OpenStack part is current" in d.status


def test_a_sweeping_check_judges_from_the_openstack_part(healthy_cloud: CloudEnv, frozen,
                                                         tmp_path: Path) -> None:
    creds = frozen.write_credentials(tmp_path / "vcenter.yaml")
    r = healthy_cloud.run("check_vio_hypervisor", "-t", "8", "--vcenter-credentials", creds, timeout=60)
    assert r.rc == 0 and r.status.startswith("VIO HYPERVISOR OK"), str(r)
    assert "timed out" not in r.status
    tried = frozen.connections
    assert tried >= 1
    # The sweep was stored with the layer marked unavailable: the next check reads it and asks no vCenter.
    again = healthy_cloud.run("check_vio_hypervisor", "-t", "8", "--vcenter-credentials", creds, timeout=60)
    assert again.rc == 0 and again.status.startswith("VIO HYPERVISOR OK"), str(again)
    assert frozen.connections == tried
    esxi = healthy_cloud.run("check_vio_esxi", "-t", "8", "--vcenter-credentials", creds, timeout=60)
    assert esxi.rc == 3 and esxi.status.startswith(
        "VIO ESXI UNKNOWN - " + UNAVAILABLE_TIMED_OUT), str(esxi)
    d = healthy_cloud.run("check_vio_discovery", "-t", "8", "--vcenter-credentials", creds, timeout=60)
    assert d.rc == 1 and "vSphere layer unavailable: timed out" in d.status, str(d)


def test_a_vcenter_that_hangs_in_the_middle_of_a_sweep_ends_at_its_budget(vcsim: VCenterSim,
                                                                           tmp_path: Path) -> None:
    """Login answers slowly, then vCenter stops answering: the SOAP call that hangs gets the time left of
    the budget as its timeout, not the whole budget again."""
    from vio_checks.vsphere.connect import Credentials, load_credentials
    from vio_checks.vsphere.sweep import collect

    real = load_credentials(credentials_file(vcsim, tmp_path))
    # version request, RetrieveServiceContent, Login, RetrieveServiceContent, then CreateContainerView hangs
    proxy = FrozenVCenter("proxy", upstream=(real.host, real.port), answers=4, delay=0.5)
    try:
        creds = Credentials(real.host, real.user, real.password, proxy.port, real.protocol, real.insecure)
        started = time.monotonic()
        with pytest.raises(VSphereError) as e, guard_timeout(15):
            collect(creds, budget=4)
        took = time.monotonic() - started
    finally:
        proxy.stop()
    # 4 answers 0.5 s late leave about 2 s: the call that hangs waits that long, not the budget's 4 s again
    assert took < 5, f"{took:.1f} s"
    assert str(e.value).startswith("timed out after ") and "(CreateContainerView)" in str(e.value), str(e.value)
    assert proxy.requests == 5


def test_discovery_warns_while_the_layer_is_unavailable() -> None:
    """The judge: a stored vSphere error is a WARNING naming it; a healthy layer adds nothing."""
    from vio_checks.judge.discovery import DiscoveryOptions, judge_discovery
    from vio_checks.judge.verdict import State
    from vio_checks.model import Meta
    from vio_checks.vsphere.records import VSphereMeta

    now = 1_700_000_000.0
    meta = Meta(cloud="vio", region=None, fetched_at=now - 10, seconds=6.0, requests=30)
    meta.vsphere = VSphereMeta(error="vSphere layer unavailable: timed out after 5.9 s waiting for vCenter vc "
                                     "(API version request and login)")
    v = judge_discovery(meta, {}, DiscoveryOptions(), now)
    assert v.state == State.WARNING
    assert v.summary.startswith("vSphere layer unavailable: timed out after 5.9 s waiting for vCenter vc")
    meta.vsphere = VSphereMeta(error=None)
    assert judge_discovery(meta, {}, DiscoveryOptions(), now).state == State.OK
