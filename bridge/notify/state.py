"""notify-state.json in the data directory (0600, replaced atomically): what was posted, and the last delivery.

It is what de-duplicates across restarts, and what doctor and the dashboard
read. It holds event keys (secret, token and host names), times and a
one-line error: never a value, a token or the webhook URL.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bridge.local.files import FileTooLarge, atomic_write, read_private

STATE_FILE = "notify-state.json"
MAX_STATE_BYTES = 4 * 1024 * 1024
FORGET_AFTER_S = 30 * 86400.0
"""A key no pass has seen for this long is forgotten (the event it names is long over)."""
LAST_EPOCH = 253402300799.0
"""9999-12-31T23:59:59Z, the last time an ISO stamp (and time.gmtime on every platform) can show."""


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def load_state(data_dir: Path) -> tuple[dict[str, Any], str | None]:
    """The state, or an empty one and why the file could not be used (a broken file is replaced, not trusted)."""
    path = state_path(data_dir)
    try:
        raw = read_private(path, MAX_STATE_BYTES)
    except (FileTooLarge, OSError) as exc:
        return empty(), f"{path} unreadable ({exc})"
    if raw is None:
        return empty(), None
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return empty(), f"{path} is not JSON"
    if not isinstance(doc, dict) or not isinstance(doc.get("sent"), dict):
        return empty(), f"{path} is not the notifier's state"
    return _checked(doc), None


def _number(value: object) -> float | None:
    """A finite number, or None: a planted or corrupt field is dropped, never trusted or crashed on."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _checked(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with each field the passes rely on held to its type: a record whose `seen` is not a number
    is dropped (its event is posted again, once), a count that is not one is 0, a next try that is not a time is
    none. What the file says is replaced at the next save."""
    state = empty()
    state["sent"] = {
        str(key): record for key, record in doc["sent"].items()
        if isinstance(record, dict) and _number(record.get("seen")) is not None
    }
    failures = _number(doc.get("failures"))
    state["failures"] = int(failures) if failures is not None and 0 <= failures < 2**31 else 0
    retry = _number(doc.get("next_try_at"))
    state["next_try_at"] = retry if retry is not None and 0 <= retry <= LAST_EPOCH else None
    last = doc.get("last_delivery")
    state["last_delivery"] = last if isinstance(last, dict) else None
    return state


def empty() -> dict[str, Any]:
    return {"version": 1, "sent": {}, "failures": 0, "next_try_at": None, "last_delivery": None}


def save_state(data_dir: Path, state: dict[str, Any], now: float) -> None:
    sent = state.get("sent", {})
    state["sent"] = {
        key: record for key, record in sent.items()
        if isinstance(record, dict) and (_number(record.get("seen")) or 0.0) >= now - FORGET_AFTER_S
    }
    atomic_write(state_path(data_dir), json.dumps(state, indent=1, sort_keys=True).encode() + b"\n")
