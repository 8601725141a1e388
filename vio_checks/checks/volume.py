"""check_vio_volume: a Cinder volume's state (errors, stuck operations, orphaned attachments), or all."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
    stuck_after_option,
)
from vio_checks.checks.select import as_kept, select_one
from vio_checks.judge.aggregate import Member, aggregate, dedupe
from vio_checks.judge.datastore import on_datastore
from vio_checks.judge.verdict import Verdict
from vio_checks.judge.volume import VolumeOptions, judge_volume, volume_perf
from vio_checks.reporter import Reporters
from vio_checks.selection import selection_from_args, selection_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping

    from vio_checks.model import Server, Volume

EPILOG = """\
states:
  CRITICAL  any error status: error, error_deleting, error_backing-up, error_restoring, error_extending
  CRITICAL  with the vSphere layer: the datastore holding the volume's VMDK is not accessible (named)
  WARNING   a transitional status for longer than --stuck-after, measured from the volume's `updated_at`:
            creating, attaching, detaching, deleting, extending, backing-up, restoring-backup, downloading,
            uploading, retyping, maintenance (younger: OK "attaching for 4 min"); when `updated_at` does
            not parse, from when a sweep first saw the volume in that status ("since first seen 08:42,
            Cinder's timestamp unreadable")
  WARNING   in-use but attached to a server that no longer exists in the inventory, or in-use without
            any attachment (both only once the volume is older than --stuck-after since its last update,
            so a VM created during the sweep is not flagged)
  OK        available, in-use, awaiting-transfer (a transfer offer may wait for days), reserved ("reserved
            for attaching or shelved": the volume of a SHELVED_OFFLOADED VM stays reserved)
  UNKNOWN   its reporter cannot vouch for it: the cinder-volume service of its backend (the volume's
            `host@backend#pool` is served by the service `host@backend`) is down, its state was not
            reported, or Cinder lists cinder-volume services but none for that backend ("db-data: backend
            b@vmdk: cinder-volume b@vmdk down since 10:42: state unverified (Cinder last reported
            in-use)"). Such a volume is "unverified": its last reported status (even an error) is shown
            but not judged. A volume without a backend (never scheduled) is judged on its own record.
  UNKNOWN   a status Cinder does not document ("Cinder reported an undocumented status 'x'"), one of the
            wrong type, or none in Cinder's record ("Cinder reported no status: state unverified"): counted
            as unverified in the aggregate; --id/--name not found or ambiguous
  aggregate (no --id/--name): every volume judged as above, by the aggregate rule below

perfdata:
  one volume: size (B)
  aggregate: those of the aggregate rule below, size (B, all volumes), volumes
            per status (available, in_use, error always; others when present), and per cinder-volume
            backend (`host@backend`, `unscheduled` for none): <backend>_volumes, <backend>_problems,
            <backend>_size (B)

examples:
  check_vio_volume --os-cloud vio --name db-data
  VIO VOLUME WARNING - db-data stuck attaching for 2 h 0 min (since 08:42, backend vio-controller-01@vmdk) \
| size=107374182400B;;;0
  check_vio_volume --os-cloud vio -w 0 -c 5
  VIO VOLUME WARNING - 1 CRITICAL of 120 volumes: vol-07 is error_extending (50 GiB, backend \
vio-controller-01@vmdk) | 'vio-controller-01@vmdk_problems'=1;;;0;96 ...
""" + AGGREGATE_RULE


OPTIONS = (
    *selector_options("volume", id_help="the volume's id (UUID)"),
    stuck_after_option("volume",
                       "WARNING when a transitional status lasts longer than this, counted from the "
                       "volume's last update; also the grace before an orphaned attachment warns "
                       "(default: 30m)"),
    *count_threshold_options("volumes"),
    *selection_options("volumes"),
)


def _judge(snap, opts: VolumeOptions, now: float) -> Callable[[Volume, Mapping[str, Server | None]], Verdict]:
    """judge_volume with what else decides a volume's state: its backend's cinder-volume service (the
    reporter rule) and, with the vSphere layer, the datastore holding its VMDK."""
    reporters = Reporters(volume_services=snap.all("volume_services"))
    on = {}
    if getattr(snap.meta, "vsphere", None) is not None:
        on = {vid: d for d in snap.all("datastores") for vid in d.volumes}

    def judge(vol: Volume, servers: Mapping[str, Server | None]) -> Verdict:
        v = judge_volume(vol, servers, opts, now, reporters.volume(vol, now))
        return on_datastore(v, vol, on[vol.id]) if vol.id in on else v

    return judge


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = VolumeOptions(stuck_after=args.stuck_after)
    judge = _judge(snap, opts, now)
    volume = select_one(snap, "volumes", args, "volume")
    if volume is not None:
        servers = {a.server_id: snap.get("servers", a.server_id) for a in volume.attachments}
        return as_kept(snap, "volumes", volume, judge(volume, servers), now)
    servers = {s.id: s for s in snap.all("servers")}
    selection = selection_from_args(args, snap)
    volumes = [vol for vol in snap.all("volumes") if selection.volume_selected(vol, servers)]
    items = [Member(vol.id, vol.name or vol.id, judge(vol, servers)) for vol in volumes]
    verdict = aggregate(items, "volumes", args.warning, args.critical, ignore_states=args.ignore_states,
                        accept_unverified=args.accept_unverified)
    unique = {vol.id: vol for vol in volumes}  # per-backend perfdata counts each volume once too
    verdict.perf += volume_perf([(unique[m.id], m.verdict) for m in dedupe(items)[0]])
    return verdict


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads the volume, the servers it is attached to and the cinder-volume service of its backend (its
reporter: while that service is down the volume is unverified, see
[Unverified: the reporter rule](#unverified-the-reporter-rule)). The states are those of `--help` below.

    VIO VOLUME WARNING - db-data stuck attaching for 2 h 0 min (since 08:42, backend vio-controller-01@vmdk)
"""

SPEC = CheckSpec(
    name="volume",
    description="Check a VIO volume (Cinder) from the cached inventory, or all volumes at once.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="volumes",
    doc=DOC,
)
main = main_for(SPEC)
