"""Icinga 2 DSL: objects for the dependency tree (icinga.objects), and the static CheckCommand definitions.

All escaping of strings for the DSL happens in `string()` (and `comment()` for the header): every
tenant-controlled value (VM, volume, network, project names, metadata, ...) passes through it.

- A string literal escapes `\\` and `"`, writes newline, tab, CR and other control characters as escape
  sequences (a raw newline would end the literal), and drops NUL.
- In attributes Icinga resolves runtime macros in (custom vars, notes, notes_url, action_url) `$` becomes
  `$$`: Icinga resolves a custom var's value again when a command or notification uses it, so a VM named
  `$host.vars.x$` must stay text. display_name is never macro-expanded and keeps a `$` as it is.
- Object names come from `objects.object_name` (no `!`, which composite names use) and are checked here.
- `{`, `}`, `//`, `/*` inside a string literal are inert; nothing is ever written outside a literal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vio_checks.icinga import (
    COMMANDS,
    COMMON_OPTIONS,
    TEMPLATE_COMMANDS,
    TEMPLATES,
    RenderOptions,
    command_options,
    command_var,
    option_var,
    passive,
)
from vio_checks.icinga.objects import Node, Objects
from vio_checks.options import APPEND, FLAG, Option
from vio_checks.text import counted, valid

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f$]')
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INDENT = "  "


def string(value: Any, macros: bool = True) -> str:
    """A DSL string literal for any text (the one escaping function of this syntax)."""
    text = valid(value)

    def esc(m: re.Match) -> str:
        c = m.group(0)
        if c == "$":
            return "$$" if macros else "$"
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c == "\x00":
            return ""
        return f"\\{ord(c):03o}"  # octal escape for the other control characters

    return '"' + _SPECIAL.sub(esc, text) + '"'


def name(value: str) -> str:
    """An object name literal: must be a sanitised name (objects.object_name), never tenant text."""
    if not value or "!" in value or _CTRL.search(value) or value != value.strip():
        raise ValueError(f"invalid Icinga object name {value!r}")
    return string(value, macros=False)


def comment(text: str) -> str:
    """A `//` comment line: control characters (a newline would end the comment) become spaces."""
    return "// " + _CTRL.sub(" ", valid(text))


def value(v: Any, macros: bool = True) -> str:
    """A DSL value: string, number, boolean, array or dictionary."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(value(x, macros) for x in v) + " ]" if v else "[ ]"
    if isinstance(v, dict):
        if not v:
            return "{ }"
        items = "; ".join(f"{string(k, macros=False)} = {value(x, macros)}" for k, x in sorted(v.items()))
        return "{ " + items + " }"
    if v is None:
        return "null"
    return string(v, macros)


def _var_key(key: str) -> str:
    """`vars.key` for an identifier, `vars["key"]` otherwise."""
    return f"vars.{key}" if _IDENT.match(key) else f"vars[{string(key, macros=False)}]"


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


# --- objects -------------------------------------------------------------------------------------


