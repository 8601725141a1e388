"""judge/loadbalancer.py (pure): every provisioning and operating status of a load balancer, its listeners,
pools and members; DEGRADED is never OK, OFFLINE is OK only when admin-disabled (the one admin-action rule),
NO_MONITOR is said and not a failure, unknown or missing values are unverified, hostile names inert."""

from __future__ import annotations

import time

import pytest

from vio_checks import documented as doc
from vio_checks.judge.admin import admin_action, admin_action_state
from vio_checks.judge.loadbalancer import LbOptions, judge_load_balancer, judge_member, members_down
from vio_checks.judge.verdict import State, Verdict
from vio_checks.model import Server
from vio_checks.optional_records import LbMember, Listener, LoadBalancer, Pool

NOW = time.time()
OPTS = LbOptions(stuck_after=1800.0)


def _member(name: str, status: str = "ONLINE", admin: bool | None = True, server: str | None = None,
            **kw) -> LbMember:
    m = LbMember(f"m-{name}", name, address=f"10.0.0.{len(name)}", protocol_port=80, subnet_id="sn",
                 provisioning_status=kw.pop("prov", "ACTIVE"), operating_status=status, admin_state_up=admin,
                 **kw)
    m.server_id = server
    return m


def _lb(prov: str = "ACTIVE", oper: str = "ONLINE", members: list[LbMember] | None = None,
        pool_status: str | None = None, admin: bool | None = True, updated: float | None = NOW - 60,
        name: str = "shop-lb", **kw) -> LoadBalancer:
    members = [_member("web-01"), _member("web-02"), _member("web-03")] if members is None else members
    pool = Pool("p1", "shop-web", "ACTIVE", pool_status or oper, health_monitor=True, members=members)
    lst = Listener("l1", "shop-https", "HTTPS", 443, "ACTIVE", oper, pool_ids=("p1",))
    return LoadBalancer("lb1", name, "proj", prov, oper, admin_state_up=admin, vip_address="10.0.0.50",
                        vip_subnet_id="sn", updated=updated, listeners=[lst], pools=[pool], **kw)


def _state(v: Verdict) -> State:
    return v.state


def test_active_online_is_ok_with_the_members_counted():
    v = judge_load_balancer(_lb(), OPTS, NOW)
    assert v.state == State.OK and "shop-lb is ACTIVE/ONLINE, 3 of 3 members up" in v.summary
    perf = {p.label: p.value for p in v.perf}
    assert perf["members_up"] == 3 and perf["members_down"] == 0 and perf["members_unjoined"] == 3


@pytest.mark.parametrize("bad", ["ERROR", "OFFLINE"])
def test_degraded_is_never_ok_and_names_the_members_down(bad):
    members = [_member("web-01"), _member("web-02", bad), _member("web-03")]
    v = judge_load_balancer(_lb(oper="DEGRADED", members=members), OPTS, NOW)
    assert v.state == State.WARNING
    assert "DEGRADED: 1 of 3 members down: web-02" in v.summary
    assert members_down(_lb(members=members)) == [members[1]]


def test_degraded_without_a_member_down_named_is_still_warning():
    v = judge_load_balancer(_lb(oper="DEGRADED"), OPTS, NOW)
    assert v.state == State.WARNING and "names no member down" in v.summary


def test_operating_error_is_critical():
    members = [_member("web-01", "ERROR"), _member("web-02", "ERROR")]
    v = judge_load_balancer(_lb(oper="ERROR", members=members), OPTS, NOW)
    assert v.state == State.CRITICAL and "shop-lb is ERROR (2 of 2 members down)" in v.summary


def test_provisioning_error_is_critical():
    v = judge_load_balancer(_lb(prov="ERROR"), OPTS, NOW)
    assert v.state == State.CRITICAL and "provisioning ERROR" in v.summary


@pytest.mark.parametrize("pending", ["PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE"])
def test_pending_is_ok_until_stuck_after_then_warning(pending):
    fresh = judge_load_balancer(_lb(prov=pending, updated=NOW - 60), OPTS, NOW)
    assert fresh.state == State.OK and any("operation in progress" in d for d in fresh.details)
    stuck = judge_load_balancer(_lb(prov=pending, updated=NOW - 7200), OPTS, NOW)
    assert stuck.state == State.WARNING and f"{pending} for 2 h" in stuck.summary and "stuck" in stuck.summary
    # --stuck-after is the option's value
    longer = judge_load_balancer(_lb(prov=pending, updated=NOW - 7200), LbOptions(stuck_after=3 * 3600), NOW)
    assert longer.state == State.OK


def test_offline_is_critical_unless_admin_disabled():
    assert judge_load_balancer(_lb(oper="OFFLINE"), OPTS, NOW).state == State.CRITICAL
    off = judge_load_balancer(_lb(oper="OFFLINE", admin=False), OPTS, NOW)
    assert off.state == State.OK and "OFFLINE (admin disabled)" in off.summary
    warn = judge_load_balancer(_lb(oper="OFFLINE", admin=False), LbOptions(warn_disabled=True), NOW)
    assert warn.state == State.WARNING
    # admin-disabled never hides an ERROR
    assert judge_load_balancer(_lb(prov="ERROR", oper="OFFLINE", admin=False), OPTS, NOW).state \
        == State.CRITICAL


