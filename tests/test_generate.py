"""vio-icinga generate: rendering, escaping, validation with the real icinga2 / nagios4, and the CLI contract
(atomic write, exit 0 unchanged / 1 changed / 2 error, --on-change, zones)."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from icinga_e2e import assert_one_parent_each
from icinga_helpers import (
    HOSTILE,
    ICINGA_DIR,
    big_inventory,
    icinga_objects,
    small_inventory,
    store_inventory,
    uid,
)

from vio_checks import topology as t
from vio_checks.icinga import (
    COMMANDS,
    COMMON_OPTIONS,
    RenderOptions,
    command_options,
    command_var,
    render_icinga2,
    render_nagios,
)
from vio_checks.icinga import objects as o
from vio_checks.icinga.generate import validate_icinga2, validate_nagios
from vio_checks.icinga.parsers import check_parsers
from vio_checks.icinga.passive import Passive

BIN = Path(sys.executable).parent
P = "vio-demo-RegionOne"
needs_icinga2 = pytest.mark.usefixtures("icinga2_binary")
needs_nagios = pytest.mark.usefixtures("nagios4_binary")


def render(inv, fmt="icinga2", topo_opts=None, **opts) -> str:
    topo = o.build(inv, topo_opts)
    opts.setdefault("shared_vars", {"vio_os_cloud": "demo", "vio_os_region_name": "RegionOne"})
    ro = RenderOptions(**opts)
    return render_icinga2.render(topo, ro) if fmt == "icinga2" else render_nagios.render(topo, ro)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def ok(v) -> None:
    assert v.ok, v.errors()


# --- escaping ------------------------------------------------------------------------------------------


def test_icinga2_string_escaping():
    s = render_icinga2.string
    assert s('a"b\\c') == r'"a\"b\\c"'
    assert s("line\nbreak\ttab\rcr") == r'"line\nbreak\ttab\rcr"'
    assert s("cost $5 $host.name$") == '"cost $$5 $$host.name$$"'
    assert s("cost $5", macros=False) == '"cost $5"'
    assert s("bell\x07nul\x00del\x7f") == r'"bell\007nuldel\177"'
    assert s("{x} }{ // /* é中") == '"{x} }{ // /* é中"'
    assert render_icinga2.comment("a\nobject Host \"x\" {}") == '// a object Host "x" {}'
    for bad in ("a!b", "", " a", "a\n"):
        with pytest.raises(ValueError):
            render_icinga2.name(bad)
    assert render_icinga2.value({"k y": ["a", 1, True]}) == '{ "k y" = [ "a", 1, true ] }'


def test_nagios_escaping():
    assert render_nagios.text("a;b\nc") == "a_b c"
    assert render_nagios.text('$(reboot) `id` "q" \'s\' <x> a|b a&b ~ \\') == "_(reboot) _id_ _q_ _s_ _x_ a_b a_b _ _"
    assert render_nagios.text("") == "-"
    assert render_nagios.arg("3f1c-uuid") == "3f1c-uuid"
    assert render_nagios.arg("a b!c$d;e'f") == "'a b\\!c$$d\\;e'\\''f'"
    assert render_nagios.url("https://h/x?a=1&b=%24") == "https://h/x?a=1&b=%24"
    for bad in ("a!b", "a b", "a,b", "a(b)", ""):
        with pytest.raises(ValueError):
            render_nagios.name(bad)


# --- validation with the real binaries ---------------------------------------------------------------------


@needs_icinga2
def test_small_cloud_validates_with_icinga2(tmp_path):
    ok(validate_icinga2([write(tmp_path, "vio.conf", render(small_inventory()))], ICINGA_DIR))


@needs_nagios
def test_small_cloud_validates_with_nagios(tmp_path):
    ok(validate_nagios([write(tmp_path, "vio.cfg", render(small_inventory(), "nagios"))], ICINGA_DIR))


@needs_icinga2
def test_hostile_names_stay_inert_in_icinga2(tmp_path):
    text = render(small_inventory(hostile=True), topo_opts=o.Options(notes_urls={t.VM: "https://h/{name}"}))
    keep = tmp_path / "state"
    ok(validate_icinga2([write(tmp_path, "vio.conf", text)], ICINGA_DIR, keep=keep))
    objects = icinga_objects(keep / "cache" / "icinga2.debug")
    web = objects[("Host", f"{P}-vm-{uid('vm', 'web-01')}")]
    name = f"web-01 {HOSTILE}"
    assert web["display_name"] == name  # exactly what the tenant typed, as text
    assert web["vars"]["vio_name"] == name.replace("$", "$$")  # macro-escaped: resolves back to the name
    assert web["vars"]["vio_vm_id"] == uid("vm", "web-01")  # the check argument is the id
    assert web["vars"]["vio_metadata"][f"key {HOSTILE}"] == "v"
    assert web["notes_url"].startswith("https://h/web-01%20he%20said%20%22hi%22")
    assert "$" not in web["notes_url"]
    hosts = [k for k in objects if k[0] == "Host"]
    assert len(hosts) == len([n for n in o.build(small_inventory()).nodes.values() if n.is_host])


@needs_nagios
def test_hostile_names_stay_inert_in_nagios(tmp_path):
    text = render(small_inventory(hostile=True), "nagios")
    ok(validate_nagios([write(tmp_path, "vio.cfg", text)], ICINGA_DIR))
    for line in text.splitlines():
        key, _, val = line.strip().partition(" ")
        if key in ("alias", "display_name") or key.startswith("_VIO"):
            assert not re.search(r"[`$&|'\"<>\\;]", val), line


@needs_icinga2
def test_services_never_inherit_their_hosts_check_settings(tmp_path):
    """Icinga resolves a service's `$var$` from its host when the service lacks it: the capacity service (same
    command as its hypervisor host) ran with the host's --state-only and never alerted."""
    keep = tmp_path / "state"
    ok(validate_icinga2([write(tmp_path, "vio.conf", render(small_inventory()))], ICINGA_DIR, keep=keep))
    objects = icinga_objects(keep / "cache" / "icinga2.debug")
    parsers = check_parsers()
    shared = set(COMMON_OPTIONS.values())
    checked = 0
    for (type_, _), props in objects.items():
        if type_ != "Service" or props.get("check_command") not in COMMANDS:
            continue
        command = props["check_command"]
        reads = {command_var(command, o) for a in parsers[command]._actions for o in a.option_strings
                 if o.startswith("--")} - shared
        host = objects[("Host", props["host_name"])]
        inherited = {v for v in (host.get("vars") or {}) if v in reads} - set(props.get("vars") or {})
        assert not inherited, (props["host_name"], props["name"], inherited)
        checked += 1
    assert checked > 10
    capacity = [p for (ty, _), p in objects.items() if ty == "Service" and p["name"] == "capacity"]
    assert capacity and all(p["vars"]["vio_hypervisor_state_only"] is False for p in capacity)
    hosts = [p for (ty, _), p in objects.items() if ty == "Host" and p["vars"].get("vio_kind") == "hypervisor"]
    assert hosts and all(p["vars"]["vio_hypervisor_state_only"] is True for p in hosts)


