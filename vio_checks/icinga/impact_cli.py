"""`vio-icinga impact` and `vio-icinga rootcause`: the generator's dependency tree, asked from a shell.

    vio-icinga impact domain-c8.5f2e            everything below an object, counted by kind
    vio-icinga rootcause web-01                 the chain of parents, judged from the cached inventory
    vio-icinga rootcause web-01 --api-url https://icinga:5665 --api-user vio ...   live states from Icinga 2

Both build the same tree `vio-icinga generate` writes (same cloud, cache and filter options, icinga.load),
so object names are the generated Icinga object names (icinga.resolve). Exit codes: 0 answered; 3 when the
object is unknown or ambiguous (the candidates are listed), or the inventory or the Icinga API is
unavailable (unreachable, busy); 2 for bad options or a configuration to fix (TLS, 401/403, the password),
as for deploy and push. The logic is icinga.analysis', the states icinga.states'.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from vio_checks import redact
from vio_checks import topology as t
from vio_checks.errors import VioError
from vio_checks.icinga import objects as o
from vio_checks.icinga.analysis import (
    Status,
    analyse,
    analysis_json,
    analysis_text,
    chain,
    impact,
    impact_json,
    impact_text,
)
from vio_checks.icinga.deploy import ApiError, ApiUnavailable, IcingaApi, add_api_options, api_password
from vio_checks.icinga.generate import GenerateError, topology_options
from vio_checks.icinga.load import add_topology_options, load_tree
from vio_checks.icinga.resolve import Unresolved, describe, resolve
from vio_checks.icinga.states import icinga_states, judge_states
from vio_checks.text import clock, inert, valid

EXIT_OK, EXIT_BAD_OPTIONS, EXIT_UNKNOWN = 0, 2, 3


def json_text(data: Any) -> str:
    """The --json document: valid Unicode (text.valid), whatever strings the cloud gave the tree."""
    return valid(json.dumps(data, indent=2, ensure_ascii=False))


def _password(args: argparse.Namespace) -> str:
    try:
        return api_password(args.api_password_file)
    except ValueError as e:
        raise ApiError(str(e)) from None



def _candidates(topo: o.Objects, e: Unresolved) -> int:
    if not e.candidates:
        print(f"vio-icinga: unknown object {e.text!r}: no Icinga object name, id or name matches "
              f"(cloud {topo.cloud}, prefix {topo.prefix})", file=sys.stderr)
        return EXIT_UNKNOWN
    print(f"vio-icinga: {e.text!r} is ambiguous; {len(e.candidates)} objects match, name one of them:",
          file=sys.stderr)
    for n in e.candidates[:50]:
        print(f"  {n.key}  ({describe(topo, n)}, id {inert(n.object_id)})", file=sys.stderr)
    if len(e.candidates) > 50:
        print(f"  ... and {len(e.candidates) - 50} more", file=sys.stderr)
    return EXIT_UNKNOWN


def _target(args: argparse.Namespace) -> tuple[Any, o.Objects, o.Node] | int:
    """(snapshot result, topology, the node args.object names), or the exit code after saying why not."""
    topo = None
    try:
        opts = topology_options(args)
    except GenerateError as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_BAD_OPTIONS
    try:
        result, topo = load_tree(args, opts)
        return result, topo, resolve(topo, args.object)
    except Unresolved as e:
        return _candidates(topo, e)
    except (VioError, t.CycleError, ValueError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_UNKNOWN


def run_impact(args: argparse.Namespace) -> int:
    target = _target(args)
    if isinstance(target, int):
        return target
    _, topo, node = target
    imp = impact(topo, node)
    if args.json:
        print(json_text(impact_json(topo, imp)))
    else:
        sys.stdout.write(impact_text(topo, imp))
    return EXIT_OK


def run_rootcause(args: argparse.Namespace) -> int:
    now = time.time()
    target = _target(args)
    if isinstance(target, int):
        return target
    result, topo, node = target
    keys = [n.key for n, _ in chain(topo, node)]
    if args.api_url:
        try:
            api = IcingaApi(args.api_url, args.api_user, _password(args), args.ca_file,
                            timeout=args.api_timeout, retries=args.retries, server_name=args.tls_server_name)
            live = icinga_states(api, keys, {k for k in keys if topo.nodes[k].is_host})
        except ApiUnavailable as e:  # unreachable or busy past the retries: ask again later
            print(f"vio-icinga: Icinga API unavailable: {e}", file=sys.stderr)
            return EXIT_UNKNOWN
        except ApiError as e:  # TLS, 401/403, no password, not Icinga: a configuration to fix, as in push
            print(f"vio-icinga: {e}", file=sys.stderr)
            return EXIT_BAD_OPTIONS
        source, header = "icinga", f"chain (live states from {redact.url(args.api_url)}):"

        def status(key: str) -> Status:
            if key not in live:  # a parent outside the chain is never asked for: not known, never "fine"
                return Status(0, topo.nodes[key].is_host, unknown="not read from Icinga")
            return live[key]
    else:
        judge = judge_states(result, args)
        cache: dict[str, Status] = {}
        meta = result.snapshot.inventory().meta
        age = max(0, int(now - meta.fetched_at))
        source = "inventory"
        header = f"chain (judged from the cached inventory of {clock(meta.fetched_at, now)}, {age} s old):"

        def status(key: str) -> Status:
            if key not in cache:
                cache[key] = judge(topo.nodes[key])
            return cache[key]

    a = analyse(topo, node, status, source)
    if args.json:
        print(json_text(analysis_json(topo, a, now)))
    else:
        sys.stdout.write(analysis_text(topo, a, now, header))
    return EXIT_OK


IMPACT_EPILOG = """\
OBJECT is an Icinga object name (host, or host!service), an OpenStack id, or a name (VM, router, volume,
hypervisor_hostname or the short cluster id domain-c8, binary@host of a service); an ambiguous name
lists the candidates.

