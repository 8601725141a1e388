"""check_vio_image: a Glance image's state (failed uploads, uploads that do not end), or all images."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    CheckSpec,
    count_threshold_options,
    main_for,
    selector_options,
    stuck_after_option,
)
from vio_checks.checks.optional_common import evaluate_listed
from vio_checks.judge.image import ImageOptions, image_perf, judge_image
from vio_checks.selection import selection_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

    from vio_checks.judge.verdict import Verdict

EPILOG = """\
states (Glance's image statuses, glance/doc/source/statuses.rst):
  OK        active
  WARNING   queued, saving, uploading or importing for longer than --stuck-after, measured from the
            image's `updated_at` ("image cirros stuck queued for 2 h 0 min (since 08:42)"; younger: OK
            "image cirros saving for 4 min"); when `updated_at` does not parse, from when a sweep first
            saw the image in that status
  CRITICAL  killed: its upload failed and the image is not readable
  OK        deactivated, with a note: an admin blocked its data (deliberate)
  OK        pending_delete, with a note: Glance documents it as a deletion whose data glance-scrubber
            removes later ("not recoverable"), not as a fault; deleted likewise (a record Glance keeps)
  UNKNOWN   no status, or one Glance does not document ("Glance reported an undocumented status 'x'"):
            unverified, never OK
  UNKNOWN   the region's catalog has no image service: "no image service (Glance) in this region's
            catalog" (the sweep sends Glance no request and the generated config has no images service)
  UNKNOWN   the last sweep's image list failed (an HTTP error, a timeout, a malformed reply): the images
            are judged from their last known records, unverified (a problem in them still shows), and
            check_vio_discovery WARNs naming the failure; --id/--name not found or ambiguous
  aggregate (no --id/--name): every image the admin account sees, by the aggregate rule below

perfdata:
  aggregate: those of the aggregate rule below, and images per status (active, queued, saving, killed
            always; others when present)

examples:
  check_vio_image --os-cloud vio --name cirros
  VIO IMAGE OK - image cirros is active
  check_vio_image --os-cloud vio
  VIO IMAGE CRITICAL - 1 CRITICAL, 1 WARNING of 4 images: image broken-upload is killed: its upload failed \
and the image is not readable (updated 08:40); image stuck-upload stuck queued for 2 h 0 min (since 08:42) \
| total=4;;;0 ...
""" + AGGREGATE_RULE

OPTIONS = (
    *selector_options("image", id_help="the image's id (UUID)"),
    stuck_after_option("image", "WARNING when an image stays queued, saving, uploading or importing longer "
                                "than this, counted from its last update (default: 30m)"),
    *count_threshold_options("images"),
    *selection_options("images", unmonitored=False),
)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = ImageOptions(stuck_after=args.stuck_after)
    return evaluate_listed(args, snap, "image", "images", "image", lambda i: judge_image(i, opts, now),
                           image_perf)


SPEC = CheckSpec(
    name="image",
    description="Check a VIO image (Glance) from the cached inventory, or all images at once.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="images",
)
main = main_for(SPEC)
