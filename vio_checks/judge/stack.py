"""Heat stack state: a failed action, an action that does not end, and the completed ones.

Heat semantics used here (heat/engine/stack.py: a stack's `stack_status` is ACTION_STATUS, the actions
INIT, CREATE, DELETE, UPDATE, ROLLBACK, SUSPEND, RESUME, ADOPT, SNAPSHOT, CHECK, RESTORE and the statuses
IN_PROGRESS, FAILED, COMPLETE):
- `*_COMPLETE`: the last action ended well. OK (ROLLBACK_COMPLETE and SUSPEND_COMPLETE say what they mean:
  a rolled-back change, a stack suspended on purpose).
- `*_FAILED`: the last action failed. CRITICAL with Heat's `stack_status_reason` (a cloud string: inert).
- `*_IN_PROGRESS`: OK while younger than --stuck-after, then WARNING "stuck", measured from the stack's
  `updated_time` (its `creation_time` when it was never updated; from when a sweep first saw it in that
  status when neither parses).
- a record without a status, or with one Heat does not document: UNKNOWN (unverified), never OK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from vio_checks.documented import stack_status_known
from vio_checks.firstseen import since
from vio_checks.judge.timefmt import STUCK_AFTER, clock, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import unreported
from vio_checks.text import inert, perf_label

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the warm path)
if TYPE_CHECKING:
    from vio_checks.optional_records import Stack

#: The longest status reason shown in a status line (the long output has more).
REASON_LEN = 200
#: What a completed status means, where it is more than "complete".
NOTES = {
    "ROLLBACK_COMPLETE": "rolled back: a change failed and was undone",
    "SUSPEND_COMPLETE": "suspended (deliberate)",
}
#: The kinds of status in aggregate perfdata, always present.
PERF_STATES = ("complete", "in_progress", "failed")


class StackOptions:
    """What the stack judge reads from the options."""

    def __init__(self, stuck_after: float = STUCK_AFTER) -> None:
        self.stuck_after = stuck_after  # seconds an action may last


def judge_stack(stack: Stack, opts: StackOptions, now: float) -> Verdict:
    """The state of one Heat stack (see the module's rules)."""
    v = Verdict()
    name = inert(stack.name) or inert(stack.id)
    status = inert(stack.status, 40) or "?"
    reason = inert(stack.status_reason, REASON_LEN)
    missing = unreported(stack)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"stack {name}: {missing}: state unverified")
    elif not stack_status_known(status):  # a record normalize did not make (it names these in `missing`)
        v.unverified = True
        v.cause = f"Heat reported an undocumented status {status!r}"
        v.add(State.UNKNOWN, f"stack {name}: {v.cause}: state unverified")
    elif status.endswith("_FAILED"):
        v.add(State.CRITICAL, f"stack {name} is {status}: {reason or 'Heat gave no reason'}")
    elif status.endswith("_IN_PROGRESS"):
        took = elapsed(stack.updated, now, opts.stuck_after, since(stack), "Heat")
        if took.stuck:
            v.add(State.WARNING, f"stack {name} stuck {status} {took.text} ({took.since})")
        else:
            v.add(State.OK, f"stack {name} {status} {took.text}{took.note}")
    else:  # *_COMPLETE
        note = f": {NOTES[status]}" if status in NOTES else ""
        v.add(State.OK, f"stack {name} is {status}{note}")
    v.details.append(f"stack {inert(stack.id)} ({name}), project {inert(stack.project_id) or '?'}, "
                     f"status {status}, created {clock(stack.created, now)}, updated "
                     f"{clock(stack.updated, now)}")
    if stack.status_reason:
        v.details.append(f"status reason: {inert(stack.status_reason, 1000)}")
    return v


def stack_perf(stacks: Iterable[Stack]) -> list[Perf]:
    """Aggregate extras: stacks complete, in progress and failed (by the status's suffix)."""
    stacks = list(stacks)
    kinds = Counter(s.status.partition("_")[2].lower() or "unknown" for s in stacks)
    order = list(PERF_STATES) + sorted(set(kinds) - set(PERF_STATES))
    return [Perf(perf_label(k), kinds.get(k, 0), min=0, max=len(stacks)) for k in order]
