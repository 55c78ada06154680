"""The facts about `bridge watch` that the watcher and `bridge doctor` both rely on, in one place: its state file (name,
size cap, how it is read), its intervals and backoff cap, and the service names `bridge watch install` gives it.

Here, below both, because the watcher (bridge.watch) and doctor (bridge.checks) are sibling layers that may not
import each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from bridge.local.files import FileTooLarge, read_private

STATE_FILE = "watch-state.json"
"""In the data directory: the watcher's pid, its progress and what it has not delivered yet."""
STATE_MAX_BYTES = 64 * 1024
"""Far more than the watcher writes: a larger file is not its own, and is not read."""
DEFAULT_INTERVAL_S = 30.0
"""`bridge watch`'s default --interval."""
MIN_INTERVAL_S = 1.0
"""Shorter would poll Supabase faster than any rotation needs to arrive."""
MAX_INTERVAL_S = 86400.0
"""Longer leaves a rotation undelivered for more than a day; and every wait must fit the platform's timeouts."""
BACKOFF_CAP_S = 300.0
"""The longest a failed poll or a refused reload pushes the next try back (or one interval, if longer)."""
SERVICE_UNIT = "openclaw-supabase-bridge-watch"
"""The systemd user unit `bridge watch install` writes (`.service` appended)."""
LAUNCHD_LABEL = "com.openclaw-supabase-bridge.watch"
"""The launchd agent `bridge watch install` writes on macOS."""
LAUNCHD_LOG = "~/Library/Logs/openclaw-supabase-bridge-watch.log"
"""Where that agent's stderr (the watcher's journal) goes."""


class StateRead(NamedTuple):
    """The state file as read: `doc` when it is a JSON object; otherwise `problem` says why not (None with no doc:
    there is no file)."""

    doc: dict[str, object] | None
    problem: str | None


def read_state(data_dir: Path) -> StateRead:
    """The watcher's state file, read the one way both the next watcher and doctor read it."""
    path = data_dir / STATE_FILE
    try:
        raw = read_private(path, STATE_MAX_BYTES)
    except FileTooLarge as exc:
        return StateRead(None, f"{exc}: not the watcher's state file")
    except OSError as exc:
        return StateRead(None, f"cannot read {path} ({exc.strerror or type(exc).__name__})")
    if raw is None:
        return StateRead(None, None)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return StateRead(None, f"{path} is not JSON")
    if not isinstance(doc, dict):
        return StateRead(None, f"{path} is not the watcher's state (not a JSON object)")
    return StateRead(doc, None)
