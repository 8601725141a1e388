"""Nagios Core 4 object definitions for the dependency tree (icinga.objects).

All escaping and sanitising for this syntax is here, once:
- `text()`: a directive's free-text value (alias, display_name, custom vars). A value ends at the end of the
  line and at an unescaped `;` (a comment), so control characters become spaces. Nagios hands $HOSTALIAS$,
  $HOSTDISPLAYNAME$ and custom-var macros to notification commands unfiltered (its
  illegal_macro_output_chars covers plugin output only), and those commands run through /bin/sh: the
  characters of Nagios' recommended illegal_macro_output_chars (`` `~$&|'"<> ``), `\\` and `;` become
  `_`, so a VM named `$(reboot)` or `x; reboot` is inert there too.
- `url()`: notes_url / action_url: keeps `&` etc. (`;` is written `\\;`); the parts substituted from the
  cloud were already percent-encoded by icinga.objects.
- `arg()`: one check_command argument. Nagios splits arguments at `!` (written `\\!`), expands `$` macros
  (`$$`), and runs a command line through /bin/sh when it holds shell characters, so a value that is not a
  plain identifier is single-quoted for the shell.
- `name()`: object names (hosts, services, groups) must avoid `illegal_object_name_chars`
  (`` `~!$%^&*|'"<>?,()= ``): objects.object_name guarantees it; checked here.

What Nagios cannot express, and what is written instead:
- A host whose parent is a *service* (hypervisor → its nova-compute service, router → its L3 agent or its
  l3-agents set):
  `parents` is that service's host (the cloud host).
- A service whose parent is a *host* (an interface → the router serving its network): Nagios has no
  service-on-host dependency, so such a host gets a `state` service running the host's own check, and the
  child gets a servicedependency on it.
"""

from __future__ import annotations

import re
from typing import Any

from vio_checks import topology as t
from vio_checks.icinga import COMMON_OPTIONS, TEMPLATES, RenderOptions, passive
from vio_checks.icinga.objects import Node, Objects
from vio_checks.text import counted, valid

ILLEGAL_NAME_CHARS = "`~!$%^&*|'\"<>?,()="
_ILLEGAL = re.compile("[" + re.escape(ILLEGAL_NAME_CHARS) + r"\x00-\x20\x7f;]")
_CTRL = re.compile(r"[\x00-\x1f\x7f]+")
_SHELL = re.compile(r"[`~$&|'\"<>\\;]")
_PLAIN_ARG = re.compile(r"^[A-Za-z0-9_.@:/+=,%-]+$")
#: Service a host gets when a service depends on it (see the module docstring), and its template.
STATE_SERVICE = "state"
STATE_TEMPLATE = "vio-host-state-service"
#: Commands in icinga/nagios/commands.cfg: the same names as the Icinga 2 CheckCommands, and vio_dummy.
DUMMY_COMMAND = "vio_dummy"
#: Passive mode's stale check: check_dummy with STALE_STATE and the text in $ARG1$.
STALE_COMMAND = "vio_push_stale"
_OPTION_OF_VAR = {var: option for option, var in COMMON_OPTIONS.items()}
WIDTH = 32


def text(value: Any) -> str:
    """A free-text directive value (never empty: an empty value is a syntax error)."""
    clean = _SHELL.sub("_", _CTRL.sub(" ", valid(value)))
    return clean.strip() or "-"


def url(value: Any) -> str:
    """A notes_url / action_url value."""
    clean = _CTRL.sub("", valid(value)).replace("\\", "%5C")
    return clean.replace(";", "\\;").strip() or "-"


def name(value: str) -> str:
    """An object name; raises ValueError when it holds a character Nagios rejects."""
    if not value or _ILLEGAL.search(value):
        raise ValueError(f"invalid Nagios object name {value!r}")
    return value


def arg(value: Any) -> str:
    """One check_command argument, shell-quoted when needed, with Nagios' `!`, `$` and `;` escaped."""
    clean = _CTRL.sub(" ", valid(value)).replace("\\", "/")
    if not _PLAIN_ARG.match(clean):
        clean = "'" + clean.replace("'", "'\\''") + "'"
    return clean.replace("$", "$$").replace("!", "\\!").replace(";", "\\;")


