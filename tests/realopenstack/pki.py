"""Certificates of the stack, minted with Debian's openssl CLI (OpenSSL 3.0): a CA, and a server certificate
it signs for 127.0.0.1 with an exact not-after.

OpenSSL 3.0's `x509 -req` and `req -x509` only take whole `-days` (`-not_after` came in 3.4); `openssl ca
-enddate` takes an exact time, so the server certificate is signed by `openssl ca` with a minimal config and
its database in the CA's directory.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

#: `openssl ca`'s config: a database, no policy beyond a CN, the request's extensions (subjectAltName) kept.
CA_CONFIG = """[ca]
default_ca = stack_ca

[stack_ca]
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = any_cn
copy_extensions = copy
unique_subject = no

[any_cn]
commonName = supplied
"""


def openssl(*args: str) -> None:
    """Run openssl; CalledProcessError (with its output) when it fails."""
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def mint_ca(directory: Path, cn: str, days: int = 30) -> tuple[Path, Path]:
    """A self-signed CA in `directory`: (ca.pem, ca.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "ca.pem", directory / "ca.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days), "-subj", f"/CN={cn}",
            "-keyout", str(key), "-out", str(cert))
    return cert, key


def mint_server(directory: Path, name: str, ip: str, not_after: dt.datetime) -> tuple[Path, Path]:
    """A server certificate for `ip` (CN and subjectAltName IP) signed by the CA mint_ca made in `directory`,
    valid until `not_after` (to the second): (<name>.pem, <name>.key)."""
    cert, key, csr = (directory / f"{name}.{ext}" for ext in ("pem", "key", "csr"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={ip}", "-addext", f"subjectAltName=IP:{ip}",
            "-keyout", str(key), "-out", str(csr))
    config = directory / "ca.cnf"
    config.write_text(CA_CONFIG.format(dir=directory))
    (directory / "index.txt").touch()
    serial = directory / "serial"
    if not serial.exists():
        serial.write_text("01\n")
    end = not_after.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ")
    openssl("ca", "-config", str(config), "-batch", "-notext", "-cert", str(directory / "ca.pem"),
            "-keyfile", str(directory / "ca.key"), "-in", str(csr), "-out", str(cert), "-enddate", end)
    return cert, key
