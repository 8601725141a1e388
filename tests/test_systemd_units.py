"""The shipped systemd units: `vio-icinga systemd-units` writes them with this installation's paths (no
hard-coded /usr/local/bin), and systemd itself accepts them (`systemd-analyze verify`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness import needs

BIN = Path(sys.executable).parent
TEMPLATES = Path(__file__).resolve().parent.parent / "icinga" / "systemd"


def test_units_are_written_for_this_installation(tmp_path):
    p = subprocess.run([str(BIN / "vio-icinga"), "systemd-units", "--output", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    units = sorted(tmp_path.iterdir())
    assert {u.name for u in units} == {t.name for t in TEMPLATES.iterdir()} >= {
        "vio-discover.service", "vio-discover.timer", "vio-icinga.service", "vio-icinga.timer",
        "vio-icinga-push.service"}
    for unit in units:
        text = unit.read_text()
        assert "@BINDIR@" not in text and "/usr/local/bin" not in text and "/usr/bin/env" not in text, unit
        assert oct(unit.stat().st_mode & 0o777) == "0o644"
        for line in re.findall(r"^ExecStart=(.*)$", text, re.M):
            exe = line.split()[0]
            assert exe.startswith(str(BIN)) and os.access(exe, os.X_OK), (unit.name, line)
    needs.binary("systemd-analyze", "systemd", "SYSTEMD UNIT")
    # --man=no: the man pages the units name come with the Debian package (the deb suite checks them), and
    # whether it is installed here depends on which suites ran before
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True,
                       text=True, timeout=120)
    # verify reports problems of our units as "<unit>:<line>: ..." (system-wide noise names other files)
    ours = [line for line in p.stderr.splitlines() if any(u.name in line for u in units)]
    assert p.returncode == 0 and not ours, p.stderr


def test_units_to_stdout_and_errors_are_one_line(tmp_path):
    p = subprocess.run([str(BIN / "vio-icinga"), "systemd-units"], capture_output=True, text=True)
    assert p.returncode == 0 and "# --- vio-discover.timer" in p.stdout
    p = subprocess.run([str(BIN / "vio-icinga"), "systemd-units", "--bindir", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1 and "give --bindir" in p.stderr


def test_every_unit_a_user_enables_can_be_enabled_and_every_service_documents_itself():
    """`systemctl enable --now X` (each unit's own install line) needs an [Install] section in X, or systemctl
    refuses; and each service names its manual (Debian 13's lintian asks for Documentation=)."""
    for unit in sorted(TEMPLATES.iterdir()):
        text = unit.read_text()
        for enabled in re.findall(r"systemctl enable (?:--now )?(\S+?\.(?:service|timer))\b", text):
            installed = (TEMPLATES / enabled).read_text()
            assert re.search(r"^\[Install\]\n(?:.*\n)*?WantedBy=\S+", installed, re.M), \
                f"{unit.name} says `systemctl enable {enabled}`, which has no [Install] WantedBy="
        if unit.suffix == ".service":
            assert re.search(r"^Documentation=man:vio-(icinga|discover)\(1\)", text, re.M), unit.name
