"""Processes of the real-OpenStack stack: one started process (Proc), free ports, ini files, system pieces.

Every process is started in its own session, so its pid is its process group: it is stopped by that group,
never by name.
"""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any


class StackError(RuntimeError):
    """A piece of the stack did not start; the message names it and the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_system_pieces() -> list[str]:
    """What this machine lacks for the stack (Debian's mariadb-server and rabbitmq-server)."""
    missing = []
    for binary in ("mariadbd", "mariadb-install-db", "mariadb", "epmd"):
        if not shutil.which(binary) and not Path("/usr/sbin", binary).exists():
            missing.append(f"{binary} (apt-get install mariadb-server rabbitmq-server)")
    if not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists():
        missing.append("/usr/lib/rabbitmq/bin/rabbitmq-server (apt-get install rabbitmq-server)")
    return missing


def ini(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    for name, values in sections.items():
        if name != "DEFAULT":
            cp.add_section(name)
        for k, v in values.items():
            cp.set(name, k, str(v).lower() if isinstance(v, bool) else str(v))
    with path.open("w") as f:
        cp.write(f)
    return path


class Proc:
    """One started process: its pid is its process group; the log holds stdout and stderr."""

    def __init__(self, name: str, popen: subprocess.Popen, log: Path) -> None:
        self.name = name
        self.popen = popen
        self.log = log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
        """Signal the process group; SIGKILL it after `grace` seconds."""
        if self.popen.poll() is not None:
            self._reap_group()
            return
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)
        self._reap_group()

    def signal(self, sig: int) -> None:
        """Send sig to the process group (its leader may have exited, its children not)."""
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap_group(self) -> None:
        # Children that outlive their leader (gunicorn workers, beam) still carry the group id.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Foreign:
    """The part of Popen that Proc uses, for a process another Python process started."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0
        return 0 if stat.rsplit(")", 1)[-1].split()[0] == "Z" else None  # a zombie has exited

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout or 0)
        while self.poll() is None:
            if timeout is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.1)
        return 0
