"""The VIO API simulator, driven through the real openstacksdk over HTTP (no mocks)."""

# ruff: noqa: F811  (the fixtures imported from sim_fixtures are redefined as test arguments)

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import openstack
import pytest
from sim_fixtures import SERVERS, big_sim, conn, connect, raw, sim, token, ts  # noqa: F401  (fixtures)

from vio_sim import ADMIN_HELP, AdminError, Simulator, State


def by_name(items: list, name: str) -> dict:
    return next(i for i in items if i.get("name") == name)


def all_servers(conn, mv: str = "2.87") -> list:
    return conn.compute.get("/servers/detail?all_tenants=1", microversion=mv).json()["servers"]


# -- auth, catalog, discovery ------------------------------------------------------------------------


def test_auth_and_catalog(sim, conn):
    conn.authorize()
    access = conn.session.auth.get_access(conn.session)
    assert access.project_name == "admin" and "admin" in access.role_names
    assert access.expires > datetime.now(UTC)
    catalog = {s["type"]: s for s in access.service_catalog.catalog}
    # the demo has load balancers: Octavia is in its catalog (vio_sim.keystone_state.in_catalog)
    assert set(catalog) == {"identity", "compute", "network", "volumev3", "block-storage", "load-balancer"}
    pid = access.project_id
    want = {"identity": "/identity/v3", "compute": "/compute/v2.1", "network": "/network",
            "volumev3": f"/volume/v3/{pid}", "block-storage": f"/volume/v3/{pid}",
            "load-balancer": "/load-balancer"}
    for stype, path in want.items():
        eps = catalog[stype]["endpoints"]
        assert {e["interface"] for e in eps} == {"public", "internal", "admin"}
        assert all(e["url"] == sim.url + path and e["region_id"] == "RegionOne" for e in eps)
    assert sim.counters()["token_issues"] == 1


def test_token_body_headers_and_ttl():
    with Simulator("healthy", token_ttl=600, region="RegionTwo") as s:
        c = s.credentials
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": c["username"], "password": c["password"], "domain": {"id": "default"}}}},
            "scope": {"project": {"id": s.state.admin_project()}}}}
        status, headers, out = raw(s, "POST", "/identity/v3/auth/tokens", body=body)
        assert status == 201 and headers["x-subject-token"]
        tok = json.loads(out)["token"]
        assert tok["expires_at"].endswith("Z")
        assert 590 < ts(tok["expires_at"]) - time.time() <= 600
        assert tok["catalog"][0]["endpoints"][0]["region"] == "RegionTwo"
        assert s.credentials["region_name"] == "RegionTwo"


def test_bad_credentials_and_missing_token(sim):
    with pytest.raises(openstack.exceptions.SDKException, match="401"):
        connect(sim, password="wrong").authorize()
    for tok in (None, "bogus"):
        status, headers, out = raw(sim, "GET", "/compute/v2.1/servers/detail", token=tok)
        assert status == 401 and json.loads(out)["error"]["code"] == 401
        assert "www-authenticate" in headers
    assert raw(sim, "GET", "/network/v2.0/ports")[0] == 401
    assert raw(sim, "GET", "/identity/v3/projects")[0] == 401
    assert sim.counters()["token_issues"] == 0


def test_version_documents(sim):
    status, _, out = raw(sim, "GET", "/identity/")
    assert status == 300 and json.loads(out)["versions"]["values"][0]["id"].startswith("v3")
    assert json.loads(raw(sim, "GET", "/identity/v3")[2])["version"]["status"] == "stable"
    versions = json.loads(raw(sim, "GET", "/compute/")[2])["versions"]
    v21 = by_name([dict(v, name=v["id"]) for v in versions], "v2.1")
    assert (v21["version"], v21["min_version"], v21["status"]) == ("2.96", "2.1", "CURRENT")
    assert json.loads(raw(sim, "GET", "/compute/v2.1")[2])["version"]["version"] == "2.96"
    # As upstream Nova (tests/realopenstack): the version document answers at the minimum microversion.
    headers = raw(sim, "GET", "/compute/v2.1")[1]
    assert headers["openstack-api-version"] == "compute 2.1" and headers["x-openstack-nova-api-version"] == "2.1"
    assert json.loads(raw(sim, "GET", "/network/")[2])["versions"][0]["id"] == "v2.0"
    assert "resources" in json.loads(raw(sim, "GET", "/network/v2.0/")[2])
    status, _, out = raw(sim, "GET", "/volume/")
    assert status == 300 and json.loads(out)["versions"][0]["version"] == "3.70"
    assert json.loads(raw(sim, "GET", "/volume/v3/")[2])["versions"][0]["min_version"] == "3.0"