def comment(value: str) -> str:
    return "# " + _CTRL.sub(" ", valid(value))


def _define(kind: str, pairs: list[tuple[str, str]]) -> list[str]:
    lines = [f"define {kind} {{"]
    for key, val in pairs:
        lines.append(f"    {key:<{WIDTH}}{val}")
    return [*lines, "}", ""]


def _minutes(seconds: int) -> str:
    return f"{seconds / 60:g}"


def check_command(node: Node, opts: RenderOptions) -> str:
    """`command!arguments` for a node: the cloud options, then the node's own arguments."""
    if node.check.command == "dummy":
        texts = [v for o, v in node.check.args if o == "--text"]
        return f"{DUMMY_COMMAND}!{arg(texts[0] if texts else 'OK')}"
    parts = []
    for var, val in sorted(opts.shared_vars.items()):
        if var not in _OPTION_OF_VAR or val in (None, "", False):
            continue
        parts.append(_OPTION_OF_VAR[var] if val is True else f"{_OPTION_OF_VAR[var]} {arg(val)}")
    for option, val in node.check.args:
        parts.append(option if val is None else f"{option} {arg(val)}")
    return node.check.command + ("!" + " ".join(parts) if parts else "")


def _custom_vars(node: Node) -> list[tuple[str, str]]:
    out = []
    for key in sorted(node.vars):
        val = node.vars[key]
        if isinstance(val, dict):
            continue  # metadata: no flat Nagios form
        if isinstance(val, (list, tuple)):
            val = ",".join(map(str, val))
        elif isinstance(val, bool):
            val = "1" if val else "0"
        var = "_" + re.sub(r"[^A-Za-z0-9_]", "_", key).upper()
        out.append((var, text(val if val != "" else "-")))
    return out


def _use(node: Node, opts: RenderOptions, topo: Objects) -> str:
    """`use`: the kind's template, preceded in passive mode by the generated passive one (it wins)."""
    template = TEMPLATES[node.kind]
    return f"{passive.template_name(topo.prefix, node.kind)},{template}" if opts.passive else template


def _passive_templates(topo: Objects, settings: passive.Passive) -> list[str]:
    """Passive checks only, and the stale check once a result is older than the freshness threshold."""
    out: list[str] = []
    for kind, type_ in passive.TEMPLATE_KINDS:
        out += _define(type_.lower(), [("name", name(passive.template_name(topo.prefix, kind))),
                                       ("register", "0"),
                                       ("active_checks_enabled", "0"), ("passive_checks_enabled", "1"),
                                       ("check_freshness", "1"),
                                       ("freshness_threshold", str(settings.freshness(kind))),
                                       ("check_command", f"{STALE_COMMAND}!{arg(settings.text(kind))}")])
    return out


def _common(node: Node, opts: RenderOptions) -> list[tuple[str, str]]:
    pairs = [("display_name", text(node.display_name))]
    if not opts.passive:  # passive: the template's stale check
        pairs.append(("check_command", check_command(node, opts)))
    interval = opts.intervals.get(node.kind)
    if interval and not opts.passive:
        pairs.append(("check_interval", _minutes(interval)))
    if node.notes_url:
        pairs.append(("notes_url", url(node.notes_url)))
    if node.action_url:
        pairs.append(("action_url", url(node.action_url)))
    return pairs + _custom_vars(node)


def _host(node: Node, topo: Objects, opts: RenderOptions) -> list[str]:
    pairs = [("use", _use(node, opts, topo)), ("host_name", name(node.host)),
             ("alias", text(node.display_name))]
    if node.address:
        pairs.append(("address", text(node.address)))
    if node.parents:  # one parent per child (topology); a service parent → its host
        pairs.append(("parents", name(topo.get(node.parents[0]).host)))
    if node.groups:
        pairs.append(("hostgroups", ",".join(name(g) for g in node.groups)))
    return _define("host", pairs + _common(node, opts))


def _service(node: Node, topo: Objects, opts: RenderOptions) -> list[str]:
    pairs = [("use", _use(node, opts, topo)), ("host_name", name(node.host)),
             ("service_description", name(node.service or ""))]
    if node.groups:
        pairs.append(("servicegroups", ",".join(name(g) for g in node.groups)))
    return _define("service", pairs + _common(node, opts))


