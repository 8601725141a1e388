"""Bad options, as a class: every executable's options are enumerated from its argparse parser, so a new
option is covered without editing these tests.

- every numeric option (its type turns "1" into a number) names its range in --help, and the parser refuses
  a value outside it (`--event-limit -1` trimmed the event log to its newest entry);
- an option that names the object to judge is never empty (`--id ''` silently judged the aggregate);
- a Nagios range names a bound (`--disk-warning @` is always CRITICAL);
- a check's bad-option answer is one status line without `|` (argparse's usage `[--id ID | --name NAME]`
  started perfdata in Icinga and Nagios);
- a bad option is refused before anything is read or written (no cache, no sweep).
"""

from __future__ import annotations

import argparse
import re

import pytest

from vio_checks import discover_cli
from vio_checks.checks import spec_of
from vio_checks.checks.base import build_parser
from vio_checks.icinga import COMMAND_MODULES
from vio_checks.icinga import cli as icinga_cli
from vio_checks.options import CHECK_OPTIONS

#: Every check module (its executable is check_vio_<name>).
CHECKS = tuple(COMMAND_MODULES.values())


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def executables() -> dict[str, tuple[list[str], argparse.ArgumentParser]]:
    """Command line prefix and parser of every executable and vio-icinga subcommand."""
    out = {"vio-discover": (["vio-discover"], discover_cli.build_parser())}
    for name in CHECKS:
        out[f"check_vio_{name}"] = ([f"check_vio_{name}"], build_parser(spec_of(name)))
    for sub, parser in _subparsers(icinga_cli.build_parser()).items():
        out[f"vio-icinga {sub}"] = (["vio-icinga", sub], parser)
    return out


EXECUTABLES = executables()


def _is_numeric(action: argparse.Action) -> bool:
    """An option whose value is a number (an int, a float, a duration in seconds)."""
    if not action.option_strings or action.type is None or action.nargs == 0:
        return False
    try:
        value = action.type("1")
    except Exception:
        return False
    return isinstance(value, (int, float)) and not isinstance(value, bool)


NUMERIC = [(exe, action) for exe, (_, parser) in EXECUTABLES.items() for action in parser._actions
           if _is_numeric(action)]
_IDS = [f"{exe} {action.option_strings[-1]}" for exe, action in NUMERIC]

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BOUND = r"(-?\d+(?:\.\d+)?)([smhdw]?)"
_RANGE = re.compile(_BOUND + r"\.\." + _BOUND)


