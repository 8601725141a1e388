"""Controller clusters end to end against the simulator (issue 23): one down conductor of several is a
WARNING of the cluster and the standalone aggregate, and no generated check exits 2; a pod restart leaves
every check OK, names the stale record once --stale-after has passed, and changes no byte of `generate`."""

from __future__ import annotations

import time

from vio_checks.freshness import Result
from vio_checks.icinga import bulk
from vio_checks.icinga import cli as icli
from vio_checks.icinga import generate as g
from vio_checks.icinga import objects as o
from vio_checks.open_inventory import snapshot
from vio_sim.services import with_layout
from vio_sim.store import load_scenario

FRESH = ("--max-age", "1d")


def _generated_states(cloud, monkeypatch) -> dict[str, tuple[int, str]]:
    """Every generated object's exit code and status line, judged as its executable would (bulk)."""
    for k in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD", "VIO_CHECKS_CACHE_DIR"):
        monkeypatch.setenv(k, cloud.env[k])
    args = icli.build_parser().parse_args(["push", "--command-file", "/dev/null", *FRESH])
    result = snapshot(args, timeout=30)
    memory = Result(bulk.MemorySnapshot(result.snapshot), result.stale_reason)
    topo = o.build(memory.snapshot.inventory(), g.topology_options(args))
    ev = bulk.Evaluator(memory, args)
    out = {}
    for node in topo.sorted_nodes():
        outcome = ev.evaluate(node)
        out[node.key] = (outcome.code, outcome.text.splitlines()[0])
    return out


def test_one_down_conductor_warns_once_and_nothing_exits_2(make_cloud, monkeypatch) -> None:
    cloud = make_cloud(with_layout(load_scenario("healthy"), "ha"))
    cloud.sim.admin("PATCH", "/_sim/settings", {"service_down_time": 0, "agent_down_time": 0})
    cloud.sweep()
    conductors = [s for s in cloud.sim.admin("GET", "/_sim/compute_services")["compute_services"]
                  if s["binary"] == "nova-conductor"]
    assert len(conductors) == 3
    cloud.sim.admin("POST", f"/_sim/compute_services/{conductors[0]['id']}/stop")
    time.sleep(1.1)
    cloud.sweep()

    r = cloud.run("check_vio_service", "--binary", "nova-conductor")
    assert r.rc == 1, str(r)
    assert r.status.startswith("VIO SERVICE WARNING - cluster nova-conductor: reduced redundancy: 2 of 3 members "
                               "up (down: nova-conductor@"), str(r)
    assert r.perfdata["nova-conductor_up"] == 2 and r.perfdata["nova-conductor_down"] == 1
    r = cloud.run("check_vio_service", "--component", "nova")  # the standalone aggregate
    assert r.rc == 1 and "cluster nova-conductor: reduced redundancy" in r.status, str(r)
    r = cloud.run("check_vio_service", "--binary", "nova-conductor", "--critical-at-risk", "-c", "3:")
    assert r.rc == 2, str(r)  # standalone ranges may raise it

    states = _generated_states(cloud, monkeypatch)
    assert not [k for k, (code, _) in states.items() if code == 2], states
    warned = {k: line for k, (code, line) in states.items() if code != 0}
    assert list(warned) == [f"{o.default_prefix('vio-sim', None)}!nova-conductor"], warned  # pages once

    # every conductor down: the cluster is CRITICAL (all components down), and nova-compute, which
    # reports through nova-conductor, goes down after service_down_time (the simulator's rule)
    for c in conductors[1:]:
        cloud.sim.admin("POST", f"/_sim/compute_services/{c['id']}/stop")
    time.sleep(1.1)
    cloud.sweep()
    r = cloud.run("check_vio_service", "--binary", "nova-conductor")
    assert r.rc == 2 and "cluster nova-conductor: all components down: 0 of 3 members up" in r.status, str(r)
    states = _generated_states(cloud, monkeypatch)
    computes = {k: v for k, v in states.items() if "!nova-compute@" in k}
    assert computes and all(code == 2 for code, _ in computes.values()), computes
    # rootcause and impact name the cluster as the cause of a VM's trouble
    vm = next(s["name"] for s in cloud.sim.admin("GET", "/_sim/servers")["servers"] if s.get("status") == "ACTIVE")
    r = cloud.run("vio-icinga", "rootcause", vm)
    assert r.rc == 0 and r.lines[0].startswith(f"VM {vm} is unreachable because hypervisor "), str(r)
    assert "(cause: cluster nova-conductor CRITICAL: cluster nova-conductor: all components down: 0 of 3 " \
        "members up" in r.lines[0], str(r)
    r = cloud.run("vio-icinga", "impact", "nova-conductor")
    assert r.rc == 0 and r.lines[0].startswith("cluster nova-conductor: 2 hypervisors, 8 VMs, "), str(r)
    assert "2 nova-compute services" in r.lines[0], str(r)


