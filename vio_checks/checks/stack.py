"""check_vio_stack: a Heat stack's state (failed actions, actions that do not end), or all stacks."""

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
from vio_checks.judge.stack import StackOptions, judge_stack, stack_perf
from vio_checks.options import Option, selector
from vio_checks.selection import selection_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse

    from vio_checks.judge.verdict import Verdict

EPILOG = """\
states (Heat's stack_status: ACTION_STATUS, heat/engine/stack.py):
  OK        *_COMPLETE (CREATE_COMPLETE, UPDATE_COMPLETE, ...; ROLLBACK_COMPLETE says a change was rolled
            back, SUSPEND_COMPLETE that the stack is suspended on purpose)
  CRITICAL  *_FAILED, with Heat's status reason ("stack shop is CREATE_FAILED: Resource CREATE failed: ...")
  WARNING   *_IN_PROGRESS for longer than --stuck-after, measured from the stack's `updated_time` (its
            `creation_time` when never updated; from when a sweep first saw it in that status when neither
            parses); younger: OK "stack shop UPDATE_IN_PROGRESS for 4 min"
  UNKNOWN   no stack_status, or one Heat does not document: unverified, never OK
  UNKNOWN   the region's catalog has no orchestration service: "no orchestration service (Heat) in this
            region's catalog" (the sweep sends Heat no request and the generated config has no stacks
            service)
  UNKNOWN   the last sweep's stack list failed (an HTTP error, a timeout, a malformed reply; also a 403:
            the list is read with global_tenant=True, which Heat's default policy `stacks:global_index`
            allows to no one: grant it to the monitoring account): the stacks are judged from their last
            known records, unverified, and check_vio_discovery WARNs naming the failure; --id/--name not
            found or ambiguous
  aggregate (no --id/--name): every stack of every project (--project: one project's), by the aggregate
            rule below

perfdata:
  aggregate: those of the aggregate rule below, and stacks complete, in_progress and failed

examples:
  check_vio_stack --os-cloud vio --name shop
  VIO STACK CRITICAL - stack shop is CREATE_FAILED: Resource CREATE failed: No valid host was found
  check_vio_stack --os-cloud vio --project webshop
  VIO STACK OK - all 2 stacks OK | total=2;;;0 ...
""" + AGGREGATE_RULE

GROUP = "aggregate filters (the generated config passes its own filters here)"
OPTIONS = (
    *selector_options("stack", id_help="the stack's id (UUID)"),
    stuck_after_option("stack", "WARNING when a stack stays *_IN_PROGRESS longer than this, counted from its "
                                "last update (default: 30m)"),
    *count_threshold_options("stacks"),
    Option(("--project",), type=selector, metavar="PROJECT", group=GROUP,
           help="aggregate only the stacks of this project (its id or name)"),
    *selection_options("stacks", unmonitored=False),
)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = StackOptions(stuck_after=args.stuck_after)
    project = getattr(args, "project", None)
    names = {p.id: p.name for p in snap.all("projects")} if project else {}
    return evaluate_listed(
        args, snap, "orchestration", "stacks", "stack", lambda s: judge_stack(s, opts, now), stack_perf,
        keep=(lambda s: project in (s.project_id, names.get(s.project_id))) if project else None,
        context=f"project {project}" if project else "")


SPEC = CheckSpec(
    name="stack",
    description="Check a VIO stack (Heat) from the cached inventory, or all stacks at once.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="stacks",
)
main = main_for(SPEC)
