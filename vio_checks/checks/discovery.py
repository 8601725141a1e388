"""check_vio_discovery: the health of the discovery layer (inventory age, sweep cost, last error)."""

from __future__ import annotations

from vio_checks.checks.base import CheckSpec, main_for
from vio_checks.errors import VioError
from vio_checks.judge.discovery import DiscoveryOptions, judge_discovery, judge_unavailable
from vio_checks.judge.verdict import Verdict
from vio_checks.open_inventory import store_for

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

EPILOG = """\
Like every check, this one refreshes the inventory when it is older than --max-age (unless --cache-only),
then judges the discovery layer itself. The other checks depend on it in the generated Icinga config, so an
API outage shows as this one problem.

states:
  CRITICAL  the last sweep failed (its error is newer than the inventory): API down, authentication
            refused, timeout, malformed reply; the error is in the status line
  CRITICAL  sweep distrusted: the last sweep emptied a kind of objects (servers, volumes, ports, networks,
            routers, Neutron agents, Nova or Cinder services, hypervisors) while the API answered (e.g. the
            account lost its admin role); the previous inventory is kept and serves the other checks;
            vio-discover --accept-empty stores such a sweep once when the cloud really is empty
  CRITICAL  sweep distrusted: N of M servers (or any kind) not in its lists and not confirmed deleted: a
            list came back shorter (a cell down, a lost role, a filtering proxy); an object is deleted only
            when a direct GET answers 404 (at most 20 a sweep) or the drop is small (at most max(5, 10 %))
            in an otherwise healthy sweep; the others keep their last known state, named in the long
            output, and their checks say so
  CRITICAL  the inventory is stamped in the future (the sweeper's clock ahead): its age is unknown
  CRITICAL  the inventory is older than --max-stale
  CRITICAL  no usable inventory at all (nothing cached and the API is down, or the cache is past
            --max-stale): never UNKNOWN, since that is exactly what this check is for
  WARNING   the inventory is older than twice --max-age: refreshes are falling behind (e.g. the
            vio-discover timer with --cache-only, or a sweep that outlasts the check's timeout)
  WARNING   vSphere layer unavailable: the vSphere layer is configured but the inventory's sweep could
            not read vCenter (timed out, down, login refused, bad credentials file, pyVmomi missing);
            the OpenStack part is current, check_vio_esxi and check_vio_datastore say UNKNOWN
  WARNING   an optional service's list failed in the last sweep ("Glance image list: image /images: HTTP
            500", likewise the Heat stack list): that service's finding, not a failed sweep; its kind keeps
            its last known records, which check_vio_image / check_vio_stack judge as unverified
  OK        inventory age, the last sweep's duration and request count, and the counts per kind

perfdata:
  age (s; warning 2 x --max-age, critical --max-stale), sweep_seconds (s), requests (API requests of the
  last sweep), and one count per kind: hypervisors, servers, compute_services, migrations, volumes,
  volume_services, ports, networks, routers, agents, projects, endpoints

example:
  check_vio_discovery --os-cloud vio
  VIO DISCOVERY OK - inventory 42 s old, last sweep 1.2 s, 23 requests: 3 hypervisors, 15 VMs, 12 volumes,
  40 ports, 6 networks, 2 routers, 9 nova services, 3 cinder services, 8 endpoints | age=42s;240;900;0 ...
  VIO DISCOVERY CRITICAL - last sweep failed at 10:42: compute /os-hypervisors/detail: HTTP 503;
  inventory 3 min old | age=180s;240;900;0 ...
"""


def _options(args: argparse.Namespace) -> DiscoveryOptions:
    return DiscoveryOptions(max_age=args.max_age, max_stale=args.max_stale)


def _status(args: argparse.Namespace) -> dict:
    try:
        return store_for(args).status()
    except VioError:
        return {}


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    kept = getattr(snap.meta, "kept", None) or {}
    names = {kind: {i: getattr(snap.get(kind, i), "name", None) or "" for i in sorted(ids)[:20]}
             for kind, ids in kept.items()}
    return judge_discovery(snap.meta, snap.store.status(), _options(args), now, names)


def on_unavailable(args: argparse.Namespace, message: str, now: float) -> Verdict:
    return judge_unavailable(message, _status(args), now)


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
The discovery layer's own health. In the generated Icinga config everything else depends on this check,
so an API outage shows as one problem, not thousands. It never answers UNKNOWN for a missing inventory:
that is CRITICAL.

    VIO DISCOVERY CRITICAL - last sweep failed at 10:42: nova servers: HTTP 503; inventory 3 min old
"""

SPEC = CheckSpec(
    name="discovery",
    description="Check the VIO discovery layer: inventory age, last sweep duration, requests and errors.",
    evaluate=evaluate,
    epilog=EPILOG,
    on_unavailable=on_unavailable,
    doc=DOC,
)
main = main_for(SPEC)
