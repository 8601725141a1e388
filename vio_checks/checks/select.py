"""Finding the object a check names (--id / --name) in a snapshot, with clear UNKNOWN messages."""

from __future__ import annotations

from vio_checks.errors import VioError
from vio_checks.text import age

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from vio_checks.judge.verdict import Verdict


class NotFound(VioError):
    """The named object is not in the inventory, or the name is ambiguous."""


def resolve(snap: Any, kind: str, ref: str, what: str) -> Any:
    """The object whose id is `ref`, else the one object named `ref`; NotFound otherwise."""
    obj = snap.get(kind, ref)
    if obj is not None:
        return obj
    return _by_name(snap, kind, ref, what, f"{what} {ref} not found in inventory (age {age(snap.age())})")


def _by_name(snap: Any, kind: str, name: str, what: str, missing: str) -> Any:
    found = snap.find(kind, "name", name)
    if not found:
        raise NotFound(missing)
    if len(found) > 1:
        ids = ", ".join(sorted(o.id for o in found))
        raise NotFound(f"{len(found)} {what}s are named {name!r}: {ids}; use --id")
    return found[0]


def select_one(
    snap: Any, kind: str, args: argparse.Namespace, what: str, id_falls_back_to_name: bool = False
) -> Any:
    """The object --id or --name names; None when neither is given (aggregate mode)."""
    ident, name = getattr(args, "id", None), getattr(args, "name", None)
    if ident:
        if id_falls_back_to_name:
            return resolve(snap, kind, ident, what)
        obj = snap.get(kind, ident)
        if obj is None:
            raise NotFound(f"{what} {ident} not found in inventory (age {age(snap.age())})")
        return obj
    if name:
        return _by_name(snap, kind, name, what,
                        f"{what} named {name!r} not found in inventory (age {age(snap.age())})")
    return None


def as_kept(snap: Any, kind: str, obj: Any, verdict: Verdict, now: float) -> Verdict:
    """The verdict of an object the last sweep's list left out, unconfirmed as deleted, says so: it was
    judged from its last known record (visibility.py); any other verdict is returned as it is."""
    kept = getattr(snap.meta, "kept", None)
    if not kept or obj.id not in (kept.get(kind) or {}):
        return verdict
    from vio_checks.visibility import kept_note, mark_kept

    return mark_kept(verdict, kept_note(snap.meta, kind, obj.id), now)
