"""The Director path without Director: the shipped basket against its sources, `vio-icinga export --json`
against the tree, and the dependency apply rules against the template. (tests/console/test_director.py
runs all of it through Debian's Director and a real Icinga 2.)"""

from __future__ import annotations

import copy
import json
import re

from icinga_e2e import E2E_SCENARIO, ICINGA_DIR, PREFIX

from vio_checks.icinga import COMMANDS, RenderOptions, director, export
from vio_checks.icinga.passive import Passive

BASKET = ICINGA_DIR / "director" / "vio-basket.json"
DEPENDENCIES = ICINGA_DIR / "director" / "vio-dependencies.conf"


def test_shipped_basket_is_what_director_basket_prints(demo_cloud):
    r = demo_cloud.run("vio-icinga", "director-basket")
    assert r.rc == 0, str(r)
    assert r.stdout == BASKET.read_text(), "icinga/director/vio-basket.json is stale: " \
                                           "vio-icinga director-basket > icinga/director/vio-basket.json"


def _conf_arguments(text: str) -> dict[str, dict[str, str]]:
    """CheckCommand (or template) → option → the custom var it reads, from commands.conf."""
    out: dict[str, dict[str, str]] = {}
    for _kind, name, body in re.findall(r'^(object CheckCommand|template CheckCommand) "([^"]+)" \{\n(.*?)\n\}',
                                       text, re.S | re.M):
        out[name] = dict(re.findall(r'"(--[a-z0-9-]+)" = \{\n\s+(?:value|set_if) = "\$([a-z0-9_]+)\$"', body))
    return out


def test_basket_carries_every_command_argument_and_template_of_the_conf_files():
    basket = json.loads(BASKET.read_text())
    conf = _conf_arguments((ICINGA_DIR / "commands.conf").read_text())
    assert set(basket["Command"]) == set(COMMANDS)
    sections = {**basket["Command"], **basket["CommandTemplate"]}
    assert set(sections) == set(conf)
    for name, spec in sections.items():
        got = {opt: (a.get("value") or a["set_if"]).strip("$") for opt, a in spec["arguments"].items()}
        assert got == conf[name], name
    templates = re.findall(r'^template (Host|Service|Dependency) "([^"]+)"', (ICINGA_DIR / "templates.conf").read_text(),
                           re.M)
    section = {"Host": "HostTemplate", "Service": "ServiceTemplate", "Dependency": "Dependency"}
    assert sorted((section[t], n) for t, n in templates) == sorted(
        (s, n) for s in ("HostTemplate", "ServiceTemplate", "Dependency") for n in basket[s])
    vm = basket["HostTemplate"]["vio-vm-host"]
    assert (vm["imports"], vm["check_command"], vm["check_interval"], vm["max_check_attempts"]) == \
        (["vio-host"], "vio_vm", "300", "6")


def test_dependency_apply_rules_set_what_the_template_sets():
    template = director.parse_templates((ICINGA_DIR / "templates.conf").read_text())["Dependency"]["vio-dependency"]
    want = {k: v for k, v in template.items() if k not in ("object_name", "object_type")}
    rules = re.findall(r"^apply Dependency .*?\n\}", DEPENDENCIES.read_text(), re.S | re.M)
    assert len(rules) == 2  # host and service: one parent each, no redundancy_group on any version
    assert not re.search(r"^\s*redundancy_group\s*=", DEPENDENCIES.read_text(), re.M)
    assert "Dictionary" not in DEPENDENCIES.read_text()
    for rule in rules:
        got = dict(re.findall(r"^  (disable_checks|disable_notifications|ignore_soft_states) = (true|false)$", rule,
                              re.M))
        assert {k: v == "true" for k, v in got.items()} == want, rule


def test_import_url_adds_sources_and_sync_rules_and_must_be_http(demo_cloud):
    r = demo_cloud.run("vio-icinga", "director-basket", "--import-url", "https://icinga.example.com/vio.json")
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    assert [s["settings"]["extract_property"] for s in data["ImportSource"].values()] == \
        ["hostgroups", "hosts", "servicegroups", "services"]
    assert all(s["settings"]["scheme"] == "HTTPS" for s in data["ImportSource"].values())
    assert {r["object_type"] for r in data["SyncRule"].values()} == {"host", "service", "hostgroup", "servicegroup"}
    purges = {r["object_type"]: (r["purge_existing"], r.get("purge_action")) for r in data["SyncRule"].values()}
    assert purges == {"host": ("y", "delete"), "service": ("y", "delete"), "hostgroup": ("n", None),
                      "servicegroup": ("n", None)}
    r = demo_cloud.run("vio-icinga", "director-basket", "--import-url", "file:///etc/passwd")
    assert r.rc == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1, str(r)


