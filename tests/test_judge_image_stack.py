"""The image and stack judges (pure): every Glance image status and Heat stack status, unknown and missing
values, hostile strings inert, and the normalisation of their replies (glance_heat_sweep)."""

from __future__ import annotations

import time

import pytest

from vio_checks import documented
from vio_checks.glance_heat_sweep import image, stack
from vio_checks.judge.image import ImageOptions, image_perf, judge_image
from vio_checks.judge.stack import StackOptions, judge_stack, stack_perf
from vio_checks.judge.verdict import State
from vio_checks.normalize import MalformedRecord
from vio_checks.optional_records import Image, Stack

NOW = time.time()
OLD = NOW - 7200  # older than the default --stuck-after (30 min)
NEW = NOW - 60
HOSTILE = "evil\n| perf=1 $(reboot) \x1b[31m"


def _image(status: str, updated: float | None = OLD, name: str = "cirros", **kw) -> Image:
    return Image("img-1", name, "p1", status, "public", created=OLD, updated=updated, **kw)


def _stack(status: str, updated: float | None = OLD, reason: str = "", name: str = "shop", **kw) -> Stack:
    return Stack("st-1", name, "p1", status, reason, created=OLD, updated=updated, **kw)


# --- images ------------------------------------------------------------------------------------------

IMAGE_CASES = {
    "active": (OLD, State.OK, "image cirros is active"),
    "killed": (OLD, State.CRITICAL, "image cirros is killed: its upload failed"),
    "queued": (OLD, State.WARNING, "image cirros stuck queued for 2 h 0 min"),
    "saving": (OLD, State.WARNING, "stuck saving"),
    "uploading": (OLD, State.WARNING, "stuck uploading"),
    "importing": (OLD, State.WARNING, "stuck importing"),
    "deactivated": (OLD, State.OK, "deactivated by an admin"),
    "pending_delete": (OLD, State.OK, "pending_delete: deleted, its data left for glance-scrubber"),
    "deleted": (OLD, State.OK, "image cirros is deleted"),
}


def test_every_documented_image_status_has_a_case():
    assert set(IMAGE_CASES) == documented.IMAGE_STATUSES


@pytest.mark.parametrize("status", IMAGE_CASES)
def test_each_image_status(status):
    updated, state, text = IMAGE_CASES[status]
    v = judge_image(_image(status, updated), ImageOptions(), NOW)
    assert v.state == state and text in v.summary, v.summary
    assert not v.unverified


@pytest.mark.parametrize("status", sorted(documented.IMAGE_TRANSITIONAL))
def test_an_upload_younger_than_stuck_after_is_ok_and_older_warns(status):
    assert judge_image(_image(status, NEW), ImageOptions(), NOW).state == State.OK
    assert judge_image(_image(status, NEW), ImageOptions(stuck_after=30), NOW).state == State.WARNING


def test_an_image_without_a_timestamp_is_never_stuck_nor_ok_for_long():
    v = judge_image(_image("queued", None), ImageOptions(), NOW)
    assert v.state == State.OK and "(since ?)" in v.summary  # unknown age: not stuck (the one rule)


@pytest.mark.parametrize("status", ["", "shiny", "ACTIVE ", "error"])
def test_an_unknown_image_status_is_unknown_and_unverified(status):
    v = judge_image(_image(status), ImageOptions(), NOW)
    assert v.state == State.UNKNOWN and v.unverified, v.summary
    assert "undocumented status" in v.summary


def test_a_missing_image_status_names_it():
    v = judge_image(_image("", missing=("status",)), ImageOptions(), NOW)
    assert v.state == State.UNKNOWN and v.unverified
    assert v.summary == "image cirros: Glance reported no status: state unverified"


def test_image_strings_are_inert():
    v = judge_image(_image("killed", name=HOSTILE), ImageOptions(), NOW)
    for line in [v.summary, *v.details]:
        assert "\n" not in line and "|" not in line and "\x1b" not in line, line


def test_image_normalisation():
    raw = {"id": "i1", "name": "cirros", "status": "Active", "owner": "p1", "visibility": "public",
           "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T11:00:00Z"}
    img = image(raw)
    assert (img.status, img.project_id, img.missing) == ("active", "p1", ())
    assert img.updated - img.created == 3600
    assert image({"id": "i2"}).missing == ("status",)
    assert image({"id": "i3", "status": "shiny"}).missing == ("an undocumented status 'shiny'",)
    assert image({"id": "i4", "status": ["active"]}).missing[0].startswith("status as a list")
    with pytest.raises(MalformedRecord):
        image({"name": "no id"})
    with pytest.raises(MalformedRecord):
        image(["not", "a", "record"])


