"""What deserves a message, as events with a stable identity, and which of them are new. Pure.

Each event has a key that names what it is about and a mark: for an alert,
the last time it was seen active; a due state or an invalid test is about
one value of one secret and carries no mark. An alert whose activity starts
after the mark recorded for its key is new activity and is posted again;
one that only continues what was posted (its window slid, its count grew)
is not. Nothing here holds a value: only names, states and the database's
own one-line messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from bridge.core.text import minute_ago

DUE_STATES = ("due", "overdue", "expired")
INVALID = "invalid"


class Event(NamedTuple):
    key: str
    first: str | None
    """When the activity started (alerts), compared with the recorded mark."""
    mark: str | None
    """What to record once posted: the last time the activity was seen (alerts)."""
    text: str
    data: dict[str, object]


def _s(value: object) -> str:
    return "" if value is None else str(value)


def alert_events(rows: Iterable[Mapping[str, Any]]) -> list[Event]:
    events = []
    for row in rows:
        kind = _s(row.get("kind"))
        key = "|".join(("alert", kind, _s(row.get("secret")), _s(row.get("token")), _s(row.get("host"))))
        last = row.get("last_at") or row.get("first_at")
        events.append(Event(
            key, _s(row.get("first_at")) or None, _s(last) or None, f"alert ({kind}): {_s(row.get('message'))}",
            {"kind": "alert", "alert": kind, "secret": row.get("secret"), "token": row.get("token"), "host": row.get("host"),
             "count": row.get("count"), "first_at": row.get("first_at"), "last_at": row.get("last_at")},
        ))
    return events


def status_events(rows: Iterable[Mapping[str, Any]], now: float) -> list[Event]:
    """Due states and refused tests; the text is for people (a chat shows it as it is), so the due time is the
    one short form with how long ago (`2026-12-04 14:20 UTC (3 days ago)`), while the key keeps the raw stamp."""
    events = []
    for row in rows:
        name = _s(row.get("name"))
        due = _s(row.get("due"))
        if due in DUE_STATES:
            when = _s(row.get("due_at"))
            events.append(Event(
                f"due|{name}|{due}|{when}", None, None, f"{name} is {due} for rotation (due {minute_ago(when, now) or 'now'})",
                {"kind": "due", "secret": name, "state": due, "due_at": row.get("due_at")},
            ))
        if _s(row.get("status")) == INVALID:
            events.append(Event(
                f"invalid|{name}|{_s(row.get('updated_at'))}", None, None,
                f"{name}: the provider refused it (test invalid: {_s(row.get('check_message'))})",
                {"kind": "test", "secret": name, "state": INVALID, "checked_at": row.get("checked_at")},
            ))
    return events


def _when(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def is_new(event: Event, sent: Mapping[str, Mapping[str, object]]) -> bool:
    """Not posted yet, or (an alert) active again after what was posted had ended."""
    record = sent.get(event.key)
    if record is None:
        return True
    if event.first is None:
        return False
    mark, first = _when(_s(record.get("mark")) or None), _when(event.first)
    return mark is not None and first is not None and first > mark
