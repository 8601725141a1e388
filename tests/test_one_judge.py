"""One way to judge a node: the check executable (as Icinga runs it), `vio-icinga push` (bulk.Evaluator)
and `vio-icinga rootcause` (states.judge_states) give the same state and the same output for every object
of the demo cloud and of a faulty, stale one; and the CheckCommand → check lookup never falls back.

What runs as what: every node's executable runs as a real subprocess (about 0.1 s each: the whole test is a
few seconds per cloud); push and rootcause judge every node in-process through the functions their
commands call, and both commands also run as real subprocesses (push once over every node; rootcause on one
node of each kind, its chain covering the parents), compared with the in-process judgement made around
them. Outputs that tell an age (the cloud host's `age=9.4s`, "stuck for 3 h 0 min") can change between two
judgements a moment apart, so each comparison accepts the judgement made just before or just after the
other path's, and, only where those two differ, one that differs from them in its digits alone.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from conftest import CloudEnv

from vio_checks import topology as t
from vio_checks.cache import Store, namespace
from vio_checks.checks import MissingCheck, spec_of
from vio_checks.freshness import Result
from vio_checks.icinga import COMMAND_MODULES, COMMANDS, DUMMY, bulk, states, targets
from vio_checks.icinga import cli as icli
from vio_checks.icinga import objects as o
from vio_checks.icinga.analysis import _first_line, chain
from vio_checks.icinga.load import load_tree

#: The demo cloud, read fresh (no refresh mid-test: a refresh would change ages in the output).
FRESH = ("--max-age", "1d")
#: The faulty cloud, read from an inventory ten minutes old that nobody refreshes: every object's output
#: carries the stale note ("NOTE: inventory 10 min old: ...").
STALE = ("--cache-only", "--max-age", "1m", "--max-stale", "1h")
#: How far the faulty cloud's inventory is aged: ten minutes and a bit, so its "10 min" holds ~50 s.
AGED = 605


def make_faulty(cloud: CloudEnv) -> None:
    """Faults on top of the demo's (a down nova-compute, an ERROR VM, a dead L3 agent, a router in ERROR, an
    admin-down router, DOWN ports, a stuck volume): a second compute service and its hypervisor down, a VM
    ERROR, the cinder-volume backend down, a volume in error, the DHCP agent dead; then one sweep, aged."""
    sim = cloud.sim
    sim.patch("compute_services", "nova-compute@vio-compute-02", state="down")
    sim.patch("servers", "web-01", status="ERROR")
    sim.patch("volume_services", "cinder-volume@vio-controller-01@vmdk", state="down")
    sim.patch("volumes", "db-01-data", status="error")
    sim.patch("agents", "neutron-dhcp-agent@vio-network-01", alive=False)
    cloud.sweep()
    store = Store(cloud.cache_dir / namespace(cloud.cloud, None))
    inv = store.current().inventory()
    inv.meta.fetched_at -= AGED
    store.store(inv)
    store.close()


def _env(cloud: CloudEnv, monkeypatch) -> None:
    for k in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD", "VIO_CHECKS_CACHE_DIR"):
        monkeypatch.setenv(k, cloud.env[k])


def _argv(node: o.Node) -> list[str]:
    return [x for opt, v in node.check.args for x in ((opt,) if v is None else (opt, v))]


def _paths(cloud: CloudEnv, monkeypatch, options: tuple[str, ...]):
    """(tree, push's judge, rootcause's judge): each built as its command builds it from these options."""
    _env(cloud, monkeypatch)
    parser = icli.build_parser()
    push_args = parser.parse_args(["push", "--command-file", "/dev/null", *options])
    result, topo = load_tree(push_args)  # push's round reads the same snapshot and tree (run_round)
    memory = Result(bulk.MemorySnapshot(result.snapshot), result.stale_reason, result.swept, result.error)
    push = bulk.Evaluator(memory, push_args)
    rc_args = parser.parse_args(["rootcause", "x", *options])
    rc_result, _ = load_tree(rc_args)  # what run_rootcause hands judge_states
    return topo, push, states.judge_states(rc_result, rc_args)


def _agrees(got: tuple[int, str], before: tuple[int, str], after: tuple[int, str]) -> bool:
    """`got` is the judgement made before or after it, or, when those differ (an age moved on), differs
    from both in its digits alone."""
    if got in (before, after):
        return True
    if before == after or got[0] not in (before[0], after[0]):
        return False
    digits = re.compile(r"\d+(?:\.\d+)?")
    return digits.sub("#", got[1]) == digits.sub("#", before[1]) == digits.sub("#", after[1])


def _state(node: o.Node, code: int) -> int:
    return bulk.host_state(code) if node.is_host else code


def _same_everywhere(cloud: CloudEnv, monkeypatch, options: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Every node: the executable (subprocess), push's and rootcause's judgement agree. The results by key."""
    topo, push, rootcause = _paths(cloud, monkeypatch, options)
    kinds = {n.kind for n in topo.nodes.values()}
    assert {t.CLOUD, t.HYPERVISOR, t.VM, t.INTERFACE, t.VOLUME, t.ROUTER, t.AGGREGATE,
            t.COMPUTE_SERVICE, t.L3_AGENT, t.CLUSTER} <= kinds, kinds
    seen: dict[str, tuple[int, str]] = {}
    for node in topo.sorted_nodes():
        before = push.evaluate(node)
        rc_before = rootcause(node)
        if node.check.command == DUMMY:  # Icinga's own dummy runs: its text, state 0
            run_code, run_text = 0, dict(node.check.args)["--text"] + "\n"
        else:
            run = cloud.run(COMMANDS[node.check.command], *_argv(node), *options)
            assert run.stderr == "", str(run)
            run_code, run_text = run.rc, run.stdout
        rc_after = rootcause(node)
        after = push.evaluate(node)
        b, a = (before.code, before.text), (after.code, after.text)
        assert _agrees((run_code, run_text), b, a), \
            f"{node.key}: executable vs push\n{run_code}\n{run_text}\npush:\n{before.code}\n{before.text}"
        for s in (rc_before, rc_after):
            assert s.is_host == node.is_host
            assert _agrees((s.state, s.output), (_state(node, b[0]), b[1]), (_state(node, a[0]), a[1])), \
                f"{node.key}: rootcause vs push\n{s}\npush:\n{before.code}\n{before.text}"
        seen[node.key] = (run_code, run_text)
    return seen


