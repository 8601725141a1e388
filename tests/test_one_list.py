"""One list of checks: vio_checks.checks.CHECKS. Every place that names the checks is driven by it or held
equal to it here, so a check added to CHECKS and forgotten anywhere (or the reverse) fails one test that says
where: the console scripts (setup.cfg), the launchers (checks/), the Icinga CheckCommands (commands.conf, the
Debian package's plugins-contrib copy, the Director basket), the Nagios commands (ours and the package's),
the generated reference (docs/checks.md) and the man pages (debian/*.h2m and debian/rules' help2man list:
the commands on PATH have one; the checks, run by Icinga or Nagios, have --help and docs/checks.md instead).
vio_checks.icinga.COMMANDS (the CheckCommands the renderers write) is built from CHECKS itself."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import pytest

from vio_checks.checks import CHECKS, spec_of
from vio_checks.icinga import COMMAND_MODULES, COMMANDS

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = ROOT / "debian"


def console_scripts() -> dict[str, str]:
    """setup.cfg's console scripts: name → entry point."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    pairs = (line.split("=", 1) for line in cfg["options.entry_points"]["console_scripts"].splitlines()
             if line.strip())
    return {name.strip(): target.strip() for name, target in pairs}


def _checks_named(names) -> list[str]:
    return sorted(n.removeprefix("check_vio_") for n in names if n.startswith("check_vio_"))


def _icinga_commands(path: Path) -> list[str]:
    return sorted(re.findall(r'^object CheckCommand "vio_(\w+)"', path.read_text(), re.M))


def _nagios_commands(path: Path) -> list[str]:
    return sorted(re.findall(r"^\s*command_line\s+\S*/check_vio_(\w+) ", path.read_text(), re.M))


#: Each place that names the checks → the checks it names.
PLACES = {
    "setup.cfg console_scripts": lambda: _checks_named(console_scripts()),
    "setup.cfg entry points (vio_checks.checks.<check>:main)": lambda: sorted(
        m.group(1) for t in console_scripts().values() if (m := re.fullmatch(r"vio_checks\.checks\.(\w+):main", t))),
    "launchers in checks/": lambda: _checks_named(p.name for p in (ROOT / "checks").iterdir()),
    "icinga/commands.conf": lambda: _icinga_commands(ROOT / "icinga" / "commands.conf"),
    "debian/vio.conf (plugins-contrib)": lambda: _icinga_commands(DEBIAN / "vio.conf"),
    "icinga/director/vio-basket.json": lambda: sorted(
        c.removeprefix("vio_") for c in json.loads((ROOT / "icinga/director/vio-basket.json").read_text())["Command"]),
    "icinga/nagios/commands.cfg": lambda: _nagios_commands(ROOT / "icinga" / "nagios" / "commands.cfg"),
    "debian/vio-checks.cfg": lambda: _nagios_commands(DEBIAN / "vio-checks.cfg"),
    "docs/checks.md (make docs)": lambda: sorted(
        re.findall(r"^## check_vio_(\w+)$", (ROOT / "docs" / "checks.md").read_text(), re.M)),
    "docs/operations.md's commands on PATH (make docs)": lambda: sorted(
        re.findall(r"\[`check_vio_(\w+)`\]", (ROOT / "docs" / "operations.md").read_text().split(
            "<!-- list of checks: make docs -->")[1].split("<!-- end of list of checks -->")[0])),
    "vio_checks.icinga.COMMANDS": lambda: _checks_named(COMMANDS.values()),
    "vio_checks.icinga.COMMAND_MODULES": lambda: sorted(COMMAND_MODULES.values()),
}


@pytest.mark.parametrize("place", PLACES)
def test_every_place_names_the_checks_of_the_registry(place):
    assert PLACES[place]() == sorted(CHECKS), f"{place} disagrees with vio_checks.checks.CHECKS"


def test_every_check_of_the_registry_has_its_module_and_spec():
    assert len(set(CHECKS)) == len(CHECKS)
    for name in CHECKS:
        assert spec_of(name).name == name


def test_the_man_pages_are_the_commands_on_path():
    """debian/rules runs help2man for each command on PATH (the console scripts that are no check), each with
    its debian/<command>.h2m; the checks have none (their --help and docs/checks.md are their manual)."""
    on_path = sorted(n for n in console_scripts() if not n.startswith("check_vio_"))
    rules = (DEBIAN / "rules").read_text()
    loop = re.search(r"for cmd in ([^;]+); do\s*\\\n[^\n]*help2man", rules)
    assert loop and sorted(loop.group(1).split()) == on_path
    assert sorted(p.stem for p in DEBIAN.glob("*.h2m")) == on_path
