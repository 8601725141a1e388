"""The check executables' wiring (nagiosplugin), one module per check."""

from __future__ import annotations

import importlib

from vio_checks.errors import VioError

#: Every check: module vio_checks.checks.<name>, executable check_vio_<name> (setup.cfg's console_scripts,
#: vio_checks.icinga.COMMANDS: tests hold them equal). A check whose SPEC has `members` judges a set of
#: objects through the one aggregate rule (judge.aggregate); `aggregate_checks()` lists those.
CHECKS: tuple[str, ...] = ("discovery", "inventory", "service", "hypervisor", "vm", "volume", "interface",
                           "router", "esxi", "datastore", "loadbalancer", "image", "stack",
                           "certificate")


def aggregate_checks() -> tuple[str, ...]:
    """The checks with an aggregate mode (their SPEC names the kind of its members)."""
    return tuple(name for name in CHECKS if spec_of(name).members)


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every check imports this package)
if TYPE_CHECKING:
    from vio_checks.checks.base import CheckSpec


class MissingCheck(VioError):
    """A CheckCommand names a check module that is not installed or has no SPEC (a broken install)."""


def spec_of(module: str) -> CheckSpec:
    """The CheckSpec of check module `module` (e.g. "vm"). Raises MissingCheck when that module is missing
    or has no SPEC: a CheckCommand without its check must never be rendered or judged as if it took only
    the shared options."""
    try:
        spec = importlib.import_module(f"vio_checks.checks.{module}").SPEC
    except ImportError as e:
        raise MissingCheck(f"check module vio_checks.checks.{module} cannot be imported: {e}") from None
    except AttributeError:
        raise MissingCheck(f"check module vio_checks.checks.{module} has no SPEC") from None
    return spec
