"""The Icinga Director path, with Debian 12's icingaweb2-module-director 1.10, step by step as README's
"With Icinga Director" section gives it:

    vio-icinga director-basket --import-url URL | icingacli director basket restore
    vio-icinga export --json > the file behind URL
    icingacli director importsource run / syncrule run (groups, hosts, services) / config deploy

then the e2e scenario 2 on the objects Director made (hypervisor down: only nova-compute notifies, its
VMs are unreachable), with the dependency tree from icinga/director/vio-dependencies.conf's apply rules;
and a VM deleted in the cloud purged by the next import and sync.
"""

from __future__ import annotations

import copy
import json
import re
import time

import pytest
from icinga_e2e import E2E_SCENARIO, PREFIX, make_pki, wait_for
from test_e2e_icinga import assert_only_nova_compute_alerts, healthy

from .director import APT_PACKAGES, Director, DirectorIcinga2, missing
from .webstack import icinga2_missing, require_installed

EXPORT = "vio.json"
_DEP = re.compile(r'object Dependency "[^"]+" \{\n(.*?)\n\}', re.S)
_ATTR = re.compile(r'^\s+(parent_host_name|parent_service_name|child_host_name|child_service_name) = "([^"]+)"', re.M)


def generated_edges(cloud) -> set[tuple[str, str]]:
    """(child, parent) of every Dependency `vio-icinga generate` writes for the cloud (one file for every
    Icinga version)."""
    r = cloud.run("vio-icinga", "generate", "--output", "-")
    assert r.rc == 0, str(r)
    edges = set()
    for body in _DEP.findall(r.stdout):
        a = dict(_ATTR.findall(body))
        child = a["child_host_name"] + (f"!{a['child_service_name']}" if "child_service_name" in a else "")
        parent = a["parent_host_name"] + (f"!{a['parent_service_name']}" if "parent_service_name" in a else "")
        edges.add((child, parent))
    return edges


@pytest.fixture
def director(make_cloud, tmp_path):
    """(cloud, icinga, director): the e2e cloud swept, Icinga 2 (no vio config) and Director kickstarted."""
    require_installed("DIRECTOR", missing() + icinga2_missing(), APT_PACKAGES)
    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = DirectorIcinga2(tmp_path / "icinga2", make_pki(tmp_path / "pki"), cloud.env)
    director = Director(tmp_path / "director")
    try:
        icinga.start()
        director.start(icinga)
        yield cloud, icinga, director
    except BaseException:
        print(icinga.log_tail(), director.d.all_tails(), sep="\n")
        raise
    finally:
        director.stop()
        icinga.stop()


def listed(director: Director, what: str) -> dict[str, str]:
    """name → id from `icingacli director importsource list` / `syncrule list`, as README has you read it."""
    rows = re.findall(r"^\s*(\d+) \| (.+?)\s*$", director.cli(what, "list").stdout, re.M)
    return {name: id_ for id_, name in rows}


def deploy(icinga: DirectorIcinga2, director: Director) -> None:
    """`icingacli director config deploy`, then wait until Icinga runs the new config."""
    old_pid = icinga._worker_pid()
    out = director.cli("config", "deploy").stdout
    assert "deploy" in out.lower(), out
    wait_for(lambda: icinga._worker_pid() not in (None, old_pid), 90, "Icinga to reload Director's config",
             interval=0.2)
    wait_for(lambda: PREFIX in icinga.last_checks(), 30, f"host {PREFIX} after the reload")


def import_and_sync(director: Director, ids: dict[str, str], rules: dict[str, str], names) -> None:
    """README's every-run steps: each import source, one second, then each sync rule (in `names`' order)."""
    for name in names:
        director.cli("importsource", "run", "--id", ids[name])
    time.sleep(1)  # Director 1.10 purges from the import runs that started before the last sync, to the second
    for name in names:
        director.cli("syncrule", "run", "--id", rules[name])


def test_director_basket_import_sync_deploy_and_the_suppression_holds(director):
    cloud, icinga, d = director

    # 1. the basket: CheckCommands (every argument with its custom var) and templates become Director objects
    url = d.import_url(EXPORT)
    r = cloud.run("vio-icinga", "director-basket", "--import-url", url)
    assert r.rc == 0, str(r)
    basket = json.loads(r.stdout)
    d.cli("basket", "restore", stdin=r.stdout)
    shown = json.loads(d.cli("command", "show", "vio_vm", "--json").stdout)
    assert shown["command"] == "VioChecksDir + /check_vio_vm" and shown["imports"] == ["vio-check-command"]
    assert shown["arguments"]["--id"]["value"] == "$vio_vm_id$"
    for command, spec in basket["Command"].items():
        got = json.loads(d.cli("command", "show", command, "--json").stdout)
        assert set(got.get("arguments", {})) == set(spec["arguments"]), command
    tpl = json.loads(d.cli("host", "show", "vio-vm-host", "--json").stdout)
    assert (tpl["check_command"], tpl["max_check_attempts"], tpl["icon_image"]) == ("vio_vm", "6", "desktop"), tpl

    # 2. the inventory: export → import sources → sync rules (groups first) → deploy
    r = cloud.run("vio-icinga", "export", "--json")
    assert r.rc == 0, str(r)
    (d.files / EXPORT).write_text(r.stdout)
    exported = json.loads(r.stdout)
    ids, rules = listed(d, "importsource"), listed(d, "syncrule")
    import_and_sync(d, ids, rules, ("vio-checks host groups", "vio-checks service groups", "vio-checks hosts",
                                    "vio-checks services"))
    deploy(icinga, d)

    # Icinga runs exactly the objects the generator would write, with the same tree
    objs = icinga.objects()
    hosts = {h["object_name"] for h in exported["hosts"]}
    services = {s["key"] for s in exported["services"]}
    assert {n for n in objs if "!" not in n} == hosts
    assert {n for n in objs if "!" in n} == services
    parents = icinga.parents()
    edges = {(c, p) for c, ps in parents.items() for p in ps if not (p == c.split("!")[0] and "!" in c)}
    assert edges == generated_edges(cloud)

    # 3. scenario 2 on Director's objects: nova-compute on vio-compute-01 goes down
    healthy(icinga)
    cloud.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    cloud.sweep()
    assert_only_nova_compute_alerts(icinga, icinga.drive())

    # 4. a VM deleted in the cloud: the next import and sync delete its host and services, nothing else
    gone = icinga.one("vm", vio_name="web-02").name
    cloud.sim.delete("servers", "web-02")
    cloud.sweep()
    r = cloud.run("vio-icinga", "export", "--json")
    assert r.rc == 0, str(r)
    (d.files / EXPORT).write_text(r.stdout)
    exported = json.loads(r.stdout)
    import_and_sync(d, ids, rules, ("vio-checks hosts", "vio-checks services"))
    deploy(icinga, d)
    objs = icinga.objects()
    assert gone not in objs and not [n for n in objs if n.startswith(f"{gone}!")], sorted(objs)
    assert {n for n in objs if "!" not in n} == {h["object_name"] for h in exported["hosts"]}
    assert {n for n in objs if "!" in n} == {s["key"] for s in exported["services"]}