def test_a_pod_restart_stays_ok_names_the_stale_record_and_changes_no_byte(make_cloud, monkeypatch,
                                                                            tmp_path) -> None:
    cloud = make_cloud(with_layout(load_scenario("healthy"), "ha", pods=True))
    cloud.sim.admin("PATCH", "/_sim/settings", {"service_down_time": 0, "agent_down_time": 0})
    cloud.sweep()
    before = cloud.run("vio-icinga", "generate", "--output", "-")
    assert before.rc == 0, str(before)
    old = next(s for s in cloud.sim.admin("GET", "/_sim/compute_services")["compute_services"]
               if s["binary"] == "nova-conductor")
    new_host = cloud.sim.admin("POST", f"/_sim/compute_services/{old['id']}/restart")["started"]["host"]
    time.sleep(1.1)
    cloud.sweep()

    # before --stale-after: replaced, not counted (a routine restart warns no one), said when it turns stale
    r = cloud.run("check_vio_service", "--binary", "nova-conductor")
    assert r.rc == 0, str(r)
    assert f"1 replaced record: nova-conductor@{old['host']} replaced by nova-conductor@{new_host}, stale in " \
        in r.status, str(r)
    # past it: stale, named, counted, with its removal command in the long output
    r = cloud.run("check_vio_service", "--binary", "nova-conductor", "--stale-after", "1s")
    assert r.rc == 0, str(r)
    assert r.status.startswith("VIO SERVICE OK - cluster nova-conductor: all 3 members up; 1 stale record: "
                               f"nova-conductor@{old['host']} (removal command in the long output)"), str(r)
    assert r.perfdata["nova-conductor_stale"] == 1
    assert any(line.startswith(f"stale: nova-conductor@{old['host']}") and "openstack " in line
               and "compute service delete" in line for line in r.lines), str(r)
    for args in ((), ("--component", "nova")):
        r = cloud.run("check_vio_service", *args, "--stale-after", "1s")
        assert r.rc == 0 and "1 stale record" in r.status, str(r)
    states = _generated_states(cloud, monkeypatch)
    assert all(code == 0 for code, _ in states.values()), {k: v for k, v in states.items() if v[0]}

    after = cloud.run("vio-icinga", "generate", "--output", "-")
    assert after.rc == 0 and after.stdout == before.stdout  # keyed by binary: pod churn changes no byte


def test_the_tree_has_one_service_per_cluster_and_nova_compute_below_the_conductors() -> None:
    """Topology, both renderers and export: the cluster objects and the one edge nova-compute →
    nova-conductor (topology.REPORTS_THROUGH), which fails only when the cluster is CRITICAL."""
    import json

    from icinga_helpers import small_inventory

    from vio_checks import topology as t
    from vio_checks.icinga import export, render_icinga2, render_nagios
    from vio_checks.model import Service

    inv = small_inventory()
    inv.compute_services += [Service(f"cc{i}", "nova", "nova-conductor", f"ctl-{i}", status="enabled",
                                     state="up") for i in (1, 2)]
    topo = o.build(inv)
    p = topo.prefix
    clusters = {n.service: n for n in topo.nodes.values() if n.kind == t.CLUSTER}
    assert sorted(clusters) == ["cinder-scheduler", "neutron-dhcp-agent", "nova-conductor", "nova-scheduler"]
    assert clusters["nova-conductor"].check.args == (("--binary", "nova-conductor"),)
    assert not [n for n in topo.nodes.values() if n.kind == t.COMPUTE_SERVICE and "conductor" in n.key]
    computes = [n for n in topo.nodes.values() if n.kind == t.COMPUTE_SERVICE]
    assert computes and all(n.parents == (f"{p}!nova-conductor",) for n in computes)
    volumes = [n for n in topo.nodes.values() if n.kind == t.VOLUME_SERVICE]
    assert volumes and all(n.parents == () for n in volumes)  # Cinder reports itself: no edge

    text = render_icinga2.render(topo)
    dep = text.split('child_service_name = "nova-compute@vio-compute-01"')[0].rsplit("object Dependency", 1)[1]
    assert 'parent_service_name = "nova-conductor"' in dep and "states" not in dep  # [OK, Warning]: a
    # WARNING cluster suppresses nothing, CRITICAL and UNKNOWN fail it, as every other dependency here
    nagios = render_nagios.render(topo)
    block = next(b for b in nagios.split("define ")[1:] if b.startswith("servicedependency")
                 and "dependent_service_description   nova-compute@vio-compute-01\n" in b)
    assert "service_description             nova-conductor\n" in block
    assert "notification_failure_criteria   u,c\n" in block  # not w: a WARNING cluster suppresses nothing

    data = json.loads(export.render_json(topo))
    rows = [r for rows in data.values() for r in rows if isinstance(r, dict)]
    cluster = next(r for r in rows if r.get("vars", {}).get("vio_kind") == t.CLUSTER
                   and r["vars"].get("vio_binary") == "nova-conductor")
    assert cluster["vars"]["vio_binary"] == "nova-conductor"
    compute = next(r for r in rows if r.get("vars", {}).get("vio_kind") == t.COMPUTE_SERVICE)
    assert compute["vars"]["vio_parent"] == f"{p}!nova-conductor"
