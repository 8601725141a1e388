"""The redundant-set judge (vio_checks.judge.redundant): every state, missing members, duplicates, perfdata."""

from __future__ import annotations

import pytest

from vio_checks.judge.redundant import SetMember, judge_set
from vio_checks.judge.verdict import State


def m(ident: str, state: str, cause: str | None = None) -> SetMember:
    return SetMember(ident, f"agent-{ident}", state, cause)


def perf(v) -> dict[str, tuple]:
    return {p.label: (p.value, p.warn, p.crit, p.min, p.max) for p in v.perf}


def test_all_up_is_ok():
    v = judge_set([m("a", "up"), m("b", "up"), m("c", "up")], 3, "L3 agents", "router-a")
    assert (v.state, v.summary) == (State.OK, "router-a: all 3 L3 agents up")
    assert not v.unverified
    assert perf(v) == {"up": (3, "3:", "1:", 0, 3), "expected": (3, None, None, 0, None),
                       "down": (0, None, None, 0, 3), "unverified": (0, None, None, 0, 3)}


def test_fewer_up_but_more_than_one_is_reduced_redundancy():
    v = judge_set([m("a", "up"), m("b", "down", "dead"), m("c", "up")], 3, "L3 agents")
    assert v.state == State.WARNING
    assert v.summary == "reduced redundancy: 2 of 3 L3 agents up (down: agent-b)"
    assert "down: agent-b: dead" in v.details
    assert perf(v)["up"][0] == 2 and perf(v)["down"][0] == 1


def test_exactly_one_up_where_more_expected_is_at_risk():
    v = judge_set([m("a", "up"), m("b", "down"), m("c", "unverified", "Neutron reported no alive")], 3,
                  "L3 agents")
    assert v.state == State.WARNING
    assert v.summary == "at risk: 1 of 3 L3 agents up (down: agent-b; unverified: agent-c)"
    assert "unverified: agent-c: Neutron reported no alive" in v.details
    assert (perf(v)["up"][0], perf(v)["down"][0], perf(v)["unverified"][0]) == (1, 1, 1)


def test_none_up_all_known_down_is_critical():
    v = judge_set([m("a", "down"), m("b", "down")], 2, "L3 agents", "router-a")
    assert (v.state, v.summary) == (State.CRITICAL, "router-a: all 2 L3 agents down (down: agent-a, agent-b)")
    assert not v.unverified
    v = judge_set([m("a", "down")], None, "L3 agents")
    assert (v.state, v.summary) == (State.CRITICAL, "none of 1 L3 agent up (down: agent-a)")


def test_none_up_and_some_unverified_is_unknown_not_critical():
    v = judge_set([m("a", "down"), m("b", "unverified", "state not reported")], 2, "L3 agents")
    assert v.state == State.UNKNOWN and v.unverified
    assert v.summary == "none of 2 L3 agents verified up (down: agent-a; unverified: agent-b)"
    assert v.cause == "no L3 agents verified up"


def test_a_missing_expected_member_is_unverified_never_up():
    # two of three reported and up: the third is not assumed up
    v = judge_set([m("a", "up"), m("b", "up")], 3, "L3 agents")
    assert v.state == State.WARNING
    assert v.summary == "reduced redundancy: 2 of 3 L3 agents up (1 expected member not reported)"
    assert perf(v)["unverified"][0] == 1 and perf(v)["expected"][0] == 3
    assert "unverified: 1 expected member the API did not report" in v.details
    # nothing reported at all of an expected set: UNKNOWN, not CRITICAL, not OK
    v = judge_set([], 2, "L3 agents")
    assert v.state == State.UNKNOWN and v.unverified
    assert v.summary == "none of 2 L3 agents verified up (2 expected members not reported)"
    # the only down one reported, the other missing: UNKNOWN
    assert judge_set([m("a", "down")], 2, "L3 agents").state == State.UNKNOWN


def test_duplicates_are_counted_once_at_the_worse_state():
    v = judge_set([m("a", "up"), m("b", "up"), m("a", "down", "dead")], 2, "L3 agents")
    assert v.state == State.WARNING
    assert v.summary == "at risk: 1 of 2 L3 agents up (down: agent-a; 1 duplicate record counted once)"
    assert perf(v)["expected"][0] == 2 and perf(v)["down"][0] == 1
    # unverified beats up, down beats unverified
    v = judge_set([m("a", "unverified"), m("a", "up")], None, "L3 agents")
    assert v.state == State.UNKNOWN and perf(v)["expected"][0] == 1
    v = judge_set([m("a", "unverified"), m("a", "down")], None, "L3 agents")
    assert v.state == State.CRITICAL


def test_more_members_than_expected_never_hide_a_down_one():
    v = judge_set([m("a", "up"), m("b", "up"), m("c", "down")], 2, "L3 agents")
    assert v.state == State.WARNING and perf(v)["expected"][0] == 3


def test_an_empty_set_is_unknown():
    for expected in (None, 0):
        v = judge_set([], expected, "controllers")
        assert v.state == State.UNKNOWN and v.unverified
        assert v.summary == "no controllers to judge (an empty set is not a redundant one)"
        assert perf(v)["expected"][0] == 0


def test_tenant_strings_are_inert_and_states_checked():
    v = judge_set([SetMember("x", "evil|name\nline", "down", "cause|x")], None, "L3 agents", "r|a")
    assert "|" not in v.summary and "\n" not in v.summary and "|" not in "".join(v.details)
    with pytest.raises(ValueError, match="not one of up, down, unverified"):
        judge_set([SetMember("x", "x", "alive")], None, "L3 agents")
