"""Process-level helpers shared by the commands: logging, a hard timeout, private file modes."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

from vio_checks.text import STREAM_ERRORS


def setup_logging(verbosity: int) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug of our own modules, -vvv also each request
    of a sweep (method, path, status, ms).

    The HTTP libraries' debug logging is never switched on: it would print request bodies. Whatever is
    written to stderr passes `redact.text`.
    """
    os.umask(0o077)  # everything we create (cache, auth state) is private
    from vio_checks import redact

    redact.install()  # no credential on stderr, whoever writes there (messages, logs, a library)
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("vio_checks").setLevel(level)
    logging.getLogger("vio_checks.http").setLevel(logging.DEBUG if verbosity >= 3 else logging.WARNING)
    for noisy in ("keystoneauth", "openstack", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


class _Expired(BaseException):
    """Raised from SIGALRM where the code is blocked; a BaseException, so no `except Exception` on the way
    (a library's, ours) takes it for its own error. Its guard turns it into the guard's error."""


@contextlib.contextmanager
def guard_timeout(seconds: float, error: Callable[[], BaseException] | None = None) -> Iterator[None]:
    """Raise `error()` (default TimeoutError) in the main thread after `seconds`, whatever the code is
    blocked in (a read that trickles, a lock that never comes). The one SIGALRM timer of every command:
    a check, vio-discover, vio-icinga's sweep, and a sweep's own budget inside them.

    Guards nest: an inner guard that would expire after the enclosing one does nothing (the outer one is
    the bound), an earlier one takes the timer and gives the outer one back, less the time spent. Outside
    the main thread (no signals there) it guards nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    started = time.monotonic()
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer and outer <= seconds:
        yield
        return
    mine = _Expired()

    def expire(signum, frame):
        raise mine

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds))
    try:
        yield
    except _Expired as e:
        if e is not mine:
            raise
        raise (error() if error is not None else TimeoutError(f"timed out after {seconds:.0f} s")) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, outer - (time.monotonic() - started)))


def pipe_safe(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a command's main so a reader that went away (`vio-icinga impact --json | head`) ends it
    quietly instead of with a BrokenPipeError traceback, and so stdout and stderr write what they cannot
    encode (a lone surrogate from argv or the cloud, a character a non-UTF-8 locale lacks) as U+FFFD
    (text.STREAM_ERRORS) instead of ending in UnicodeEncodeError."""
    def wrapper(argv: list[str] | None = None) -> int:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, ValueError):  # not a text stream, or closed
                stream.reconfigure(errors=STREAM_ERRORS)
        try:
            code = main(argv)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's own final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1

    wrapper.__doc__ = main.__doc__
    return wrapper
