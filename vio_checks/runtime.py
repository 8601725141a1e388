"""Process-level helpers shared by the commands: logging, a hard timeout, private file modes."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator


def setup_logging(verbosity: int) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug of our own modules, -vvv also each request
    of a sweep (method, path, status, ms).

    The HTTP libraries' debug logging is never switched on: it would print request bodies.
    """
    os.umask(0o077)  # everything we create (cache, auth state) is private
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("vio_checks").setLevel(level)
    logging.getLogger("vio_checks.http").setLevel(logging.DEBUG if verbosity >= 3 else logging.WARNING)
    for noisy in ("keystoneauth", "openstack", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@contextlib.contextmanager
def guard_timeout(seconds: float, error: Callable[[], BaseException] | None = None) -> Iterator[None]:
    """Raise `error()` (default TimeoutError) in the main thread after `seconds`, whatever the code is
    blocked in. The one SIGALRM timer of every command: a check, vio-discover and vio-icinga's sweep."""
    def expire(signum, frame):
        raise error() if error is not None else TimeoutError(f"timed out after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pipe_safe(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a command's main so a reader that went away (`vio-icinga impact --json | head`) ends it
    quietly instead of with a BrokenPipeError traceback."""
    def wrapper(argv: list[str] | None = None) -> int:
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
