"""The shipped templates agree with vio_checks.icinga.settings (parsed, not grepped), and the launchers in
checks/ run from a source checkout with no vio_checks installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from icinga_helpers import ICINGA_DIR, REPO, small_inventory

from vio_checks import __version__
from vio_checks.icinga import COMMANDS, render_nagios, settings
from vio_checks.icinga import objects as o
from vio_checks.icinga.settings import BASE_TEMPLATES, NAGIOS_STATE_TEMPLATE, NODE_TEMPLATES, Template

# --- a small parser of the two template files ----------------------------------------------------------

_ICINGA_HEAD = re.compile(r'^template (\w+) "([^"]+)" \{$')
_ICINGA_ATTR = re.compile(r"^([\w.]+) = (.+)$")
_DURATION = re.compile(r"^(\d+)([smh])$")


def _icinga_value(text: str) -> Any:
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    m = _DURATION.match(text)
    if m:
        return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
    return int(text)


def parse_icinga_templates(text: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """`template Type "name" { key = value ... }` blocks → name → (Type, attributes); `import` included."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    current: dict[str, Any] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if current is None:
            m = _ICINGA_HEAD.match(raw)
            if m:
                current = {}
                out[m.group(2)] = (m.group(1), current)
            else:
                assert not line or line.startswith("//"), f"line {number} outside a template: {raw!r}"
            continue
        if raw == "}":
            current = None
        elif line and not line.startswith("//"):
            if line.startswith("import "):
                current["import"] = _icinga_value(line.removeprefix("import "))
                continue
            m = _ICINGA_ATTR.match(line)
            assert m, f"line {number} is not `key = value`: {raw!r}"
            current[m.group(1)] = _icinga_value(m.group(2))
    assert current is None, "unterminated template"
    return out


