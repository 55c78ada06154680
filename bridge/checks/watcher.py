"""Doctor's check of `bridge watch`: its state file (bridge.local.watch_facts) judged against its own interval."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TypeGuard

from bridge.checks.base import PASS, SKIP, WARN, DoctorBase
from bridge.core.durations import format_age
from bridge.core.text import printable
from bridge.local.watch_facts import (
    BACKOFF_CAP_S,
    DEFAULT_INTERVAL_S,
    LAUNCHD_LABEL,
    LAUNCHD_LOG,
    MAX_INTERVAL_S,
    SERVICE_UNIT,
    read_state,
)

WATCH_STALE_INTERVALS = 3
"""A watcher that polled fine has polled again within three of its intervals."""
WATCH_BACKOFF_STALE_S = 2 * BACKOFF_CAP_S
"""After a failed poll the watcher backs off, up to BACKOFF_CAP_S (or one interval, if longer): it has tried again
within twice that."""
WATCH_ERROR_CHARS = 200
"""How much of the watcher's last error the one line shows."""
WATCH_FIX_CHARS = 400
"""How much of the fix the watcher advised the one line shows."""
WATCH_UNDELIVERED_SHOWN = 5
"""How many changes not yet held by the gateway the one line names (the state file has them all)."""


class WatcherChecks(DoctorBase):
    def watcher(self) -> None:
        fix = watcher_fix()
        state, problem = read_state(self.paths.data_dir)
        if state is None:
            if problem is None:
                self.add("watcher", SKIP, "not set up (install.sh --with-watch)")
            elif problem.startswith("cannot read"):
                self.add("watcher", WARN, problem, fix)
            else:
                self.add("watcher", WARN, problem, f"remove it, the watcher writes it anew; {fix}")
            return
        pid = state.get("pid")
        status, detail, fix = judge_watcher(state, time.time(), valid_pid(pid) and pid_alive(pid))
        self.add("watcher", status, detail, fix)



def watcher_fix(platform: str = sys.platform) -> str:
    """Where to look at the watcher install.sh --with-watch set up: its service manager and its log."""
    if platform == "darwin":
        return (f"launchctl print gui/{os.getuid()}/{LAUNCHD_LABEL}; its log: {LAUNCHD_LOG}")
    return f"systemctl --user status {SERVICE_UNIT}; its log: journalctl --user -u {SERVICE_UNIT}"


def valid_pid(pid: object) -> TypeGuard[int]:
    """A pid the file may name: 0 and negative numbers would signal a process group, and 1 is init."""
    return isinstance(pid, int) and not isinstance(pid, bool) and 1 < pid < 2**22


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def parse_stamp(value: object) -> float | None:
    """An ISO 8601 UTC timestamp as epoch seconds; None when it is not one."""
    import datetime as dt

    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _error_line(value: object, limit: int = WATCH_ERROR_CHARS) -> str:
    text = printable(value) if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _undelivered(raw: object) -> list[tuple[str, float]]:
    """The state file's `undelivered` ({name: ISO time seen}) oldest first; anything malformed in it is left out."""
    if not isinstance(raw, dict):
        return []
    from bridge.core.text import printable

    found = [(printable(name)[:128], parse_stamp(seen)) for name, seen in raw.items() if isinstance(name, str)]
    return sorted(((name, seen) for name, seen in found if seen is not None), key=lambda item: item[1])


def judge_watcher(state: Mapping[str, object], now: float, alive: bool, platform: str = sys.platform) -> tuple[str, str, str]:
    """Doctor's watcher line from the watcher's state file, the time and whether its pid runs: (status, detail, fix).

    PASS when it runs, polled within three of its intervals and its last poll and last reload (if any) went well; WARN with
    where to look otherwise. Nothing in the file is trusted: wrong types read as a state that is not the watcher's.
    """

    fix = watcher_fix(platform)
    pid = state.get("pid")
    started = parse_stamp(state.get("started_at"))
    rewrite = f"the watcher rewrites its state file at each poll; is it running? {fix}"
    if not valid_pid(pid) or started is None:
        return WARN, "its state file is not the watcher's (no valid pid or started_at)", rewrite

    def ago(stamp: float) -> str:
        return f"{format_age(max(0.0, now - stamp))} ago"

    def stamp_or_none(key: str) -> tuple[bool, float | None]:
        raw = state.get(key)
        if raw is None:
            return True, None
        parsed = parse_stamp(raw)
        return parsed is not None, parsed

    def flag(key: str) -> bool | None:
        raw = state.get(key)
        return raw if isinstance(raw, bool) else None

    interval = state.get("interval_s")
    if not isinstance(interval, int | float) or isinstance(interval, bool) or not 0 < interval <= MAX_INTERVAL_S:
        interval = DEFAULT_INTERVAL_S
    stale_after = WATCH_STALE_INTERVALS * interval
    polled_ok, polled = stamp_or_none("last_poll_at")
    reloaded_ok, reloaded = stamp_or_none("last_reload_at")
    if not (polled_ok and reloaded_ok):
        return WARN, "its state file is not the watcher's (a timestamp is not ISO 8601)", rewrite
    poll_good, reload_good = flag("last_poll_ok"), flag("last_reload_ok")
    error = _error_line(state.get("last_error"))
    because = f": {error}" if error else ""
    advised = state.get("fix")
    if error and isinstance(advised, str) and advised:
        # Only a person can do this (a new gateway token, a gateway restart); the watcher said which.
        fix = f"{_error_line(advised, WATCH_FIX_CHARS)}; {fix}"

    if not alive:
        last = f"; its last poll was {ago(polled)}" if polled is not None else ""
        return WARN, f"not running (pid {pid} has exited{last}): rotations do not reach the gateway", fix
    if polled is None:
        if now - started <= stale_after:
            return PASS, f"running (pid {pid}), started {ago(started)}, no poll yet", ""
        return WARN, f"running (pid {pid}) but has not polled since it started {ago(started)}{because}", fix
    limit = stale_after if poll_good else max(WATCH_BACKOFF_STALE_S, 2 * interval)
    if now - polled > limit:
        return WARN, f"running (pid {pid}) but its last poll was {ago(polled)} (stale after {format_age(limit)}){because}", fix
    if poll_good is False:
        return WARN, f"running (pid {pid}), its last poll {ago(polled)} failed, retrying with backoff{because}", fix
    pending = _undelivered(state.get("undelivered"))
    if pending:
        shown = ", ".join(f"{name} for {format_age(max(0.0, now - seen))}" for name, seen in pending[:WATCH_UNDELIVERED_SHOWN])
        more = f" and {len(pending) - WATCH_UNDELIVERED_SHOWN} more" if len(pending) > WATCH_UNDELIVERED_SHOWN else ""
        return WARN, f"running (pid {pid}), but the gateway does not hold {len(pending)} change(s) yet: {shown}{more}{because}", (
            "the watcher retries on its own; until the gateway's own resolve reaches Supabase (not the cache) they "
            f"stay pending: check that host's Supabase access (bridge doctor there); {fix}"
        )
    if reloaded is None:
        reload = "no reload yet"
    elif reload_good is False:
        return WARN, f"running (pid {pid}), last poll {ago(polled)}, but its last reload {ago(reloaded)} failed{because}", fix
    else:
        reload = f"last reload {ago(reloaded)}" + (" ok" if reload_good else "")
    return PASS, f"running (pid {pid}), last poll {ago(polled)}, {reload}", ""
