"""The installed Debian package: its files where Debian's Icinga 2 and Nagios look, its checks run by the
system Python with Debian 12's libraries, and Icinga 2 end-to-end scenario 2 run by the package alone.

`.ci/run` builds the package (`make deb`) and runs this as root: the session fixture installs
dist/vio-checks_<version>_all.deb with `apt-get install --reinstall`. Without the package (not built, not
root, not installed) the suite skips, and with CI=true it fails instead. The simulator comes from the
repo's venv (it is not in the package); every command under test is the package's.
"""

from __future__ import annotations

import copy
import gzip
import os
import pwd
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import CloudEnv, Run, assert_same_verdict
from harness.needs import IN_CI, not_run
from icinga_e2e import (
    E2E_SCENARIO,
    ICINGA2,
    PREFIX,
    Icinga2,
    make_pki,
    require,
    running,
    state_defines,
    user_defines,
)
from icinga_helpers import icinga_objects

from vio_checks import __version__
from vio_checks.icinga import COMMANDS, command_options, render_icinga2, render_nagios
from vio_sim import Simulator

pytestmark = pytest.mark.deb

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / "dist" / f"vio-checks_{__version__}_all.deb"
SYSTEM_PYTHON = "/usr/bin/python3"
PLUGINS = Path("/usr/lib/nagios/plugins")
CHECKS = sorted(COMMANDS.values())
TOOLS = ("vio-discover", "vio-icinga")
CONTRIB = Path("/usr/share/icinga2/include/plugins-contrib.d/vio.conf")
NAGIOS_CFG = Path("/etc/nagios-plugins/config/vio-checks.cfg")
#: systemd's unit directory: /usr/lib on Debian 13 (merged /usr), /lib on Debian 12.
UNITS_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
SHARE = Path("/usr/share/vio-checks/icinga")
CACHE = Path("/var/cache/vio-checks")
#: Debian 12's packages of the libraries, and the module each provides.
LIBRARIES = {"python3-nagiosplugin": "nagiosplugin", "python3-diskcache": "diskcache",
             "python3-openstacksdk": "openstack", "python3-keystoneauth1": "keystoneauth1"}


def _not_there(message: str) -> None:
    not_run("DEBIAN PACKAGE", f"{message}; `make deb` then run as root (CI: .ci/run)")


def _installed_version() -> str | None:
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Status}|${Version}", "vio-checks"], capture_output=True,
                       text=True)
    status, _, version = p.stdout.partition("|")
    return version if p.returncode == 0 and status == "install ok installed" else None


@pytest.fixture(scope="session")
def package() -> list[str]:
    """The package installed from dist/ (as root; else an installed one is used): the files it owns."""
    if shutil.which("dpkg-query") is None:
        _not_there("not a Debian system (no dpkg-query)")
    if DEB.is_file() and os.geteuid() == 0:
        p = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "--reinstall",
                            f"./{DEB.relative_to(ROOT)}"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=900)
        assert p.returncode == 0, f"apt-get install {DEB.name} failed:\n{p.stdout}{p.stderr}"
    elif IN_CI:
        _not_there(f"{DEB} missing" if not DEB.is_file() else "not root: cannot install the package")
    version = _installed_version()
    if version is None:
        _not_there(f"vio-checks is not installed ({DEB.name} {'found' if DEB.is_file() else 'not built'})")
    assert version == __version__, f"installed vio-checks {version} is not this tree's {__version__}"
    p = subprocess.run(["dpkg", "-L", "vio-checks"], capture_output=True, text=True, check=True)
    return p.stdout.splitlines()


def _units_dir(owned: list[str]) -> Path:
    """Where the package put its units (one of UNITS_DIRS: the release's debhelper decides)."""
    dirs = [d for d in UNITS_DIRS if str(d / "vio-icinga.service") in owned]
    assert len(dirs) == 1, f"vio-icinga.service is in {dirs or 'none'} of {UNITS_DIRS}"
    return dirs[0]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without anything that would point the system Python at the venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not k.startswith("OS_")}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    env.update(extra or {})
    return env


# --- the files ------------------------------------------------------------------------------------------


