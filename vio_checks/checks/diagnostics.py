"""What -v, -vv and -vvv add to a check's long output (the monitoring-plugins verbosity levels).

- `-v`: one line: which cache, the inventory's age, the freshness rule that applied, and the rule that set
  the state.
- `-vv`: the configuration used: cloud, clouds.yaml, region, the endpoints of the catalog (as the last
  sweep saw them), and every option after defaults.
- `-vvv`: the requests of this run's sweep with their timings (logged by sweep.py; see base._capture_logs).

Imported only when -v is given. Never a secret at any level: no option carries one (credentials come from
clouds.yaml or OS_* variables only), nothing here reads clouds.yaml, and the request lines carry no headers
or bodies.
"""

from __future__ import annotations

import os
import time

from vio_checks.open_inventory import store_for
from vio_checks.options import CHECK_OPTIONS, VERBOSE
from vio_checks.text import age, inert

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vio_checks.freshness import Result
    from vio_checks.judge.verdict import Verdict

    CheckSpec = object  # base.CheckSpec: not imported, base imports this module

#: Option names whose value is never shown (none exists today; a later one must not leak).
SECRET_WORDS = ("password", "secret", "token", "credential")


def explain(spec: CheckSpec, args: argparse.Namespace, seen: dict, verbose: int, requests: int) -> list[str]:
    """The diagnostic lines for this verbosity, given what the run saw (`seen`: result, verdict) and how
    many requests the sweep logged (-vvv). `spec` is the check's CheckSpec (base.py, which imports us)."""
    result: Result | None = seen.get("result")
    verdict: Verdict | None = seen.get("verdict")
    lines = [summary_line(spec, args, result, verdict)]
    if verbose >= 2:
        lines += configuration(spec, args, result)
    if verbose >= 3 and not requests:
        lines.append("requests: none: this run did not sweep (the inventory came from the cache)"
                     if result is not None else "requests: none sent")
    return lines


# --- -v ----------------------------------------------------------------------------------------------


def summary_line(spec: CheckSpec, args: argparse.Namespace, result: Result | None,
                 verdict: Verdict | None) -> str:
    """`cache DIR; inventory of 10:42:03 (42 s old), fresh (<= --max-age 2 min): ...; state OK by ...`"""
    parts = [f"cache {_cache_dir(args, result)}"]
    if result is not None:
        snap = result.snapshot
        stamp = time.strftime("%H:%M:%S", time.localtime(snap.meta.fetched_at))
        parts.append(f"inventory of {stamp} ({age(snap.age())} old), {freshness_rule(args, result)}")
    else:
        parts.append("no usable inventory")
    if verdict is not None:
        parts.append(f"state {verdict.state.name} by {state_rule(spec, args, verdict)}")
    return "; ".join(parts)


def _cache_dir(args: argparse.Namespace, result: Result | None) -> str:
    if result is not None:
        return str(result.snapshot.store.directory)
    try:
        return str(store_for(args).directory)
    except Exception as e:  # the cache itself is what failed: its message is the status line
        return f"? ({inert(e, 200)})"


def freshness_rule(args: argparse.Namespace, result: Result) -> str:
    """Which rule of the freshness policy gave this inventory."""
    max_age, max_stale = age(args.max_age), age(args.max_stale)
    if result.swept:
        meta = result.snapshot.meta
        why = (inert(result.note, 200) if getattr(result, "note", None)
               else f"the cached one was missing or older than --max-age {max_age}")
        return f"swept by this run ({why}) in {meta.seconds:.1f} s, {meta.requests} requests"
    if result.stale_reason:
        why = result.stale_reason.split(" old: ", 1)[-1]  # its "inventory 3 min old: " is said already
        return (f"older than --max-age {max_age} and not refreshed, used up to --max-stale {max_stale}: "
                f"{inert(why, 400)}")
    if result.snapshot.age() <= args.max_age:
        return f"fresh (<= --max-age {max_age}): read without an API call"
    return "refreshed by another process meanwhile"


