"""Octavia v2's API (``/load-balancer``): versions, and under ``v2/lbaas`` the load balancers list, each
balancer's status tree and a pool's members; the objects and their rendering are vio_sim.octavia_state's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .http import ApiError, Request, Response, jresp, next_link, paginate
from .keystone_state import in_catalog
from .octavia_state import render_lb, render_member, status_tree

if TYPE_CHECKING:
    from .app import App


def _page(app: App, req: Request, key: str, items: list) -> Response:
    limit = app.limit(req)
    page = paginate(items, "id", req.q("marker"), limit)
    body: dict[str, Any] = {key: page, f"{key}_links": []}
    if limit and len(page) == limit:
        body[f"{key}_links"] = next_link(req, limit, page[-1]["id"])
    return jresp(200, body)


def load_balancer(app: App, req: Request, segs: list) -> Response:
    """``/load-balancer``: versions, and under ``v2/lbaas`` the list, status trees and pool members."""
    st = app.state
    if not in_catalog(st, "octavia"):
        raise ApiError(404, "The resource could not be found.")
    if not segs:
        link = {"rel": "self", "href": f"{req.base}/load-balancer/v2"}
        return jresp(200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [link]}]})
    if segs[0] not in ("v2", "v2.0"):
        raise ApiError(404, "The resource could not be found.")
    app.auth(req)
    if req.method not in ("GET", "HEAD"):
        raise ApiError(405, "The simulator's Octavia is read-only (use /_sim/ to change state).")
    rest = segs[1:]
    if rest[:1] != ["lbaas"]:
        if not rest:
            return jresp(200, {"version": {"id": "v2.0", "status": "CURRENT"}})
        raise ApiError(404, "The resource could not be found.")
    rest = rest[1:]
    with st.lock:
        lbs = sorted(st.objects["loadbalancers"].values(), key=lambda o: o["id"])
        if rest == ["loadbalancers"]:
            return _page(app, req, "loadbalancers", [render_lb(o) for o in lbs])
        if len(rest) in (2, 3) and rest[0] == "loadbalancers":
            o = st.objects["loadbalancers"].get(rest[1])
            if o is None:
                raise ApiError(404, f"Load Balancer {rest[1]} could not be found.")
            if len(rest) == 2:
                return jresp(200, {"loadbalancer": render_lb(o)})
            if rest[2] == "status":
                return jresp(200, {"statuses": {"loadbalancer": status_tree(o)}})
        if len(rest) == 3 and rest[0] == "pools" and rest[2] == "members":
            for o in lbs:
                for pool in o.get("pools") or ():
                    if pool["id"] == rest[1]:
                        members = sorted((render_member(m, pool) for m in pool.get("members") or ()),
                                         key=lambda m: m["id"])
                        return _page(app, req, "members", members)
            raise ApiError(404, f"Pool {rest[1]} could not be found.")
    raise ApiError(404, "The resource could not be found.")
