"""A secret's rotation policy as people type it (`--rotate-every 90d`, `--expires 2027-03-31`) and as set_secret takes it.

Pure: the options become the p_meta object of set_secret, or a usage error
naming the option and a form that works. Only what was given is sent, so an
option left out keeps what the database holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bridge.core.durations import MAX_DURATION_S, is_duration, option_seconds, parse_duration
from bridge.core.errors import ConfigError, UsageError

NEVER = "never"
MAX_POLICY_S = MAX_DURATION_S
"""Longest rotation interval or expiry from now: setup.sql refuses more than a century too."""


def rotate_every_seconds(raw: str) -> int | None:
    """Seconds from `90d`, `12h`…, or None for `never` (no schedule)."""
    if raw.strip().lower() == NEVER:
        return None
    try:
        seconds = parse_duration("--rotate-every", raw)
    except ConfigError as exc:
        raise UsageError(str(exc).removeprefix("config: ") + ', or "never"') from None
    if not 1 <= seconds <= MAX_POLICY_S:
        raise UsageError('--rotate-every must be from 1s to 100 years, e.g. "90d", or "never"')
    return round(seconds)


def expires_stamp(raw: str, now: dt.datetime) -> str | None:
    """The UTC expiry from a date (`2027-03-31`, midnight UTC), a timestamp with its offset, or a duration from now
    (`30d`); None for `never`."""
    text = raw.strip()
    if text.lower() == NEVER:
        return None
    when = now + dt.timedelta(seconds=option_seconds("--expires", text)) if is_duration(text) else _moment(text)
    if not now - dt.timedelta(days=366 * 100) <= when <= now + dt.timedelta(seconds=MAX_POLICY_S):
        raise UsageError("--expires must be within 100 years of now")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> dt.datetime:
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f'--expires {text!r} is not a date, timestamp or duration; use e.g. "2027-03-31", "2027-03-31T12:00:00Z", "30d" or "never"'
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"--expires {text!r} has no time zone; add Z for UTC or an offset such as +02:00")
    return when


def policy_meta(secret_type: str | None, rotate_every: str | None, expires: str | None, now: dt.datetime) -> dict[str, Any] | None:
    """set_secret's p_meta from the options given; None when none was."""
    meta: dict[str, Any] = {}
    if secret_type is not None:
        meta["type"] = secret_type
    if rotate_every is not None:
        meta["rotate_every_s"] = rotate_every_seconds(rotate_every)
    if expires is not None:
        meta["expires_at"] = expires_stamp(expires, now)
    return meta or None
