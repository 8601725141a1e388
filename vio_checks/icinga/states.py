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
from vio_checks.icinga.deploy import ApiError


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

