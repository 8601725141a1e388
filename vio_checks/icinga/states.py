"""The states rootcause reads: judged from the cached inventory exactly as each node's check would judge
it (in-process), or read live from the Icinga 2 API."""

from __future__ import annotations

import argparse
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from vio_checks.freshness import Result
from vio_checks.icinga import objects as o
from vio_checks.icinga.analysis import Status
from vio_checks.icinga.bulk import Evaluator, MemorySnapshot, host_state
from vio_checks.text import inert


def judge_states(result: Result, shared: argparse.Namespace | None = None) -> Callable[[o.Node], Status]:
    """A node's state and whole output as its check executable would give them from this snapshot
    (in-process, no API call): judged by push's own `bulk.Evaluator`, so with the same argument reading,
    shared options (`shared`: the command's cloud and cache options) and stale note."""
    memory = result if isinstance(result.snapshot, MemorySnapshot) else Result(
        MemorySnapshot(result.snapshot), result.stale_reason, result.swept, result.error)
    evaluator = Evaluator(memory, shared)

    def judge(node: o.Node) -> Status:
        outcome = evaluator.evaluate(node)
        if node.is_host:
            return Status(host_state(outcome.code), True, outcome.text)
        return Status(outcome.code, False, outcome.text)

    return judge


# --- states: from Icinga 2 ------------------------------------------------------------------------------


_NOT_FOUND = object()
#: How much of an object's output rootcause keeps from Icinga's reply (it shows the first line, bounded).
OUTPUT_LIMIT = 64 * 1024


def icinga_states(api: Any, keys: Iterable[str], hosts: set[str]) -> dict[str, Status]:
    """Live state of each object (host name or host!service) from /v1/objects; raises deploy.ApiError (TLS,
    401/403, not JSON: a configuration to fix) or deploy.ApiUnavailable. An object Icinga does not
    have is marked missing; one whose reply carries no usable state (none, not a state number, never
    checked) is marked unknown: neither is ever read as UP / OK."""
    out: dict[str, Status] = {}
    attrs = "&".join(f"attrs={a}" for a in ("state", "state_type", "last_state_change", "last_reachable",
                                            "last_check_result"))
    for key in keys:
        is_host = key in hosts
        plural = "hosts" if is_host else "services"
        path = f"/v1/objects/{plural}/{urllib.parse.quote(key, safe='')}?{attrs}"
        data = api.request("GET", path, not_found=_NOT_FOUND)  # ApiError / ApiUnavailable: the caller's
        if data is _NOT_FOUND or (isinstance(data, dict) and data.get("results") == []):  # 404, or no match
            out[key] = Status(0, is_host, missing=True)
            continue
        unreadable = _unreadable(data)
        if unreadable:
            out[key] = Status(0, is_host, unknown=f"Icinga's reply {unreadable}")
            continue
        a = data["results"][0].get("attrs")
        a = a if isinstance(a, dict) else {}
        cr = a.get("last_check_result")
        output = cr.get("output") if isinstance(cr, dict) else None
        # bounded: a plugin's output may be megabytes; rootcause shows its first line
        output = output[:OUTPUT_LIMIT] if isinstance(output, str) else ""
        since = _number(a.get("last_state_change"))
        reachable = a.get("last_reachable") if isinstance(a.get("last_reachable"), bool) else None
        state, unknown = _state(a, is_host)
        out[key] = Status(state if state is not None else 0, is_host, output, since=since or None,
                          reachable=reachable, soft=_number(a.get("state_type")) == 0, unknown=unknown)
    return out


def _unreadable(data: Any) -> str | None:
    """Why a /v1/objects reply cannot be read (None: it can): not an object, no results list, a result
    that is not an object. An empty body reads as {} (deploy.IcingaApi)."""
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data),
                                                                                              "a number")
        return f"is {kind}, not a JSON object"
    results = data.get("results")
    if results is None:
        return "is empty" if not data else "has no results"
    if not isinstance(results, list) or not isinstance(results[0], dict):
        return "has no readable result"
    return None


def _number(value: Any) -> float | None:
    """A number from Icinga's JSON (it sends states as 0.0), or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _state(attrs: dict, is_host: bool) -> tuple[int | None, str | None]:
    """(state, None) from an object's attrs, or (None, why not): a missing, malformed or out-of-range state,
    or an object never checked (Icinga then reports 0, which is not an UP it saw)."""
    if "last_check_result" in attrs and attrs["last_check_result"] is None:  # Icinga's pending object
        return None, "never checked (pending)"
    if "state" not in attrs or attrs["state"] is None:
        return None, "no state in Icinga's reply"
    value = _number(attrs["state"])
    valid = (0, 1) if is_host else (0, 1, 2, 3)
    if value is None or not value.is_integer() or int(value) not in valid:
        kind = "host" if is_host else "service"
        return None, f"state {inert(repr(attrs['state']), 40)} is not a {kind} state"
    return int(value), None
