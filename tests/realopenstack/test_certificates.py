"""Contract: check_vio_certificate against the stack's https endpoint (issue 24).

Heat's public catalog endpoint is heat-api-tls (lbaas_heat.py): the real heat-api under gunicorn terminating
TLS with a certificate that Debian's openssl minted (pki.py) for IP:127.0.0.1, signed by the stack's CA, expiring
5 days and an hour after start-up. The clouds.yaml the tests get names that CA (`cacert`): the certificate
verifies, only its expiry is near. The product's Heat requests go through that endpoint too.
"""

from __future__ import annotations

import datetime as dt
import os


def _tls_endpoint(real_cloud) -> tuple[str, dt.datetime]:
    """The https endpoint's name as the product writes it (host:port) and its certificate's not-after."""
    from cryptography import x509

    stack = real_cloud.stack
    cert = x509.load_pem_x509_certificate((stack.pki / "heat-tls.pem").read_bytes())
    return f"127.0.0.1:{stack.ports['heat-tls']}", cert.not_valid_after_utc


def test_a_certificate_five_days_from_expiry_is_critical_naming_the_endpoint_and_the_date(real, real_cloud):
    name, after = _tls_endpoint(real_cloud)
    days = int((after - dt.datetime.now(dt.UTC)).total_seconds() // 86400)
    # 5 whole days left for the stack's first hour (an attached one, VIO_REALOS_ATTACH, may be older)
    assert days == 5 or (os.environ.get("VIO_REALOS_ATTACH") and 1 < days < 5), (days, after)
    real.sweep()
    r = real.run("check_vio_certificate", "--name", name)
    assert r.rc == 2, str(r)
    assert r.status.startswith(f"VIO CERTIFICATE CRITICAL - {name} expires in {days} days ({after:%Y-%m-%d})"), \
        str(r)
    assert f"days={days};30:;7:" in r.stdout, str(r)
    assert "does not verify" not in r.stdout, str(r)  # the configured CA verifies it: only the expiry is near
    v = real.run("check_vio_certificate", "--name", name, "-v")
    assert "endpoint " + name + " (orchestration)" in v.stdout, str(v)
    assert "verifies against the configured CA" in v.stdout and "CN=realos-tls-ca" in v.stdout, str(v)
    agg = real.run("check_vio_certificate")  # the aggregate names it too
    assert agg.rc == 2 and name in agg.status, str(agg)
    assert real.run("check_vio_certificate", "--name", name, "-c", "3:").rc == 1


def test_the_handshake_is_counted_apart_from_the_api_requests(real, real_cloud):
    """One distinct https host:port: one handshake (it verifies, so its certificate is read from it). It is
    in `handshakes`, not in `requests`: every request the sweep counts is one an API logged, and the Heat
    requests (the endpoint probe, the stack listing) went over TLS to heat-api-tls, none to the plain one."""
    mark = real_cloud.log_mark()
    inv = real.sweep()
    logged = real_cloud.requests_since(mark)
    assert inv["handshakes"] == 1, inv
    assert inv["requests"] == len(logged), [f"{r.api} {r.method} {r.path}" for r in logged]
    over_tls = [f"{r.method} {r.path.split('?')[0]}" for r in logged if r.api == "heat-api-tls"]
    assert any(p.endswith("/stacks") for p in over_tls), over_tls
    assert not [r for r in logged if r.api == "heat-api"], "a product request bypassed the https endpoint"


def test_stacks_are_read_through_the_https_endpoint(real, real_cloud):
    """The product's API calls to the https endpoint verify against the configured CA and work."""
    mark = real_cloud.log_mark()
    r = real.run("check_vio_stack", "--name", "stack-ok")
    assert r.rc == 0 and r.status == "VIO STACK OK - stack stack-ok is CREATE_COMPLETE", str(r)
    apis = {req.api for req in real_cloud.requests_since(mark)}
    assert "heat-api" not in apis, apis
