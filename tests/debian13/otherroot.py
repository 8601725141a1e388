"""The other Debian release in a root: its icinga2, its Python and libraries, and this tree's package built
for it, all run through `tools/debroot` (see that script).

The other release is Debian 13 (trixie) on a Debian 12 machine and Debian 12 (bookworm) on a Debian 13 one;
VIO_OTHER_RELEASE overrides. The base root (the release's icinga2, python3 and the package's dependencies) is
cached in $DEBROOT_CACHE across runs; each test session copies it (under pytest's temporary directory, about
0.3 GB, removed at the end) and installs the package there with dpkg, so the cached root stays pristine.
Commands run with pytest's temporary directory bound at the same path inside: clouds.yaml, the inventory
cache, Icinga's state and certificates are the same files on both sides, and the simulator and Icinga's API
on 127.0.0.1 are reachable both ways (the root shares the host's network).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from conftest import CloudEnv
from icinga_e2e import not_run, require

from vio_checks import __version__
from vio_sim import Simulator

REPO = Path(__file__).resolve().parents[2]
DEBROOT = REPO / "tools" / "debroot"
PLUGINS = "/usr/lib/nagios/plugins"
SHARE = "/usr/share/vio-checks/icinga"
#: Debian release → the release whose root the tests run in, when the host is that release.
OTHER = {"bookworm": "trixie", "trixie": "bookworm"}
#: What each release's root has besides the package's own dependencies (read from the .deb).
RUNTIME = ("icinga2-bin", "icinga2-common", "python3")
#: The package's build dependencies (debian/control), for building it in a root of the release.
BUILD = ("build-essential", "make", "dpkg-dev", "debhelper", "dh-python", "help2man", "pybuild-plugin-pyproject",
         "python3-all", "python3-setuptools", "python3-wheel", "python3-diskcache", "python3-nagiosplugin")
#: What a root's Python and Icinga are on each release (the notes of issue 22).
EXPECTED = {"trixie": {"python": "3.13", "icinga2": "2.14"}, "bookworm": {"python": "3.11", "icinga2": "2.13"}}


def host_release() -> str:
    """This machine's Debian codename (VERSION_CODENAME of /etc/os-release)."""
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r'^VERSION_CODENAME="?([^"\n]*)"?', text, re.M)
    return match.group(1) if match else ""


def other_release() -> str:
    """VIO_OTHER_RELEASE, else the release that is not this machine's (trixie on bookworm, and back)."""
    if os.environ.get("VIO_OTHER_RELEASE"):
        return os.environ["VIO_OTHER_RELEASE"]
    host = host_release()
    if host not in OTHER:
        not_run(f"no other Debian release known for this host ({host or 'not Debian'}); set VIO_OTHER_RELEASE")
    return OTHER[host]


def require_debroot() -> None:
    """mmdebstrap, chroot and mounts: as root, with mmdebstrap installed (fails in CI, skips elsewhere)."""
    require(shutil.which("mmdebstrap") or "/usr/bin/mmdebstrap", "mmdebstrap")
    if os.geteuid() != 0:
        not_run("the debian13 tests build and enter a Debian root: run them as root (CI: .ci/run)")


