"""Certificates of the catalog's https endpoints (issue 24, item 2) against the simulator's TLS endpoint
(vio_sim/tls.py) with certificates minted here (tests/tlscerts.py): the sweep's handshakes and the check."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from conftest import CloudEnv
from tlscerts import CA

from vio_checks import certificates, sweep
from vio_checks.cloud import CloudClient
from vio_sim import Simulator

DAY = dt.timedelta(days=1)


@pytest.fixture
def cloud(tmp_path):
    """A demo cloud whose clouds.yaml names the test CA (cacert), and the CA."""
    with Simulator(scenario="demo") as sim:
        env = CloudEnv(sim, tmp_path)
        ca = CA(tmp_path / "pki")
        env.clouds_yaml.write_text(env.clouds_yaml.read_text() + f"    cacert: {ca.path}\n")
        yield env, ca


def _sweep(env: CloudEnv, monkeypatch, budget: float = 30.0):
    """One sweep in process (the inventory, with its Meta), as vio-discover runs it."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(env.clouds_yaml))
    client = CloudClient(env.cloud, None, time.monotonic() + budget)
    return sweep.sweep(client, env.cloud, None)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_certificate_five_days_from_expiry_is_critical_naming_the_endpoint_and_the_date(cloud):
    env, ca = cloud
    certfile, keyfile, after = ca.issue("near", 5 * DAY + dt.timedelta(hours=1))
    tls = env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    env.sweep()
    name = f"localhost:{tls.port}"
    r = env.run("check_vio_certificate", "--name", name)
    assert r.rc == 2, str(r)
    assert r.status.startswith(f"VIO CERTIFICATE CRITICAL - {name} expires in 5 days "
                               f"({after:%Y-%m-%d})"), str(r)
    assert "days=5;30:;7:" in r.stdout, str(r)
    r = env.run("check_vio_certificate")  # the aggregate names it too
    assert r.rc == 2 and name in r.status, str(r)
    r = env.run("check_vio_certificate", "--name", name, "-c", "3:")
    assert r.rc == 1, str(r)


def test_one_handshake_per_host_port_and_verified_against_the_configured_ca(cloud, monkeypatch):
    env, ca = cloud
    certfile, keyfile, _ = ca.issue("good", 90 * DAY)
    tls = env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    env.sim.add_catalog_endpoint("dns", tls.base + "/dns")  # a second service on the same host:port
    inv = _sweep(env, monkeypatch)
    assert inv.meta.handshakes == 1, inv.certificates
    [c] = inv.certificates
    assert (c.name, c.services, c.verified, c.error) == (f"localhost:{tls.port}", ("dns", "key-manager"),
                                                          True, None)
    assert c.issuer == "CN=vio test CA" and c.subject == "CN=localhost"
    assert inv.meta.counts["certificates"] == 1
    # the server saw our one handshake and the endpoint probes' connections, nothing else
    assert tls.handshakes <= 1 + 2, tls.handshakes
    # handshakes are not API requests: the requests are those of the same sweep without the https
    # endpoints plus their two endpoint probes (one GET per catalog URL, probes.py)
    assert inv.meta.requests == _plain_requests(env, monkeypatch) + 2


def _plain_requests(env: CloudEnv, monkeypatch) -> int:
    """The requests of the same sweep of a catalog without https endpoints."""
    env.sim.admin("PATCH", "/settings", {"catalog_extra": []})
    inv = _sweep(env, monkeypatch)
    assert inv.meta.handshakes == 0 and inv.certificates == []
    return inv.meta.requests


def test_a_plain_http_catalog_costs_no_handshake(cloud, monkeypatch):
    env, _ = cloud
    inv = _sweep(env, monkeypatch)
    assert inv.meta.handshakes == 0 and inv.certificates == []
    env.sweep()
    r = env.run("check_vio_certificate")
    assert r.rc == 0 and "no certificates" in r.status, str(r)


def test_a_certificate_that_does_not_verify_is_critical_and_read_all_the_same(cloud, monkeypatch):
    env, ca = cloud
    certfile, keyfile, after = ca.issue("selfsigned", 200 * DAY, self_signed=True)
    tls = env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    inv = _sweep(env, monkeypatch)
    [c] = inv.certificates
    assert c.verified is False and "self-signed" in c.verify_error, c
    assert c.not_after == after.timestamp()
    assert inv.meta.handshakes == 2  # the one that failed verification, and the one that read it
    env.sweep()
    r = env.run("check_vio_certificate", "--name", f"localhost:{tls.port}")
    assert r.rc == 2 and "certificate does not verify" in r.status, str(r)


def test_an_unreachable_endpoint_is_unknown_for_it_and_the_sweep_still_succeeds(cloud, monkeypatch):
    env, ca = cloud
    certfile, keyfile, _ = ca.issue("good", 90 * DAY)
    env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    port = _closed_port()
    env.sim.add_catalog_endpoint("dns", f"https://127.0.0.1:{port}/dns")
    inv = _sweep(env, monkeypatch)
    down = next(c for c in inv.certificates if c.port == port)
    assert down.error and "cannot connect" in down.error, down
    env.sweep()  # vio-discover: rc 0
    r = env.run("check_vio_certificate", "--name", f"127.0.0.1:{port}")
    assert r.rc == 3 and f"127.0.0.1:{port}: no certificate read: cannot connect" in r.status, str(r)
    r = env.run("check_vio_certificate")
    assert r.rc == 3 and f"127.0.0.1:{port}" in r.status, str(r)
    r = env.run("check_vio_discovery")
    assert r.rc == 0, str(r)


