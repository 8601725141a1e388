"""Only known-good values are OK (issue 20, item 2), end to end: the checks as subprocesses against the
simulator, whose `replace_fields` fault puts into a reply what no API of it accepts (an undocumented
status, a list or a number where a string belongs, a string where a boolean does, a timestamp that does
not parse).

The classes: every judged field of every kind with (a) a value the API does not document, (b) a value of
the wrong type, (c) absent (routers: the others are in test_check_verdict_rules); a VM port DOWN while its
VM's state is unknown; a transitional state whose timestamp does not parse (stuck detection falls back to
when a sweep first saw it, kept with the inventory).
"""

from __future__ import annotations

import pytest
from conftest import CloudEnv

from vio_checks.cache import Store, namespace

VC = "9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11"
C8 = f"domain-c8.{VC}"

SCENARIO = {
    "description": "known-values tests",
    "settings": {"vcenter_uuid": VC},
    "projects": [{"name": "admin"}],
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"}],
    "volume_services": [{"binary": "cinder-scheduler", "host": "vio-controller-01"}],
    "hypervisors": [{"hypervisor_hostname": C8, "host": "vio-compute-01"}],
    "agents": [{"agent_type": "DHCP agent", "host": "vio-network-01"}],
    "networks": [{"name": "private", "cidr": "10.0.0.0/24"}],
    "routers": [{"name": "r1"}],
    "servers": [{"name": "web-01", "host": "vio-compute-01"}],
    "ports": [{"name": "web-01-eth0", "network_id": "private", "device_id": "web-01"}],
    "volumes": [{"name": "data", "size": 5}],
}

#: check → its arguments selecting the one object of the kind in SCENARIO.
ONE = {
    "servers": ("check_vio_vm", "--name", "web-01"),
    "hypervisors": ("check_vio_hypervisor", "--id", C8),
    "compute_services": ("check_vio_service", "--binary", "nova-scheduler", "--host", "vio-controller-01"),
    "volume_services": ("check_vio_service", "--binary", "cinder-scheduler", "--host", "vio-controller-01"),
    "agents": ("check_vio_service", "--binary", "neutron-dhcp-agent", "--host", "vio-network-01"),
    "volumes": ("check_vio_volume", "--name", "data"),
    "ports": ("check_vio_interface", "--name", "web-01-eth0"),
    "routers": ("check_vio_router", "--name", "r1"),
}

#: (kind, API field, value in the reply, what the UNKNOWN line must say): one round per column of values.
UNDOCUMENTED = [
    ("servers", "status", "SHINY", "Nova reported an undocumented status 'SHINY': state unverified"),
    ("hypervisors", "state", "sideways", "Nova reported an undocumented state 'sideways': state unverified"),
    ("compute_services", "state", "dozing",
     "Nova reported an undocumented state 'dozing': state unverified"),
    ("volume_services", "status", "frozen",
     "Cinder reported an undocumented status 'frozen': state unverified"),
    ("volumes", "status", "shiny", "Cinder reported an undocumented status 'shiny': state unverified"),
    ("ports", "status", "SHINY", "Neutron reported an undocumented status 'SHINY': state unverified"),
    ("routers", "status", "FROZEN", "Neutron reported an undocumented status 'FROZEN': state unverified"),
    ("agents", "alive", "maybe", "Neutron reported alive as a string: 'maybe': state unverified"),
]
WRONG_TYPE = [
    ("servers", "status", ["ACTIVE"], "Nova reported status as a list: ['ACTIVE']: state unverified"),
    ("hypervisors", "status", 1, "Nova reported status as a number: 1: state unverified"),
    ("compute_services", "status", {"enabled": True},
     "Nova reported status as an object: {'enabled': True}: state unverified"),
    ("volume_services", "state", ["up"], "Cinder reported state as a list: ['up']: state unverified"),
    ("volumes", "status", ["available"], "Cinder reported status as a list: ['available']: state unverified"),
    ("ports", "admin_state_up", [True], "Neutron reported admin_state_up as a list: [True]: state unverified"),
    ("routers", "status", 5, "Neutron reported status as a number: 5: state unverified"),
    ("agents", "admin_state_up", [1], "Neutron reported admin_state_up as a list: [1]: state unverified"),
]
MORE = [
    ("servers", "host_status", "SIDEWAYS",
     "Nova reported an undocumented host_status 'SIDEWAYS': state unverified"),
    ("servers", "OS-EXT-STS:task_state", ["migrating"],
     "Nova reported task_state as a list: ['migrating']: state unverified"),
    ("servers", "OS-EXT-STS:power_state", "running",
     "Nova reported power_state as a string: 'running': state unverified"),
    ("routers", "admin_state_up", "nope",
     "Neutron reported admin_state_up as a string: 'nope': state unverified"),
]


def check(env: CloudEnv, *args: str):
    r = env.run(*args, "--cache-only")
    assert r.rc in (0, 1, 2, 3) and "Traceback" not in r.stdout + r.stderr, str(r)
    return r


def swept_with(env: CloudEnv, replace: dict) -> None:
    """One sweep whose replies carry `replace` ({kind: {field: value}}); the checks then read its cache."""
    env.sim.fault(replace_fields=replace)
    env.sweep()
    env.sim.clear_faults()


