"""Icinga Web 2 (Icinga DB Web) in a real browser: what a NOC operator sees of the root-cause story.

Every assertion reads the rendered page (the text a person reads, or the colour of a state marker), never
the API or the database. Scenario 2 of README: nova-compute on vio-compute-01 goes down.

Icinga DB (Debian 12: icinga2 2.13.6) counts a problem as "handled" only when it is acknowledged or in a
downtime, never because it is unreachable: the default host problem list shows the failed cluster's hosts
as unhandled DOWN. The root-cause view a NOC wants is the unhandled problems that are *reachable*
(`host.state.is_reachable=y`), which README recommends; the unreachable ones are listed by the opposite filter.
"""

from __future__ import annotations

from icinga_e2e import PREFIX

from .browser import Browser

ROOT = "nova-compute on vio-compute-01"

HOSTS = "/icingadb/hosts?sort=host.display_name&view=minimal"
SERVICE_PROBLEMS = "/icingadb/services?service.state.is_problem=y&service.state.is_handled=n"
HOST_PROBLEMS = "/icingadb/hosts?host.state.is_problem=y&host.state.is_handled=n"
ROOT_CAUSES_HOSTS = HOST_PROBLEMS + "&host.state.is_reachable=y"
ROOT_CAUSES_SERVICES = SERVICE_PROBLEMS + "&service.state.is_reachable=y&host.state.is_reachable=y"
UNREACHABLE = "/icingadb/hosts?host.state.is_reachable=n&sort=host.display_name"


def items(browser: Browser) -> list[str]:
    """Each row of an Icinga DB Web list, as one line of text."""
    return [" ".join(row.split()) for row in browser.rows("#col1 .content li.list-item")]


def test_hypervisor_failure_as_the_noc_sees_it(console):
    cloud, icinga, browser = console
    icinga.drive()

    # healthy: every host UP, with its display name
    browser.until(HOSTS, lambda t: "PENDING" not in t and "DOWN" not in t)
    rows = items(browser)
    assert len(rows) == 9 and all(" is UP " in r for r in rows), rows
    # each kind of host carries its icon (templates.conf icon_image), a tooltip naming the kind
    assert browser.icons() == {"VIO vio-sim": "cloud", "db-01": "desktop", "db-02": "desktop", "web-01": "desktop",
                               "web-02": "desktop", "router-a": "route", "router-b": "route",
                               # a cluster as its moref and compute host: readable in a list
                               "domain-c8 (vio-compute-01)": "server", "domain-c9 (vio-compute-02)": "server"}
    browser.screenshot("console-hosts")

    # scenario 2: the hypervisor's nova-compute goes down
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    icinga.drive()
    failed = {o.vars["vio_name"] for o in icinga.find("vm", vio_compute_host="vio-compute-01")}
    other = {o.vars["vio_name"] for o in icinga.find("vm", vio_compute_host="vio-compute-02")}

    # the one unhandled service problem is nova-compute on the failed host
    browser.until(SERVICE_PROBLEMS, lambda t: ROOT in t)
    rows = items(browser)
    assert len(rows) == 1 and rows[0].startswith(ROOT) and " is CRITICAL " in rows[0], rows
    browser.screenshot("console-problems")

    # the root-cause view (unhandled and reachable): nothing among the hosts, only nova-compute among services
    browser.open(ROOT_CAUSES_HOSTS)
    assert items(browser) == [], items(browser)
    browser.open(ROOT_CAUSES_SERVICES)
    rows = items(browser)
    assert len(rows) == 1 and rows[0].startswith(f"{ROOT} on VIO vio-sim is CRITICAL"), rows

    # unreachable: exactly the failed cluster (its hypervisor and its VMs), all DOWN
    browser.until(UNREACHABLE, lambda t: all(vm in t for vm in failed))
    rows = items(browser)
    names = {r.split(" is ")[0] for r in rows}
    assert failed <= names and not (other & names), rows
    assert len(rows) == len(failed) + 1 and all(" is DOWN " in r for r in rows), rows
    browser.screenshot("console-unreachable")

    # Icinga DB's default host problem list: the same hosts, unhandled (no ack/downtime), nothing else
    browser.open(HOST_PROBLEMS)
    assert {r.split(" is ")[0] for r in items(browser)} == names, items(browser)

    # the other cluster is green
    browser.open(HOSTS + "&host.vars.vio_compute_host=vio-compute-02")
    rows = items(browser)
    assert {r.split(" is ")[0] for r in rows} >= other and all(" is UP " in r for r in rows), rows

    # a VM's detail page: DOWN, why (its hypervisor), its Horizon link; the unreachable marker is red
    vm = icinga.one("vm", vio_compute_host="vio-compute-01", vio_name=sorted(failed)[-1])
    text = " ".join(browser.open("/icingadb/host?name=" + vm.name).split())
    assert f"{vm.vars['vio_name']} is DOWN" in text, text
    assert f"hypervisor {vm.vars['vio_hypervisor']} down" in text, text
    assert f"https://horizon.example.com/project/instances/{vm.vars['vio_id']}/" in text, text
    assert "hypervisor domain-c8 (vio-compute-01)" in browser.section("Groups"), text
    assert browser.check_source_ball() == "down", "the Check Source marker should show the VM unreachable"
    browser.screenshot("console-vm")

    # the cloud host's services: nova-compute on vio-compute-01 CRITICAL, everything else OK
    browser.open("/icingadb/host/services?view=minimal&sort=service.state.severity%20desc&name=" + PREFIX)
    rows = items(browser)
    bad = [r for r in rows if " is OK " not in r]
    assert len(bad) == 1 and bad[0].startswith(ROOT) and " is CRITICAL " in bad[0], rows
    browser.screenshot("console-cloud-services")
