"""`vio-icinga systemd-units`: the shipped systemd units (icinga/systemd/*.service, *.timer) written for
this installation: `@BINDIR@` becomes the directory this `vio-icinga` was installed in (a virtualenv's
bin, /usr/local/bin, ...), so no unit hard-codes a path. The Debian package installs its own copies with
/usr/bin (debian/rules substitutes the same placeholder).

    vio-icinga systemd-units --output /etc/systemd/system && systemctl daemon-reload
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vio_checks.fileutil import atomic_write

PLACEHOLDER = "@BINDIR@"
SUFFIXES = (".service", ".timer")


def template_dir() -> Path | None:
    """Where the unit templates are: next to the shipped Icinga files (see generate.default_conf_dir)."""
    from vio_checks.icinga.generate import default_conf_dir

    conf = default_conf_dir()
    return conf / "systemd" if conf is not None and (conf / "systemd").is_dir() else None


def installed_bindir() -> Path:
    """The directory of the running vio-icinga (where vio-discover and the checks are too)."""
    return Path(sys.argv[0]).resolve().parent if sys.argv and sys.argv[0] else Path(sys.executable).parent


def render_units(templates: Path, bindir: Path) -> dict[str, str]:
    """Unit file name → its text with the placeholder replaced."""
    return {p.name: p.read_text().replace(PLACEHOLDER, str(bindir))
            for p in sorted(templates.iterdir()) if p.suffix in SUFFIXES}


def run_units(args: argparse.Namespace) -> int:
    templates = Path(args.templates) if args.templates else template_dir()
    if templates is None or not templates.is_dir():
        print("vio-icinga: no unit templates found (give --templates DIR; the Debian package installs its "
              "units in systemd's own unit directory)", file=sys.stderr)
        return 2
    bindir = Path(args.bindir) if args.bindir else installed_bindir()
    if not (bindir / "vio-icinga").exists():
        print(f"vio-icinga: {bindir}/vio-icinga does not exist (give --bindir)", file=sys.stderr)
        return 2
    units = render_units(templates, bindir)
    if args.output == "-":
        for name, text in units.items():
            sys.stdout.write(f"# --- {name}\n{text}")
        return 0
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in units.items():
            atomic_write(out / name, text.encode(), 0o644)
    except OSError as e:
        print(f"vio-icinga: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"vio-icinga: wrote {', '.join(units)} to {out} (ExecStart from {bindir})")
    return 0


def register(subparsers) -> None:
    """Add `systemd-units` to vio-icinga's subcommands."""
    p = subparsers.add_parser(
        "systemd-units", help="write the systemd units (vio-discover, vio-icinga, push) for this install",
        description="Write the shipped systemd units with the paths of this installation (the directory "
                    "this vio-icinga is in), e.g. into /etc/systemd/system.")
    p.add_argument("--output", default="-", metavar="DIR", help="directory to write to (default: - = stdout)")
    p.add_argument("--bindir", metavar="DIR",
                   help="where vio-icinga and vio-discover are (default: this one's)")
    p.add_argument("--templates", metavar="DIR", help="unit templates (default: the shipped icinga/systemd)")
    p.set_defaults(func=run_units)
