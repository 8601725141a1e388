"""In-process unit tests of the pure pieces: parsing, normalising, options, verdict arithmetic."""

import argparse

import pytest

from vio_checks import normalize
from vio_checks.cache import namespace
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.verdict import State, Verdict, check_range, parse_range
from vio_checks.model import Hypervisor, Service
from vio_checks.options import comma_list, duration


@pytest.mark.parametrize("text,seconds", [("90", 90), ("30m", 1800), ("1h", 3600), ("7d", 604800),
                                          ("1.5h", 5400), (" 2M ", 120)])
def test_duration(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-5", "10x", "h", "1h30m"])
def test_duration_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_comma_list():
    assert comma_list("a, b,,c ") == ["a", "b", "c"]


@pytest.mark.parametrize("value,stamp", [
    ("2026-11-24T10:42:00Z", 1795516920.0),
    ("2026-11-24T10:42:00.000000", 1795516920.0),
    ("2026-11-24 10:42:00", 1795516920.0),
    ("2026-11-24T11:42:00+01:00", 1795516920.0),
    (None, None), ("garbage", None), (42, None),
])
def test_parse_time(value, stamp):
    assert normalize.parse_time(value) == stamp


def test_namespace_is_literal_and_safe():
    assert namespace("vio", None) == "vio"
    assert namespace("vio", "RegionOne") == "vio+RegionOne"
    assert namespace(None, None) == "envvars"
    odd = namespace("../../etc", "a/b")
    assert "/" not in odd
    assert namespace("a/b", None) != namespace("a_b", None)


def test_hypervisor_record_both_name_forms():
    h = normalize.hypervisor({"id": 3, "hypervisor_hostname": "domain-c9(Cluster-B)",
                              "service": {"host": "vio-compute-02", "id": 7}, "state": "up", "status": "enabled"})
    assert (h.id, h.cluster_name, h.label, h.service_host) == ("3", "Cluster-B", "Cluster-B", "vio-compute-02")
    h2 = normalize.hypervisor({"id": "u", "hypervisor_hostname": "domain-c8.5f2e"})
    assert h2.cluster_name is None and h2.label == "domain-c8.5f2e"


def test_malformed_record_is_an_error():
    with pytest.raises(normalize.MalformedRecord):
        normalize.server({"name": "no id"})
    with pytest.raises(normalize.MalformedRecord):
        normalize.server(["not", "a", "dict"])


def test_server_record():
    s = normalize.server({
        "id": "s1", "name": "web-01", "tenant_id": "p1", "status": "active",
        "OS-EXT-STS:power_state": 1, "OS-EXT-SRV-ATTR:hypervisor_hostname": "domain-c8.x",
        "addresses": {"net": [{"addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed"},
                              {"addr": "172.24.4.9", "OS-EXT-IPS:type": "floating"}]},
        "flavor": {"original_name": "m1.small", "vcpus": 1, "ram": 2048},
        "fault": {"code": 500, "message": "No valid host"},
    })
    assert s.status == "ACTIVE" and s.floating_ips == ["172.24.4.9"] and s.fixed_ips == ["10.0.0.5"]
    assert s.flavor == "m1.small" and s.fault_message == "No valid host"


def test_vmware_disabled_reason():
    svc = Service(id="1", component="nova", binary="nova-compute", host="h", status="disabled",
                  disabled_reason="set by vmwareapi host_state")
    assert svc.vcenter_lost
    svc.disabled_reason = "maintenance"
    assert not svc.vcenter_lost


def test_ranges():
    assert check_range(91, parse_range("90"), parse_range("95")) == State.WARNING
    assert check_range(96, parse_range("90"), parse_range("95")) == State.CRITICAL
    assert check_range(1, parse_range("2:"), parse_range("1:")) == State.WARNING
    assert check_range(0, parse_range("2:"), parse_range("1:")) == State.CRITICAL
    assert parse_range("") is None
    with pytest.raises(ValueError):
        parse_range("abc")


def _v(state, text="x", unverified=False):
    v = Verdict(unverified=unverified)
    v.add(state, text)
    return v


def _m(label, verdict):
    return Member(label, label, verdict)


def test_aggregate_worst_and_unverified():
    items = [_m("a", _v(State.OK)), _m("b", _v(State.CRITICAL, "b is ERROR")),
             _m("c", _v(State.UNKNOWN, "c unverified", unverified=True)), _m("d", _v(State.WARNING, "d stuck"))]
    v = aggregate(items, "VMs")
    assert v.state == State.CRITICAL
    assert v.summary.startswith("1 CRITICAL, 1 WARNING of 4 VMs, 1 unverified (state not verifiable: 1): "
                                "b is ERROR; d stuck")
    perf = {p.label: p.value for p in v.perf}
    assert perf["unverified"] == 1 and perf["problems"] == 2 and perf["total"] == 4


def test_aggregate_thresholds_on_counts():
    items = [_m(str(i), _v(State.CRITICAL)) for i in range(2)] + [_m("ok", _v(State.OK))]
    assert aggregate(items, "VMs", warning="0", critical="5").state == State.WARNING
    assert aggregate(items, "VMs", warning="3", critical="5").state == State.OK
    assert aggregate([], "VMs").state == State.OK


def test_hypervisor_overcommit_is_fine():
    from vio_checks.judge.hypervisor import HypervisorOptions, judge_hypervisor

    h = Hypervisor(id="1", hostname="domain-c8.x", state="up", status="enabled", service_host="c1",
                   vcpus=100, vcpus_used=250, memory_mb=1000, memory_mb_used=500, local_gb=10, local_gb_used=1,
                   running_vms=4)
    v = judge_hypervisor(h, None, HypervisorOptions(), 0)
    assert v.state == State.OK and "vCPU 250 %" in v.summary


def test_aggregate_ignores_states_reported_elsewhere():
    items = [_m("a", _v(State.CRITICAL, "a is ERROR")), _m("b", _v(State.WARNING, "b stuck")), _m("c", _v(State.OK))]
    v = aggregate(items, "VMs", ignore_states=frozenset({State.CRITICAL}))
    assert v.state == State.WARNING and v.summary.endswith(": b stuck")
    assert {p.label: p.value for p in v.perf}["critical"] == 1  # still counted
    v = aggregate(items, "VMs", ignore_states=frozenset({State.CRITICAL, State.WARNING}))
    assert v.state == State.OK and "(each reported by its own object)" in v.summary
    assert any("a is ERROR" in line for line in v.details)  # still listed
    assert aggregate(items, "VMs", warning="0", ignore_states=frozenset({State.CRITICAL})).state == State.WARNING


def test_excluded_binaries_have_no_expected_count():
    from vio_checks.judge.service import ServiceOptions, expectations

    opts = ServiceOptions(deployment_mode="ha", exclude=frozenset({"cinder-volume"}))
    found = expectations(opts, present={"nova-scheduler"}, components={"nova", "cinder"})
    assert "cinder-volume" not in found and found["nova-scheduler"] == 2


# --- options, described once ------------------------------------------------------------------------------


def test_every_check_parser_is_built_from_its_option_list():
    import re

    from vio_checks.checks.base import build_parser
    from vio_checks.icinga import COMMAND_MODULES, command_options

    for command, options in command_options().items():
        spec = __import__(f"vio_checks.checks.{COMMAND_MODULES[command]}", fromlist=["SPEC"]).SPEC
        usage = build_parser(spec).format_usage()  # names every option by its first flag
        assert set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", usage)) == {"-h", *(o.flags[0] for o in options)}


def test_shared_options_are_the_common_ones_and_every_check_has_them():
    from vio_checks.checks.base import check_options
    from vio_checks.icinga import COMMON_OPTIONS, command_options
    from vio_checks.options import CHECK_OPTIONS

    common = [o for o in CHECK_OPTIONS if o.common]
    assert list(COMMON_OPTIONS) == [o.long for o in common]
    assert {"--os-cloud", "--cache-dir", "--max-age", "--cache-only", "--timeout"} <= set(COMMON_OPTIONS)
    for command, options in command_options().items():
        assert [o for o in options if o.common] == common, command  # a check's own options are never common
    assert check_options.__doc__


def test_the_var_a_node_sets_is_the_var_its_command_passes():
    """command_var (what the generated objects set) and commands.conf (what the CheckCommand passes) agree for
    every option: --event-retention was vio_vm_event_retention on objects but vio_event_retention in commands."""
    from vio_checks.icinga import command_options, command_var, option_var

    for command, options in command_options().items():
        for o in options:
            if o.exposed:
                assert command_var(command, o.long) == option_var(command, o), (command, o.long)


def test_env_defaults_are_read_when_the_parser_is_built(monkeypatch):
    from vio_checks.checks import vm
    from vio_checks.checks.base import build_parser

    monkeypatch.setenv("OS_CLOUD", "from-env")
    monkeypatch.delenv("OS_REGION_NAME", raising=False)
    args = build_parser(vm.SPEC).parse_args([])
    assert (args.os_cloud, args.os_region_name) == ("from-env", None)
    assert build_parser(vm.SPEC).parse_args(["--os-cloud", "x"]).os_cloud == "x"


def test_repeatable_options_start_empty_on_every_parse():
    from vio_checks.checks import service
    from vio_checks.checks.base import build_parser

    parser = build_parser(service.SPEC)
    assert parser.parse_args(["--expect", "nova-scheduler=2"]).expect == [("nova-scheduler", 2)]
    assert parser.parse_args([]).expect == [] and build_parser(service.SPEC).parse_args([]).expect == []
    assert parser.parse_args([]).exclude_binary == []


def test_option_description():
    from vio_checks.options import FLAG, Option

    o = Option(("-t", "--timeout"))
    assert (o.long, o.dest, o.takes_value) == ("--timeout", "timeout", True)
    assert not Option(("--cache-only",), kind=FLAG).takes_value
    for bad in ({"flags": ()}, {"flags": ("x",)}, {"flags": ("--x",), "kind": "store"}):
        with pytest.raises(ValueError):
            Option(**bad)


def test_check_commands_render_from_the_option_description():
    from vio_checks.icinga.render_icinga2 import render_commands
    from vio_checks.options import APPEND, COUNT, FLAG, Option

    shared = Option(("--os-cloud",), help="cloud", common=True)
    text = render_commands({"vio_vm": [
        Option(("--usage",), help="RAM in %% (default: %(default)s)", default="90"),
        Option(("--mode",), choices=("ha", "compact")),
        Option(("--all",), kind=FLAG, help="every one"),
        Option(("--expect",), kind=APPEND),
        Option(("-v", "--verbose"), kind=COUNT, exposed=False),
        shared,
    ], "vio_router": [shared]})
    template, vm_command = text.split("object CheckCommand")[0], text.split('object CheckCommand "vio_vm"')[1]
    assert '"--os-cloud" = {\n      value = "$vio_os_cloud$"' in template and "--usage" not in template
    assert '"--usage" = {\n      value = "$vio_vm_usage$"\n      description = "RAM in % (default: 90)"' in vm_command
    assert 'description = " (one of: ha, compact)"' not in vm_command and "(one of: ha, compact)" in vm_command
    assert '"--all" = {\n      set_if = "$vio_vm_all$"' in vm_command
    assert 'value = "$vio_vm_expect$"\n      repeat_key = true' in vm_command
    assert "verbose" not in text and "--os-cloud" not in vm_command


def test_vio_discover_options():
    from vio_checks.discover_cli import build_parser

    args = build_parser().parse_args([])
    assert (args.timeout, args.page_size, args.accept_empty, args.event_limit) == (120.0, 1000, False, 100000)
    assert not hasattr(args, "max_age")
