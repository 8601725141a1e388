"""Icinga Web 2 (Icinga DB Web) in a real browser: what a NOC operator sees of the root-cause story."""

from __future__ import annotations

from icinga_e2e import PREFIX


def test_smoke(console):
    cloud, icinga, browser = console
    print(browser.open("/icingadb/hosts"))
    browser.screenshot("hosts")
    print(browser.html()[:3000])