def _check_vars(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for option, arg in node.check.args:
        out[command_var(node.check.command, option)] = True if arg is None else arg
    return out


@functools.cache
def _command_arguments(command: str) -> dict[str, Option]:
    """custom var → the option it feeds, for every argument of a CheckCommand (empty for `dummy`)."""
    if command not in COMMANDS:
        return {}
    return {option_var(command, o): o for o in _options(command_options()[command])}


def _shadowed_host_vars(node: Node, topo: Objects) -> dict[str, Any]:
    """Explicit values for the check vars a service's host sets and the service's command also reads.

    Icinga resolves `$var$` in a service's command from the service's vars, then its host's, so a service
    would silently inherit its host's check settings: the hypervisor host's `--state-only` would make the
    capacity service (same command) judge state only. Each such var gets the option's "not given" value
    here; settings reach a check only as the service's own vars.
    """
    host = topo.nodes.get(node.host)
    if host is None:
        return {}
    own = {**node.vars, **_check_vars(node)}
    candidates = [v for v in sorted({**host.vars, **_check_vars(host)})
                  if v not in own and v not in COMMON_OPTIONS.values()]
    reads = _command_arguments(node.check.command) if candidates else {}
    out: dict[str, Any] = {}
    for var in candidates:
        if var not in reads:
            continue
        if reads[var].kind == FLAG:
            out[var] = False
        else:  # Icinga cannot unset a var (null or "" still passes the option): refuse, never inherit
            raise ValueError(f"service {node.key} would inherit {var} from its host {host.key}; "
                             "give the service its own value")
    return out


def _object(kind: str, obj_name: str, lines: list[str]) -> list[str]:
    return [f"object {kind} {name(obj_name)} {{", *(INDENT + line for line in lines), "}", ""]


def _passive_templates(topo: Objects, settings: passive.Passive) -> list[str]:
    """The stale check of passive mode: `dummy` UNKNOWN once a result is older than its freshness."""
    out: list[str] = []
    for kind, type_ in passive.TEMPLATE_KINDS:
        lines = ['check_command = "dummy"',
                 f"check_interval = {_duration(settings.freshness(kind))}",
                 f"retry_interval = {_duration(settings.retry(kind))}",
                 f"vars.dummy_state = {passive.STALE_STATE}",
                 f"vars.dummy_text = {string(settings.text(kind))}"]
        out += [f"template {type_} {name(passive.template_name(topo.prefix, kind))} {{",
                *(INDENT + line for line in lines), "}", ""]
    return out


def _node_lines(node: Node, topo: Objects, opts: RenderOptions) -> list[str]:
    template = TEMPLATES[node.kind]
    lines = [f"import {string(template, macros=False)}"]
    if opts.passive:
        lines.append(f"import {string(passive.template_name(topo.prefix, node.kind), macros=False)}")
    if not node.is_host:
        lines.append(f"host_name = {name(node.host)}")
    if not opts.passive and TEMPLATE_COMMANDS[template] != node.check.command:
        lines.append(f"check_command = {string(node.check.command, macros=False)}")
    lines.append(f"display_name = {string(node.display_name, macros=False)}")
    if node.is_host and node.address:
        lines.append(f"address = {string(node.address, macros=False)}")
    interval = opts.intervals.get(node.kind)
    if interval and not opts.passive:
        lines.append(f"check_interval = {_duration(interval)}")
    if node.groups:
        lines.append("groups = [ " + ", ".join(name(g) for g in node.groups) + " ]")
    if node.notes_url:
        lines.append(f"notes_url = {string(node.notes_url)}")
    if node.action_url:
        lines.append(f"action_url = {string(node.action_url)}")
    if opts.zone:
        lines.append(f"zone = {string(opts.zone, macros=False)}")
    variables = dict(node.vars)
    variables.update(opts.shared_vars)
    if not opts.passive:  # passive: the stale check reads only its template's vars
        if not node.is_host:
            variables.update(_shadowed_host_vars(node, topo))
        variables.update(_check_vars(node))
    for key in sorted(variables):
        lines.append(f"{_var_key(key)} = {value(variables[key])}")
    return lines


def _dependencies(node: Node, topo: Objects, opts: RenderOptions) -> list[str]:
    """The node's one Dependency, `vio-parent` (none without an explicit parent). One parent per child
    (topology.Topology.add refuses two), so no `redundancy_group`: the file means the same on Icinga 2.13
    and 2.14, which makes a child with several parents unreachable once ONE of them fails."""
    out: list[str] = []
    for parent_key in node.parents:
        parent = topo.get(parent_key)
        lines = ['import "vio-dependency"',
                 f"parent_host_name = {name(parent.host)}"]
        if parent.service:
            lines.append(f"parent_service_name = {name(parent.service)}")
        lines.append(f"child_host_name = {name(node.host)}")
        if node.service:
            lines.append(f"child_service_name = {name(node.service)}")
        if opts.zone:
            lines.append(f"zone = {string(opts.zone, macros=False)}")
        out += _object("Dependency", "vio-parent", lines)
    return out


def header(topo: Objects, what: str) -> list[str]:
    hosts = sum(1 for n in topo.nodes.values() if n.is_host)
    services = len(topo.nodes) - hosts
    deps = sum(len(n.parents) for n in topo.nodes.values())
    where = f"cloud {topo.cloud}" + (f" region {topo.region}" if topo.region else "")
    return [comment(f"Generated by vio-icinga from {where} ({what}); do not edit, it is overwritten."),
            comment(f"{counted(hosts, 'hosts')}, {counted(services, 'services')}, "
                    f"{counted(deps, 'dependencies', 'dependency')}, prefix {topo.prefix}."),
            ""]


def render(topo: Objects, opts: RenderOptions | None = None) -> str:
    """The Icinga 2 objects for a topology: deterministic (sorted, no timestamps), the same text for every
    Icinga 2 version (one parent per child: nothing 2.13 and 2.14 read differently)."""
    opts = opts or RenderOptions()
    out = header(topo, "Icinga 2" + (", passive mode" if opts.passive else ""))
    if opts.passive:
        out += _passive_templates(topo, opts.passive)
    for (gtype, gname), group in sorted(topo.groups.items()):
        lines = [f"display_name = {string(group.display_name, macros=False)}"]
        if opts.zone:
            lines.append(f"zone = {string(opts.zone, macros=False)}")
        out += _object("HostGroup" if gtype == "host" else "ServiceGroup", gname, lines)
    for host in topo.hosts():
        out += _object("Host", host.host, _node_lines(host, topo, opts))
        out += _dependencies(host, topo, opts)
        for svc in topo.services_of(host.host):
            out += _object("Service", svc.service or "", _node_lines(svc, topo, opts))
            out += _dependencies(svc, topo, opts)
    return "\n".join(out).rstrip("\n") + "\n"


# --- the parent zone's part of a satellite zone ---------------------------------------------------

#: Default parent of a satellite zone (`--parent-zone`).
PARENT_ZONE = "master"
#: Name of the Dependencies that hang the tree's roots below the zone host (`<cloud host>!vio-zone` ...).
ZONE_DEPENDENCY = "vio-zone"


def zone_host(prefix: str) -> str:
    """The parent-zone host that watches a region's satellite zone: `<prefix>-zone`."""
    return f"{prefix}-zone"


def render_zone(topo: Objects, zone: str, parent_zone: str = PARENT_ZONE) -> str:
    """What the parent zone needs for the satellite zone `zone` that checks this cloud: a host
    `<prefix>-zone` whose check is Icinga's `cluster-zone` (DOWN while the zone is not connected, or lags),
    and Dependencies that make the roots of the tree (in `zone`) depend on it: the cloud host, and every
    object without a parent Dependency of its own (the cloud host's services). Those are needed too:
    Icinga's implicit service-on-host dependency looks at the host's state, not its reachability, and
    a stopped satellite's cloud host stays UP (its last result) while unreachable.

    All in `parent_zone`, so the parent evaluates them (the satellite never loads them): when the
    satellite stops, the parent finds every object of the region unreachable (each has a chain of parents
    up to the zone host) and only the zone host notifies. Deterministic, like `render`."""
    host = zone_host(topo.prefix)
    where = f"cloud {topo.cloud}" + (f" region {topo.region}" if topo.region else "")
    out = [comment(f"Generated by vio-icinga from {where} (zone {zone}, parent zone {parent_zone}); do not "
                   "edit, it is overwritten."),
           comment(f"The {parent_zone} zone's watch on satellite zone {zone}; prefix {topo.prefix}."), ""]
    variables = {"cluster_zone": zone, "vio_kind": "zone", "vio_managed": True, "vio_cloud": topo.cloud,
                 "vio_region": topo.region}
    # max_check_attempts 2, retry 30s: a satellite's reload (every config sync) is no alert
    lines = ['check_command = "cluster-zone"',
             f"display_name = {string(f'Icinga zone {zone} ({where})', macros=False)}",
             "check_interval = 1m", "retry_interval = 30s", "max_check_attempts = 2",
             f"zone = {string(parent_zone, macros=False)}"]
    lines += [f"{_var_key(k)} = {value(v)}" for k, v in sorted(variables.items())]
    out += _object("Host", host, lines)
    roots = sorted((n for n in topo.nodes.values() if not n.parents),
                   key=lambda n: (n.key != topo.prefix, n.key))  # the cloud host first
    for node in roots:
        lines = ['import "vio-dependency"', f"parent_host_name = {name(host)}",
                 f"child_host_name = {name(node.host)}"]
        if node.service:
            lines.append(f"child_service_name = {name(node.service)}")
        out += _object("Dependency", ZONE_DEPENDENCY, [*lines, f"zone = {string(parent_zone, macros=False)}"])
    return "\n".join(out).rstrip("\n") + "\n"


# --- static CheckCommands (icinga/commands.conf) ---------------------------------------------------


def _help(option: Option) -> str:
    """The option's --help text as one line (argparse's %% escapes resolved), with its choices."""
    text = option.help
    if "%" in text:
        try:
            text = text % {"default": option.default, "dest": option.dest}
        except (KeyError, TypeError, ValueError):
            text = text.replace("%%", "%")
    if option.choices:
        text += f" (one of: {', '.join(map(str, option.choices))})"
    return " ".join(text.split())


def _argument(var: str, option: Option) -> list[str]:
    """One entry of a CheckCommand's `arguments`: the option fed by the custom var `var`."""
    desc = string(_help(option), macros=False)
    head = f"{string(option.long, macros=False)} = {{"
    if not option.takes_value:
        return [head, f"{INDENT}set_if = {string('$' + var + '$', macros=False)}",
                f"{INDENT}description = {desc}", "}"]
    lines = [head, f"{INDENT}value = {string('$' + var + '$', macros=False)}"]
    if option.kind == APPEND:
        lines.append(f"{INDENT}repeat_key = true")
    lines += [f"{INDENT}description = {desc}", "}"]
    return lines


def _options(options: Iterable[Option]) -> list[Option]:
    """The options a CheckCommand exposes as arguments (not help, version, verbosity)."""
    return [o for o in options if o.exposed]


#: Where the CheckCommands look for check_vio_*: the constant their paths start with, and the header lines.
#: "pip": icinga/commands.conf, for a pip install (the admin defines VioChecksDir); "itl": the Debian
#: package's plugins-contrib.d/vio.conf, the checks in PluginDir (/usr/lib/nagios/plugins) as the ITL has it.
COMMAND_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pip": ("VioChecksDir", (
        "`vio-icinga commands --format icinga2`; install once, e.g. in a global zone.",
        "Needs: const VioChecksDir = \"/usr/local/bin\"  (where pip put check_vio_*).")),
    "itl": ("PluginDir", (
        "`vio-icinga commands --format icinga2 --paths itl`: the Debian package's",
        "/usr/share/icinga2/include/plugins-contrib.d/vio.conf, loaded by `include <plugins-contrib>`.",
        "The checks are in PluginDir (/usr/lib/nagios/plugins). Do not load icinga/commands.conf as well.")),
}


