"""`vio-icinga`: Icinga 2 / Nagios configuration from the cached inventory.

    vio-icinga generate --format icinga2 --output /etc/icinga2/conf.d --validate || systemctl reload icinga2
    vio-icinga deploy --api-url https://icinga:5665 --api-user vio --api-password-file /etc/vio/icinga-pw
    vio-icinga commands --format icinga2 > icinga/commands.conf
    vio-icinga commands --format icinga2 --paths itl > debian/vio.conf   (plugins-contrib.d, Debian package)

generate exits 0 when nothing changed (or with --output -), 1 when the file changed, 2 on error (the
previous file stays). deploy exits 0 when deployed or unchanged, 2 when Icinga rejected the stage, 3 when the
API (or the inventory) was unavailable past the retries.

impact and rootcause are impact_cli's; every subcommand loads the same tree through icinga.load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from vio_checks import __version__
from vio_checks import topology as t
from vio_checks.errors import VioError
from vio_checks.icinga import (
    COMMANDS,
    command_options,
    director,
    export,
    impact_cli,
    live,
    parse_version,
    push,
    render_icinga2,
    render_nagios,
    units,
)
from vio_checks.icinga import deploy as d
from vio_checks.icinga import generate as g
from vio_checks.icinga.load import add_topology_options, load_tree
from vio_checks.icinga.passive import DEFAULT_INTERVAL, DEFAULT_TTL, HEARTBEAT_ROUNDS, MODES
from vio_checks.options import add_bounded, duration_range
from vio_checks.runtime import pipe_safe, setup_logging
from vio_checks.text import counted

#: deploy's exit codes: like generate's (0 unchanged, 1 changed), then rejected/misconfigured, unavailable.
EXIT_UNCHANGED, EXIT_DEPLOYED, EXIT_REJECTED, EXIT_UNAVAILABLE = 0, 1, 2, 3


# --- shared options -----------------------------------------------------------------------------------


def add_render_options(p: argparse.ArgumentParser) -> None:
    r = p.add_argument_group("objects")
    r.add_argument("--zone", metavar="ZONE",
                   help="Icinga zone of every object (a satellite per region); with a directory --output "
                        "the file goes to zones.d/ZONE/; also writes the parent zone's watch on ZONE (a "
                        "cluster-zone host the cloud host depends on) to zones.d/PARENT/<prefix>-zone.conf")
    r.add_argument("--parent-zone", metavar="PARENT", default=render_icinga2.PARENT_ZONE,
                   help="with --zone: the zone that watches ZONE and gets its cluster-zone host (default: "
                        f"{render_icinga2.PARENT_ZONE})")
    g.add_object_options(r)
    m = p.add_argument_group("mode")
    m.add_argument("--mode", choices=MODES, default="active",
                   help="active: Icinga runs a check executable per object (default); passive: `vio-icinga "
                        "push` submits every result, and an object whose result is older than its freshness "
                        "turns UNKNOWN \"no result from vio-icinga push for N min\"")
    add_bounded(m, "--push-interval", type=duration_range(1), default=DEFAULT_INTERVAL, metavar="DURATION",
                   help="passive: the pusher's --interval; the cloud host turns DOWN after "
                        f"{HEARTBEAT_ROUNDS} intervals without a result (default: 1m)")
    add_bounded(m, "--push-ttl", type=duration_range(1), default=DEFAULT_TTL, metavar="DURATION",
                   help="passive: the pusher's --ttl; any other object turns UNKNOWN after this long "
                        "without a result (default: 10m)")


# --- generate -----------------------------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    if args.zone and args.format != "icinga2":
        raise g.GenerateError("--zone is an Icinga 2 concept; it needs --format icinga2")
    topo_opts = g.topology_options(args)
    render_opts = g.render_options(args)
    if args.validate_with and args.format != "icinga2":
        raise g.GenerateError("--validate-with is for Icinga 2 (--format icinga2)")
    validate = args.validate or bool(args.on_change) or bool(args.validate_with)
    g.requested_version(args)  # a malformed --icinga-version is refused with or without --validate
    binary = args.icinga2_bin if args.format == "icinga2" else args.nagios_bin
    what = "icinga2 daemon -C" if args.format == "icinga2" else "nagios -v"
    if validate and args.output != "-" and args.format == "icinga2":
        # the file is the same for every version; the version is the binary's own, and a different
        # --icinga-version is an error (generate.validation_binary)
        binary, found = g.validation_binary(args)
        what += f" of Icinga {g.version_text(found)}"
    conf_dir = None
    if validate and args.output != "-" and not args.validate_with:
        conf_dir = Path(args.conf_dir) if args.conf_dir else g.default_conf_dir()
        if conf_dir is None or not (conf_dir / "commands.conf").is_file():
            raise g.GenerateError("--validate needs the shipped icinga/ directory (commands.conf, "
                                  "templates.conf, nagios/): give it with --conf-dir")
    _, topo = load_tree(args, topo_opts)
    files = g.outputs(topo, args.format, render_opts, args.output, g.parent_zone(args))
    if args.output == "-":
        sys.stdout.write("\n".join(text for _, text in files))
        sys.stdout.flush()
        return g.EXIT_UNCHANGED
    changed = [(path, text.encode("utf-8")) for path, text in files]
    changed = [(path, data) for path, data in changed if not g.unchanged(path, data)]
    if not changed:
        if args.verbose:
            print(f"vio-icinga: {', '.join(str(p) for p, _ in files)} unchanged", file=sys.stderr)
        return g.EXIT_UNCHANGED
    if validate:  # all files together (the zone's objects and the parent's watch refer to each other)
        names = " and ".join(str(p) for p, _ in files)
        if args.validate_with:
            v = live.validate_in_tree(files, Path(args.validate_with), binary)
            scope = f"inside a copy of the live configuration {args.validate_with}"
        else:
            assert conf_dir is not None
            v = g.validate_texts([(p.name, text) for p, text in files], args.format, conf_dir,
                                 g.zone_parents(args.zone, g.parent_zone(args)), binary)
            scope = f"with the shipped files of {conf_dir}"
        if not v.ok:
            raise g.GenerateError(f"{what} rejected the new config ({scope}); {names} left as they "
                                  f"were:\n{v.errors()}")
        print(f"vio-icinga: validated {names} {scope} ({what}, {v.seconds:.1f} s)")
    for path, data in changed:
        g.write_atomic(path, data)
    hosts = sum(1 for n in topo.nodes.values() if n.is_host)
    for path, _ in changed:
        if path == files[0][0]:
            print(f"vio-icinga: wrote {path} ({counted(hosts, 'hosts')}, "
                  f"{counted(len(topo.nodes) - hosts, 'services')})")
        else:
            print(f"vio-icinga: wrote {path} (the cluster-zone host of {args.zone})")
    paths = " and ".join(str(p) for p, _ in changed)
    if args.on_change:
        sys.stdout.flush()
        rc = subprocess.run(args.on_change, shell=True, stdin=subprocess.DEVNULL).returncode
        if rc != 0:
            raise g.GenerateError(f"{paths} changed, but --on-change command exited {rc}: {args.on_change}")
    return g.EXIT_CHANGED


def run_generate(args: argparse.Namespace) -> int:
    try:
        return _generate(args)
    except (g.GenerateError, VioError, t.CycleError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("vio-icinga: interrupted", file=sys.stderr)
    except Exception as e:  # never a traceback: one line, exit 2, the previous file stays
        print(f"vio-icinga: internal error: {type(e).__name__}: {e}", file=sys.stderr)
    return g.EXIT_ERROR


# --- deploy -------------------------------------------------------------------------------------------


def run_deploy(args: argparse.Namespace) -> int:
    try:
        topo_opts = g.topology_options(args)  # a bad option is refused before anything is read
        password = d.api_password(args.api_password_file)
        api = d.IcingaApi(args.api_url, args.api_user, password, args.ca_file, timeout=args.api_timeout,
                          retries=args.retries, backoff=args.retry_delay, server_name=args.tls_server_name)
        version = parse_version(args.icinga_version) if args.icinga_version else api.version()
        render_opts = g.render_options(args)  # the same file for every version: the version is reported
        _, topo = load_tree(args, topo_opts)
        text = g.render(topo, "icinga2", render_opts)
        path = d.stage_path(topo.prefix, args.zone)
        parent = g.parent_zone(args)
        more = {d.zone_stage_path(topo.prefix, parent): render_icinga2.render_zone(topo, args.zone, parent)} \
            if parent else {}
        outcome = d.deploy(api, args.package, path, text, wait=args.wait, more=more,
                           owns=frozenset({d.zone_file(topo.prefix)}))
    except (g.GenerateError, ValueError) as e:
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_REJECTED
    except (d.ApiUnavailable, VioError) as e:  # unreachable, busy, or no inventory: try again later
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except d.ApiError as e:  # the API refused us (401, 403, 400 ...): fix the configuration
        print(f"vio-icinga: {e}", file=sys.stderr)
        return EXIT_REJECTED
    except Exception as e:
        print(f"vio-icinga: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_REJECTED
    for warning in outcome.warnings:
        print(f"vio-icinga: {warning}", file=sys.stderr)
    if outcome.status == "unchanged":
        print(f"vio-icinga: {args.package}/{path} unchanged (stage {outcome.stage})")
        return EXIT_UNCHANGED
    if outcome.status == "failed":
        print(f"vio-icinga: Icinga rejected stage {outcome.stage} of {args.package}; the active config "
              f"stays. startup.log:\n{outcome.log_excerpt}", file=sys.stderr)
        return EXIT_REJECTED
    v = ".".join(map(str, version[:2]))
    print(f"vio-icinga: deployed {args.package}/{path} as stage {outcome.stage} (Icinga {v})")
    return EXIT_DEPLOYED


# --- commands ---------------------------------------------------------------------------------------------


def run_commands(args: argparse.Namespace) -> int:
    if args.format == "icinga2":
        sys.stdout.write(render_icinga2.render_commands(command_options(), args.paths))
    else:
        sys.stdout.write(render_nagios.render_commands(COMMANDS, args.paths))
    return 0


# --- parser -------------------------------------------------------------------------------------------------

GENERATE_EPILOG = """\
exit codes:
  0  unchanged: the file was left untouched (also: --output -, which writes to stdout)
  1  the file changed (validated first with --validate), so
     `vio-icinga generate ... || systemctl reload icinga2` is a whole cron job
  2  error, one message on stderr; the previous file stays
