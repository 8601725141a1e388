"""What a cache error means, and whether a lock's owner is gone: the judgements cache.Store acts on.

- corruption (a damaged SQLite file, an unreadable pickle): moved aside and rebuilt;
- a refused write (full disk, file-size limit, quota, read-only): nothing is damaged, the last snapshot
  serves;
- a lock whose owner died on this host (a killed sweeper): taken over at once.
"""

from __future__ import annotations

import os
import sqlite3

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm check reads this module)
if TYPE_CHECKING:
    from typing import Any


def _is_corruption(e: BaseException) -> bool:
    if isinstance(e, sqlite3.OperationalError):
        return "malformed" in str(e) or "not a database" in str(e)
    return isinstance(e, (sqlite3.DatabaseError, EOFError, ValueError, TypeError, AttributeError,
                          ImportError)) or e.__class__.__name__ == "UnpicklingError"


def _is_write_failure(e: BaseException) -> bool:
    """A write the disk refused (full, a file-size limit, read-only, quota): nothing of ours is damaged."""
    import errno

    if isinstance(e, sqlite3.OperationalError):
        text = str(e)
        return any(s in text for s in ("disk is full", "disk I/O error", "readonly database"))
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS)


def process_start(pid: int) -> int | None:
    """A process's start time (clock ticks since boot, /proc), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner_dead(owner: Any) -> bool:
    """True when a lock's recorded owner is a process of this host that no longer runs."""
    import socket

    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return False  # another host's process (a shared cache), or an old lock: its expiry decides
    pid, start = owner.get("pid"), owner.get("start")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # runs, as another user
    now = process_start(pid)
    return now is not None and start is not None and now != start  # the pid was reused
