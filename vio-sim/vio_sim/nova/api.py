"""Nova v2.1's API as VIO shows it: versions and routing.

The API of each resource lives in ``servers``, ``hosts`` (compute services, hypervisors, availability
zones), ``flavors`` and ``migrations``; their state (ingest and defaults) in ``state``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import ApiError, Request, Response, VersionedApi, jresp, serve_versioned
from .flavors import flavors_api
from .hosts import hypervisors_api, list_azs, list_services
from .migrations import list_migrations
from .servers import list_servers, show_server

if TYPE_CHECKING:
    from ..app import App

NOVA_MAX = (2, 96)
NOVA_MIN = (2, 1)


def nova_versions(base: str) -> tuple[dict, dict]:
    """The v2.0 and v2.1 version documents."""
    media = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}]
    v20 = {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/compute/v2/"}],
        "media-types": media,
    }
    v21 = {
        "id": "v2.1",
        "status": "CURRENT",
        "version": f"{NOVA_MAX[0]}.{NOVA_MAX[1]}",
        "min_version": f"{NOVA_MIN[0]}.{NOVA_MIN[1]}",
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
        ],
    }
    return v20, v21


def compute(app: App, req: Request, segs: list) -> Response:
    """``/compute``: the version documents, then the microversioned API."""
    v20, v21 = nova_versions(req.base)
    if not segs:
        return jresp(200, {"versions": [v20, v21]})
    if segs[0] not in ("v2.1", "v2"):
        raise ApiError(404, "The resource could not be found.")
    if len(segs) == 1:
        # Nova's version document already passes its microversion middleware: the minimum, as headers.
        floor = f"{NOVA_MIN[0]}.{NOVA_MIN[1]}"
        return jresp(200, {"version": v21 if segs[0] == "v2.1" else v20}, headers=[
            ("OpenStack-API-Version", f"compute {floor}"), ("X-OpenStack-Nova-API-Version", floor),
            ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")])
    return serve_versioned(app, req, segs[1:], API)


def nova_route(
    app: App, req: Request, rest: list, mv: tuple[int, int], tok: dict, project: str | None
) -> Response:
    """Dispatch a Nova request (after version and project) to its resource."""
    n = len(rest)
    if not rest:
        raise ApiError(404, "The resource could not be found.")
    head = rest[0]
    if head == "servers":
        if n == 1 or (n == 2 and rest[1] == "detail"):
            return list_servers(app, req, n == 2, mv, tok)
        if n == 2:
            return show_server(app, req, rest[1], mv)
    elif head == "os-hypervisors":
        return hypervisors_api(app, req, rest[1:], mv)
    elif head == "os-services" and n == 1:
        return list_services(app, req, mv)
    elif head == "os-migrations" and n == 1:
        return list_migrations(app, req, mv)
    elif head == "flavors":
        return flavors_api(app, req, rest[1:])
    elif head == "os-availability-zone" and n <= 2:
        return list_azs(app, req, n == 2)
    raise ApiError(404, "The resource could not be found.")


API = VersionedApi(
    service="compute", label="Nova", lo=NOVA_MIN, hi=NOVA_MAX, legacy_header="X-OpenStack-Nova-API-Version",
    is_project=lambda app, seg, tok: seg in app.state.objects["projects"] or seg == tok.get("project"),
    route=nova_route,
)
