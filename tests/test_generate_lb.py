"""Load balancers in the generated config: Icinga 2 and Nagios validated by the real binaries, tenant strings
inert, export records and push judging them in bulk, deterministic output.

These render the `vio_loadbalancer` CheckCommand's arguments, so they need check_vio_loadbalancer's module
(branch i24-lb): refused with needs.not_run until it is there.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from harness import needs
from icinga_helpers import HOSTILE, ICINGA_DIR, uid
from lb_helpers import HV1, P, lb_inventory, lb_key, member_key

from vio_checks import topology as t
from vio_checks.freshness import Result
from vio_checks.icinga import RenderOptions, bulk, export, push, render_icinga2, render_nagios
from vio_checks.icinga import objects as o
from vio_checks.icinga.generate import validate_icinga2, validate_nagios

needs_icinga2 = pytest.mark.usefixtures("icinga2_binary")
needs_nagios = pytest.mark.usefixtures("nagios4_binary")
SHARED = {"vio_os_cloud": "demo", "vio_os_region_name": "RegionOne"}


@pytest.fixture(autouse=True)
def _check_module() -> None:
    needs.module("vio_checks.checks.loadbalancer", "check_vio_loadbalancer: merge branch i24-lb",
                 suite="LOAD BALANCER CONFIG")


def render(inv, fmt: str = "icinga2") -> str:
    topo = o.build(inv)
    ro = RenderOptions(shared_vars=dict(SHARED))
    return render_icinga2.render(topo, ro) if fmt == "icinga2" else render_nagios.render(topo, ro)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@needs_icinga2
def test_load_balancers_validate_with_icinga2_and_keep_tenant_text_inert(tmp_path):
    keep = tmp_path / "state"
    v = validate_icinga2([write(tmp_path, "vio.conf", render(lb_inventory(hostile=True)))], ICINGA_DIR, keep=keep)
    assert v.ok, v.errors()
    objects = full_names(keep / "cache" / "icinga2.debug")
    shop = objects[("Host", lb_key("shop"))]
    assert shop["display_name"] == f"shop-lb {HOSTILE}"  # exactly what the tenant typed, as text
    assert shop["vars"]["vio_name"] == f"shop-lb {HOSTILE}".replace("$", "$$")
    assert shop["check_command"] == "vio_loadbalancer"
    assert shop["vars"]["vio_loadbalancer_id"] == uid("lb", "shop")
    assert shop["max_check_attempts"] == 5
    svc = objects[("Service", member_key("shop", "web-01"))]
    assert svc["vars"]["vio_loadbalancer_member"] == uid("member", "web-01")
    assert svc["max_check_attempts"] == 7
    deps = {(d["child_host_name"], d["child_service_name"], d["parent_host_name"], d["parent_service_name"])
            for (kind, _), d in objects.items() if kind == "Dependency"}
    web01 = f"{P}-vm-{uid('vm', 'web-01')}"
    assert (lb_key("shop"), f"member-{uid('member', 'web-01')}", web01, "") in deps
    assert (lb_key("shop"), "", f"{P}-router-{uid('router', 'ha')}", "") in deps
    assert (lb_key("edge"), "", P, "") in deps
    assert not [d for d in deps if d[0] == lb_key("edge") and d[1]]  # the unjoined member: its host only


def full_names(debug_file: Path) -> dict[tuple[str, str], dict]:
    """(type, full object name) → properties (icinga_objects keys services by their short name)."""
    return {(kind, props["__name"]): props for (kind, _), props in _records(debug_file)}


def _records(debug_file: Path) -> list[tuple[tuple[str, str], dict]]:
    data, out, pos = debug_file.read_bytes(), [], 0
    while pos < len(data):
        colon = data.index(b":", pos)
        length = int(data[pos:colon])
        record = json.loads(data[colon + 1:colon + 1 + length])
        out.append(((record["type"], record["name"]), record["properties"]))
        pos = colon + 1 + length + 1
    return out


@needs_nagios
def test_load_balancers_validate_with_nagios_and_stay_inert(tmp_path):
    text = render(lb_inventory(hostile=True), "nagios")
    v = validate_nagios([write(tmp_path, "vio.cfg", text)], ICINGA_DIR)
    assert v.ok, v.errors()
    assert f"host_name                       {lb_key('shop')}" in text or lb_key("shop") in text
    for line in text.splitlines():
        key, _, val = line.strip().partition(" ")
        if key in ("alias", "display_name") or key.startswith("_VIO"):
            assert not re.search(r"[`$&|'\"<>\\;]", val), line
    # the member's VM host is a parent of a service: Nagios gets that host's `state` service
    assert re.search(rf"host_name\s+{re.escape(f'{P}-vm-' + uid('vm', 'web-01'))}\n\s+service_description\s+state",
                     text)


def test_the_config_is_deterministic():
    assert render(lb_inventory(hostile=True)) == render(lb_inventory(hostile=True))
    assert render(lb_inventory(), "nagios") == render(lb_inventory(), "nagios")


def test_no_octavia_renders_no_load_balancer():
    text = render(lb_inventory(octavia=False))
    assert "vio_loadbalancer" not in text and "-lb-" not in text


def test_export_records_carry_the_tree():
    recs = export.records(o.build(lb_inventory(hostile=True)), RenderOptions(shared_vars=dict(SHARED)))
    shop = next(h for h in recs["hosts"] if h["object_name"] == lb_key("shop"))
    assert shop["template"] == "vio-loadbalancer-host" and shop["check_command"] == "vio_loadbalancer"
    assert shop["vars"][export.PARENT_VAR] == f"{P}-router-{uid('router', 'ha')}"
    assert shop["vars"]["vio_name"] == export._text(f"shop-lb {HOSTILE}", macros=True)  # inert for Director
    web01 = next(s for s in recs["services"] if s["key"] == member_key("shop", "web-01"))
    assert web01["vars"][export.PARENT_VAR] == f"{P}-vm-{uid('vm', 'web-01')}"
    outside = next(s for s in recs["services"] if s["key"] == member_key("edge", "outside"))
    assert export.PARENT_VAR not in outside["vars"]
    json.dumps(recs)  # serialisable


class _Snap:
    """An in-memory stand-in for cache.Snapshot over an Inventory (as tests/test_push.py's)."""

    def __init__(self, inv):
        self.inv, self.meta, self.store, self.gen, self.layout = inv, inv.meta, None, 1, {}

    def age(self, now=None):
        return max(0.0, (time.time() if now is None else now) - self.meta.fetched_at)

    def all(self, kind):
        return list(self.inv.of_kind(kind))


def test_push_judges_load_balancers_and_members_in_bulk_below_their_parents():
    inv = lb_inventory()
    inv.meta.fetched_at = time.time()
    topo = o.build(inv)
    evaluator = bulk.Evaluator(Result(bulk.MemorySnapshot(_Snap(inv))))
    levels = {item.key: item for items in push.item_levels(topo, evaluator, nagios=False) for item in items}
    shop, web01 = levels[lb_key("shop")], levels[member_key("shop", "web-01")]
    assert "MissingCheck" not in shop.outcome.text and "no check" not in shop.outcome.text, shop.outcome.text
    assert shop.code == 0 and shop.outcome.code == 1, shop.outcome.text  # DEGRADED: WARNING, a host UP
    assert levels[f"{P}-vm-{uid('vm', 'web-01')}"].level < web01.level
    assert levels[HV1].level < levels[f"{P}-vm-{uid('vm', 'web-01')}"].level
    assert {k for k in levels if k.startswith(lb_key("shop"))} == {
        lb_key("shop"), *(member_key("shop", m) for m in ("web-01", "web-02", "app-01"))}
    assert t.LB_MEMBER in {topo.get(k).kind for k in levels}


@needs_icinga2
@needs_nagios
@pytest.mark.parametrize("fmt", ["icinga2", "nagios"])
def test_passive_mode_validates_with_load_balancers(tmp_path, fmt):
    from vio_checks.icinga.passive import Passive

    topo = o.build(lb_inventory(hostile=True))
    ro = RenderOptions(shared_vars=dict(SHARED), passive=Passive(interval=60, ttl=600))
    if fmt == "icinga2":
        v = validate_icinga2([write(tmp_path, "vio.conf", render_icinga2.render(topo, ro))], ICINGA_DIR)
    else:
        v = validate_nagios([write(tmp_path, "vio.cfg", render_nagios.render(topo, ro))], ICINGA_DIR)
    assert v.ok, v.errors()
