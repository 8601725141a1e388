"""The cloud host's aggregates of the optional services (images, stacks): written only when the sweep found
the service in the region's catalog (`Meta.services`), so a cloud without Glance or Heat gets no service
for it. Each has no objects of its own in the tree (no host per image or stack: the issue asks for an
aggregate), so nothing is left to other objects: no --ignore-states, no --accept-unverified."""

from __future__ import annotations

from typing import Any

#: Aggregate service name → (its CheckCommand, the catalog service type it needs).
OPTIONAL_AGGREGATES = {"images": ("vio_image", "image"), "stacks": ("vio_stack", "orchestration")}
#: The commands that take the generator's project filters (selection.py; monitoring=off is a VM's only).
FILTERED = {"vio_image": False, "vio_stack": False}


def present_aggregates(meta: Any) -> dict[str, tuple[str, tuple, None, tuple]]:
    """The optional aggregates for the sweep of `meta`, in the shape of objects.AGGREGATES (name → (command,
    arguments, covered by, arguments that leave problems to the covering objects))."""
    services = getattr(meta, "services", None) or {}
    return {name: (command, (), None, ()) for name, (command, stype) in OPTIONAL_AGGREGATES.items()
            if services.get(stype)}