@pytest.mark.parametrize("cases", [UNDOCUMENTED, WRONG_TYPE, MORE], ids=["undocumented", "wrong-type", "more"])
def test_a_value_the_product_does_not_know_is_unknown_and_named(make_cloud, cases) -> None:
    env = make_cloud(SCENARIO)
    replace: dict[str, dict] = {}
    for kind, field, value, _ in cases:
        replace.setdefault(kind, {})[field] = value
    swept_with(env, replace)
    for kind, _, _, text in cases:  # several fields of one record: each named, "; " between them
        r = check(env, *ONE[kind])
        assert r.rc == 3 and text.removesuffix(": state unverified") in r.status, f"{kind}: {r}"
        assert r.status.count("state unverified") == 1, f"{kind}: {r}"


def test_a_router_without_status_is_unknown_not_warning(make_cloud) -> None:
    env = make_cloud(SCENARIO)
    env.sim.fault(missing_fields={"routers": ["status"]})
    env.sweep()
    env.sim.clear_faults()
    r = check(env, *ONE["routers"])
    assert (r.rc, r.status) == (3, "VIO ROUTER UNKNOWN - r1: Neutron reported no status: state unverified"), \
        str(r)
    r = check(env, "check_vio_router")
    assert r.perfdata["unverified"] == 1 and "not ACTIVE" not in r.stdout, str(r)


def test_aggregates_count_unknown_values_as_unverified_never_ok(make_cloud) -> None:
    env = make_cloud(SCENARIO)
    swept_with(env, {"servers": {"status": "SHINY"}, "ports": {"status": "SHINY"},
                     "volumes": {"status": "shiny"}, "hypervisors": {"state": "sideways"},
                     "routers": {"status": "FROZEN"}})
    for command in ("check_vio_vm", "check_vio_interface", "check_vio_volume", "check_vio_hypervisor",
                    "check_vio_router"):
        r = check(env, command)
        assert r.perfdata["unverified"] >= 1 and r.perfdata.get("ok", 0) == 0, f"{command}: {r}"


@pytest.mark.parametrize(("status", "why"), [
    ("UNKNOWN", "Nova reports status UNKNOWN"),
    ("SHINY", "Nova reported an undocumented status 'SHINY'"),
])
def test_a_port_down_is_not_ok_because_its_vm_state_is_unknown(make_cloud, status: str, why: str) -> None:
    env = make_cloud(SCENARIO)
    swept_with(env, {"servers": {"status": status}, "ports": {"status": "DOWN"}})
    r = check(env, *ONE["ports"])
    assert (r.rc, r.status) == (2, f"VIO INTERFACE CRITICAL - web-01 port web-01-eth0 on private is DOWN, and "
                                   f"its VM's state is unknown ({why})"), str(r)


def snapshot(env: CloudEnv):
    snap = Store(env.cache_dir / namespace(env.cloud, None)).current()
    assert snap is not None
    return snap


@pytest.mark.parametrize(("kind", "replace", "args", "source", "line"), [
    ("servers", {"OS-EXT-STS:task_state": "migrating", "updated": "yesterday-ish"}, ONE["servers"], "Nova",
     "web-01 stuck ACTIVE (migrating) for"),
    ("volumes", {"status": "creating", "updated_at": "2026-13-45T99:99:99"}, ONE["volumes"], "Cinder",
     "data stuck creating for"),
    ("ports", {"status": "BUILD", "updated_at": ["2026-11-24T10:00:00Z"]}, ONE["ports"], "Neutron",
     "web-01 port web-01-eth0 on private stuck in BUILD for"),
])
def test_an_unreadable_timestamp_falls_back_to_when_a_sweep_first_saw_the_state(
        make_cloud, kind: str, replace: dict, args: tuple, source: str, line: str) -> None:
    env = make_cloud(SCENARIO)
    swept_with(env, {kind: replace})
    first = snapshot(env)
    swept_with(env, {kind: replace})
    second = snapshot(env)

    r = check(env, *args, "--stuck-after", "0")  # before: "(since ?)", OK for ever
    assert r.rc == 1 and line in r.status, str(r)
    assert "since first seen" in r.status and f"{source}'s timestamp unreadable" in r.status, str(r)
    r = check(env, *args)  # --stuck-after's default: not stuck yet, and the line says since when
    assert r.rc == 0 and f"; {source}'s timestamp unreadable)" in r.status and "since first seen" in r.status, \
        str(r)

    # the first sweep's time, carried by the second (kept with the inventory, on the record)
    (obj,) = first.all(kind)
    assert obj.updated is None and obj.seen[1] == first.meta.fetched_at
    (obj,) = second.all(kind)
    assert second.meta.fetched_at > first.meta.fetched_at and obj.seen[1] == first.meta.fetched_at
    env.sweep()  # the state changed (back to the scenario's): its first-seen time starts again
    (obj,) = snapshot(env).all(kind)
    assert obj.seen[1] == snapshot(env).meta.fetched_at


def test_replace_fields_fault_shape_is_validated(make_cloud) -> None:
    env = make_cloud(SCENARIO)
    for bad in ({"replace_fields": {"flavours": {"x": 1}}}, {"replace_fields": {"servers": ["status"]}},
                {"replace_fields": ["servers"]}):
        with pytest.raises(Exception, match="replace_fields"):
            env.sim.fault(**bad)