def nagios(node: o.Node, out: bulk.Outcome) -> str:
    """The external command push writes for a judgement, without its timestamp."""
    return targets.nagios_line(node.host, node.service, _state(node, out.code), out.text, 0).split("] ", 1)[1]


def _push_command_agrees(cloud: CloudEnv, monkeypatch, options, tmp_path) -> None:
    """`vio-icinga push --once --full` sends, for every node, what push's in-process judgement gives."""
    topo, push, _ = _paths(cloud, monkeypatch, options)
    before = {n.key: push.evaluate(n) for n in topo.nodes.values()}
    cmd = tmp_path / f"nagios-{cloud.sim.url.rsplit(':', 1)[1]}.cmd"
    cmd.write_text("")
    r = cloud.run("vio-icinga", "push", "--command-file", str(cmd), "--once", "--full", *options)
    after = {n.key: push.evaluate(n) for n in topo.nodes.values()}
    assert r.rc == 0, str(r)
    sent: dict[str, str] = {}
    for line in cmd.read_text().splitlines():
        body = line.split("] ", 1)[1]
        fields = body.split(";", 3 if body.startswith("PROCESS_HOST") else 4)
        key = fields[1] if body.startswith("PROCESS_HOST") else f"{fields[1]}!{fields[2]}"
        sent[key] = body
    for node in topo.nodes.values():
        b, a = (nagios(node, before[node.key]), nagios(node, after[node.key]))
        assert node.key in sent and _agrees((0, sent[node.key]), (0, b), (0, a)), \
            f"{node.key}:\npush sent: {sent.get(node.key)}\njudged: {b}"


def _rootcause_command_agrees(cloud: CloudEnv, monkeypatch, options) -> int:
    """`vio-icinga rootcause --json` on one node of each kind: every object of its chain has the state
    and the status line push's in-process judgement gives. Returns how many objects were compared."""
    topo, push, _ = _paths(cloud, monkeypatch, options)
    compared = 0
    for kind in sorted({n.kind for n in topo.nodes.values()}):
        node = next(n for n in topo.sorted_nodes() if n.kind == kind)
        before = {n.key: push.evaluate(n) for n, _ in chain(topo, node)}
        r = cloud.run("vio-icinga", "rootcause", node.key, "--json", *options)
        assert r.rc == 0, str(r)
        data = json.loads(r.stdout)
        for link in data["chain"]:
            n = topo.nodes[link["name"]]
            names = [("UP", "DOWN") if n.is_host else ("OK", "WARNING", "CRITICAL", "UNKNOWN")][0]
            b, a = before[n.key], push.evaluate(n)
            got = (names.index(link["state"]), link["output"])
            assert _agrees(got, (_state(n, b.code), _first_line(b.text)), (_state(n, a.code), _first_line(a.text))), \
                f"{n.key}: rootcause said {link['state']} {link['output']!r}; push: {b}"
            compared += 1
    return compared


