"""The warm path: a single-object check on a fresh cache loads only what reading and judging need.

No timing here (bench/run.py figure 1 measures it): what the warm path must not import, the argparse-free
option reader giving what argparse gives, and the cache read without diskcache's start-up writes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import diskcache
import pytest

from vio_checks.cache import _SETTINGS, Store, open_for_reading
from vio_checks.checks import vm
from vio_checks.checks.base import build_parser, check_options
from vio_checks.options import parse_fast

#: Modules a warm single-object check must not load: the sweep and what only it needs, the Icinga side,
#: and the standard modules it used to pay for (dataclasses with inspect, argparse, pathlib, typing, ...).
#: (vio_checks.changes may load: pickle imports it for the VM's events.)
NOT_ON_THE_WARM_PATH = ("dataclasses", "inspect", "argparse", "pathlib", "typing", "socket", "uuid",
                        "vio_checks.sweep", "vio_checks.cloud", "vio_checks.normalize", "vio_checks.topology",
                        "vio_checks.icinga", "openstack", "keystoneauth1")


def test_a_warm_vm_check_imports_nothing_it_does_not_need(demo_cloud):
    demo_cloud.sweep()
    code = (
        "import atexit, sys\n"
        f"bad = {NOT_ON_THE_WARM_PATH!r}\n"
        "atexit.register(lambda: sys.stderr.write('LOADED:' + str(sorted(m for m in sys.modules "
        "if m in bad or m.split('.')[0] in bad or m.rsplit('.', 1)[0] in bad))))\n"
        "sys.argv = ['check_vio_vm', '--name', 'db-01', '--max-age', '1h']\n"
        "from vio_checks.checks.vm import main\n"
        "main()\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=demo_cloud.env, capture_output=True, text=True)
    assert p.stdout.startswith("VIO VM OK - db-01 is ACTIVE and running"), p.stdout + p.stderr
    assert "LOADED:[]" in p.stderr, p.stderr


OPTIONS = check_options(vm.SPEC)

#: Command lines the fast reader takes: it must give exactly what argparse gives.
TAKEN = [
    [],
    ["--id", "abc"],
    ["--name", "web-01", "--max-age", "1h", "-t", "20"],
    ["--id", "x", "--id", "y"],
    ["-v", "-v", "--verbose"],
    ["--cache-only", "--cache-dir", "/tmp/x", "--os-cloud", "c", "--os-region-name", "r"],
    ["-w", "5", "-c", "10:", "--ignore-states", "warning", "--stuck-after", "90", "--accept-unverified"],
    ["--warning-states", "shutoff,paused", "--critical-states", "ERROR", "--window", "2d"],
    ["--include-projects", "a,b", "--exclude-projects", "c", "--skip-unmonitored"],
]
#: ... and those it leaves to argparse (help, errors, spellings it does not read).
LEFT = [
    ["-h"], ["--help"], ["-V"], ["--version"], ["--max-age=1h"], ["--max", "1h"], ["-vv"], ["-w5"],
    ["--id", "a", "--name", "b"], ["--id"], ["--id", "-x"], ["--max-age", "soon"], ["-t", "0"],
    ["--warning-states", "NOPE"], ["--ignore-states", "ok"], ["extra"], ["--", "x"], ["-w", "x:y"],
    ["--name", ""], ["--id", " "], ["-w", "@"], ["--event-limit", "0"],  # bad options: argparse says why
]


@pytest.mark.parametrize("argv", TAKEN, ids=" ".join)
def test_the_fast_reader_gives_what_argparse_gives(argv, monkeypatch):
    monkeypatch.setenv("OS_CLOUD", "from-env")
    monkeypatch.delenv("OS_REGION_NAME", raising=False)
    fast = parse_fast(OPTIONS, argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser(vm.SPEC).parse_args(argv))


@pytest.mark.parametrize("argv", LEFT, ids=" ".join)
def test_the_fast_reader_leaves_the_rest_to_argparse(argv):
    assert parse_fast(OPTIONS, argv) is None


def test_a_bad_option_still_answers_as_argparse_did(demo_cloud):
    r = demo_cloud.run("check_vio_vm", "--max-age", "soon")
    assert r.rc == 3 and r.status.startswith("VIO VM UNKNOWN - bad option: argument --max-age"), r


def _swept(tmp_path) -> Store:
    d = tmp_path / "ns"
    full = diskcache.Cache(str(d), **_SETTINGS)
    full.set("current", {"gen": 7})
    full.close()
    return Store(d)


def test_a_cache_of_ours_is_read_without_the_start_up_writes(tmp_path):
    store = _swept(tmp_path)
    assert store._get("current") == {"gen": 7}
    assert store._cache is None and store._reader is not None  # read through the reading handle
    store.cache.set("current", {"gen": 8})  # a writer opens the ordinary handle, and reads then use it
    assert store._reader is None and store._get("current") == {"gen": 8}
    store.close()


def test_other_settings_or_no_cache_open_as_usual(tmp_path):
    assert open_for_reading(str(tmp_path / "none"), 1.0) is None
    other = tmp_path / "other"
    diskcache.Cache(str(other), **{**_SETTINGS, "eviction_policy": "least-recently-used"}).close()
    assert open_for_reading(str(other), 1.0) is None
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "cache.db").write_bytes(os.urandom(4096))
    assert open_for_reading(str(garbage), 1.0) is None


def test_the_private_open_is_written_for_the_installed_diskcache(tmp_path, monkeypatch):
    """open_for_reading sets diskcache's private attributes: it is written for DISKCACHE_WRITTEN_FOR (the
    releases Debian 12 and 13 ship, and the pin), and on another release it declines (None) so the cache
    opens the ordinary way, still correct."""
    from vio_checks import cache

    assert diskcache.__version__.startswith(cache.DISKCACHE_WRITTEN_FOR), (
        f"diskcache {diskcache.__version__}: check open_for_reading against it, then DISKCACHE_WRITTEN_FOR")
    store = _swept(tmp_path)
    store.close()
    reader = open_for_reading(str(store.directory), 1.0)
    assert reader is not None and reader.get("current") == {"gen": 7}
    reader.close()
    monkeypatch.setattr(diskcache, "__version__", "6.0.0")
    assert open_for_reading(str(store.directory), 1.0) is None
    again = Store(store.directory)
    assert again._get("current") == {"gen": 7}  # through the ordinary open
    again.close()
