"""Private files: 0700 directories, 0600 files, written atomically so a crash never leaves half a file.

Files that belong to someone else (OpenClaw's `.env`, its backups, provider
files) are rewritten in place instead: same inode, mode, owner and group,
and their directory is never touched.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) as 0700; tighten an existing one we own."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)


def atomic_write(path: Path, data: bytes) -> None:
    """One of the bridge's own files: its directory made private first, then replaced atomically as 0600."""
    ensure_private_dir(path.parent)
    replace_file(path, data)


def replace_file(path: Path, data: bytes) -> None:
    """Write via a 0600 temp file in the same directory, fsync, rename, fsync the directory; the directory itself
    is left as it is, so this also serves a file in a directory that is not the bridge's."""
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Replace the contents of an existing regular file and nothing else: no rename, so its inode, mode, owner,
    group and hard links stay, and its directory is left as it was. A final symlink is refused: a caller that
    means to edit a link's target resolves it first, deliberately."""
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def create_like(path: Path, data: bytes, mode: int, uid: int, gid: int) -> None:
    """Create a file that must not exist yet, with the given mode and owner (putting back a file someone else
    owned); its directory is left as it was."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        _write_all(fd, data)
        if (os.fstat(fd).st_uid, os.fstat(fd).st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileTooLarge(Exception):
    """A file is larger than anything the bridge writes there: it is not ours, or it was tampered with."""


def read_private(path: Path, max_bytes: int) -> bytes | None:
    """Contents of a private file, or None when it does not exist. Symlinks are refused; more than `max_bytes` is
    never read, so a huge or endless file (a FIFO, /dev/zero behind a rename) costs nothing."""
    return _read_capped(path, max_bytes, getattr(os, "O_NOFOLLOW", 0))


def read_capped(path: Path, max_bytes: int) -> bytes | None:
    """Contents of a user's file (a symlink is followed), or None when it does not exist; as bounded as
    read_private, and a FIFO with no writer reads as empty instead of blocking."""
    return _read_capped(path, max_bytes, 0)


def _read_capped(path: Path, max_bytes: int, extra_flags: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | extra_flags | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if data is None or len(data) > max_bytes:
        raise FileTooLarge(f"{path} is larger than {max_bytes // 1024} KiB")
    return data
