"""Nova flavors: the ``/flavors`` API (their state and the snapshot a server embeds: ``state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import ApiError, Request, Response, jresp

if TYPE_CHECKING:
    from ..app import App
    from ..store import State


def render_flavor(st: State, f: dict, base: str, detail: bool = True) -> dict:
    """A flavor as Nova shows it (``detail`` False: id, name and links)."""
    links = [
        {"rel": "self", "href": f"{base}/compute/v2.1/flavors/{f['id']}"},
        {"rel": "bookmark", "href": f"{base}/compute/flavors/{f['id']}"},
    ]
    if not detail:
        return {"id": f["id"], "name": f["name"], "links": links, "description": f.get("description")}
    out = {k: v for k, v in f.items() if not k.startswith("_")}
    out["links"] = links
    return out

def flavors_api(app: App, req: Request, rest: list) -> Response:
    """``/flavors[/detail|/{id}]``."""
    st = app.state
    with st.lock:
        fl = list(st.objects["flavors"].values())
        if not rest or rest == ["detail"]:
            return jresp(200, {"flavors": [render_flavor(st, f, req.base, bool(rest)) for f in fl]})
        if len(rest) == 1:
            f = st.objects["flavors"].get(rest[0])
            if f is None:
                raise ApiError(404, f"Flavor {rest[0]} could not be found.")
            return jresp(200, {"flavor": render_flavor(st, f, req.base)})
    raise ApiError(404, "The resource could not be found.")
