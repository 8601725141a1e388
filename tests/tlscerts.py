"""Test helper: mint a CA and server certificates (with `cryptography`) for the simulator's TLS endpoints."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DAY = dt.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class CA:
    """A self-signed CA in `directory` (ca.pem): `issue()` writes server certificates it signs."""

    def __init__(self, directory: Path, cn: str = "vio test CA") -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = _key()
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - DAY).not_valid_after(now + 3650 * DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.path = self.dir / "ca.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, expires_in: dt.timedelta, hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
              self_signed: bool = False) -> tuple[Path, Path, dt.datetime]:
        """A server certificate for `hosts` expiring `expires_in` from now (negative: expired), signed by
        this CA (or by itself): (certificate file, key file, its not-after)."""
        key = _key()
        now = dt.datetime.now(dt.UTC)
        after = (now + expires_in).replace(microsecond=0)
        sans = [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in hosts]
        builder = (x509.CertificateBuilder().subject_name(_name(hosts[0]))
                   .issuer_name(_name(hosts[0]) if self_signed else self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(min(now - DAY, after - DAY)).not_valid_after(after)
                   .add_extension(x509.SubjectAlternativeName(sans), critical=False))
        cert = builder.sign(key if self_signed else self.key, hashes.SHA256())
        certfile, keyfile = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(_pem_key(key))
        return certfile, keyfile, after
