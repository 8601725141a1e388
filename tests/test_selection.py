"""The generator's filters travel to the aggregates it emits: project filters and monitoring=off select the same
objects in topology.py and in check_vio_vm / volume / interface / router (aggregate mode), so an excluded
object is judged nowhere and a kept one by its own check and, for what that cannot show, by its aggregate."""

from __future__ import annotations

import copy
import re
import shlex

import pytest
from icinga_e2e import E2E_SCENARIO

from vio_checks.model import Attachment, Port, Router, Server, Volume
from vio_checks.selection import Selection, monitoring_off, selection_args

# --- the rules (pure) ---------------------------------------------------------------------------------------


def test_projects_by_id_or_name_and_monitoring_off():
    names = {"p1": "shop", "p2": "lab"}
    shop, lab = Server("s1", "web", "p1"), Server("s2", "exp", "p2")
    off = Server("s3", "old", "p1", metadata={" Monitoring ": " Disabled "})
    assert monitoring_off(off) and not monitoring_off(shop)
    everything = Selection(project_names=names)
    assert not everything.active and all(everything.server_selected(s) for s in (shop, lab, off))
    by_name = Selection(exclude_projects=frozenset({"lab"}), skip_unmonitored=True, project_names=names)
    by_id = Selection(exclude_projects=frozenset({"p2"}), skip_unmonitored=True, project_names=names)
    for sel in (by_name, by_id):
        assert [sel.server_selected(s) for s in (shop, lab, off)] == [True, False, False]
    only = Selection(include_projects=frozenset({"shop"}), project_names=names)
    assert [only.server_selected(s) for s in (shop, lab, off)] == [True, False, True]
    servers = {s.id: s for s in (shop, lab, off)}
    on_off = Volume("v1", "d", "p1", attachments=[Attachment("s3")])
    on_gone = Volume("v2", "d", "p1", attachments=[Attachment("deleted")])  # a dangling attachment: judged
    assert not by_name.volume_selected(on_off, servers) and by_name.volume_selected(on_gone, servers)
    assert not by_name.volume_selected(Volume("v3", "d", "p2"), servers)
    vm_port = Port("port1", "", "p1", device_owner="compute:nova", device_id="s3")
    assert not by_name.port_selected(vm_port, off) and by_name.port_selected(vm_port, None)
    assert not by_name.router_selected(Router("r", "r", "p2")) and by_name.router_selected(Router("r", "r", "p1"))
    assert selection_args(by_name) == (("--exclude-projects", "lab"), ("--skip-unmonitored", None))
    assert selection_args(by_name, unmonitored=False) == (("--exclude-projects", "lab"),)


# --- the checks against the simulator ----------------------------------------------------------------------

#: The e2e cloud, plus a project "lab" whose objects all fail (an ERROR VM, a VM stuck in BUILD, an ERROR
#: volume, an ERROR router) and a shop VM with monitoring=off that fails with its volume and port.
SCENARIO = copy.deepcopy(E2E_SCENARIO)
SCENARIO["projects"].append({"name": "lab"})
SCENARIO["networks"].append({"name": "net-lab", "project": "lab", "cidr": "10.9.9.0/24"})
SCENARIO["routers"].append({"name": "router-lab", "project": "lab", "status": "ERROR"})
SCENARIO["servers"] += [
    {"name": "lab-err", "project": "lab", "flavor": "m1.small", "host": "vio-compute-01", "status": "ERROR"},
    {"name": "lab-stuck", "project": "lab", "flavor": "m1.small", "host": "vio-compute-01", "status": "BUILD",
     "updated": "-3h"},
    {"name": "off-01", "project": "shop", "flavor": "m1.small", "host": "vio-compute-02", "status": "ERROR",
     "metadata": {"monitoring": "off"}},
]
SCENARIO["ports"] += [{"name": "off-01-eth0", "network": "net-a", "device_id": "off-01", "status": "ERROR"},
                      {"name": "lab-err-eth0", "network": "net-lab", "device_id": "lab-err", "status": "ERROR"}]