def _state_service(host: Node, topo: Objects, opts: RenderOptions) -> list[str]:
    use = STATE_TEMPLATE
    if opts.passive:
        use = f"{passive.template_name(topo.prefix, t.VOLUME)},{use}"
    pairs = [("use", use), ("host_name", name(host.host)), ("service_description", STATE_SERVICE),
             ("display_name", text(f"state of {host.display_name}"))]
    if not opts.passive:
        pairs.append(("check_command", check_command(host, opts)))
    return _define("service", pairs)


def _service_dependencies(node: Node, topo: Objects) -> list[str]:
    out: list[str] = []
    for parent_key in node.parents:
        parent = topo.get(parent_key)
        master = parent.service or STATE_SERVICE
        out += _define("servicedependency", [
            ("host_name", name(parent.host)),
            ("service_description", name(master)),
            ("dependent_host_name", name(node.host)),
            ("dependent_service_description", name(node.service or "")),
            ("execution_failure_criteria", "n"),
            ("notification_failure_criteria", "u,c"),
        ])
    return out


def render(topo: Objects, opts: RenderOptions | None = None) -> str:
    """Nagios object definitions for a topology: deterministic (sorted, no timestamps)."""
    opts = opts or RenderOptions()
    hosts = sum(1 for n in topo.nodes.values() if n.is_host)
    where = f"cloud {topo.cloud}" + (f" region {topo.region}" if topo.region else "")
    mode = ", passive mode" if opts.passive else ""
    out = [comment(f"Generated by vio-icinga from {where} (Nagios 4 syntax{mode})"),
           comment("Do not edit: it is overwritten. " +
                   f"{counted(hosts, 'hosts')}, {counted(len(topo.nodes) - hosts, 'services')}, "
                   f"prefix {topo.prefix}."), ""]
    if opts.passive:
        out += _passive_templates(topo, opts.passive)
    for (gtype, gname), group in sorted(topo.groups.items()):
        kind = "hostgroup" if gtype == "host" else "servicegroup"
        out += _define(kind, [(f"{kind}_name", name(gname)), ("alias", text(group.display_name))])
    service_parents = {p for n in topo.nodes.values() if not n.is_host for p in n.parents
                       if topo.get(p).is_host}
    for host in topo.hosts():
        out += _host(host, topo, opts)
        if host.key in service_parents:
            out += _state_service(host, topo, opts)
        for svc in topo.services_of(host.host):
            out += _service(svc, topo, opts)
            out += _service_dependencies(svc, topo)
    return "\n".join(out).rstrip("\n") + "\n"


#: Where the commands look for check_vio_*: the resource macro, and the header lines ("pip": for a pip
#: install, icinga/nagios/commands.cfg; "itl": the Debian package's /etc/nagios-plugins/config/vio-checks.cfg,
#: the checks in $USER1$ = /usr/lib/nagios/plugins like every other plugin's).
COMMAND_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pip": ("$USER5$", ("Needs $USER5$ in resource.cfg: the directory pip put check_vio_* in, e.g.",
                        "$USER5$=/usr/local/bin")),
    "itl": ("$USER1$", ("The Debian package's /etc/nagios-plugins/config/vio-checks.cfg: the checks are",
                        "in $USER1$ (/usr/lib/nagios/plugins). Don't load icinga/nagios/commands.cfg too.")),
}


def render_commands(commands: dict[str, str], paths: str = "pip") -> str:
    """icinga/nagios/commands.cfg (or with paths="itl" the Debian package's copy): one command per
    executable (CheckCommand name → executable)."""
    macro, notes = COMMAND_PATHS[paths]
    out = [comment("vio-checks commands for Nagios 4. The generated objects pass every option in $ARG1$."),
           *(comment(line) for line in notes), ""]
    for command in sorted(commands):
        out += _define("command", [("command_name", command),
                                   ("command_line", f"{macro}/{commands[command]} $ARG1$")])
    out += _define("command", [("command_name", DUMMY_COMMAND),
                               ("command_line", "$USER1$/check_dummy 0 $ARG1$")])
    out += _define("command", [("command_name", STALE_COMMAND),
                               ("command_line", f"$USER1$/check_dummy {passive.STALE_STATE} $ARG1$")])
    return "\n".join(out).rstrip("\n") + "\n"
