"""The one "stuck for longer than --stuck-after" rule and its default (clock times and ages: `text`)."""

from __future__ import annotations

from vio_checks.model import FrozenRecord
from vio_checks.text import age, clock

#: The default of every `--stuck-after`: how long a transitional state may last before it WARNs.
STUCK_AFTER = 1800.0


class Elapsed(FrozenRecord):
    """How long something has been in a transitional state, since when, and whether that is too long."""

    def __init__(self, seconds: float | None, stuck: bool, since: str = "since ?", note: str = "") -> None:
        # seconds: None when unknown; stuck: never when unknown; since: `since 08:42`, or `since first seen
        # 08:42, Nova's timestamp unreadable`; note: the latter as a suffix for lines that give no `since`
        self.__dict__.update(seconds=seconds, stuck=stuck, since=since, note=note)

    @property
    def text(self) -> str:
        """`for 4 min`, or `(since ?)` when unknown."""
        return "(since ?)" if self.seconds is None else f"for {age(self.seconds)}"


def elapsed(updated: float | None, now: float, stuck_after: float, first_seen: float | None = None,
            source: str = "the API") -> Elapsed:
    """The one "stuck for longer than --stuck-after" rule (VMs, volumes, ports), counted from `updated`.

    When `updated` is unknown (absent, or a timestamp that did not parse), from `first_seen`: when a sweep
    first saw the object in this state (firstseen.since), which the texts then say, naming the `source`
    whose timestamp failed. Unknown only when neither is known; never stuck then.

    Also the grace before an orphan (a volume or port whose server is gone) counts: a record updated less
    than --stuck-after ago may belong to a server created during the sweep.
    """
    if updated is not None:
        seconds = now - updated
        return Elapsed(seconds, seconds >= stuck_after, f"since {clock(updated, now)}")
    if first_seen is None:
        return Elapsed(None, False)
    seconds = now - first_seen
    why = f"{source}'s timestamp unreadable"
    return Elapsed(seconds, seconds >= stuck_after, f"since first seen {clock(first_seen, now)}, {why}",
                   f" (since first seen {clock(first_seen, now)}; {why})")