def test_a_service_cannot_inherit_a_value_setting_from_its_host():
    """Icinga cannot unset a var, so a host's value option its service's command also reads is refused."""
    topo = o.build(small_inventory())
    hv = next(n for n in topo.nodes.values() if n.kind == t.HYPERVISOR)
    hv.check = o.Check(hv.check.command, (*hv.check.args, ("--memory-warning", "0:")))
    with pytest.raises(ValueError, match="would inherit vio_hypervisor_memory_warning"):
        render_icinga2.render(topo)


@needs_icinga2
def test_one_file_for_every_icinga_version_and_one_parent_each(tmp_path):
    """The HA router's two L3 agents are one set, its one parent: no redundancy_group (2.13 rejects it,
    2.14 needs it for several parents), and the file validates with this machine's icinga2."""
    text = render(small_inventory())
    children = assert_one_parent_each(text)
    ha_set = f"{P}!l3-agents-{uid('router', 'ha')}"
    assert children[f"{P}-router-{uid('router', 'ha')}"] == ha_set
    assert ha_set not in children  # the set hangs below the cloud host (its own host) alone
    assert "Icinga 2." not in text.splitlines()[0]  # the header names no version either
    ok(validate_icinga2([write(tmp_path, "vio.conf", text)], ICINGA_DIR))


@needs_icinga2
def test_zone_output_validates_with_the_zones_example(tmp_path):
    text = render(small_inventory(), zone="vio-regionone")
    assert text.count('zone = "vio-regionone"') == text.count("\nobject ")
    ok(validate_icinga2([write(tmp_path, "vio.conf", text)], ICINGA_DIR,
                        extra=[ICINGA_DIR / "zones.conf.example"]))


