"""The console fixture: Icinga 2 + Icinga DB + Icinga Web 2 on loopback, and a headless Chromium to read it.

Every test in this directory carries the `console` marker. With CI=true a missing Debian package fails the
run; elsewhere the tests are skipped with the reason. VIO_SCREENSHOTS=DIR writes the screenshots to DIR
(`make screenshots` sets it to docs/img). On a failure the daemons' log tails are printed.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from icinga_e2e import E2E_SCENARIO, PREFIX, make_pki

from .browser import Browser
from .webstack import APT_PACKAGES, ConsoleIcinga2, WebStack, icinga2_missing, missing, require_installed

HERE = Path(__file__).resolve().parent
#: Deployed as README shows it, with the links a NOC follows from a host (Horizon for VMs, vCenter for clusters).
DEPLOY_ARGS = ("--notes-url", "vm=https://horizon.example.com/project/instances/{id}/",
               "--action-url", "hypervisor=https://vcenter.example.com/ui/#?extensionId=vsphere.core.inventory")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.console)


@pytest.fixture
def console(make_cloud, tmp_path):
    """(cloud, icinga, browser): the e2e cloud deployed to Icinga 2, synced by Icinga DB, a logged-in browser."""
    require_installed("CONSOLE", missing() + icinga2_missing(), APT_PACKAGES)
    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    stack = WebStack(tmp_path / "web")
    icinga = ConsoleIcinga2(tmp_path / "icinga2", make_pki(tmp_path / "pki"), cloud.env)
    browser = None
    try:
        stack.start_backend()
        icinga.redis_port = stack.redis_port
        icinga.start()
        icinga.deploy(cloud, *DEPLOY_ARGS, expect_host=PREFIX)
        stack.start_icingadb()
        stack.wait_synced(PREFIX)
        stack.start_web()
        browser = Browser(stack.url, tmp_path / "chromium", stack.d)
        browser.login()
        yield cloud, icinga, browser
    except BaseException:
        print(icinga.log_tail(), stack.d.all_tails(), sep="\n")
        raise
    finally:
        if browser is not None:
            browser.quit()
        icinga.stop()
        stack.stop()
