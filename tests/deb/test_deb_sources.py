"""The Debian package's sources (debian/) agree with the code: no test here needs the package built.

The CheckCommands the package ships are rendered by the same code as icinga/commands.conf, with the ITL's
paths (`vio-icinga commands --paths itl`); its version is the code's; its Depends are setup.cfg's lower bounds,
which are Debian 12's versions (tests/deb/test_deb_package.py runs the package with them).
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

from vio_checks import __version__
from vio_checks.icinga import COMMANDS, command_options, render_icinga2, render_nagios

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = ROOT / "debian"
BIN = Path(sys.executable).parent

#: Debian 12's versions of the libraries: the package's Depends and setup.cfg's minimum versions.
DEBIAN_12 = {"nagiosplugin": "1.3.2", "openstacksdk": "0.101", "keystoneauth1": "5.0", "diskcache": "5.4",
             "cryptography": "38.0"}


def test_the_packaged_check_commands_are_generated_from_the_checks():
    """One source: debian/vio.conf is commands.conf with PluginDir for VioChecksDir, nothing else differs."""
    itl = render_icinga2.render_commands(command_options(), "itl")
    assert (DEBIAN / "vio.conf").read_text() == itl, \
        "debian/vio.conf is stale: vio-icinga commands --format icinga2 --paths itl > debian/vio.conf"
    pip = render_icinga2.render_commands(command_options())
    body = [ln for ln in itl.splitlines() if not ln.startswith("//")]
    assert body == [ln.replace("VioChecksDir + ", "PluginDir + ") for ln in pip.splitlines()
                    if not ln.startswith("//")]
    assert "VioChecksDir" not in "\n".join(body)
    assert len(re.findall(r'command = \[ PluginDir \+ "/check_vio_\w+" \]', itl)) == len(COMMANDS)


def test_vio_icinga_commands_prints_the_packaged_files():
    """The regeneration commands the files name really give them."""
    for fmt, name in (("icinga2", "vio.conf"), ("nagios", "vio-checks.cfg")):
        p = subprocess.run([str(BIN / "vio-icinga"), "commands", "--format", fmt, "--paths", "itl"],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0 and p.stdout == (DEBIAN / name).read_text(), p.stderr


def test_the_packaged_nagios_commands_are_generated_from_the_checks():
    itl = render_nagios.render_commands(COMMANDS, "itl")
    assert (DEBIAN / "vio-checks.cfg").read_text() == itl, \
        "debian/vio-checks.cfg is stale: vio-icinga commands --format nagios --paths itl > debian/vio-checks.cfg"
    lines = [ln for ln in itl.splitlines() if "command_line" in ln and "check_vio_" in ln]
    assert len(lines) == len(COMMANDS) and all("$USER1$/check_vio_" in ln for ln in lines)
    assert "$USER5$" not in itl


def test_the_package_version_is_the_code_version():
    first = (DEBIAN / "changelog").read_text().splitlines()[0]
    m = re.match(r"vio-checks \(([^)]+)\) ", first)
    assert m and m.group(1) == __version__, f"debian/changelog says {first!r}, vio_checks says {__version__}"
    assert (DEBIAN / "source" / "format").read_text().strip() == "3.0 (native)"


def _depends() -> dict[str, str]:
    control = (DEBIAN / "control").read_text()
    depends = re.search(r"^Depends:(.*?)(?=^\S)", control, re.S | re.M)
    assert depends
    return dict(re.findall(r"python3-([a-z0-9]+) \(>= ([\d.]+)\)", depends.group(1)))


def test_setup_cfg_minimum_versions_are_the_packages_depends():
    """The minimum versions setup.cfg states are the ones the deb suite tests: Debian 12's."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    requires = dict(re.findall(r"^\s*([a-z0-9]+)>=([\d.]+)\s*$", cfg["options"]["install_requires"], re.M))
    assert requires == DEBIAN_12
    assert _depends() == DEBIAN_12


def test_rules_build_with_pybuild_and_leave_the_simulator_out():
    rules = (DEBIAN / "rules").read_text()
    assert "dh $@ --with python3 --buildsystem=pybuild" in rules
    assert "debhelper-compat (= 13)" in (DEBIAN / "control").read_text()
    code = "\n".join(ln for ln in rules.splitlines() if not ln.lstrip().startswith("#"))
    assert "vio-sim" not in code and "vio_sim" not in code
    # the plugins are checks/' launchers (one UNKNOWN line when a library is missing): one per check
    assert {p.name for p in (ROOT / "checks").glob("check_vio_*")} == set(COMMANDS.values())
    tmpfiles = (DEBIAN / "vio-checks.tmpfiles").read_text()
    assert re.search(r"^d /var/cache/vio-checks 0700 nagios nagios -$", tmpfiles, re.M)
