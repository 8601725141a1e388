"""Glance v2 (`/image`) and Heat v1 (`/orchestration`): the image and stack lists the sweep reads.

Glance pages with a top-level ``next`` href (``/v2/images?marker=...&limit=...``) when a page is full;
Heat with ``links`` (rel next) when a page is full, and lists every project's stacks only with
``global_tenant=True`` (the admin's own project's otherwise). Read-only, like the other services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .glance_heat_state import render_image, render_stack
from .http import ApiError, Request, Response, jresp, next_link, paginate, truthy
from .keystone_state import in_catalog

if TYPE_CHECKING:
    from .app import App

GLANCE_VERSION = "2.16"


def _versions(base: str, path: str, ids: tuple[str, ...]) -> dict:
    return {"versions": [{"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED",
                          "links": [{"rel": "self", "href": f"{base}{path}/v{v.split('.')[0]}/"}]}
                         for i, v in enumerate(ids)]}


def _present(app: App, setting: str) -> None:
    if not in_catalog(app.state, setting):
        raise ApiError(404, "The resource could not be found.")


def image(app: App, req: Request, segs: list) -> Response:
    """``/image``: the version document, then ``/v2/images[/<id>]``."""
    _present(app, "glance")
    if not segs or (len(segs) == 1 and segs[0] in ("v2", "versions")):
        return jresp(300 if not segs else 200, _versions(req.base, "/image", (GLANCE_VERSION, "2.0")))
    app.auth(req)
    if req.method not in ("GET", "HEAD"):
        raise ApiError(405, "The simulator's Glance is read-only (use /_sim/ to change state).")
    if segs[0] != "v2" or len(segs) < 2 or segs[1] != "images":
        raise ApiError(404, "The resource could not be found.")
    st = app.state
    with st.lock:
        if len(segs) == 3:
            found = st.objects["images"].get(segs[2])
            if found is None:
                raise ApiError(404, f"No image found with ID {segs[2]}")
            return jresp(200, render_image(found))
        if len(segs) != 2:
            raise ApiError(404, "The resource could not be found.")
        limit = app.limit(req)
        items, pos = st.ordered("images")
        page = paginate(items, "id", req.q("marker"), limit, pos)
        body: dict = {"images": [render_image(o) for o in page], "schema": "/v2/schemas/images",
                      "first": f"/v2/images?{urlencode({'limit': limit})}"}
    if limit and len(page) == limit:
        body["next"] = f"/v2/images?{urlencode({'marker': page[-1]['id'], 'limit': limit})}"
    return jresp(200, body)


def orchestration(app: App, req: Request, segs: list) -> Response:
    """``/orchestration``: the version document, then ``/v1/<project>/stacks``."""
    _present(app, "heat")
    if not segs:
        return jresp(300, _versions(req.base, "/orchestration", ("1.0",)))
    tok = app.auth(req)
    if req.method not in ("GET", "HEAD"):
        raise ApiError(405, "The simulator's Heat is read-only (use /_sim/ to change state).")
    if segs[0] != "v1" or len(segs) < 3 or segs[2] != "stacks":
        raise ApiError(404, "The resource could not be found.")
    project = segs[1]
    if len(segs) != 3:
        raise ApiError(404, "The resource could not be found.")
    st = app.state
    everyone = truthy(req.q("global_tenant"))
    with st.lock:
        items, pos = st.ordered("stacks")
        if not everyone:
            items, pos = [s for s in items if s.get("project") in (project, tok.get("project"))], None
        limit = app.limit(req)
        page = paginate(items, "id", req.q("marker"), limit, pos)
        body: dict = {"stacks": [render_stack(s, req.base) for s in page]}
    if limit and len(page) == limit:
        body["links"] = next_link(req, limit, page[-1]["id"])
    return jresp(200, body)
