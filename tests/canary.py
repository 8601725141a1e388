"""Canary secrets for the fault suite: seeded into every cloud and Icinga API a test uses, then looked for
in everything the commands printed and everything they left on disk.

    canaries = Canaries()
    canaries.seed(sim)                  # the simulator's admin password becomes the canary
    ...                                 # runs, with VIO_ICINGA_API_PASSWORD=canaries.icinga_password
    canaries.assert_clean(runs, [tmp_path], allowed=[clouds_yaml])

Every form a secret travels in is looked for: plain, URL-encoded (quote, quote_plus, JSON-escaped), base64
alone and inside a Basic credential of any user we know, and each Keystone token the simulator issued.
Only two files may hold one, by design: the clouds.yaml the test wrote (the password's source) and
auth-state.json (the Keystone token kept between sweeps, mode 0600, SECURITY.md).

The fault files import the `canaries` fixture, which is autouse: every case of a file that imports it runs
with canary secrets and is looked through after it.
"""

from __future__ import annotations

import base64
import json
import re
import stat
import urllib.parse
from pathlib import Path

import conftest
import pytest

#: Characters that URL-encoding, JSON and base64 each change, so every form differs from the plain one.
OPENSTACK_PASSWORD = "Os-cAnary/pw+7 x@q"
ICINGA_PASSWORD = "Ic-cAnary/pw+8 y@r"
USERS = ("admin", "vio", "root", "icinga", "")
_BASIC = re.compile(rb"(?i)basic\s+([A-Za-z0-9+/=]{4,})")


def forms(secret: str, users=USERS) -> set[bytes]:
    """Every spelling of `secret` a leak could take, as bytes."""
    out = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret),
           urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1],
           base64.b64encode(secret.encode()).decode()}
    out |= {base64.b64encode(f"{u}:{secret}".encode()).decode() for u in users}
    return {f.encode() for f in out}


class Canaries:
    """The seeded secrets and the tokens a simulator issued."""

    def __init__(self) -> None:
        self.openstack_password = OPENSTACK_PASSWORD
        self.icinga_password = ICINGA_PASSWORD
        self.sims: list = []

    def seed(self, sim) -> None:
        """Make `sim`'s admin password the canary (before its clouds.yaml is written)."""
        user = sim.state.admin_user()
        user["password"] = self.openstack_password
        self.sims.append(sim)

    def tokens(self) -> set[str]:
        return {t for sim in self.sims if sim.app is not None for t in sim.app.tokens}

    def needles(self) -> dict[bytes, str]:
        """form → what it is."""
        found: dict[bytes, str] = {}
        for name, secret in (("OpenStack password", self.openstack_password),
                             ("Icinga API password", self.icinga_password)):
            found.update(dict.fromkeys(forms(secret), name))
        for token in self.tokens():
            found[token.encode()] = "Keystone token"
        return found

    def leaks(self, data: bytes, tokens: bool = True) -> list[str]:
        """What `data` gives away: the forms found in it, and any Basic credential holding a canary."""
        found = [f"{what} ({form.decode(errors='replace')!r})" for form, what in self.needles().items()
                 if form in data and (tokens or what != "Keystone token")]
        for m in _BASIC.finditer(data):
            raw = m.group(1) + b"=" * (-len(m.group(1)) % 4)
            try:
                decoded = base64.b64decode(raw)
            except ValueError:
                continue
            if any(s.encode() in decoded for s in (self.openstack_password, self.icinga_password)):
                found.append(f"a Basic credential ({m.group(0).decode()!r})")
        return found

    def assert_clean(self, runs, dirs, allowed=()) -> None:
        """No canary in any run's stdout/stderr nor in any file under `dirs` but the `allowed` ones."""
        problems = []
        for r in runs:
            for stream in ("stdout", "stderr"):
                for leak in self.leaks(getattr(r, stream).encode("utf-8", "surrogateescape")):
                    problems.append(f"{' '.join(map(str, r.args[-6:]))}: {stream}: {leak}")
        allowed = {Path(p).resolve() for p in allowed}
        for d in dirs:
            for path in Path(d).rglob("*"):
                if not path.is_file() or path.resolve() in allowed:
                    continue
                if path.name == "auth-state.json":  # the token's store by design: private, no password
                    assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
                    problems += [f"{path}: {leak}" for leak in self.leaks(path.read_bytes(), tokens=False)]
                    continue
                problems += [f"{path}: {leak}" for leak in self.leaks(path.read_bytes())]
        assert not problems, "secrets leaked:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def canaries(monkeypatch, tmp_path):
    """Seed the canaries into every CloudEnv of the case, record every command it runs, then look for them."""
    c = Canaries()
    runs: list = []
    allowed: list = []
    init, run = conftest.CloudEnv.__init__, conftest.CloudEnv.run

    def seeded(self, sim, tmp, *args, **kwargs):
        c.seed(sim)
        init(self, sim, tmp, *args, **kwargs)
        self.env["VIO_ICINGA_API_PASSWORD"] = c.icinga_password
        allowed.append(self.clouds_yaml)  # where the password comes from

    def recorded(self, *args, **kwargs):
        r = run(self, *args, **kwargs)
        runs.append(r)
        return r

    monkeypatch.setattr(conftest.CloudEnv, "__init__", seeded)
    monkeypatch.setattr(conftest.CloudEnv, "run", recorded)
    yield c
    c.assert_clean(runs, [tmp_path], allowed=allowed)