"""

DEPLOY_EPILOG = """\
exit codes:
  0  deployed, or unchanged (then nothing was uploaded)
  2  Icinga rejected the stage (its startup.log excerpt on stderr), or bad options
  3  the API was unreachable or busy (423/503) past --retries, or no usable inventory
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vio-icinga", description="Icinga 2 / Nagios configuration for a VIO "
                                "cloud from the cached inventory: hosts, services and their dependency tree.")
    p.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    # Not required=True: argparse checks required arguments before unknown ones, so `vio-icinga --bogus`
    # said a COMMAND is required instead of naming --bogus; main() asks for the COMMAND itself.
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser("generate", help="write Icinga 2 or Nagios objects for the cloud",
                         description="Write Icinga 2 or Nagios objects for the cloud: atomically, only when "
                                     "they changed, validated by the real binary with --validate.",
                         epilog=GENERATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    gen.add_argument("--format", choices=g.FORMATS, default="icinga2",
                     help="output syntax (default: icinga2)")
    gen.add_argument("--output", default="-", metavar="PATH",
                     help="a file, or a directory (gets <prefix>.conf, .cfg for nagios), or - for stdout "
                          "(default)")
    gen.add_argument("--icinga-version", metavar="X.Y",
                     help="the Icinga version the file is for; the file is the same for every version (no "
                          "version-specific attribute). --validate reads the version of the icinga2 it runs "
                          "(`icinga2 --version`), and an X.Y given here that differs from it is an error")
    gen.add_argument("--validate", action="store_true",
                     help="validate with `icinga2 daemon -C` / `nagios4 -v` on a temporary tree first; a "
                          "rejected config is not written (exit 2)")
    gen.add_argument("--on-change", metavar="CMD",
                     help="run CMD (through the shell) after a validated change, e.g. 'systemctl reload "
                          "icinga2'; implies --validate")
    gen.add_argument("--conf-dir", metavar="DIR",
                     help="the shipped icinga/ directory for --validate (default: $VIO_ICINGA_CONF_DIR, "
                          "<prefix>/share/vio-checks/icinga, or the source tree's)")
    gen.add_argument("--validate-with", metavar="DIR",
                     help="validate inside a copy of the live configuration tree DIR (e.g. /etc/icinga2) "
                          "with the new files in their places, so a duplicate object with an old file is "
                          "caught before the write; the output must be inside DIR; implies --validate")
    gen.add_argument("--icinga2-bin", metavar="PATH", help="icinga2 binary for --validate")
    gen.add_argument("--nagios-bin", metavar="PATH", help="nagios4 binary for --validate")
    add_render_options(gen)
    add_topology_options(gen)
    gen.set_defaults(func=run_generate)

    dep = sub.add_parser("deploy", help="upload the objects as a config package stage through the Icinga API",
                         description="Upload the Icinga 2 objects as a stage of a config package through the "
                                     "Icinga 2 API, wait for Icinga's validation, delete old stages. The "
                                     "CheckCommands and templates are installed once by hand (see README).",
                         epilog=DEPLOY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = dep.add_argument_group("Icinga API")
    d.add_api_options(a, "config/*", required=True)
    a.add_argument("--package", default="vio-checks", metavar="NAME",
                   help="config package (default: vio-checks); several clouds can share it: each "
                        "deployment replaces only its own file")
    a.add_argument("--icinga-version", metavar="X.Y", help="skip asking /v1/status which version runs")
    add_bounded(a, "--wait", type=duration_range(1), default=120.0, metavar="DURATION",
                   help="how long to wait for Icinga to validate the stage (default: 120 s)")
    add_render_options(dep)
    add_topology_options(dep)
    dep.set_defaults(func=run_deploy)

    cmd = sub.add_parser("commands", help="print the static CheckCommand definitions (icinga/commands.conf)")
    cmd.add_argument("--format", choices=g.FORMATS, default="icinga2")
    cmd.add_argument("--paths", choices=("pip", "itl"), default="pip",
                     help="where the commands find check_vio_*: pip (default): const VioChecksDir / $USER5$ "
                          "(icinga/commands.conf); itl: PluginDir / $USER1$, as the ITL and Debian's plugins "
                          "have it (the Debian package's plugins-contrib.d/vio.conf)")
    cmd.set_defaults(func=run_commands, verbose=0)

    impact_cli.add_subcommands(sub)
    push.register(sub)
    units.register(sub)
    export.register(sub), director.register(sub)
    return p


@pipe_safe
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("the following arguments are required: COMMAND")
    setup_logging(getattr(args, "verbose", 0))
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