def test_sdk_version_discovery(sim, conn):
    ed = conn.compute.get_endpoint_data()
    assert ed.url == sim.url + "/compute/v2.1/"
    assert (ed.min_microversion, ed.max_microversion) == ((2, 1), (2, 96))
    assert conn.network.get_endpoint_data().url == sim.url + "/network/v2.0"
    bs = conn.block_storage.get_endpoint_data()
    assert bs.api_version == (3, 0) and bs.max_microversion == (3, 70)
    assert bs.url.startswith(sim.url + "/volume/v3/")
    assert conn.identity.get_endpoint_data().api_version[0] == 3
    paths = sim.counters()["paths"]
    for p in ("GET /identity/v3", "POST /identity/v3/auth/tokens", "GET /compute/v2.1", "GET /volume/v3/",
              "GET /identity/v3/"):
        assert paths.get(p), (p, paths)


def test_the_paths_a_sweep_uses(sim, conn):
    """The exact calls of the brief, and the URL paths they reach."""
    calls = [
        (conn.compute, "/servers/detail?all_tenants=1&limit=1000", "2.87", "servers", 15),
        (conn.compute, "/os-hypervisors/detail", "2.87", "hypervisors", 3),
        (conn.compute, "/os-services", "2.87", "services", 9),
        (conn.compute, "/os-migrations", "2.87", "migrations", 4),
        (conn.network, "/ports?limit=1000", None, "ports", 24),
        (conn.network, "/networks", None, "networks", 4),
        (conn.network, "/routers", None, "routers", 3),
        (conn.network, "/agents", None, "agents", 4),
        (conn.block_storage, "/volumes/detail?all_tenants=1&limit=1000", None, "volumes", 15),
        (conn.block_storage, "/os-services", None, "services", 3),
        (conn.identity, "/projects", None, "projects", 4),
    ]
    for proxy, path, mv, key, n in calls:
        r = proxy.get(path, microversion=mv) if mv else proxy.get(path)
        assert r.status_code == 200, (path, r.text)
        assert len(r.json()[key]) == n, path
    # The network adapter's endpoint already ends in /v2.0: '/v2.0/ports' doubles it, as on a real Neutron.
    assert conn.network.get("/v2.0/ports").status_code == 404
    pid = conn.current_project_id
    paths = sim.counters()["paths"]
    for p in (SERVERS, "GET /compute/v2.1/os-hypervisors/detail", "GET /network/v2.0/ports",
              f"GET /volume/v3/{pid}/volumes/detail", "GET /identity/v3/projects",
              "GET /network/v2.0/v2.0/ports"):
        assert paths.get(p) == 1, (p, paths)


def test_sdk_resource_proxies(sim, conn):
    st = sim.state
    assert len(list(conn.compute.servers(all_projects=True))) == len(st.objects["servers"])
    assert {h.name for h in conn.compute.hypervisors(details=True)} == {
        h["hypervisor_hostname"] for h in st.objects["hypervisors"].values()}
    assert len(list(conn.network.ports())) == len(st.objects["ports"])
    assert len(list(conn.network.routers())) == 3
    assert len(list(conn.network.agents())) == 4
    assert len(list(conn.block_storage.volumes(all_projects=True))) == 15
    assert {s.binary for s in conn.block_storage.services()} == {"cinder-scheduler", "cinder-volume"}
    assert len(list(conn.compute.services())) == 9
    assert len(list(conn.compute.migrations())) == 4
    assert {p.name for p in conn.identity.projects()} == {"admin", "webshop", "engineering", "finance"}