def parse_nagios_templates(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """`define type { directive value ... }` blocks with a `name` → name → (type, directives)."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    current: dict[str, str] | None = None
    kind = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if current is None:
            m = re.match(r"^define (\w+) \{$", line)
            if m:
                kind, current = m.group(1), {}
            else:
                assert not line, f"line {number} outside a definition: {raw!r}"
            continue
        if line == "}":
            out[current["name"]] = (kind, current)
            current = None
        elif line:
            key, _, value = line.partition(" ")
            assert value.strip(), f"line {number} has no value: {raw!r}"
            current[key] = value.strip()
    assert current is None, "unterminated definition"
    return out


def _resolved(blocks: dict[str, tuple[str, dict]], name: str, parent_key: str) -> dict:
    """A template's attributes with those of the templates it imports / uses (its own win)."""
    _, attrs = blocks[name]
    base = attrs.get(parent_key)
    return {**(_resolved(blocks, base, parent_key) if base else {}), **attrs}


def icinga_differences(text: str) -> list[str]:
    """How templates.conf differs from the settings (empty: it agrees)."""
    blocks = parse_icinga_templates(text)
    problems = []
    expected = (*BASE_TEMPLATES, *NODE_TEMPLATES)
    unknown = {n for n, (ty, _) in blocks.items() if ty in ("Host", "Service")} - {tpl.name for tpl in expected}
    if unknown:
        problems.append(f"templates not in settings: {sorted(unknown)}")
    for tpl in expected:
        if tpl.name not in blocks:
            problems.append(f"{tpl.name} missing")
            continue
        kind, own = blocks[tpl.name]
        attrs = _resolved(blocks, tpl.name, "import")
        got = {"type": kind, "import": own.get("import"), "check_command": attrs.get("check_command"),
               "check_interval": attrs.get("check_interval"), "retry_interval": attrs.get("retry_interval"),
               "max_check_attempts": attrs.get("max_check_attempts")}
        want = {"type": tpl.object_type, "import": tpl.base, "check_command": tpl.check_command,
                "check_interval": tpl.check_interval, "retry_interval": tpl.retry_interval,
                "max_check_attempts": tpl.max_check_attempts}
        problems += [f"{tpl.name}: {k} is {got[k]!r}, settings say {want[k]!r}" for k in want if got[k] != want[k]]
    return problems


def nagios_differences(text: str) -> list[str]:
    """How nagios/templates.cfg differs from the settings (empty: it agrees); intervals in minutes."""
    blocks = parse_nagios_templates(text)
    problems = []
    expected: tuple[Template, ...] = (*BASE_TEMPLATES, *NODE_TEMPLATES, NAGIOS_STATE_TEMPLATE)
    unknown = set(blocks) - {tpl.name for tpl in expected}
    if unknown:
        problems.append(f"templates not in settings: {sorted(unknown)}")
    for tpl in expected:
        if tpl.name not in blocks:
            problems.append(f"{tpl.name} missing")
            continue
        kind, own = blocks[tpl.name]
        attrs = _resolved(blocks, tpl.name, "use")
        got = {"type": kind, "use": own.get("use"), "register": own.get("register"),
               "check_command": attrs.get("check_command"),
               "check_interval": float(attrs.get("check_interval", "nan")),
               "retry_interval": float(attrs.get("retry_interval", "nan")),
               "max_check_attempts": int(attrs.get("max_check_attempts", -1))}
        want = {"type": tpl.object_type.lower(), "use": tpl.base, "register": "0", "check_command": None,
                "check_interval": tpl.check_interval / 60, "retry_interval": tpl.retry_interval / 60,
                "max_check_attempts": tpl.max_check_attempts}
        problems += [f"{tpl.name}: {k} is {got[k]!r}, settings say {want[k]!r}" for k in want if got[k] != want[k]]
    return problems


def test_templates_conf_agrees_with_the_settings():
    assert icinga_differences((ICINGA_DIR / "templates.conf").read_text()) == []


def test_nagios_templates_agree_with_the_settings():
    assert nagios_differences((ICINGA_DIR / "nagios" / "templates.cfg").read_text()) == []


def test_the_comparison_sees_a_changed_setting():
    """Not vacuous: an edited attempt, interval or command in either file is reported."""
    conf = (ICINGA_DIR / "templates.conf").read_text()
    vm_block = conf.index('template Host "vio-vm-host"')
    edited = conf[:vm_block] + conf[vm_block:].replace("max_check_attempts = 6", "max_check_attempts = 3", 1)
    assert icinga_differences(edited) == ["vio-vm-host: max_check_attempts is 3, settings say 6"]
    edited = conf.replace('check_command = "vio_volume"', 'check_command = "vio_vm"')
    assert icinga_differences(edited) == ["vio-volume-service: check_command is 'vio_vm', settings say 'vio_volume'"]
    edited = conf.replace("  retry_interval = 30s\n", "  retry_interval = 1m\n", 1)  # vio-host: all hosts inherit
    assert len(icinga_differences(edited)) == 1 + sum(1 for tpl in NODE_TEMPLATES if tpl.object_type == "Host")
    cfg = (ICINGA_DIR / "nagios" / "templates.cfg").read_text()
    cloud = cfg.index("vio-cloud-host")
    edited = cfg[:cloud] + cfg[cloud:].replace("check_interval                  1\n",
                                               "check_interval                  2\n", 1)
    assert nagios_differences(edited) == ["vio-cloud-host: check_interval is 2.0, settings say 1.0"]


def test_settings_tables_are_consistent():
    names = {tpl.name: tpl for tpl in NODE_TEMPLATES}
    assert set(settings.TEMPLATES.values()) == set(names)
    assert set(settings.ATTEMPTS) == set(settings.INTERVALS) == set(settings.TEMPLATE_COMMANDS) == set(names)
    for tpl in NODE_TEMPLATES:
        assert tpl.check_command in (None, "dummy", *COMMANDS), tpl
    assert render_nagios.STATE_TEMPLATE == NAGIOS_STATE_TEMPLATE.name
    router = names["vio-router-host"]  # the state service stands for a router host: the same timing
    assert (NAGIOS_STATE_TEMPLATE.check_interval, NAGIOS_STATE_TEMPLATE.max_check_attempts) == \
        (router.check_interval, router.max_check_attempts)
    for node in o.build(small_inventory()).nodes.values():  # hosts import Host templates, services Service ones
        assert names[settings.TEMPLATES[node.kind]].object_type == ("Host" if node.is_host else "Service"), node.key


# --- the launchers in checks/ ----------------------------------------------------------------------------

CHECKS = sorted(exe.removeprefix("check_vio_") for exe in COMMANDS.values())

#: Runs a launcher as if vio_checks were not installed: the venv's site-packages (with the dependencies)
#: stays on sys.path, but vio_checks is found only outside it. Extra module names to hide: $HIDE_MODULES.
RUNNER = r"""
import atexit, importlib.machinery, os, runpy, sys, sysconfig
site = {os.path.realpath(p) for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}
hidden = set(os.environ.get("HIDE_MODULES", "").split())

class NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if name != "vio_checks":
            return None
        outside = [p for p in sys.path if os.path.realpath(p or ".") not in site]
        spec = importlib.machinery.PathFinder.find_spec(name, outside)
        if spec is None:
            raise ModuleNotFoundError("No module named 'vio_checks'", name=name)
        return spec

sys.meta_path.insert(0, NotInstalled)
atexit.register(lambda: print("FROM", getattr(sys.modules.get("vio_checks"), "__file__", None),
                              file=sys.stderr))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_uninstalled(script: Path, *args: str, cwd: Path, hide: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_", "PYTHON"))}
    env["HIDE_MODULES"] = hide
    return subprocess.run([sys.executable, "-I", "-c", RUNNER, str(script), *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60, stdin=subprocess.DEVNULL)


def test_the_runner_really_hides_the_installed_package(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import nagiosplugin, diskcache\nimport vio_checks\n")
    p = run_uninstalled(probe, cwd=tmp_path)
    assert p.returncode == 1 and "No module named 'vio_checks'" in p.stderr, p.stderr


@pytest.mark.parametrize("check", CHECKS)
def test_launchers_run_from_a_checkout(tmp_path, check):
    launcher = REPO / "checks" / f"check_vio_{check}"
    p = run_uninstalled(launcher, "--version", cwd=tmp_path)
    assert (p.returncode, p.stdout) == (0, f"check_vio_{check} (vio-checks) {__version__}\n"), p.stderr
    assert "Traceback" not in p.stderr
    assert f"FROM {REPO / 'vio_checks' / '__init__.py'}" in p.stderr  # the checkout's package, not site's


def test_a_symlinked_launcher_finds_its_checkout(tmp_path):
    link = tmp_path / "plugins" / "check_vio_vm"
    link.parent.mkdir()
    link.symlink_to(REPO / "checks" / "check_vio_vm")
    p = run_uninstalled(link, "--cache-only", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    assert p.returncode == 3 and p.stdout.startswith("VIO VM UNKNOWN - "), (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and f"FROM {REPO / 'vio_checks'}" in p.stderr
    p = run_uninstalled(link, "--max-age", "soon", cwd=tmp_path)
    assert p.returncode == 3 and p.stdout.startswith("VIO VM UNKNOWN - bad option: "), p.stdout


def test_a_launcher_without_its_dependencies_says_unknown(tmp_path):
    p = run_uninstalled(REPO / "checks" / "check_vio_router", "--version", cwd=tmp_path, hide="nagiosplugin")
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert p.stdout == ("VIO ROUTER UNKNOWN - cannot start: No module named 'nagiosplugin' "
                        "(install vio-checks: pip install .)\n")
    assert "Traceback" not in p.stderr


def test_launchers_are_one_file_with_the_check_name_filled_in():
    template = (REPO / "checks" / "check_vio_vm").read_text()
    assert sorted(p.name for p in (REPO / "checks").iterdir()) == [f"check_vio_{c}" for c in CHECKS]
    for check in CHECKS:
        path = REPO / "checks" / f"check_vio_{check}"
        expected = template.replace("VIO VM", f"VIO {check.upper()}").replace("vm", check)
        assert path.read_text() == expected and os.access(path, os.X_OK), path


def test_the_docs_state_the_notification_delay_of_the_code():
    """The "From a fault to its notification" table (docs/icinga.md) gives settings.notification_delay's values."""
    import re
    from pathlib import Path

    from vio_checks.icinga import settings as s

    text = (Path(__file__).resolve().parent.parent / "docs" / "icinga.md").read_text()
    rows = dict(re.findall(r"^\| [^|]*`(vio-[a-z-]+)`[^|]*\| 120 \+ \d+ \+ \d x 30 = (\d+) s", text, re.M))
    assert rows == {"vio-cloud-host": "210", "vio-cloud-service": "240"}, rows
    for name, seconds in rows.items():
        assert s.notification_delay(name) == int(seconds)
    table = text[text.index("| the fault shows on |"):]
    for name, row in (("vio-hypervisor-host", "a hypervisor or router host"), ("vio-vm-host", "a VM host"),
                      ("vio-interface-service", "an interface or volume service")):
        line = next(line for line in table.splitlines() if line.startswith(f"| {row}"))
        assert f"= {int(s.notification_delay(name))} s" in line, line
