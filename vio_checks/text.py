"""Strings that came from the cloud, made inert for plugin output.

Names, fault messages, disabled reasons and metadata are chosen by tenants or by a service we do not
control. Before any of them reaches a line of plugin output it goes through `inert()`: one line, no `|`
(the perfdata separator), no control or bidi characters, valid Unicode, and a bounded length. A perfdata
label made from such a string goes through `perf_label()`. `one_line()` is the last guard at the output
boundary for text we composed ourselves from such pieces.
"""

from __future__ import annotations

import re

#: The longest cloud string shown in the status line or long output.
MAX_LEN = 120
ELLIPSIS = "…"

# C0/C1 controls (NUL, newlines, ESC, NEL ...), line/paragraph separators, and the bidi controls that can
# make a line read differently from what it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def one_line(text: object) -> str:
    """`text` as one line of valid Unicode without `|`: controls become spaces, runs of space one."""
    s = "" if text is None else str(text)
    s = _SURROGATE.sub("\ufffd", s)
    s = _CONTROL.sub(" ", s).replace("|", "/")
    return _SPACES.sub(" ", s).strip()


def inert(text: object, limit: int = MAX_LEN) -> str:
    """A cloud string safe for any line of plugin output, at most `limit` characters (with an ellipsis)."""
    s = one_line(text)
    if len(s) > limit:
        s = s[: max(1, limit - 1)].rstrip() + ELLIPSIS
    return s


_LABEL_BAD = re.compile(r"[^A-Za-z0-9_.@:/+-]")


def perf_label(text: object, limit: int = 60) -> str:
    """A perfdata label from a cloud string: no quotes, `=`, spaces or `|`; `_` instead; bounded."""
    s = _LABEL_BAD.sub("_", one_line(text))
    return (s[:limit] or "_")