def test_clouds_yaml(sim, tmp_path, monkeypatch):
    path = sim.write_clouds_yaml(tmp_path / "clouds.yaml", cloud="vio-sim")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    c = openstack.connect(cloud="vio-sim")
    assert c.compute.get("/os-hypervisors", microversion="2.53").status_code == 200
    assert sim.password in path.read_text() and sim.url in path.read_text()


# -- Nova microversions and derived fields --------------------------------------------------------------


def test_compute_microversions(sim, conn):
    def hvs(mv):
        r = conn.compute.get("/os-hypervisors/detail", microversion=mv)
        assert r.headers["OpenStack-API-Version"] == f"compute {mv}"
        assert r.headers["X-OpenStack-Nova-API-Version"] == mv
        return r.json()["hypervisors"]

    old, new, bare = hvs("2.1"), hvs("2.53"), hvs("2.88")
    assert all(isinstance(h["id"], int) and isinstance(h["service"]["id"], int) for h in old)
    assert all(len(h["id"]) == 36 and len(h["service"]["id"]) == 36 for h in new)
    assert old[0]["cpu_info"] == "" and "running_vms" in new[0]
    assert all("vcpus" not in h and "running_vms" not in h and "cpu_info" not in h for h in bare)
    assert {h["hypervisor_hostname"] for h in bare} >= {"domain-c9(Cluster-B)"}
    assert all(h["hypervisor_type"] == "VMware vCenter Server" for h in bare)
    svc = conn.compute.get("/os-services", microversion="2.1").json()["services"]
    assert all(isinstance(s["id"], int) and "forced_down" not in s for s in svc)
    svc = conn.compute.get("/os-services", microversion="2.53").json()["services"]
    assert all(len(s["id"]) == 36 and s["forced_down"] is False for s in svc)
    # no header: 2.1; too new: 406; garbage: 400
    r = conn.compute.get("/os-hypervisors")
    assert r.headers["OpenStack-API-Version"] == "compute 2.1"
    assert conn.compute.get("/os-hypervisors", microversion="2.97").status_code == 406
    status, _, _ = raw(sim, "GET", "/compute/v2.1/os-hypervisors", token=token(sim),
                       headers={"X-OpenStack-Nova-API-Version": "two"})
    assert status == 400
    assert conn.compute.get("/os-hypervisors/statistics", microversion="2.88").status_code == 404
    assert conn.compute.get("/os-hypervisors/statistics", microversion="2.87").json()[
        "hypervisor_statistics"]["count"] == 3


def test_server_flavor_and_host_status_by_microversion(conn):
    s46 = by_name(all_servers(conn, "2.46"), "web-01")
    assert set(s46["flavor"]) == {"id", "links"} and "host_status" in s46
    s47 = by_name(all_servers(conn, "2.47"), "web-01")
    assert s47["flavor"]["original_name"] == "m1.medium" and s47["flavor"]["vcpus"] == 2
    assert "host_status" not in by_name(all_servers(conn, "2.15"), "web-01")


