"""vio-icinga deploy against a small in-test fake of the Icinga 2 config packages API (http.server), whose
stages are validated by the real `icinga2 daemon -C` like Icinga itself would."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from icinga_e2e import assert_one_parent_each
from icinga_helpers import ICINGA_DIR, small_inventory, store_inventory, uid

from vio_checks.icinga import deploy as d
from vio_checks.icinga.generate import validate_icinga2

BIN = Path(sys.executable).parent
P = "vio-demo-RegionOne"
pytestmark = pytest.mark.usefixtures("icinga2_binary")


class FakeIcinga:
    """The parts of the Icinga 2 API `deploy` uses, with stage validation by the real icinga2."""

    def __init__(self, version: str = "r2.13.6-1", user: str = "vio", password: str = "s3cret",
                 tls=None) -> None:
        self.version = version
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.packages: dict[str, dict] = {}  # name → {"active": str, "stages": {stage: {path: text}}}
        self.busy = 0  # answer this many requests with 423
        self.polls_before_done = 2  # stage listings before `status` appears (asynchronous validation)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, body, content_type: str = "application/json") -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake.lock:
                    fake.requests.append((method, self.path))
                    if self.headers.get("Authorization") != fake.auth:
                        return self._send(401, {"error": 401, "status": "Unauthorized. Please check your user "
                                                                        "credentials."})
                    if fake.busy > 0:
                        fake.busy -= 1
                        return self._send(423, {"error": 423, "status": "Conflicting request, there is already "
                                                                        "an ongoing config update."})
                    code, out, ctype = fake.route(method, [unquote(p) for p in
                                                           urlsplit(self.path).path.split("/")[2:]], body)
                self._send(code, out, ctype)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeIcinga:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the API ---------------------------------------------------------------------------

    def route(self, method: str, parts: list[str], body) -> tuple[int, object, str]:
        j = "application/json"
        match method, parts:
            case "GET", ["status", "IcingaApplication"]:
                app = {"version": self.version, "node_name": "icinga.example.com"}
                return 200, {"results": [{"status": {"icingaapplication": {"app": app}}}]}, j
            case "GET", ["config", "packages"]:
                return 200, {"results": [{"name": n, "active-stage": p["active"], "stages": sorted(p["stages"])}
                                         for n, p in self.packages.items()]}, j
            case "POST", ["config", "packages", name]:
                self.packages.setdefault(name, {"active": "", "stages": {}, "polls": {}})
                return 200, {"results": [{"code": 200, "package": name, "status": "Created package."}]}, j
            case "POST", ["config", "stages", name]:
                pkg = self.packages.get(name)
                if pkg is None:
                    return 404, {"error": 404, "status": "Package not found."}, j
                stage = str(uuid.uuid4())
                files = dict(body["files"])
                status, log = self.validate(files)
                files["status"], files["startup.log"] = f"{status}\n", log
                files["include.conf"] = "include_recursive \"conf.d\"\n"
                pkg["stages"][stage] = files
                pkg["polls"][stage] = 0
                if status == 0:
                    pkg["active"] = stage
                return 200, {"results": [{"code": 200, "package": name, "stage": stage,
                                          "status": "Created stage. Reload triggered."}]}, j
            case "GET", ["config", "stages", name, stage]:
                pkg = self.packages.get(name, {"stages": {}})
                if stage not in pkg["stages"]:
                    return 404, {"error": 404, "status": "Stage not found."}, j
                pkg["polls"][stage] += 1
                done = pkg["polls"][stage] > self.polls_before_done
                entries = [{"name": f, "type": "file"} for f in sorted(pkg["stages"][stage])
                           if done or f not in ("status", "startup.log")]
                entries += [{"name": "conf.d", "type": "directory"}]
                return 200, {"results": entries}, j
            case "GET", ["config", "files", name, stage, *path]:
                files = self.packages.get(name, {"stages": {}})["stages"].get(stage, {})
                if "/".join(path) not in files:
                    return 404, {"error": 404, "status": "Path not found."}, j
                return 200, files["/".join(path)], "application/octet-stream"
            case "DELETE", ["config", "stages", name, stage]:
                pkg = self.packages[name]
                if pkg["active"] == stage:
                    return 500, {"error": 500, "status": "Stage is active."}, j
                pkg["stages"].pop(stage, None)
                return 200, {"results": [{"code": 200, "status": "Stage deleted."}]}, j
        return 404, {"error": 404, "status": f"no route {method} {'/'.join(parts)}"}, j

    def validate(self, files: dict[str, str]) -> tuple[int, str]:
        """What Icinga does with a new stage: the real `icinga2 daemon -C` over its files."""
        with tempfile.TemporaryDirectory() as tmp:
            paths, zones = [], []
            for rel, text in files.items():
                path = Path(tmp) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                paths.append(path)
                if rel.startswith("zones.d/"):
                    zones.append(rel.split("/")[1])
            v = validate_icinga2(paths, ICINGA_DIR, sorted(set(zones)))
        return (0 if v.ok else 1), v.output

    def active_files(self, package: str = "vio-checks") -> dict[str, str]:
        pkg = self.packages[package]
        return {k: v for k, v in pkg["stages"][pkg["active"]].items()
                if k.startswith(("conf.d/", "zones.d/"))}


@pytest.fixture
def cache(tmp_path) -> Path:
    store_inventory(tmp_path / "cache", small_inventory())
    return tmp_path / "cache"


def deploy(cache: Path, url: str, *args: object, password: str | None = "s3cret") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIO_"))}
    if password is not None:
        env["VIO_ICINGA_API_PASSWORD"] = password
    cmd = [BIN / "vio-icinga", "deploy", "--api-url", url, "--api-user", "vio", "--os-cloud", "demo",
           "--os-region-name", "RegionOne", "--cache-dir", cache, "--cache-only", "--retries", "2", "--retry-delay", "0.05", *args]
    p = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, env=env, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def test_deploy_then_unchanged_then_changed(cache):
    with FakeIcinga() as api:
        first = deploy(cache, api.url)
        assert first.returncode == 1, first.stderr  # 1: deployed (changed), as generate's exit codes
        assert "deployed vio-checks/conf.d/vio-demo-RegionOne.conf" in first.stdout
        files = api.active_files()
        assert list(files) == [f"conf.d/{P}.conf"]
        assert f'object Host "{P}-vm-{uid("vm", "web-01")}"' in files[f"conf.d/{P}.conf"]
        assert_one_parent_each(files[f"conf.d/{P}.conf"])
        posts = [r for r in api.requests if r[0] == "POST"]

        again = deploy(cache, api.url)
        assert again.returncode == 0, again.stderr
        assert [r for r in api.requests if r[0] == "POST"] == posts  # nothing uploaded
        assert again.stdout.startswith(f"vio-icinga: vio-checks/conf.d/{P}.conf unchanged (stage ")
        assert len(again.stdout.splitlines()) == 1 and again.stderr == ""

        inv = small_inventory()
        inv.servers = [s for s in inv.servers if s.name != "db-01"]
        store_inventory(cache, inv)
        third = deploy(cache, api.url)
        assert third.returncode == 1, third.stderr
        assert uid("vm", "db-01") not in api.active_files()[f"conf.d/{P}.conf"]
        assert len(api.packages["vio-checks"]["stages"]) == 1  # the old stages were deleted


def test_the_same_file_is_deployed_for_every_icinga_version(cache):
    """No dialect: whichever version /v1/status reports (or --icinga-version names), the same file is
    uploaded, and it passes validation (the fake validates with this machine's icinga2, 2.13); the HA
    router has one parent, its l3-agents set. Deploy still says which version it deployed to."""
    deployed = {}
    for version, extra in (("v2.13.6", ()), ("v2.14.6", ()), ("v2.14.6", ("--icinga-version", "2.13"))):
        with FakeIcinga(version=version) as api:
            p = deploy(cache, api.url, *extra)
            assert p.returncode == 1, p.stderr
            want = extra[1] if extra else version[1:5]
            assert p.stdout.rstrip().endswith(f"(Icinga {want})"), p.stdout
            deployed[(version, extra)] = api.active_files()[f"conf.d/{P}.conf"]
    assert len(set(deployed.values())) == 1
    assert_one_parent_each(next(iter(deployed.values())))


def test_other_files_in_the_package_are_kept(cache):
    with FakeIcinga() as api:
        api.packages["vio-checks"] = {"active": "old", "polls": {"old": 0}, "stages": {"old": {
            "conf.d/vio-other-region.conf": 'object Host "other" { check_command = "dummy" }\n',
            "status": "0\n", "startup.log": ""}}}
        p = deploy(cache, api.url, "--zone", "master")
        assert p.returncode == 1, p.stderr
        assert sorted(api.active_files()) == ["conf.d/vio-other-region.conf", f"zones.d/master/{P}.conf"]
        assert 'zone = "master"' in api.active_files()[f"zones.d/master/{P}.conf"]
        assert "old" not in api.packages["vio-checks"]["stages"]


def test_busy_api_is_retried_then_given_up(cache):
    with FakeIcinga() as api:
        api.busy = 2
        p = deploy(cache, api.url)
        assert p.returncode == 1, p.stderr
        api.busy = 100
        p = deploy(cache, api.url, "--icinga-version", "2.13", "--package", "other")
        assert p.returncode == 3
        assert "HTTP 423" in p.stderr and "gave up after 3 attempts" in p.stderr


def test_unreachable_and_unauthorized(cache):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    p = deploy(cache, f"https://127.0.0.1:{port}", "--retries", "0")
    assert p.returncode == 3 and "cannot reach" in p.stderr and p.stderr.count("\n") == 1
    with FakeIcinga() as api:
        p = deploy(cache, api.url, password="wrong")
        # refused: a configuration to fix (2), not an outage to wait out (3)
        assert p.returncode == 2 and "HTTP 401" in p.stderr and "check --api-user and the password" in p.stderr
        assert p.stderr.count("\n") == 1 and p.stdout == ""
        p = deploy(cache, api.url, password=None)
        assert p.returncode == 2 and "no API password" in p.stderr


def test_password_file(cache, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    with FakeIcinga() as api:
        p = deploy(cache, api.url, "--api-password-file", secret, password=None)
        assert p.returncode == 1, p.stderr


def test_client_waits_for_the_asynchronous_validation():
    with FakeIcinga() as api:
        api.polls_before_done = 3
        client = d.IcingaApi(api.url, "vio", "s3cret", retries=0, sleep=lambda s: None)
        assert client.version() == (2, 13, 6)
        result = d.deploy(client, "pkg", "conf.d/x.conf", 'object Host "x" { check_command = "dummy" }\n')
        assert result.status == "deployed"
        assert len([r for r in api.requests if r[1].startswith("/v1/config/stages/pkg/")]) >= 4
        assert d.deploy(client, "pkg", "conf.d/x.conf",
                        'object Host "x" { check_command = "dummy" }\n').status == "unchanged"
        bad = d.deploy(client, "pkg", "conf.d/x.conf", 'object Host "x" { chec_command = "dummy" }\n')
        assert bad.status == "failed" and "chec_command" in bad.log_excerpt
        api.polls_before_done = 10**6
        with pytest.raises(d.ApiUnavailable, match="not validated within"):
            d.deploy(client, "pkg", "conf.d/x.conf", "// y\n", wait=0.2, poll=0.05)


@pytest.mark.usefixtures("openssl_binary")
def test_tls_with_ca_file(cache, tmp_path):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with FakeIcinga(tls=context) as api:
        untrusted = deploy(cache, api.url, "--retries", "0")
        assert untrusted.returncode == 2 and "TLS" in untrusted.stderr  # a configuration to fix
        trusted = deploy(cache, api.url, "--ca-file", cert)
        assert trusted.returncode == 1, trusted.stderr


@pytest.mark.usefixtures("openssl_binary")
def test_tls_server_name_verifies_an_endpoint_name_at_another_address(cache, tmp_path):
    """An Icinga endpoint's certificate names the endpoint (often no DNS name): connect to the URL's address,
    verify the certificate for --tls-server-name."""
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=satellite-regionone", "-addext", "subjectAltName=DNS:satellite-regionone", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with FakeIcinga(tls=context) as api:
        assert api.url.startswith("https://127.0.0.1:")
        wrong_name = deploy(cache, api.url, "--ca-file", cert, "--retries", "0")
        assert wrong_name.returncode == 2 and "TLS error" in wrong_name.stderr, wrong_name.stderr
        assert "--tls-server-name" in wrong_name.stderr and wrong_name.stderr.count("\n") == 1
        other = deploy(cache, api.url, "--ca-file", cert, "--tls-server-name", "satellite-regiontwo", "--retries", "0")
        assert other.returncode == 2 and "TLS error" in other.stderr
        p = deploy(cache, api.url, "--ca-file", cert, "--tls-server-name", "satellite-regionone")
        assert p.returncode == 1, p.stderr


def test_satellite_zone_deploys_the_parent_zones_watch_too(cache):
    with FakeIcinga() as api:
        p = deploy(cache, api.url, "--zone", "vio-regionone")
        assert p.returncode == 1, p.stderr
        files = api.active_files()
        assert sorted(files) == [f"zones.d/master/{P}-zone.conf", f"zones.d/vio-regionone/{P}.conf"]
        watch = files[f"zones.d/master/{P}-zone.conf"]
        assert f'object Host "{P}-zone"' in watch and 'vars.cluster_zone = "vio-regionone"' in watch
        assert 'zone = "vio-regionone"' not in watch.replace('cluster_zone = "vio-regionone"', "")
        posts = [r for r in api.requests if r[0] == "POST"]
        again = deploy(cache, api.url, "--zone", "vio-regionone")
        assert again.returncode == 0 and [r for r in api.requests if r[0] == "POST"] == posts  # unchanged
        # another parent zone: the watch moves (the old one would define its host twice)
        p = deploy(cache, api.url, "--zone", "vio-regionone", "--parent-zone", "emea")
        assert p.returncode == 1, p.stderr
        assert sorted(api.active_files()) == [f"zones.d/emea/{P}-zone.conf", f"zones.d/vio-regionone/{P}.conf"]
        # the master checks the cloud itself again: no satellite zone, no watch, the objects moved
        p = deploy(cache, api.url)
        assert p.returncode == 1, p.stderr
        assert sorted(api.active_files()) == [f"conf.d/{P}.conf"]
