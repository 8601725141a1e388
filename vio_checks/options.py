"""Options, described once: the `Option` list of every command, the options they share, and their types.

An `Option` builds the argparse argument (`add_options`) and is the public description the Icinga
CheckCommands (icinga/commands.conf) are generated from. `CHECK_OPTIONS` are the ones every check takes
(cloud, cache, timeout); `common=True` marks those with one custom var shared by all CheckCommands.

Also turns those options into a snapshot (freshness.obtain) with the SDK imported only when a sweep runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vio_checks import __version__
from vio_checks.cache import Store, namespace
from vio_checks.errors import CacheError, SweepError
from vio_checks.eventlog import DEFAULT_MAX_EVENTS, DEFAULT_RETENTION
from vio_checks.freshness import Freshness, Result, obtain

DEFAULT_CACHE_DIR = Path("/var/cache/vio-checks")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: The longest duration any option takes (about 10 years): beyond it, timers and dates overflow.
MAX_DURATION = 10 * 366 * 86400.0

def duration(text: str) -> float:
    """Parse `90`, `30m`, `1h`, `7d` into seconds (argparse type): 0 up to MAX_DURATION."""
    m = _DURATION.match(str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (use seconds or 30m, 1h, 7d)")
    seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not 0 <= seconds <= MAX_DURATION:  # also false for inf and nan
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (at most {MAX_DURATION / 86400:.0f}d)")
    return seconds


def timeout_duration(text: str) -> float:
    """argparse type for -t: a duration of at least one second."""
    seconds = duration(text)
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r} (at least 1 s)")
    return seconds


def int_range(low: int, high: int):
    """argparse type: an integer within low..high."""
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range (use {low}..{high})")
        return value

    return parse


def comma_list(text: str) -> list[str]:
    """Parse `a,b, c` into ['a', 'b', 'c'] (argparse type)."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


# --- the description of an option ---------------------------------------------------------------

#: Option kinds: a value (`--max-age 5m`), a repeatable value, an on/off flag, a counter (-vvv), --version.
VALUE, APPEND, FLAG, COUNT, VERSION = "value", "append", "flag", "count", "version"
_ACTIONS = {VALUE: "store", APPEND: "append", FLAG: "store_true", COUNT: "count", VERSION: "version"}


@dataclass(frozen=True)
class Option:
    """One command-line option: what argparse needs, and what the monitoring config needs.

    `default` of a VERSION option is the version text. `env`: the default comes from this environment
    variable when it is set. `common`: every check takes it, and all CheckCommands share one custom var
    for it (vio_<option>). `exposed=False`: never a CheckCommand argument (help, version, verbosity).
    `group` is the --help section; options with the same `exclusive` name in a group exclude each other.
    """

    flags: tuple[str, ...]
    help: str = ""
    kind: str = VALUE
    default: Any = None
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[Any, ...] | None = None
    env: str | None = None
    common: bool = False
    exposed: bool = True
    group: str | None = None
    exclusive: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _ACTIONS or not self.flags or not all(f.startswith("-") for f in self.flags):
            raise ValueError(f"invalid option {self.flags!r} ({self.kind})")
        if self.default is None and self.kind in (FLAG, COUNT):  # as argparse's store_true / count
            object.__setattr__(self, "default", False if self.kind == FLAG else 0)

    @property
    def long(self) -> str:
        """The option's long form (--timeout for -t/--timeout): its name in the monitoring config."""
        return next((f for f in self.flags if f.startswith("--")), self.flags[0])

    @property
    def dest(self) -> str:
        """The attribute the parsed value lands in (argparse's rule: --max-age → max_age)."""
        return self.long.lstrip("-").replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.kind in (VALUE, APPEND)

    def current_default(self) -> Any:
        """The default now: the environment variable's value when `env` names one that is set."""
        if self.env and self.env in os.environ:
            return os.environ[self.env]
        return list(self.default) if isinstance(self.default, list) else self.default

    def add_to(self, container: Any) -> argparse.Action:
        """Add this option to an argparse parser or group."""
        kwargs: dict[str, Any] = {"action": _ACTIONS[self.kind]}
        if self.help:
            kwargs["help"] = self.help
        if self.kind == VERSION:
            kwargs["version"] = self.default
        else:
            kwargs["default"] = self.current_default()
        if self.takes_value:
            kwargs.update(type=self.type, metavar=self.metavar, choices=self.choices)
            if self.kind == APPEND:
                kwargs["default"] = list(kwargs["default"] or [])  # argparse appends to it
        return container.add_argument(*self.flags, **kwargs)


