"""The packages `make debs` (tools/debs) built for each Debian release, in a clean root of that release.

Reads dist/debs/<suite>/: both suites built with this tree's version and the suite's suffix, depending on
Debian's libraries and installed by piuparts with that release's own, clean for that release's lintian, and
passed by piuparts (install, remove, purge, and the upgrade from v0.1.0's package as released, from releases/).
`.ci/run` runs `make debs` first; without its output the suite skips, and with CI=true it fails instead.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness.needs import binary, not_run

from vio_checks import __version__

pytestmark = pytest.mark.deb

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist" / "debs"
#: Each suite, its Debian release, and the upstream versions of Python and openstacksdk it has.
RELEASES = {"bookworm": ("12", "3.11", "0.101"), "trixie": ("13", "3.13", "4.4")}
LIBRARIES = ("python3-openstacksdk", "python3-keystoneauth1", "python3-nagiosplugin", "python3-diskcache")
OLD = "0.1.0"


def _tools_debs():
    loader = importlib.machinery.SourceFileLoader("tools_debs", str(ROOT / "tools" / "debs"))
    spec = importlib.util.spec_from_loader("tools_debs", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _newer(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


@pytest.fixture(scope="module", params=sorted(RELEASES))
def built(request) -> tuple[str, dict, Path]:
    """(suite, result.json, its directory) of a suite `make debs` built."""
    suite = request.param
    result = DIST / suite / "result.json"
    if not result.is_file() or shutil.which("dpkg-deb") is None:
        not_run("DEBIAN PACKAGES OF EACH RELEASE", f"{result} missing; `make debs` as root (CI: .ci/run)")
    return suite, json.loads(result.read_text()), DIST / suite


def test_make_debs_builds_every_supported_release():
    assert sorted(_tools_debs().SUITES.items()) == sorted((s, r[0]) for s, r in RELEASES.items())


def test_each_release_got_this_version_with_its_own_suffix(built):
    suite, result, out = built
    release = RELEASES[suite][0]
    assert result["steps"] and set(result["steps"].values()) == {"passed"}, result["steps"]
    version = f"{__version__}+deb{release}"
    assert result["version"] == version
    deb = out / result["deb"]
    fields = {f: subprocess.run(["dpkg-deb", "-f", str(deb), f], capture_output=True, text=True,
                                check=True).stdout.strip() for f in ("Package", "Version", "Architecture")}
    assert fields == {"Package": "vio-checks", "Version": version, "Architecture": "all"}
    # the upgrade order: v0.1.0's package < this one, and Debian 12's < Debian 13's (a dist-upgrade replaces it)
    assert _newer(version, result["old_version"]) and result["old_version"] == f"{OLD}+deb{release}"
    if suite == "trixie":
        assert _newer(version, f"{__version__}+deb{RELEASES['bookworm'][0]}")


def test_it_depends_on_debians_libraries_and_runs_with_the_releases_own(built):
    suite, result, out = built
    _, python, openstacksdk = RELEASES[suite]
    depends = subprocess.run(["dpkg-deb", "-f", str(out / result["deb"]), "Depends"], capture_output=True,
                             text=True, check=True).stdout
    declared = dict(re.findall(r"([\w.:+-]+)(?: \(>= ([^)]+)\))?(?:, |\s*$)", depends.strip()))
    assert set(LIBRARIES) | {"python3:any"} <= set(declared), depends
    # what piuparts installed it with: the release's Python and libraries, which satisfy the Depends
    runs_with = result["runs_with"]
    assert set(runs_with) == {"python3", *LIBRARIES}, runs_with
    assert runs_with["python3"].startswith(python + "."), runs_with
    assert runs_with["python3-openstacksdk"].startswith(openstacksdk + "."), runs_with
    for name in LIBRARIES:
        assert not declared[name] or not _newer(declared[name], runs_with[name]), (name, declared, runs_with)


def test_the_releases_lintian_finds_no_error_or_warning(built):
    suite, result, out = built
    report = (out / "lintian.txt").read_text()
    assert f"lintian --fail-on error,warning --display-info {out / result['changes']}" in report
    assert not re.findall(r"^[EW]: .*$", report, re.M), report


def test_the_units_are_where_the_releases_systemd_looks(built):
    suite, result, out = built
    listing = subprocess.run(["dpkg-deb", "-c", str(out / result["deb"])], capture_output=True, text=True,
                             check=True).stdout
    units = re.findall(r" \./(\S*/)vio-icinga\.service$", listing, re.M)
    assert units == (["lib/systemd/system/"] if suite == "bookworm" else ["usr/lib/systemd/system/"]), units


def test_piuparts_installs_removes_purges_and_upgrades_from_0_1_0(built):
    suite, result, out = built
    log = (out / "piuparts.log").read_text()
    for passed in ("PASS: Installation and purging test.", "PASS: Installation, upgrade and purging tests.",
                   "PASS: All tests."):
        assert passed in log, passed
    assert "FAIL" not in log
    assert f"Unpacking vio-checks ({result['version']}) over ({result['old_version']})" in log


def test_each_suite_gets_its_changelog_entry(tmp_path):
    """The suite's entry on top of the release's: a newer version and date, the same maintainer."""
    binary("dpkg-parsechangelog", "dpkg-dev", "DEBIAN PACKAGES OF EACH RELEASE")
    debs = _tools_debs()
    (tmp_path / "debian").mkdir()
    shutil.copy(ROOT / "debian" / "changelog", tmp_path / "debian" / "changelog")
    assert debs.for_suite(tmp_path, "trixie") == f"{__version__}+deb13"

    def field(name: str, *more: str) -> str:
        return subprocess.run(["dpkg-parsechangelog", "-l", str(tmp_path / "debian" / "changelog"), *more,
                               "-S", name], capture_output=True, text=True, check=True).stdout.strip()

    assert (field("Version"), field("Distribution")) == (f"{__version__}+deb13", "trixie")
    assert field("Version", "--offset", "1", "--count", "1") == __version__
    assert int(field("Timestamp")) == int(field("Timestamp", "--offset", "1", "--count", "1")) + 1
    assert field("Maintainer") == field("Maintainer", "--offset", "1", "--count", "1")


def test_build_depends_are_read_from_debian_control():
    names = _tools_debs().build_depends(ROOT / "debian" / "control")
    assert "debhelper" in names and "pybuild-plugin-pyproject" in names and "help2man" in names
    assert not [n for n in names if " " in n or "(" in n or n == "debhelper-compat"], names
