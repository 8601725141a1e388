"""Secrets under faults: none in any output, log or cache file, whatever a command is told or answered
(user info in the auth URL, a Keystone or Icinga that echoes what it was sent).

Every case runs with canary secrets (tests/canary.py): each cloud's password and the Icinga API password are
canaries, and after the case nothing any command printed, nor any file it left, may hold any form of them
or of a Keystone token the simulator issued.
"""

from __future__ import annotations

import json

import pytest
from canary import canaries  # noqa: F401  (autouse: the canaries are looked for after every case)


def _store(cloud):
    from vio_checks.cache import Store

    return Store(cloud.cache_dir / "vio-sim")


# --- secrets: none in any output, log or cache file (the canaries fixture looks) -----------------------

VERBOSITY = ("", "-v", "-vv", "-vvv")


def _each_verbosity(cloud, *command):
    return [cloud.run(*command, *([v] if v else [])) for v in VERBOSITY]


def test_auth_url_user_info_is_never_printed_nor_stored(healthy_cloud, canaries):  # noqa: F811  (the fixture)
    import urllib.parse

    cloud = healthy_cloud
    secret = urllib.parse.quote(canaries.openstack_password, safe="")
    text = cloud.clouds_yaml.read_text()
    cloud.clouds_yaml.write_text(text.replace(f'"{cloud.sim.url}', f'"http://admin:{secret}@{cloud.sim.url[7:]}'))
    r = cloud.run("vio-discover", "--json")  # openstacksdk accepts it
    assert r.rc == 0, str(r)
    (cloud.cache_dir / "vio-sim" / "auth-state.json").unlink()
    cloud.sim.stop()  # Keystone gone: its URL goes into the error line and the stored status
    for r in [*_each_verbosity(cloud, "vio-discover", "-t", "5"),
              *_each_verbosity(cloud, "check_vio_discovery", "-t", "5", "--max-age", "0")]:
        assert "http://***@127.0.0.1:" in r.stdout + r.stderr, str(r)


def test_an_echoing_keystone_gives_no_password_away(healthy_cloud):
    # A proxy (or a service in debug mode) repeating the request, its JSON body with the password included.
    healthy_cloud.sim.fault(path=r"^/identity/v3/auth/tokens$", method="POST", status=500, echo=True)
    for r in [*_each_verbosity(healthy_cloud, "vio-discover", "-t", "5"),
              *_each_verbosity(healthy_cloud, "check_vio_discovery", "-t", "5", "--max-age", "0")]:
        assert r.rc == 2 and '"password": "***"' in r.stdout + r.stderr, str(r)



class _EchoingIcinga:
    """An Icinga API (or the proxy before it) answering every request with `status` and a body that repeats
    the request's headers, Authorization included: as JSON when `json_body`, else as a proxy's HTML page."""

    def __init__(self, status: int, json_body: bool) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _echo(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                sent = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
                if json_body:
                    body = json.dumps({"error": status, "status": f"Bad request. Headers:\n{sent}",
                                       "headers": dict(self.headers.items())}).encode()
                    kind = "application/json"
                else:
                    body = f"<html><body><h1>{status}</h1><pre>{sent}</pre></body></html>".encode()
                    kind = "text/html"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _echo

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status,json_body", [(400, True), (401, True), (500, True)])
def test_icinga_error_bodies_echoing_our_headers_are_redacted(healthy_cloud, status, json_body):
    cloud = healthy_cloud
    cloud.sweep()
    icinga = _EchoingIcinga(status, json_body)
    api = ("--api-url", icinga.url, "--api-user", "vio", "--retries", "0", "--api-timeout", "5")
    try:
        for command in (("push", "--once", *api), ("deploy", *api), ("rootcause", "web-01", *api)):
            for r in _each_verbosity(cloud, "vio-icinga", *command):
                assert r.rc != 0 and "Traceback" not in r.stderr, str(r)
    finally:
        icinga.close()


