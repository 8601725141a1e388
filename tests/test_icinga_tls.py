"""TLS to the Icinga API the way Python 3.13 verifies it, against a real Icinga 2 with `icinga2 pki`
certificates.

Python 3.13 sets ssl.VERIFY_X509_STRICT in every default context, and certificates made by `icinga2 pki`
carry no Authority/Subject Key Identifier (Icinga/icinga2#10469): a default context then refuses the
Icinga API with "Missing Authority Key Identifier". The commands are run here with a `sitecustomize` that
gives every default context that flag (a no-op on 3.13 itself), so this machine's Python behaves as 3.13
does; the `debian13` suite runs the same commands with Debian 13's own Python 3.13.

What must still be refused: a certificate from another CA, and one for another host name.
"""

from __future__ import annotations

import copy
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from icinga_e2e import (
    API_PASSWORD,
    E2E_SCENARIO,
    ICINGA2,
    PREFIX,
    Icinga2,
    make_pki,
    require,
    running,
)

from vio_checks.icinga.https import tls_context

pytestmark = pytest.mark.e2e

#: Python 3.13's default-context flag, given to every default context of the process it is loaded in.
STRICT_SITECUSTOMIZE = """\
import ssl

_create_default_context = ssl.create_default_context


def create_default_context(*args, **kwargs):
    context = _create_default_context(*args, **kwargs)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


ssl.create_default_context = create_default_context
"""


@pytest.fixture(scope="module")
def pkis(tmp_path_factory):
    """Icinga's CA and certificate, and a second CA of its own (another Icinga's)."""
    require(ICINGA2, "icinga2-bin icinga2-common")
    return make_pki(tmp_path_factory.mktemp("pki")), make_pki(tmp_path_factory.mktemp("other-pki"))


@pytest.fixture
def strict_env(tmp_path) -> dict[str, str]:
    """The environment that makes a command's default TLS contexts strict, as on Python 3.13."""
    site = tmp_path / "strict-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(STRICT_SITECUSTOMIZE)
    return {"PYTHONPATH": str(site), "VIO_ICINGA_API_PASSWORD": API_PASSWORD}


@pytest.fixture
def api(make_cloud, pkis, tmp_path):
    """(cloud, icinga): the e2e cloud swept and a real Icinga 2 with `icinga2 pki` certificates."""
    cloud = make_cloud(copy.deepcopy(E2E_SCENARIO))
    cloud.sweep()
    icinga = Icinga2(tmp_path / "icinga2", pkis[0], cloud.env)
    with running(icinga):
        yield cloud, icinga


def _get(icinga: Icinga2, context: ssl.SSLContext) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         urllib.request.ProxyHandler({}))
    with opener.open(icinga.url + "/v1", timeout=10):
        pass


def test_icinga_pki_certificates_fail_a_strict_default_context(api):
    """The class of failure: a strict default context (Python 3.13's) refuses Icinga's own certificate;
    the product's context for the Icinga API accepts it, strict or not."""
    _, icinga = api
    strict = ssl.create_default_context(cafile=str(icinga.ca_file))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with pytest.raises(urllib.error.URLError, match="Key Identifier"):
        _get(icinga, strict)
    ours = tls_context(str(icinga.ca_file))
    assert not ours.verify_flags & ssl.VERIFY_X509_STRICT
    assert ours.verify_mode == ssl.CERT_REQUIRED and ours.check_hostname
    try:
        _get(icinga, ours)
    except urllib.error.HTTPError as e:  # no credentials sent: 401 proves the handshake passed
        assert e.code == 401, e


def test_deploy_push_and_rootcause_with_python_313_strictness(api, strict_env):
    """deploy, push and rootcause --api-url succeed over TLS as Python 3.13 verifies it."""
    cloud, icinga = api
    args = icinga.deploy_args()
    old_pid = icinga.worker_pid()
    r = cloud.run("vio-icinga", "deploy", *args, env=strict_env)
    assert r.rc in (0, 1) and "deployed" in r.stdout, str(r)
    icinga.await_reload(old_pid, PREFIX)
    r = cloud.run("vio-icinga", "push", "--once", *args, env=strict_env)
    assert r.rc == 0, str(r)
    r = cloud.run("vio-icinga", "rootcause", "web-01", *args, env=strict_env)
    assert r.rc == 0 and "TLS" not in r.stdout + r.stderr, str(r)
    assert r.lines[1].startswith("chain (live states from https://"), str(r)


@pytest.mark.parametrize("wrong", ["another CA", "another host name"])
def test_what_must_still_be_refused(api, pkis, strict_env, wrong):
    """Relaxing the key-identifier strictness keeps CA and host name verification: a certificate from
    another CA, or for another host name, is a TLS error (exit 2, one line) for every command."""
    cloud, icinga = api
    args = icinga.deploy_args()
    if wrong == "another CA":
        args[args.index("--ca-file") + 1] = str(Path(pkis[1]) / "ca.crt")
    else:
        args[args.index("--api-url") + 1] = icinga.url.replace("localhost", "127.0.0.1")  # cert: localhost
    for argv in (("deploy", *args), ("push", "--once", *args, "--retries", "0"),
                 ("rootcause", "web-01", *args)):
        r = cloud.run("vio-icinga", *argv, env=strict_env)
        assert r.rc == 2 and "TLS error" in r.stderr and r.stderr.count("\n") == 1, (argv[0], str(r))
