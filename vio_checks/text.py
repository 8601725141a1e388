"""Strings that came from the cloud, made inert for plugin output; and how times read in it.

Names, fault messages, disabled reasons and metadata are chosen by tenants or by a service we do not
control. Before any of them reaches a line of plugin output it goes through `inert()`: one line, no `|`
(the perfdata separator), no control or bidi characters, valid Unicode, and a bounded length. A perfdata
label made from such a string goes through `perf_label()`. `one_line()` is the last guard at the output
boundary for text we composed ourselves from such pieces.

`valid()` is the rule under all of them, and the one every other writer of such strings (config files,
JSON, URLs, logs) applies before it escapes for its own syntax: a lone surrogate, which no encoder can
write (a JSON `\\udcff` escape, or a byte that was not UTF-8 in argv or a file name: Python's
`surrogateescape`), becomes U+FFFD.

`clock()` and `age()` are how every output writes a time: clock times in the monitoring host's zone,
ages in words.
"""

from __future__ import annotations

import codecs
import re
import time

#: The longest cloud string shown in the status line or long output.
MAX_LEN = 120
ELLIPSIS = "…"

# C0/C1 controls (NUL, newlines, ESC, NEL ...), line/paragraph separators, and the bidi controls that can
# make a line read differently from what it is: each becomes a space; `|` becomes `/`. A translation table
# rather than regexes: every check prints through here, and compiling them cost more than the work.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F),
             *range(0x2066, 0x206A), 0xFEFF]
_ONE_LINE = {**dict.fromkeys(_CONTROLS, " "), ord("|"): "/"}
_SURROGATE = "[\ud800-\udfff]"


def valid(text: object) -> str:
    """`text` as valid Unicode: every lone surrogate becomes U+FFFD (None: the empty string)."""
    s = "" if text is None else str(text)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, the only str UTF-8 cannot encode
        return re.sub(_SURROGATE, "\ufffd", s)
    return s


def _unencodable(error: UnicodeError) -> tuple[bytes, int]:
    """What an output stream cannot encode becomes U+FFFD, as in valid() (`?` where the stream's encoding
    has no U+FFFD either): the last guard for text no writer made valid (a path from argv in a message).
    Bytes, not str: the UTF-8 encoder takes only ASCII text from a handler."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    try:
        mark = "\ufffd".encode(error.encoding)
    except (UnicodeError, LookupError):
        mark = b"?"
    return mark * (error.end - error.start), error.end


#: The codecs error handler of our commands' stdout and stderr (runtime.pipe_safe): see _unencodable.
STREAM_ERRORS = "vio-valid"
codecs.register_error(STREAM_ERRORS, _unencodable)


def one_line(text: object) -> str:
    """`text` as one line of valid Unicode without `|`: controls become spaces, runs of space one."""
    s = "" if text is None else str(text)
    # Most cloud strings need nothing: printable (no control, format or separator character but the
    # ASCII space, no surrogate), no `|`, no run of spaces and none at either end.
    if s.isprintable() and "|" not in s and "  " not in s and s[:1] != " " and s[-1:] != " ":
        return s
    s = valid(s)
    # str.split() splits on the whitespace re's \s matches, and drops it at both ends as strip() did
    return " ".join(s.translate(_ONE_LINE).split())


def inert(text: object, limit: int = MAX_LEN) -> str:
    """A cloud string safe for any line of plugin output, at most `limit` characters (with an ellipsis)."""
    s = one_line(text)
    if len(s) > limit:
        s = s[: max(1, limit - 1)].rstrip() + ELLIPSIS
    return s


_LABEL_BAD = r"[^A-Za-z0-9_.@:/+-]"
_LABEL_OK = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@:/+-")


def perf_label(text: object, limit: int = 60) -> str:
    """A perfdata label from a cloud string: no quotes, `=`, spaces or `|`; `_` instead; bounded."""
    s = one_line(text)
    if not _LABEL_OK.issuperset(s):
        s = re.sub(_LABEL_BAD, "_", s)
    return (s[:limit] or "_")


def counted(n: int, many: str, one: str | None = None) -> str:
    """`1 VM`, `2 VMs`, `0 VMs`: a count and its noun phrase, plural only when plural: the one rule of
    every count in product output. `many` is the plural phrase (`VMs added`, `ports of web-01`, `failed
    migrations`); `one` its singular, by default `many` with the `s` dropped from its first word that
    ends in one."""
    if n != 1:
        return f"{n} {many}"
    if one is None:
        words = many.split(" ")
        i = next((i for i, w in enumerate(words) if len(w) > 1 and w.endswith("s")), None)
        if i is not None:
            words[i] = words[i][:-1]
        one = " ".join(words)
    return f"{n} {one}"


def clock(ts: float | None, now: float) -> str:
    """`10:42` for today (local time), `2026-11-23 10:42` for another day, `?` when unknown."""
    if ts is None:
        return "?"
    t, n = time.localtime(ts), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def stamped_ahead(ahead: float) -> str:
    """The one sentence for an inventory whose stamp lies `ahead` seconds in the future (a clock ahead)."""
    return f"inventory stamped {age(ahead)} in the future (the sweeper's clock ahead?): its age is unknown"


def age(seconds: float | None) -> str:
    """`12 s`, `4 min`, `3 h 5 min`, `2 d 4 h`; `?` when unknown (None, or inf: stamped in the future)."""
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "?"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
