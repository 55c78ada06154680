"""A non-blocking lock file, for work two of the bridge's processes must not do at once (a notification pass
from cron while the watcher runs one, two Edge syncs): the second one is told, and skips, never waits."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bridge.local.files import FILE_MODE, ensure_private_dir


@contextlib.contextmanager
def held(path: Path) -> Iterator[bool]:
    """True inside when this process holds the lock at `path` (a 0600 file in a private directory), False when
    another does; released (and left in place, empty) on the way out, or by the kernel if the process dies."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        try:
            _lock(fd)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
