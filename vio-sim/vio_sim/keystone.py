"""Keystone v3's API: tokens, projects and the service catalog (projects and users: keystone_state)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from .common import FMT_US, det_uuid, fmt_time
from .glance_heat_state import CATALOG
from .http import ApiError, Request, Response, jresp, truthy
from .keystone_state import in_catalog
from .tls import catalog_extra

if TYPE_CHECKING:
    from .app import App
    from .store import State

def render_project(st: State, p: dict, base: str) -> dict:
    """A project as Keystone shows it."""
    out = {k: v for k, v in p.items() if not k.startswith("_")}
    out["links"] = {"self": f"{base}/identity/v3/projects/{p['id']}"}
    return out

# -- API ----------------------------------------------------------------------------------------------

def keystone_version(base: str) -> dict:
    """The v3 version document."""
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }

def identity(app: App, req: Request, segs: list) -> Response:
    """``/identity``: versions, tokens (issue, validate, revoke), projects and the catalog."""
    if not segs:
        return jresp(300, {"versions": {"values": [keystone_version(req.base)]}})
    if segs[0] != "v3":
        raise ApiError(404, "The resource could not be found.")
    rest = segs[1:]
    if not rest:
        return jresp(200, {"version": keystone_version(req.base)})
    if rest == ["auth", "tokens"]:
        if req.method == "POST":
            return issue_token(app, req)
        caller = app.auth(req)
        subject = req.headers.get("X-Subject-Token")
        with app.lock:
            info = app.tokens.get(subject or "")
            if req.method == "DELETE" and info is not None:
                app.tokens.pop(subject, None)
                return Response(204)
        if info is None or info["expires"] <= time.time():
            raise ApiError(404, "Could not find token.")
        del caller
        body = info["body"]
        if "nocatalog" in req.query:
            body = {"token": {k: v for k, v in body["token"].items() if k != "catalog"}}
        return jresp(200, body, [("X-Subject-Token", subject)])
    app.auth(req)
    if req.method != "GET":
        raise ApiError(405, "The simulator's Keystone is read-only.")
    st = app.state
    if rest in (["projects"], ["auth", "projects"]):
        with st.lock:
            items = [render_project(st, p, req.base) for p in st.objects["projects"].values()]
        for k in ("name", "domain_id", "parent_id"):
            if req.q(k) is not None:
                items = [p for p in items if str(p.get(k)) == req.q(k)]
        if req.q("enabled") is not None:
            items = [p for p in items if bool(p.get("enabled")) == truthy(req.q("enabled"))]
        return jresp(
            200,
            {
                "projects": items,
                "links": {"self": f"{req.base}{req.path}", "previous": None, "next": None},
            },
        )
    if len(rest) == 2 and rest[0] == "projects":
        with st.lock:
            p = st.objects["projects"].get(rest[1])
            if p is None:
                raise ApiError(404, f"Could not find project: {rest[1]}.")
            return jresp(200, {"project": render_project(st, p, req.base)})
    if rest == ["auth", "catalog"]:
        info = app.auth(req)
        return jresp(
            200,
            {
                "catalog": info["body"]["token"].get("catalog", []),
                "links": {"self": f"{req.base}{req.path}"},
            },
        )
    raise ApiError(404, "The resource could not be found.")

def find_user(app: App, spec: dict) -> dict | None:
    """The user a password-auth request names (by id, or by name and domain)."""
    users = app.state.objects["users"].values()
    if spec.get("id"):
        return app.state.objects["users"].get(spec["id"])
    dom = spec.get("domain") or {}
    for u in users:
        if u.get("name") != spec.get("name"):
            continue
        if dom.get("id") and dom["id"] != u.get("domain_id"):
            continue
        if dom.get("name") and dom["name"].lower() != str(u.get("domain_id")).lower():
            continue
        return u
    return None

def issue_token(app: App, req: Request) -> Response:
    """``POST /identity/v3/auth/tokens``: password, token or application-credential auth."""
    body = req.json()
    auth = (body or {}).get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict):
        raise ApiError(400, "Expecting to find auth in request body.")
    ident = auth.get("identity") or {}
    methods = ident.get("methods") or []
    st = app.state
    denied = ApiError(401, "The request you have made requires authentication.")
    project_id = None
    with st.lock:
        if "password" in methods:
            spec = (ident.get("password") or {}).get("user") or {}
            user = find_user(app, spec)
            if (
                user is None
                or user.get("password") != spec.get("password")
                or not user.get("enabled", True)
            ):
                raise denied
        elif "token" in methods:
            old = app.tokens.get((ident.get("token") or {}).get("id") or "")
            if old is None or old["expires"] <= time.time():
                raise denied
            user = st.objects["users"].get(old["user"])
            if user is None:
                raise denied
        elif "application_credential" in methods:
            spec = ident.get("application_credential") or {}
            user, cred = None, None
            for u in st.objects["users"].values():
                for c in u.get("application_credentials") or ():
                    if (spec.get("id") and c.get("id") == spec["id"]) or (
                        spec.get("name")
                        and c.get("name") == spec["name"]
                        and (spec.get("user") or {}).get("name") in (u.get("name"), None)
                    ):
                        user, cred = u, c
            if cred is None or cred.get("secret") != spec.get("secret"):
                raise denied
            project_id = st.ref("projects", cred.get("project")) or user.get("default_project_id")
        else:
            raise denied
        scope = auth.get("scope")
        if isinstance(scope, dict) and isinstance(scope.get("project"), dict):
            ps = scope["project"]
            proj = st.objects["projects"].get(ps.get("id") or "") if ps.get("id") else None
            if proj is None and ps.get("name"):
                dom = ps.get("domain") or {}
                for p in st.objects["projects"].values():
                    if p.get("name") == ps["name"] and (
                        (dom.get("id") or p.get("domain_id")) == p.get("domain_id")
                        and (dom.get("name") or str(p.get("domain_id"))).lower()
                        == str(p.get("domain_id")).lower()
                    ):
                        proj = p
                        break
            if proj is None:
                raise denied
            project_id = proj["id"]
        project = st.objects["projects"].get(project_id or "")
        now = time.time()
        expires = now + float(app.token_ttl)
        token = "gAAAAA" + uuid.uuid4().hex + uuid.uuid4().hex
        domain = {
            "id": user.get("domain_id", "default"),
            "name": "Default" if user.get("domain_id", "default") == "default" else user["domain_id"],
        }
        tok: dict[str, Any] = {
            "methods": methods,
            "audit_ids": [uuid.uuid4().hex[:22]],
            "expires_at": fmt_time(expires, FMT_US) + "Z",
            "issued_at": fmt_time(now, FMT_US) + "Z",
            "user": {
                "id": user["id"],
                "name": user["name"],
                "domain": domain,
                "password_expires_at": None,
            },
        }
        if project is not None:
            pdom = project.get("domain_id", "default")
            tok["project"] = {
                "id": project["id"],
                "name": project["name"],
                "domain": {"id": pdom, "name": "Default" if pdom == "default" else pdom},
            }
            tok["is_domain"] = False
            tok["roles"] = [
                {"id": det_uuid("roles", r), "name": r} for r in ("admin", "member", "reader")
            ]
            tok["catalog"] = catalog(app, req.base, project["id"])
        body_out = {"token": tok}
    with app.lock:
        app.tokens[token] = {
            "expires": expires,
            "user": user["id"],
            "project": project_id,
            "body": body_out,
        }
        app.token_issues += 1
    return jresp(201, body_out, [("X-Subject-Token", token)])

def catalog(app: App, base: str, project_id: str) -> list:
    """The service catalog of a token scoped to ``project_id``: every region's endpoints (Keystone's own
    URL is the identity endpoint of each region whose setting ``identity_endpoint`` is not false; the other
    services under the region's URL prefix)."""
    out = []
    for stype, name, path in (
        ("identity", "keystone", "/identity/v3"),
        ("compute", "nova", "/compute/v2.1"),
        ("network", "neutron", "/network"),
        ("volumev3", "cinderv3", f"/volume/v3/{project_id}"),
        ("block-storage", "cinder", f"/volume/v3/{project_id}"),
        ("load-balancer", "octavia", "/load-balancer"),
    ):
        eps = [
            {
                # the primary region's ids are those of the one-region simulator
                "id": det_uuid("endpoint", stype, iface) if r.primary else det_uuid("endpoint", r.name, stype,
                                                                                     iface),
                "interface": iface,
                "region": r.name,
                "region_id": r.name,
                "url": base + ("" if stype == "identity" else r.prefix) + path,
            }
            for r in app.regions.values()
            if stype != "identity" or r.state.settings.get("identity_endpoint") is not False
            if stype != "load-balancer" or in_catalog(r.state, "octavia")
            for iface in ("public", "internal", "admin")
        ]
        out.append({"id": det_uuid("service", stype), "type": stype, "name": name, "endpoints": eps})
    for setting, (stype, name, path) in CATALOG.items():  # optional: only the regions that run it
        eps = [{"id": det_uuid("endpoint", r.name, stype, iface), "interface": iface, "region": r.name,
                "region_id": r.name, "url": base + r.prefix + path.format(project=project_id)}
               for r in app.regions.values() if in_catalog(r.state, setting)
               for iface in ("public", "internal", "admin")]
        if eps:
            out.append({"id": det_uuid("service", stype), "type": stype, "name": name, "endpoints": eps})
    return out + [svc for r in app.regions.values() for svc in catalog_extra(app, r)]

# -- Nova ------------------------------------------------------------------------------------