def test_image_perf_counts_each_status():
    perf = {p.label: p.value for p in image_perf([_image("active"), _image("killed"), _image("deleted")])}
    assert perf == {"active": 1, "queued": 0, "saving": 0, "killed": 1, "deleted": 1}


# --- stacks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", sorted(documented.STACK_ACTIONS))
def test_each_stack_action_in_each_state(action):
    ok = judge_stack(_stack(f"{action}_COMPLETE"), StackOptions(), NOW)
    assert ok.state == State.OK and f"is {action}_COMPLETE" in ok.summary
    failed = judge_stack(_stack(f"{action}_FAILED", reason="Resource CREATE failed: quota"), StackOptions(), NOW)
    assert failed.state == State.CRITICAL
    assert failed.summary == f"stack shop is {action}_FAILED: Resource CREATE failed: quota"
    running = judge_stack(_stack(f"{action}_IN_PROGRESS", NEW), StackOptions(), NOW)
    assert running.state == State.OK and "for 1 min" in running.summary or "for 60 s" in running.summary
    stuck = judge_stack(_stack(f"{action}_IN_PROGRESS"), StackOptions(), NOW)
    assert stuck.state == State.WARNING and f"stuck {action}_IN_PROGRESS for 2 h 0 min" in stuck.summary


def test_the_completed_states_that_mean_more_say_so():
    assert "rolled back" in judge_stack(_stack("ROLLBACK_COMPLETE"), StackOptions(), NOW).summary
    assert "suspended (deliberate)" in judge_stack(_stack("SUSPEND_COMPLETE"), StackOptions(), NOW).summary


def test_a_failed_stack_without_a_reason_says_so():
    assert judge_stack(_stack("CREATE_FAILED"), StackOptions(), NOW).summary.endswith("Heat gave no reason")


@pytest.mark.parametrize("status", ["", "SHINY", "CREATE_DONE", "FROB_FAILED", "create_complete "])
def test_an_unknown_stack_status_is_unknown_and_unverified(status):
    v = judge_stack(_stack(status), StackOptions(), NOW)
    assert v.state == State.UNKNOWN and v.unverified, v.summary


def test_a_missing_stack_status_names_it():
    v = judge_stack(_stack("", missing=("stack_status",)), StackOptions(), NOW)
    assert v.state == State.UNKNOWN and v.summary == "stack shop: Heat reported no stack_status: state unverified"


def test_stack_strings_are_inert():
    v = judge_stack(_stack("CREATE_FAILED", reason=HOSTILE, name=HOSTILE), StackOptions(), NOW)
    for line in [v.summary, *v.details]:
        assert "\n" not in line and "|" not in line and "\x1b" not in line, line


def test_stack_normalisation():
    raw = {"id": "s1", "stack_name": "shop", "stack_status": "create_failed", "project": "p1",
           "stack_status_reason": "boom", "creation_time": "2026-12-01T10:00:00Z", "updated_time": None}
    st = stack(raw)
    assert (st.name, st.status, st.status_reason, st.project_id, st.missing) == \
        ("shop", "CREATE_FAILED", "boom", "p1", ())
    assert st.updated == st.created  # never updated: stuck is counted from its creation
    assert stack({"id": "s2", "stack_name": "x"}).missing == ("stack_status",)
    assert stack({"id": "s3", "stack_status": "CREATE_DONE"}).missing == \
        ("an undocumented stack_status 'CREATE_DONE'",)
    assert stack({"id": "s4", "stack_status": "CREATE_FAILED", "stack_status_reason": 42}).status_reason == ""
    with pytest.raises(MalformedRecord):
        stack({"stack_name": "no id"})


def test_stack_perf_counts_by_state():
    stacks = [_stack("CREATE_COMPLETE"), _stack("UPDATE_FAILED"), _stack("DELETE_IN_PROGRESS"), _stack("")]
    perf = {p.label: p.value for p in stack_perf(stacks)}
    assert perf == {"complete": 1, "in_progress": 1, "failed": 1, "unknown": 1}