def test_no_monitor_is_not_a_failure_and_is_said():
    members = [_member("web-01", "NO_MONITOR"), _member("web-02", "NO_MONITOR")]
    lb = _lb(members=members, pool_status="NO_MONITOR")
    lb.pools[0].health_monitor = False
    v = judge_load_balancer(lb, OPTS, NOW)
    assert v.state == State.OK and "(no health monitor)" in v.summary
    assert any("NO_MONITOR is not a failure" in d for d in v.details)
    m = judge_member(lb, "m-web-01", OPTS, NOW)
    assert m.state == State.OK and "NO_MONITOR is not a failure" in m.summary


@pytest.mark.parametrize("field, value", [("provisioning_status", "SHINY"), ("operating_status", "GREAT"),
                                          ("operating_status", "")])
def test_unknown_or_missing_status_is_unverified_never_ok(field, value):
    lb = _lb()
    setattr(lb, field, value)
    v = judge_load_balancer(lb, OPTS, NOW)
    assert v.state == State.UNKNOWN and v.unverified and "unverified" in v.summary


def test_a_missing_field_named_by_normalize_is_unverified():
    lb = _lb(missing=("operating_status",))
    v = judge_load_balancer(lb, OPTS, NOW)
    assert v.state == State.UNKNOWN and v.unverified and "Octavia reported no operating_status" in v.summary


def test_a_child_with_an_unknown_status_makes_the_balancer_unknown():
    members = [_member("web-01"), _member("web-02", "WEIRD")]
    v = judge_load_balancer(_lb(members=members), OPTS, NOW)
    assert v.state == State.UNKNOWN and "member web-02" in v.summary


def test_a_child_worse_than_the_balancer_shows():
    lb = _lb()
    lb.listeners[0].provisioning_status = "ERROR"
    v = judge_load_balancer(lb, OPTS, NOW)
    assert v.state == State.CRITICAL and "listener shop-https: provisioning ERROR" in v.summary


def test_tree_error_leaves_the_children_unverified_but_judges_the_balancer():
    lb = _lb(tree_error="load-balancer /lbaas/loadbalancers/lb1/status: HTTP 500")
    lb.listeners, lb.pools = [], []
    v = judge_load_balancer(lb, OPTS, NOW)
    assert v.state == State.UNKNOWN and v.unverified and "status tree not read" in v.summary
    assert any("HTTP 500" in d for d in v.details)
    # its own ERROR still wins
    lb.provisioning_status = "ERROR"
    assert judge_load_balancer(lb, OPTS, NOW).state == State.CRITICAL


def test_member_with_its_vm():
    members = [_member("web-01", server="s1"), _member("web-02", "ERROR", server="s2"),
               _member("web-03", "OFFLINE", admin=False), _member("web-04", "DRAINING")]
    lb = _lb(oper="DEGRADED", members=members)
    servers = {"s1": Server("s1", "web-01", "p", "ACTIVE"), "s2": Server("s2", "web-02", "p", "SHUTOFF")}
    ok = judge_member(lb, "m-web-01", OPTS, NOW, servers)
    assert ok.state == State.OK and "VM web-01 is ACTIVE" in ok.summary
    down = judge_member(lb, "m-web-02", OPTS, NOW, servers)
    assert down.state == State.CRITICAL and "is ERROR" in down.summary and "VM web-02 is SHUTOFF" in down.summary
    admin = judge_member(lb, "m-web-03", OPTS, NOW, servers)
    assert admin.state == State.OK and "admin action" in admin.summary
    assert any("not joined to a VM" in d for d in admin.details)
    assert judge_member(lb, "m-web-04", LbOptions(warn_disabled=True), NOW, servers).state == State.WARNING
    gone = judge_member(lb, "m-nope", OPTS, NOW, servers)
    assert gone.state == State.UNKNOWN and gone.unverified


def test_member_of_a_balancer_whose_tree_failed_is_unverified():
    lb = _lb(members=[], tree_error="timed out")
    v = judge_member(lb, "m-web-01", OPTS, NOW)
    assert v.state == State.UNKNOWN and "status tree not read (timed out)" in v.summary


def test_every_documented_status_has_a_verdict_and_only_online_or_no_monitor_are_plain_ok():
    for oper in sorted(doc.LB_OPERATING):
        v = judge_load_balancer(_lb(oper=oper, pool_status="ONLINE"), OPTS, NOW)
        if oper in ("ONLINE", "NO_MONITOR"):
            assert v.state == State.OK, (oper, v.summary)
        elif oper == "DRAINING":
            assert v.state == State.OK and "DRAINING" in v.summary  # an admin action, said
        else:
            assert v.state in (State.WARNING, State.CRITICAL), (oper, v.summary)
    for prov in sorted(doc.LB_PROVISIONING):
        v = judge_load_balancer(_lb(prov=prov, updated=NOW - 7200), OPTS, NOW)
        assert (v.state == State.OK) == (prov == "ACTIVE"), (prov, v.summary)


def test_hostile_names_are_inert():
    evil = "evil\n$(reboot)|x=1;\x1b[31m"
    members = [_member(evil, "ERROR")]
    v = judge_load_balancer(_lb(oper="DEGRADED", members=members, name=evil), OPTS, NOW)
    for text in (v.summary, *v.details):
        assert "\n" not in text and "\x1b" not in text and "|" not in text, text


def test_the_one_admin_action_rule():
    assert admin_action_state(False) == State.OK and admin_action_state(True) == State.WARNING
    v = Verdict()
    admin_action(v, "x is admin down", warn_disabled=False, noted=True)
    assert not v.findings and "deliberate admin action" in v.details[0]
    admin_action(v, "x is admin down", warn_disabled=True, noted=True)
    assert v.state == State.WARNING
