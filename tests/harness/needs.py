"""The one rule for a test that needs what a machine may lack (a binary, a package, a built artefact):
a failure under CI=true, where .ci/run installs everything, and a loud skip elsewhere.

pytest is imported when a test is refused, not at import: bench/ imports the harnesses without it.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import NoReturn

IN_CI = os.environ.get("CI", "").lower() == "true"
#: Where Debian's daemons live: root's PATH has them, a user's often not.
SBIN = ("/usr/sbin", "/sbin")


def not_run(suite: str, why: str) -> NoReturn:
    """Refuse the test: `SUITE TESTS NOT RUN: why`; a failure under CI=true, a skip (also on stderr) elsewhere."""
    import pytest

    message = f"{suite} TESTS NOT RUN: {why}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    print(f"\n*** {message}", file=sys.stderr)
    pytest.skip(message)


def binary(name: str, packages: str, suite: str = "THESE") -> str:
    """The path of `name` (on PATH, in the sbin directories, or `name` itself when it is a path); refused
    with not_run, naming the Debian packages that provide it, when it is missing."""
    if os.sep in name:
        if os.access(name, os.X_OK):
            return name
    else:
        found = shutil.which(name) or next((f"{d}/{name}" for d in SBIN if os.access(f"{d}/{name}", os.X_OK)),
                                           None)
        if found:
            return found
    not_run(suite, f"{name} is not installed (apt-get install {packages}); CI installs it through .ci/run")


def module(name: str, install: str, suite: str = "THESE") -> None:
    """Refused with not_run when the Python module `name` cannot be imported (`install` says how)."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        not_run(suite, f"the Python module {name} is not installed ({install})")
