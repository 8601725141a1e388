"""Monitoring-system integration: Icinga 2 and Nagios config from the topology, and deployment.

- `objects`: what each node of the tree (vio_checks.topology) is as an Icinga / Nagios object: names from
  ids, vars, groups, URLs, the check and its arguments; `objects.build` is the tree the generator writes.
- `render_icinga2` / `render_nagios`: the objects → config text (each syntax's escaping lives there, once).
- `parsers`: each CheckCommand's argparse parser (the arguments and custom vars the renderers write).
- `generate`: options → objects and render options, atomic output, unchanged detection, validation with the
  real binaries.
- `deploy`: the Icinga 2 config packages API client.
- `load`: the options that decide the tree, and loading it (snapshot → staleness note → objects), once.
- `resolve` (names → node), `analysis` (impact and rootcause, pure), `states` (from the inventory or the
  Icinga API): what `vio-icinga impact` / `rootcause` (`impact_cli`) answer with.
- `cli`: `vio-icinga` (generate, deploy, commands; impact and rootcause from `impact_cli`).

This module holds what both syntaxes share: the CheckCommands and the custom vars of their options (from
the checks' `Option` lists). The templates per node kind, and the check attempts and intervals that make
parents go HARD before their children, live in `settings` (re-exported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vio_checks.checks import CHECKS
from vio_checks.icinga.passive import Passive
from vio_checks.icinga.settings import (  # noqa: F401  (re-exported: the settings' public names)
    ATTEMPTS,
    INTERVALS,
    LEAF_INTERVALS,
    TEMPLATE_COMMANDS,
    TEMPLATES,
)
from vio_checks.options import CHECK_OPTIONS, Option

#: CheckCommand name → the executable it runs (installed by pip next to the Python: see README): one per
#: check of vio_checks.checks.CHECKS, the one list of checks.
COMMANDS: dict[str, str] = {f"vio_{check}": f"check_vio_{check}" for check in CHECKS}

#: Check module (vio_checks.checks.<module>) per CheckCommand, for options and help texts.
COMMAND_MODULES: dict[str, str] = {name: exe.removeprefix("check_vio_") for name, exe in COMMANDS.items()}


#: The CheckCommand of the container hosts (Icinga's ITL `dummy`): no check of ours, state 0 and its --text.
DUMMY = "dummy"


def spec_for(command: str):
    """The CheckSpec a CheckCommand runs. Raises vio_checks.checks.MissingCheck for a command that names no
    check of ours (the container hosts' DUMMY included) or whose check module is missing: the one lookup
    the renderers, push and rootcause share, and it never falls back."""
    from vio_checks.checks import MissingCheck, spec_of  # late: the checks import nagiosplugin

    module = COMMAND_MODULES.get(command)
    if module is None:
        raise MissingCheck(f"CheckCommand {command!r} runs no check of vio-checks")
    return spec_of(module)


def common_var(option: str) -> str:
    """The custom var of an option every check shares: --os-cloud → vio_os_cloud."""
    return "vio_" + option.lstrip("-").replace("-", "_")


#: Options every check takes (cloud, cache, timeout: `Option.common`) have one custom var each, shared by
#: all commands, so a host (or a global template) sets them once: vio_<option>. Option → custom var.
COMMON_OPTIONS: dict[str, str] = {o.long: common_var(o.long) for o in CHECK_OPTIONS if o.common and o.exposed}


def command_var(command: str, option: str) -> str:
    """The custom var an option of a command reads: vio_vm + --stuck-after → vio_vm_stuck_after."""
    if option in COMMON_OPTIONS:
        return COMMON_OPTIONS[option]
    return f"{command}_{option.lstrip('-').replace('-', '_')}"


def option_var(command: str, option: Option) -> str:
    """The custom var a CheckCommand passes to an option (shared for the common ones)."""
    return common_var(option.long) if option.common else command_var(command, option.long)


def command_options() -> dict[str, tuple[Option, ...]]:
    """CheckCommand name → every option of its check. Raises MissingCheck when a check module is missing:
    a CheckCommand rendered with only the shared options would call its check without its arguments."""
    from vio_checks.checks.base import check_options  # late: the checks import nagiosplugin

    return {command: check_options(spec_for(command)) for command in COMMAND_MODULES}


_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int]:
    """`2.13`, `2.14.2`, `r2.13.6-1`, `v2.14.2-12-gabc` → (major, minor, patch). Raises ValueError."""
    m = _VERSION.search(str(text))
    if not m:
        raise ValueError(f"not an Icinga version: {text!r} (use e.g. 2.13 or 2.14)")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


@dataclass
class RenderOptions:
    """How a topology becomes config text (the target, not the content). No Icinga version: the text is
    the same for every version (one parent per child, no version dialect)."""

    zone: str | None = None
    #: The custom vars of the checks' shared options (cloud, region, cache) the generator was given: set
    #: on every object, host and service, so no check takes a setting from another object.
    shared_vars: dict[str, str | bool] = field(default_factory=dict)
    #: node kind → check_interval in seconds (overrides the template's).
    intervals: dict[str, int] = field(default_factory=dict)
    #: Passive mode (`--mode passive`): results come from `vio-icinga push`; None: checks run actively.
    passive: Passive | None = None
