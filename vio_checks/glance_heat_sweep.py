"""Images (Glance) and stacks (Heat) in the sweep, and their replies normalised into Image and Stack.

Requests, only for a service the region's catalog has (none at all otherwise):
- Glance: the SDK's version discovery of the image endpoint (one request), then `GET /v2/images` in pages
  of --page-size (`visibility=all`: every image the admin account sees, community ones included), following
  Glance's `next` href: floor(images / page size) + 1 requests (a full page gets a next link, so the last
  page may be empty).
- Heat: `GET /v1/{project}/stacks?global_tenant=True` in pages, following Heat's `links` (the SDK asks
  for no version document here): floor(stacks / page size) + 1. Heat's default policy allows
  `global_tenant` to no one (`stacks:global_index`: the monitoring account needs it, else a 403).
- Like every catalog endpoint, each one's public endpoint is probed once (probes.py).

A failing list (an HTTP error, a timeout, a malformed reply) is that service's finding, not the sweep's:
`Meta.service_errors[service type]` says what failed and the kind keeps its last known records
(optional_sweep.keep_last_known: a list that fails is not proof of deletion).
"""

from __future__ import annotations

import logging
from typing import Any

from vio_checks import documented as doc
from vio_checks.errors import SweepError
from vio_checks.model import Inventory
from vio_checks.normalize import MalformedRecord, _checked, _problems, _record, _str, parse_time
from vio_checks.optional_records import Image, Stack

log = logging.getLogger(__name__)

#: Service type → (kind, SDK adapter, what its error says).
LISTS = {"image": ("images", "image", "Glance image list"),
         "orchestration": ("stacks", "orchestration", "Heat stack list")}


def image(raw: Any) -> Image:
    """A Glance v2 image record → Image; its status lower case, an absent or undocumented one in `missing`."""
    r = _record("image", raw)
    status = r.get("status")
    return Image(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("owner")),
        status=status.strip().lower() if isinstance(status, str) else "",
        visibility=_str(r.get("visibility")),
        created=parse_time(r.get("created_at")),
        updated=parse_time(r.get("updated_at")),
        missing=_problems(_checked(r, "status", "status", doc.IMAGE_STATUSES)),
    )


def stack(raw: Any) -> Stack:
    """A Heat stack record (stack list) → Stack; its `stack_status` upper case, checked as ACTION_STATE."""
    r = _record("stack", raw)
    status = r.get("stack_status")
    reason = r.get("stack_status_reason")
    return Stack(
        id=_str(r["id"]),
        name=_str(r.get("stack_name")),
        project_id=_str(r.get("project") or r.get("tenant") or r.get("project_id")),
        status=status.strip().upper() if isinstance(status, str) else "",
        status_reason=reason if isinstance(reason, str) else "",
        created=parse_time(r.get("creation_time")),
        updated=parse_time(r.get("updated_time")) or parse_time(r.get("creation_time")),
        missing=_problems(_checked(r, "stack_status", "stack_status", doc.stack_status_known, str.upper)),
    )


def _list(client: Any, stype: str, page_size: int) -> list:
    kind, service, what = LISTS[stype]
    adapter = client.adapter(service)
    if stype == "image":
        pages = client.pages(adapter, "/images", "images", {"limit": page_size, "visibility": "all"},
                             links="next")
        convert = image
    else:
        pages = client.pages(adapter, "/stacks", "stacks", {"global_tenant": "True", "limit": page_size},
                             links="links")
        convert = stack
    out = []
    for page in pages:
        for raw in page:
            try:
                out.append(convert(raw))
            except MalformedRecord as e:
                raise SweepError(f"{what}: {e}") from None
    return out


def sweep_images_stacks(client: Any, inv: Inventory, page_size: int) -> None:
    """Fill `inv.images` and `inv.stacks` from the services the catalog has (`inv.meta.services`); a list
    that fails is recorded in `inv.meta.service_errors` and leaves its kind empty here."""
    errors = inv.meta.service_errors
    for stype, (kind, _service, what) in LISTS.items():
        if not inv.meta.services.get(stype):
            continue  # not in the catalog: no request
        try:
            setattr(inv, kind, _list(client, stype, page_size))
        except SweepError as e:
            message = str(e)
            errors[stype] = message if message.startswith(what) else f"{what}: {message}"
            log.warning("%s", errors[stype])
            setattr(inv, kind, [])