def test_executable_push_and_rootcause_agree_on_every_demo_object(demo_cloud, monkeypatch, tmp_path):
    demo_cloud.sweep()
    seen = _same_everywhere(demo_cloud, monkeypatch, FRESH)
    assert any(code != 0 for code, _ in seen.values())  # the demo cloud has faults: non-OK compared too
    _push_command_agrees(demo_cloud, monkeypatch, FRESH, tmp_path)
    assert _rootcause_command_agrees(demo_cloud, monkeypatch, FRESH) > len(seen) // 4


def test_executable_push_and_rootcause_agree_on_every_object_of_a_faulty_stale_cloud(
        make_cloud, monkeypatch, tmp_path):
    cloud = make_cloud("demo")
    make_faulty(cloud)
    seen = _same_everywhere(cloud, monkeypatch, STALE)
    judged = [text for key, (code, text) in seen.items() if not text.startswith("container for")]
    # the stale note reaches every path: each judged object's long output starts with it
    assert all("\nNOTE: inventory 10 min old: not refreshed (--cache-only)\n" in text for text in judged), \
        [text for text in judged if "NOTE:" not in text][:3]
    codes = {code for code, _ in seen.values()}
    assert {0, 1, 2} <= codes, codes
    _push_command_agrees(cloud, monkeypatch, STALE, tmp_path)
    assert _rootcause_command_agrees(cloud, monkeypatch, STALE) > len(seen) // 4


# --- one lookup: CheckCommand → check, never a fallback ----------------------------------------------


def test_a_missing_check_module_fails_loudly():
    with pytest.raises(MissingCheck, match="vio_checks.checks.no_such_check cannot be imported"):
        spec_of("no_such_check")
    with pytest.raises(MissingCheck, match="has no SPEC"):
        spec_of("base")  # a module of the package that is not a check


def test_commandconf_rendering_refuses_a_missing_check(monkeypatch):
    from vio_checks.icinga import command_options

    assert set(command_options()) == set(COMMAND_MODULES)
    monkeypatch.setitem(COMMAND_MODULES, "vio_gone", "gone")
    with pytest.raises(MissingCheck, match="vio_checks.checks.gone"):
        command_options()


@pytest.mark.parametrize("command", ["vio_gone", "vio_vmm"])
def test_push_and_rootcause_judge_an_unknown_command_unknown_not_ok(command, monkeypatch):
    """A node whose CheckCommand runs no check of ours (a check module missing from the install, or a
    command name nobody knows) is UNKNOWN naming why, on push's and rootcause's path alike; only Icinga's
    own dummy is a container host."""
    from icinga_helpers import small_inventory
    from test_push import _FakeSnap

    monkeypatch.setitem(COMMAND_MODULES, "vio_gone", "gone")
    inv = small_inventory()
    result = Result(bulk.MemorySnapshot(_FakeSnap(inv)))
    vm = next(n for n in o.build(inv).nodes.values() if n.kind == t.VM)
    node = dataclasses.replace(vm, check=o.Check(command, vm.check.args))
    out = bulk.Evaluator(result).evaluate(node)
    assert out.code == 3 and out.text.startswith("VIO UNKNOWN - "), out.text
    assert ("vio_checks.checks.gone cannot be imported" if command == "vio_gone"
            else "CheckCommand 'vio_vmm' runs no check of vio-checks") in out.text
    status = states.judge_states(result)(node)
    assert (status.state, status.output) == (bulk.host_state(3), out.text)


def test_rootcause_validates_arguments_as_the_executable_does(demo_cloud, monkeypatch):
    """An interface check with --server and --id is a bad combination (the spec's validate): the executable
    answers UNKNOWN "bad option"; push and rootcause give that same answer instead of judging."""
    demo_cloud.sweep()
    topo, push, rootcause = _paths(demo_cloud, monkeypatch, FRESH)
    port = next(n for n in topo.sorted_nodes() if n.kind == t.INTERFACE)
    vm = topo.nodes[port.host]
    args = (*port.check.args, ("--server", vm.object_id))
    node = dataclasses.replace(port, check=o.Check(port.check.command, args))
    run = demo_cloud.run("check_vio_interface", *_argv(node), *FRESH)
    assert run.rc == 3 and "--server cannot be combined with --id or --name" in run.stdout, str(run)
    out = push.evaluate(node)
    assert (out.code, out.text) == (run.rc, run.stdout)
    status = rootcause(node)
    assert (status.state, status.output) == (run.rc, run.stdout)