def debroot(*args: str, timeout: float = 1800) -> str:
    """`tools/debroot ARGS`; its stdout (the root's path for `create`)."""
    p = subprocess.run([str(DEBROOT), *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"tools/debroot {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-4000:]}"
    return p.stdout.strip()


def deb_depends(deb: Path) -> list[str]:
    """The package names in a .deb's Depends (versions, alternatives after the first and :any dropped)."""
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True,
                             check=True).stdout
    return sorted({d.split("|")[0].split()[0].split(":")[0] for d in depends.split(",") if d.strip()})


class OtherRoot:
    """A session's copy of the other release's root, the package installed, and how to run in it."""

    def __init__(self, release: str, path: Path, shared: Path) -> None:
        self.release = release
        self.path = path
        self.shared = shared  # bound at the same path inside: pytest's base temporary directory

    def prefix(self) -> list[str]:
        """The command prefix that runs what follows inside the root."""
        return [str(DEBROOT), "run", "--bind", str(self.shared), str(self.path)]

    def run(self, *cmd: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix(), *cmd], capture_output=True, text=True, timeout=timeout,
                              env=env, stdin=subprocess.DEVNULL)

    def icinga2(self) -> Sequence[str]:
        """The command running the root's icinga2 (for Icinga2(..., icinga2=) and make_pki(..., icinga2=))."""
        return [*self.prefix(), "/usr/sbin/icinga2"]

    def version(self, what: str) -> str:
        """major.minor of the root's python3 or icinga2."""
        if what == "python":
            p = self.run("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
            return p.stdout.strip()
        p = self.run("/usr/sbin/icinga2", "--version")
        match = re.search(r"version: r?(\d+\.\d+)", p.stdout)
        assert match, p.stdout + p.stderr
        return match.group(1)


def find_deb(release: str, work: Path) -> Path:
    """This tree's package built for `release`: $VIO_DEB_<RELEASE>, else dist/debs/<release>/ (`make debs`),
    else built here with `make deb` in a clean root of that release (the same tooling, slower)."""
    from_env = os.environ.get(f"VIO_DEB_{release.upper()}")
    if from_env:
        assert Path(from_env).is_file(), f"VIO_DEB_{release.upper()}={from_env} is not a file"
        return Path(from_env)
    built = sorted((REPO / "dist" / "debs" / release).glob(f"vio-checks_{__version__}+deb*_all.deb"))
    if built:
        return built[-1]
    return build_deb(release, work)


def build_deb(release: str, work: Path) -> Path:
    """`make deb` in a root of `release` (its debhelper, dh-python, Python), on a copy of this tree."""
    root = debroot("create", release, "--include", ",".join(BUILD))
    src = work / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    subprocess.run(f"tar -c --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist "
                   f"--exclude=__pycache__ --exclude='*.egg-info' --exclude=.pytest_cache --exclude=.ruff_cache "
                   f"-f - . | tar -x -C {src}", shell=True, cwd=REPO, check=True)
    p = subprocess.run([str(DEBROOT), "run", "--overlay", str(work / "build-overlay"), "--bind", str(src),
                        "--cwd", str(src), root, "make", "deb"], capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, f"make deb in a {release} root failed:\n{p.stdout[-3000:]}{p.stderr[-3000:]}"
    built = src / "dist" / f"vio-checks_{__version__}_all.deb"
    assert built.is_file(), p.stdout[-3000:]
    deb = work / built.name
    shutil.copy(built, deb)
    shutil.rmtree(src)
    shutil.rmtree(work / "build-overlay")
    return deb


def make_other_root(shared: Path) -> OtherRoot:
    """The session's root: the cached base root of the other release copied, the package installed in it."""
    require_debroot()
    release = other_release()
    work = shared / f"debroot-{release}"
    work.mkdir(parents=True, exist_ok=True)
    deb = find_deb(release, work)
    base = debroot("create", release, "--include", ",".join(sorted({*RUNTIME, *deb_depends(deb)})))
    copy = work / "root"
    subprocess.run(["cp", "-a", base, str(copy)], check=True)
    if deb.parent != work:
        shutil.copy(deb, work / deb.name)
    root = OtherRoot(release, copy, shared)
    p = root.run("dpkg", "-i", str(work / deb.name))
    assert p.returncode == 0, f"dpkg -i {deb.name} in the {release} root failed:\n{p.stdout}{p.stderr}"
    return root


class RootCloud(CloudEnv):
    """A CloudEnv whose commands are the package's inside the other release's root: the checks from
    /usr/lib/nagios/plugins, vio-discover and vio-icinga from /usr/bin, all run by that release's Python."""

    def __init__(self, sim: Simulator, tmp: Path, root: OtherRoot) -> None:
        super().__init__(sim, tmp)
        self.root = root

    def command(self, name: str, *args: str) -> list[str]:
        exe = f"{PLUGINS}/{name}" if name.startswith("check_vio_") else f"/usr/bin/{name}"
        return [*self.root.prefix(), exe, *map(str, args)]
