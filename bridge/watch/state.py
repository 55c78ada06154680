"""The watcher's small state file, for `bridge doctor`, and the lock that keeps one watcher per gateway.

The state file (STATE_FILE, 0600, replaced atomically) holds exactly: pid, gateway_url,
interval_s, started_at, last_poll_at, last_poll_ok, last_reload_at,
last_reload_ok, last_error, since, undelivered, fix; times ISO 8601 UTC, `last_error` one line
that never holds a value or token, `since` the server time of the last good
poll, from which the next watcher for the same gateway carries on, so that a
rotation made while no watcher ran is still reloaded; `undelivered` each
changed name the gateway does not hold yet, with when the change was seen. The lock is a
non-blocking flock on a file named after the gateway URL, so two gateways on
one machine can each have a watcher.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypedDict, Unpack

from bridge.cache.store import FileLock, LockTimeout
from bridge.core.errors import BridgeError
from bridge.local.files import atomic_write
from bridge.local.watch_facts import STATE_FILE, STATE_MAX_BYTES, read_state
from bridge.watch.held import HELD_PREFIX

LOCK_PREFIX = "watch-"
SERVER_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)")
"""The shape of PostgREST's timestamptz: anything else in the file is not carried on (it would fail every poll)."""
MAX_LINE_CHARS = 1000
"""`last_error` and `fix` are cut here in the file: a line naming hundreds of long names would crowd out the rest."""
UNDELIVERED_BUDGET = STATE_MAX_BYTES // 2
"""The bytes `undelivered` may take in the file (oldest changes first): the file must stay under STATE_MAX_BYTES,
or the next watcher and doctor cannot read it, and the next watcher would lose `since`."""


def iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


@dataclass(frozen=True)
class WatchState:
    pid: int
    gateway_url: str
    interval_s: float
    started_at: str
    last_poll_at: str | None = None
    last_poll_ok: bool | None = None
    last_reload_at: str | None = None
    last_reload_ok: bool | None = None
    last_error: str | None = None
    since: str | None = None
    undelivered: dict[str, str] = field(default_factory=dict)
    """Each change seen but not yet held by the gateway (no live resolve of it since), and since when."""
    fix: str | None = None
    """What only a person can do about `last_error` (a new gateway token, a gateway restart), for doctor."""


class Progress(TypedDict, total=False):
    """The fields a watcher updates as it goes."""

    last_poll_at: str | None
    last_poll_ok: bool | None
    last_reload_at: str | None
    last_reload_ok: bool | None
    last_error: str | None
    since: str | None
    undelivered: dict[str, str]
    fix: str | None


class StateFile:
    """Rewritten after every poll and reload; a failed write is reported, never fatal to the watcher."""

    def __init__(self, data_dir: Path, state: WatchState) -> None:
        self.path = data_dir / STATE_FILE
        self.state = state

    def record(self, **changes: Unpack[Progress]) -> None:
        self.state = replace(self.state, **changes)
        atomic_write(self.path, (json.dumps(asdict(bounded(self.state)), indent=2) + "\n").encode())


def bounded(state: WatchState) -> WatchState:
    """`state` as written: each line cut at MAX_LINE_CHARS and `undelivered` at UNDELIVERED_BUDGET (its oldest
    changes; the watcher keeps every one in memory and retries them all), so the file never passes its cap."""
    kept: dict[str, str] = {}
    budget = UNDELIVERED_BUDGET
    for name, seen in sorted(state.undelivered.items(), key=lambda item: item[1]):
        budget -= len(json.dumps({name: seen})) + 8
        if budget < 0:
            break
        kept[name] = seen
    return replace(state, undelivered=kept, last_error=cut(state.last_error), fix=cut(state.fix))


def cut(line: str | None) -> str | None:
    if line is None or len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS].rsplit(" ", 1)[0] + " …"


def carried_since(data_dir: Path, gateway_url: str) -> str | None:
    """The `since` a watcher before this one left for the same gateway, or None (no file, another gateway's, or
    not the watcher's): the first poll then takes what exists as what the gateway holds."""
    doc = read_state(data_dir).doc
    if doc is None or doc.get("gateway_url") != gateway_url:
        return None
    since = doc.get("since")
    return since if isinstance(since, str) and SERVER_TIME.fullmatch(since) else None


def lock_path(data_dir: Path, gateway_url: str) -> Path:
    return data_dir / f"{LOCK_PREFIX}{hashlib.sha256(gateway_url.encode()).hexdigest()[:16]}.lock"


RUNTIME_SUBDIR = "openclaw-supabase-bridge"


def runtime_dir(env: Mapping[str, str], platform: str = sys.platform) -> Path | None:
    """Where the lock that outlives the data directory goes: $XDG_RUNTIME_DIR (systemd's per-user tmpfs, 0700,
    set for every user service), or on macOS the per-user $TMPDIR launchd gives each agent; only when it is a
    directory of this user's that no one else can enter. None otherwise: then only the data directory's lock
    stands, and removing that directory under a running watcher lets a second one start."""
    raw = env.get("XDG_RUNTIME_DIR") or (env.get("TMPDIR") if platform == "darwin" else None)
    if not raw or not os.path.isabs(raw):
        return None
    try:
        info = os.stat(raw)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return Path(raw) / RUNTIME_SUBDIR


class WatchLock:
    """Held for the watcher's life; a second watcher for the same gateway is refused at once, not made to wait.

    Two locks, both non-blocking flocks on files named after the gateway URL: one in the runtime directory, which
    removing the data directory does not touch (a new lock file there would be a new inode, free to lock, so the
    data directory's lock alone cannot stop a second watcher then), and one in the data directory, which `bridge
    watch --forget` checks."""

    def __init__(self, data_dir: Path, gateway_url: str, runtime: Path | None = None) -> None:
        self._url = gateway_url
        paths = ([lock_path(runtime, gateway_url)] if runtime is not None else []) + [lock_path(data_dir, gateway_url)]
        self._locks = [FileLock(path, wait_until=float("-inf")) for path in paths]
        self._held: list[FileLock] = []

    def __enter__(self) -> WatchLock:
        for lock in self._locks:
            try:
                lock.__enter__()
            except LockTimeout:
                self.__exit__(None, None, None)
                raise BridgeError(
                    f"another bridge watch is already running for {self._url} ({lock.path}); stop it first, or watch another gateway with --gateway-url"
                ) from None
            self._held.append(lock)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._held:
            self._held.pop().__exit__(*exc)


def forget(data_dir: Path) -> int:
    """Remove the state file, every watcher lock and every kept token (sealed), for an uninstall: refused while
    any watcher holds its lock (its files are in use). Returns how many files went."""
    locks = sorted(data_dir.glob(f"{LOCK_PREFIX}*.lock"))
    for path in locks:
        try:
            with FileLock(path, wait_until=float("-inf")):
                pass
        except LockTimeout:
            raise BridgeError(f"a bridge watch is still running ({path} is held); stop it first, then run this again") from None
    removed = 0
    # A kill -9 between a temp file's write and its rename leaves `.<name>.<random>.tmp`: for a kept token, a
    # whole sealed copy of it, which an uninstall must take too.
    leftovers = sorted(data_dir.glob(f".{HELD_PREFIX}*.sealed.*.tmp")) + sorted(data_dir.glob(f".{STATE_FILE}.*.tmp"))
    for path in [*locks, *sorted(data_dir.glob(f"{HELD_PREFIX}*.sealed")), *leftovers, data_dir / STATE_FILE]:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
