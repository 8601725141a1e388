"""What the checks of the optional services share: the catalog says whether the service is there, and a
service whose list failed in the last sweep leaves its records unverified (optional_sweep.py)."""

from __future__ import annotations

from vio_checks.judge.verdict import Finding, State, Verdict
from vio_checks.optional_sweep import service_errors
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


def unlisted(v: Verdict, error: str) -> Verdict:
    """A verdict judged from a record the last sweep could not list again: an OK becomes unverified; a
    problem stands, said to be the last known state."""
    if v.state == State.OK:
        v.findings = [Finding(State.UNKNOWN, f"{v.summary}: unverified ({error}; last known state kept)")]
        v.unverified, v.cause = True, error
    else:
        for f in v.findings:
            f.text += " (last known state: the last sweep's list failed)"
    v.details.insert(0, f"NOTE: {error}; last known state kept")
    return v


def with_list_error(v: Verdict, error: str) -> Verdict:
    """An aggregate over last known records: never OK while the service's list fails."""
    v.add(State.UNKNOWN, f"{error} in the last sweep: judged from the last known records")
    v.details.insert(0, f"NOTE: {error}; the last known records are judged, none verified")
    return v
