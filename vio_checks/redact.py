"""Credentials out of every text the product prints, logs or stores: the one rule, here.

    redact.url("http://admin:s3cret@keystone:5000/v3")   # 'http://***@keystone:5000/v3'
    redact.text(message)                                 # every credential below masked as ***

`text()` masks what a message, a reply body or an echoed request can carry:
- the user-info of any URL (`scheme://user:password@host`: openstacksdk accepts it in auth_url);
- credential headers (`Authorization`, `Proxy-Authorization`, `X-Auth-Token`, `X-Subject-Token`,
  `Cookie` ...) in any form (`Name: value`, JSON or Python-repr `"Name": "value"`);
- a `Basic` credential (base64 of user:password) or a `Bearer` token standing alone;
- secret-named values (`password`, `token`, `secret`, `api_key` ...) as `name=value` or `"name": "value"`;
- the secrets this process was given (`register`): plain, URL-encoded and base64.

Everyone calls it: error messages (`errors.VioError`, the Icinga API clients' errors), what the cache stores,
check output, and the log and stderr of every command (`install`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable

MASK = "***"

#: A cheap test first: text without any of these needs no further look (most check output).
_TRIGGER = re.compile(r"://|(?i:auth|pass|token|secret|basic|bearer|cookie|key|session)")
# The patterns below are compiled on first use (re's cache), not at import: every check imports this module
# and most never print anything that passes _TRIGGER.
# scheme://user-info@ : user-info may hold an unencoded @ (greedy up to the last @ before the host)
_USERINFO = r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#'\"<>]*@"
_HEADERS = (r"(?:proxy-)?authorization|x-auth-token|x-subject-token|x-service-token|x-auth-key|"
            r"x-storage-token|(?:set-)?cookie|vmware-api-session-id|x-vmware-vcloud-access-token")
# `Name: value` up to the end of the line (or of a quoted string); `"Name": "value"`; `'Name': 'value'`
_HEADER = (rf"(?i)(?P<q>[\"']?)\b(?P<name>{_HEADERS})(?P=q)(?P<sep>\s*[:=]\s*)"
           r"(?P<v>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\r\n,;}\]]+)")
_SECRET_NAMES = (r"[A-Za-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"
                 r"[A-Za-z0-9_-]*")
_NAME_EQ = rf"(?i)\b(?P<name>{_SECRET_NAMES})=(?P<v>[^\s&\"',;]+)"
_NAME_JSON = (rf"(?i)(?P<q>[\"'])(?P<name>{_SECRET_NAMES})(?P=q)(?P<sep>\s*:\s*)"
              r"(?P<v>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
# The value is a look-ahead, so a word that only looks like one ("basic Basic dXNl...") does not hide the
# credential after it: the scan goes on at the next word.
_BASIC = r"(?i)\b(?P<scheme>basic)\s+(?=(?P<v>[A-Za-z0-9+/]{4,}={0,2}))"
_BEARER = r"(?i)\b(?P<scheme>bearer|token)\s+(?=(?P<v>[A-Za-z0-9._~+/-]{16,}=*))"

#: The secrets of this process (passwords, Basic credentials), each with every form it is printed in.
_known: dict[str, None] = {}
#: A registered secret shorter than this is left to the patterns: masking every "admin" in a message
#: would make it unreadable while protecting nothing.
MIN_KNOWN = 8


def register(secret: str | None) -> None:
    """Mask `secret` (and its URL-encoded and base64 forms) in everything this process prints from now on."""
    if not secret or len(secret) < MIN_KNOWN:
        return
    import base64
    import urllib.parse

    raw = secret.encode("utf-8", "surrogatepass")
    for form in (secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
                 urllib.parse.quote(secret), base64.b64encode(raw).decode()):
        _known[form] = None


def url(value: str) -> str:
    """The URL without the password or user of its user-info part (`http://***@host/...`)."""
    return re.sub(_USERINFO, lambda m: m.group("scheme") + MASK + "@", value)


def _is_basic(value: str) -> bool:
    """A Basic credential: base64 that decodes to user:password (prose like "basic support" is not)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def _is_token(value: str) -> bool:
    return any(c.isdigit() for c in value)  # a token has digits; "token authentication..." has none


def _mask_after(pattern: str, is_secret: Callable[[str], bool], s: str) -> str:
    """`s` with each value `pattern` looks ahead to after its scheme word masked, when `is_secret` says so."""
    out, pos = [], 0
    for m in re.finditer(pattern, s):
        if m.start() < pos or not is_secret(m.group("v")):
            continue
        out += [s[pos:m.start()], f"{m.group('scheme')} {MASK}"]
        pos = m.end() + len(m.group("v"))
    return "".join(out) + s[pos:] if out else s


def _quoted(value: str) -> str:
    return value[0] + MASK + value[0] if value[:1] in ("'", '"') else MASK


def text(value: object) -> str:
    """`value` as text with every credential in it masked (see the module's docstring)."""
    s = "" if value is None else str(value)
    if _known:
        for secret in sorted(_known, key=len, reverse=True):
            if secret in s:
                s = s.replace(secret, MASK)
    if not _TRIGGER.search(s):
        return s
    s = re.sub(_USERINFO, lambda m: m.group("scheme") + MASK + "@", s)
    s = re.sub(_HEADER, lambda m: f"{m.group('q')}{m.group('name')}{m.group('q')}{m.group('sep')}"
                    f"{_quoted(m.group('v'))}", s)
    s = re.sub(_NAME_JSON, lambda m: f"{m.group('q')}{m.group('name')}{m.group('q')}{m.group('sep')}"
                       f"{_quoted(m.group('v'))}", s)
    s = re.sub(_NAME_EQ, lambda m: f"{m.group('name')}={MASK}", s)
    s = _mask_after(_BASIC, _is_basic, s)
    return _mask_after(_BEARER, _is_token, s)


class Redacted(Exception):
    """An exception whose message never carries a credential (masked when it is made)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(text(a) if isinstance(a, str) else a for a in args))


class _Stream:
    """A text stream that masks credentials in each write before passing it on (all else: the stream's)."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        self._stream.write(text(s))  # type: ignore[attr-defined]
        return len(s)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def install() -> None:
    """Mask credentials in everything the command writes to stderr (its messages, logs and tracebacks).

    The last guard: the messages are masked where they are made; this catches what a library says."""
    if not isinstance(sys.stderr, _Stream) and sys.stderr is not None:
        sys.stderr = _Stream(sys.stderr)
    for handler in logging.getLogger().handlers:
        stream = getattr(handler, "stream", None)
        if stream is not None and not isinstance(stream, _Stream) and stream is sys.__stderr__:
            handler.setStream(sys.stderr)
