"""Controller service clusters (vio_checks/judge/cluster.py): every state, the stale and replaced records,
the expected size and the ranges that may only raise the state; and the services judge using it."""

from __future__ import annotations

import pytest

from vio_checks.judge.cluster import judge_cluster
from vio_checks.judge.service import ServiceOptions, Services, judge_services
from vio_checks.judge.verdict import State
from vio_checks.model import Agent, Service

NOW = 1_800_000_000.0
H = 3600.0
OLD = (None, NOW - 30 * H)  # registered before the cache's first sweep: of any age


def svc(host: str, state: str = "up", hb: float | None = NOW - 10, window: tuple | None = OLD,
        binary: str = "nova-conductor", status: str = "enabled", **kw) -> Service:
    component = binary.split("-")[0]
    s = Service(f"id-{host}", component, binary, host, "internal", status, state, hb, **kw)
    if window is not None:
        s.registered = window
    return s


def judge(records, **opts):
    return judge_cluster(records[0].binary if records else "nova-conductor", records, ServiceOptions(**opts),
                         NOW)


def perf(v) -> dict[str, float]:
    return {p.label: p.value for p in v.perf}


def test_all_up_is_ok() -> None:
    v = judge([svc("a"), svc("b"), svc("c")])
    assert v.state == State.OK and v.summary == "cluster nova-conductor: all 3 members up"
    assert perf(v)["nova-conductor_up"] == 3 and perf(v)["nova-conductor_expected"] == 3


def test_one_down_of_three_is_reduced_redundancy_not_critical() -> None:
    v = judge([svc("a"), svc("b"), svc("c", "down", NOW - 600)])
    assert v.state == State.WARNING
    assert v.summary.startswith("cluster nova-conductor: reduced redundancy: 2 of 3 members up (down: "
                                "nova-conductor@c)")
    assert any(d.startswith("down: nova-conductor@c: down since ") for d in v.details)


def test_one_left_is_at_risk_and_none_is_all_components_down() -> None:
    v = judge([svc("a"), svc("b", "down"), svc("c", "down")])
    assert v.state == State.WARNING and "at risk: 1 of 3 members up" in v.summary
    v = judge([svc("a", "down"), svc("b", "down")])
    assert v.state == State.CRITICAL
    assert v.summary.startswith("cluster nova-conductor: all components down: 0 of 2 members up")


def test_unverified_is_never_up() -> None:
    v = judge([svc("a", "down"), svc("b", "", missing=("state",))])
    assert v.state == State.UNKNOWN and "none of 2 members verified up" in v.summary
    v = judge([svc("a"), svc("b", "", missing=("state",))])
    assert v.state == State.WARNING and perf(v)["nova-conductor_unverified"] == 1
    v = judge([svc("a"), svc("b", "sleeping")])  # a state Nova does not document
    assert v.state == State.WARNING and "unverified: nova-conductor@b" in v.summary


def test_a_disabled_member_does_not_serve() -> None:
    v = judge([svc("a"), svc("b", status="disabled", disabled_reason="maintenance")])
    assert v.state == State.WARNING and "disabled: maintenance" in "\n".join(v.details)


def test_expected_size_from_expect_then_preset_then_members() -> None:
    records = [svc("a"), svc("b")]
    assert judge(records).state == State.OK
    v = judge(records, expect={"nova-conductor": 3})
    assert v.state == State.WARNING and "2 of 3 members up" in v.summary and "1 expected member not" in v.summary
    # the preset (ha: 2 conductors) is a floor: a third member that is down is never hidden by it
    v = judge([*records, svc("c", "down")], deployment_mode="ha")
    assert v.state == State.WARNING and "2 of 3 members up" in v.summary
    assert judge([svc("a")], deployment_mode="ha").state == State.WARNING  # at risk: 1 of 2
    assert judge([svc("a")], deployment_mode="compact").state == State.OK


def test_a_pod_restart_past_stale_after_is_ok_and_names_the_stale_record() -> None:
    old = svc("conductor-abc", "down", NOW - 2 * H)
    new = svc("conductor-xyz", "up", window=(NOW - 2 * H + 30, NOW - 2 * H + 60))
    v = judge([old, new, svc("conductor-def")])
    assert v.state == State.OK
    assert v.summary == ("cluster nova-conductor: all 2 members up; 1 stale record: nova-conductor@conductor-abc "
                         "(removal command in the long output)")
    assert ("stale: nova-conductor@conductor-abc (id id-conductor-abc), down for 2 h 0 min, replaced by "
            "nova-conductor@conductor-xyz; remove it: openstack compute service delete id-conductor-abc") in v.details
    assert perf(v)["nova-conductor_stale"] == 1 and perf(v)["nova-conductor_expected"] == 2


