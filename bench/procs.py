"""Running the benchmark's children and summarising what they measured (shared by run.py and bulk.py).

Each child is reaped with os.wait4, so its CPU time (user + system) and peak RSS are its own.
"""

from __future__ import annotations

import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent

# --- running children ---------------------------------------------------------------------------------


@dataclass
class Proc:
    """A finished child: exit code, wall and CPU seconds, peak RSS, output."""

    cmd: list[str]
    rc: int
    wall: float
    cpu: float
    maxrss_mb: float
    stdout: str
    stderr: str
    started: float = 0.0

    @property
    def status(self) -> str:
        """The first output line without perfdata."""
        first = self.stdout.splitlines()[0] if self.stdout.strip() else "(no output)"
        return first.split("|", 1)[0].strip()


class Child:
    """A started child, reaped with os.wait4 for its own rusage."""

    def __init__(self, cmd: list[str], env: dict[str, str], timeout: float) -> None:
        self.cmd = [str(c) for c in cmd]
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.t0 = time.perf_counter()
        self.popen = subprocess.Popen(self.cmd, env=env, stdout=self.out, stderr=self.err,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self.timer = threading.Timer(timeout, self._kill)
        self.timer.daemon = True
        self.timer.start()

    def _kill(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self) -> Proc:
        _, status, ru = os.wait4(self.popen.pid, 0)
        wall = time.perf_counter() - self.t0
        self.timer.cancel()
        self.popen.returncode = rc = os.waitstatus_to_exitcode(status)
        texts = []
        for f in (self.out, self.err):
            f.seek(0)
            texts.append(f.read().decode("utf-8", "replace"))
            f.close()
        return Proc(self.cmd, rc, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, texts[0], texts[1],
                    self.started)


def run(cmd: list[Any], env: dict[str, str], timeout: float = 600) -> Proc:
    """Run one child to its end."""
    return Child(cmd, env, timeout).wait()


def cmd(name: str, *args: Any) -> list[str]:
    """An installed command of the venv this script runs in."""
    return [str(BIN / name), *map(str, args)]


# --- statistics ---------------------------------------------------------------------------------------


def spread(xs: list[float]) -> dict[str, float]:
    """min / median / max (and n) of a sample."""
    if not xs:
        return {"n": 0, "min": math.nan, "median": math.nan, "max": math.nan}
    return {"n": len(xs), "min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


# --- formatting ---------------------------------------------------------------------------------------


def fmt_s(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def fmt_spread(s: dict, f=fmt_s) -> str:
    return f"{f(s['min'])} / {f(s['median'])} / {f(s['max'])}"


def holds(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**yes**" if ok else "**NO**")
