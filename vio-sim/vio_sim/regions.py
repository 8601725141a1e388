"""Several regions behind one Keystone: each region has its own objects, faults and URL prefix.

A scenario with a ``regions`` key describes a multi-region cloud::

    {
      "settings": {"region": "RegionOne"},          # the primary region (default RegionOne)
      "projects": [...], "users": [...],             # Keystone's: shared by every region
      "servers": [...], ...                          # the primary region's objects
      "regions": {"RegionTwo": {...}}                # another region: a scenario (dict, name or path)
    }

The primary region's services keep the unprefixed URLs (``/compute/v2.1``...); every other region's are
under ``/regions/<name>/`` (``/regions/RegionTwo/compute/v2.1``), so request counters tell them apart.
Keystone (``/identity``) is one for all and lists every region's endpoints in the catalog (its own URL
as the identity endpoint of each region). A region's projects and users join Keystone's; each region's
objects may name any of them.

A region whose settings say ``"identity_endpoint": false`` has no identity endpoint in the catalog: the
layout of clouds that register their one Keystone in the first region only (Kolla-style). Clients then
reach Keystone through the URL they authenticated with. ``vio-sim --identity-in-primary-only`` sets it for
every region but the primary; ``PATCH /_sim/settings?region=R {"identity_endpoint": false}`` for one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .common import SimError
from .store import State, load_scenario

if TYPE_CHECKING:
    from .app import App
    from .faults import Fault

#: Keystone's kinds: shared by all regions.
SHARED_KINDS = ("projects", "users")
#: URL path segment under which the non-primary regions' services live.
REGION_SEGMENT = "regions"


class Region:
    """One region: its objects (a ``State``), its injected faults and the URL prefix of its services."""

    def __init__(self, name: str, state: State, primary: bool) -> None:
        self.name = name
        self.state = state
        self.primary = primary
        self.prefix = "" if primary else f"/{REGION_SEGMENT}/{quote(name, safe='')}"
        self.faults: list[Fault] = []
        self.requests = 0


class RegionView:
    """What a service handler sees as ``app`` for a request to one region: the app, with that region's
    objects (``state``) and name; everything else (tokens, lock, limits) is the app's."""

    def __init__(self, app: App, region: Region) -> None:
        self._app = app
        self.region_info = region
        self.state = region.state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_app", "region_info", "state"):
            object.__setattr__(self, name, value)
        else:  # the app's settings stay the app's
            setattr(self._app, name, value)

    @property
    def region(self) -> str:
        return self.region_info.name

    @property
    def agents_enabled(self) -> bool:
        return self._app.agents and self.state.neutron_backend != "nsx"


def _dedupe(items: list[dict]) -> list[dict]:
    """Keystone objects by name (or id): the first of each wins."""
    seen: set = set()
    out = []
    for o in items:
        key = o.get("name") or o.get("id")
        if key is None or key not in seen:
            out.append(o)
            seen.add(key)
    return out


def identity_in_primary_only(scenario: Any) -> dict:
    """A copy of a multi-region scenario whose regions but the primary have no identity endpoint."""
    data = dict(load_scenario(scenario))
    extra = data.get("regions")
    if not isinstance(extra, dict) or not extra:
        raise SimError(400, "identity in the primary region only: the scenario has one region")
    primary = (data.get("settings") or {}).get("region") or "RegionOne"
    data["regions"] = {}
    for name, sub in extra.items():
        sub = dict(load_scenario(sub))
        if name != primary:
            sub["settings"] = dict(sub.get("settings") or {}, identity_endpoint=False)
        data["regions"][name] = sub
    return data


def split_regions(scenario: Any, primary: str | None = None) -> tuple[str, dict[str, dict]]:
    """(primary region name, {region name: its scenario}) of a scenario, primary first.

    Every region's scenario carries all of Keystone's projects and users (so references by name resolve
    the same everywhere) and ``settings.region`` set to its name.
    """
    data = dict(load_scenario(scenario))
    extra = data.pop("regions", None) or {}
    if not isinstance(extra, dict):
        raise SimError(400, "regions: an object {region name: scenario}")
    settings = dict(data.get("settings") or {})
    primary = primary or settings.get("region") or "RegionOne"
    regions: dict[str, dict] = {primary: data}
    for name, sub in extra.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise SimError(400, f"regions: bad region name {name!r}")
        sub = dict(load_scenario(sub))
        if sub.get("regions"):
            raise SimError(400, f"regions: region {name} may not have regions of its own")
        if name == primary:  # the primary region's objects given under regions: merge with the top level
            for key, value in sub.items():
                if isinstance(value, list):
                    data[key] = list(data.get(key) or ()) + value
                elif key == "settings":
                    settings.update(value or {})
            continue
        regions[name] = sub
    shared = {k: _dedupe([o for r in regions.values() for o in (r.get(k) or ())]) for k in SHARED_KINDS}
    out = {}
    for name, sub in regions.items():
        sub = dict(sub)
        sub.update({k: v for k, v in shared.items() if v})
        sub["settings"] = dict(settings if name == primary else sub.get("settings") or {}, region=name)
        out[name] = sub
    return primary, out
