"""Each CheckCommand's argparse parser, read by the renderers (the CheckCommand arguments and the custom
vars they read) and by `vio-icinga rootcause` (judging a node as its check would)."""

from __future__ import annotations

import argparse

from vio_checks.checks import spec_of
from vio_checks.checks.base import build_parser
from vio_checks.icinga import COMMAND_MODULES


def check_parsers() -> dict[str, argparse.ArgumentParser]:
    """CheckCommand name → the check's argparse parser (the shared options only when a check is missing)."""
    return {command: build_parser(spec_of(module)) for command, module in COMMAND_MODULES.items()}