def state_rule(spec: CheckSpec, args: argparse.Namespace, verdict: Verdict) -> str:
    """What set the state: the verdict's own rule (aggregates: the ranges) or the object's record, with the
    check's own options that differ from their defaults."""
    if verdict.rule:
        rule = verdict.rule
    elif getattr(args, "id", None) is not None or getattr(args, "name", None) is not None:
        rule = f"the {spec.name}'s own record"
    else:
        rule = f"the worst of the {spec.name} check's findings"
    changed = [_shown(o, getattr(args, o.dest, None)) for o in spec.options
               if o.dest not in ("id", "name", "warning", "critical", "ignore_states")
               and getattr(args, o.dest, None) != _default(o)]
    changed = [c for c in changed if c]
    return rule + (f" (with {', '.join(changed)})" if changed else "")


# --- -vv ---------------------------------------------------------------------------------------------


def configuration(spec: CheckSpec, args: argparse.Namespace, result: Result | None) -> list[str]:
    """The configuration used: cloud, clouds.yaml, region, catalog endpoints, options after defaults."""
    if args.os_cloud:
        source = f"cloud {inert(args.os_cloud)} from {clouds_yaml() or 'no clouds.yaml found'}"
    else:
        url = os.environ.get("OS_AUTH_URL")
        source = "cloud from the OS_* variables" + (f" (OS_AUTH_URL {inert(url, 200)})" if url else "")
    region = inert(args.os_region_name) if args.os_region_name else "the cloud's default (none given)"
    lines = [f"config: {source}, region {region}"]
    if result is not None:
        meta = result.snapshot.meta
        lines.append(f"inventory: cloud {inert(meta.cloud)}, region {inert(meta.region) or 'default'}, "
                     f"compute microversion {inert(meta.compute_microversion) or '?'}, last sweep "
                     f"{meta.seconds:.1f} s, {meta.requests} requests")
        try:
            endpoints = result.snapshot.all("endpoints")
        except Exception:  # a diagnostic must not cost the check its answer
            endpoints = []
        for e in endpoints:
            answer = (f"HTTP {e.status_code}" if e.status_code is not None
                      else inert(e.error, 120) or "no answer")
            took = f" in {e.latency * 1000:.0f} ms" if e.latency is not None else ""
            lines.append(f"endpoint {inert(e.service_type, 40)} {inert(e.url, 200)}"
                         f"{f' (region {inert(e.region, 40)})' if e.region else ''}: {answer}{took}")
    else:
        lines.append("endpoints: unknown (no inventory)")
    shown = [_shown(o, getattr(args, o.dest, None)) for o in (*spec.options, *CHECK_OPTIONS)
             if o.dest != VERBOSE.dest and o.kind != "version"]
    lines.append("options after defaults (unset ones left out): " + " ".join(t for t in shown if t))
    return lines


def clouds_yaml() -> str | None:
    """The clouds.yaml openstacksdk reads: $OS_CLIENT_CONFIG_FILE, else the first of its search path
    (without importing openstacksdk, whose import costs more than a whole check)."""
    override = os.environ.get("OS_CLIENT_CONFIG_FILE")
    home = os.path.expanduser("~/.config/openstack")
    xdg_home = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "openstack")
    xdg_site = os.path.join((os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")[0], "openstack")
    dirs = [os.getcwd(), xdg_home, home, xdg_site, "/etc/openstack"]
    candidates = ([override] if override else []) + [
        os.path.join(d, f"clouds{suffix}") for d in dirs for suffix in (".yaml", ".yml", ".json")]
    for path in candidates:
        if os.path.exists(path):
            readable = os.access(path, os.R_OK)
            return inert(path, 300) + ("" if readable else " (not readable by this user)")
    return None


def _default(option) -> object:
    default = option.current_default()
    if isinstance(default, str) and option.takes_value and option.type is not None:
        try:
            return option.type(default)
        except Exception:
            return default
    return default


def _shown(option, value: object) -> str:
    """`--max-age 120` as the option was used ("" when unset); secrets never shown."""
    if value is None or value is False or (isinstance(value, (list, tuple, set, frozenset)) and not value):
        return ""
    if any(word in option.dest for word in SECRET_WORDS):
        return f"{option.long} ***"
    if value is True:
        return option.long
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(getattr(v, "name", str(v)) for v in value)
        return f"{option.long} {inert(','.join(items), 200)}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{option.long} {inert(value, 200)}"