def test_the_files_are_where_debian_looks(package):
    owned = set(package)
    expected = [*(str(PLUGINS / c) for c in CHECKS), *(f"/usr/bin/{t}" for t in TOOLS), str(CONTRIB),
                str(NAGIOS_CFG), "/usr/lib/tmpfiles.d/vio-checks.conf", str(SHARE / "templates.conf"),
                str(SHARE / "commands.conf"), str(SHARE / "zones.conf.example"),
                str(SHARE / "nagios" / "templates.cfg"), "/usr/share/doc/vio-checks/copyright",
                *(str(_units_dir(package) / u)
                  for u in ("vio-icinga.service", "vio-icinga.timer", "vio-icinga-push.service"))]
    missing = [f for f in expected if f not in owned or not os.path.exists(f)]
    assert missing == [], f"not installed by the package: {missing}"
    for exe in [*(PLUGINS / c for c in CHECKS), *(Path("/usr/bin") / t for t in TOOLS)]:
        assert os.access(exe, os.X_OK), exe
        assert exe.read_text().splitlines()[0] == f"#!{SYSTEM_PYTHON}", exe
    # nothing of the simulator, no check in /usr/bin, nothing in /usr/local
    assert not [f for f in owned if "vio_sim" in f or "vio-sim" in f or f.startswith("/usr/local")]
    assert not [f for f in owned if f.startswith("/usr/bin/check_vio_")]
    assert [f for f in owned if f.endswith("/dist-packages/vio_checks/checks/vm.py")]


def test_the_commands_on_path_have_man_pages(package, tmp_path):
    """help2man's pages: the usage of --help, and the exit status from debian/<command>.h2m. Read from the
    .deb itself: a slim image may exclude /usr/share/man from what dpkg unpacks."""
    if not DEB.is_file():
        _not_there(f"{DEB} missing")
    subprocess.run(["dpkg-deb", "-x", str(DEB), str(tmp_path)], check=True)
    for tool in TOOLS:
        page = f"/usr/share/man/man1/{tool}.1.gz"
        assert page in set(package), page
        text = gzip.decompress((tmp_path / page.lstrip("/")).read_bytes()).decode()
        assert re.search(rf'^\.TH {tool.upper()} "?1"? ', text, re.M), text[:300]
        assert "EXIT STATUS" in text and "usage:" in text, text[:2000]


def test_the_packaged_commands_are_the_generated_ones(package):
    assert CONTRIB.read_text() == render_icinga2.render_commands(command_options(), "itl")
    assert NAGIOS_CFG.read_text() == render_nagios.render_commands(COMMANDS, "itl")
    conffiles = subprocess.run(["dpkg-query", "-W", "-f", "${Conffiles}", "vio-checks"], capture_output=True,
                               text=True).stdout
    assert str(NAGIOS_CFG) in conffiles


