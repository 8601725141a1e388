"""Monitoring-system integration: Icinga 2 and Nagios config from the topology, and deployment.

- `objects`: what each node of the tree (vio_checks.topology) is as an Icinga / Nagios object: names from
  ids, vars, groups, URLs, the check and its arguments; `objects.build` is the tree the generator writes.
- `render_icinga2` / `render_nagios`: the objects → config text (each syntax's escaping lives there, once).
- `parsers`: each CheckCommand's argparse parser (arguments, custom vars, judging a node in-process).
- `generate`: options → objects and render options, atomic output, unchanged detection, validation with the
  real binaries.
- `deploy`: the Icinga 2 config packages API client.
- `load`: the options that decide the tree, and loading it (snapshot → staleness note → objects), once.
- `resolve` (names → node), `analysis` (impact and rootcause, pure), `states` (from the inventory or the
  Icinga API): what `vio-icinga impact` / `rootcause` (`impact_cli`) answer with.
- `cli`: `vio-icinga` (generate, deploy, commands; impact and rootcause from `impact_cli`).

This module holds what both syntaxes share: the CheckCommands, the templates per node kind, and the
check attempts and intervals that make parents go HARD before their children.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vio_checks import topology as t

#: CheckCommand name → the executable it runs (installed by pip next to the Python: see README).
COMMANDS: dict[str, str] = {
    "vio_discovery": "check_vio_discovery",
    "vio_inventory": "check_vio_inventory",
    "vio_service": "check_vio_service",
    "vio_hypervisor": "check_vio_hypervisor",
    "vio_vm": "check_vio_vm",
    "vio_volume": "check_vio_volume",
    "vio_interface": "check_vio_interface",
    "vio_router": "check_vio_router",
}

#: Check module (vio_checks.checks.<module>) per CheckCommand, for options and help texts.
COMMAND_MODULES: dict[str, str] = {name: exe.removeprefix("check_vio_") for name, exe in COMMANDS.items()}

#: Options every check takes (cloud, cache, timeout) have one custom var each, shared by all commands, so
#: a host (or a global template) sets them once: vio_<option>. These are the ones the generator sets or
#: the README names. Option → custom var.
COMMON_OPTIONS: dict[str, str] = {
    "--os-cloud": "vio_os_cloud",
    "--os-region-name": "vio_os_region_name",
    "--cache-dir": "vio_cache_dir",
    "--max-age": "vio_max_age",
    "--max-stale": "vio_max_stale",
    "--cache-only": "vio_cache_only",
    "--timeout": "vio_timeout",
}

#: Options never exposed as arguments (help, version, verbosity: a check's output must stay one screen).
HIDDEN_OPTIONS = frozenset({"--help", "--version", "--verbose"})


def common_var(option: str) -> str:
    """The custom var of an option every check shares: --os-cloud → vio_os_cloud."""
    return COMMON_OPTIONS.get(option) or "vio_" + option.lstrip("-").replace("-", "_")


def command_var(command: str, option: str) -> str:
    """The custom var an option of a command reads: vio_vm + --stuck-after → vio_vm_stuck_after."""
    if option in COMMON_OPTIONS:
        return COMMON_OPTIONS[option]
    return f"{command}_{option.lstrip('-').replace('-', '_')}"


#: Template per node kind (the same names in templates.conf and nagios/templates.cfg).
TEMPLATES: dict[str, str] = {
    t.CLOUD: "vio-cloud-host",
    t.HYPERVISOR: "vio-hypervisor-host",
    t.ROUTER: "vio-router-host",
    t.BACKEND: "vio-volume-backend-host",
    t.VM: "vio-vm-host",
    t.AGGREGATE: "vio-cloud-service",
    t.COMPUTE_SERVICE: "vio-cloud-service",
    t.VOLUME_SERVICE: "vio-cloud-service",
    t.L3_AGENT: "vio-cloud-service",
    t.CAPACITY: "vio-capacity-service",
    t.INTERFACE: "vio-interface-service",
    t.VOLUME: "vio-volume-service",
}

#: The check_command a template sets (None: each object sets its own).
TEMPLATE_COMMANDS: dict[str, str | None] = {
    "vio-cloud-host": "vio_discovery",
    "vio-hypervisor-host": "vio_hypervisor",
    "vio-router-host": "vio_router",
    "vio-volume-backend-host": "dummy",
    "vio-vm-host": "vio_vm",
    "vio-cloud-service": None,
    "vio-capacity-service": "vio_hypervisor",
    "vio-interface-service": "vio_interface",
    "vio-volume-service": "vio_volume",
}

#: max_check_attempts per template: every child above each of its parents (explicit and its host), so with
#: the same retry interval everywhere a parent's problem is HARD before its children's.
ATTEMPTS: dict[str, int] = {
    "vio-cloud-host": 2,
    "vio-cloud-service": 3,
    "vio-hypervisor-host": 4,
    "vio-router-host": 4,
    "vio-volume-backend-host": 4,
    "vio-vm-host": 5,
    "vio-capacity-service": 5,
    "vio-interface-service": 6,
    "vio-volume-service": 6,
}

#: (check_interval, retry_interval) in seconds per template. Leaf intervals can be overridden per cloud.
INTERVALS: dict[str, tuple[int, int]] = {
    "vio-cloud-host": (60, 30),
    "vio-cloud-service": (60, 30),
    "vio-hypervisor-host": (120, 30),
    "vio-router-host": (120, 30),
    "vio-volume-backend-host": (300, 30),
    "vio-vm-host": (300, 30),
    "vio-capacity-service": (300, 30),
    "vio-interface-service": (300, 30),
    "vio-volume-service": (300, 30),
}

#: `--*-interval` options of the generator → the node kinds they set.
LEAF_INTERVALS = {"vm": (t.VM,), "interface": (t.INTERFACE,), "volume": (t.VOLUME,)}

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int]:
    """`2.13`, `2.14.2`, `r2.13.6-1`, `v2.14.2-12-gabc` → (major, minor, patch). Raises ValueError."""
    m = _VERSION.search(str(text))
    if not m:
        raise ValueError(f"not an Icinga version: {text!r} (use e.g. 2.13 or 2.14)")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def supports_redundancy_group(version: tuple[int, int, int]) -> bool:
    """Dependency.redundancy_group exists from Icinga 2.14 on."""
    return version >= (2, 14, 0)


@dataclass
class RenderOptions:
    """How a topology becomes config text (the target, not the content)."""

    icinga_version: tuple[int, int, int] = (2, 13, 0)
    zone: str | None = None
    #: Custom vars set on every host, e.g. vio_os_cloud / vio_os_region_name for the checks' options.
    host_vars: dict[str, str] = field(default_factory=dict)
    #: node kind → check_interval in seconds (overrides the template's).
    intervals: dict[str, int] = field(default_factory=dict)
