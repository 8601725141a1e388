"""The simulator's paging and faults, through the real openstacksdk over HTTP (no mocks): request counts per
page, pages of a large cloud, fault statuses, 401 and expired tokens, malformed, truncated, delayed,
trickling and hanging replies, and a prompt stop with a request hanging.
"""

# ruff: noqa: F811  (the fixtures imported from sim_fixtures are redefined as test arguments)

from __future__ import annotations

import json
import threading
import time

import keystoneauth1.exceptions as ksa_exc
import pytest
from sim_fixtures import SERVERS, big_sim, conn, connect, raw, sim, token, ts  # noqa: F401  (fixtures)

from vio_sim import AdminError, Simulator
from vio_sim.generator import generate

# -- paging -------------------------------------------------------------------------------------------


def follow(proxy, path: str, key: str, mv: str | None = None) -> list:
    """Collect a collection by following `<key>_links` next hrefs, as the discovery sweep does."""
    items = []
    while path:
        r = proxy.get(path, microversion=mv) if mv else proxy.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body[key]
        nxt = [link["href"] for link in body.get(f"{key}_links", []) if link["rel"] == "next"]
        path = nxt[0] if nxt else None
    return items


def test_paging_counts_requests(big_sim):
    c = connect(big_sim)
    c.authorize()
    big_sim.reset_counters()
    servers = follow(c.compute, "/servers/detail?all_tenants=1&limit=1000", "servers", "2.87")
    assert len(servers) == 2500 and len({s["id"] for s in servers}) == 2500
    vols = follow(c.block_storage, "/volumes/detail?all_tenants=1&limit=1000", "volumes")
    ports = follow(c.network, "/ports?limit=1000", "ports")
    assert (len(vols), len(ports)) == (2200, 5200)
    paths = big_sim.counters()["paths"]
    assert paths[SERVERS] == 3
    assert sum(n for p, n in paths.items() if p.endswith("/volumes/detail")) == 3
    assert paths["GET /network/v2.0/ports"] == 6  # 5 full pages + an empty one after the full last page
    # limit above the page max is clamped; a marker that does not exist is a 400
    body = c.compute.get("/servers/detail?all_tenants=1&limit=5000", microversion="2.87").json()
    assert len(body["servers"]) == 1000 and "limit=1000" in body["servers_links"][0]["href"]
    assert c.compute.get("/servers/detail?all_tenants=1&marker=nope").status_code == 400
    c.close()


def test_sdk_resource_paging_follows_the_links():
    """openstacksdk's own list() pagination walks the simulator's next links (page_max 4 on the demo)."""
    with Simulator("demo", page_max=4) as s:
        c = connect(s)
        assert len(list(c.compute.servers(all_projects=True))) == 15
        assert len(list(c.block_storage.volumes(all_projects=True))) == 15
        assert len(list(c.network.ports())) == 24
        paths = s.counters()["paths"]
        assert paths[SERVERS] == 4 and paths["GET /network/v2.0/ports"] == 7
        c.close()


def test_small_pages_for_hypervisors_and_migrations(sim, conn):
    r = conn.compute.get("/os-hypervisors/detail?limit=2", microversion="2.87").json()
    assert len(r["hypervisors"]) == 2 and "marker=" in r["hypervisors_links"][0]["href"]
    rest = conn.compute.get(r["hypervisors_links"][0]["href"], microversion="2.87").json()
    assert len(rest["hypervisors"]) == 1 and "hypervisors_links" not in rest
    assert len(follow(conn.compute, "/os-migrations?limit=1", "migrations", "2.59")) == 4
    assert len(follow(conn.network, "/routers?limit=2", "routers")) == 3
    assert len(follow(conn.network, "/agents?limit=3", "agents")) == 4


def test_page_speed_on_a_large_cloud():
    state = generate(vms=10000, clusters=40, volumes=200, ports=10000, routers=20, projects=20, seed=3)
    with Simulator(scenario=state) as s:
        tok = token(s)
        path = "/compute/v2.1/servers/detail?all_tenants=1&limit=1000"
        hdr = {"OpenStack-API-Version": "compute 2.87"}
        times = []
        for _ in range(3):
            t = time.perf_counter()
            status, _, body = raw(s, "GET", path, token=tok, headers=hdr)
            times.append(time.perf_counter() - t)
            assert status == 200
        assert len(json.loads(body)["servers"]) == 1000
        sid = json.loads(body)["servers"][0]["id"]
        s.patch("servers", sid, status="ERROR")  # a mutation shows on the next page fetch
        t = time.perf_counter()
        _, _, body = raw(s, "GET", path, token=tok, headers=hdr)
        times.append(time.perf_counter() - t)
        assert json.loads(body)["servers"][0]["status"] == "ERROR"
        print("page times (s):", times)
        assert times[0] < 0.5 and min(times[1:3]) < 0.1 and times[3] < 0.5, times