exit codes:
  0  answered
  2  bad options
  3  unknown or ambiguous object (candidates on stderr), or no usable inventory
"""

ROOTCAUSE_EPILOG = """\
Without --api-url every object of the chain is judged from the cached inventory, exactly as its check
would judge it; with --api-url the states are Icinga's own (state, since when, reachability).

exit codes:
  0  answered (whatever the states are)
  2  bad options, or a configuration to fix (TLS, 401/403, the API password), as for deploy and push
  3  unknown or ambiguous object (candidates on stderr), no usable inventory, or the Icinga API unreachable
     or busy past --retries
"""


def add_subcommands(subparsers: Any) -> None:
    """Add `impact` and `rootcause` to vio-icinga's subparsers."""
    imp = subparsers.add_parser(
        "impact", help="everything that depends on an object, counted by kind",
        description="Everything that depends on an object, transitively, grouped by kind with counts, from "
                    "the same dependency tree `vio-icinga generate` writes.",
        epilog=IMPACT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("object", metavar="OBJECT", help="Icinga object name, OpenStack id or name")
    imp.add_argument("--json", action="store_true", help="print JSON: object, counts, projects, dependents")
    add_topology_options(imp)
    imp.set_defaults(func=run_impact)

    rc = subparsers.add_parser(
        "rootcause", help="why an object is in trouble: its chain of parents and the topmost failing one",
        description="The chain of parents of an object and the topmost failing one, judged from the cached "
                    "inventory, or from Icinga's live states with --api-url.",
        epilog=ROOTCAUSE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_argument("object", metavar="OBJECT", help="Icinga object name, OpenStack id or name")
    rc.add_argument("--json", action="store_true", help="print JSON: object, message, via, cause, chain")
    a = rc.add_argument_group("Icinga API (live states instead of the inventory's)")
    add_api_options(a, "objects/query/*", user_default="vio", timeout=10.0, retries=1, retry_delay=False)
    add_topology_options(rc)
    rc.set_defaults(func=run_rootcause)
