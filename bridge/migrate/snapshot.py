"""The files a migration may change, held in memory so a failure can put every byte back.

Only in memory: a copy on disk would be one more plaintext copy of every
key. A file is put back in place (same inode where it still exists) with its
old mode, owner and group; a symlink is put back as the same link, and its
target is held and restored like any other file. Files that appear meanwhile
(OpenClaw's new backups, a new agent store) are removed again on restore.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bridge.local.files import create_like, rewrite_in_place

STATE_GLOBS = (".env", "state/*.sqlite*", "agents/*/agent/*.sqlite*")
"""What `openclaw secrets apply` writes besides openclaw.json and its backups, relative to the state directory."""


@dataclass(frozen=True)
class Saved:
    """One path as it was: a link (its text), a regular file (bytes, mode, owner), or nothing."""

    link: str | None = None
    data: bytes | None = field(default=None, repr=False)
    mode: int = 0
    uid: int = -1
    gid: int = -1


def watched(config_file: Path, extra: Iterable[Path]) -> set[Path]:
    """Every path migrate or OpenClaw may write, and the target of each one that is a symlink."""
    state = config_file.parent
    found = {config_file, *extra, *config_file.parent.glob(config_file.name + ".bak*")}
    for pattern in STATE_GLOBS:
        found.update(state.glob(pattern))
    return found | {path.resolve() for path in found if path.is_symlink()}


def save(path: Path) -> Saved:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return Saved()
    if stat.S_ISLNK(info.st_mode):
        return Saved(link=os.readlink(path))
    return Saved(data=path.read_bytes(), mode=stat.S_IMODE(info.st_mode), uid=info.st_uid, gid=info.st_gid)


def put_back(path: Path, saved: Saved) -> None:
    try:
        info: os.stat_result | None = path.lstat()
    except FileNotFoundError:
        info = None
    is_link = info is not None and stat.S_ISLNK(info.st_mode)
    if saved.link is not None:
        if is_link and os.readlink(path) == saved.link:
            return
        if info is not None:
            path.unlink()
        os.symlink(saved.link, path)
        return
    if saved.data is None:
        if info is not None:
            path.unlink()
        return
    if info is None or is_link:
        if info is not None:
            path.unlink()
        create_like(path, saved.data, saved.mode, saved.uid, saved.gid)
        return
    if path.read_bytes() != saved.data:
        rewrite_in_place(path, saved.data)
    if (info.st_uid, info.st_gid) != (saved.uid, saved.gid):
        os.chown(path, saved.uid, saved.gid, follow_symlinks=False)
    if stat.S_IMODE(info.st_mode) != saved.mode:
        os.chmod(path, saved.mode)


class Snapshot:
    def __init__(self, config_file: Path, extra: list[Path], files: dict[Path, Saved]) -> None:
        self._config_file = config_file
        self._extra = extra
        self._files = files

    @classmethod
    def take(cls, config_file: Path, extra: list[Path]) -> Snapshot:
        return cls(config_file, extra, {path: save(path) for path in watched(config_file, extra)})

    def restore(self) -> None:
        """Every watched path as it was: links, contents, mode and owner back, new files removed."""
        for path in watched(self._config_file, self._extra) - set(self._files):
            path.unlink(missing_ok=True)
        for path, saved in sorted(self._files.items(), key=lambda item: item[1].link is not None):
            put_back(path, saved)
