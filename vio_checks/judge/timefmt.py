"""How times read in check output: clock times in the monitoring host's zone, ages in words."""

from __future__ import annotations

import time

from vio_checks.model import FrozenRecord

#: Seconds a sweep's stamp may be in the future (the clocks of hosts sharing a cache) before its age counts as
#: unknown (a sweeper whose clock is ahead): such an inventory is never fresh, and is refreshed.
CLOCK_SKEW = 5.0

#: The default of every `--stuck-after`: how long a transitional state may last before it WARNs.
STUCK_AFTER = 1800.0


def clock(ts: float | None, now: float) -> str:
    """`10:42` for today (local time), `2026-11-23 10:42` for another day, `?` when unknown."""
    if ts is None:
        return "?"
    t, n = time.localtime(ts), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def age(seconds: float | None) -> str:
    """`12 s`, `4 min`, `3 h 5 min`, `2 d 4 h`; `?` when unknown (None, or inf: stamped in the future)."""
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "?"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


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
