"""The other Debian release as first-class as this machine's: Debian 13 (icinga2 2.14, Python 3.13) on a
Debian 12 machine, Debian 12 (2.13, 3.11) on a Debian 13 one, in a root made by tools/debroot.

a) the package built for that release, installed in the root, judges the simulator's cloud with that
   release's Python and libraries exactly as the pinned venv does;
b) the Icinga end-to-end stories (STORIES: scenarios 2 and 4 of tests/test_e2e_icinga.py, the HA-router and the conductor-cluster stories) on the root's
   icinga2, with the README's default commands of the package (`include <plugins-contrib>`), every command
   the package's in the root;
c) `vio-icinga deploy`, `push` and `rootcause --api-url` from the root's Python over TLS to that Icinga, whose
   certificates `icinga2 pki` made (no key identifiers: Python 3.13's VERIFY_X509_STRICT refuses them unless
   vio_checks.icinga.https.tls_context relaxes that one flag).

Never skipped with CI=true (tests/icinga_e2e.py's require/not_run). Cold (no cached root) the session pays an
mmdebstrap of the release; warm it reuses the root from $DEBROOT_CACHE (docs/development.md: "The other Debian release").
"""

from __future__ import annotations

import copy
import json

import pytest
from conftest import CloudEnv, assert_same_verdict
from icinga_e2e import API_PASSWORD, E2E_SCENARIO, PREFIX, make_pki, running

from vio_checks.icinga import COMMANDS
from vio_sim import Simulator

from .otherroot import EXPECTED, PLUGINS, OtherRoot, RootCloud, make_other_root

pytestmark = pytest.mark.debian13

CHECKS = sorted(COMMANDS.values())


@pytest.fixture(scope="session")
def other_root(tmp_path_factory) -> OtherRoot:
    """The other release's root with this tree's package installed (cached base root, copied per session)."""
    import shutil

    root = make_other_root(tmp_path_factory.getbasetemp())
    yield root
    shutil.rmtree(root.path, ignore_errors=True)


@pytest.fixture(scope="session")
def root_pki(other_root, tmp_path_factory):
    """A CA and the API certificate made by the root's own `icinga2 pki` (no key identifiers)."""
    return make_pki(tmp_path_factory.mktemp("root-pki"), icinga2=other_root.icinga2())


def root_icinga(other_root: OtherRoot, root, pki, env):
    """The e2e Icinga 2 of the root, configured as README says for the package (tests/deb's PackagedIcinga2)."""
    from deb.test_deb_package import PackagedIcinga2

    return PackagedIcinga2(root, pki, env, icinga2=other_root.icinga2())


def test_the_root_is_the_other_release(other_root):
    """The root runs what the release ships (so the tests below prove that release, not this machine's)."""
    expected = EXPECTED.get(other_root.release)
    if expected is None:
        pytest.fail(f"no expected versions for {other_root.release}: add them to otherroot.EXPECTED")
    assert other_root.version("python") == expected["python"]
    assert other_root.version("icinga2") == expected["icinga2"]
    p = other_root.run("python3", "-c", "import vio_checks, openstack; print(vio_checks.__file__, openstack.__file__)")
    assert p.returncode == 0, p.stderr
    assert all(path.startswith("/usr/lib/python3/dist-packages/") for path in p.stdout.split()), p.stdout


# --- a) the checks with the release's Python and libraries ------------------------------------------------


def test_every_check_judges_as_with_the_pinned_venv(other_root, tmp_path):
    """The demo cloud swept and judged by the package in the root: same exit code and status line as the
    venv's pinned libraries, for every check."""
    with Simulator(scenario="demo") as sim:
        root, venv = RootCloud(sim, tmp_path / "root", other_root), CloudEnv(sim, tmp_path / "venv")
        swept, pinned = root.sweep(), venv.sweep()
        assert swept.stdout.split('"counts"')[1] == pinned.stdout.split('"counts"')[1], f"{swept}\n{pinned}"
        for check in CHECKS:
            args = ["--cache-only"] if check != "check_vio_discovery" else []
            a, b = root.run(check, *args), venv.run(check, *args)
            assert f"{PLUGINS}/{check}" in a.args
            assert_same_verdict(check, a, b)
        # a problem is judged the same too
        sim.patch("servers", "web-01", status="ERROR", fault={"message": "disk full", "code": 500})
        root.sweep(), venv.sweep()
        a, b = root.run("check_vio_vm", "--name", "web-01"), venv.run("check_vio_vm", "--name", "web-01")
        assert (a.rc, a.status) == (b.rc, b.status) and a.rc == 2, f"{a}\n--- venv:\n{b}"


