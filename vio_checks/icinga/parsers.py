"""Each CheckCommand's argparse parser, read by the tests of the renderers (the CheckCommand arguments and
the custom vars they read)."""

from __future__ import annotations

import argparse

from vio_checks.checks.base import build_parser
from vio_checks.icinga import COMMAND_MODULES, spec_for


def check_parsers() -> dict[str, argparse.ArgumentParser]:
    """CheckCommand name → the check's argparse parser (raises MissingCheck when a check is missing)."""
    return {command: build_parser(spec_for(command)) for command in COMMAND_MODULES}