@needs_icinga2
@needs_nagios
def test_ten_thousand_vms_validate_with_both(tmp_path):
    """Both daemons accept the config of 10,000 VMs; how long they take is BENCHMARKS.md's figure 6."""
    inv = big_inventory()
    for fmt, validator, name in (("icinga2", validate_icinga2, "big.conf"), ("nagios", validate_nagios, "big.cfg")):
        ok(validator([write(tmp_path, name, render(inv, fmt))], ICINGA_DIR))


def test_output_is_deterministic():
    inv = small_inventory(hostile=True)
    first = render(inv)
    for kind in ("servers", "ports", "volumes", "routers", "agents", "hypervisors", "projects"):
        random.Random(kind).shuffle(inv.of_kind(kind))
    inv.meta.fetched_at += 3600
    assert render(inv) == first
    assert render(inv, "nagios") == render(small_inventory(hostile=True), "nagios")
    assert time.strftime("%Y-%m-%d") not in first and time.strftime("%Y-%m-%d") not in render(inv, "nagios")
    assert first.startswith("// Generated by vio-icinga from cloud demo region RegionOne")


def test_shipped_commands_are_generated_from_the_checks():
    assert (ICINGA_DIR / "commands.conf").read_text() == render_icinga2.render_commands(command_options()), \
        "icinga/commands.conf is stale: vio-icinga commands --format icinga2 > icinga/commands.conf"
    assert (ICINGA_DIR / "nagios" / "commands.cfg").read_text() == render_nagios.render_commands(COMMANDS), \
        "icinga/nagios/commands.cfg is stale: vio-icinga commands --format nagios > icinga/nagios/commands.cfg"


# --- the command -------------------------------------------------------------------------------------------


def vio_icinga(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
    full_env.update(env or {})
    p = subprocess.run([str(BIN / "vio-icinga"), *map(str, args)], capture_output=True, text=True, timeout=120,
                       env=full_env, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def generate(cache: Path, *args: object) -> subprocess.CompletedProcess:
    return vio_icinga("generate", "--os-cloud", "demo", "--os-region-name", "RegionOne", "--cache-dir", cache,
                      "--cache-only", *args)


@pytest.fixture
def cache(tmp_path) -> Path:
    store_inventory(tmp_path / "cache", small_inventory())
    return tmp_path / "cache"


@needs_icinga2
def test_generate_writes_only_changes_and_says_so(tmp_path, cache):
    out = tmp_path / "conf.d"
    out.mkdir()
    path = out / f"{P}.conf"
    first = generate(cache, "--output", out, "--validate")
    assert first.returncode == 1, first.stderr
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o644"
    assert f"wrote {path}" in first.stdout
    content, mtime = path.read_bytes(), path.stat().st_mtime_ns
    time.sleep(0.01)
    again = generate(cache, "--output", out, "--validate")
    assert again.returncode == 0, again.stderr
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime  # untouched
    assert again.stdout == ""

    inv = small_inventory()  # web-01 migrates to Cluster-B; lab is deleted
    web = next(s for s in inv.servers if s.name == "web-01")
    web.hypervisor_hostname, web.host = "domain-c9(Cluster-B)", "vio-compute-02"
    inv.servers = [s for s in inv.servers if s.name != "lab-01"]
    store_inventory(cache, inv)
    moved = generate(cache, "--output", out, "--validate")
    assert moved.returncode == 1, moved.stderr
    text = path.read_text()
    hv2 = f"{P}-hv-{o.object_name('domain-c9(Cluster-B)')}"
    assert (f'parent_host_name = "{hv2}"\n  child_host_name = "{P}-vm-{uid("vm", "web-01")}"') in text
    assert uid("vm", "lab") not in text
    assert sorted(out.iterdir()) == [path]  # no temp files left behind

    stdout = generate(cache, "--output", "-")
    assert stdout.returncode == 0 and stdout.stdout == text


@needs_icinga2
def test_rejected_config_leaves_the_previous_file(tmp_path, cache):
    path = tmp_path / "vio.conf"
    path.write_text("// the previous config\n")
    broken = tmp_path / "broken"
    shutil.copytree(ICINGA_DIR, broken)
    templates = (broken / "templates.conf").read_text()
    (broken / "templates.conf").write_text(templates.replace('template Host "vio-vm-host"', 'template Host "x"'))
    marker = tmp_path / "reloaded"
    p = generate(cache, "--output", path, "--conf-dir", broken, "--on-change", f"touch {marker}")
    assert p.returncode == 2
    assert "rejected the new config" in p.stderr and "vio-vm-host" in p.stderr
    assert path.read_text() == "// the previous config\n" and not marker.exists()
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".vio.conf")] == []


