"""Cinder volume state: error statuses, stuck operations, attachments to servers that are gone.

Cinder semantics used here (API reference, volume status table):
- error statuses: error, error_deleting, error_backing-up, error_restoring, error_extending (and any other
  status starting with `error`): the last operation failed and needs an admin.
- transitional statuses (an operation is running and should end by itself): creating, attaching,
  detaching, deleting, extending, backing-up, restoring-backup, downloading, uploading, retyping,
  maintenance (migration/retype in progress).
- resting statuses: available, in-use, awaiting-transfer (a transfer offer waits for its recipient, which
  may legitimately take days: shown, not judged), reserved ("reserved for attaching or shelved": the
  volume of a SHELVED_OFFLOADED VM stays reserved as long as the VM is shelved).
- a record without a status (the API left it out), or with one Cinder does not document, cannot be judged:
  unverified, never OK.
- stuck is measured from `updated_at`; when that does not parse, from when a sweep first saw the volume in
  this status (firstseen.py), and the line says so.
- a volume whose backend's cinder-volume service cannot vouch for it (down, or not in Cinder's service
  list: vio_checks.reporter) is unverified too: its last reported status is shown, not judged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vio_checks.documented import VOLUME_RESTING, VOLUME_TRANSITIONAL
from vio_checks.firstseen import since
from vio_checks.judge.timefmt import STUCK_AFTER, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import Server, Volume, unreported
from vio_checks.reporter import Vouch, unverified_text
from vio_checks.text import age, clock, inert, perf_label

GIB = 1024**3

TRANSITIONAL = VOLUME_TRANSITIONAL
RESTING = VOLUME_RESTING
#: Statuses always present in aggregate perfdata, in this order (others when present).
PERF_STATUSES = ("available", "in-use", "error")
#: Backend label for volumes no scheduler placed (os-vol-host-attr:host empty).
NO_BACKEND = "unscheduled"


@dataclass
class VolumeOptions:
    stuck_after: float = STUCK_AFTER  # seconds a transitional status may last; also the grace for orphans


def _size(gb: int) -> str:
    return f"{gb} GiB"


def judge_volume(volume: Volume, servers: Mapping[str, Server | None], opts: VolumeOptions,
                 now: float, vouch: Vouch | None = None) -> Verdict:
    """The state of one volume. `servers` maps each attachment's server id to its record, None when the
    server is not in the inventory (deleted); `vouch`: whether its cinder-volume service can vouch for it
    (`reporter.Reporters.volume`; None: not asked)."""
    v = Verdict()
    name = inert(volume.name) or inert(volume.id)
    status = inert(volume.status, 40) or "?"
    backend = inert(volume.service_host) or NO_BACKEND
    took = elapsed(volume.updated, now, opts.stuck_after, since(volume), "Cinder")
    old_enough = took.stuck

    attached = []
    for a in volume.attachments:
        server = servers.get(a.server_id)
        where = f" as {inert(a.device, 40)}" if a.device else ""
        label = (inert(server.name) if server else "") or inert(a.server_id)
        attached.append(f"{label}{where}")

    missing = unreported(volume)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"{name}: {missing}: state unverified")
    elif vouch is not None and not vouch.can_vouch:
        v.unverified, v.cause = True, vouch.trouble
        v.add(State.UNKNOWN, unverified_text(name, vouch, "Cinder", status))
        v.details += vouch.reasons
    elif status.startswith("error"):
        v.add(State.CRITICAL, f"{name} is {status} ({_size(volume.size_gb)}, backend {backend})")
    elif status in TRANSITIONAL:
        if took.stuck:
            v.add(State.WARNING, f"{name} stuck {status} {took.text} ({took.since}, backend {backend})")
        else:
            v.add(State.OK, f"{name} {status} {took.text}{took.note}")
    elif status == "in-use":
        gone = [inert(a.server_id) for a in volume.attachments if servers.get(a.server_id) is None]
        if gone and old_enough:
            v.add(State.WARNING, f"{name} is in-use, attached to server {', '.join(gone)} which no longer "
                                 f"exists (volume last updated {clock(volume.updated, now)})")
        elif not volume.attachments and old_enough:
            v.add(State.WARNING, f"{name} is in-use but has no attachment ({took.since})")
        else:
            on = f" on {', '.join(attached)}" if attached else ""
            v.add(State.OK, f"{name} is in-use{on}, {_size(volume.size_gb)}")
            if gone:
                v.details.append(f"attached server {', '.join(gone)} not in the inventory (yet): "
                                 f"judged after {age(opts.stuck_after)}")
    elif status in RESTING:
        extra = f" {took.text}{took.note}" if status in ("awaiting-transfer", "reserved") else ""
        v.add(State.OK, f"{name} is {status}{extra}, {_size(volume.size_gb)}")
    else:  # a record normalize.py did not make (it names these in `missing`)
        v.unverified = True
        v.add(State.UNKNOWN, f"{name}: Cinder reported an undocumented status {status!r}: state unverified")

    v.details += [
        f"volume {inert(volume.id)} ({name}), project {inert(volume.project_id) or '?'}",
        f"status {status}, {_size(volume.size_gb)}, type {inert(volume.volume_type) or '?'}, "
        f"backend {inert(volume.backend_host) or '?'}{', bootable' if volume.bootable else ''}, "
        f"updated {clock(volume.updated, now)}",
    ]
    if attached:
        v.details.append("attached to " + ", ".join(attached))
    v.perf.append(Perf("size", volume.size_gb * GIB, "B", min=0))
    return v


def _label(text: str) -> str:
    """A perfdata label from a status: `-` as `_` (in-use → in_use), made safe by text.perf_label."""
    return perf_label(text.lower().replace("-", "_"))


def volume_perf(judged: Iterable[tuple[Volume, Verdict]]) -> list[Perf]:
    """Aggregate extras: total size, volumes per status, and per backend the volumes, problems and size."""
    judged = list(judged)
    total = len(judged)
    statuses = Counter(vol.status or "none" for vol, _ in judged)
    per_backend: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # volumes, problems, GiB
    for vol, verdict in judged:
        b = per_backend[vol.service_host or NO_BACKEND]
        b[0] += 1
        b[1] += 0 if verdict.unverified or verdict.state in (State.OK, State.UNKNOWN) else 1
        b[2] += vol.size_gb
    perf = [Perf("size", sum(vol.size_gb for vol, _ in judged) * GIB, "B", min=0)]
    order = list(PERF_STATUSES) + sorted(set(statuses) - set(PERF_STATUSES))
    perf += [Perf(_label(s), statuses.get(s, 0), min=0, max=total) for s in order]
    for backend in sorted(per_backend):
        count, problems, gb = per_backend[backend]
        label = perf_label(backend)
        perf += [
            Perf(f"{label}_volumes", count, min=0),
            Perf(f"{label}_problems", problems, min=0, max=count),
            Perf(f"{label}_size", gb * GIB, "B", min=0),
        ]
    return perf
