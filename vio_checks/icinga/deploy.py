"""Deploy generated objects through the Icinga 2 config packages API (the way Icinga Director does).

Only the standard library (urllib + ssl): the client is small and must run wherever the checks run.

    api = IcingaApi("https://icinga:5665", "vio", password, ca_file="/etc/icinga2/pki/ca.crt")
    version = api.version()                                    # GET /v1/status/IcingaApplication
    result = deploy(api, "vio-checks", "conf.d/vio-demo.conf", text)

`deploy`: creates the package when missing; compares the file with the active stage's copy and does
nothing when it is identical; otherwise uploads a new stage (our file plus the active stage's other files,
so several clouds can share one package), waits for Icinga's asynchronous validation (`status` file of the
stage: 0 means it validated and was activated; Icinga then reloads), returns the relevant part of
`startup.log` when it failed, and deletes the package's other, inactive stages after a success.

Busy (423: another config update is running; 503: reloading) and unreachable APIs are retried with
exponential backoff; past the retries an ApiUnavailable is raised.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vio_checks.icinga import https, parse_version, render_icinga2
from vio_checks.icinga.generate import relevant_errors
from vio_checks.options import add_bounded, duration_range, int_range
from vio_checks.redact import Redacted


def add_api_options(group, permission: str, *, url: bool = True, required: bool = False,
                    user_default: str | None = None, timeout: float = 30.0, retries: int = 5,
                    retry_delay: bool = True) -> None:
    """The Icinga API options deploy, rootcause and push share (the password never as an option)."""
    if url:
        group.add_argument("--api-url", required=required, metavar="URL",
                           help="e.g. https://icinga.example.com:5665")
    default = f" (default: {user_default})" if user_default else ""
    group.add_argument("--api-user", required=required and user_default is None, default=user_default,
                       metavar="USER", help=f"an ApiUser with permission {permission}{default}")
    group.add_argument("--api-password-file", metavar="FILE",
                       help="file holding the password (default: $VIO_ICINGA_API_PASSWORD)")
    group.add_argument("--ca-file", metavar="FILE",
                       help="CA certificate of the Icinga API (e.g. its pki/ca.crt)")
    group.add_argument("--tls-server-name", metavar="NAME",
                       help="verify the API's certificate for NAME (e.g. the Icinga endpoint name, its CN) "
                            "while connecting to the URL's address (default: the URL's host)")
    add_bounded(group, "--retries", type=int_range(0, 100), default=retries, metavar="N",
                       help=f"retries when the API is unreachable or busy (default: {retries})")
    if retry_delay:
        add_bounded(group, "--retry-delay", type=duration_range(0, 30), default=1.0, metavar="DURATION",
                           help="delay before the first retry, doubled for each next, at most 30 s "
                                "(default: 1 s)")
    add_bounded(group, "--api-timeout", type=duration_range(1), default=timeout, metavar="DURATION",
                       help=f"timeout of one API request (default: {timeout:.0f} s)")


def api_password(password_file: str | None) -> str:
    """The Icinga API password: from the file, else $VIO_ICINGA_API_PASSWORD (never an option).

    Raises ValueError with a one-line message when neither gives one.
    """
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as f:
                return f.read().rstrip("\r\n")
        except OSError as e:
            raise ValueError(f"cannot read --api-password-file: {e.strerror or e}") from None
    password = os.environ.get("VIO_ICINGA_API_PASSWORD")
    if password is None:
        raise ValueError("no API password: use --api-password-file or VIO_ICINGA_API_PASSWORD")
    return password

#: Stage entries that are Icinga's, not config we uploaded.
_OWN_DIRS = ("conf.d/", "zones.d/")


class ApiError(Redacted):
    """The API answered with an error (or not at all): a one-line message, no credential in it (an error
    body may echo our request's headers)."""


class ApiUnavailable(ApiError):
    """Unreachable, or busy (423/503) past the retries."""


@dataclass
class DeployResult:
    status: str  # "unchanged" / "deployed" / "failed"
    stage: str | None = None
    log_excerpt: str = ""
    warnings: list[str] = field(default_factory=list)


#: The largest answer read from the API (a status or objects query, a stage's startup.log).
MAX_REPLY = 64 * 1024 * 1024


class IcingaApi:
    """A small client for the Icinga 2 REST API (basic auth, JSON, TLS verified against ca_file)."""

    def __init__(self, url: str, user: str, password: str, ca_file: str | None = None, timeout: float = 30,
                 retries: int = 5, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 server_name: str | None = None) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise ApiError(f"--api-url {url!r}: use https://HOST:5665")
        self.base = url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.headers = https.auth_headers(user, password)
        handlers: list[urllib.request.BaseHandler] = []
        if parsed.scheme == "https":
            try:
                context = https.tls_context(ca_file)
            except ValueError as e:
                raise ApiError(str(e)) from None
            handlers.append(https.HTTPSHandler(context, server_name))
        # No proxies from the environment: the API is on the monitoring network, with our credentials.
        handlers.append(urllib.request.ProxyHandler({}))
        self.opener = urllib.request.build_opener(*handlers)

    def _once(self, method: str, path: str, body: Any, raw: bool) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if raw:  # Icinga answers file downloads only to a non-JSON Accept (2.13: "Invalid Accept header")
            headers["Accept"] = "application/octet-stream"
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with self.opener.open(req, timeout=self.timeout) as resp:
            payload = resp.read(MAX_REPLY + 1)
        if len(payload) > MAX_REPLY:
            raise ApiError(f"{method} {path}: the API's answer is larger than {MAX_REPLY >> 20} MB")
        if raw:
            return payload.decode("utf-8", "replace")
        try:
            return json.loads(payload or b"{}")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise ApiError(f"{method} {path}: the API answered with something that is not JSON") from None

    def request(self, method: str, path: str, body: Any = None, raw: bool = False,
                not_found: Any = ApiError) -> Any:
        """JSON (or, raw=True, text) of a request; retries busy/unreachable; raises ApiError otherwise.

        `not_found`: the value to return for a 404 instead of raising."""
        retry = https.Retries(self.retries, self.backoff, self.sleep)
        while True:
            try:
                return self._once(method, path, body, raw)
            except urllib.error.HTTPError as e:
                if e.code == 404 and not_found is not ApiError:
                    return not_found
                message = _error_text(e)
                if e.code in https.RETRY_STATUSES:
                    problem = f"{method} {path}: HTTP {e.code} ({message})"
                else:
                    hint = {401: " (check --api-user and the password)",
                            403: " (check --api-user and the password: that ApiUser lacks the permissions "
                                 "config/* and status/query)"}.get(e.code, "")
                    raise ApiError(f"{method} {path}: HTTP {e.code}: {message}{hint}") from None
            except urllib.error.URLError as e:
                reason = e.reason
                if isinstance(reason, ssl.SSLError):
                    raise ApiError(f"TLS error talking to {self.base}: {reason} (check --ca-file and "
                                   "--tls-server-name)") from None
                problem = f"cannot reach {self.base}: {reason}"
            except OSError as e:  # timeouts, resets, refused connections
                problem = f"cannot reach {self.base}: {e}"
            retry.pause(problem, ApiUnavailable)

    # --- endpoints ---------------------------------------------------------------------------

    def version(self) -> tuple[int, int, int]:
        data = self.request("GET", "/v1/status/IcingaApplication")
        try:
            text = data["results"][0]["status"]["icingaapplication"]["app"]["version"]
            return parse_version(text)
        except (KeyError, IndexError, TypeError, ValueError):
            raise ApiError("/v1/status/IcingaApplication did not say which Icinga version runs") from None

    def package(self, name: str) -> dict | None:
        data = self.request("GET", "/v1/config/packages")
        for pkg in data.get("results", []):
            if pkg.get("name") == name:
                return pkg
        return None

    def create_package(self, name: str) -> None:
        self.request("POST", f"/v1/config/packages/{_q(name)}")

    def stage_files(self, package: str, stage: str) -> list[str] | None:
        data = self.request("GET", f"/v1/config/stages/{_q(package)}/{_q(stage)}", not_found=None)
        if data is None:
            return None
        return [e["name"] for e in data.get("results", []) if e.get("type") == "file"]

    def file(self, package: str, stage: str, path: str) -> str | None:
        quoted = "/".join(_q(part) for part in path.split("/"))
        return self.request("GET", f"/v1/config/files/{_q(package)}/{_q(stage)}/{quoted}", raw=True,
                            not_found=None)

    def create_stage(self, package: str, files: dict[str, str]) -> str:
        data = self.request("POST", f"/v1/config/stages/{_q(package)}", {"files": files})
        try:
            result = data["results"][0]
            if int(result.get("code", 200)) >= 400:
                raise ApiError(f"creating a stage failed: {result.get('status')}")
            return result["stage"]
        except (KeyError, IndexError, TypeError):
            raise ApiError("creating a stage: the API did not return the stage's name") from None

    def delete_stage(self, package: str, stage: str) -> None:
        self.request("DELETE", f"/v1/config/stages/{_q(package)}/{_q(stage)}", not_found=None)


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _error_text(e: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(e.read() or b"{}")
        return str(body.get("status") or body.get("error") or e.reason)
    except (ValueError, OSError, AttributeError):
        return str(e.reason)


# --- the deployment --------------------------------------------------------------------------------


def deploy(api: IcingaApi, package: str, path: str, text: str, wait: float = 120.0, poll: float = 1.0,
           clock: Callable[[], float] = time.monotonic, more: dict[str, str] | None = None,
           owns: frozenset[str] = frozenset()) -> DeployResult:
    """Upload `text` as `path` (and the `more` files: path → text) in a new stage of `package`, unless the
    active stage has all of them already. The active stage's other files are kept, except those with the
    name of one of ours, or in `owns` (file names), in any directory: the same objects from an earlier
    deployment into another zone, which would be defined twice."""
    pkg = api.package(package)
    if pkg is None:
        api.create_package(package)
        pkg = {"name": package, "active-stage": "", "stages": []}
    active = pkg.get("active-stage") or ""
    files = {path: text, **(more or {})}
    if active:
        if all(api.file(package, active, p) == t for p, t in files.items()):
            return DeployResult("unchanged", active)
        mine = {p.rsplit("/", 1)[-1] for p in files} | owns
        for other in api.stage_files(package, active) or []:
            if other not in files and other.startswith(_OWN_DIRS) and other.rsplit("/", 1)[-1] not in mine:
                content = api.file(package, active, other)
                if content is not None:
                    files[other] = content
    stage = api.create_stage(package, files)
    deadline = clock() + wait
    polls = 0
    while True:
        listed = api.stage_files(package, stage) or []
        if "status" in listed:
            break
        if clock() > deadline:
            raise ApiUnavailable(f"stage {stage} of {package} was not validated within {wait:.0f} s")
        api.sleep(min(poll, 0.1 * 2 ** polls))  # 0.1, 0.2, 0.4 ... s up to `poll`
        polls += 1
    status = (api.file(package, stage, "status") or "").strip()
    if status != "0":
        startup = api.file(package, stage, "startup.log") or ""
        return DeployResult("failed", stage, relevant_errors(startup))
    result = DeployResult("deployed", stage)
    try:
        pkg = api.package(package) or {}
        keep = {stage, pkg.get("active-stage") or stage}
        for old in pkg.get("stages", []):
            if old not in keep:
                api.delete_stage(package, old)
    except ApiError as e:
        result.warnings.append(f"deployed, but old stages were not deleted: {e}")
    return result


def zone_stage_path(prefix: str, parent: str) -> str:
    """Where the parent zone's watch on a satellite zone goes inside a stage (render_icinga2.render_zone)."""
    return f"zones.d/{parent}/{zone_file(prefix)}"


def zone_file(prefix: str) -> str:
    """The file name of the parent zone's watch, wherever it is."""
    return f"{render_icinga2.zone_host(prefix)}.conf"


def stage_path(prefix: str, zone: str | None) -> str:
    """Where the file goes inside a stage: zones.d/<zone>/ (cluster config sync) or conf.d/ (local)."""
    return f"zones.d/{zone}/{prefix}.conf" if zone else f"conf.d/{prefix}.conf"