@needs_icinga2
def test_on_change_runs_only_after_a_validated_change(tmp_path, cache):
    marker = tmp_path / "reloaded"
    args = ("--output", tmp_path / "vio.conf", "--on-change", f"echo reload >> {marker}")
    assert generate(cache, *args).returncode == 1
    assert generate(cache, *args).returncode == 0
    assert marker.read_text() == "reload\n"
    failing = generate(cache, "--output", tmp_path / "other.conf", "--on-change", "exit 7")
    assert failing.returncode == 2 and "exited 7" in failing.stderr


@needs_icinga2
def test_zone_directory_layout(tmp_path, cache):
    p = generate(cache, "--output", tmp_path, "--zone", "vio-regionone", "--validate")
    assert p.returncode == 1, p.stderr
    path = tmp_path / "zones.d" / "vio-regionone" / f"{P}.conf"
    assert 'zone = "vio-regionone"' in path.read_text()
    assert oct(path.parent.stat().st_mode & 0o777) == "0o755"


@needs_nagios
def test_nagios_directory_output(tmp_path, cache):
    p = generate(cache, "--format", "nagios", "--output", tmp_path, "--validate")
    assert p.returncode == 1, p.stderr
    assert (tmp_path / f"{P}.cfg").read_text().startswith("# Generated by vio-icinga")


def test_filters_and_intervals_on_the_command_line(tmp_path, cache):
    p = generate(cache, "--output", "-", "--kinds", "hypervisors,vms,interfaces,routers,services",
                 "--exclude-projects", "db", "--vm-interval", "10m", "--notes-url",
                 "vm=https://horizon.example.com/project/instances/{id}/")
    assert p.returncode == 0, p.stderr
    assert 'object Service "volume-' not in p.stdout and uid("vm", "db-01") not in p.stdout
    assert "check_interval = 10m" in p.stdout
    assert f'notes_url = "https://horizon.example.com/project/instances/{uid("vm", "web-01")}/"' in p.stdout


def test_errors_are_one_line_with_exit_2(tmp_path, cache):
    empty = generate(tmp_path / "nothing", "--output", tmp_path / "x.conf")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1 and "no inventory" in empty.stderr
    assert not (tmp_path / "x.conf").exists()
    for args, message in ((("--kinds", "vms,nope"), "unknown --kinds nope"),
                          (("--format", "nagios", "--zone", "z"), "--zone"),
                          (("--notes-url", "vm=https://x/{bad}"), "bad URL template"),
                          (("--icinga-version", "latest"), "not an Icinga version")):
        p = generate(cache, "--output", "-", *args)
        assert p.returncode == 2 and message in p.stderr and p.stderr.count("\n") == 1, (args, p.stderr)
    nested = generate(cache, "--output", tmp_path / "new" / "sub" / "x.conf")
    assert nested.returncode == 1  # missing parent directories are created


def test_generate_writes_the_same_file_for_every_icinga_version(cache):
    """No dialect: --icinga-version (2.13, 2.14, or none) changes nothing in the file."""
    texts = {v: generate(cache, "--output", "-", *(("--icinga-version", v) if v else ())) for v in
             (None, "2.13", "2.14", "2.14.6")}
    assert all(p.returncode == 0 for p in texts.values()), [p.stderr for p in texts.values()]
    assert len({p.stdout for p in texts.values()}) == 1
    assert_one_parent_each(texts[None].stdout)


def fake_icinga2(tmp_path: Path, version_output: str) -> Path:
    """An icinga2 that says `version_output` to --version and runs this machine's icinga2 for the rest."""
    real = shutil.which("icinga2") or "/usr/sbin/icinga2"
    path = tmp_path / "bin" / "icinga2"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo \'{version_output}\'; exit 0; fi\n'
                    f'exec {real} "$@"\n')
    path.chmod(0o755)
    return path


