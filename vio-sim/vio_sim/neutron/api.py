"""Neutron v2.0's API as VIO shows it (ML2 with agents, or NSX without): the API over the kinds of
``networks`` (networks, subnets, routers), ``ports`` (ports, floating ips) and ``agents`` (``state``
gathers them for the store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import ApiError, Request, Response, fragment_list, jbody, jresp, paginate
from .agents import render_agent
from .networks import render_network, render_plain

if TYPE_CHECKING:
    from ..app import App

NEUTRON_COLLECTIONS = {"ports": "port", "networks": "network", "subnets": "subnet", "routers": "router",
                       "floatingips": "floatingip", "agents": "agent"}
_PAGING_PARAMS = {"limit", "marker", "fields", "sort_key", "sort_dir", "page_reverse", "all_tenants",
                  "all_projects", "with_count", "offset"}


def network(app: App, req: Request, segs: list) -> Response:
    """``/network``: versions, extensions, the collections and their sub-resources."""
    if not segs:
        return jresp(
            200,
            {
                "versions": [
                    {
                        "id": "v2.0",
                        "status": "CURRENT",
                        "links": [{"rel": "self", "href": f"{req.base}/network/v2.0/"}],
                    }
                ]
            },
        )
    if segs[0] != "v2.0":
        raise ApiError(404, "The resource could not be found.")
    rest = segs[1:]
    if not rest:
        colls = [c for c in NEUTRON_COLLECTIONS if c != "agents" or app.agents_enabled]
        return jresp(
            200,
            {
                "resources": [
                    {
                        "name": NEUTRON_COLLECTIONS[c],
                        "collection": c,
                        "links": [{"rel": "self", "href": f"{req.base}/network/v2.0/{c}"}],
                    }
                    for c in colls
                ]
            },
        )
    app.auth(req)
    if req.method not in ("GET", "HEAD"):
        raise ApiError(405, "The simulator's Neutron is read-only (use /_sim/ to change state).")
    if rest[-1].endswith(".json"):
        rest[-1] = rest[-1][:-5]
    coll = rest[0]
    if coll == "extensions" and len(rest) == 1:
        return jresp(200, {"extensions": extensions(app)})
    if coll not in NEUTRON_COLLECTIONS or (coll == "agents" and not app.agents_enabled):
        raise ApiError(404, "The resource could not be found.")
    st = app.state
    with st.lock:
        ix = st.index()
        if len(rest) == 1:
            return neutron_list(app, req, coll)
        obj = st.objects[coll].get(rest[1])
        if obj is None:
            raise ApiError(404, f"{NEUTRON_COLLECTIONS[coll].capitalize()} {rest[1]} could not be found.")
        if len(rest) == 2:
            return jresp(200, {NEUTRON_COLLECTIONS[coll]: neutron_render(app, coll, obj)})
        if len(rest) == 3 and coll == "agents" and rest[2] == "l3-routers":
            routers = [
                st.objects["routers"][r] for r in obj.get("routers") or () if r in st.objects["routers"]
            ]
            return jresp(200, {"routers": [render_plain(r) for r in routers]})
        if len(rest) == 3 and coll == "routers" and rest[2] == "l3-agents":
            if not app.agents_enabled:
                raise ApiError(404, "The resource could not be found.")
            return jresp(
                200, {"agents": [render_agent(st, a, obj) for a in ix.agents_by_router.get(obj["id"], ())]}
            )
        if len(rest) == 3 and coll == "agents" and rest[2] == "dhcp-networks":
            nets = [
                n
                for n in st.objects["networks"].values()
                if obj.get("agent_type") == "DHCP agent" and ix.subnets_by_net.get(n["id"])
            ]
            return jresp(200, {"networks": [render_network(st, n, ix) for n in nets]})
    raise ApiError(404, "The resource could not be found.")

def extensions(app: App) -> list:
    """The extensions this Neutron announces (agent ones only with agents)."""
    aliases = [
        "router",
        "extraroute",
        "l3-ha",
        "dvr",
        "binding",
        "external-net",
        "quotas",
        "project-id",
        "availability_zone",
        "network_availability_zone",
        "router_availability_zone",
        "standard-attr-timestamp",
        "standard-attr-revisions",
        "pagination",
        "sorting",
        "security-group",
        "port-security",
        "allowed-address-pairs",
        "extra_dhcp_opt",
        "subnet_allocation",
    ]
    if app.agents_enabled:
        aliases += ["agent", "l3_agent_scheduler", "dhcp_agent_scheduler"]
    return [
        {
            "alias": a,
            "name": a,
            "description": f"simulated {a} extension",
            "links": [],
            "updated": "2013-01-01T10:00:00-00:00",
        }
        for a in aliases
    ]

def neutron_render(app: App, coll: str, obj: dict) -> dict:
    """An object of a Neutron collection as the API shows it."""
    st = app.state
    if coll == "networks":
        return render_network(st, obj, st.index())
    if coll == "agents":
        return render_agent(st, obj)
    return render_plain(obj)

def neutron_list(app: App, req: Request, coll: str) -> Response:
    """A Neutron collection with its filters, ``fields`` and paging."""
    st = app.state
    filters = {k: set(v) for k, v in req.query.items() if k not in _PAGING_PARAMS}
    fields = [f for v in req.query.get("fields", ()) for f in v.split(",") if f]
    items, pos = st.ordered(coll)
    if filters:

        def match(o: dict) -> bool:
            for k, vals in filters.items():
                if k not in o:
                    continue
                v = o[k]
                sv = str(v).lower() if isinstance(v, bool) else str(v)
                if sv not in vals:
                    return False
            return True

        items = [o for o in items if match(o)]
        pos = None
    limit = app.limit(req)
    page = paginate(items, "id", req.q("marker"), limit, pos)
    cacheable = coll == "ports" and not fields
    cache = st.frag_cache(coll, (req.base,), ()) if cacheable else None
    frags = []
    for o in page:
        b = cache.get(o["id"]) if cache is not None else None
        if b is None:
            r = neutron_render(app, coll, o)
            if fields:
                r = {k: v for k, v in r.items() if k in fields}
            b = jbody(r)
            if cache is not None:
                cache[o["id"]] = b
        frags.append(b)
    return fragment_list(req, coll, page, frags, limit)

# -- admin API -------------------------------------------------------------------------------
