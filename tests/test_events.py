"""Inventory change tracking: the diff and migration merge (in-process), the event log's retention
(freezegun), and the whole path through the simulator: sweeps, check_vio_inventory, check_vio_vm and
`vio-discover --events`."""

import json
import time

import pytest
from freezegun import freeze_time

from vio_checks.cache import Store
from vio_checks.changes import Event, changes
from vio_checks.eventlog import EventLog
from vio_checks.freshness import record_sweep
from vio_checks.judge.inventory import InventoryOptions, judge_inventory
from vio_checks.judge.verdict import State
from vio_checks.model import Hypervisor, Inventory, Meta, Migration, Server, Volume

HA, HB = "domain-c8.vc", "domain-c9(Cluster-B)"


def inv(at, servers, migrations=(), hv_state=("up", "up"), volumes=()):
    i = Inventory(meta=Meta(cloud="c", region=None, fetched_at=at, seconds=1, requests=1))
    i.hypervisors = [Hypervisor(id="1", hostname=HA, state=hv_state[0], service_host="cmp1"),
                     Hypervisor(id="2", hostname=HB, state=hv_state[1], service_host="cmp2")]
    i.servers = [Server(id=sid, name=f"vm-{sid}", project_id="p", hypervisor_hostname=hv, host=None,
                        created=at - 5000) for sid, hv in servers]
    i.migrations = list(migrations)
    i.volumes = list(volumes)
    return i


def kinds(events):
    return sorted((e.kind, e.id) for e in events)


def test_added_deleted_moved_without_records():
    a = inv(1000, [("1", HA), ("2", HA)])
    b = inv(1100, [("1", HB), ("3", HA)])
    events, _ = changes(a, b, {})
    assert kinds(events) == [("vm_added", "3"), ("vm_deleted", "2"), ("vm_moved", "1")]
    moved = next(e for e in events if e.kind == "vm_moved")
    assert (moved.from_, moved.to, moved.cause) == (HA, "Cluster-B", "unknown (moved between sweeps)")


def test_migration_records_explain_moves_and_catch_reversals():
    a = inv(1000, [("1", HA), ("2", HA)])
    recs = [
        Migration(id="m1", server_id="1", migration_type="live-migration", status="completed",
                  source_node=HA, dest_node=HB, updated=1050),
        # VM 2 went to B and came back between the sweeps: the diff alone sees nothing.
        Migration(id="m2", server_id="2", migration_type="live-migration", status="completed",
                  source_node=HA, dest_node=HB, updated=1020),
        Migration(id="m3", server_id="2", migration_type="migration", status="finished",
                  source_node=HB, dest_node=HA, updated=1040),
        Migration(id="m4", server_id="1", migration_type="live-migration", status="error",
                  source_node=HA, dest_node=HB, updated=1010),
        Migration(id="m5", server_id="1", migration_type="live-migration", status="running",
                  source_node=HA, dest_node=HB, updated=1090),
    ]
    b = inv(1100, [("1", HB), ("2", HA)], migrations=recs)
    events, seen = changes(a, b, {})
    assert [(e.kind, e.id, e.cause) for e in events] == [
        ("migration_failed", "1", "live-migration error"),
        ("vm_moved", "2", "live-migration"),
        ("vm_moved", "2", "cold migration"),
        ("vm_moved", "1", "live-migration"),
    ]
    assert seen == {"m1": "completed", "m2": "completed", "m3": "finished", "m4": "error"}
    # The next sweep sees the same records again: nothing is reported twice.
    again, _ = changes(b, inv(1200, [("1", HB), ("2", HA)], migrations=recs), seen)
    assert again == []


def test_hypervisor_state_changes_and_volumes():
    a = inv(1000, [], volumes=[Volume(id="v1", name="a")])
    b = inv(1100, [], hv_state=("down", "up"), volumes=[Volume(id="v2", name="b", created=1050)])
    events, _ = changes(a, b, {})
    assert kinds(events) == [("hypervisor_down", "1"), ("volume_added", "v2"), ("volume_deleted", "v1")]
    assert next(e for e in events if e.kind == "volume_added").time == 1050


def test_evacuation_is_one_story():
    now = 10_000.0
    events = [Event(now - 600, "hypervisor_down", "1", HA)] + [
        Event(now - 300, "vm_moved", str(i), f"vm{i}", "p", HA, "Cluster-B", "evacuation") for i in range(37)
    ]
    v = judge_inventory(sorted(events, key=lambda e: -e.time), InventoryOptions(), now)
    assert v.state == State.OK
    assert f"{HA} down at" in v.summary and "37 VMs evacuated to Cluster-B" in v.summary
    assert {p.label: p.value for p in v.perf}["migrated"] == 37


def test_inventory_thresholds_and_window():
    now = 10_000.0
    events = [Event(now - 100, "migration_failed", "1", "a", cause="live-migration error"),
              Event(now - 200, "vm_added", "2", "b"), Event(now - 7200, "vm_added", "3", "c")]
    v = judge_inventory(events, InventoryOptions(), now)
    assert v.state == State.WARNING and v.summary.startswith("1 failed migration in the last 60 min")
    perf = {p.label: (p.value, p.warn) for p in v.perf}
    assert perf == {"added": (1, None), "deleted": (0, None), "migrated": (0, None), "failed": (1, "0")}
    opts = InventoryOptions(thresholds={"added": ("0", "5")})
    assert judge_inventory(events, opts, now).state == State.WARNING
    assert judge_inventory(events, InventoryOptions(window=86400, thresholds={"added": (None, "1")}),
                           now).state == State.CRITICAL