def add_options(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Add options to a parser in order, each in its --help group (created on first use)."""
    groups: dict[str, Any] = {}
    exclusive: dict[tuple[str | None, str], Any] = {}
    for option in options:
        container: Any = parser
        if option.group:
            if option.group not in groups:
                groups[option.group] = parser.add_argument_group(option.group)
            container = groups[option.group]
        if option.exclusive:
            key = (option.group, option.exclusive)
            if key not in exclusive:
                exclusive[key] = container.add_mutually_exclusive_group()
            container = exclusive[key]
        option.add_to(container)


# --- the options commands share -----------------------------------------------------------------

CLOUD_GROUP = "cloud (credentials come from clouds.yaml or OS_* variables only)"
CACHE_GROUP = "inventory cache"
PLUGIN_GROUP = "plugin"

#: Which cloud: every command that talks to one.
CLOUD_OPTIONS: tuple[Option, ...] = (
    Option(("--os-cloud",), metavar="NAME", env="OS_CLOUD", common=True, group=CLOUD_GROUP,
           help="cloud entry in clouds.yaml (default: $OS_CLOUD, else the OS_* variables)"),
    Option(("--os-region-name",), metavar="REGION", env="OS_REGION_NAME", common=True, group=CLOUD_GROUP,
           help="region (default: $OS_REGION_NAME, else the cloud's own)"),
)

CACHE_DIR = Option(("--cache-dir",), metavar="DIR", env="VIO_CHECKS_CACHE_DIR", common=True,
                   group=CACHE_GROUP,
                   help="cache directory (default: $VIO_CHECKS_CACHE_DIR, else /var/cache/vio-checks when "
                        "writable, else ~/.cache/vio-checks)")
#: How old an inventory may be: commands that read it (not vio-discover, which always sweeps).
FRESHNESS_OPTIONS: tuple[Option, ...] = (
    Option(("--max-age",), metavar="DURATION", type=duration, default=120.0, common=True, group=CACHE_GROUP,
           help="refresh the inventory when older than this (default: 120 s)"),
    Option(("--max-stale",), metavar="DURATION", type=duration, default=900.0, common=True, group=CACHE_GROUP,
           help="when a refresh fails, keep using an inventory up to this age (default: 900 s)"),
    Option(("--cache-only",), kind=FLAG, common=True, group=CACHE_GROUP,
           help="never call the API; rely on vio-discover run from a timer"),
)
EVENT_OPTIONS: tuple[Option, ...] = (
    Option(("--event-retention",), metavar="DURATION", type=duration, default=DEFAULT_RETENTION, common=True,
           group=CACHE_GROUP, help="when this command sweeps: keep change events this long (default: 7d)"),
    Option(("--event-limit",), metavar="N", type=int, default=DEFAULT_MAX_EVENTS, common=True,
           group=CACHE_GROUP,
           help="when this command sweeps: keep at most N change events (default: 100000)"),
)


def cache_options(freshness: bool = True) -> tuple[Option, ...]:
    """The cache options: directory, freshness (unless `freshness` is False), event log."""
    return (CACHE_DIR, *(FRESHNESS_OPTIONS if freshness else ()), *EVENT_OPTIONS)


#: -t of the checks; other commands replace its default and help (dataclasses.replace).
TIMEOUT = Option(("-t", "--timeout"), type=timeout_duration, default=30.0, metavar="DURATION", common=True,
                 group=PLUGIN_GROUP,
                 help="answer UNKNOWN after this long, whatever the API does (default: 30 s)")
VERBOSE = Option(("-v", "--verbose"), kind=COUNT, default=0, exposed=False, group=PLUGIN_GROUP,
                 help="add diagnostics to the long output (repeatable, up to -vvv)")

#: The options every check takes, after its own: cloud, cache, -t, -v, -V.
CHECK_OPTIONS: tuple[Option, ...] = (
    *CLOUD_OPTIONS, *cache_options(), TIMEOUT, VERBOSE,
    Option(("-V", "--version"), kind=VERSION, default=f"%(prog)s (vio-checks) {__version__}", exposed=False,
           group=PLUGIN_GROUP),
)


def add_cloud_options(parser: argparse.ArgumentParser) -> None:
    """--os-cloud, --os-region-name."""
    add_options(parser, CLOUD_OPTIONS)


def add_cache_options(parser: argparse.ArgumentParser, freshness: bool = True) -> None:
    """--cache-dir, the freshness options (unless `freshness` is False) and the event log's."""
    add_options(parser, cache_options(freshness))


def resolve_cache_dir(explicit: str | None) -> Path:
    """The cache directory to use, created 0700 when missing.

    An explicit directory (option or $VIO_CHECKS_CACHE_DIR) or an existing /var/cache/vio-checks that
    is not writable is an error, never a silent fallback to a second cache.
    """
    if explicit:
        return _usable(Path(explicit).expanduser())
    if DEFAULT_CACHE_DIR.exists() or os.access(DEFAULT_CACHE_DIR.parent, os.W_OK):
        return _usable(DEFAULT_CACHE_DIR)
    return _usable(Path("~/.cache/vio-checks").expanduser())


def _usable(path: Path) -> Path:
    if not path.exists():
        try:
            path.mkdir(mode=0o700, parents=True)
        except OSError as e:
            raise CacheError(f"cannot create cache directory {path}: {e.strerror or e}") from None
    if not path.is_dir():
        raise CacheError(f"cache directory {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise CacheError(f"cache directory {path} is not writable by this user")
    return path


def store_for(args: argparse.Namespace) -> Store:
    """The inventory store for the cloud+region the options name."""
    return Store(resolve_cache_dir(args.cache_dir) / namespace(args.os_cloud, args.os_region_name))


def sweeper(args: argparse.Namespace, store: Store):
    """A function deadline → Inventory that sweeps the cloud the options name (imports the SDK lazily)."""
    def run(deadline: float):
        from vio_checks.cloud import CloudClient
        from vio_checks.sweep import sweep

        client = CloudClient(args.os_cloud, args.os_region_name, deadline,
                             auth_state_file=store.directory / "auth-state.json")
        return sweep(client, args.os_cloud or "envvars", args.os_region_name,
                     page_size=getattr(args, "page_size", 1000))

    return run


def snapshot(
    args: argparse.Namespace, timeout: float, force: bool = False, store: Store | None = None
) -> Result:
    """A snapshot per the options' freshness policy, sweeping within `timeout` seconds when needed."""
    store = store or store_for(args)
    policy = Freshness(
        max_age=getattr(args, "max_age", 120.0), max_stale=getattr(args, "max_stale", 900.0),
        cache_only=getattr(args, "cache_only", False),
        event_retention=args.event_retention, max_events=max(1, args.event_limit),
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
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
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

    def expire(signum, frame):
        raise BudgetExceeded(f"timed out after {budget:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
