"""The unauthenticated admin API under ``/_sim/``: state, objects, faults, counters, tokens, settings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import services
from .common import SimError
from .http import Response, jresp
from .nova.migrations import migrate
from .regions import SHARED_KINDS, Region, RegionView
from .store import KINDS, load_scenario

if TYPE_CHECKING:
    from .app import App

ADMIN_HELP = """\
Admin API (no auth, JSON in and out; not counted, never faulted). Add ?region=NAME to act on one region of a
multi-region cloud (objects, faults, state, settings); without it: the primary region (RegionOne).
  GET    /_sim/counters                 {"total", "token_issues", "paths": {"GET /compute/v2.1/...": n},
                                        "regions": {region: requests to its services (Keystone's not)}}
  POST   /_sim/counters/reset
  GET    /_sim/state                    the whole state in scenario format (every region's, under
                                        "regions", unless ?region= names one)
  POST   /_sim/state                    load a scenario: a scenario object, or {"scenario": "demo"|PATH}
                                        (with ?region=: that region's objects only)
  POST   /_sim/reset                    reload the starting scenario, clear faults and counters
  GET    /_sim/regions                  {"regions": [{"name", "url_prefix", "primary"}]}
  GET    /_sim/<kind>[/<id>]            stored objects (kinds: projects users flavors hypervisors servers
                                        compute_services volume_services volumes networks subnets ports
                                        floatingips routers agents migrations loadbalancers images stacks)
  POST   /_sim/<kind>                   add an object (id generated when absent); returns it
  PATCH  /_sim/<kind>/<id>              merge fields (API field names); returns the object
  DELETE /_sim/<kind>/<id>              <id> may also be a name, binary@host (services, agents), a
                                        hypervisor hostname / compute host / cluster name, an integer id
  PATCH  /_sim/agents/<id>              {"ha_states": {router: "active"|"standby"|"unknown"}} pins this L3
                                        agent's ha_state per HA router, as GET /v2.0/routers/{id}/l3-agents
                                        serves it (unpinned: first alive agent active, other alive standby,
                                        dead unknown)
  PATCH  /_sim/loadbalancers/<id>       {"provisioning_status": ..., "operating_status": ... (unset: derived
                                        from the members), "member_status": {member|server|address:
                                        "ONLINE"|"ERROR"|"OFFLINE"|...}} (vio_sim.octavia_state)
  POST   /_sim/servers/<id>/migrate     {"to": host|hypervisor, "type": "live-migration"|"migration"|
                                        "resize"|"evacuation", "status": "completed"|"error"|"failed"}
  POST   /_sim/<kind>/<id>/stop        kind compute_services, volume_services or agents: it stops
                                        reporting at {"at": time} (default now) and reads down only once
                                        service_down_time (agent_down_time) has passed, as the APIs do;
                                        with no nova-conductor running, every nova-compute stops reporting
                                        too (it reports through a conductor); /start: reports again
  POST   /_sim/<kind>/<id>/restart     a pod-style restart: the record stops (as /stop) and stays, and a
                                        new one of the binary registers under {"host": name} (default:
                                        the pod name with a new suffix); returns {"stopped", "started"}
  GET|POST|DELETE /_sim/faults[/<id>]   fault injection: {"path": regex on the URL path, "method": "GET",
                                        "status": 500|503|429|401, "retry_after": s, "delay": s,
                                        "hang": true (until DELETE /_sim/faults or stop), "malformed": true,
                                        "truncated": true, "trickle": s (send the reply one byte
                                        every s seconds: no socket timeout ever fires),
                                        "count": N (then expire; default unlimited),
                                        "echo": true (with status: the error message repeats the
                                        request's headers and body, as a debugging proxy does),
                                        "missing_fields": {KIND: [FIELD, ...]} (strip these API fields
                                        from every KIND record in matching replies, e.g. {"servers":
                                        ["status"]}; a.b for a nested one; KIND one of MISSING_KINDS),
                                        "replace_fields": {KIND: {FIELD: value}} (set these API fields
                                        to any JSON value in every KIND record of matching replies, e.g.
                                        {"servers": {"status": ["ACTIVE"]}}: what no PATCH accepts),
                                        "endless_paging": true (a list's next link never ends: the
                                        first page again, each time with a new marker),
                                        "hide": [ID, ...] | ["*"] (leave these objects, or all, out of
                                        matching list replies; a GET of one object still finds it: a
                                        cell that is down, a filtering proxy)}; a region's
                                        path is the one after its /regions/<name> prefix; Keystone's
                                        requests take the primary region's faults; DELETE without
                                        ?region= clears every region's
  POST   /_sim/tokens/expire            invalidate every token
  GET|PATCH /_sim/settings              {"token_ttl", "page_max", "agents", "region"}; any other key is
                                        a scenario setting, e.g. "service_down_time", "agent_down_time"
                                        (seconds: 60 and 75 by default), "glance"/"heat" (true/false: the
                                        image/orchestration service in the catalog of new tokens),
                                        "catalog_extra" (endpoints added to the catalog: tls.py)
"""


def handle(app: App, method: str, path: str, raw: bytes, query: dict | None = None) -> Response:
    """Answer one admin request (``path`` starts with ``/_sim``); errors are ``{"error": ...}`` replies."""
    segs = [s for s in path.split("/") if s][1:]
    try:
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            raise SimError(400, f"malformed JSON: {exc}") from exc
        named = ((query or {}).get("region") or [None])[-1]
        out = route(app, method, segs, body, app.region_named(named), named is not None)
        if isinstance(out, Response):
            return out
        return jresp(200, out)
    except SimError as exc:
        return jresp(exc.status, {"error": exc.message})
    except (ValueError, TypeError, KeyError) as exc:
        return jresp(400, {"error": f"{type(exc).__name__}: {exc}"})


def route(app: App, method: str, segs: list, body: Any, region: Region, named: bool = False) -> Any:
    """The reply to ``method /_sim/<segs>`` for ``region`` (``named``: the request chose it); 404 when no
    route answers."""
    if not segs:
        return Response(200, ADMIN_HELP.encode(), [("Content-Type", "text/plain; charset=utf-8")])
    head = segs[0]
    if head in REGION_ROUTES:
        out = REGION_ROUTES[head](app, method, segs, body, region, named)
    else:
        handler = ROUTES.get(head) or (_objects if head in KINDS else None)
        out = handler(RegionView(app, region), method, segs, body) if handler is not None else None
    if out is None:
        raise SimError(404, f"no admin route {method} /_sim/{'/'.join(segs)} (GET /_sim/ for help)")
    return out


def _counters(app: App, method: str, segs: list, body: Any) -> Any:
    n = len(segs)
    if n == 2 and segs[1] == "reset" and method == "POST" or n == 1 and method == "DELETE":
        app.reset_counters()
        return app.counters()
    if n == 1 and method == "GET":
        return app.counters()
    return None


def _state(app: App, method: str, segs: list, body: Any, region: Region, named: bool) -> Any:
    st = region.state
    if len(segs) != 1:
        return None
    if method == "GET":
        out = st.dump()
        if not named and len(app.regions) > 1:
            out["regions"] = {r.name: r.state.dump() for r in app.regions.values() if not r.primary}
        return out
    if method in ("POST", "PUT"):
        scen = body.get("scenario") if isinstance(body, dict) and set(body) == {"scenario"} else body
        if named:
            scen = dict(load_scenario(scen))
            for kind in SHARED_KINDS:  # Keystone's objects stay those every region shares
                scen[kind] = list(app.state.objects[kind].values())
            scen["settings"] = dict(scen.get("settings") or {}, region=region.name)
            st.load(scen)
        else:
            app.load(scen)
        return {"loaded": True, "counts": {k: len(v) for k, v in st.objects.items()}}
    return None


def _regions(app: App, method: str, segs: list, body: Any, region: Region, named: bool) -> Any:
    if len(segs) != 1 or method != "GET":
        return None
    return {"regions": [{"name": r.name, "url_prefix": r.prefix, "primary": r.primary}
                        for r in app.regions.values()]}


def _reset(app: App, method: str, segs: list, body: Any) -> Any:
    if len(segs) != 1 or method != "POST":
        return None
    if app.scenario is None:
        raise SimError(409, "started from a State object: load a scenario with POST /_sim/state")
    app.load(app.scenario)
    app.clear_faults()
    app.reset_counters()
    return {"reset": True}


def _faults(app: App, method: str, segs: list, body: Any, region: Region, named: bool) -> Any:
    """Faults of one region; a DELETE without ?region= clears (fault ``id``: finds) them in any region."""
    n = len(segs)
    only = region.name if named else None
    if n == 1 and method == "GET":
        with app.lock:
            return {"faults": [f.describe() for f in region.faults]}
    if n == 1 and method == "POST":
        return app.add_fault(body or {}, region.name)
    if n == 1 and method == "DELETE":
        return {"cleared": app.clear_faults(region=only)}
    if n == 2 and method == "DELETE":
        return {"cleared": app.clear_faults(int(segs[1]), region=only)}
    return None


def _tokens(app: App, method: str, segs: list, body: Any) -> Any:
    n = len(segs)
    if n == 2 and segs[1] == "expire" and method == "POST":
        with app.lock:
            k = len(app.tokens)
            app.tokens.clear()
        return {"expired": k}
    if n == 1 and method == "GET":
        with app.lock:
            return {"tokens": len(app.tokens), "token_issues": app.token_issues}
    return None


def _settings(app: App, method: str, segs: list, body: Any, region: Region, named: bool) -> Any:
    """The app's settings and the region's scenario settings (``region`` renames the primary region)."""
    if len(segs) != 1:
        return None
    st = region.state
    if method in ("PATCH", "POST", "PUT") and isinstance(body, dict):
        for k, v in body.items():
            if k == "token_ttl":
                app.token_ttl = float(v)
            elif k == "page_max":
                app.page_max = int(v)
            elif k == "agents":
                app.agents = bool(v)
            elif k == "region":
                if not region.primary:
                    raise SimError(400, "only the primary region can be renamed")
                app.region = str(v)
            else:
                st.settings[k] = v
    return {
        "token_ttl": app.token_ttl,
        "page_max": app.page_max,
        "agents": app.agents,
        "agents_enabled": RegionView(app, region).agents_enabled,
        "region": region.name,
        "state": st.settings,
    }


def _objects(app: App, method: str, segs: list, body: Any) -> Any:
    """``/_sim/<kind>[/<ref>[/migrate]]``."""
    st, kind, n = app.state, segs[0], len(segs)
    if n == 1 and method == "GET":
        with st.lock:
            return {kind: list(st.objects[kind].values())}
    if n == 1 and method == "POST":
        return st.add(kind, body or {})
    if n == 2 and method == "GET":
        with st.lock:
            return st.get(kind, segs[1])
    if n == 2 and method in ("PATCH", "PUT"):
        return st.patch(kind, segs[1], body or {})
    if n == 2 and method == "DELETE":
        return st.delete(kind, segs[1])
    if n == 3 and segs[2] in SERVICE_ACTIONS and method == "POST":
        return SERVICE_ACTIONS[segs[2]](st, kind, segs[1], body)
    if n == 3 and kind == "servers" and segs[2] == "migrate" and method == "POST":
        b = dict(body or {})
        to = b.pop("to", None) or b.pop("host", None)
        return migrate(
            st,
            segs[1],
            to,
            b.pop("type", None) or b.pop("migration_type", "live-migration"),
            b.pop("status", "completed"),
            **b,
        )
    return None


#: ``POST /_sim/<services kind|agents>/<ref>/<action>``: vio_sim.services.
SERVICE_ACTIONS = {"stop": services.stop, "start": services.start, "restart": services.restart}
#: Admin routes by the first segment after ``/_sim/`` (object kinds go to ``_objects``).
ROUTES = {
    "counters": _counters,
    "reset": _reset,
    "tokens": _tokens,
}
#: Routes that act on the region ``?region=`` names themselves (the others get a view of it as ``app``).
REGION_ROUTES = {
    "state": _state,
    "faults": _faults,
    "regions": _regions,
    "settings": _settings,
}
