"""Keystone v3's state: projects and users (ingest and defaults), and which services a region's catalog
lists; no HTTP (keystone.py serves tokens, projects and the catalog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import Kind

if TYPE_CHECKING:
    from .store import State


def fill_projects(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new project."""
    if new:
        o.setdefault("name", f"project-{st.seq}")
        o.setdefault("domain_id", "default")
        o.setdefault("description", "")
        o.setdefault("enabled", True)
        o.setdefault("is_domain", False)
        o.setdefault("parent_id", o["domain_id"])
        o.setdefault("tags", [])
        o.setdefault("options", {})


def ingest_users(st: State, c: dict, old: dict | None, now: float) -> dict:
    """The ``project`` shorthand of a user; its default project by name or id."""
    if "project" in c:
        c["default_project_id"] = c.pop("project")
    if "default_project_id" in c:
        c["default_project_id"] = st.ref("projects", c["default_project_id"])
    return c


def fill_users(st: State, o: dict, new: bool, now: float) -> None:
    """Defaults of a new user (admin / vio-sim in the admin project)."""
    if new:
        o.setdefault("name", "admin")
        o.setdefault("password", "vio-sim")
        o.setdefault("domain_id", "default")
        o.setdefault("enabled", True)
        o.setdefault("default_project_id", st.admin_project())


KINDS = (
    Kind("projects", fill=fill_projects),
    Kind("users", ingest=ingest_users, fill=fill_users),
)


#: The services a region's catalog lists only when it runs them: the setting that says so → the kind whose
#: objects list the service when the setting is not given.
OPTIONAL = {"octavia": "loadbalancers", "glance": "images", "heat": "stacks"}


def in_catalog(st: State, setting: str) -> bool:
    """Whether the region's catalog lists the optional service of `setting` (octavia, glance, heat): the
    setting when the scenario gives it (anything but false lists it), else whether the region has any
    object of the service's kind (so the scenarios written before these services keep their catalog, and
    their request counts). The service's own API answers 404 when this is false."""
    value = st.settings.get(setting)
    return bool(st.objects[OPTIONAL[setting]]) if value is None else value is not False
