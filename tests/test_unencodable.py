"""Strings no encoder can write: lone surrogates from the cloud (a JSON `\\udcff` escape in a name) and bytes
that are not UTF-8 in argv (Python reads them as `surrogateescape` surrogates). Every path of vio-icinga
that writes such a string (generate in both syntaxes, export --json, impact, rootcause, push) makes it
valid with the one rule, vio_checks.text.valid (U+FFFD), and the output streams fall back to the same
rule; none ends in `internal error: UnicodeEncodeError`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from icinga_helpers import ICINGA_DIR, small_inventory, store_inventory, uid

from vio_checks.model import Inventory

BIN = Path(sys.executable).parent
CACHE_ARGS = ("--os-cloud", "demo", "--os-region-name", "RegionOne", "--cache-only")

#: The class: a lone high and low surrogate, two bytes that were not UTF-8 (0xff 0x80 as surrogateescape
#: reads them) and a pair in the wrong order.
UNENCODABLE = ("\ud800", "\udfff", "\udcff\udc80", "\udc00\ud800")


def unencodable_inventory(bad: str) -> Inventory:
    """The small inventory with `bad` in every string a tenant or the cloud chooses."""
    inv = small_inventory()
    for p in inv.projects:
        p.name = f"{p.name}{bad}"
    for coll in (inv.servers, inv.networks, inv.routers, inv.ports, inv.volumes):
        for obj in coll:
            obj.name = f"{obj.name}{bad}"
    # Nova's integer-id hypervisor: its hostname is its object name's source and its check's --id
    old, new = "domain-c9(Cluster-B)", f"domain-c9(Cluster{bad})"
    for hv in inv.hypervisors:
        hv.hostname = new if hv.hostname == old else hv.hostname
    for s in inv.servers:
        s.hypervisor_hostname = new if s.hypervisor_hostname == old else s.hypervisor_hostname
        s.flavor = f"m1{bad}"
        s.metadata = {f"key{bad}": f"value{bad}"}
        for a in s.addresses:
            a.network = f"{a.network}{bad}"
    return inv


def run(*args: object) -> subprocess.CompletedProcess:
    """vio-icinga with raw argv bytes; stdout and stderr as bytes (decoded by the caller, strictly)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
    argv = [os.fsencode(str(BIN / "vio-icinga")), *(a if isinstance(a, bytes) else os.fsencode(str(a))
                                                     for a in args)]
    return subprocess.run(argv, capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def assert_clean(p: subprocess.CompletedProcess, codes: tuple[int, ...]) -> str:
    """Exit code as expected, stdout and stderr valid UTF-8 without an error name; stdout as text."""
    err = p.stderr.decode("utf-8")  # strict: a lone surrogate written as-is would fail here
    assert p.returncode in codes, err
    assert "Error" not in err and "Traceback" not in err, err
    out = p.stdout.decode("utf-8")
    assert "\\ud8" not in out.lower() and "\\udc" not in out.lower() and "\\udf" not in out.lower()
    return out


@pytest.fixture(params=UNENCODABLE, ids=["high", "low", "escaped-bytes", "reversed-pair"])
def bad_cache(request, tmp_path) -> tuple[Path, str]:
    store_inventory(tmp_path / "cache", unencodable_inventory(request.param))
    return tmp_path / "cache", request.param


@pytest.mark.parametrize("args, codes", [
    (("generate", "--output", "-", "--notes-url", "vm=https://h/{name}/{project}"), (0,)),
    (("generate", "--format", "nagios", "--output", "-", "--notes-url", "vm=https://h/{name}"), (0,)),
    (("export", "--json"), (0,)),
    (("impact", "domain-c8.5f2e"), (0,)),
    (("impact", "--json", "domain-c8.5f2e"), (0,)),
    (("rootcause", uid("vm", "web-01")), (0,)),
    (("rootcause", "--json", uid("vm", "web-01")), (0,)),
], ids=["icinga2", "nagios", "export", "impact", "impact-json", "rootcause", "rootcause-json"])
def test_every_writer_makes_unencodable_tenant_strings_valid(bad_cache, args, codes):
    cache, bad = bad_cache
    out = assert_clean(run(*args, *CACHE_ARGS, "--cache-dir", cache), codes)
    assert "\ufffd" in out  # the tenant's string is there, made valid, not dropped
    if "--json" in args:
        json.loads(out)


def test_push_writes_unencodable_tenant_strings_valid(bad_cache, tmp_path):
    cache, _ = bad_cache
    cmd = tmp_path / "nagios.cmd"
    cmd.write_text("")
    assert_clean(run("push", "--command-file", cmd, "--once", "--max-age", "1d", *CACHE_ARGS,
                     "--cache-dir", cache), (0,))
    lines = cmd.read_bytes().decode("utf-8").splitlines()
    assert lines and any("\ufffd" in line for line in lines)


@pytest.mark.usefixtures("icinga2_binary", "nagios4_binary")
def test_unencodable_names_validate_with_icinga2_and_nagios(tmp_path):
    store_inventory(tmp_path / "cache", unencodable_inventory("\udcff\ud800"))
    for fmt in ("icinga2", "nagios"):
        out = tmp_path / fmt
        out.mkdir()
        p = run("generate", "--format", fmt, "--output", out, "--validate", "--conf-dir", ICINGA_DIR,
                "--notes-url", "vm=https://h/{name}", *CACHE_ARGS, "--cache-dir", tmp_path / "cache")
        assert_clean(p, (1,))
        text = next(out.iterdir()).read_bytes().decode("utf-8")
        assert "web-01\ufffd\ufffd" in text


def test_argv_bytes_that_are_not_utf8(tmp_path):
    """A path, a URL template and an object name typed in a non-UTF-8 locale: one clear answer each."""
    store_inventory(tmp_path / "cache", small_inventory())
    common = (*CACHE_ARGS, "--cache-dir", tmp_path / "cache")
    target = os.fsencode(str(tmp_path)) + b"/\xff\x80dir/vio.conf"
    wrote = run("generate", "--output", target, "--notes-url", b"vm=https://h/\xff/{id}", *common)
    err = assert_clean(wrote, (1,))
    assert "wrote " in err + wrote.stdout.decode() and "\ufffd\ufffddir" in wrote.stdout.decode()
    assert b"https://h/\xef\xbf\xbd/" in Path(os.fsdecode(target)).read_bytes()
    unknown = run("impact", b"web-\xff", *common)
    assert_clean(unknown, (3,))
    assert "unknown object" in unknown.stderr.decode()
    refused = run("generate", "--output", b"/proc/\xff/vio.conf", *common)
    assert_clean(refused, (2,))
    assert refused.stderr.decode().count("\n") == 1


@pytest.mark.parametrize("bad", UNENCODABLE)
def test_valid_is_the_one_rule(bad):
    from vio_checks.text import STREAM_ERRORS, valid

    assert valid(f"a{bad}b") == "a" + "\ufffd" * len(bad) + "b"
    assert valid("é中文 ok") == "é中文 ok" and valid(None) == ""
    # the output streams' fallback writes the same U+FFFD, or `?` where the encoding has none
    for encoding, mark in (("utf-8", "\ufffd".encode()), ("ascii", b"?"), ("latin-1", b"?")):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding, errors=STREAM_ERRORS)
        stream.write(f"x{bad}y")
        stream.flush()
        assert raw.getvalue() == b"x" + mark * len(bad) + b"y"
