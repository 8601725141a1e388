"""`vio-icinga director-basket`: the CheckCommands and templates as an Icinga Director basket (JSON), and
with `--import-url` the import sources and sync rules that read `vio-icinga export --json`.

    vio-icinga director-basket > icinga/director/vio-basket.json          (shipped; tests/ checks for drift)
    vio-icinga director-basket --import-url http://127.0.0.1:8080/vio.json | icingacli director basket restore

Made from the same sources as icinga/commands.conf and icinga/templates.conf: the commands from the checks'
options (as `vio-icinga commands`), the templates parsed from the shipped templates.conf itself, so the
Director copy never says something the file does not. A site loads one copy of them: this basket under
Director, the .conf files without it.

Director 1.10's REST API import source reads the export from any HTTP(S) URL (a static file served next to
Icinga Web 2 will do): four sources (hosts, services, host groups, service groups: `extract_property` of
the one document) and four sync rules, applied groups first. The host and service rules purge (delete)
what the previous import had and this one has not: Director's purge strategy compares the source's own
import runs, so no object from elsewhere is touched. Group rules never purge (a group may be used by hosts
of other sources).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from vio_checks.icinga import COMMANDS, command_options, option_var
from vio_checks.icinga.generate import default_conf_dir
from vio_checks.icinga.render_icinga2 import COMMAND_PATHS, _help, _options
from vio_checks.options import APPEND, Option

_TEMPLATE = re.compile(r'^template (Host|Service|Dependency) "([^"]+)" \{\n(.*?)\n\}', re.S | re.M)
_DURATION = re.compile(r"^(\d+)([smh])$")
_UNITS = {"s": 1, "m": 60, "h": 3600}
#: Basket section per template type.
_SECTIONS = {"Host": "HostTemplate", "Service": "ServiceTemplate", "Dependency": "Dependency"}
REST_API_SOURCE = "Icinga\\Module\\Director\\Import\\ImportSourceRestApi"
#: Sync rules that delete the objects the export no longer has (VMs and their services deleted in the cloud).
PURGED = frozenset({"host", "service"})
#: Director object type → (import source name, extract_property, key column), in sync order.
IMPORTS = {"hostgroup": ("vio-checks host groups", "hostgroups", "object_name"),
           "servicegroup": ("vio-checks service groups", "servicegroups", "object_name"),
           "host": ("vio-checks hosts", "hosts", "object_name"),
           "service": ("vio-checks services", "services", "key")}
_OBJECT_FIELDS = ("object_name", "display_name", "check_command", "check_interval", "notes_url", "action_url")
SYNC_FIELDS = {"hostgroup": ("object_name", "display_name"),
               "servicegroup": ("object_name", "display_name"),
               "host": (*_OBJECT_FIELDS, "address"),
               "service": ("host", *_OBJECT_FIELDS)}


def _value(text: str) -> Any:
    """A templates.conf value as Director stores it: strings, booleans, numbers and durations (seconds)."""
    if text.startswith('"'):
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    m = _DURATION.match(text)
    if m:
        return str(int(m.group(1)) * _UNITS[m.group(2)])
    if text.isdigit():
        return text
    raise ValueError(f"templates.conf: cannot carry {text!r} into Director")


def parse_templates(text: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The templates of templates.conf as basket sections: HostTemplate / ServiceTemplate / Dependency."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for type_, name, body in _TEMPLATE.findall(text):
        obj: dict[str, Any] = {"object_name": name, "object_type": "template"}
        for raw in body.splitlines():
            line = raw.strip()
            if not line or line.startswith("//"):
                continue
            if line.startswith("import "):
                obj.setdefault("imports", []).append(json.loads(line.removeprefix("import ")))
                continue
            key, _, val = (part.strip() for part in line.partition("="))
            if key.startswith("vars."):
                obj.setdefault("vars", {})[key.removeprefix("vars.")] = _value(val)
            else:
                obj[key] = _value(val)
        out.setdefault(_SECTIONS[type_], {})[name] = obj
    return out


def _argument(var: str, option: Option) -> dict[str, Any]:
    """A Director command argument: the option fed by the custom var (as render_icinga2 writes it)."""
    if not option.takes_value:
        return {"set_if": f"${var}$", "set_if_format": "string", "description": _help(option)}
    arg: dict[str, Any] = {"value": f"${var}$", "description": _help(option)}
    if option.kind == APPEND:
        arg["repeat_key"] = True
    return arg


def commands(paths: str = "pip") -> dict[str, dict[str, dict[str, Any]]]:
    """The CheckCommands (and their shared template) as basket sections, like `vio-icinga commands`."""
    const = COMMAND_PATHS[paths][0]
    options = command_options()
    shared: dict[str, Option] = {}
    for opts in options.values():
        for option in _options(opts):
            if option.common:
                shared.setdefault(option.long, option)
    template = {"object_name": "vio-check-command", "object_type": "template",
                "methods_execute": "PluginCheck", "timeout": "60",
                "arguments": {o.long: _argument(option_var("", o), o) for o in shared.values()}}
    out: dict[str, dict[str, Any]] = {}
    for command in sorted(options):
        own = [o for o in _options(options[command]) if not o.common]
        out[command] = {"object_name": command, "object_type": "object", "methods_execute": "PluginCheck",
                        "imports": ["vio-check-command"], "command": f"{const} + /{COMMANDS[command]}",
                        "arguments": {o.long: _argument(option_var(command, o), o) for o in own}}
    return {"CommandTemplate": {"vio-check-command": template}, "Command": out}


def imports(url: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Import sources (Director's REST API source on `url`) and sync rules for `vio-icinga export --json`."""
    scheme = url.split(":", 1)[0].upper()
    if scheme not in ("HTTP", "HTTPS"):
        raise ValueError(f"--import-url must be http:// or https://, not {url!r}")
    sources: dict[str, dict[str, Any]] = {}
    rules: dict[str, dict[str, Any]] = {}
    for object_type, (source, extract, key) in IMPORTS.items():
        sources[source] = {"source_name": source, "provider_class": REST_API_SOURCE, "key_column": key,
                           "description": f"vio-icinga export --json: {extract}", "modifiers": [],
                           "settings": {"scheme": scheme, "url": url, "extract_property": extract,
                                        "ssl_verify_peer": "y", "ssl_verify_host": "y"}}
        fields = [(f"${{{f}}}", f) for f in SYNC_FIELDS[object_type]]
        if object_type in ("host", "service"):
            fields += [("${template}", "import"), ("${groups}", "groups"), ("${vars}", "vars")]
        purge = {"purge_existing": "y", "purge_action": "delete"} if object_type in PURGED else \
            {"purge_existing": "n"}
        rules[source] = {"rule_name": source, "object_type": object_type, "update_policy": "override",
                         **purge, "description": f"{extract} from {source}",
                         "properties": [{"source": source, "source_expression": expr,
                                         "destination_field": dest, "priority": i, "merge_policy": "override",
                                         "filter_expression": None}
                                        for i, (expr, dest) in enumerate(fields, 1)]}
    return {"ImportSource": sources, "SyncRule": rules}