@needs_icinga2
def test_validate_reads_the_version_of_the_icinga2_it_runs(tmp_path, cache):
    """generate --validate asks the binary it validates with (`icinga2 --version`); an explicit
    --icinga-version stays an override, and one that disagrees with that binary is an error (exit 2, one
    line, nothing written). The file is the same whichever version validated it."""
    real = subprocess.run([shutil.which("icinga2") or "/usr/sbin/icinga2", "--version"], capture_output=True,
                          text=True).stdout
    local = re.search(r"\(version: r?v?(\d+\.\d+\.\d+)", real).group(1)
    first = generate(cache, "--output", tmp_path / "a.conf", "--validate")
    assert first.returncode == 1, first.stderr
    assert f"(icinga2 daemon -C of Icinga {local}, " in first.stdout

    fake = fake_icinga2(tmp_path, "icinga2 - The Icinga 2 network monitoring daemon (version: v2.14.6)")
    second = generate(cache, "--output", tmp_path / "b.conf", "--validate", "--icinga2-bin", fake)
    assert second.returncode == 1, second.stderr
    assert "(icinga2 daemon -C of Icinga 2.14.6, " in second.stdout
    assert (tmp_path / "a.conf").read_bytes() == (tmp_path / "b.conf").read_bytes()
    agree = generate(cache, "--output", tmp_path / "c.conf", "--validate", "--icinga2-bin", fake,
                     "--icinga-version", "2.14")
    assert agree.returncode == 1, agree.stderr

    clash = generate(cache, "--output", tmp_path / "d.conf", "--validate", "--icinga2-bin", fake,
                     "--icinga-version", "2.13")
    assert clash.returncode == 2 and clash.stderr.count("\n") == 1, clash.stderr
    assert clash.stderr == (f"vio-icinga: --icinga-version 2.13 disagrees with {fake}, which --validate runs: it "
                            "is Icinga 2.14.6 (drop --icinga-version, or give --icinga2-bin of that version)\n")
    assert not (tmp_path / "d.conf").exists()
    # without --validate no binary is asked: the override is taken as it is
    assert generate(cache, "--output", tmp_path / "e.conf", "--icinga-version", "2.13").returncode == 1

    mute = fake_icinga2(tmp_path, "icinga2 (no version here)")
    p = generate(cache, "--output", tmp_path / "f.conf", "--validate", "--icinga2-bin", mute)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "--version did not say which Icinga version it is: icinga2 (no version here)" in p.stderr