# -- faults -------------------------------------------------------------------------------------------


def test_fault_statuses(sim, conn):
    sim.fault(path="/servers/detail$", status=503, count=1)
    r = conn.compute.get("/servers/detail", microversion="2.87")
    assert r.status_code == 503 and "serviceUnavailable" in r.json()
    assert conn.compute.get("/servers/detail", microversion="2.87").status_code == 200  # count expired
    sim.fault(path="/servers/detail", status=429, retry_after=2, count=1)
    r = conn.compute.get("/servers/detail")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    sim.fault(path="/v2.0/ports", status=500, method="POST")  # another method: not applied
    assert conn.network.get("/ports").status_code == 200
    sim.clear_faults()
    assert sim.admin("GET", "/_sim/faults")["faults"] == []


def test_401_once_reauthenticates_once(sim, conn):
    conn.compute.get("/os-services")
    sim.reset_counters()
    sim.fault(path="/compute/v2.1/servers/detail", status=401, count=1)
    r = conn.compute.get("/servers/detail?all_tenants=1", microversion="2.87")
    assert r.status_code == 200
    c = sim.counters()
    assert c["token_issues"] == 1 and c["paths"][SERVERS] == 2


def test_expired_tokens_are_renewed(sim, conn):
    conn.compute.get("/os-services")
    sim.expire_tokens()
    assert conn.compute.get("/os-services").status_code == 200
    assert sim.counters()["token_issues"] == 2


def test_malformed_truncated_and_delay(sim, conn):
    sim.fault(path="/volumes/detail", malformed=True, count=1)
    r = conn.block_storage.get("/volumes/detail")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    sim.fault(path="/volumes/detail", truncated=True, count=1)
    with pytest.raises(ksa_exc.ConnectionError):
        conn.block_storage.get("/volumes/detail?all_tenants=1").json()
    sim.fault(path="/os-services", delay=0.3, count=1)
    t = time.monotonic()
    assert conn.compute.get("/os-services").status_code == 200
    assert time.monotonic() - t >= 0.3
    assert conn.block_storage.get("/volumes/detail?all_tenants=1").status_code == 200


def test_trickle_sends_the_whole_reply_a_byte_at_a_time(sim):
    import http.client
    from urllib.parse import urlsplit

    tok = token(sim)
    path = "/compute/v2.1/os-services"
    whole = raw(sim, "GET", path, token=tok)[2]
    sim.fault(path="/os-services$", trickle=0.001, count=1)
    u = urlsplit(sim.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", path, headers={"X-Auth-Token": tok})
    r = c.getresponse()
    reads = []
    while chunk := r.read1(65536):  # each read returns what has arrived: one byte at a time here
        reads.append(chunk)
    c.close()
    assert b"".join(reads) == whole and len(reads) > 1
    with pytest.raises(AdminError, match="trickle"):
        sim.fault(path="x", trickle=-1)


def _wait_for_request(sim, path: str, timeout: float = 10.0) -> None:
    """Until the simulator has received a request for `path` (its counters), within `timeout`."""
    end = time.monotonic() + timeout
    while not any(p.endswith(path) for p in sim.counters()["paths"]):
        assert time.monotonic() < end, f"no request for {path} within {timeout} s"
        time.sleep(0.02)


def test_hang_until_cleared_without_blocking_others(sim, conn):
    tok = token(sim)
    sim.fault(path="/servers/detail", hang=True)
    result = {}

    def hanging():
        result["status"] = raw(sim, "GET", "/compute/v2.1/servers/detail", token=tok)[0]

    t = threading.Thread(target=hanging)
    t.start()
    _wait_for_request(sim, "/servers/detail")
    assert t.is_alive()
    assert conn.compute.get("/os-services").status_code == 200  # other requests are served
    sim.clear_faults()
    t.join(5)
    assert result["status"] == 200


def test_stop_is_prompt_with_a_hanging_request():
    s = Simulator("healthy").start()
    tok = token(s)
    s.fault(path="/os-hypervisors", hang=True)
    errors = []

    def hanging():
        try:
            raw(s, "GET", "/compute/v2.1/os-hypervisors", token=tok)
        except Exception as exc:  # the connection closes without an answer
            errors.append(exc)

    t = threading.Thread(target=hanging)
    t.start()
    _wait_for_request(s, "/os-hypervisors")
    started = time.monotonic()
    s.stop()
    t.join(5)
    assert time.monotonic() - started < 2 and not t.is_alive() and errors