SCENARIO["volumes"] += [
    {"name": "off-data", "project": "shop", "size": 1, "status": "error", "attachments": [{"server_id": "off-01"}]},
    {"name": "lab-data", "project": "lab", "size": 1, "status": "error"},
]
FAILING = ("lab-err", "lab-stuck", "off-01", "off-data", "lab-data", "router-lab")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from conftest import CloudEnv

    from vio_sim import Simulator

    with Simulator(scenario=copy.deepcopy(SCENARIO)) as sim:
        env = CloudEnv(sim, tmp_path_factory.mktemp("selection"))
        env.sweep()
        yield env


@pytest.mark.parametrize("check, unfiltered, filters, total", [
    ("check_vio_vm", 2, ("--exclude-projects", "lab", "--skip-unmonitored"), 4),
    ("check_vio_volume", 2, ("--exclude-projects", "lab", "--skip-unmonitored"), 2),
    ("check_vio_interface", 2, ("--exclude-projects", "lab", "--skip-unmonitored"), 4),
    ("check_vio_router", 2, ("--exclude-projects", "lab"), 2),
])
def test_aggregates_judge_only_the_selected_objects(cloud, check, unfiltered, filters, total):
    r = cloud.run(check, "--cache-only")
    assert r.rc == unfiltered, str(r)
    r = cloud.run(check, "--cache-only", *filters)
    assert r.rc == 0 and r.perfdata["total"] == total, str(r)
    assert not any(name in r.stdout for name in FAILING), str(r)


def test_project_filters_match_ids_and_names(cloud):
    lab_id = cloud.sim.get("projects", "lab")["id"]
    by_id = cloud.run("check_vio_vm", "--cache-only", "--exclude-projects", f"{lab_id},nothing", "--skip-unmonitored")
    assert by_id.rc == 0 and by_id.perfdata["total"] == 4, str(by_id)
    only_lab = cloud.run("check_vio_vm", "--cache-only", "--include-projects", "lab")
    assert only_lab.rc == 2 and only_lab.perfdata["total"] == 2 and "lab-err" in only_lab.stdout, str(only_lab)
    # monitoring=off is honoured only when asked: the unmonitored ERROR VM still counts without the flag
    shop = cloud.run("check_vio_vm", "--cache-only", "--include-projects", "shop")
    assert shop.rc == 2 and shop.perfdata["total"] == 5 and "off-01" in shop.stdout, str(shop)
    named = cloud.run("check_vio_vm", "--cache-only", "--name", "lab-err", "--exclude-projects", "lab")
    assert named.rc == 2, str(named)  # a named object is judged whatever the aggregate filters say


def _nagios_commands(text: str) -> dict[str, str]:
    """host!service → check_command of every generated service (Nagios syntax: one line each)."""
    out, host, service = {}, None, None
    for line in text.splitlines():
        m = re.match(r"\s+(host_name|service_description|check_command)\s+(.*)$", line)
        if not m:
            if line.startswith("}"):
                host = service = None
            continue
        if m.group(1) == "host_name":
            host = m.group(2)
        elif m.group(1) == "service_description":
            service = m.group(2)
        elif service:
            out[f"{host}!{service}"] = m.group(2)
    return out


def test_an_excluded_failure_is_reported_nowhere(cloud, tmp_path):
    """The generated config, excluding project lab: no lab object is monitored, and the aggregates it emits
    (run as emitted) are all OK and name none of them; without the filters on their command lines the vms
    aggregate warned about the stuck lab VM while ignoring the ERROR one."""
    r = cloud.run("vio-icinga", "generate", "--format", "nagios", "--exclude-projects", "lab", "--output", "-",
                  "--cache-only")
    assert r.rc == 0, str(r)
    for name in FAILING:
        assert name not in r.stdout, name
    prefix = "vio-vio-sim"
    commands = {k: v for k, v in _nagios_commands(r.stdout).items() if k.startswith(f"{prefix}!")}
    assert {"vms", "volumes", "interfaces", "routers"} <= {k.split("!", 1)[1] for k in commands}
    for key, command in sorted(commands.items()):
        name, _, args = command.partition("!")
        args = args.replace("$$", "$").replace("\\!", "!").replace("\\;", ";")
        run = cloud.run("check_" + name, *shlex.split(args), "--cache-only")
        assert run.rc == 0, (key, str(run))
        assert not any(n in run.stdout for n in FAILING), (key, str(run))
    assert "--exclude-projects lab --skip-unmonitored --ignore-states critical" in commands[f"{prefix}!vms"]