def test_log_retention_by_age_and_count(tmp_path):
    store = Store(tmp_path / "ns")
    log = EventLog(store)
    with freeze_time("2026-11-24 10:00:00") as clock:
        t0 = time.time()
        for day in range(10):
            log.append([Event(time.time(), "vm_added", f"vm{day}", f"n{day}")], {}, now=time.time())
            clock.tick(86400)
        kept = log.recent(0)
        assert len(kept) == 8 and min(e.time for e in kept) == t0 + 2 * 86400  # 7 days back, inclusive
        assert log.for_object("vm0", 0) == [] and store._get("evidx|vm0") is None
        log.append([Event(time.time(), "vm_added", f"x{i}", "") for i in range(50)], {}, now=time.time(),
                   max_events=20)
        assert len(log.recent(0)) == 20
        assert log.recent(0, limit=5)[0].id in {f"x{i}" for i in range(30, 50)}


def test_record_sweep_is_one_transaction_with_the_snapshot(tmp_path):
    store = Store(tmp_path / "ns")
    record_sweep(store, inv(1000, [("1", HA)]))
    record_sweep(store, inv(1100, [("1", HB), ("2", HA)]))
    assert kinds(EventLog(store).recent(0)) == [("vm_added", "2"), ("vm_moved", "1")]
    assert store.current().get("servers", "1").hypervisor_hostname == HB


# --- through the simulator ------------------------------------------------------------------------

HEALTHY_A = "domain-c8.3c6a1f2e-8d4b-4e7a-9f10-2b5c7d9e1a44"
HEALTHY_B = "domain-c12.3c6a1f2e-8d4b-4e7a-9f10-2b5c7d9e1a44"


def server_id(cloud, name):
    return cloud.sim.get("servers", name)["id"]


def test_changes_through_sweeps(healthy_cloud):
    c = healthy_cloud
    c.sweep()
    web = server_id(c, "shop-web-01")
    jump = server_id(c, "bo-jump-01")
    c.sim.migrate("shop-web-01", "vio-compute-02", type="live-migration")
    c.sim.migrate("shop-db-01", "vio-compute-02", type="live-migration", status="error")
    c.sim.delete("servers", "bo-jump-01")
    c.sim.add("servers", {"name": "new-01", "host": "vio-compute-01", "project": "webshop"})
    c.sim.reset_counters()
    c.sweep()
    # Tracking costs no request beyond the sweep's own single os-migrations call.
    paths = c.sim.counters()["paths"]
    assert paths["GET /compute/v2.1/os-migrations"] == 1

    r = c.run("check_vio_inventory")
    assert r.rc == 1, r
    assert r.status.startswith("VIO INVENTORY WARNING - 1 failed migration in the last 60 min")
    assert r.perfdata == {"added": 1, "deleted": 1, "migrated": 1, "failed": 1}
    assert any("vm_moved shop-web-01" in line and "(live-migration)" in line for line in r.lines)

    r = c.run("check_vio_vm", "--id", web)
    assert r.rc == 0 and f"moved from {HEALTHY_A} to {HEALTHY_B}" in r.status and "(live-migration)" in r.status, r
    r = c.run("check_vio_vm", "--id", jump)
    assert r.rc == 0 and "bo-jump-01 deleted at" in r.status and "next config generation" in r.status, r
    r = c.run("check_vio_vm", "--id", "00000000-0000-0000-0000-000000000000")
    assert r.rc == 3 and "not found in inventory" in r.status, r

    j = c.run("vio-discover", "--events", "--json")
    events = json.loads(j.stdout)
    assert {e["kind"] for e in events} >= {"vm_added", "vm_deleted", "vm_moved", "migration_failed"}
    assert all(e["time"].endswith("Z") and set(e) == {"time", "kind", "id", "name", "project", "from", "to",
                                                      "cause"} for e in events)
    t = c.run("vio-discover", "--events", "--since", "1h")
    assert t.rc == 0 and "vm_deleted bo-jump-01" in t.stdout, t
    assert c.run("vio-discover", "--events", "--since", "2999-01-01T00:00:00Z").stdout.startswith("no events")


def test_lost_sweep_and_reversed_migration(healthy_cloud):
    c = healthy_cloud
    c.sweep()
    c.sim.fault(path=".", status=503)
    c.sim.migrate("shop-web-01", "vio-compute-02")
    c.sim.migrate("shop-web-01", "vio-compute-01", type="migration")  # back again: the diff sees nothing
    c.sim.delete("servers", "bo-jump-01")
    assert c.run("vio-discover", "-t", "10").rc == 2
    c.sim.clear_faults()
    c.sweep()
    r = c.run("check_vio_inventory", "--migrated-warning", "1")
    assert r.perfdata["migrated"] == 2 and r.perfdata["deleted"] == 1, r
    assert r.rc == 1 and "2 VMs migrated" in r.status, r


def test_evacuation_of_a_whole_hypervisor(healthy_cloud):
    c = healthy_cloud
    c.sweep()
    c.sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
    c.sweep()
    on_a = [s["name"] for s in c.sim.dump()["servers"] if s["OS-EXT-SRV-ATTR:host"] == "vio-compute-01"]
    assert len(on_a) >= 3
    for name in on_a:
        c.sim.migrate(name, "vio-compute-02", type="evacuation")
    c.sweep()
    r = c.run("check_vio_inventory")
    assert r.rc == 0, r
    assert f"{HEALTHY_A} down at" in r.status and f"{len(on_a)} VMs evacuated to {HEALTHY_B}" in r.status, r


@pytest.mark.parametrize("argv", [["--window", "soon"], ["--failed-warning", "x:y:z"]])
def test_inventory_bad_options(healthy_cloud, argv):
    r = healthy_cloud.run("check_vio_inventory", *argv)
    assert r.rc == 3 and "bad option" in r.status, r
