"""The check executables' wiring (nagiosplugin), one module per check."""

from __future__ import annotations

import importlib


def spec_of(module: str):
    """The CheckSpec of check module `module` (e.g. "vm"); a spec with only the shared options when that
    check is missing, so the CheckCommands of the others can still be rendered."""
    from vio_checks.checks.base import CheckSpec  # late: only callers that render or judge need nagiosplugin

    try:
        return importlib.import_module(f"vio_checks.checks.{module}").SPEC
    except (ImportError, AttributeError):
        return CheckSpec(name=module, description="", evaluate=lambda a, s, n: None)
