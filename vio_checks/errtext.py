"""Library error messages as one line a NOC reads: credentials masked, at most MAX_MESSAGE characters, the
reason (at the end of a wrapped message) kept."""

from __future__ import annotations

import re

from vio_checks import redact
from vio_checks.text import one_line

_URL = re.compile(r"(https?://[^/\s'\"]+)(/[^\s'\"?]*)?(\?[^\s'\"]*)?")
_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")\]]*")
#: Longest message we pass on; the cause is kept, the context shortened.
MAX_MESSAGE = 300


def _short_url(m: re.Match) -> str:
    host, path = m.group(1), m.group(2) or ""
    parts = [p for p in path.split("/") if p]
    return host + ("/…/" + parts[-1] if len(parts) > 2 else path)


def error_line(e: BaseException) -> str:
    """The exception as one line of at most MAX_MESSAGE characters that still says why.

    Library messages wrap the cause in layers of context (URLs, pool and object reprs); when too long, the
    URLs lose their middles and a socket error is reduced to its errno text, then the middle is dropped at
    word boundaries: the end of a message is where the reason is.
    """
    text = one_line(e) or type(e).__name__
    return shorten(text)


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """Shorten a message to `limit` characters keeping its start and its (reason-bearing) end."""
    text = redact.text(text)  # first: no cut may leave a piece of a credential behind
    if len(text) <= limit:
        return text
    errno = _ERRNO.search(text)
    pool = text.find("Unable to establish connection to ")
    if errno and pool >= 0:  # keystoneauth around requests around urllib3 around the socket error
        url = _URL.search(text, pool)
        where = f" to {url.group(1)}" if url else ""
        text = f"{text[:pool]}cannot connect{where}: {errno.group(0).strip()}"
    text = _URL.sub(_short_url, text)
    if len(text) <= limit:
        return text
    keep_head = limit // 3
    head = text[:keep_head].rsplit(" ", 1)[0]
    tail = text[-(limit - len(head) - 3):]
    if " " in tail:
        tail = tail.split(" ", 1)[1]
    return f"{head} … {tail}"

