"""The optional services' part of a sweep: load balancers (Octavia), images (Glance), stacks (Heat) and the
certificates of the catalog's https endpoints.

A service the region's catalog lacks costs no request and leaves its kind empty; `inv.meta.services` records
which service types the catalog had, so a check can tell "no load balancers" from "no Octavia". What each
present service costs is in its own module's docstring and in BENCHMARKS.md's request formula.
"""

from __future__ import annotations

from typing import Any

from vio_checks.certificates import sweep_certificates
from vio_checks.model import Inventory

#: Kind → the catalog's service type for it (certificates come from every https endpoint, not one service).
SERVICE_TYPES = {"load_balancers": "load-balancer", "images": "image", "stacks": "orchestration"}


def sweep_optional(client: Any, inv: Inventory) -> None:
    """Fill the optional kinds of `inv` from the services the region's catalog has."""
    inv.meta.services = {stype: client.has_service(stype) for stype in SERVICE_TYPES.values()}
    sweep_certificates(client, inv)