def test_export_one_record_per_object_with_its_parent(make_cloud):
    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    r = cloud.run("vio-icinga", "export", "--json", "--notes-url", "vm=https://horizon.example.com/i/{id}/")
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    hosts = {h["object_name"]: h for h in data["hosts"]}
    services = {s["key"]: s for s in data["services"]}
    generated = cloud.run("vio-icinga", "generate", "--output", "-").stdout
    assert set(hosts) == set(re.findall(r'^object Host "([^"]+)"', generated, re.M))
    assert len(services) == len(re.findall(r'^object Service "', generated, re.M))
    assert {g["object_name"] for g in data["hostgroups"]} == set(re.findall(r'^object HostGroup "([^"]+)"',
                                                                           generated, re.M))
    assert "vio_parent" not in hosts[PREFIX]["vars"] and hosts[PREFIX]["template"] == "vio-cloud-host"
    by_kind: dict[str, list[dict]] = {}
    for h in hosts.values():
        by_kind.setdefault(h["vars"]["vio_kind"], []).append(h)
    for hv in by_kind["hypervisor"]:
        assert hv["vars"]["vio_parent"] == f"{PREFIX}!nova-compute@{hv['vars']['vio_compute_host']}"
        assert hv["vars"]["vio_hypervisor_state_only"] is True
    for vm in by_kind["vm"]:
        hv = next(h for h in by_kind["hypervisor"] if h["vars"]["vio_compute_host"] == vm["vars"]["vio_compute_host"])
        assert vm["vars"]["vio_parent"] == hv["object_name"]
        assert vm["notes_url"] == f"https://horizon.example.com/i/{vm['vars']['vio_id']}/"
        assert vm["vars"]["vio_vm_id"] == vm["vars"]["vio_id"] and vm["template"] == "vio-vm-host"
        assert vm["display_name"] == vm["vars"]["vio_name"] and vm["address"]
    ha = next(h for h in by_kind["router"] if h["display_name"] == "router-a")
    # the HA router's one parent: its L3 agents as one set (a service of the cloud host)
    assert ha["vars"]["vio_parent"] == f"{PREFIX}!l3-agents-{ha['vars']['vio_id']}"
    agents = services[ha["vars"]["vio_parent"]]
    assert agents["vars"]["vio_kind"] == "l3-agents" and "vio_parent" not in agents["vars"]
    assert agents["vars"]["vio_router_l3_agents"] is True and agents["vars"]["vio_router_id"] == ha["vars"]["vio_id"]
    assert all(isinstance(r["vars"].get("vio_parent", ""), str) for r in [*hosts.values(), *services.values()])
    # the controller clusters: one service each (by binary), the one parent of every nova-compute service
    conductor = services[f"{PREFIX}!nova-conductor"]
    assert conductor["vars"]["vio_kind"] == "cluster" and conductor["vars"]["vio_service_binary"] == "nova-conductor"
    assert "vio_service_host" not in conductor["vars"] and "vio_parent" not in conductor["vars"]
    computes = [s for s in services.values() if s["vars"]["vio_kind"] == "compute-service"]
    assert computes and all(s["vars"]["vio_parent"] == f"{PREFIX}!nova-conductor" for s in computes)
    capacity = next(s for s in services.values() if s["vars"]["vio_kind"] == "capacity")
    assert capacity["key"] == f"{capacity['host']}!capacity" and capacity["vars"]["vio_hypervisor_state_only"] is False
    aggregate = services[f"{PREFIX}!vms"]
    assert aggregate["check_command"] == "vio_vm" and "vio_parent" not in aggregate["vars"]


def test_export_keeps_tenant_text_macro_inert():
    assert export._data({"vio_name": "$host.vars.x$", "list": ["a$b"], "n": 3}) == \
        {"vio_name": "$$host.vars.x$$", "list": ["a$$b"], "n": 3}
    assert export._text("web\x01$x", macros=False) == "web\ufffd$x"


def test_export_refuses_passive_mode():
    try:
        export.records(None, RenderOptions(passive=Passive(60, 600)))  # type: ignore[arg-type]
    except ValueError as e:
        assert "active checks only" in str(e)
    else:
        raise AssertionError("passive mode exported")


def test_export_fails_with_one_line_without_an_inventory(demo_cloud, tmp_path):
    r = demo_cloud.run("vio-icinga", "export", "--json", "--cache-dir", str(tmp_path / "empty"), "--cache-only")
    assert r.rc == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1, str(r)
    assert "Traceback" not in r.stderr