def render_commands(commands: Mapping[str, Sequence[Option]], paths: str = "pip") -> str:
    """CheckCommands in ITL style for the checks' options (command name → its `Option`s, as
    `icinga.command_options()` gives them): icinga/commands.conf, or with paths="itl" the Debian
    package's plugins-contrib.d/vio.conf (see COMMAND_PATHS)."""
    const, notes = COMMAND_PATHS[paths]
    out = [comment("vio-checks CheckCommands for Icinga 2 (ITL style). Generated from the checks' --help by"),
           *(comment(line) for line in notes), ""]
    # Options every check has (cloud, cache, timeout) go to one template, with one var each (vio_<option>).
    shared: dict[str, Option] = {}
    for options in commands.values():
        for option in _options(options):
            if option.common:
                shared.setdefault(option.long, option)
    out.append('template CheckCommand "vio-check-command" {')
    out.append(INDENT + "arguments = {")
    for option in shared.values():
        out += [INDENT * 2 + line for line in _argument(option_var("", option), option)]
    out += [INDENT + "}", INDENT + "timeout = 1m", "}", ""]
    for command in sorted(commands):
        out.append(f"object CheckCommand {name(command)} {{")
        out.append(INDENT + 'import "vio-check-command"')
        out.append(INDENT + f"command = [ {const} + {string('/' + COMMANDS[command], macros=False)} ]")
        own = [o for o in _options(commands[command]) if not o.common]
        if own:
            out.append(INDENT + "arguments += {")
            for option in own:
                out += [INDENT * 2 + line for line in _argument(option_var(command, option), option)]
            out.append(INDENT + "}")
        out += ["}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
