"""`vio-icinga export --json`: the generated tree as data, for Icinga Director's import (docs/icinga.md, "With
Icinga Director").

    {"hosts": [...], "services": [...], "hostgroups": [...], "servicegroups": [...]}

One record per generated host and per generated service, with what the generator writes for it: object
name, display name, address, template, check_command (only where the template's is not the node's),
check_interval (only when given), groups, notes/action URL and the custom vars (the node's, the checks'
shared settings and its check arguments, as render_icinga2 writes them). A service record also names its
host and carries `key` = `host!service`, the unique key Director's import needs.

The tree travels as one custom var, `vars.vio_parent`: the Icinga object name of the node's one explicit
parent (`host`, or `host!service` when the parent is a service; object names never contain `!`). Every
node has one parent at most (an HA router's is its l3-agents service, a redundant set judged as one), and
a node without an explicit parent has none (a service depends on its own host anyway).
icinga/director/vio-dependencies.conf turns the var into Dependency objects with two apply rules (host /
service), whatever the number of hosts, and the same rules on every Icinga version.

Director, not this module, writes the Icinga config from these records: it escapes quotes, backslashes
and newlines, but leaves `$` as it is. So `$` becomes `$$` here in the values Icinga resolves macros in
(custom vars, notes_url, action_url), as render_icinga2.string() does, and other control characters and
lone surrogates (vio_checks.text.valid) become U+FFFD: a tenant's VM named `$host.vars.x$` stays text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from vio_checks.errors import VioError
from vio_checks.icinga import TEMPLATE_COMMANDS, TEMPLATES, RenderOptions
from vio_checks.icinga.objects import Node, Objects
from vio_checks.icinga.render_icinga2 import _check_vars, _shadowed_host_vars
from vio_checks.text import valid
from vio_checks.topology import CycleError

#: The custom var that carries a node's explicit parent.
PARENT_VAR = "vio_parent"

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str, macros: bool) -> str:
    text = _CTRL.sub("\ufffd", valid(value))
    return text.replace("$", "$$") if macros else text


def _data(value: Any) -> Any:
    """A custom var's value with every string made macro-inert (see the module docstring)."""
    if isinstance(value, str):
        return _text(value, macros=True)
    if isinstance(value, (list, tuple)):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {_text(str(k), macros=False): _data(v) for k, v in value.items()}
    return value


def parent_value(node: Node) -> str | None:
    """vars.vio_parent of a node: its one explicit parent's object name; None without a parent."""
    return node.parents[0] if node.parents else None


def _record(node: Node, topo: Objects, opts: RenderOptions) -> dict[str, Any]:
    template = TEMPLATES[node.kind]
    variables: dict[str, Any] = {**node.vars, **opts.shared_vars}
    if not node.is_host:
        variables.update(_shadowed_host_vars(node, topo))
    variables.update(_check_vars(node))
    parent = parent_value(node)
    if parent is not None:
        variables[PARENT_VAR] = parent
    interval = opts.intervals.get(node.kind)
    command = node.check.command if TEMPLATE_COMMANDS[template] != node.check.command else None
    record: dict[str, Any] = {
        "object_name": node.host if node.is_host else node.service,
        "display_name": _text(node.display_name, macros=False),
        "template": template,
        "check_command": command,
        "check_interval": str(interval) if interval else None,
        "groups": list(node.groups),
        "notes_url": _text(node.notes_url, macros=True) if node.notes_url else None,
        "action_url": _text(node.action_url, macros=True) if node.action_url else None,
        "vars": _data(dict(sorted(variables.items()))),
    }
    if node.is_host:
        record["address"] = node.address
    else:
        record = {"key": node.key, "host": node.host, **record}
    return record


def records(topo: Objects, opts: RenderOptions | None = None) -> dict[str, list[dict[str, Any]]]:
    """The tree as Director import records: hosts, services, host groups and service groups (sorted)."""
    opts = opts or RenderOptions()
    if opts.passive:
        raise ValueError("export writes active checks only: Director has no passive mode of vio-icinga")
    hosts, services = [], []
    for host in topo.hosts():
        hosts.append(_record(host, topo, opts))
        services += [_record(svc, topo, opts) for svc in topo.services_of(host.host)]
    groups: dict[str, list[dict[str, Any]]] = {"hostgroups": [], "servicegroups": []}
    for (gtype, gname), group in sorted(topo.groups.items()):
        groups[f"{gtype}groups"].append({"object_name": gname,
                                         "display_name": _text(group.display_name, macros=False)})
    return {"hosts": hosts, "services": services, **groups}


def render_json(topo: Objects, opts: RenderOptions | None = None) -> str:
    """`vio-icinga export --json`: the records as one JSON document (deterministic, UTF-8)."""
    return json.dumps(records(topo, opts), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def run_export(args: argparse.Namespace) -> int:
    """`vio-icinga export --json`: exit 0 with the document on stdout, 2 with one line on stderr."""
    from vio_checks.icinga import generate as g
    from vio_checks.icinga.load import load_tree

    try:
        render_opts = g.render_options(args)
        _, topo = load_tree(args, g.topology_options(args))
        text = render_json(topo, render_opts)
    except (g.GenerateError, VioError, CycleError, ValueError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def register(subparsers: Any) -> None:
    """Add `export` to vio-icinga's subcommands (options as generate's)."""
    from vio_checks.icinga.generate import add_object_options
    from vio_checks.icinga.load import add_topology_options

    p = subparsers.add_parser(
        "export", help="print the hosts and services as JSON, for Icinga Director's import",
        description="Print the hosts, services and groups `generate` would write, as JSON records for Icinga "
                    "Director's import (README: With Icinga Director); vars.vio_parent carries the tree.")
    p.add_argument("--json", action="store_true", required=True, help="JSON (the only format)")
    add_object_options(p.add_argument_group("objects (as for generate)"))
    add_topology_options(p)
    p.set_defaults(func=run_export)
