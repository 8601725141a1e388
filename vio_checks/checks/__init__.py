"""The check executables' wiring (nagiosplugin), one module per check."""

from __future__ import annotations

import importlib

#: Every check: module vio_checks.checks.<name>, executable check_vio_<name> (setup.cfg's console_scripts,
#: vio_checks.icinga.COMMANDS: tests hold them equal). A check whose SPEC has `members` judges a set of
#: objects through the one aggregate rule (judge.aggregate); `aggregate_checks()` lists those.
CHECKS: tuple[str, ...] = ("discovery", "inventory", "service", "hypervisor", "vm", "volume", "interface",
                           "router", "esxi", "datastore")


def aggregate_checks() -> tuple[str, ...]:
    """The checks with an aggregate mode (their SPEC names the kind of its members)."""
    return tuple(name for name in CHECKS if spec_of(name).members)


def spec_of(module: str):
    """The CheckSpec of check module `module` (e.g. "vm"); a spec with only the shared options when that
    check is missing, so the CheckCommands of the others can still be rendered."""
    from vio_checks.checks.base import CheckSpec  # late: only callers that render or judge need nagiosplugin

    try:
        return importlib.import_module(f"vio_checks.checks.{module}").SPEC
    except (ImportError, AttributeError):
        return CheckSpec(name=module, description="", evaluate=lambda a, s, n: None)
