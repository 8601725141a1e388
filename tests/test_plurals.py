"""Counts and their nouns: plural only when plural ("1 VMs added", "all 1 ports of web-01 OK" were printed).

One rule (vio_checks.text.counted); the class test runs every check, vio-discover, the change log and the
generated config against a cloud with one object of each kind, and greps every line for a count of 1 with a
plural noun.
"""

from __future__ import annotations

import re
import uuid

import pytest
from conftest import CloudEnv

from vio_checks.icinga import COMMAND_MODULES
from vio_sim import Simulator
from vio_sim.generator import generate

#: `1 VMs`, `1 ports of`, but not `1 is` or a unit (`1 ms`).
_ONE_PLURAL = re.compile(r"(?<![\w.])1 ([A-Za-z][\w-]*s)\b")
_NOT_NOUNS = {"is", "was", "has", "its", "this", "as", "ms", "us", "yes", "status"}


def plural_ones(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if any(m.group(1) not in _NOT_NOUNS for m in _ONE_PLURAL.finditer(line.split("|", 1)[0]))]


def test_counted():
    from vio_checks.text import counted  # here: the class test below runs on any version

    assert counted(0, "VMs") == "0 VMs"
    assert counted(1, "VMs") == "1 VM"
    assert counted(2, "VMs") == "2 VMs"
    assert counted(1, "VMs added") == "1 VM added"
    assert counted(1, "failed migrations") == "1 failed migration"
    assert counted(1, "ports of web-01") == "1 port of web-01"
    assert counted(1, "ESXi hosts") == "1 ESXi host"
    assert counted(1, "dependencies", "dependency") == "1 dependency"


@pytest.fixture
def one_of_each(tmp_path):
    scenario = generate(vms=1, clusters=1, volumes=1, ports=1, routers=1, projects=1, faults=False)
    with Simulator(scenario=scenario) as sim:
        yield CloudEnv(sim, tmp_path)


def test_no_count_of_one_has_a_plural_noun(one_of_each):
    cloud = one_of_each
    outputs = [cloud.sweep(), cloud.run("vio-discover")]
    vm = cloud.sim.admin("GET", "/_sim/servers")["servers"][0]
    for module in COMMAND_MODULES.values():
        if module not in ("esxi", "datastore"):  # no vCenter in this cloud
            outputs.append(cloud.run(f"check_vio_{module}", "-v"))
    outputs.append(cloud.run("check_vio_interface", "--server", vm["id"], "-v"))
    outputs.append(cloud.run("vio-icinga", "generate", "--output", "-"))
    outputs.append(cloud.run("vio-icinga", "generate", "--format", "nagios", "--output", "-"))
    cloud.sim.add("servers", {**vm, "id": str(uuid.uuid4()), "name": "web-02"})  # one change
    cloud.sweep()
    outputs += [cloud.run("check_vio_inventory", "-v"), cloud.run("vio-discover", "--events")]
    bad = [(r.args[0].rsplit("/", 1)[-1], line) for r in outputs for line in plural_ones(r.stdout + r.stderr)]
    assert not bad, bad
    inventory = outputs[-2].status
    assert "1 VM added" in inventory, inventory
