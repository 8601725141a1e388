"""Options, described once: the `Option` list of every command, the options they share, and their types.

An `Option` builds the argparse argument (`add_options`) and is the public description the Icinga
CheckCommands (icinga/commands.conf) are generated from. `CHECK_OPTIONS` are the ones every check takes
(cloud, cache, timeout); `common=True` marks those with one custom var shared by all CheckCommands.

Opening the cache those options name and getting a snapshot from it is `vio_checks.open_inventory`'s job.

`parse_fast` reads a plain command line from the same description without argparse (a warm check's whole
run costs about what importing argparse and building its parser did); anything it does not recognise,
--help and every error go to argparse, so what a command accepts and prints is argparse's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from types import SimpleNamespace

from vio_checks import __version__
from vio_checks.eventlog import DEFAULT_MAX_EVENTS, DEFAULT_RETENTION
from vio_checks.model import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (or argparse)
if TYPE_CHECKING:
    import argparse
    from typing import Any

DEFAULT_CACHE_DIR = "/var/cache/vio-checks"
_DURATION = r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$"  # compiled by re on first use (its cache)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: The longest duration any option takes (about 10 years): beyond it, timers and dates overflow.
MAX_DURATION = 10 * 366 * 86400.0

def type_error(message: str) -> Exception:
    """argparse.ArgumentTypeError(message), for an option type to raise (argparse is imported only then)."""
    import argparse

    return argparse.ArgumentTypeError(message)


class Bounded:
    """The one validator of every numeric option (an argparse type): reads a number with `read` and refuses
    one outside low..high. `range_text` is the range --help documents (`ranged`)."""

    def __init__(self, what: str, read: Callable[[str], Any], low: float, high: float,
                 show: Callable[[float], str]) -> None:
        self.what, self.read, self.low, self.high, self.show = what, read, low, high, show
        self.__name__ = what  # argparse names a type by it

    @property
    def range_text(self) -> str:
        """`1..1000`, `1s..3660d`: what --help says the option accepts."""
        return f"{self.show(self.low)}..{self.show(self.high)}"

    def __call__(self, text: str) -> Any:
        value = self.read(text)
        if not self.low <= value <= self.high:  # also false for nan
            raise type_error(f"invalid {self.what} {text!r}: out of range (use {self.range_text})")
        return value


def _read_duration(text: str) -> float:
    m = re.match(_DURATION, str(text), re.I)
    if not m:
        raise type_error(f"invalid duration {text!r} (use seconds or 30m, 1h, 7d)")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def _show_duration(seconds: float) -> str:
    """A duration as the options spell it: 0s, 0.1s, 30s, 5m, 3660d."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{seconds / _UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"


def _read_int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise type_error(f"invalid number {text!r}") from None


def duration_range(low: float, high: float = MAX_DURATION) -> Bounded:
    """argparse type: a duration (`90`, `30m`, `1h`, `7d`) in seconds, within low..high seconds."""
    return Bounded("duration", _read_duration, low, high, _show_duration)


def int_range(low: int, high: int) -> Bounded:
    """argparse type: an integer within low..high."""
    return Bounded("number", _read_int, low, high, str)


#: `90`, `30m`, `1h`, `7d` → seconds: 0 up to MAX_DURATION (beyond it, timers and dates overflow).
duration = duration_range(0)
#: -t: a duration of at least one second.
timeout_duration = duration_range(1)


def ranged(help: str | None, type: Any) -> str | None:
    """An option's --help with the range of its numeric type (a `Bounded`) added, as every numeric option
    documents it; other help unchanged."""
    if not isinstance(type, Bounded) or help is None or help == "==SUPPRESS==" or type.range_text in help:
        return help
    return f"{help} [{type.range_text}]".lstrip()


def add_bounded(container: Any, *flags: str, type: Bounded, help: str, **kwargs: Any) -> Any:
    """container.add_argument for a numeric option: its help names the range `type` accepts."""
    return container.add_argument(*flags, type=type, help=ranged(help, type), **kwargs)


def selector(text: str) -> str:
    """argparse type of an option that names the object to judge: never empty (an empty one would select
    nothing, and leaving the object unnamed means a different thing: the aggregate over all)."""
    if not str(text).strip():
        raise type_error("empty value (name an object, or leave the option out)")
    return text