def test_an_endpoint_that_never_answers_the_handshake_is_bounded(cloud, monkeypatch):
    """TCP accepted, no TLS ever: that endpoint's finding within the handshake window, not the sweep's."""
    env, _ = cloud
    monkeypatch.setattr(certificates, "HANDSHAKE_TIMEOUT", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        env.sim.add_catalog_endpoint("dns", f"https://127.0.0.1:{port}/dns")
        started = time.monotonic()
        inv = _sweep(env, monkeypatch, budget=20.0)
        assert time.monotonic() - started < 15
    [c] = inv.certificates
    assert c.error and ("within" in c.error or "time" in c.error), c


def test_the_handshakes_share_the_sweeps_budget():
    """read_all: a window of nothing left reads nothing and says so, for every endpoint."""
    certs, made = certificates.read_all({("127.0.0.1", _closed_port()): ("dns",)}, 0.0, True)
    assert made == 0 and certs[0].error.startswith("no TLS handshake within 0.0 s"), certs


def test_https_targets_are_distinct_host_ports():
    found = certificates.https_targets([
        ("identity", "https://keystone.vio.example:5000/v3", "r"), ("compute", "https://Nova.vio.example/v2.1", "r"),
        ("network", "http://neutron.vio.example:9696", "r"), ("dns", "https://keystone.vio.example:5000/dns", "r"),
        ("bad", "https://[broken/", "r"), ("v6", "https://[fd00::1]:8443/x", "r")])
    assert found == {("fd00::1", 8443): ("v6",), ("keystone.vio.example", 5000): ("dns", "identity"),
                     ("nova.vio.example", 443): ("compute",)}
    assert certificates.endpoint_name("fd00::1", 8443) == "[fd00::1]:8443"


def test_vcenter_certificate_with_the_layers_cafile(cloud, monkeypatch):
    """The vSphere layer's credentials (host, port, cafile, insecure) name vCenter's endpoint."""
    from vio_checks.vsphere.connect import Credentials

    env, ca = cloud
    certfile, keyfile, after = ca.issue("vc", 20 * DAY)
    tls = env.sim.tls_endpoint("dns", certfile, keyfile, interfaces=["admin"])  # not in the public catalog
    inv = _sweep(env, monkeypatch)
    assert inv.certificates == [] and inv.meta.handshakes == 0
    creds = Credentials("localhost", "u", "p", port=tls.port, cafile=str(ca.path))
    certificates.add_vcenter(inv, creds, time.monotonic() + 10)
    [c] = inv.certificates
    assert (c.services, c.verified, c.not_after) == (("vcenter",), True, after.timestamp())
    assert inv.meta.handshakes == 1 and inv.meta.counts["certificates"] == 1
    insecure = Credentials("localhost", "u", "p", port=tls.port, insecure=True)
    certificates.add_vcenter(inv, insecure, time.monotonic() + 10)
    [c] = inv.certificates
    assert c.verified is None and "verification is off" in c.verify_error


def test_vio_discover_json_counts_handshakes_apart(cloud):
    import json

    env, ca = cloud
    certfile, keyfile, _ = ca.issue("good", 90 * DAY)
    env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    out = json.loads(env.sweep().stdout)
    assert out["handshakes"] == 1, out


def test_the_interface_the_cloud_config_uses(cloud, monkeypatch):
    """interface: internal in clouds.yaml: the internal endpoints' certificates, not the public ones."""
    env, ca = cloud
    certfile, keyfile, _ = ca.issue("good", 90 * DAY)
    internal = env.sim.tls_endpoint("key-manager", certfile, keyfile, interfaces=["internal"])
    public = env.sim.tls_endpoint("dns", certfile, keyfile, interfaces=["public"])
    env.clouds_yaml.write_text(env.clouds_yaml.read_text().replace("interface: public", "interface: internal"))
    inv = _sweep(env, monkeypatch)
    assert [c.port for c in inv.certificates] == [internal.port] and public.port != internal.port


def test_an_expired_certificate_is_critical_expired_and_not_verifying(cloud):
    env, ca = cloud
    certfile, keyfile, after = ca.issue("expired", -2 * DAY - dt.timedelta(hours=1))
    tls = env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    env.sweep()
    r = env.run("check_vio_certificate", "--name", f"localhost:{tls.port}")
    assert r.rc == 2, str(r)
    assert f"certificate expired 2 days ago ({after:%Y-%m-%d})" in r.status, str(r)
    assert "does not verify: certificate has expired" in r.status, str(r)


def test_vio_icinga_generates_impact_and_rootcause_for_a_certificate(cloud, tmp_path):
    env, ca = cloud
    certfile, keyfile, _ = ca.issue("near", 5 * DAY + dt.timedelta(hours=1))
    tls = env.sim.tls_endpoint("key-manager", certfile, keyfile, path="/key-manager")
    env.sweep()
    r = env.run("vio-icinga", "generate", "--output", tmp_path / "vio.conf")
    assert r.rc == 1, str(r)  # written
    text = (tmp_path / "vio.conf").read_text()
    assert f'"certificate-localhost-{tls.port}"' in text and f'"localhost:{tls.port}"' in text, text[-3000:]
    for cmd in ("impact", "rootcause"):
        r = env.run("vio-icinga", cmd, f"localhost:{tls.port}")
        assert r.rc == 0 and "Traceback" not in r.stderr, str(r)