def _seconds(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def documented_range(action: argparse.Action) -> tuple[float, float, bool]:
    """(low, high, is a duration) as the option's --help text names them, e.g. `[1s..3660d]`, `1..1000`."""
    m = _RANGE.search(action.help or "")
    assert m, f"{action.option_strings}: no range in its --help text: {action.help!r}"
    low, high = _seconds(m.group(1), m.group(2)), _seconds(m.group(3), m.group(4))
    return low, high, bool(m.group(2) or m.group(4))


def refusal(exe: str, argv: list[str], capsys) -> str:
    """What the executable answers to a command line it must refuse (asserting it refuses it)."""
    prefix, parser = EXECUTABLES[exe]
    with pytest.raises(SystemExit) as e:
        if exe.startswith("check_vio_"):
            build_parser(spec_of(exe.removeprefix("check_vio_"))).parse_args(argv)
        elif exe.startswith("vio-icinga "):
            icinga_cli.build_parser().parse_args([prefix[1], *argv])
        else:
            parser.parse_args(argv)
    out = capsys.readouterr()
    if exe.startswith("check_vio_"):
        assert e.value.code == 3 and not out.err, (argv, out)
        assert_one_bad_option_line(out.out, exe)
        return out.out
    assert e.value.code == 2, (argv, out)
    return out.err


def assert_one_bad_option_line(stdout: str, exe: str) -> None:
    title = "VIO " + exe.removeprefix("check_vio_").upper()
    lines = stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{title} UNKNOWN - bad option: "), stdout
    assert "|" not in stdout, f"a `|` starts perfdata: {stdout!r}"


#: What a subcommand requires besides the option tested.
_NEEDS = {"vio-icinga deploy": ["--api-url", "https://127.0.0.1:1", "--api-user", "x"],
          "vio-icinga push": ["--command-file", "/dev/null", "--once"], "vio-icinga export": ["--json"],
          "vio-icinga impact": ["x"], "vio-icinga rootcause": ["x"]}


def accepts(exe: str, argv: list[str]) -> bool:
    prefix, parser = EXECUTABLES[exe]
    try:
        if exe.startswith("check_vio_"):
            build_parser(spec_of(exe.removeprefix("check_vio_"))).parse_known_args(argv)
        else:
            parser.parse_known_args([*_NEEDS.get(exe, []), *argv])
    except SystemExit:
        return False
    return True


def _spell(value: float, duration: bool) -> str:
    if not duration:
        return str(int(value))
    text = f"{value:f}".rstrip("0").rstrip(".")
    return f"{text}s" if value >= 0 else text


# --- numeric options ---------------------------------------------------------------------------------


def test_numeric_options_are_found():
    """The enumeration sees the options the issue named (so an empty list cannot pass the tests below)."""
    seen = {(exe, action.option_strings[-1]) for exe, action in NUMERIC}
    for wanted in [("check_vio_inventory", "--event-limit"), ("check_vio_inventory", "--max-events"),
                   ("vio-discover", "--page-size"), ("vio-icinga push", "--retries"),
                   ("vio-icinga deploy", "--retries"), ("vio-icinga rootcause", "--retries"),
                   ("check_vio_vm", "--timeout"), ("vio-icinga generate", "--vm-interval")]:
        assert wanted in seen, wanted


def test_no_numeric_option_is_a_bare_int_or_float():
    """A bare int or float type has no range: every number goes through the one validator."""
    bare = [i for i, (_, action) in zip(_IDS, NUMERIC, strict=True) if action.type in (int, float)]
    assert not bare, bare


@pytest.mark.parametrize(("exe", "action"), NUMERIC, ids=_IDS)
def test_every_numeric_option_documents_and_enforces_its_range(exe, action, capsys):
    low, high, duration = documented_range(action)
    flag = action.option_strings[-1]
    _, parser = EXECUTABLES[exe]
    assert f"{flag}" in parser.format_help()
    for inside in (low, high):
        assert accepts(exe, [flag, _spell(inside, duration)]), f"{flag} {inside} is within its range"
    below = -1 if low >= 0 else low - 1
    if low > 0:
        below = low / 2 if duration else low - 1
    for outside in (below, high * 2 + 1):
        text = refusal(exe, [flag, _spell(outside, duration)], capsys)
        assert flag in text and "Traceback" not in text, text
    for garbage in ("", "many", "nan", "1e400"):
        text = refusal(exe, [flag, garbage], capsys)
        assert flag in text, text


# --- selectors, ranges ---------------------------------------------------------------------------------

_SHARED = {o.dest for o in CHECK_OPTIONS}


def _takes_text(action: argparse.Action) -> bool:
    """Its value is kept as the text given (a name, an id), not a number, list or range."""
    try:
        return action.type is None or action.type("x") == "x"
    except Exception:
        return False

SELECTORS = [(exe, action) for exe, (_, parser) in EXECUTABLES.items() if exe.startswith("check_vio_")
             for action in parser._actions
             if action.option_strings and action.nargs is None and action.dest not in _SHARED
             and not action.choices and isinstance(action, argparse._StoreAction)
             and _takes_text(action)]


def test_selectors_are_found():
    seen = {(exe, action.option_strings[-1]) for exe, action in SELECTORS}
    for wanted in [("check_vio_vm", "--id"), ("check_vio_vm", "--name"), ("check_vio_interface", "--server"),
                   ("check_vio_esxi", "--cluster"), ("check_vio_service", "--host")]:
        assert wanted in seen, wanted


@pytest.mark.parametrize(("exe", "action"), SELECTORS, ids=[f"{e} {a.option_strings[-1]}" for e, a in SELECTORS])
@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_selector_is_a_bad_option(exe, action, empty, capsys):
    """`--id ''` named no object and silently judged the whole aggregate instead."""
    flag = action.option_strings[-1]
    text = refusal(exe, [flag, empty], capsys)
    assert flag in text and "empty" in text, text


RANGES = [(exe, action) for exe, (_, parser) in EXECUTABLES.items() for action in parser._actions
          if action.option_strings and action.metavar == "RANGE"]


@pytest.mark.parametrize(("exe", "action"), RANGES, ids=[f"{e} {a.option_strings[-1]}" for e, a in RANGES])
@pytest.mark.parametrize("bad", ["@", ":", "~:", "@~:", "x:y"])
def test_a_nagios_range_without_a_bound_is_a_bad_option(exe, action, bad, capsys):
    """`--disk-warning @` (inside 0..inf: always alerting) and `:` (never) are typos, not thresholds."""
    assert RANGES
    flag = action.option_strings[-1]
    assert flag in refusal(exe, [flag, bad], capsys)
    assert accepts(exe, [flag, "10:"])


# --- the bad-option line ----------------------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("argv", [["--bogus"], ["--max-age", "a|b"], ["--id", "x", "--name", "y"],
                                  ["--timeout"], ["positional"]])