def comma_list(text: str) -> list[str]:
    """Parse `a,b, c` into ['a', 'b', 'c'] (argparse type)."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


# --- the description of an option ---------------------------------------------------------------

#: Option kinds: a value (`--max-age 5m`), a repeatable value, an on/off flag, a counter (-vvv), --version.
VALUE, APPEND, FLAG, COUNT, VERSION = "value", "append", "flag", "count", "version"
_ACTIONS = {VALUE: "store", APPEND: "append", FLAG: "store_true", COUNT: "count", VERSION: "version"}


class Option(FrozenRecord):
    """One command-line option: what argparse needs, and what the monitoring config needs.

    `default` of a VERSION option is the version text. `env`: the default comes from this environment
    variable when it is set. `common`: every check takes it, and all CheckCommands share one custom var
    for it (vio_<option>). `exposed=False`: never a CheckCommand argument (help, version, verbosity).
    `group` is the --help section; options with the same `exclusive` name in a group exclude each other.
    Immutable; `replace(**changes)` makes a variant.
    """

    flags: tuple[str, ...]
    help: str
    kind: str
    default: Any
    type: Callable[[str], Any] | None
    metavar: str | None
    choices: tuple[Any, ...] | None
    env: str | None
    common: bool
    exposed: bool
    group: str | None
    exclusive: str | None

    def __init__(self, flags: tuple[str, ...], help: str = "", kind: str = VALUE, default: Any = None,
                 type: Callable[[str], Any] | None = None, metavar: str | None = None,
                 choices: tuple[Any, ...] | None = None, env: str | None = None, common: bool = False,
                 exposed: bool = True, group: str | None = None, exclusive: str | None = None) -> None:
        if kind not in _ACTIONS or not flags or not all(f.startswith("-") for f in flags):
            raise ValueError(f"invalid option {flags!r} ({kind})")
        if default is None and kind in (FLAG, COUNT):  # as argparse's store_true / count
            default = False if kind == FLAG else 0
        self.__dict__.update(flags=flags, help=help, kind=kind, default=default, type=type, metavar=metavar,
                             choices=choices, env=env, common=common, exposed=exposed, group=group,
                             exclusive=exclusive)

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
            kwargs["help"] = ranged(self.help, self.type)
        if self.kind == VERSION:
            kwargs["version"] = self.default
        else:
            kwargs["default"] = self.current_default()
        if self.takes_value:
            kwargs.update(type=self.type, metavar=self.metavar, choices=self.choices)
            if self.kind == APPEND:
                kwargs["default"] = list(kwargs["default"] or [])  # argparse appends to it
        return container.add_argument(*self.flags, **kwargs)


def parse_fast(options: Iterable[Option], argv: list[str]) -> SimpleNamespace | None:
    """The parsed options as argparse would give them, or None when argparse must read this command line.

    Recognised: each option spelled exactly as one of its flags, its value (if it takes one) as the next
    argument, not starting with `-`. Anything else (`--opt=value`, `-vv`, abbreviations, positionals,
    --help, --version, two options that exclude each other, a value its type or choices reject) is None.
    Defaults, environment defaults and types are applied as `add_to` hands them to argparse.
    """
    return FastParser(options).parse(argv)


class FastParser:
    """`parse_fast` for one list of options, its tables built once: for a caller that reads many command
    lines of the same check (push and rootcause judge every node of a tree)."""

    def __init__(self, options: Iterable[Option]) -> None:
        options = tuple(options)
        # (option, its dest): dest is computed once here, not per command line
        self.by_flag = {flag: (o, o.dest) for o in options for flag in o.flags}
        # the defaults' loop: (option, dest, environment variable, APPEND, a value converted by its type)
        self.defaults = tuple((o, o.dest, o.env, o.kind == APPEND, o.takes_value) for o in options
                              if o.kind != VERSION)

    def parse(self, argv: list[str]) -> SimpleNamespace | None:
        """See parse_fast."""
        by_flag = self.by_flag
        values: dict[str, Any] = {}
        given: dict[tuple[str | None, str], str] = {}
        i = 0
        while i < len(argv):
            option, name = by_flag.get(argv[i], (None, ""))
            if option is None or option.kind == VERSION:
                return None
            if option.exclusive:
                if given.setdefault((option.group, option.exclusive), name) != name:
                    return None
            if option.kind == FLAG:
                values[name] = True
            elif option.kind == COUNT:
                values[name] = values.get(name, option.current_default() or 0) + 1
            else:
                if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                    return None
                i += 1
                value = _convert(option, argv[i])
                if value is _REJECTED:
                    return None
                if option.kind == APPEND:
                    values.setdefault(name, list(option.current_default() or [])).append(value)
                else:
                    values[name] = value
            i += 1
        environ = os.environ
        for option, name, env, append, takes_value in self.defaults:
            if name not in values:
                if env and env in environ:  # option.current_default(), without its attribute lookups
                    default = environ[env]
                else:
                    default = option.default
                    default = list(default) if isinstance(default, list) else default
                if append:
                    default = list(default or [])
                elif isinstance(default, str) and takes_value:  # argparse converts a text default
                    default = _convert(option, default)
                    if default is _REJECTED:
                        return None
                values[name] = default
        return SimpleNamespace(**values)


_REJECTED = object()


def _convert(option: Option, text: str) -> Any:
    """A value through the option's type and choices, or _REJECTED (argparse then says why)."""
    try:
        value = option.type(text) if option.type is not None else text
    except Exception:
        return _REJECTED
    if option.choices is not None and value not in option.choices:
        return _REJECTED
    return value


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
    Option(("--vcenter-credentials",), metavar="FILE", env="VIO_VCENTER_CREDENTIALS", common=True,
           group=CLOUD_GROUP,
           help="the vSphere layer: a YAML file (mode 0600) with vCenter's host, user and password; without "
                "it, the cloud's clouds.yaml entry's vsphere: mapping, if any (pip install "
                "'vio-checks[vsphere]')"),
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
    Option(("--event-retention",), metavar="DURATION", type=duration_range(60), default=DEFAULT_RETENTION,
           common=True,
           group=CACHE_GROUP, help="when this command sweeps: keep change events this long (default: 7d)"),
    Option(("--event-limit",), metavar="N", type=int_range(1, 10_000_000), default=DEFAULT_MAX_EVENTS,
           common=True,
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
                 help="diagnostics in the long output: -v which cache, its age and the rules that set "
                      "the state; -vv also the configuration used; -vvv also the sweep's requests with "
                      "timings (never a secret)")

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
