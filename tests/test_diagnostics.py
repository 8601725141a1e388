"""Diagnostics that diagnose: -v / -vv / -vvv, an unreadable clouds.yaml, the back-off's next try, -t 0 and
percent perfdata's max (issue 14, "Diagnostics").

Every check runs as Icinga runs it (a subprocess of the installed command) against the simulator.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from harness import needs

#: A hypervisor of the demo scenario (its hostname: vCenter cluster moref and vCenter uuid).
HV = "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11"
REQUEST = re.compile(r"^request (GET|POST|HEAD) /\S* (\d{3}) \d+ ms$")


def _diagnostic_lines(run, no_v) -> list[str]:
    """The lines a -v run adds to the same run's output without -v."""
    assert run.lines[: len(no_v.lines)] == no_v.lines, f"{run}\n{no_v}"
    return run.lines[len(no_v.lines):]


def test_v_adds_one_line_which_cache_its_age_and_the_rules(demo_cloud):
    demo_cloud.sweep()
    plain = demo_cloud.run("check_vio_vm", "--name", "db-01", "--stuck-after", "1h")
    v = demo_cloud.run("check_vio_vm", "--name", "db-01", "--stuck-after", "1h", "-v")
    assert plain.rc == v.rc == 0, str(v)
    [line] = _diagnostic_lines(v, plain)
    cache = demo_cloud.cache_dir / "vio-sim"
    assert line.startswith(f"cache {cache}; inventory of "), line
    assert re.search(r"\(\d+ s old\), fresh \(<= --max-age 2 min\): read without an API call", line), line
    assert line.endswith("state OK by the vm's own record (with --stuck-after 3600)"), line

    # an aggregate names the ranges that decided
    plain = demo_cloud.run("check_vio_hypervisor", "-c", "1", "--ignore-states", "warning")
    v = demo_cloud.run("check_vio_hypervisor", "-c", "1", "--ignore-states", "warning", "-v")
    [line] = _diagnostic_lines(v, plain)
    assert line.endswith("state OK by the number of hypervisors in a problem state (1) against -c 1, "
                         "WARNING ignored (--ignore-states)"), line
    v = demo_cloud.run("check_vio_vm", "-v")
    assert v.rc == 2 and v.lines[-1].endswith("state CRITICAL by the worst state of the VMs (no -w/-c)"), str(v)


def test_v_says_when_this_run_swept_or_answered_from_an_older_inventory(demo_cloud):
    v = demo_cloud.run("check_vio_vm", "--name", "db-01", "-v")
    assert v.rc == 0 and re.search(
        r"swept by this run \(the cached one was missing or older than --max-age 2 min\) in [\d.]+ s, "
        r"\d+ requests", v.lines[-1]), str(v)
    demo_cloud.sim.fault(path="/servers/detail", status=500)
    v = demo_cloud.run("check_vio_vm", "--name", "db-01", "--max-age", "0", "-v")
    assert v.rc == 0, str(v)
    assert ("older than --max-age 0 s and not refreshed, used up to --max-stale 15 min: sweep failed: "
            "compute /servers/detail: HTTP 500; state OK" in v.lines[-1]), str(v)


def test_vv_shows_the_configuration_used(demo_cloud):
    demo_cloud.sweep()
    plain = demo_cloud.run("check_vio_hypervisor", "--name", HV)
    vv = demo_cloud.run("check_vio_hypervisor", "--name", HV, "-vv")
    lines = _diagnostic_lines(vv, plain)
    assert lines[0].startswith("cache "), lines
    assert f"config: cloud vio-sim from {demo_cloud.clouds_yaml}, region the cloud's default (none given)" \
        in lines, lines
    assert any(line.startswith("inventory: cloud vio-sim, ") and "compute microversion 2.87" in line
               for line in lines), lines
    endpoints = [line for line in lines if line.startswith("endpoint ")]
    assert any(f"compute {demo_cloud.sim.url}/compute/v2.1 " in line and ": HTTP 200 in " in line
               for line in endpoints), lines
    [options] = [line for line in lines if line.startswith("options after defaults")]
    assert vv.rc == plain.rc == 0, str(vv)
    for text in (f"--name {HV}", "--os-cloud vio-sim", f"--cache-dir {demo_cloud.cache_dir}",
                 "--max-age 120", "--max-stale 900", "--timeout 30", "--memory-warning 90"):
        assert text in options, options
    assert not any(REQUEST.match(line) for line in lines), lines  # -vvv only
    r = demo_cloud.run("check_vio_hypervisor", "--name", HV, "-vv", "--os-region-name", "RegionOne")
    assert "region RegionOne" in r.stdout, str(r)


def _issued_token(env) -> str:
    """The Keystone token the simulator issued to the checks (kept in the cache's auth state)."""
    [state] = list(env.cache_dir.glob("*/auth-state.json"))
    token = json.loads(json.loads(state.read_text())["state"])["auth_token"]
    assert token and len(token) >= 16
    return token


