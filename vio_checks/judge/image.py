"""Glance image state: a failed upload, an upload or import that does not end, and the deliberate states.

Glance semantics used here (glance/doc/source/statuses.rst and the image API reference):
- `active`: the image's data is available. OK.
- `queued` (an id reserved, no data yet), `saving` (data being uploaded), `uploading` and `importing` (the
  interoperable import's staging and import steps): an upload or import in progress. OK while younger than
  --stuck-after, then WARNING "stuck", measured from the image's `updated_at` (from when a sweep first saw
  it in that status when Glance's timestamp is unreadable).
- `killed`: "an error occurred during the uploading of an image's data, and the image is not readable".
  CRITICAL.
- `deactivated`: an admin blocked access to the image's data (deliberate). OK with that note.
- `pending_delete`: "similar to deleted, however Glance has not yet removed the image data. An image in this
  state is not recoverable" (delayed_delete: glance-scrubber removes the data later, on its own schedule).
  Glance documents it as a deletion, not a fault: OK with that note, like `deleted` (the record Glance
  keeps for a while). Neither is listed by a default image list; when a reply carries one, it is said.
- a record without a status, or with one Glance does not document: UNKNOWN (unverified), never OK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from vio_checks.documented import IMAGE_TRANSITIONAL
from vio_checks.firstseen import since
from vio_checks.judge.timefmt import STUCK_AFTER, clock, elapsed
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.model import unreported
from vio_checks.text import inert, perf_label

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the warm path)
if TYPE_CHECKING:
    from vio_checks.optional_records import Image

#: Statuses always present in aggregate perfdata, in this order (others when present).
PERF_STATUSES = ("active", "queued", "saving", "killed")
#: The deliberate or deleted statuses and what they mean, said with their OK.
NOTES = {
    "deactivated": "deactivated by an admin: its data cannot be downloaded (deliberate)",
    "pending_delete": "pending_delete: deleted, its data left for glance-scrubber (not recoverable)",
    "deleted": "deleted (Glance keeps the record for a while)",
}


class ImageOptions:
    """What the image judge reads from the options."""

    def __init__(self, stuck_after: float = STUCK_AFTER) -> None:
        self.stuck_after = stuck_after  # seconds an upload or import may last


def judge_image(image: Image, opts: ImageOptions, now: float) -> Verdict:
    """The state of one Glance image (see the module's rules)."""
    v = Verdict()
    name = inert(image.name) or inert(image.id)
    status = inert(image.status, 40) or "?"
    missing = unreported(image)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"image {name}: {missing}: state unverified")
    elif status == "active":
        v.add(State.OK, f"image {name} is active")
    elif status == "killed":
        v.add(State.CRITICAL, f"image {name} is killed: its upload failed and the image is not readable "
                              f"(updated {clock(image.updated, now)})")
    elif status in IMAGE_TRANSITIONAL:
        took = elapsed(image.updated, now, opts.stuck_after, since(image), "Glance")
        if took.stuck:
            v.add(State.WARNING, f"image {name} stuck {status} {took.text} ({took.since})")
        else:
            v.add(State.OK, f"image {name} {status} {took.text}{took.note}")
    elif status in NOTES:
        v.add(State.OK, f"image {name} is {NOTES[status]}")
    else:  # a record normalize did not make (it names these in `missing`)
        v.unverified = True
        v.cause = f"Glance reported an undocumented status {status!r}"
        v.add(State.UNKNOWN, f"image {name}: {v.cause}: state unverified")
    v.details.append(f"image {inert(image.id)} ({name}), project {inert(image.project_id) or '?'}, "
                     f"visibility {inert(image.visibility, 20) or '?'}, status {status}, "
                     f"created {clock(image.created, now)}, updated {clock(image.updated, now)}")
    return v


def image_perf(images: Iterable[Image]) -> list[Perf]:
    """Aggregate extras: images per status (active, queued, saving, killed always; others when present)."""
    images = list(images)
    statuses = Counter(i.status or "none" for i in images)
    order = list(PERF_STATUSES) + sorted(set(statuses) - set(PERF_STATUSES))
    return [Perf(perf_label(s), statuses.get(s, 0), min=0, max=len(images)) for s in order]
