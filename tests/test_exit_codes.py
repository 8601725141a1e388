"""The "Exit codes" table (docs/operations.md) is what the code returns: for every command, the codes the table fills in
are the codes the command defines (and a dash where it has none)."""

from __future__ import annotations

import re
from pathlib import Path

import nagiosplugin

from vio_checks import discover_cli
from vio_checks.icinga import cli, generate, impact_cli, targets

ROOT = Path(__file__).resolve().parent.parent
#: the page that holds the "Exit codes" table
PAGE = ROOT / "docs" / "operations.md"
#: table row (its first cell) → the codes the code defines for that command.
CODE = {
    "`check_vio_*`": {s.code for s in (nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical,
                                       nagiosplugin.Unknown)},
    "`vio-discover`": {discover_cli.EXIT_OK, discover_cli.EXIT_FAILED},
    "`vio-icinga generate`": {generate.EXIT_UNCHANGED, generate.EXIT_CHANGED, generate.EXIT_ERROR},
    "`vio-icinga deploy`": {cli.EXIT_UNCHANGED, cli.EXIT_DEPLOYED, cli.EXIT_REJECTED, cli.EXIT_UNAVAILABLE},
    "`vio-icinga push`": {targets.EXIT_OK, targets.EXIT_PARTIAL, targets.EXIT_CONFIG, targets.EXIT_UNAVAILABLE},
    "`vio-icinga impact`, `rootcause`": {impact_cli.EXIT_OK, impact_cli.EXIT_BAD_OPTIONS, impact_cli.EXIT_UNKNOWN},
    "`vio-icinga systemd-units`, `commands`, `export`, `director-basket`": {0, 2},
}


def exit_code_table() -> dict[str, dict[int, str]]:
    text = PAGE.read_text()
    section = text[text.index("## Exit codes"):]
    section = section[:section.index("\n## ", 3)]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            rows[cells[0]] = {code: cells[code + 1] for code in range(4)}
    return rows


def test_the_exit_code_table_is_the_codes_of_each_command():
    table = exit_code_table()
    assert set(table) == set(CODE)
    for command, cells in table.items():
        documented = {code for code, text in cells.items() if text not in ("–", "-", "")}
        assert documented == CODE[command], (command, cells)


def test_deploy_exit_codes_follow_generate():
    """`... && systemctl reload`-style scripting: 0 unchanged and 1 changed mean the same for both."""
    assert (cli.EXIT_UNCHANGED, cli.EXIT_DEPLOYED) == (generate.EXIT_UNCHANGED, generate.EXIT_CHANGED)
    assert re.search(r"SuccessExitStatus=1", (ROOT / "icinga/systemd/vio-icinga.service").read_text())


def man_exit_status(h2m: Path) -> dict[str, set[int]]:
    """The codes an [EXIT STATUS] section of a help2man include file names: command → codes."""
    text = h2m.read_text()
    section = text[text.index("[EXIT STATUS]") + len("[EXIT STATUS]"):]
    section = section[:section.index("\n[")].strip()
    entries = section.split(".TP\n")[1:] if section.startswith(".TP") else [f".B \n{section}"]
    out = {}
    for entry in entries:
        head, body = entry.split("\n", 1)
        names = head.removeprefix(".B ").replace("\\-", "-")
        out[names] = {int(c) for c in re.findall(r"(?:^|[,;] )(\d) ", " ".join(body.split()))}
    return out


def test_the_man_pages_exit_status_is_the_tables():
    """debian/*.h2m (the Debian package's man pages) say what the exit-code table says."""
    debian = ROOT / "debian"
    icinga = man_exit_status(debian / "vio-icinga.h2m")
    got = {f"`vio-icinga {names}`".replace(", ", "`, `"): codes for names, codes in icinga.items()}
    got["`vio-discover`"] = man_exit_status(debian / "vio-discover.h2m")[""]
    assert got == {row: codes for row, codes in CODE.items() if row != "`check_vio_*`"}


def test_one_exit_code_for_a_tls_failure(demo_cloud):
    """A TLS failure (here: a plain-HTTP server behind an https:// URL) is a configuration to fix, the same
    exit code 2 for every command that talks to the Icinga API: rootcause, push and deploy."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    api = ("--api-url", url, "--api-user", "vio", "--retries", "0")
    demo_cloud.sweep()
    try:
        runs = {command: demo_cloud.run("vio-icinga", *argv, env={"VIO_ICINGA_API_PASSWORD": "x"})
                for command, argv in (("rootcause", ("rootcause", "web-01", *api)),
                                      ("push", ("push", "--once", *api)),
                                      ("deploy", ("deploy", *api)))}
    finally:
        server.shutdown()
        server.server_close()
    for command, r in runs.items():
        assert r.rc == 2 and "TLS error" in r.stderr and r.stderr.count("\n") == 1, (command, str(r))
    assert impact_cli.EXIT_BAD_OPTIONS == targets.EXIT_CONFIG == cli.EXIT_REJECTED == 2


def test_an_unknown_option_is_named_before_a_missing_command(capsys):
    """`vio-icinga --bogus` names --bogus (exit 2); only a command line without one says COMMAND is needed."""
    import pytest

    for argv, said in ((["--bogus"], "unrecognized arguments: --bogus"),
                       (["--bogus", "generate"], "unrecognized arguments: --bogus"),
                       ([], "the following arguments are required: COMMAND")):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and said in err, (argv, err)
        assert "COMMAND" not in err.splitlines()[-1] or not argv, (argv, err)
