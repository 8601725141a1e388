"""Fault injection: what a fault matches and does, and the reply rewrites it asks for."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from .common import SimError

#: missing_fields kinds → (the API's path prefix, the reply keys of a list and of one record).
MISSING_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "servers": ("/compute", ("servers", "server")),
    "hypervisors": ("/compute", ("hypervisors", "hypervisor")),
    "compute_services": ("/compute", ("services", "service")),
    "migrations": ("/compute", ("migrations",)),
    "volumes": ("/volume", ("volumes", "volume")),
    "volume_services": ("/volume", ("services",)),
    "ports": ("/network", ("ports", "port")),
    "networks": ("/network", ("networks", "network")),
    "routers": ("/network", ("routers", "router")),
    "agents": ("/network", ("agents", "agent")),
    "loadbalancers": ("/load-balancer", ("loadbalancers", "loadbalancer")),
    # a balancer's status tree: fields as "loadbalancer.operating_status" (statuses.loadbalancer...)
    "lb_status_trees": ("/load-balancer", ("statuses",)),
    "images": ("/image", ("images",)),
    "stacks": ("/orchestration", ("stacks",)),
}


def parse_missing_fields(spec: Any) -> dict[str, list[str]]:
    """Validate a fault's missing_fields: {kind: [field, ...]}."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SimError(400, "missing_fields is an object {kind: [field, ...]}")
    out = {}
    for kind, names in spec.items():
        if kind not in MISSING_KINDS:
            raise SimError(400, f"missing_fields: unknown kind {kind!r} (known: {sorted(MISSING_KINDS)})")
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise SimError(400, f"missing_fields: {kind} needs a list of field names")
        out[kind] = names
    return out


def parse_replace_fields(spec: Any) -> dict[str, dict[str, Any]]:
    """Validate a fault's replace_fields: {kind: {field: any JSON value}}."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SimError(400, "replace_fields is an object {kind: {field: value}}")
    for kind, fields in spec.items():
        if kind not in MISSING_KINDS:
            raise SimError(400, f"replace_fields: unknown kind {kind!r} (known: {sorted(MISSING_KINDS)})")
        if not isinstance(fields, dict) or not all(isinstance(n, str) and n for n in fields):
            raise SimError(400, f"replace_fields: {kind} needs an object {{field: value}}")
    return spec


def _json_object(body: bytes) -> dict | None:
    """A JSON reply's top-level object, or None when the body is not one (left as it is by the faults)."""
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def strip_fields(path: str, body: bytes, missing: dict[str, list[str]],
                 replace: dict[str, dict[str, Any]] | None = None) -> bytes:
    """The JSON reply `body` to `path` without the fields `missing` names for the kinds it carries, and with
    the fields `replace` names set to its values (what no API of the simulator accepts: a list for a status,
    a timestamp that does not parse, an undocumented value)."""
    doc = _json_object(body)
    if doc is None:
        return body
    changed = False
    edits = [(kind, name, False, None) for kind, names in missing.items() for name in names]
    edits += [(kind, name, True, value) for kind, fields in (replace or {}).items()
              for name, value in fields.items()]
    for kind, name, put, new in edits:
        prefix, keys = MISSING_KINDS[kind]
        if not path.startswith(prefix + "/"):
            continue
        for key in keys:
            value = doc.get(key)
            records = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            for record in records:
                *parents, leaf = name.split(".")
                target = record
                for part in parents:
                    target = target.get(part) if isinstance(target, dict) else None
                if isinstance(target, dict) and put:
                    target[leaf] = new
                    changed = True
                elif isinstance(target, dict) and leaf in target:
                    del target[leaf]
                    changed = True
    return json.dumps(doc).encode() if changed else body


def parse_hide(spec: Any) -> frozenset[str] | None:
    """Validate a fault's hide: a list of object ids (binary@host for Cinder's services), or ["*"]."""
    if spec is None:
        return None
    if not isinstance(spec, list) or not all(isinstance(i, str) and i for i in spec):
        raise SimError(400, 'hide is a list of object ids, or ["*"] for all')
    return frozenset(spec)


def _ident(record: dict) -> str:
    """A listed record's id; `binary@host` for Cinder's services, which have none."""
    if record.get("id") in (None, "") and record.get("binary") and record.get("host"):
        return f"{record['binary']}@{record['host']}"
    return str(record.get("id"))


def hide_objects(body: bytes, hidden: frozenset[str]) -> bytes:
    """The JSON list reply `body` without the records whose id is in `hidden` ("*": all of them).

    Only lists are filtered (what a cell that is down, a lost role or a filtering proxy does to a list);
    a reply carrying one record is left alone, so a direct GET still finds the object.
    """
    doc = _json_object(body)
    if doc is None:
        return body
    changed = False
    for key, value in doc.items():
        if key.endswith("_links") or not isinstance(value, list):
            continue
        kept = [r for r in value if not (isinstance(r, dict) and ("*" in hidden or _ident(r) in hidden))]
        if len(kept) != len(value):
            doc[key] = kept
            changed = True
    return json.dumps(doc).encode() if changed else body


class Fault:
    """One injected fault (see ADMIN_HELP): matching, effects, hit counts."""

    def __init__(self, fid: int, spec: dict) -> None:
        if not isinstance(spec, dict):
            raise SimError(400, "a fault is a JSON object")
        known = {
            "path",
            "method",
            "status",
            "retry_after",
            "delay",
            "hang",
            "malformed",
            "truncated",
            "trickle",
            "endless_paging",
            "count",
            "message",
            "echo",
            "missing_fields",
            "hide",
            "replace_fields",
        }
        unknown = set(spec) - known
        if unknown:
            raise SimError(400, f"unknown fault fields {sorted(unknown)} (known: {sorted(known)})")
        self.id = fid
        self.spec = dict(spec)
        try:
            self.regex = re.compile(spec.get("path") or ".*")
        except re.error as exc:
            raise SimError(400, f"bad path regex: {exc}") from exc
        self.method = (spec.get("method") or "").upper() or None
        self.status = int(spec["status"]) if spec.get("status") is not None else None
        self.retry_after = spec.get("retry_after")
        self.delay = float(spec.get("delay") or 0)
        self.hang = bool(spec.get("hang"))
        self.malformed = bool(spec.get("malformed"))
        self.truncated = bool(spec.get("truncated"))
        self.trickle = float(spec.get("trickle") or 0)
        if self.trickle < 0:
            raise SimError(400, "trickle is the seconds between two bytes of the reply (> 0)")
        self.missing_fields = parse_missing_fields(spec.get("missing_fields"))
        self.replace_fields = parse_replace_fields(spec.get("replace_fields"))
        self.endless_paging = bool(spec.get("endless_paging"))
        self.hide = parse_hide(spec.get("hide"))
        self.count = int(spec["count"]) if spec.get("count") is not None else None
        self.remaining = self.count
        self.hits = 0
        self.released = threading.Event()
        self.region: str | None = None  # set by the app: the region whose requests it matches

    def describe(self) -> dict:
        return dict(self.spec, id=self.id, hits=self.hits, remaining=self.remaining, region=self.region)

