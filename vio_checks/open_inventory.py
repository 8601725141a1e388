"""Open the inventory cache the options name, and get a snapshot from it: served fresh, or swept.

    store = store_for(args)                  # the cloud+region's store under --cache-dir
    result = snapshot(args, args.timeout)    # freshness.obtain with the options' policy, within -t

The SDK is imported only when a sweep runs (`sweeper`). `-t` is the whole command's budget: what start-up
used counts (`process_age`), and an alarm ends code no timeout reaches (`BudgetExceeded`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

from vio_checks.cache import Store, namespace
from vio_checks.errors import CacheError, SweepError
from vio_checks.freshness import Freshness, Result, obtain
from vio_checks.options import DEFAULT_CACHE_DIR
from vio_checks.runtime import guard_timeout

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (or argparse)
if TYPE_CHECKING:
    import argparse


def resolve_cache_dir(explicit: str | None) -> str:
    """The cache directory to use, created 0700 when missing.

    An explicit directory (option or $VIO_CHECKS_CACHE_DIR) or an existing /var/cache/vio-checks that
    is not writable is an error, never a silent fallback to a second cache.
    """
    if explicit:
        return _usable(_expanded(explicit))
    if os.path.exists(DEFAULT_CACHE_DIR) or os.access(os.path.dirname(DEFAULT_CACHE_DIR), os.W_OK):
        return _usable(DEFAULT_CACHE_DIR)
    return _usable(_expanded("~/.cache/vio-checks"))


def _expanded(text: str) -> str:
    """`text` with ~ expanded and spelled as pathlib.Path(text).expanduser() spells it, without pathlib."""
    if text.startswith("~"):
        home = os.path.expanduser(text.split("/", 1)[0])
        if home.startswith("~"):
            raise RuntimeError("Could not determine home directory.")  # as pathlib
        text = home + text[len(text.split("/", 1)[0]):]
    root = "/" if text.startswith("/") else ""
    if text.startswith("//") and not text.startswith("///"):
        root = "//"  # POSIX keeps exactly two leading slashes, as pathlib does
    return root + "/".join(p for p in text.split("/") if p and p != ".") or "."


def _usable(path: str) -> str:
    if not os.path.exists(path):
        try:
            os.makedirs(path, mode=0o700)
        except OSError as e:
            raise CacheError(f"cannot create cache directory {path}: {e.strerror or e}") from None
    if not os.path.isdir(path):
        raise CacheError(f"cache directory {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise CacheError(f"cache directory {path} is not writable by this user")
    return path


def store_for(args: argparse.Namespace) -> Store:
    """The inventory store for the cloud+region the options name."""
    directory = resolve_cache_dir(args.cache_dir)
    return Store(os.path.join(directory, namespace(args.os_cloud, args.os_region_name)))


def sweeper(args: argparse.Namespace, store: Store):
    """A function deadline → Inventory that sweeps the cloud the options name (imports the SDK lazily)."""
    def run(deadline: float):
        from vio_checks.sweep import run as run_sweep

        return run_sweep(args, store.directory / "auth-state.json", deadline, previous=store.current())

    return run


def snapshot(
    args: argparse.Namespace, timeout: float, force: bool = False, store: Store | None = None
) -> Result:
    """A snapshot per the options' freshness policy, sweeping within `timeout` seconds when needed."""
    store = store or store_for(args)
    policy = Freshness(
        max_age=getattr(args, "max_age", 120.0), max_stale=getattr(args, "max_stale", 900.0),
        cache_only=getattr(args, "cache_only", False),
        event_retention=args.event_retention, max_events=args.event_limit,
        accept_empty=getattr(args, "accept_empty", False),
    )
    # -t is the whole command's budget: the interpreter's start-up and imports have used part of it.
    deadline = time.monotonic() + max(0.5, timeout - process_age())
    with _alarm(deadline + GRACE):
        return obtain(store, policy, sweeper(args, store), deadline, force=force)


#: How long past its deadline a sweep may run (writing its result) before the alarm ends it.
GRACE = 0.8


class BudgetExceeded(SweepError):
    """The command's time budget ran out in code no timeout reaches (raised from SIGALRM)."""


def process_age() -> float:
    """Seconds since this process started (Linux /proc; 0 where unknown)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started)
    except (OSError, ValueError, IndexError):
        return 0.0


@contextlib.contextmanager
def _alarm(deadline: float) -> Iterator[None]:
    """Raise BudgetExceeded at `deadline` (monotonic) unless the command has a timer of its own.

    The checks (nagiosplugin) and vio-discover set their own alarm; vio-icinga relies on this one.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return
    budget = max(0.05, deadline - time.monotonic())
    with guard_timeout(budget, lambda: BudgetExceeded(f"timed out after {budget:.0f} s")):
        yield
