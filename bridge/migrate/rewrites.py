"""A user's file rewritten in place so that a kill at any system call leaves it whole, or puts it back next run.

The file must keep its inode, mode, owner and hard links, so it cannot be replaced by a rename: its new bytes
are written over the old ones, and between that write and the truncate after it the file is neither. So before
the first byte is written, its old bytes and where they belong go to a private copy (0600, in the bridge's
0700 data directory, fsynced), and the copy is removed only once the whole migration has succeeded or has
been rolled back. The next `bridge migrate --mcp` restores every copy it finds before it reads anything: a
file that is its new bytes, or not JSON at all, gets its old bytes back in place; a file that is its old bytes
already needs nothing. A file someone changed since is left alone, and the run stops naming the copy.

The copy holds the old file, plaintext keys included, for as long as the rewrite is unfinished: the same
bytes, at least as private as the file they came from, and gone when the run ends.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from bridge.core.errors import BridgeError
from bridge.local.files import FileTooLarge, atomic_write, read_capped, read_private, rewrite_in_place

PREFIX = "mcp-rewrite-"
SUFFIX = ".json"
MAX_CONFIG_BYTES = 64 * 1024 * 1024
"""The largest file a copy is made of (~/.claude.json keeps a history; it is the largest)."""
MAX_COPY_BYTES = 2 * MAX_CONFIG_BYTES + 64 * 1024


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_path(data_dir: Path, target: Path) -> Path:
    """One copy per real file: its name is a digest of the resolved path, so two names for one file share it."""
    return data_dir / f"{PREFIX}{digest(str(target).encode())[:32]}{SUFFIX}"


@dataclass(frozen=True)
class Copy:
    target: Path
    old: bytes
    new: bytes


def write_copy(data_dir: Path, target: Path, old: bytes, new: bytes) -> Path:
    """The old and new bytes of `target` kept privately (0600, fsynced, the directory too) before it is touched:
    one JSON line naming the target and the two lengths, then the bytes themselves (no escaping, so the copy is
    the size of the two files, whatever they hold)."""
    header = {"target": str(target), "old": len(old), "new": len(new)}
    path = copy_path(data_dir, target)
    atomic_write(path, json.dumps(header).encode() + b"\n" + old + new)
    return path


def rewrite_with_copy(data_dir: Path, target: Path, old: bytes, new: bytes, copies: list[Path]) -> None:
    """`target` (a real regular file, symlinks resolved by the caller) rewritten in place to `new`, with its old
    bytes in a private copy first, listed in `copies` before it exists so that no failure or signal leaves it
    unlisted; the caller removes every listed copy once the run is over."""
    copies.append(copy_path(data_dir, target))
    write_copy(data_dir, target, old, new)
    rewrite_in_place(target, new)


def read_copy(data_dir: Path, path: Path) -> Copy:
    """A copy this user's own run wrote: a regular 0600 file owned by this user (never a symlink), under the name
    its target's path gives it; anything else is refused, never restored."""
    unreadable = BridgeError(f"{path} is an unreadable copy left by an interrupted bridge migrate --mcp; read it, then delete it")
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o600 or info.st_uid != os.getuid():
            raise unreadable
        raw = read_private(path, MAX_COPY_BYTES) or b""
        line, _, rest = raw.partition(b"\n")
        header = json.loads(line)
        old_len, new_len = int(header["old"]), int(header["new"])
        copy = Copy(Path(str(header["target"])), rest[:old_len], rest[old_len:])
    except (OSError, ValueError, KeyError, TypeError, FileTooLarge):
        raise unreadable from None
    if len(copy.old) != old_len or len(copy.new) != new_len or copy_path(data_dir, copy.target) != path:
        raise unreadable
    return copy


def common_prefix(a: bytes, b: bytes) -> int:
    """How many leading bytes `a` and `b` share (halving the span compared: a few dozen slice compares)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def half_written(current: bytes, old: bytes, new: bytes) -> bool:
    """Whether `current` is what a rewrite of `old` into `new` leaves at some instant: `new` written over the start
    of `old` up to some offset, the rest still `old` (the write was cut short, or the truncate never came), or
    `new` whole. Any other content is someone's later edit, and is never overwritten."""
    if current == new:
        return True
    same_start = common_prefix(current, new)
    if len(current) > len(old):
        return same_start == len(current) and len(current) <= len(new)
    if len(current) != len(old):
        return False
    return current[same_start:] == old[same_start:]


def recover(data_dir: Path) -> list[str]:
    """Every copy an interrupted run left behind, put back before anything else is read: what was done, one line
    per file. A file changed since then by someone else stops the run, naming the copy to compare by hand. The
    caller holds the migration lock, so a copy found here is never a running migration's."""
    done: list[str] = []
    if not data_dir.is_dir():
        return done
    for unfinished in data_dir.glob(f".{PREFIX}*.tmp"):
        unfinished.unlink()  # a copy killed before its rename: the file it was for was never touched
    for path in sorted(data_dir.glob(f"{PREFIX}*{SUFFIX}")):
        copy = read_copy(data_dir, path)
        try:
            current = read_capped(copy.target, MAX_COPY_BYTES)
        except (OSError, FileTooLarge):
            current = None
        if current is None:
            raise BridgeError(
                f"{copy.target} is gone since an interrupted bridge migrate --mcp; its earlier content is in {path} (0600): "
                "put it back by hand, then delete that copy"
            )
        if current == copy.old:
            path.unlink()
            continue
        if half_written(current, copy.old, copy.new):
            rewrite_in_place(copy.target, copy.old)
            path.unlink()
            done.append(f"{copy.target} was put back as it was before an interrupted bridge migrate --mcp")
            continue
        raise BridgeError(
            f"{copy.target} changed after an interrupted bridge migrate --mcp; its earlier content is in {path} (0600): "
            "compare the two, keep what you want, delete that copy, then run again"
        )
    return done


def remove_copies(copies: list[Path]) -> None:
    for path in copies:
        path.unlink(missing_ok=True)
    if copies:
        _fsync_parent(copies[0])


def _fsync_parent(path: Path) -> None:
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
