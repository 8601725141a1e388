"""When a sweep first saw an object in its current state: (kind, id, state key) → first-seen time.

Stored with the inventory, on the record itself (`record.seen = (state key, time)`), so a single-object
check reads it with the record and an aggregate with the kind. The process that sweeps carries it forward
(`carry`, from freshness.record_sweep): an object whose state key is the one the previous stored sweep had
keeps that sweep's time; a new object, or one whose state changed, gets the new sweep's time.

Two uses: how long a VM, volume or port has been in a transitional state when the API's own timestamp is
absent or does not parse (timefmt.elapsed), and whether a disagreement between Nova and vCenter was already
there in the previous sweep (judge.vm.vsphere_power). `since(obj)` < the snapshot's fetched_at means: seen
in this state by two consecutive stored sweeps at least.

Service records and Neutron agents (REGISTERED_KINDS) carry, whatever their state, when they first
registered as the sweeps saw it (`record.registered = (after, by)`): absent from the stored sweep at
`after`, listed by the sweep at `by`. Nova's and Cinder's os-services replies carry no created_at, so this
window is all the product knows of a record's birth; the stale-record rule (judge/stale.py) reads it. A
record listed by the first sweep the cache knows has no `after`: it may have registered at any time before.
The sweep's Meta also remembers every such record's window for FORGET_AFTER after it was last listed
(`meta.registered`), so a record one list left out (a cell that did not answer, a small drop that
visibility.py took for a deletion) keeps its birth when it is listed again, and never looks new.
"""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the warm path reads `since`)
if TYPE_CHECKING:
    from typing import Any

    from vio_checks.model import Inventory

#: Record class name → its state key: what must stay the same for the first-seen time to carry over.
STATE_KEYS: dict[str, Callable[[Any], str]] = {
    "Server": lambda s: f"{s.status}|{s.task_state or ''}",
    "Volume": lambda v: v.status,
    "Port": lambda p: p.status,
    "VsVm": lambda v: v.power_state,
    "Image": lambda i: i.status,
    "Stack": lambda s: s.status,
}
#: The inventory kinds that carry a first-seen time (the sweeper reads the previous sweep's records of these).
KINDS = ("servers", "volumes", "ports", "vsphere_vms", "images", "stacks")
#: The inventory kinds whose records carry the window in which they first registered (`registered`).
REGISTERED_KINDS = ("compute_services", "volume_services", "agents")
#: How long the windows of records no longer listed are remembered (seconds).
FORGET_AFTER = 30 * 86400.0


def state_key(obj: Any) -> str | None:
    """The object's state key, or None for a kind without one."""
    key = STATE_KEYS.get(type(obj).__name__)
    return None if key is None else key(obj)


def since(obj: Any) -> float | None:
    """When a sweep first saw `obj` in its current state; None when unknown (no record of it, a record
    from before this mechanism, or a stored key that no longer matches the record)."""
    seen = getattr(obj, "seen", None)
    if not isinstance(seen, tuple) or len(seen) != 2 or seen[0] != state_key(obj):
        return None
    return seen[1]


def registered(obj: Any) -> tuple[float | None, float] | None:
    """The window in which a service record or agent first registered, as the sweeps saw it: (after, by),
    `after` None when the record was in the first sweep the cache knows; None when nothing is known."""
    window = getattr(obj, "registered", None)
    if not isinstance(window, tuple) or len(window) != 2 or not isinstance(window[1], float | int):
        return None
    return window


def carry(previous: Inventory | None, inv: Inventory) -> None:
    """Set `seen` on every record of KINDS in `inv`: the previous sweep's time for an unchanged state, else
    `inv`'s fetched_at; and `registered` on every record of REGISTERED_KINDS: the window kept from the
    previous sweep, else (the previous sweep's time, `inv`'s fetched_at) for a record it did not list.
    `previous` needs only KINDS and REGISTERED_KINDS filled; None for the first sweep."""
    now = inv.meta.fetched_at
    after = previous.meta.fetched_at if previous is not None else None
    if after is not None and not after < now:  # a clock that went back proves no order
        after = None
    remembered = getattr(previous.meta, "registered", None) if previous is not None else None
    memory: dict[str, dict[str, tuple]] = {}
    for kind in REGISTERED_KINDS:
        listed = {o.id: o for o in previous.of_kind(kind)} if previous is not None else {}
        known = dict((remembered or {}).get(kind) or {})  # id → (after, by, last listed)
        for obj in inv.of_kind(kind):
            old, kept = listed.get(obj.id), known.get(obj.id)
            if old is not None:  # listed before without a window (a sweep from before this mechanism):
                window = registered(old) or (None, after or now)  # it existed by then
            elif isinstance(kept, tuple) and len(kept) == 3:  # listed by an earlier sweep, not the last one
                window = kept[:2]
            else:
                window = (after, now)
            obj.registered = window
            known[obj.id] = (*window, now)
        memory[kind] = {i: w for i, w in known.items()
                        if isinstance(w, tuple) and len(w) == 3 and 0 <= now - w[2] <= FORGET_AFTER}
    inv.meta.registered = memory
    for kind in KINDS:
        before = {o.id: o for o in previous.of_kind(kind)} if previous is not None else {}
        for obj in inv.of_kind(kind):
            old = before.get(obj.id)
            key = state_key(obj)
            was = since(old) if old is not None and state_key(old) == key else None
            obj.seen = (key, now if was is None or was > now else was)
