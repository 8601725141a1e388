"""What the checks of the optional services share: the catalog says whether the service is there, and a
service whose list failed in the last sweep leaves its records unverified (optional_sweep.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from vio_checks.checks.select import select_one
from vio_checks.judge.aggregate import Member, aggregate, dedupe
from vio_checks.judge.verdict import Finding, Perf, State, Verdict
from vio_checks.optional_sweep import service_errors
from vio_checks.selection import selection_from_args
from vio_checks.text import inert

#: Service type → how the check names it when the region's catalog lacks it.
ABSENT = {"load-balancer": "no load balancing in this region: the catalog has no load-balancer (Octavia) "
                          "endpoint, so the sweep reads none",
          "image": "no image service (Glance) in this region's catalog: no images to check",
          "orchestration": "no orchestration service (Heat) in this region's catalog: no stacks to check"}


def absent(meta: object, stype: str) -> Verdict | None:
    """UNKNOWN in one line when the sweep's catalog had no `stype` service, else None (the sweep sent that
    service no request, and the generated config has no service for it)."""
    if (getattr(meta, "services", None) or {}).get(stype):
        return None
    v = Verdict(findings=[Finding(State.UNKNOWN, ABSENT[stype])])
    v.rule = "the service is not in the catalog: nothing to judge"
    return v


def list_error(meta: object, stype: str) -> str | None:
    """Why the last sweep's list of `stype` failed (inert), or None."""
    error = service_errors(meta).get(stype)
    return inert(error, 400) if error else None


def unlisted(v: Verdict, error: str | None) -> Verdict:
    """A verdict judged from a record the last sweep could not list again (`error`: why; None: it was
    listed, `v` as it is): an OK becomes unverified; a problem stands, said to be the last known state."""
    if error is None:
        return v
    if v.state == State.OK:
        v.findings = [Finding(State.UNKNOWN, f"{v.summary}: unverified ({error}; last known state kept)")]
        v.unverified, v.cause = True, error
    else:
        for f in v.findings:
            f.text += " (last known state: the last sweep's list failed)"
    v.details.insert(0, f"NOTE: {error}; last known state kept")
    return v


def with_list_error(v: Verdict, error: str | None) -> Verdict:
    """An aggregate over last known records: never OK while the service's list fails (`error`; None: `v`
    as it is)."""
    if error is None:
        return v
    v.add(State.UNKNOWN, f"{error} in the last sweep: judged from the last known records")
    v.details.insert(0, f"NOTE: {error}; the last known records are judged, none verified")
    return v


def evaluate_listed(args: Any, snap: Any, stype: str, kind: str, what: str, judge: Callable[[Any], Verdict],
                    perf: Callable[[Iterable[Any]], list[Perf]], keep: Callable[[Any], bool] | None = None,
                    context: str = "") -> Verdict:
    """A listed kind of an optional service (images, stacks): one record (--id/--name, `what` names it) or
    the aggregate of those the generator's filters and `keep` leave, with the service absent from the
    catalog and a failed list answered alike; `perf` adds the aggregate's own perfdata."""
    missing = absent(snap.meta, stype)
    if missing is not None:
        return missing
    error = list_error(snap.meta, stype)
    one = select_one(snap, kind, args, what)
    if one is not None:
        return unlisted(judge(one), error)
    selection = selection_from_args(args, snap)
    records = [r for r in snap.all(kind)
               if selection.project_selected(r.project_id) and (keep is None or keep(r))]
    items = [Member(r.id, r.name or r.id, unlisted(judge(r), error)) for r in records]
    verdict = aggregate(items, kind, args.warning, args.critical, ignore_states=args.ignore_states,
                        accept_unverified=args.accept_unverified, context=context)
    unique = {r.id: r for r in records}
    verdict.perf += perf(unique[m.id] for m in dedupe(items)[0])
    return with_list_error(verdict, error)
