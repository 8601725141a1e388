"""Cinder v3 with the VMDK backend: the API over volume services and volumes (their state: cinder_state)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .common import det_uuid, render_service_fields
from .http import (
    ApiError,
    Request,
    Response,
    VersionedApi,
    fragment_list,
    jbody,
    jresp,
    paginate,
    serve_versioned,
    truthy,
)

if TYPE_CHECKING:
    from .app import App
    from .store import State

CINDER_MAX = (3, 70)
CINDER_MIN = (3, 0)

# -- rendering ----------------------------------------------------------------------------------------

def render_volume_service(st: State, s: dict, mv: tuple[int, int]) -> dict:
    """A volume service as Cinder shows it at microversion ``mv``."""
    out: dict[str, Any] = render_service_fields(s, st, "volume_services")
    if s.get("binary") == "cinder-volume":
        out.update({"replication_status": "disabled", "active_backend_id": None, "frozen": False})
        if mv >= (3, 49):
            out["backend_state"] = s.get("backend_state", "up" if out["state"] == "up" else "down")
    if mv >= (3, 7):
        out["cluster"] = s.get("cluster")
    return out

def render_volume(st: State, v: dict, mv: tuple[int, int], base: str) -> dict:
    """A volume as Cinder shows it at microversion ``mv``."""
    out = {k: val for k, val in v.items() if not k.startswith("_")}
    out["links"] = [
        {"rel": "self", "href": f"{base}/volume/v3/{v['os-vol-tenant-attr:tenant_id']}/volumes/{v['id']}"}
    ]
    out["attachments"] = [
        {
            k: a.get(k)
            for k in (
                "server_id",
                "attachment_id",
                "attached_at",
                "host_name",
                "volume_id",
                "device",
                "id",
            )
        }
        for a in v.get("attachments") or ()
    ]
    if mv >= (3, 13):
        out.setdefault("group_id", None)
    if mv >= (3, 21):
        out.setdefault("provider_id", None)
    if mv >= (3, 48):
        out.setdefault("service_uuid", None)
        out.setdefault("shared_targets", False)
    if mv >= (3, 61):
        out.setdefault("cluster_name", None)
    if mv >= (3, 63):
        out.setdefault("volume_type_id", det_uuid("volume_types", v.get("volume_type")))
    if mv >= (3, 65):
        out.setdefault("consumes_quota", True)
    return out

# -- API ----------------------------------------------------------------------------------------------

def cinder_version(base: str) -> dict:
    """The v3 version document."""
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": f"{CINDER_MAX[0]}.{CINDER_MAX[1]}",
        "min_version": f"{CINDER_MIN[0]}.{CINDER_MIN[1]}",
        "updated": "2023-08-31T00:00:00Z",
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{base}/volume/v3/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }

def volume(app: App, req: Request, segs: list) -> Response:
    """``/volume``: the version documents, then the microversioned API."""
    if not segs:
        return jresp(300, {"versions": [cinder_version(req.base)]})
    if segs[0] != "v3":
        raise ApiError(404, "The resource could not be found.")
    if len(segs) == 1:
        return jresp(200, {"versions": [cinder_version(req.base)]})
    return serve_versioned(app, req, segs[1:], API)


def cinder_route(
    app: App, req: Request, rest: list, mv: tuple[int, int], tok: dict, project: str | None
) -> Response:
    """Dispatch a Cinder request (after version and project) to its resource."""
    st = app.state
    if not rest:
        return jresp(200, {"versions": [cinder_version(req.base)]})
    head, n = rest[0], len(rest)
    if head == "volumes" and (n == 1 or (n == 2 and rest[1] == "detail")):
        return volumes(app, req, n == 2, mv, project)
    if head == "volumes" and n == 2:
        with st.lock:
            v = st.objects["volumes"].get(rest[1])
            if v is None:
                raise ApiError(404, f"Volume {rest[1]} could not be found.")
            return jresp(200, {"volume": render_volume(st, v, mv, req.base)})
    if head == "os-services" and n == 1:
        with st.lock:
            items = [render_volume_service(st, s, mv) for s in st.objects["volume_services"].values()]
        for k in ("binary", "host"):
            if req.q(k):
                items = [s for s in items if s.get(k) == req.q(k)]
        return jresp(200, {"services": items})
    if head == "types" and n == 1:
        with st.lock:
            names = sorted({v.get("volume_type") for v in st.objects["volumes"].values()} | {"vmdk"})
        return jresp(
            200,
            {
                "volume_types": [
                    {
                        "id": det_uuid("volume_types", t),
                        "name": t,
                        "is_public": True,
                        "description": None,
                        "extra_specs": {"volume_backend_name": "vmdk"} if t == "vmdk" else {},
                    }
                    for t in names
                    if t
                ]
            },
        )
    raise ApiError(404, "The resource could not be found.")

def volumes(app: App, req: Request, detail: bool, mv: tuple[int, int], project: str | None) -> Response:
    """``/volumes[/detail]`` with its filters and paging."""
    st = app.state
    limit = app.limit(req)
    all_t = truthy(req.q("all_tenants")) or req.q("all_tenants") == ""
    preds = []
    if not all_t:
        preds.append(lambda v: v.get("os-vol-tenant-attr:tenant_id") == project)
    elif req.q("project_id"):
        pid = req.q("project_id")
        preds.append(lambda v: v.get("os-vol-tenant-attr:tenant_id") == pid)
    for k in ("status", "name", "bootable", "volume_type", "availability_zone"):
        if req.q(k) is not None:
            val = req.q(k)
            preds.append(lambda v, k=k, val=val: str(v.get(k)) == val)
    with st.lock:
        items, pos = st.ordered("volumes")
        if preds:
            items = [v for v in items if all(p(v) for p in preds)]
            pos = None
        page = paginate(items, "id", req.q("marker"), limit, pos)
        cache = st.frag_cache("volumes", (mv, req.base, detail), ())
        frags = []
        for v in page:
            b = cache.get(v["id"])
            if b is None:
                if detail:
                    obj = render_volume(st, v, mv, req.base)
                else:
                    obj = {
                        "id": v["id"],
                        "name": v.get("name"),
                        "links": [
                            {"rel": "self", "href": f"{req.base}/volume/v3/{project}/volumes/{v['id']}"}
                        ],
                    }
                b = jbody(obj)
                cache[v["id"]] = b
            frags.append(b)
    return fragment_list(req, "volumes", page, frags, limit)

# -- Neutron ---------------------------------------------------------------------------------


API = VersionedApi(
    service="volume", label="Cinder", lo=CINDER_MIN, hi=CINDER_MAX, legacy_header=None,
    is_project=lambda app, seg, tok: seg in app.state.objects["projects"]
    or bool(re.fullmatch(r"[0-9a-fA-F-]{32,36}", seg)),
    route=cinder_route,
)
