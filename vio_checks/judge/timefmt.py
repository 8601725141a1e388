"""How times read in check output: clock times in the monitoring host's zone, ages in words."""

from __future__ import annotations

import time


def clock(ts: float | None, now: float) -> str:
    """`10:42` for today (local time), `2026-11-23 10:42` for another day, `?` when unknown."""
    if ts is None:
        return "?"
    t, n = time.localtime(ts), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def age(seconds: float | None) -> str:
    """`12 s`, `4 min`, `3 h 5 min`, `2 d 4 h`; `?` when unknown."""
    if seconds is None:
        return "?"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
