"""The optional services' part of a sweep: load balancers (Octavia), images (Glance), stacks (Heat) and the
certificates of the catalog's https endpoints.

A service the region's catalog lacks costs no request and leaves its kind empty; `inv.meta.services` records
which service types the catalog had, so a check can tell "no load balancers" from "no Octavia". What each
present service costs is in its own module's docstring and in BENCHMARKS.md's request formula.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vio_checks.certificates import sweep_certificates
from vio_checks.model import Inventory
from vio_checks.octavia_sweep import sweep_load_balancers

#: Kind → the catalog's service type for it (certificates come from every https endpoint, not one service).
SERVICE_TYPES = {"load_balancers": "load-balancer", "images": "image", "stacks": "orchestration"}
#: The share of what is left of the sweep's budget one optional service may use: one that hangs is its own
#: finding, and the services after it, the certificates and the end of the sweep keep their time.
SERVICE_SHARE = 0.5


@contextmanager
def budget_share(client: Any, share: float = SERVICE_SHARE) -> Iterator[None]:
    """Lend the requests inside `share` of what is left of `client`'s budget (they end by then: a list
    that runs out of it fails like any other, as its service's finding); the rest stays for what follows."""
    saved, timed_out = client.deadline, client.timed_out
    client.deadline = time.monotonic() + max(0.0, saved - time.monotonic()) * share
    try:
        yield
    finally:
        client.deadline, client.timed_out = saved, timed_out


def sweep_optional(client: Any, inv: Inventory, page_size: int = 1000) -> None:
    """Fill the optional kinds of `inv` from the services the region's catalog has.

    A service whose list fails is named in `inv.meta.service_errors` (service type → message): its
    finding, shown by its check and check_vio_discovery, not a failed sweep."""
    from vio_checks.glance_heat_sweep import sweep_images_stacks

    inv.meta.services = {stype: client.has_service(stype) for stype in SERVICE_TYPES.values()}
    with budget_share(client):
        sweep_load_balancers(client, inv, page_size)
    with budget_share(client):
        sweep_images_stacks(client, inv, page_size)
    sweep_certificates(client, inv)


def service_errors(meta: Any) -> dict[str, str]:
    """Service type → why its list failed in the sweep of `meta` (empty for a sweep from before this)."""
    return getattr(meta, "service_errors", None) or {}


def keep_last_known(previous: Any, inv: Inventory) -> None:
    """A kind whose service's list failed keeps the records of `previous` (a snapshot: .all(kind)): a list
    that fails is not proof of deletion."""
    failed = service_errors(inv.meta)
    for kind, stype in SERVICE_TYPES.items():
        if stype in failed and previous is not None and not inv.of_kind(kind):
            try:
                setattr(inv, kind, list(previous.all(kind)))
            except Exception:  # a snapshot from before the kind existed: nothing to keep
                continue
            inv.meta.counts[kind] = len(inv.of_kind(kind))