def test_vvv_lists_the_sweeps_requests_and_never_a_secret(demo_cloud):
    password = "S3cr3t-pw-9f2c"  # the scenario's own ("vio-sim") is also the cloud's name
    demo_cloud.sim.patch("users", "admin", password=password)
    demo_cloud.sim.write_clouds_yaml(demo_cloud.clouds_yaml, cloud=demo_cloud.cloud)
    r = demo_cloud.run("check_vio_vm", "--name", "db-01", "-vvv")
    assert r.rc == 0, str(r)
    requests = [REQUEST.match(line) for line in r.lines if line.startswith("request ")]
    assert len(requests) >= 15 and all(requests), str(r)
    assert any(line.startswith("request POST /identity/v3/auth/tokens 201 ") for line in r.lines), str(r)
    assert any(line.startswith("request GET /compute/v2.1/servers/detail?all_tenants=True&limit=1000 200 ")
               for line in r.lines), str(r)

    warm = demo_cloud.run("check_vio_vm", "--name", "db-01", "-vvv")
    assert warm.lines[-1] == "requests: none: this run did not sweep (the inventory came from the cache)", \
        str(warm)

    demo_cloud.sim.fault(path="/os-hypervisors/detail", status=500)
    failed = demo_cloud.run("check_vio_hypervisor", "--max-age", "0", "-vvv", "-t", "10")
    assert any(re.match(r"request GET /compute/v2.1/os-hypervisors/detail\?limit=1000 500 \d+ ms$", line)
               for line in failed.lines), str(failed)
    demo_cloud.sim.clear_faults()
    discover = demo_cloud.run("vio-discover", "-vvv")
    assert discover.rc == 0 and "vio_checks.http: request GET /compute/v2.1/servers/detail?" \
        in discover.stderr, str(discover)

    token = _issued_token(demo_cloud)
    for run in (r, warm, failed, discover):
        text = run.stdout + run.stderr
        assert password not in text and token not in text, str(run)
        assert "Traceback" not in text


def test_request_lines_mask_secret_query_values(caplog):
    from vio_checks.sweep import http_log, time_requests

    sent = []
    http = SimpleNamespace(request=lambda method, url, **kw: sent.append(url) or SimpleNamespace(status_code=204))
    client = SimpleNamespace(session=SimpleNamespace(session=http))
    with caplog.at_level(logging.DEBUG, logger=http_log.name):
        time_requests(client)
        client.session.session.request("GET", "http://h/v1/x?marker=m1&token=abc&X-Signature=s3cr")
    assert sent == ["http://h/v1/x?marker=m1&token=abc&X-Signature=s3cr"]
    [line] = [rec.getMessage() for rec in caplog.records]
    assert re.fullmatch(r"request GET /v1/x\?marker=m1&token=\*\*\*&X-Signature=\*\*\* 204 \d+ ms", line), line


def test_without_v_nothing_for_diagnostics_is_loaded(demo_cloud):
    demo_cloud.sweep()
    code = (
        "import atexit, sys, logging\n"
        "atexit.register(lambda: sys.stderr.write('LOADED:%s HTTP:%s' % ("
        "'vio_checks.checks.diagnostics' in sys.modules, logging.getLogger('vio_checks.http').level)))\n"
        "sys.argv = ['check_vio_vm', '--name', 'db-01']\n"
        "from vio_checks.checks.vm import main\n"
        "main()\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=demo_cloud.env, capture_output=True, text=True)
    assert p.stdout.startswith("VIO VM OK"), p.stdout + p.stderr
    assert "LOADED:False HTTP:0" in p.stderr, p.stderr


def _unreadable(path) -> list[str]:
    """Make `path` unreadable for the command; return the prefix that runs a command so (root included)."""
    if os.geteuid() != 0:
        path.chmod(0)
        return []
    needs.binary("setpriv", "util-linux", "DIAGNOSTICS")  # runs a command as root without reading every file
    os.chown(path, 65534, 65534)  # nobody's, 0600: root without CAP_DAC_OVERRIDE may not read it
    path.chmod(0o600)
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_an_unreadable_clouds_yaml_is_named(healthy_cloud):
    prefix = _unreadable(healthy_cloud.clouds_yaml)
    want = f"cannot read {healthy_cloud.clouds_yaml} (permission denied)"
    for cmd, rc in ((("check_vio_vm",), 3), (("vio-discover",), 2)):
        p = subprocess.run([*prefix, *healthy_cloud.command(*cmd)], env=healthy_cloud.env, capture_output=True,
                           text=True, timeout=60)
        text = p.stdout + p.stderr
        assert p.returncode == rc and want in text, text
        assert "was not found" not in text and "Traceback" not in text, text


def test_after_a_failed_sweep_the_back_off_says_when_the_next_try_is(demo_cloud):
    demo_cloud.sweep()
    demo_cloud.sim.fault(path="/servers/detail", status=500)
    first = demo_cloud.run("check_vio_vm", "--name", "db-01", "--max-age", "0")
    assert first.rc == 0 and "sweep failed: compute /servers/detail: HTTP 500" in first.status, str(first)
    again = demo_cloud.run("check_vio_vm", "--name", "db-01", "--max-age", "0")
    m = re.search(r"\(inventory \d+ s old: last sweep failed: compute /servers/detail: HTTP 500; retry in (\d+) s\)$",
                  again.status)
    assert again.rc == 0 and m and 1 <= int(m.group(1)) <= 30, str(again)
    discovery = demo_cloud.run("check_vio_discovery", "--max-age", "0")
    assert discovery.rc == 2 and "retry in " in discovery.stdout, str(discovery)


@pytest.mark.parametrize("value", ["0", "0s", "0.5"])
def test_t_0_is_a_bad_option(healthy_cloud, value):
    r = healthy_cloud.run("check_vio_vm", "-t", value)
    assert r.rc == 3, str(r)
    assert r.lines == [f"VIO VM UNKNOWN - bad option: argument -t/--timeout: invalid duration '{value}': out of range "
                       "(use 1s..3660d)"], str(r)
    assert "Traceback" not in r.stdout + r.stderr


def test_percent_perfdata_carries_its_max(demo_cloud):
    r = demo_cloud.run("check_vio_hypervisor", "--name", HV)
    assert r.rc == 0, str(r)
    first = r.lines[0].split("|", 1)[1]
    for key in ("vcpu", "memory", "disk"):
        assert re.search(rf"(^| ){key}_usage=[\d.]+%;[^;\s]*;[^;\s]*;0;100( |$)", first), first
