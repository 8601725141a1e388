"""vCenter credentials and login: pyVmomi is imported only inside `VCenterSession.open`.

Credentials come from a YAML file readable only by its owner (mode 0600 or stricter), or from a `vsphere:`
mapping in the cloud's clouds.yaml entry; never from a command line. Keys (file and mapping alike):

    host: vcenter.example.org        # required
    user: monitoring@vsphere.local   # required: a read-only role is enough
    password: ...                    # required
    port: 443                        # optional
    protocol: https                  # optional; http only for a simulator on loopback
    insecure: false                  # optional: skip certificate verification
    cafile: /etc/ssl/vcenter-ca.pem  # optional: the CA that signed vCenter's certificate
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from vio_checks.vsphere import VSphereError, require


class Credentials:
    """Where and how to log in to one vCenter; the password never appears in repr or str."""

    def __init__(self, host: str, user: str, password: str, port: int | None = None, protocol: str = "https",
                 insecure: bool = False, cafile: str | None = None) -> None:
        self.host = host
        self.user = user
        self.password = password
        self.protocol = protocol
        self.port = port if port is not None else (443 if protocol == "https" else 80)
        self.insecure = insecure
        self.cafile = cafile

    def __repr__(self) -> str:
        return (f"Credentials(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"protocol={self.protocol!r})")

    __str__ = __repr__

    @classmethod
    def from_mapping(cls, data: Any, source: str) -> Credentials:
        """Credentials from a parsed mapping; `source` names it in errors (never a value from it)."""
        if not isinstance(data, Mapping):
            raise VSphereError(f"vCenter credentials in {source}: expected no mapping (host, user, password)")
        lacking = [k for k in ("host", "user", "password") if not data.get(k)]
        if lacking:
            raise VSphereError(f"vCenter credentials in {source}: no {', '.join(lacking)}")
        protocol = str(data.get("protocol") or "https").lower()
        if protocol not in ("http", "https"):
            raise VSphereError(f"vCenter credentials in {source}: protocol must be https or http")
        port = data.get("port")
        try:
            port = int(port) if port not in (None, "") else None
        except (TypeError, ValueError):
            raise VSphereError(f"vCenter credentials in {source}: port is not a number") from None
        return cls(str(data["host"]), str(data["user"]), str(data["password"]), port, protocol,
                   bool(data.get("insecure")), str(data["cafile"]) if data.get("cafile") else None)


def load_credentials(path: str | Path) -> Credentials:
    """Credentials from a YAML file that only its owner can read or write (else VSphereError)."""
    import yaml  # openstacksdk's own dependency

    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise VSphereError(f"vCenter credentials file {p}: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise VSphereError(f"vCenter credentials file {p} is not a regular file")
    if st.st_mode & 0o077:
        raise VSphereError(f"vCenter credentials file {p} is open to group or others: chmod 600 it")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise VSphereError(f"vCenter credentials file {p} belongs to another user")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        # a YAML error can quote the file's text: name only its kind
        raise VSphereError(f"vCenter credentials file {p} cannot be read ({type(e).__name__})") from None
    return Credentials.from_mapping(data, str(p))


def credentials_from_cloud(cloud_config: Mapping[str, Any], cloud: str) -> Credentials | None:
    """Credentials from the `vsphere:` mapping of a clouds.yaml entry, None when it has none."""
    data = cloud_config.get("vsphere")
    if data is None:
        return None
    return Credentials.from_mapping(data, f"clouds.yaml cloud {cloud}")


class VCenterSession:
    """One logged-in vCenter session that counts the SOAP calls it makes (login and logout included).

    Every socket it opens, pyVmomi's API version request included, has the time left before `deadline`
    (a time.monotonic() value) as its timeout, taken again before each SOAP call: a vCenter that accepts the
    connection and never answers ends the session at the deadline with "timed out". (The timeout bounds each
    wait on the socket: the version request and the login share the one taken when SmartConnect starts.)
    """

    def __init__(self, credentials: Credentials, deadline: float) -> None:
        self.credentials = credentials
        self.deadline = deadline
        self.started = time.monotonic()
        self.step = "API version request and login"
        self.calls = 0
        self.methods: dict[str, int] = {}
        self.si: Any = None
        self.content: Any = None

    def time_left(self) -> float:
        """Seconds before the deadline: the timeout of the next socket operation (VSphereError when none)."""
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise self.timed_out()
        return left

    def timed_out(self) -> VSphereError:
        """The one error of a vCenter that did not answer in time: "timed out after N s ... (step)"."""
        return VSphereError(f"timed out after {time.monotonic() - self.started:.1f} s waiting for vCenter "
                            f"{self.credentials.host} ({self.step})")

    def open(self) -> VCenterSession:
        """Negotiate the API version, log in and fetch the service content (VSphereError on failure)."""
        require()
        from pyVim import connect
        c = self.credentials
        context = None
        if c.protocol == "https" and not c.insecure:
            context = ssl.create_default_context(cafile=c.cafile or None)
        try:
            left = self.time_left()
            # SmartConnect first GETs /sdk/vimServiceVersions.xml over a connection of its own that takes no
            # timeout: the process default applies to it, so set that for the call's duration. The SOAP
            # stub's connections (login, then the sweep) take httpConnectionTimeout, tightened per call.
            with default_socket_timeout(left):
                self.si = connect.SmartConnect(
                    protocol=c.protocol, host=c.host, port=c.port, user=c.user, pwd=c.password,
                    sslContext=context, disableSslCertValidation=c.insecure,
                    httpConnectionTimeout=left, connectionPoolTimeout=-1,
                )
            # SmartConnect's own SOAP calls (RetrieveServiceContent, Login) happen before we can count
            self.calls, self.methods = 2, {"RetrieveServiceContent": 1, "Login": 1}
            self._count_calls(soap_stub(self.si))
            self.content = self.si.RetrieveContent()
        except Exception as e:
            error = self.failure(e, "login failed")
            self.close()
            raise error from None
        return self

    def failure(self, e: BaseException, what: str) -> VSphereError:
        """The VSphereError for an exception of the session: "timed out ..." for a socket timeout or a spent
        deadline, else "vCenter HOST: `what`: the error" (password blanked out)."""
        if isinstance(e, VSphereError):
            return e
        if _timeout_in(e) or time.monotonic() >= self.deadline:
            return self.timed_out()
        c = self.credentials
        return VSphereError(f"vCenter {c.host}: {what}: {describe(e, c.password)}")

    def _count_calls(self, stub: Any) -> None:
        invoke = stub.InvokeMethod

        def counted(mo: Any, info: Any, args: Any) -> Any:
            self.step = info.wsdlName
            tighten(stub, self.time_left())
            self.calls += 1
            self.methods[info.wsdlName] = self.methods.get(info.wsdlName, 0) + 1
            return invoke(mo, info, args)

        stub.InvokeMethod = counted

    def close(self) -> None:
        """Log out (best effort) and drop the connections."""
        if self.content is not None:
            try:
                self.content.sessionManager.Logout()
            except Exception:  # already gone: nothing to release
                pass
        if self.si is not None:
            try:
                soap_stub(self.si).DropConnections()
            except Exception:
                pass
        self.si = self.content = None

    def __enter__(self) -> VCenterSession:
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _timeout_in(e: BaseException | None) -> bool:
    """A socket timeout is `e` or lies under it (pyVmomi wraps one during login in a HostConnectFault)."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, TimeoutError):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


