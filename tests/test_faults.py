"""Faults that must end in one clear answer: bad options, hangs, distrusted sweeps, dead sweepers, full disks.

Each test names the fault it covers; README's "Failure behaviour" table points here. Check behaviour is
tested as Icinga runs it: the installed commands against the simulator through the real openstacksdk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from vio_checks.sim import Simulator

# --- bad options -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "-5", "1001", "many"])
def test_page_size_out_of_range_is_a_bad_option(healthy_cloud, size):
    r = healthy_cloud.run("vio-discover", "--page-size", size)
    assert r.rc == 2, str(r)
    assert "--page-size" in r.stderr and "Traceback" not in r.stderr
    assert not (healthy_cloud.cache_dir.exists() and any(healthy_cloud.cache_dir.iterdir())), "no sweep ran"


@pytest.mark.parametrize("value", ["99999999999d", "0", "1e400", "9" * 400])
def test_absurd_timeouts_are_bad_options(healthy_cloud, value):
    r = healthy_cloud.run("check_vio_vm", "-t", value)
    assert r.rc == 3 and r.status.startswith("VIO VM UNKNOWN - bad option"), str(r)
    assert "Traceback" not in r.stdout + r.stderr
    for cmd in (("vio-discover", "-t", value), ("vio-icinga", "generate", "--output", "-", "-t", value)):
        r = healthy_cloud.run(*cmd)
        assert r.rc == 2 and "invalid" in r.stderr and "Traceback" not in r.stderr, str(r)


@pytest.mark.parametrize("option", ["--max-age", "--max-stale", "--event-retention"])
def test_overflowing_durations_are_bad_options(healthy_cloud, option):
    r = healthy_cloud.run("check_vio_discovery", option, "99999999999d")
    assert r.rc == 3 and "bad option" in r.status and "Traceback" not in r.stdout + r.stderr, str(r)
