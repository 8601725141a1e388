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