@contextlib.contextmanager
def default_socket_timeout(seconds: float) -> Iterator[None]:
    """The process's default socket timeout (what a socket opened without one gets) for the block.

    Process-wide: the sweep runs the vCenter layer alone, after the OpenStack part, in one thread.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


#: The pyVmomi release `soap_stub` and `tighten` were written for: they use its SoapStubAdapter's
#: `InvokeMethod`, `DropConnections`, `schemeArgs` and `pool`, which pyVmomi does not document. On a
#: release without `schemeArgs` or `pool`, tighten changes nothing: each socket then keeps the timeout it
#: was opened with (the session's deadline when SmartConnect started), and the sweep's own guard still
#: ends it in time. tests/vsphere/test_pyvmomi_hooks.py pins this against the installed release.
PYVMOMI_WRITTEN_FOR = "9."


def soap_stub(si: Any) -> Any:
    """The SOAP stub adapter of a pyVmomi ServiceInstance (`si._stub`): the one private hook into pyVmomi, to
    count and bound its calls and to make managed objects by moref (see PYVMOMI_WRITTEN_FOR)."""
    return si._stub


def tighten(stub: Any, seconds: float) -> None:
    """Give a pyVmomi SoapStubAdapter's connections `seconds` as their timeout: those it opens from now on
    (httpConnectionTimeout lives in its `schemeArgs`) and the idle ones in its pool, socket included."""
    args = getattr(stub, "schemeArgs", None)
    if isinstance(args, dict):
        args["timeout"] = seconds
    for entry in list(getattr(stub, "pool", None) or ()):
        conn = entry[0] if isinstance(entry, tuple) else entry
        conn.timeout = seconds
        if getattr(conn, "sock", None) is not None:
            conn.sock.settimeout(seconds)


def describe(e: BaseException, secret: str = "") -> str:
    """One line about a pyVmomi / socket error, with the password (if it were echoed) blanked out."""
    msg = getattr(e, "msg", None) or str(e) or type(e).__name__
    line = " ".join(str(msg).split())[:300]
    if len(secret) >= 4:
        line = line.replace(secret, "***")
    return line
