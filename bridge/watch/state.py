"""The watcher's small state file, for `bridge doctor`, and the lock that keeps one watcher per gateway.

watch-state.json (0600, replaced atomically) holds exactly: pid, gateway_url,
started_at, last_poll_at, last_poll_ok, last_reload_at, last_reload_ok,
last_error; times ISO 8601 UTC, `last_error` one line that never holds a
value or token. The lock is a non-blocking flock on a file named after the
gateway URL, so two gateways on one machine can each have a watcher.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TypedDict, Unpack

from bridge.cache.store import FileLock, LockTimeout
from bridge.core.errors import BridgeError
from bridge.local.files import atomic_write

STATE_FILE = "watch-state.json"
LOCK_PREFIX = "watch-"


def iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


@dataclass(frozen=True)
class WatchState:
    pid: int
    gateway_url: str
    started_at: str
    last_poll_at: str | None = None
    last_poll_ok: bool | None = None
    last_reload_at: str | None = None
    last_reload_ok: bool | None = None
    last_error: str | None = None


class Progress(TypedDict, total=False):
    """The fields a watcher updates as it goes."""

    last_poll_at: str | None
    last_poll_ok: bool | None
    last_reload_at: str | None
    last_reload_ok: bool | None
    last_error: str | None


class StateFile:
    """Rewritten after every poll and reload; a failed write is reported, never fatal to the watcher."""

    def __init__(self, data_dir: Path, state: WatchState) -> None:
        self.path = data_dir / STATE_FILE
        self.state = state

    def record(self, **changes: Unpack[Progress]) -> None:
        self.state = replace(self.state, **changes)
        atomic_write(self.path, (json.dumps(asdict(self.state), indent=2) + "\n").encode())


def lock_path(data_dir: Path, gateway_url: str) -> Path:
    return data_dir / f"{LOCK_PREFIX}{hashlib.sha256(gateway_url.encode()).hexdigest()[:16]}.lock"


class WatchLock:
    """Held for the watcher's life; a second watcher for the same gateway is refused at once, not made to wait."""

    def __init__(self, data_dir: Path, gateway_url: str) -> None:
        self._url = gateway_url
        self._lock = FileLock(lock_path(data_dir, gateway_url), wait_until=float("-inf"))

    def __enter__(self) -> WatchLock:
        try:
            self._lock.__enter__()
        except LockTimeout:
            raise BridgeError(
                f"another bridge watch is already running for {self._url} ({self._lock.path}); stop it first, or watch another gateway with --gateway-url"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)
