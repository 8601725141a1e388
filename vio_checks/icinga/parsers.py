"""Each CheckCommand's argparse parser, read by the renderers (the CheckCommand arguments and the custom
vars they read) and by `vio-icinga rootcause` (judging a node as its check would)."""

from __future__ import annotations

import argparse
import importlib

from vio_checks.checks.base import CheckSpec, build_parser
from vio_checks.icinga import COMMAND_MODULES


def check_parsers() -> dict[str, argparse.ArgumentParser]:
    """CheckCommand name → the check's argparse parser (the shared options only when a check is missing)."""
    parsers = {}
    for command, module in COMMAND_MODULES.items():
        try:
            spec = importlib.import_module(f"vio_checks.checks.{module}").SPEC
        except (ImportError, AttributeError):
            spec = CheckSpec(name=module, description="", evaluate=lambda a, s, n: None)
        parsers[command] = build_parser(spec)
    return parsers
