"""tools/debroot's pure parts: the mirror it reads from apt's sources, and the cache key of a root.

(Building and entering roots is the `debian13` suite's: tests/debian13.)
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "debroot"


def _debroot():
    loader = importlib.machinery.SourceFileLoader("debroot", str(TOOL))
    spec = importlib.util.spec_from_loader("debroot", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_mirror_is_the_one_apt_uses_for_the_hosts_release(tmp_path):
    debroot = _debroot()
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n")
    (tmp_path / "sources.list.d" / "vendor.list").write_text("deb https://vendor.example/apt vendor main\n")
    assert debroot.host_mirror(tmp_path, "bookworm") == "http://mirror.example/debian"
    # one-line format, with options
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://old.example/debian trixie main\n")
    assert debroot.host_mirror(tmp_path, "trixie") == "http://old.example/debian"
    # nothing usable: deb.debian.org
    (tmp_path / "sources.list").unlink()
    assert debroot.host_mirror(tmp_path, "trixie") == debroot.FALLBACK_MIRROR


def test_every_input_changes_the_roots_name():
    debroot = _debroot()
    base = ("trixie", "http://m/debian", ["a", "b"], "amd64")
    name, inputs = debroot.root_key(*base)
    assert name.startswith("trixie-") and inputs["version"] == debroot.VERSION
    others = [("bookworm", *base[1:]), (base[0], "http://n/debian", *base[2:]), (*base[:2], ["a"], base[3]),
              (*base[:3], "arm64")]
    assert len({name, *(debroot.root_key(*o)[0] for o in others)}) == 5
    assert debroot._packages(["b,a", "c  a"]) == ["a", "b", "c"]


def test_prune_removes_only_roots_unused_for_the_given_days(tmp_path, monkeypatch):
    import os
    import time

    debroot = _debroot()
    monkeypatch.setenv("DEBROOT_CACHE", str(tmp_path))
    for name, age_days in (("trixie-old", 30), ("trixie-new", 1)):
        (tmp_path / name / "usr").mkdir(parents=True)
        stamp = tmp_path / f"{name}.json"
        stamp.write_text("{}")
        then = time.time() - age_days * 86400
        os.utime(stamp, (then, then))
    assert debroot.prune(14) == [tmp_path / "trixie-old"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["trixie-new",
                                                                                       "trixie-new.json"]