# --- b) the Icinga end-to-end stories on the release's icinga2 ---------------------------------------------


def _scenario(test):
    """A tests/test_e2e_icinga.py scenario (which takes the e2e fixture's (cloud, icinga)) as a story."""
    return lambda cloud, icinga: test((cloud, icinga))


def _stories():
    import test_e2e_icinga as scenarios
    from icinga_e2e import cluster_story, ha_router_story

    return (
        ("hypervisor-down", _scenario(scenarios.test_hypervisor_down_only_its_nova_compute_alerts)),
        ("api-down", _scenario(scenarios.test_api_down_only_discovery_alerts)),
        ("ha-router", ha_router_story),
        ("conductor-cluster", cluster_story),
    )


#: (id, story(cloud, icinga)): each runs on a healthy, freshly deployed e2e cloud in the root's Icinga.
STORIES = _stories()


@pytest.mark.parametrize("story", [s for _, s in STORIES], ids=[name for name, _ in STORIES])
def test_icinga_story_on_the_releases_icinga2(story, other_root, root_pki, tmp_path):
    with Simulator(scenario=copy.deepcopy(E2E_SCENARIO)) as sim:
        cloud = RootCloud(sim, tmp_path / "cloud", other_root)
        cloud.sweep()
        icinga = root_icinga(other_root, tmp_path / "icinga2", root_pki, cloud.env)
        with running(icinga):
            icinga.deploy(cloud, expect_host=PREFIX)
            command = icinga.api("GET", "/v1/objects/checkcommands/vio_vm")["results"][0]["attrs"]
            assert command["command"] == [f"{PLUGINS}/check_vio_vm"], command["command"]
            story(cloud, icinga)


# --- c) deploy, push and rootcause over TLS from the release's Python -------------------------------------


def test_deploy_push_and_rootcause_over_tls_from_the_releases_python(other_root, root_pki, tmp_path):
    """The root's Python (3.13 on Debian 13: VERIFY_X509_STRICT on by default) reaches an Icinga API whose
    certificate `icinga2 pki` made; a default context of that Python refuses it where the flag is on."""
    ca = root_pki / "ca.crt"
    probe = ("import ssl, sys, urllib.request\n"
             "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
             "print('strict' if ctx.verify_flags & ssl.VERIFY_X509_STRICT else 'lax')\n"
             "try:\n"
             "    urllib.request.urlopen(sys.argv[1] + '/v1', context=ctx, timeout=10)\n"
             "except urllib.error.HTTPError as e:\n"
             "    print('HTTP', e.code)\n"
             "except Exception as e:\n"
             "    print('REFUSED', e)\n")
    with Simulator(scenario=copy.deepcopy(E2E_SCENARIO)) as sim:
        cloud = RootCloud(sim, tmp_path / "cloud", other_root)
        cloud.sweep()
        icinga = root_icinga(other_root, tmp_path / "icinga2", root_pki, cloud.env)
        with running(icinga):
            # the control: what a default context of this Python says to icinga2 pki's certificate
            p = other_root.run("python3", "-c", probe, icinga.url, str(ca))
            flag, answer = p.stdout.splitlines()[:2]
            if flag == "strict":
                assert answer.startswith("REFUSED") and "Authority Key Identifier" in answer, p.stdout + p.stderr
            else:
                assert answer == "HTTP 401", p.stdout + p.stderr
            if other_root.release == "trixie":
                assert flag == "strict", "Debian 13's Python 3.13 should set VERIFY_X509_STRICT by default"

            icinga.deploy(cloud, expect_host=PREFIX)  # the root's vio-icinga deploy (asserts rc 0/1)
            assert cloud.command("vio-icinga")[-1] == "/usr/bin/vio-icinga"
            objs = icinga.drive()
            assert objs[PREFIX].state == 0, icinga.report()

            api = [*icinga.deploy_args()]
            pw = {"VIO_ICINGA_API_PASSWORD": API_PASSWORD}
            r = cloud.run("vio-icinga", "rootcause", "web-01", "--json", *api, env=pw)
            assert r.rc == 0, str(r)
            data = json.loads(r.stdout)
            assert data["source"] == "icinga" and data["object"]["state"] == "UP", r.stdout

            sim.patch("compute_services", "nova-compute@vio-compute-01", state="down")
            cloud.sweep()
            sent = icinga.push(cloud)  # the root's vio-icinga push --once (asserts rc and the summary line)
            assert sent > 0
            objs = icinga.objects()
            assert objs[f"{PREFIX}!nova-compute@vio-compute-01"].state == 2, icinga.report()
