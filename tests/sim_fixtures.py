"""Fixtures and helpers for the simulator's own tests (tests/conftest.py belongs to the product tests)."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import openstack
import pytest

from vio_sim import Simulator
from vio_sim.generator import generate

#: The request a sweep's server listing makes (the key of the simulator's request counters).
SERVERS = "GET /compute/v2.1/servers/detail"


def ts(value: str) -> float:
    """An API time (ISO 8601, `Z` or naive UTC) as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()


def connect(sim: Simulator, **kw):
    """The real openstacksdk, configured only from the arguments (no clouds.yaml, no OS_* variables)."""
    return openstack.connect(load_yaml_config=False, load_envvars=False, **{**sim.credentials, **kw})


def raw(sim: Simulator, method: str, path: str, token: str | None = None, headers: dict | None = None,
        body: object = None) -> tuple[int, dict, bytes]:
    """One plain HTTP request (no SDK): status, headers (lower-case names), body bytes."""
    u = urlsplit(sim.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    h = dict(headers or {})
    if token:
        h["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, out


def token(sim: Simulator) -> str:
    """A token by plain password auth."""
    c = sim.credentials
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": c["username"], "password": c["password"], "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": c["project_name"], "domain": {"name": "Default"}}}}}
    status, headers, _ = raw(sim, "POST", "/identity/v3/auth/tokens", body=body)
    assert status == 201
    return headers["x-subject-token"]


@pytest.fixture
def sim():
    """A fresh demo cloud per test (starts in a few milliseconds)."""
    with Simulator(scenario="demo") as s:
        yield s


@pytest.fixture
def conn(sim):
    c = connect(sim)
    yield c
    c.close()


@pytest.fixture(scope="module")
def big_sim():
    """2,500 generated VMs, 2,200 volumes, 5,200 ports: paging tests."""
    state = generate(vms=2500, clusters=6, volumes=2200, ports=5200, routers=30, projects=8, seed=7)
    with Simulator(scenario=state) as s:
        yield s
