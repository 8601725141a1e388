"""The one rule for deliberate admin actions: a disabled hypervisor or service, an admin-down agent, router,
port, load balancer (or its listener, pool or member).

Someone did it on purpose, so it is not a failure: OK, with the fact (and the reason, where the API gives
one) in the output; `--warn-disabled` makes it WARNING for those who want to be reminded. It never hides a
failure the object has besides (a status ERROR stays CRITICAL): the judges add it as one finding among the
others. An admin action whose object's own state the API did not report stays unverified (the judge's
missing-value rule runs first).
"""

from __future__ import annotations

from vio_checks.judge.verdict import State, Verdict

#: How the long output says it, where the admin action is only noted.
NOTE = "a deliberate admin action, OK (--warn-disabled makes it WARNING)"


def admin_action_state(warn_disabled: bool) -> State:
    """The state of a deliberate admin action: OK, or WARNING with --warn-disabled."""
    return State.WARNING if warn_disabled else State.OK


def admin_action(v: Verdict, text: str, warn_disabled: bool, noted: bool = False) -> None:
    """Judge a deliberate admin action described by `text` (e.g. `router-a is admin down`) into `v`.

    With --warn-disabled a WARNING finding; without, an OK finding, or (`noted`: where the object's own OK
    line already shows it, e.g. `router-b is ACTIVE (admin down)`) a long-output line only."""
    if warn_disabled:
        v.add(State.WARNING, text)
    elif noted:
        v.details.append(f"{text}: {NOTE}")
    else:
        v.add(State.OK, text)
