"""One copy of the CheckCommands per node (docs/icinga.md, "One copy of the CheckCommands per node"): the generator
and deploy never write one, and each documented way loads exactly one copy, which the real icinga2
accepts, while loading two is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from icinga_helpers import ICINGA_DIR, small_inventory

from vio_checks.icinga import RenderOptions, render_icinga2, render_nagios
from vio_checks.icinga import objects as o
from vio_checks.icinga.generate import validate_icinga2
from vio_checks.icinga.passive import Passive

REPO = Path(__file__).resolve().parent.parent
needs_icinga2 = pytest.mark.usefixtures("icinga2_binary")


def _generated() -> dict[str, str]:
    topo = o.build(small_inventory())
    return {"active": render_icinga2.render(topo, RenderOptions()),
            "passive": render_icinga2.render(topo, RenderOptions(passive=Passive())),
            "zone": render_icinga2.render_zone(topo, "vio-regionone", "master"),
            "nagios": render_nagios.render(topo, RenderOptions())}


def test_the_generator_never_writes_a_check_command():
    for mode, text in _generated().items():
        assert "CheckCommand" not in text and "define command" not in text, mode


def _conf_dir(tmp_path: Path, commands: Path) -> Path:
    """A shipped-files directory whose commands.conf is the given copy."""
    d = tmp_path / commands.parent.name
    d.mkdir(exist_ok=True)
    shutil.copy(commands, d / "commands.conf")
    shutil.copy(ICINGA_DIR / "templates.conf", d / "templates.conf")
    return d


@needs_icinga2
def test_each_way_loads_one_copy_and_two_are_refused(tmp_path):
    objects = tmp_path / "vio.conf"
    objects.write_text(_generated()["active"])
    pip = validate_icinga2([objects], ICINGA_DIR)  # icinga/commands.conf with VioChecksDir
    assert pip.ok, pip.errors()
    debian = _conf_dir(tmp_path, REPO / "debian" / "vio.conf")  # the package's copy, with PluginDir
    deb = validate_icinga2([objects], debian)
    assert deb.ok, deb.errors()
    both = validate_icinga2([objects], debian, extra=[ICINGA_DIR / "commands.conf"])
    assert not both.ok and "re-defined" in both.errors(), both.errors()
