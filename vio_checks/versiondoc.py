"""Keystone's version document: the one unauthenticated GET that must answer.

A 401 there is Keystone (or a proxy in front of it) refusing, never a reason to ask again with a token.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from vio_checks.text import inert

_VERSION = re.compile(r"/v\d+(\.\d+)?")


class KeystoneRefuses(Exception):
    """Keystone answered 401 to its own (unauthenticated) version document."""


def is_keystone_version_document(url: str, headers: Any, auth_url: str | None) -> bool:
    """Whether a request is an unauthenticated GET of Keystone's version documents: the auth_url, a root
    above it, or a version below an unversioned one (`/identity` → `/identity/v3`)."""
    if not isinstance(auth_url, str) or any(str(k).lower() == "x-auth-token" for k in headers or {}):
        return False
    asked, auth = urllib.parse.urlsplit(url), urllib.parse.urlsplit(auth_url)
    if (asked.scheme, asked.netloc) != (auth.scheme, auth.netloc):
        return False
    here, there = asked.path.rstrip("/"), auth.path.rstrip("/")
    if there == here or there.startswith(here + "/"):
        return True
    return here.startswith(there) and bool(_VERSION.fullmatch(here[len(there):]))


def check_keystone_answer(resp: Any, method: str, url: str, headers: Any, auth_url: str | None) -> None:
    """Raise KeystoneRefuses for a 401 to Keystone's version document.

    keystoneauth retries such a 401 with a token, which needs the very auth plugin that is asking: its
    lock is held, so that retry waits for ever. Keystone's answer is the finding.
    """
    if resp.status_code != 401 or method != "GET" or not is_keystone_version_document(url, headers, auth_url):
        return
    resp.close()
    path = urllib.parse.urlsplit(url).path
    raise KeystoneRefuses(f"Keystone refuses its version document: GET {inert(path, 200)} answered HTTP 401 "
                          "without a token (a proxy or policy in front of Keystone?)")