def test_a_checks_bad_option_is_one_status_line_without_a_pipe(check, argv, capsys):
    """argparse's usage line (`[--id ID | --name NAME]`) after the status line started perfdata."""
    refusal(f"check_vio_{check}", argv, capsys)


# --- refused before anything is read or written --------------------------------------------------------


def _first_numeric(exe: str) -> str:
    return next(a.option_strings[-1] for e, a in NUMERIC if e == exe)




@pytest.mark.parametrize("exe", [e for e in EXECUTABLES if any(x == e for x, _ in NUMERIC)])
def test_a_bad_option_is_refused_before_anything_is_read_or_written(healthy_cloud, exe):
    """Against a running cloud with an empty cache: a bad option neither sweeps nor writes the cache."""
    prefix, _ = EXECUTABLES[exe]
    flags = {a.option_strings[-1] for e, a in NUMERIC if e == exe}
    flag = "--event-limit" if "--event-limit" in flags else _first_numeric(exe)
    r = healthy_cloud.run(*prefix, *_NEEDS.get(exe, []), flag, "-1")
    assert r.rc == (3 if exe.startswith("check_vio_") else 2), str(r)
    assert flag in r.stdout + r.stderr and "Traceback" not in r.stdout + r.stderr, str(r)
    if exe.startswith("check_vio_"):
        assert_one_bad_option_line(r.stdout, exe)
    assert not healthy_cloud.cache_dir.exists() or not any(healthy_cloud.cache_dir.iterdir()), str(r)


def test_event_limit_minus_one_keeps_the_event_log(healthy_cloud):
    """`--event-limit -1` was taken as 1: the next sweep trimmed the event log to its newest entry."""
    cloud = healthy_cloud
    cloud.sweep()
    for vm in cloud.sim.admin("GET", "/_sim/servers")["servers"][:3]:
        cloud.sim.admin("DELETE", f"/_sim/servers/{vm['id']}")
    cloud.sweep()
    before = cloud.run("vio-discover", "--events", "--json")
    assert before.rc == 0 and before.stdout.count('"kind"') >= 3, str(before)
    for cmd in (("vio-discover", "--event-limit", "-1"), ("check_vio_vm", "--max-age", "0", "--event-limit", "-1"),
                ("vio-icinga", "generate", "--max-age", "0", "--event-limit", "-1")):
        r = cloud.run(*cmd)
        assert r.rc in (2, 3) and "--event-limit" in r.stdout + r.stderr, str(r)
    cloud.sweep()
    after = cloud.run("vio-discover", "--events", "--json")
    assert after.stdout == before.stdout, "the event log lost entries"


# --- what an endpoint answered -------------------------------------------------------------------------


def test_an_endpoint_answering_401_is_not_just_answered(healthy_cloud):
    """-vv showed `HTTP 401` while vio-discover called every endpoint "answered": say what it answered."""
    cloud = healthy_cloud
    cloud.sim.fault(path="^/network/?$", status=401)  # only the catalog probe of the network endpoint
    r = cloud.run("vio-discover")
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("endpoints"))
    assert r.rc == 0 and "answered HTTP 401" in line, str(r)
    assert "answered HTTP 200" in line or "answered HTTP 300" in line, line
    r = cloud.run("check_vio_service", "--component", "keystone", "-v")
    assert "network endpoint" in r.stdout and "answered HTTP 401" in r.stdout, str(r)
    assert "error status" not in r.status, "a 401 is what a token-guarded endpoint owes a probe without token"


def test_an_endpoint_answering_404_is_noted_in_the_status_line(healthy_cloud):
    """A reachable endpoint whose root answers 404 is no success: the status line says so (still OK)."""
    cloud = healthy_cloud
    cloud.sim.fault(path="^/network/?$", status=404)
    r = cloud.run("check_vio_service", "--component", "keystone", "-v")
    assert r.rc == 0 and "(1 answered an error status)" in r.status, str(r)
    assert "answered HTTP 404" in r.stdout, str(r)