def test_demo_server_states(conn):
    servers = {s["name"]: s for s in all_servers(conn)}
    assert len(servers) == 15
    err = servers["build-02"]
    assert err["status"] == "ERROR" and "No valid host" in err["fault"]["message"]
    assert err["OS-EXT-SRV-ATTR:host"] is None and err["host_status"] == ""
    assert servers["cache-01"]["status"] == "ACTIVE" and servers["cache-01"]["OS-EXT-STS:power_state"] == 4
    mig = servers["ci-runner-01"]
    assert mig["OS-EXT-STS:task_state"] == "migrating" and time.time() - ts(mig["updated"]) > 2.9 * 3600
    assert servers["dev-01"]["status"] == "SHUTOFF" and servers["dev-01"]["OS-EXT-STS:power_state"] == 4
    assert servers["dev-02"]["status"] == "SHELVED_OFFLOADED"
    assert servers["web-03"]["host_status"] == "DOWN" and servers["web-01"]["host_status"] == "UP"
    assert servers["web-02"]["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "domain-c9(Cluster-B)"
    addrs = servers["web-01"]["addresses"]["webshop-net"]
    assert {a["OS-EXT-IPS:type"] for a in addrs} == {"fixed", "floating"}
    assert all(a["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e") for a in addrs)
    assert len(servers["db-01"]["os-extended-volumes:volumes_attached"]) == 2
    # without all_tenants only the token's project (admin) shows: none of the demo VMs
    assert conn.compute.get("/servers/detail", microversion="2.87").json()["servers"] == []


def test_hypervisor_state_derived_from_service(sim, conn):
    def hv(name):
        r = conn.compute.get("/os-hypervisors/detail", microversion="2.87")
        return {h["service"]["host"]: h for h in r.json()["hypervisors"]}[name]

    assert hv("vio-compute-03")["state"] == "down"
    assert hv("vio-compute-01")["running_vms"] == 6
    sim.patch("compute_services", "nova-compute@vio-compute-01", status="disabled",
              disabled_reason="set by vmwareapi host_state")
    h = hv("vio-compute-01")
    assert (h["state"], h["status"], h["service"]["disabled_reason"]) == (
        "up", "disabled", "set by vmwareapi host_state")
    assert by_name(all_servers(conn), "web-01")["host_status"] == "MAINTENANCE"
    # writing state through the hypervisor changes its service
    sim.patch("hypervisors", "Cluster-B", state="down")
    assert hv("vio-compute-02")["state"] == "down"
    assert sim.get("compute_services", "nova-compute@vio-compute-02")["state"] == "down"
    # overcommit is representable
    sim.patch("hypervisors", "vio-compute-02", vcpus_used=400)
    assert hv("vio-compute-02")["vcpus_used"] == 400 > hv("vio-compute-02")["vcpus"]


def test_every_status_is_representable(sim, conn):
    from vio_sim.cinder_state import VOLUME_STATUSES
    from vio_sim.nova.state import SERVER_STATUS

    sid = sim.get("servers", "web-01")["id"]
    for status in SERVER_STATUS:
        if status == "DELETED":
            continue
        sim.patch("servers", sid, status=status)
        got = conn.compute.get(f"/servers/{sid}", microversion="2.87").json()["server"]
        assert got["status"] == status and got["OS-EXT-STS:vm_state"] == SERVER_STATUS[status][0]
    vid = sim.get("volumes", "scratch-01")["id"]
    for status in VOLUME_STATUSES:
        sim.patch("volumes", vid, status=status)
        assert conn.block_storage.get(f"/volumes/{vid}").json()["volume"]["status"] == status
    with pytest.raises(AdminError) as e:
        sim.patch("servers", sid, status="BROKEN")
    assert e.value.status == 400


# -- Cinder and Neutron ---------------------------------------------------------------------------------


def test_demo_volumes(conn):
    vols = {v["name"]: v for v in conn.block_storage.get("/volumes/detail?all_tenants=1").json()["volumes"]}
    assert vols["broken-01"]["status"] == "error" and vols["ledger-03-data"]["status"] == "attaching"
    db = vols["db-01-data"]
    assert db["status"] == "in-use" and db["os-vol-host-attr:host"] == "vio-controller-01@vmdk#vmdk"
    att = db["attachments"][0]
    assert set(att) >= {"server_id", "attachment_id", "device", "host_name", "volume_id", "id"}
    assert att["volume_id"] == db["id"] and att["host_name"] == "vio-compute-01"
    orphan = vols["old-app-data"]["attachments"][0]["server_id"]
    assert orphan not in {s["id"] for s in all_servers(conn)}
    assert vols["ubuntu-template"]["bootable"] == "true"
    svcs = conn.block_storage.get("/os-services").json()["services"]
    assert {s["host"] for s in svcs if s["binary"] == "cinder-volume"} == {"vio-controller-01@vmdk"}


def test_demo_network(conn):
    ports = conn.network.get("/ports").json()["ports"]
    owners = {p["device_owner"] for p in ports}
    assert owners >= {"compute:nova", "network:router_interface", "network:router_gateway", "network:dhcp",
                      "network:floatingip"}
    named = {p["name"]: p for p in ports if p["name"]}
    assert named["ledger-01-eth0"]["binding:vif_type"] == "binding_failed"
    assert named["jump-01-eth0"]["status"] == "DOWN"
    assert all(p["project_id"] == p["tenant_id"] for p in ports)
    routers = {r["name"]: r for r in conn.network.get("/routers").json()["routers"]}
    assert routers["engineering-router"]["status"] == "ERROR"
    assert routers["finance-router"]["admin_state_up"] is False
    assert routers["webshop-router"]["ha"] is True
    assert routers["webshop-router"]["external_gateway_info"]["external_fixed_ips"]
    nets = {n["name"]: n for n in conn.network.get("/networks").json()["networks"]}
    assert nets["ext-net"]["router:external"] is True and len(nets["webshop-net"]["subnets"]) == 1
    # L3 hosting, both directions
    agents = conn.network.get("/agents").json()["agents"]
    l3 = {a["host"]: a for a in agents if a["agent_type"] == "L3 agent"}
    assert l3["vio-network-02"]["alive"] is False
    assert len(l3["vio-network-01"]["heartbeat_timestamp"]) == 19
    hosted = conn.network.get(f"/agents/{l3['vio-network-01']['id']}/l3-routers").json()["routers"]
    assert len(hosted) == 3
    rid = routers["webshop-router"]["id"]
    states = {a["host"]: a["ha_state"] for a in conn.network.get(f"/routers/{rid}/l3-agents").json()["agents"]}
    assert states == {"vio-network-01": "active", "vio-network-02": "unknown"}
    # filters and fields
    dhcp = conn.network.get("/ports?device_owner=network:dhcp&fields=id&fields=network_id").json()["ports"]
    assert len(dhcp) == 3 and all(set(p) == {"id", "network_id"} for p in dhcp)


def test_router_l3_agents_ha_state_pinned_through_the_admin_api(sim, conn):
    """/routers/{id}/l3-agents: ha_state per agent for HA routers (null otherwise), pinnable per agent."""
    routers = {r["name"]: r for r in conn.network.get("/routers").json()["routers"]}

    def states(name):
        reply = conn.network.get(f"/routers/{routers[name]['id']}/l3-agents").json()
        return {a["host"]: a["ha_state"] for a in reply["agents"]}

    assert states("webshop-router") == {"vio-network-01": "active", "vio-network-02": "unknown"}
    assert set(states("engineering-router").values()) == {None}  # not HA: Neutron answers null
    sim.patch("agents", "neutron-l3-agent@vio-network-01", ha_states={"webshop-router": "standby"})
    sim.patch("agents", "neutron-l3-agent@vio-network-02", alive=True, ha_states={"webshop-router": "active"})
    assert states("webshop-router") == {"vio-network-01": "standby", "vio-network-02": "active"}
    assert "ha_states" not in conn.network.get("/agents").json()["agents"][0]  # internal, never served
    assert '"ha_states"' in ADMIN_HELP


def test_agents_404_without_the_extension(sim):
    for s in (Simulator("demo", agents=False), Simulator({"networks": [{"name": "n", "cidr": "10.0.0.0/24"}]})):
        with s:
            c = connect(s)
            assert c.network.get("/agents").status_code == 404
            assert "agent" not in {e["alias"] for e in c.network.get("/extensions").json()["extensions"]}
            assert c.network.get("/routers").status_code == 200
            c.close()
    c = connect(sim)
    assert "agent" in {e["alias"] for e in c.network.get("/extensions").json()["extensions"]}
    c.close()


# -- admin API ----------------------------------------------------------------------------------------


def test_admin_mutations(sim, conn):
    web = sim.get("servers", "web-01")
    p = sim.patch("servers", web["id"], status="SHUTOFF")
    assert (p["OS-EXT-STS:vm_state"], p["OS-EXT-STS:power_state"]) == ("stopped", 4)
    assert time.time() - ts(p["updated"]) < 5  # a patch bumps updated
    p = sim.patch("servers", "web-01", **{"OS-EXT-STS:task_state": "migrating", "updated": "-3h"})
    assert 3 * 3600 - 5 < time.time() - ts(p["updated"]) < 3 * 3600 + 5
    new = sim.add("servers", {"name": "new-01", "project": "webshop", "host": "Cluster-B", "flavor": "m1.tiny"})
    assert len(new["id"]) == 36 and new["OS-EXT-SRV-ATTR:host"] == "vio-compute-02"
    got = conn.compute.get(f"/servers/{new['id']}", microversion="2.87").json()["server"]
    assert got["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "domain-c9(Cluster-B)"
    sim.delete("servers", new["id"])
    assert conn.compute.get(f"/servers/{new['id']}").status_code == 404
    svc = sim.patch("volume_services", "cinder-volume@vio-controller-01@vmdk", state="down")
    assert svc["state"] == "down"
    vsvc = {s["binary"]: s for s in conn.block_storage.get("/os-services").json()["services"]}
    assert vsvc["cinder-volume"]["state"] == "down"
    agent = sim.patch("agents", "neutron-l3-agent@vio-network-01", alive=False)
    a = next(x for x in conn.network.get("/agents").json()["agents"] if x["id"] == agent["id"])
    assert a["alive"] is False and time.time() - ts(a["heartbeat_timestamp"]) >= 60
    for call in (lambda: sim.get("servers", "nope"), lambda: sim.admin("GET", "/_sim/widgets"),
                 lambda: sim.admin("POST", "/_sim/nothing/here")):
        with pytest.raises(AdminError) as e:
            call()
        assert e.value.status == 404
    assert "/_sim/faults" in sim.admin("GET", "/_sim/")
    state = sim.dump()
    assert len(State(state).objects["servers"]) == len(state["servers"]) == 15
    sim.reset()
    assert sim.get("servers", "web-01")["status"] == "ACTIVE" and sim.counters()["total"] == 0


def test_counters_count_everything_but_admin(sim, conn):
    conn.compute.get("/os-services")
    c = sim.counters()
    assert c["total"] == sum(c["paths"].values()) and c["token_issues"] == 1
    sim.admin("GET", "/_sim/state")
    assert sim.counters()["total"] == c["total"]
    assert sim.reset_counters()["total"] == 0


def test_migrations(sim, conn):
    def rows(mv="2.80", query=""):
        return conn.compute.get(f"/os-migrations{query}", microversion=mv).json()["migrations"]

    web02 = sim.get("servers", "web-02")
    row = sim.migrate(web02["id"], to="vio-compute-01", type="live-migration", status="completed")
    assert row["source_compute"] == "vio-compute-02" and row["dest_compute"] == "vio-compute-01"
    moved = sim.get("servers", "web-02")
    assert moved["OS-EXT-SRV-ATTR:host"] == "vio-compute-01"
    assert moved["OS-EXT-SRV-ATTR:hypervisor_hostname"].startswith("domain-c8.")
    assert sim.get("volumes", "web-02-data")["attachments"][0]["host_name"] == "vio-compute-01"
    assert sim.get("ports", "web-02-eth0")["binding:host_id"] == "vio-compute-01"
    failed = sim.migrate("ledger-02", to="domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", type="migration",
                         status="error")
    assert sim.get("servers", "ledger-02")["OS-EXT-SRV-ATTR:host"] == "vio-compute-02"
    got = rows()
    assert len(got) == 6 and got[0]["uuid"] in (row["uuid"], failed["uuid"])
    assert {m["migration_type"] for m in got} >= {"live-migration", "migration", "resize"}
    assert all("project_id" in m for m in got)
    assert all("migration_type" not in m and "uuid" not in m for m in rows("2.1"))
    assert all("project_id" not in m for m in rows("2.79"))
    since = datetime.fromtimestamp(time.time() - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = rows("2.59", f"?changes-since={since}")
    assert {m["uuid"] for m in recent} == {row["uuid"], failed["uuid"]}
    assert [m["status"] for m in rows("2.59", "?status=error")].count("error") == 2
    assert by_name(all_servers(conn), "web-02")["OS-EXT-SRV-ATTR:host"] == "vio-compute-01"
