"""Starting and stopping the daemons the tests run: ports, polling with a bound, process groups.

Nothing here knows which daemon it is: Icinga 2, Nagios 4, Icinga Web 2's stack and the benchmark use it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def die_with_parent() -> None:
    """preexec_fn: the daemon gets SIGTERM when the process that started it dies (a test run killed by a
    timeout must not leave an icinga2 or nagios4 behind)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll until predicate() returns something truthy; return it, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process we started, by its pid; SIGKILL its own process group if it does not exit."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    # The session was created for this process (start_new_session), so its group id is its pid: this
    # reaches the workers and plugins it left behind, and nothing else.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(5)


@contextlib.contextmanager
def log_tail_on_failure(daemon):
    """The daemon's log tail printed when the block fails (pytest shows it with the failure)."""
    try:
        yield daemon
    except BaseException:
        print(daemon.log_tail())
        raise


@contextlib.contextmanager
def running(daemon):
    """The daemon (a Core or a Cluster) started for the block and stopped after it, whatever happens; its
    log tail printed when starting or the block fails."""
    try:
        with log_tail_on_failure(daemon):
            daemon.start()
            yield daemon
    finally:
        daemon.stop()


def notify_script(path: Path, log: Path) -> Path:
    """A notification command: appends its arguments as one line to `log`."""
    path.write_text(f'#!/bin/sh\nprintf \'%s\\n\' "$*" >> "{log}"\n')
    path.chmod(0o755)
    return path



def run_as_user() -> str:
    """The user who runs the tests (root in CI): a daemon runs as them, not as the packaged `nagios`."""
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def run_as_group() -> str:
    """The primary group of the user who runs the tests."""
    import grp
    return grp.getgrgid(os.getgid()).gr_name