def test_the_commands_load_with_everything_debians_icinga2_conf_includes(package, tmp_path):
    """Debian's icinga2.conf includes the whole ITL: vio.conf loads next to it (no name clash, no
    VioChecksDir), and vio_vm runs the packaged check."""
    require(ICINGA2, "icinga2-bin icinga2-common")
    conf = tmp_path / "icinga2.conf"
    conf.write_text("\n".join([
        *(f'const {c} = "{PLUGINS}"' for c in ("PluginDir", "ManubulonPluginDir", "PluginContribDir")),
        'const NodeName = "localhost"', 'const ZoneName = NodeName', 'const TicketSalt = ""',
        *(f"include <{i}>" for i in ("itl", "plugins", "plugins-contrib", "manubulon", "windows-plugins", "nscp")),
        'object CheckCommand "probe" { command = [ "/bin/true" ] }', ""]))
    p = subprocess.run([ICINGA2, "daemon", "-C", "-c", str(conf), *state_defines(tmp_path), *user_defines()],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    objects = icinga_objects(tmp_path / "cache" / "icinga2.debug")
    ours = {name: props for (type_, name), props in objects.items()
            if type_ == "CheckCommand" and name.startswith("vio_")}
    assert sorted(ours) == sorted(COMMANDS)
    assert ours["vio_vm"]["command"] == [str(PLUGINS / "check_vio_vm")]


def test_debians_nagios4_loads_the_commands(package):
    """Debian's nagios.cfg reads /etc/nagios-plugins/config: the stock configuration still validates."""
    if not Path("/etc/nagios4/nagios.cfg").is_file():
        _not_there("nagios4-core is not installed")
    p = subprocess.run(["nagios4", "-v", "/etc/nagios4/nagios.cfg"], capture_output=True, text=True, timeout=120,
                       env=_env())
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_cache_directory_belongs_to_nagios(package):
    assert "d /var/cache/vio-checks 0700 nagios nagios -" in Path("/usr/lib/tmpfiles.d/vio-checks.conf").read_text()
    st = CACHE.stat()
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    assert pwd.getpwuid(st.st_uid).pw_name == "nagios"


def test_the_units_run_the_packaged_commands(package):
    where = _units_dir(package)
    units = sorted(where.glob("vio-*.service")) + sorted(where.glob("vio-*.timer"))
    assert {u.name for u in units} >= {"vio-icinga.service", "vio-icinga.timer", "vio-icinga-push.service",
                                       "vio-discover.service", "vio-discover.timer"}
    for unit in units:
        text = unit.read_text()
        assert "/usr/local" not in text and "@BINDIR@" not in text, f"{unit} still has a placeholder path"
        for line in re.findall(r"^ExecStart\w*=(.*)$", text, re.M):
            exe = line.lstrip("+-@!:").split()[0]
            assert exe.startswith("/") and os.access(exe, os.X_OK), f"{unit}: {line}"
            assert "/usr/bin/env" not in exe, f"{unit}: {line}"
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0 and "vio-" not in p.stderr, p.stderr


# --- the system Python with Debian's libraries ---------------------------------------------------------------


def test_the_system_python_loads_the_package_and_debians_libraries(package):
    code = ("import importlib, vio_checks\nprint('vio_checks', vio_checks.__file__)\n"
            f"for m in {sorted(LIBRARIES.values())!r}:\n"
            "    print(m, importlib.import_module(m).__file__)\n")
    p = subprocess.run([SYSTEM_PYTHON, "-c", code], capture_output=True, text=True, env=_env(), cwd="/")
    assert p.returncode == 0, p.stderr
    where = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    assert all(path.startswith("/usr/lib/python3/dist-packages/") for path in where.values()), where
    depends = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}", "vio-checks"], capture_output=True,
                             text=True).stdout
    declared = {d.split()[0] for d in depends.split(", ")}
    assert set(LIBRARIES) <= declared, depends
    for deb, module in LIBRARIES.items():
        owner = subprocess.run(["dpkg", "-S", where[module]], capture_output=True, text=True)
        assert owner.stdout.startswith(f"{deb}:"), f"{module} comes from {where[module]}, not from {deb}"


class DebCloud(CloudEnv):
    """A CloudEnv whose commands are the package's: checks in /usr/lib/nagios/plugins, tools in /usr/bin."""

    def __init__(self, sim: Simulator, tmp: Path) -> None:
        super().__init__(sim, tmp)
        self.env = _env(self.env)

    def command(self, name: str, *args: str) -> list[str]:
        return [str(PLUGINS / name if name.startswith("check_vio_") else Path("/usr/bin") / name), *map(str, args)]


@pytest.fixture
def deb_cloud(package, tmp_path):
    with Simulator(scenario="demo") as sim:
        # the package's commands, and the venv's (the pinned libraries) with a cache of their own
        yield DebCloud(sim, tmp_path / "deb"), CloudEnv(sim, tmp_path / "venv")


def test_a_sweep_and_every_check_judge_as_with_the_pinned_libraries(deb_cloud):
    """The demo cloud swept by openstacksdk 0.101 / keystoneauth1 5.0 is judged exactly as with the versions
    the rest of the suite pins: same exit code, same status line, for every check."""
    deb, venv = deb_cloud
    swept, pinned = deb.sweep(), venv.sweep()
    assert swept.args[0] == "/usr/bin/vio-discover"
    assert swept.stdout.split('"counts"')[1] == pinned.stdout.split('"counts"')[1], f"{swept}\n{pinned}"
    for check in CHECKS:
        args = ["--cache-only"] if check != "check_vio_discovery" else []
        a, b = deb.run(check, *args), venv.run(check, *args)
        assert a.args[0].startswith(str(PLUGINS))
        assert_same_verdict(check, a, b)
    # generate --validate finds the package's share/vio-checks/icinga and validates with Debian's icinga2
    if os.access(ICINGA2, os.X_OK):
        out = deb.cache_dir.parent / "conf.d"
        out.mkdir()
        r = deb.run("vio-icinga", "generate", "--validate", "--output", str(out))
        assert r.rc == 1 and "wrote" in r.stdout, str(r)
    one = deb.run("check_vio_vm", "--name", "web-01")
    assert (one.rc, one.status.split(" - ")[0]) == (0, "VIO VM OK"), str(one)