def test_a_replaced_record_before_stale_after_warns_no_one_and_says_when_it_turns_stale() -> None:
    old = svc("conductor-abc", "down", NOW - 600)
    new = svc("conductor-xyz", "up", window=(NOW - 540, NOW - 300))
    v = judge([old, new, svc("conductor-def")])
    assert v.state == State.OK
    assert "1 replaced record: nova-conductor@conductor-abc replaced by nova-conductor@conductor-xyz, stale in " \
           "50 min" in v.summary
    assert perf(v)["nova-conductor_replaced"] == 1 and perf(v)["nova-conductor_stale"] == 0
    assert not any("remove it" in d for d in v.details)  # no removal command before --stale-after
    # with --expect the successor fills the slot: still OK; a second death is not hidden
    assert judge([old, new, svc("conductor-def")], expect={"nova-conductor": 2}).state == State.OK
    v = judge([old, new, svc("conductor-def", "down")])
    assert v.state == State.WARNING and "1 of 2 members up" in v.summary


def test_a_down_record_without_a_successor_is_a_member_however_old() -> None:
    v = judge([svc("a", "down", NOW - 100 * H), svc("b"), svc("c")])
    assert v.state == State.WARNING and perf(v)["nova-conductor_stale"] == 0


def test_stale_after_is_an_option() -> None:
    old = svc("a", "down", NOW - 2 * H)
    new = svc("b", window=(NOW - 2 * H + 30, NOW - 2 * H + 60))
    assert perf(judge([old, new], stale_after=3 * H))["nova-conductor_replaced"] == 1
    assert perf(judge([old, new], stale_after=H))["nova-conductor_stale"] == 1


@pytest.mark.parametrize(("opts", "up", "state"), [
    ({"critical_at_risk": True}, 1, State.CRITICAL),
    ({"critical_at_risk": True}, 2, State.WARNING),
    ({"critical": "2:"}, 1, State.CRITICAL),
    ({"critical": "2:"}, 2, State.WARNING),
    ({"warning": "3:"}, 3, State.OK),
    ({"warning": "4:"}, 3, State.WARNING),  # raises OK
    ({"warning": "0:"}, 1, State.WARNING),  # never lowers
    ({"critical": "0:"}, 0, State.CRITICAL),
])
def test_ranges_and_critical_at_risk_only_raise(opts: dict, up: int, state: State) -> None:
    records = [svc(h, "up" if i < up else "down") for i, h in enumerate("abc")]
    v = judge(records, **opts)
    assert v.state == state
    if "critical" in opts:
        assert next(p for p in v.perf if p.label == "nova-conductor_up").crit == opts["critical"]


def test_ranges_leave_an_unverified_set_unknown() -> None:
    v = judge([svc("a", "down"), svc("b", "", missing=("state",))], critical="2:")
    assert v.state == State.UNKNOWN


def test_neutron_agents_form_clusters_too() -> None:
    def agent(host: str, alive: bool) -> Agent:
        return Agent(f"ag-{host}", "neutron-dhcp-agent", "DHCP agent", host, alive, True, NOW - 5)

    v = judge_cluster("neutron-dhcp-agent", [agent("n1", True), agent("n2", False)], ServiceOptions(), NOW)
    assert v.state == State.WARNING and "not alive" in "\n".join(v.details)


def test_the_aggregate_judges_clusters_not_records() -> None:
    found = Services(nova=[svc("a"), svc("b"), svc("c", "down"), svc("a", binary="nova-scheduler"),
                           svc("cmp", binary="nova-compute")])
    v = judge_services(found, ServiceOptions(), NOW, components=("nova",))
    assert v.state == State.WARNING  # one down conductor of three: not CRITICAL
    assert "cluster nova-conductor: reduced redundancy: 2 of 3 members up" in v.summary
    # --binary alone is the cluster; --host one record
    v = judge_services(found, ServiceOptions(), NOW, components=("nova",), binary="nova-conductor")
    assert v.state == State.WARNING and v.summary.startswith("cluster nova-conductor")
    v = judge_services(found, ServiceOptions(), NOW, components=("nova",), binary="nova-conductor", host="c")
    assert v.state == State.CRITICAL
    # a component with nothing but clusters: no "no nova services in the inventory" beside them
    found = Services(nova=[svc("a"), svc("b")])
    v = judge_services(found, ServiceOptions(), NOW, components=("nova",))
    assert v.summary == "1 nova cluster OK (nova-conductor 2 up)"


def test_tenant_and_cloud_strings_stay_inert_in_a_clusters_output() -> None:
    """Host names, reasons and the stale record's removal command come from the cloud: one status line,
    valid perfdata, whatever they hold (test_output_inert's rule)."""
    from hypothesis import given, settings
    from test_output_inert import ANY_TEXT, _assert_plugin_output

    from vio_checks.checks.base import render_verdict

    @settings(max_examples=150, deadline=None)
    @given(host=ANY_TEXT, reason=ANY_TEXT)
    def check(host: str, reason: str) -> None:
        old = svc(f"{host}-old", "down", NOW - 2 * H, binary="cinder-scheduler")
        new = svc(f"{host}-new", window=(NOW - 2 * H + 30, NOW - 2 * H + 60), binary="cinder-scheduler")
        off = svc(host, status="disabled", disabled_reason=reason, binary="cinder-scheduler")
        v = judge([old, new, off, svc(f"{host}-x", "down", NOW - 600, binary="cinder-scheduler")])
        assert v.state == State.WARNING
        _assert_plugin_output(*render_verdict("VIO TEST", v))

    check()
