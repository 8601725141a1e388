"""`vio-icinga generate`: inventory → topology → config text → an atomically replaced file.

Exit codes (documented in docs/operations.md, relied on by cron and the systemd unit):
  0  nothing changed (the file is left untouched), or the config went to stdout (`--output -`)
  1  the file changed (validated first with --validate) — `... || systemctl reload icinga2`
  2  error: one line on stderr; the previous file stays
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vio_checks import topology as t
from vio_checks.fileutil import atomic_write
from vio_checks.icinga import (
    LEAF_INTERVALS,
    RenderOptions,
    common_var,
    parse_version,
    render_icinga2,
    render_nagios,
)
from vio_checks.icinga import objects as o
from vio_checks.icinga.passive import Passive
from vio_checks.options import CLOUD_OPTIONS, add_bounded, cache_options, duration_range

EXIT_UNCHANGED, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2
FORMATS = ("icinga2", "nagios")


class GenerateError(Exception):
    """A one-line message for the user; the previous output stays."""


# --- options → topology and render options ---------------------------------------------------------


def topology_options(args: argparse.Namespace) -> o.Options:
    kinds = frozenset(args.kinds) if getattr(args, "kinds", None) else frozenset(t.SELECTABLE_KINDS)
    unknown = sorted(kinds - set(t.SELECTABLE_KINDS))
    if unknown:
        raise GenerateError(f"unknown --kinds {', '.join(unknown)} (use {', '.join(t.SELECTABLE_KINDS)})")
    return o.Options(
        prefix=getattr(args, "prefix", None),
        include_projects=frozenset(getattr(args, "include_projects", None) or ()),
        exclude_projects=frozenset(getattr(args, "exclude_projects", None) or ()),
        kinds=kinds,
        notes_urls=_url_map(getattr(args, "notes_url", None) or [], "--notes-url"),
        action_urls=_url_map(getattr(args, "action_url", None) or [], "--action-url"),
    )


def add_object_options(group: argparse._ArgumentGroup) -> None:
    """The options render_options() and topology_options() read that generate, deploy and export share:
    the leaf check intervals, --notes-url and --action-url."""
    for key, what in (("vm", "VM hosts"), ("interface", "interface services"), ("volume", "volume services")):
        add_bounded(group, f"--{key}-interval", type=duration_range(1), metavar="DURATION",
                           help=f"check interval of the {what} (default: the template's, 5m)")
    group.add_argument("--notes-url", action="append", metavar="KIND=URL",
                       help="notes_url for objects of KIND (cloud, hypervisor, vm, router, interface, "
                            "volume); URL may hold {id} {name} {project_id} {project} {hypervisor} {cloud} "
                            "{region} (repeatable), e.g. vm=https://horizon.example.com/project/instances/{id}/")
    group.add_argument("--action-url", action="append", metavar="KIND=URL",
                       help="action_url, like --notes-url")


#: What `--notes-url KIND=...` accepts as KIND, → node kinds.
URL_KINDS = {"cloud": t.CLOUD, "hypervisor": t.HYPERVISOR, "vm": t.VM, "router": t.ROUTER,
             "interface": t.INTERFACE, "volume": t.VOLUME, "loadbalancer": t.LOADBALANCER}


def _url_map(items: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        kind, sep, template = item.partition("=")
        if not sep or kind.strip() not in URL_KINDS or not template.strip():
            raise GenerateError(f"{option} {item!r}: use KIND=URL with KIND one of {', '.join(URL_KINDS)}")
        try:
            o.check_url_template(template.strip())
        except ValueError as e:
            raise GenerateError(f"{option}: {e}") from None
        out[URL_KINDS[kind.strip()]] = template.strip()
    return out


def render_options(args: argparse.Namespace) -> RenderOptions:
    """How the objects are written (zone, shared settings, intervals, mode): never an Icinga version, the
    text is the same for every one."""
    shared_vars = settings_vars(args)
    intervals = {}
    for key, kinds in LEAF_INTERVALS.items():
        seconds = getattr(args, f"{key}_interval", None)
        if seconds:
            for kind in kinds:
                intervals[kind] = max(1, int(seconds))
    settings = None
    if getattr(args, "mode", "active") == "passive":
        try:
            settings = Passive(args.push_interval, args.push_ttl)
        except ValueError as e:
            raise GenerateError(f"--push-ttl: {e}") from None
    return RenderOptions(zone=getattr(args, "zone", None), shared_vars=shared_vars,
                         intervals=intervals, passive=settings)


def settings_vars(args: argparse.Namespace) -> dict[str, str | bool]:
    """The checks' shared settings (cloud, region, cache directory, freshness, event log) given to the
    generator, as the custom vars the CheckCommands read: given once, written on every object. A setting
    left at the checks' own default is not written (each check has the same default). The cloud and region
    are the ones the generator used (an option or OS_CLOUD / OS_REGION_NAME: the checks must judge the same
    cloud); a cache setting only when given as an option: the cache directory belongs to the node that runs
    the checks (a satellite's is its own), not to the generator's environment."""
    out: dict[str, str | bool] = {}
    for option in (*CLOUD_OPTIONS, *cache_options()):
        value = getattr(args, option.dest, None)
        unset = option.default if option in CLOUD_OPTIONS else option.current_default()
        if value in (None, "", False) or value == unset:
            continue
        if value is True:
            out[common_var(option.long)] = True
        elif isinstance(value, float):
            out[common_var(option.long)] = f"{value:g}s"
        else:
            out[common_var(option.long)] = str(value)
    return out


def render(topo: o.Objects, fmt: str, opts: RenderOptions) -> str:
    """The config text of the objects in the chosen syntax."""
    return render_icinga2.render(topo, opts) if fmt == "icinga2" else render_nagios.render(topo, opts)


# --- output --------------------------------------------------------------------------------------


def output_path(output: str, fmt: str, prefix: str, zone: str | None) -> Path:
    """A directory → `<dir>/[zones.d/<zone>/]<prefix>.conf` (`.cfg` for Nagios); else the file itself."""
    path = Path(output)
    if path.is_dir() or output.endswith(os.sep):
        if zone:
            path = path / "zones.d" / zone
        return path / f"{prefix}.{'conf' if fmt == 'icinga2' else 'cfg'}"
    return path


def parent_zone(args: argparse.Namespace) -> str | None:
    """The zone that watches `--zone` (`--parent-zone`), or None: no --zone, or --zone is that zone itself
    (objects checked by the parent's own endpoints need no cluster-zone watch)."""
    zone = getattr(args, "zone", None)
    parent = getattr(args, "parent_zone", None) or render_icinga2.PARENT_ZONE
    return parent if zone and zone != parent else None


def zone_parents(zone: str | None, parent: str | None) -> dict[str, str | None]:
    """The Zone objects a validation needs: the zone, below its parent when there is one."""
    if not zone:
        return {}
    return {parent: None, zone: parent} if parent else {zone: None}


def zone_path(output: str, prefix: str, parent: str) -> Path:
    """The parent zone's file of a directory --output: `<dir>/zones.d/<parent>/<prefix>-zone.conf`."""
    return Path(output) / "zones.d" / parent / f"{render_icinga2.zone_host(prefix)}.conf"


def outputs(topo: o.Objects, fmt: str, opts: RenderOptions, output: str,
            parent: str | None) -> list[tuple[Path, str]]:
    """(path, text) of every file to write: the objects, and with a satellite --zone the parent zone's watch
    (`render_icinga2.render_zone`), which needs a directory --output (it goes to another zones.d/ directory).
    For `--output -` the paths are `-` and the texts go to stdout one after the other."""
    files = [(output_path(output, fmt, topo.prefix, opts.zone) if output != "-" else Path("-"),
              render(topo, fmt, opts))]
    if fmt != "icinga2" or not opts.zone or not parent:
        return files
    if output != "-" and not (Path(output).is_dir() or output.endswith(os.sep)):
        raise GenerateError(f"--zone {opts.zone} writes two files (zones.d/{opts.zone}/ and "
                            f"zones.d/{parent}/): --output must be a directory (e.g. /etc/icinga2)")
    zone_file = zone_path(output, topo.prefix, parent) if output != "-" else Path("-")
    return [*files, (zone_file, render_icinga2.render_zone(topo, opts.zone, parent))]


def unchanged(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except FileNotFoundError:
        return False
    except OSError as e:
        raise GenerateError(f"cannot read {path}: {e.strerror or e}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory + fsync + rename; keeps an existing file's mode (else 0644)."""
    try:
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):  # readable by the Icinga user whatever our umask
            directory.mkdir(exist_ok=True)
            os.chmod(directory, 0o755)
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
        atomic_write(path, data, mode)
    except OSError as e:
        raise GenerateError(f"cannot write {path}: {e.strerror or e}") from None


# --- validation with the real binaries -------------------------------------------------------------


@dataclass
class Validation:
    ok: bool
    output: str
    seconds: float

    def errors(self, limit: int = 25) -> str:
        """The relevant part of the validator's output (errors with their location lines)."""
        return relevant_errors(self.output, limit)


def relevant_errors(output: str, limit: int = 25) -> str:
    """Error lines of icinga2 / nagios output, an Icinga error with its `Location:` excerpt."""
    lines = output.splitlines()
    keep: list[str] = []
    for i, line in enumerate(lines):
        low = line.lower()
        if "critical/config" in low or "error:" in low:
            keep += [line] + [x for x in lines[i + 1:i + 6] if not x.startswith("[") and x.strip()]
    seen: set[str] = set()
    unique = [x for x in keep if not (x in seen or seen.add(x))]
    return "\n".join((unique or lines)[-limit:])


def default_conf_dir() -> Path | None:
    """The shipped icinga/ directory: $VIO_ICINGA_CONF_DIR, <prefix>/share/vio-checks/icinga, or the
    source tree's icinga/."""
    candidates = [os.environ.get("VIO_ICINGA_CONF_DIR"), Path(sys.prefix) / "share" / "vio-checks" / "icinga",
                  Path("/usr/local/share/vio-checks/icinga"), Path(__file__).resolve().parents[2] / "icinga"]
    for c in candidates:
        if c and (Path(c) / "commands.conf").is_file():
            return Path(c)
    return None


def _find(binary: str | None, names: tuple[str, ...]) -> str:
    if binary:
        return binary
    for n in names:
        found = shutil.which(n) or (f"/usr/sbin/{n}" if os.access(f"/usr/sbin/{n}", os.X_OK) else None)
        if found:
            return found
    raise GenerateError(f"--validate needs {' or '.join(names)} (not found on PATH or in /usr/sbin)")


_BINARY_VERSION = re.compile(r"\(version:\s*([^)\s]+)")


def requested_version(args: argparse.Namespace) -> tuple[int, int, int] | None:
    """`--icinga-version` parsed, or None when not given. GenerateError for a malformed one."""
    text = getattr(args, "icinga_version", None)
    try:
        return parse_version(text) if text else None
    except ValueError as e:
        raise GenerateError(str(e)) from None


def icinga2_version(binary: str | None, timeout: float = 60) -> tuple[str, tuple[int, int, int]]:
    """(path, version) of the icinga2 binary `--validate` runs, from its own `icinga2 --version`
    (`... (version: r2.13.6-1)`). GenerateError when it cannot be run or does not say."""
    exe = _find(binary, ("icinga2",))
    try:
        p = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GenerateError(f"cannot run {exe} --version: {getattr(e, 'strerror', None) or e}") from None
    m = _BINARY_VERSION.search(p.stdout + p.stderr)
    try:
        return exe, parse_version(m.group(1) if m else p.stdout)
    except ValueError:
        first = (p.stdout + p.stderr).strip().splitlines()[:1]
        raise GenerateError(f"{exe} --version did not say which Icinga version it is: "
                            f"{first[0][:120] if first else 'no output'}") from None


def validation_binary(args: argparse.Namespace) -> tuple[str, tuple[int, int, int]]:
    """The icinga2 `--validate` runs (`--icinga2-bin`, else PATH or /usr/sbin) and its version. An explicit
    `--icinga-version` that names another X.Y is an error: the file would be validated by a version other
    than the one it was asked for."""
    exe, found = icinga2_version(getattr(args, "icinga2_bin", None))
    requested = requested_version(args)
    if requested is not None and requested[:2] != found[:2]:
        raise GenerateError(f"--icinga-version {args.icinga_version} disagrees with {exe}, which --validate "
                            f"runs: it is Icinga {version_text(found)} (drop --icinga-version, or give "
                            "--icinga2-bin of that version)")
    return exe, found


def version_text(version: tuple[int, int, int]) -> str:
    """(2, 13, 6) → `2.13.6`."""
    return ".".join(map(str, version))


def _user_group() -> tuple[str, str]:
    try:
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    except KeyError:
        return str(os.getuid()), str(os.getgid())


def validate_icinga2(files: list[Path], conf_dir: Path,
                     zones: list[str] | dict[str, str | None] | None = None, binary: str | None = None,
                     extra: list[Path] | None = None, keep: Path | None = None,
                     timeout: float = 300) -> Validation:
    """`icinga2 daemon -C` on a throw-away tree: ITL + plugins, our commands.conf and templates.conf, a Zone
    object per zone named (a dict: zone → its parent zone or None), any `extra` files, and `files`. Stock
    paths are redirected into the tree (into
    `keep` when given, which then holds the objects file for `icinga2 object list` afterwards)."""
    exe = _find(binary, ("icinga2",))
    with tempfile.TemporaryDirectory(prefix="vio-icinga-validate-") as tmp:
        root = Path(keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        lines = ["include <itl>", "include <plugins>", 'const PluginDir = "/usr/lib/nagios/plugins"',
                 'const VioChecksDir = "/usr/local/bin"']
        for f in (conf_dir / "commands.conf", conf_dir / "templates.conf", *(extra or [])):
            lines.append(f"include {render_icinga2.string(str(f), macros=False)}")
        parents = zones if isinstance(zones, dict) else dict.fromkeys(zones or [])
        for zone, parent in parents.items():
            body = f" parent = {render_icinga2.string(parent, macros=False)} " if parent else " "
            lines.append(f"object Zone {render_icinga2.string(zone, macros=False)} {{{body}}}")
        for f in files:
            lines.append(f"include {render_icinga2.string(str(f), macros=False)}")
        main = root / "icinga2.conf"
        main.write_text("\n".join(lines) + "\n")
        defines = []
        for const, sub in (("DataDir", "data"), ("CacheDir", "cache"), ("LogDir", "log"),
                           ("InitRunDir", "run"), ("SpoolDir", "spool")):
            (root / sub).mkdir(exist_ok=True)
            defines.append(f"-D{const}={root / sub}")
        user, group = _user_group()
        cmd = [exe, "daemon", "-C", "-c", str(main), *defines, f"-DRunAsUser={user}", f"-DRunAsGroup={group}"]
        return _run(cmd, timeout)


def validate_nagios(files: list[Path], conf_dir: Path, binary: str | None = None,
                    timeout: float = 300) -> Validation:
    """`nagios4 -v` with a minimal nagios.cfg: our icinga/nagios/ directory and `files`, state in tmp."""
    exe = _find(binary, ("nagios4", "nagios"))
    with tempfile.TemporaryDirectory(prefix="vio-nagios-validate-") as tmp:
        root = Path(tmp)
        (root / "spool").mkdir()
        user, group = _user_group()
        cfg = [f"cfg_dir={conf_dir / 'nagios'}", *(f"cfg_file={f}" for f in files),
               f"check_result_path={root / 'spool'}", f"lock_file={root / 'nagios.lock'}",
               f"temp_file={root / 'nagios.tmp'}", f"temp_path={root}", f"log_file={root / 'nagios.log'}",
               f"status_file={root / 'status.dat'}", f"object_cache_file={root / 'objects.cache'}",
               f"precached_object_file={root / 'objects.precache'}",
               f"state_retention_file={root / 'retention.dat'}", f"command_file={root / 'nagios.cmd'}",
               f"nagios_user={user}", f"nagios_group={group}",
               "illegal_object_name_chars=`~!$%^&*|'\"<>?,()=", "illegal_macro_output_chars=`~$&|'\"<>"]
        path = root / "nagios.cfg"
        path.write_text("\n".join(cfg) + "\n")
        return _run([exe, "-v", str(path)], timeout)


def _run(cmd: list[str], timeout: float) -> Validation:
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                           errors="replace")
    except subprocess.TimeoutExpired:
        raise GenerateError(f"{cmd[0]} did not finish validating within {timeout:.0f} s") from None
    except OSError as e:
        raise GenerateError(f"cannot run {cmd[0]}: {e.strerror or e}") from None
    return Validation(p.returncode == 0, p.stdout + p.stderr, time.monotonic() - start)


def validate_texts(files: list[tuple[str, str]], fmt: str, conf_dir: Path,
                   zones: dict[str, str | None] | None = None, binary: str | None = None) -> Validation:
    """Validate several generated texts together ((file name, text) pairs), as they will be installed."""
    with tempfile.TemporaryDirectory(prefix="vio-icinga-new-") as tmp:
        paths = []
        for i, (filename, text) in enumerate(files):
            path = Path(tmp) / str(i) / filename
            path.parent.mkdir()
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        if fmt == "icinga2":
            return validate_icinga2(paths, conf_dir, zones or None, binary)
        return validate_nagios(paths, conf_dir, binary)
