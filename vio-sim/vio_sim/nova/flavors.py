"""Nova flavors: state, the snapshot a server embeds, and the ``/flavors`` API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..common import Kind, SimError, det_uuid
from ..http import ApiError, Request, Response, jresp

if TYPE_CHECKING:
    from ..app import App
    from ..store import State


def ingest_flavors(st: State, c: dict, old: dict | None, now: float) -> dict:
    """Shorthands of an incoming flavor."""
    if "ephemeral" in c:
        c["OS-FLV-EXT-DATA:ephemeral"] = c.pop("ephemeral")
    if "is_public" in c:
        c["os-flavor-access:is_public"] = c.pop("is_public")
    return c

def fill_flavors(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new flavor."""
    if new:
        o.setdefault("name", f"flavor-{st.seq}")
        o.setdefault("vcpus", 1)
        o.setdefault("ram", 2048)
        o.setdefault("disk", 20)
        o.setdefault("OS-FLV-EXT-DATA:ephemeral", 0)
        o.setdefault("swap", "")
        o.setdefault("rxtx_factor", 1.0)
        o.setdefault("os-flavor-access:is_public", True)
        o.setdefault("OS-FLV-DISABLED:disabled", False)
        o.setdefault("description", None)
        o.setdefault("extra_specs", {})

# services

def flavor_snapshot(st: State, ref: Any) -> dict:
    """The flavor copy a server embeds, from a flavor name/id or an inline flavor."""
    if isinstance(ref, dict):
        name = ref.get("original_name") or ref.get("name") or ref.get("id")
        f = st.find("flavors", name) if name is not None else None
        if f is None:
            return {
                "id": ref.get("id") or det_uuid("flavors", name),
                "original_name": name,
                "vcpus": ref.get("vcpus", 1),
                "ram": ref.get("ram", 2048),
                "disk": ref.get("disk", 20),
                "ephemeral": ref.get("ephemeral", 0),
                "swap": ref.get("swap", 0),
                "extra_specs": ref.get("extra_specs", {}),
            }
    else:
        f = st.find("flavors", ref)
        if f is None:
            raise SimError(400, f"unknown flavor {ref!r}")
    return {
        "id": f["id"],
        "original_name": f["name"],
        "vcpus": f["vcpus"],
        "ram": f["ram"],
        "disk": f["disk"],
        "ephemeral": f.get("OS-FLV-EXT-DATA:ephemeral", 0),
        "swap": f.get("swap") or 0,
        "extra_specs": dict(f.get("extra_specs") or {}),
    }

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

KIND = Kind("flavors", ingest=ingest_flavors, fill=fill_flavors)

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
