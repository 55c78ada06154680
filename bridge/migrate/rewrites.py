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
from dataclasses import dataclass
from pathlib import Path

from bridge.core.errors import BridgeError
from bridge.local.files import FileTooLarge, atomic_write, read_capped, read_private, rewrite_in_place

PREFIX = "mcp-rewrite-"
SUFFIX = ".json"
MAX_COPY_BYTES = 32 * 1024 * 1024


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_path(data_dir: Path, target: Path) -> Path:
    """One copy per real file: its name is a digest of the resolved path, so two names for one file share it."""
    return data_dir / f"{PREFIX}{digest(str(target).encode())[:32]}{SUFFIX}"


@dataclass(frozen=True)
class Copy:
    target: Path
    old: bytes
    new_digest: str


def write_copy(data_dir: Path, target: Path, old: bytes, new: bytes) -> Path:
    """The old bytes of `target` kept privately (0600, fsynced, the directory too) before it is touched."""
    record = {"target": str(target), "old": old.decode("utf-8"), "new_sha256": digest(new)}
    path = copy_path(data_dir, target)
    atomic_write(path, json.dumps(record).encode())
    return path


def rewrite_with_copy(data_dir: Path, target: Path, old: bytes, new: bytes) -> Path:
    """`target` (a real regular file, symlinks resolved by the caller) rewritten in place to `new`, with its old
    bytes in a private copy first; the caller removes the copy once the run is over."""
    copy = write_copy(data_dir, target, old, new)
    rewrite_in_place(target, new)
    return copy


def read_copy(path: Path) -> Copy:
    try:
        raw = read_private(path, MAX_COPY_BYTES)
        record = json.loads(raw or b"")
        return Copy(Path(record["target"]), str(record["old"]).encode("utf-8"), str(record["new_sha256"]))
    except (OSError, ValueError, KeyError, TypeError, FileTooLarge):
        raise BridgeError(f"{path} is an unreadable copy left by an interrupted bridge migrate --mcp; read it, then delete it") from None


def parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def recover(data_dir: Path) -> list[str]:
    """Every copy an interrupted run left behind, put back before anything else is read: what was done, one line
    per file. A file changed since then by someone else stops the run, naming the copy to compare by hand."""
    done: list[str] = []
    if not data_dir.is_dir():
        return done
    for unfinished in data_dir.glob(f".{PREFIX}*.tmp"):
        unfinished.unlink()  # a copy killed before its rename: the file it was for was never touched
    for path in sorted(data_dir.glob(f"{PREFIX}*{SUFFIX}")):
        copy = read_copy(path)
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
        if digest(current) == copy.new_digest or not parses(current):
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
