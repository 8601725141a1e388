"""The states rootcause reads: judged from the cached inventory exactly as each node's check would judge
it (in-process), or read live from the Icinga 2 API."""

from __future__ import annotations

import importlib
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from vio_checks.checks.base import build_parser
from vio_checks.icinga import COMMAND_MODULES
from vio_checks.icinga import objects as o
from vio_checks.icinga.analysis import Status
from vio_checks.icinga.deploy import ApiError


def judge_states(snapshot: Any, now: float) -> Callable[[o.Node], Status]:
    """A node's state as its check would judge it from this snapshot (in-process, no API call)."""
    parsers: dict[str, Any] = {}

    def judge(node: o.Node) -> Status:
        command = node.check.command
        if command not in COMMAND_MODULES:  # the container hosts' dummy check
            return Status(0, node.is_host, "(no check of its own)")
        if command not in parsers:
            spec = importlib.import_module(f"vio_checks.checks.{COMMAND_MODULES[command]}").SPEC
            parsers[command] = (spec, build_parser(spec))
        spec, parser = parsers[command]
        argv: list[str] = []
        for option, value in node.check.args:
            argv += [option] if value is None else [f"{option}={value}"]
        try:
            args = parser.parse_args(argv)
            verdict = spec.evaluate(args, snapshot, now)
        except (SystemExit, Exception) as e:  # a check that cannot judge says UNKNOWN, as it would
            return Status(3 if not node.is_host else 1, node.is_host, f"cannot judge: {e}")
        state = int(verdict.state)
        title = spec.title
        output = f"{title} {verdict.state.name} - {verdict.summary}"
        if node.is_host:
            return Status(0 if state in (0, 1) else 1, True, output)
        return Status(state, False, output)

    return judge


# --- states: from Icinga 2 ------------------------------------------------------------------------------


class IcingaUnavailable(Exception):
    """The API could not be asked (unreachable, TLS, authentication): a one-line message."""


def icinga_states(api: Any, keys: Iterable[str], hosts: set[str]) -> dict[str, Status]:
    """Live state of each object (host name or host!service) from /v1/objects; missing ones are marked."""
    out: dict[str, Status] = {}
    attrs = "&".join(f"attrs={a}" for a in ("state", "state_type", "last_state_change", "last_reachable",
                                            "last_check_result"))
    for key in keys:
        plural = "hosts" if key in hosts else "services"
        path = f"/v1/objects/{plural}/{urllib.parse.quote(key, safe='')}?{attrs}"
        try:
            data = api.request("GET", path, not_found=None)
        except ApiError as e:
            raise IcingaUnavailable(str(e)) from None
        results = (data or {}).get("results") or []
        if not results:
            out[key] = Status(0, key in hosts, missing=True)
            continue
        a = results[0].get("attrs") or {}
        cr = a.get("last_check_result") or {}
        out[key] = Status(int(a.get("state") or 0), key in hosts, cr.get("output") or "",
                          since=float(a["last_state_change"]) if a.get("last_state_change") else None,
                          reachable=a.get("last_reachable"), soft=int(a.get("state_type") or 0) == 0)
    return out