def basket(templates_conf: str, paths: str = "pip", import_url: str | None = None) -> dict[str, Any]:
    """The whole basket: commands, templates (parsed from templates_conf) and, with a URL, the imports."""
    out: dict[str, Any] = {**commands(paths), **parse_templates(templates_conf)}
    if import_url:
        out.update(imports(import_url))
    return out


def render(templates_conf: str, paths: str = "pip", import_url: str | None = None) -> str:
    """The basket as the JSON `icingacli director basket restore` reads (deterministic)."""
    data = basket(templates_conf, paths, import_url)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run_basket(args: argparse.Namespace) -> int:
    conf_dir = default_conf_dir()
    templates = args.templates or (str(conf_dir / "templates.conf") if conf_dir else None)
    if not templates:
        print("vio-icinga: no shipped icinga/templates.conf found: give it with --templates", file=sys.stderr)
        return 2
    try:
        text = render(Path(templates).read_text(encoding="utf-8"), args.paths, args.import_url)
    except (OSError, ValueError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


def register(subparsers: Any) -> None:
    """Add `director-basket` to vio-icinga's subcommands."""
    p = subparsers.add_parser(
        "director-basket", help="print the CheckCommands and templates as an Icinga Director basket (JSON)",
        description="The CheckCommands and templates as an Icinga Director basket, for `icingacli director "
                    "basket restore`; with --import-url also the import sources and sync rules that read "
                    "`vio-icinga export --json` from that URL. Use it instead of commands.conf and "
                    "templates.conf, never together with them.")
    p.add_argument("--import-url", metavar="URL",
                   help="where Director's REST API import source reads `vio-icinga export --json` from")
    p.add_argument("--paths", choices=tuple(COMMAND_PATHS), default="pip",
                   help="where the commands find check_vio_*: pip (const VioChecksDir, default) or itl "
                        "(PluginDir), as for `vio-icinga commands`")
    p.add_argument("--templates", metavar="FILE",
                   help="the templates.conf to carry over (default: the shipped one, as generate --conf-dir "
                        "finds it)")
    p.set_defaults(func=run_basket, verbose=0)