@needs_icinga2
def test_demo_cloud_generate_validate(demo_cloud, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    r = demo_cloud.run("vio-icinga", "generate", "--output", out, "--validate")
    assert r.rc == 1, str(r)
    conf = next(out.iterdir())
    assert conf.name == "vio-vio-sim.conf" or conf.name.startswith("vio-vio-sim")
    assert "object Host" in conf.read_text()
    again = demo_cloud.run("vio-icinga", "generate", "--output", out, "--validate")
    assert again.rc == 0, str(again)
    nagios = demo_cloud.run("vio-icinga", "generate", "--format", "nagios", "--output", out, "--validate")
    assert nagios.rc == 1, str(nagios)


# --- passive mode ------------------------------------------------------------------------------------------


def _passive(fmt: str) -> str:
    return render(small_inventory(), fmt, passive=Passive(interval=60, ttl=600))


@needs_icinga2
def test_passive_objects_run_only_the_stale_check(tmp_path):
    """Passive mode: no object runs a check executable. As icinga2 compiles them, every host and service
    runs `dummy` UNKNOWN with the pusher's silence as its text: the cloud host (the root) after 3 intervals,
    the rest after the ttl, each with a retry_interval past its freshness (see passive.py); Nagios: the same
    through the generated passive templates, listed first in `use`."""
    keep = tmp_path / "state"
    ok(validate_icinga2([write(tmp_path, "vio.conf", _passive("icinga2"))], ICINGA_DIR, keep=keep))
    objects = icinga_objects(keep / "cache" / "icinga2.debug")
    checked = [props for (type_, _), props in objects.items() if type_ in ("Host", "Service")]
    hosts = {props["name"] for (type_, _), props in objects.items() if type_ == "Host"}
    assert hosts == {n.host for n in o.build(small_inventory()).nodes.values() if n.is_host}
    for props in checked:
        root = props["name"] == P
        assert props["check_command"] == "dummy", props["name"]
        assert props["vars"]["dummy_state"] == 3
        assert props["vars"]["dummy_text"] == f"no result from vio-icinga push for {3 if root else 10} min"
        assert (props["check_interval"], props["retry_interval"]) == ((180, 181) if root else (600, 601))
        assert props["enable_active_checks"] and props["enable_passive_checks"]
    nagios = _passive("nagios")
    assert re.search(rf"use\s+{P}-passive-host,vio-vm-host\n", nagios)
    assert re.search(r"freshness_threshold\s+180\n", nagios)
    assert not re.search(r"check_command\s+vio_vm", nagios)
    assert re.search(r"check_command\s+vio_push_stale!'no result from vio-icinga push for 10 min'", nagios)


def test_passive_ttl_must_cover_two_intervals():
    with pytest.raises(ValueError, match="at least twice"):
        Passive(interval=60, ttl=90)


@needs_nagios
def test_passive_config_validates_with_nagios(tmp_path):
    ok(validate_nagios([write(tmp_path, "vio.cfg", _passive("nagios"))], ICINGA_DIR))


@needs_icinga2
def test_satellite_zone_writes_the_parent_zones_watch(tmp_path, cache):
    """--zone Z: the objects to zones.d/Z/, and zones.d/master/<prefix>-zone.conf with the cluster-zone host
    every root of the tree depends on; exit 1 when either changed, 0 when neither did."""
    objects = tmp_path / "zones.d" / "vio-regionone" / f"{P}.conf"
    watch = tmp_path / "zones.d" / "master" / f"{P}-zone.conf"
    p = generate(cache, "--output", tmp_path, "--zone", "vio-regionone", "--validate")
    assert p.returncode == 1, p.stderr
    assert f"wrote {objects}" in p.stdout and f"wrote {watch}" in p.stdout
    text = watch.read_text()
    assert f'object Host "{P}-zone"' in text and 'check_command = "cluster-zone"' in text
    assert 'vars.cluster_zone = "vio-regionone"' in text and text.count('zone = "master"') == text.count("\nobject ")
    # one Dependency per object that has no parent of its own: the cloud host and its services
    topo = o.build(small_inventory(), None)
    roots = [n for n in topo.nodes.values() if not n.parents]
    assert text.count('object Dependency "vio-zone"') == len(roots) > 1
    assert f'child_host_name = "{P}"\n  zone' in text  # the cloud host itself
    assert generate(cache, "--output", tmp_path, "--zone", "vio-regionone").returncode == 0
    watch.unlink()
    before = objects.stat().st_mtime_ns
    p = generate(cache, "--output", tmp_path, "--zone", "vio-regionone")
    assert p.returncode == 1 and watch.exists() and objects.stat().st_mtime_ns == before, p.stdout
    assert p.stdout.count("wrote") == 1
    # to stdout: both parts; the zone the parent itself: no watch; a single file: refused (two zones.d dirs)
    p = generate(cache, "--output", "-", "--zone", "vio-regionone", "--parent-zone", "emea")
    assert p.returncode == 0 and f'object Host "{P}-zone"' in p.stdout and 'zone = "emea"' in p.stdout
    p = generate(cache, "--output", "-", "--zone", "master")
    assert p.returncode == 0 and f"{P}-zone" not in p.stdout
    p = generate(cache, "--output", tmp_path / "one.conf", "--zone", "vio-regionone")
    assert p.returncode == 2 and "must be a directory" in p.stderr and p.stderr.count("\n") == 1


@needs_icinga2
def test_satellite_zone_and_its_watch_validate_with_the_zones_example(tmp_path):
    """The parent zone's Dependencies name children in the satellite zone: icinga2 accepts that (and the
    real master + satellite of tests/test_distributed.py run it)."""
    topo = o.build(small_inventory(), None)
    zone_text = render_icinga2.render(topo, RenderOptions(zone="vio-regionone"))
    watch = render_icinga2.render_zone(topo, "vio-regionone")
    ok(validate_icinga2([write(tmp_path, "vio.conf", zone_text), write(tmp_path, "watch.conf", watch)],
                        ICINGA_DIR, extra=[ICINGA_DIR / "zones.conf.example"]))
    assert render_icinga2.render_zone(topo, "vio-regionone") == watch  # deterministic


@needs_icinga2
def test_two_regions_in_two_zones_never_collide(tmp_path):
    """One run per region: objects, groups, passive templates and the zone hosts of RegionOne and RegionTwo
    load side by side (same inventory ids in both regions: only the region-bearing prefix tells them apart)."""
    files = []
    for region, zone in (("RegionOne", "vio-regionone"), ("RegionTwo", "vio-regiontwo")):
        topo = o.build(small_inventory(region=region), None)
        opts = RenderOptions(zone=zone, passive=Passive(60, 600))
        files += [write(tmp_path, f"{zone}.conf", render_icinga2.render(topo, opts)),
                  write(tmp_path, f"{zone}-watch.conf", render_icinga2.render_zone(topo, zone))]
    ok(validate_icinga2(files, ICINGA_DIR, extra=[ICINGA_DIR / "zones.conf.example"]))
    watches = [f.read_text() for f in files[1::2]]
    assert 'object Host "vio-demo-RegionOne-zone"' in watches[0] and 'object Host "vio-demo-RegionTwo-zone"' in watches[1]


@needs_icinga2
def test_validate_says_what_and_checks_the_live_tree(tmp_path, cache):
    """--validate names what it validated against; --validate-with validates inside a copy of the live
    configuration, so an old copy of our objects elsewhere in it (a duplicate) is caught before the write."""
    etc = tmp_path / "etc-icinga2"
    (etc / "conf.d").mkdir(parents=True)
    shutil.copy(ICINGA_DIR / "commands.conf", etc / "vio-commands.conf")
    shutil.copy(ICINGA_DIR / "templates.conf", etc / "vio-templates.conf")
    (etc / "icinga2.conf").write_text('include <itl>\ninclude <plugins>\nconst PluginDir = "/usr/lib/nagios/plugins"\n'
                                      'const VioChecksDir = "/usr/local/bin"\n'
                                      'include "vio-commands.conf"\ninclude "vio-templates.conf"\n'
                                      'include_recursive "conf.d"\n')
    out = etc / "conf.d" / "vio"
    out.mkdir()
    first = generate(cache, "--output", out, "--validate")
    assert first.returncode == 1 and "validated " in first.stdout and "with the shipped files of " in \
        first.stdout and "(icinga2 daemon -C of Icinga 2." in first.stdout, first.stdout
    old = etc / "conf.d" / "vio-old.conf"  # the admin's earlier copy, under another name
    shutil.copy(out / f"{P}.conf", old)
    inv = small_inventory()  # web-01 migrates: the new file differs
    web = next(s for s in inv.servers if s.name == "web-01")
    web.hypervisor_hostname, web.host = "domain-c9(Cluster-B)", "vio-compute-02"
    store_inventory(cache, inv)
    before = (out / f"{P}.conf").read_bytes()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert generate(cache, "--output", plain, "--validate").returncode == 1  # alone it is fine
    live = generate(cache, "--output", out, "--validate-with", etc)
    assert live.returncode == 2 and "inside a copy of the live configuration" in live.stderr, live.stderr
    assert "re-defined" in live.stderr and (out / f"{P}.conf").read_bytes() == before  # not written
    old.unlink()
    ok_ = generate(cache, "--output", out, "--validate-with", etc)
    assert ok_.returncode == 1 and f"inside a copy of the live configuration {etc}" in ok_.stdout, ok_.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = generate(cache, "--output", elsewhere, "--validate-with", etc)
    assert outside.returncode == 2 and "is outside it" in outside.stderr


def test_settings_come_from_options_the_cache_dir_not_from_the_environment(monkeypatch):
    """The cloud the generator used is every check's; the cache directory only when given as an option:
    a satellite's checks keep their own cache, whatever VIO_CHECKS_CACHE_DIR the generator ran with."""
    from vio_checks.icinga import cli as icli
    from vio_checks.icinga.generate import settings_vars

    monkeypatch.setenv("VIO_CHECKS_CACHE_DIR", "/tmp/generator-cache")
    monkeypatch.setenv("OS_CLOUD", "vio")
    args = icli.build_parser().parse_args(["generate", "--max-age", "5m", "--cache-only"])
    assert settings_vars(args) == {"vio_os_cloud": "vio", "vio_max_age": "300s", "vio_cache_only": True}
    args = icli.build_parser().parse_args(["generate", "--cache-dir", "/var/cache/vio-checks"])
    assert settings_vars(args) == {"vio_os_cloud": "vio", "vio_cache_dir": "/var/cache/vio-checks"}
