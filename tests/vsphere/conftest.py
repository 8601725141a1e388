"""Fixtures of the vSphere layer's tests: govmomi's simulator (vio-sim/vcsim) and a vio-sim cloud joined to it.

Tests that use a simulator fixture carry the `vsphere` marker (`make check` leaves them out); the pure ones
(normalize, join) run everywhere. With CI=true a missing piece (Debian's golang-go or
golang-github-vmware-govmomi-dev, pyVmomi, a failed build) fails the run; elsewhere those tests are skipped
with the reason in the summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.needs import not_run

from vio_checks.vsphere import have_pyvmomi
from vio_sim import Simulator

from .vcsim import VCenterSim, VcsimUnavailable, bind_scenario, build, populate

MARKER = "vsphere"
HERE = Path(__file__).resolve().parent
SIM_FIXTURES = {"vcsim_binary", "vcsim", "joined_cloud"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE) and SIM_FIXTURES & set(item.fixturenames):
            item.add_marker(getattr(pytest.mark, MARKER))


def _unavailable(reason: str) -> None:
    """Fail in CI, skip loudly elsewhere."""
    not_run("VSPHERE", f"vCenter simulator unavailable: {reason}")


@pytest.fixture(scope="session")
def pyvmomi_installed() -> None:
    """pyVmomi, which the vSphere layer imports (fails in CI when missing, skips elsewhere)."""
    if not have_pyvmomi():
        _unavailable("pyVmomi is not installed (pip install '.[vsphere]')")


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    """The simulator, built once per session (cached by source hash under /var/tmp)."""
    if not have_pyvmomi():
        _unavailable("pyVmomi is not installed (pip install '.[vsphere]')")
    try:
        return build()
    except VcsimUnavailable as e:
        _unavailable(str(e))
        raise  # not reached


@pytest.fixture
def vcsim(vcsim_binary: Path) -> Iterator[VCenterSim]:
    """A fresh simulator: 2 clusters of 3 ESXi hosts, one datastore, no VMs."""
    vc = VCenterSim(vcsim_binary, clusters=2, hosts=3)
    try:
        yield vc
    finally:
        vc.stop()


class JoinedCloud:
    """A vio-sim cloud whose hypervisors are the simulator's clusters, with one VM per server."""

    def __init__(self, vc: VCenterSim, sim: Simulator, vm_of_server: dict[str, str]) -> None:
        self.vc = vc
        self.sim = sim
        self.vm_of_server = vm_of_server


@pytest.fixture
def joined_cloud(vcsim: VCenterSim) -> Iterator[JoinedCloud]:
    """The `healthy` scenario bound to `vcsim`, populated: each server has its VM."""
    clusters = sorted(vcsim.inventory()["clusters"], key=lambda m: int(m.rsplit("-", 1)[-1]))
    with Simulator(bind_scenario("healthy", vcsim, clusters)) as sim:
        servers = sim.dump()["servers"]
        yield JoinedCloud(vcsim, sim, populate(vcsim, servers))
