"""`generate --validate-with /etc/icinga2`: the new files validated inside a copy of the admin's live
configuration tree, where they will be installed, so a duplicate object (an old file of ours elsewhere in
the tree, another tool's host of the same name) is caught before the file is written, not after a reload.

The copy is throw-away: the new files replace their old versions at the same places in it, and
`icinga2 daemon -C -c <copy>/icinga2.conf` runs with its object cache redirected into the copy, so neither
the live tree nor Icinga's state is touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from vio_checks.icinga.generate import GenerateError, Validation, _find, _run, _user_group


def validate_in_tree(files: list[tuple[Path, str]], live: Path, binary: str | None = None,
                     timeout: float = 300) -> Validation:
    """Validate the (destination path, text) files inside a copy of the live tree `live` (the directory of
    icinga2.conf). Every destination must be inside `live`: elsewhere the live config would not load it."""
    live = live.resolve()
    if not (live / "icinga2.conf").is_file():
        raise GenerateError(f"--validate-with {live}: no icinga2.conf there (give the directory of the live "
                            "configuration, e.g. /etc/icinga2)")
    relative = []
    for dest, text in files:
        try:
            relative.append((Path(os.path.abspath(dest)).relative_to(live), text))
        except ValueError:
            raise GenerateError(f"--validate-with {live}: {dest} is outside it, so the live configuration "
                                "would not load it") from None
    exe = _find(binary, ("icinga2",))
    with tempfile.TemporaryDirectory(prefix="vio-icinga-live-") as tmp:
        copy = Path(tmp) / "etc"
        try:
            shutil.copytree(live, copy, symlinks=True, ignore_dangling_symlinks=True)
        except (OSError, shutil.Error) as e:
            raise GenerateError(f"--validate-with {live}: cannot copy it: {e}") from None
        for rel, text in relative:
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        cache = Path(tmp) / "cache"
        cache.mkdir()
        user, group = _user_group()
        cmd = [exe, "daemon", "-C", "-c", str(copy / "icinga2.conf"), f"-DCacheDir={cache}",
               f"-DRunAsUser={user}", f"-DRunAsGroup={group}"]
        return _run(cmd, timeout)