def test_the_warm_path_with_diskcache_5_4(deb_cloud):
    """A warm single-object check under the system Python loads no SDK and reads the cache through
    open_for_reading (diskcache internals), not diskcache's ordinary open."""
    from test_warm_path import NOT_ON_THE_WARM_PATH

    deb, _ = deb_cloud
    deb.sweep()
    code = (
        "import atexit, sys\n"
        f"bad = {NOT_ON_THE_WARM_PATH!r}\n"
        "atexit.register(lambda: sys.stderr.write('LOADED:' + str(sorted(m for m in sys.modules "
        "if m in bad or m.split('.')[0] in bad or m.rsplit('.', 1)[0] in bad))))\n"
        "import vio_checks.cache as c\n"
        "real = c.open_for_reading\n"
        "def spy(*a, **k):\n"
        "    r = real(*a, **k)\n"
        "    sys.stderr.write('FAST:%s\\n' % (r is not None))\n"
        "    return r\n"
        "c.open_for_reading = spy\n"
        "sys.argv = ['check_vio_vm', '--name', 'db-01', '--max-age', '1h']\n"
        "from vio_checks.checks.vm import main\n"
        "main()\n"
    )
    p = subprocess.run([SYSTEM_PYTHON, "-c", code], env=deb.env, capture_output=True, text=True, cwd="/")
    assert p.stdout.startswith("VIO VM OK - db-01 is ACTIVE and running"), p.stdout + p.stderr
    assert "LOADED:[]" in p.stderr, p.stderr
    assert "FAST:True" in p.stderr and "FAST:False" not in p.stderr, p.stderr


# --- Icinga 2, scenario 2, with the package's CheckCommands ---------------------------------------------------


class PackagedIcinga2(Icinga2):
    """The e2e Icinga 2, loading the package's CheckCommands through `include <plugins-contrib>` (no
    VioChecksDir) and the package's templates: every check it runs is /usr/lib/nagios/plugins/check_vio_*."""

    def write_config(self) -> Path:
        path = super().write_config()
        conf = path.read_text()
        replace = {
            r'^const VioChecksDir = ".*"$': f'const PluginContribDir = "{PLUGINS}"',
            # as Debian's /etc/icinga2/icinga2.conf has it (plugins-contrib needs <plugins>' templates)
            r'^include ".*/icinga/commands\.conf"$': "include <plugins>\ninclude <plugins-contrib>",
            r'^include ".*/icinga/templates\.conf"$': f'include "{SHARE / "templates.conf"}"',
        }
        for pattern, new in replace.items():
            conf, n = re.subn(pattern, lambda _m, new=new: new, conf, flags=re.M)
            assert n == 1, f"the e2e config changed: {pattern} matched {n} times"
        assert "VioChecksDir" not in conf
        path.write_text(conf)
        return path


@pytest.fixture(scope="module")
def deb_pki(tmp_path_factory):
    require(ICINGA2, "icinga2-bin icinga2-common")
    return make_pki(tmp_path_factory.mktemp("deb-icinga-pki"))


def test_icinga_scenario_2_hypervisor_down_with_the_package(package, deb_pki, tmp_path):
    """tests/test_e2e_icinga.py's scenario 2, every command the package's."""
    import test_e2e_icinga as scenarios

    with Simulator(scenario=copy.deepcopy(E2E_SCENARIO)) as sim:
        cloud = DebCloud(sim, tmp_path / "cloud")
        cloud.sweep()
        icinga = PackagedIcinga2(tmp_path / "icinga2", deb_pki, cloud.env)
        with running(icinga):
            icinga.deploy(cloud, expect_host=PREFIX)
            command = icinga.api("GET", "/v1/objects/checkcommands/vio_vm", timeout=10)["results"][0]["attrs"]
            assert command["command"] == [str(PLUGINS / "check_vio_vm")], command["command"]
            scenarios.test_hypervisor_down_only_its_nova_compute_alerts((cloud, icinga))


def test_a_check_without_its_library_says_so(package, tmp_path):
    """A missing dependency is one UNKNOWN line, not a traceback (the check's own guard, Debian's python)."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "nagiosplugin.py").write_text("raise ImportError('No module named nagiosplugin (shadowed)')\n")
    p = subprocess.run([str(PLUGINS / "check_vio_vm"), "--name", "x"], capture_output=True, text=True,
                       env=_env({"PYTHONPATH": str(shadow)}), cwd="/")
    assert p.returncode == 3 and "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert Run([], p.returncode, p.stdout, p.stderr).status.startswith("VIO VM UNKNOWN"), p.stdout
