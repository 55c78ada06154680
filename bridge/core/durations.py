"""Durations as people write them ("500ms", "4s", "7d") and as the bridge prints them ("3h12m")."""

from __future__ import annotations

import math
import re
import time

from bridge.core.errors import ConfigError, UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.ASCII)
"""ASCII digits only: `\\d` alone also takes Arabic-Indic, full-width and mathematical digits, which float() reads."""
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_DURATION_S = 100 * 366 * 86400
"""Longest duration any option or setting takes: a century. Every use can hold it (a timestamp that far off, a
timedelta, a thread's wait, setup.sql's limits), where `99999999999d` overflowed them into an internal error."""


def parse_duration(key: str, raw: object) -> float:
    """Seconds from a number of seconds or a string such as "500ms", "4s", "5m", "2h", "7d"."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ConfigError(f"config: {key} must be a duration like 4 or \"4s\", got {type(raw).__name__}")
    if isinstance(raw, str):
        match = _DURATION.fullmatch(raw.strip())
        if match is None:
            raise ConfigError(f"config: {key} = {raw!r} is not a duration; use e.g. \"500ms\", \"4s\", \"5m\", \"2h\", \"7d\"")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        seconds = float(raw)
    if not math.isfinite(seconds):
        raise ConfigError(f"config: {key} = {raw!r} is not a finite duration; use e.g. \"4s\"")
    if seconds < 0:
        raise ConfigError(f"config: {key} must not be negative, got {raw!r}")
    if seconds > MAX_DURATION_S:
        raise ConfigError(f"config: {key} = {raw!r} is longer than 100 years; use e.g. \"90d\"")
    return seconds


def is_duration(raw: str) -> bool:
    """Whether `raw` is written as a duration ("30d"), whatever its size: an option that also takes a date tells
    the two apart with this, so a duration too long is refused as one."""
    return _DURATION.fullmatch(raw.strip()) is not None


def option_seconds(option: str, raw: str) -> float:
    """A command-line duration (`--within 30d`, `--interval 30s`) in seconds; a bad, zero or too long one is a
    usage error naming the option: the one way every option reads a duration."""
    try:
        seconds = parse_duration(option, raw)
    except ConfigError as exc:
        raise UsageError(str(exc).removeprefix("config: ")) from None
    if seconds <= 0:
        raise UsageError(f"{option} must be a positive duration, e.g. 7d")
    return seconds


def option_stamp(option: str, raw: str, now: float, sign: int) -> str:
    """A command-line duration (`--since 7d`, `--expires 90d`) as the UTC timestamp that long before (sign -1) or
    after (sign 1) `now`; a bad or zero duration is a usage error naming the option."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + sign * option_seconds(option, raw)))


_UNITS = (("days", 86400, 2 * 86400), ("h", 3600, 2 * 3600), ("min", 60, 120), ("s", 1, 0))
"""(unit, its seconds, from how many seconds it is used): 120 s is `2 min`, 120 min `2 h`, 48 h `2 days`; so no
duration shows more than 119 s, 119 min or 47 h."""
_CARRY = 120


def _unit_of(whole: int) -> int:
    """The index in _UNITS of the largest unit `whole` seconds are shown in."""
    return next(index for index, (_, _, start) in enumerate(_UNITS) if whole >= start)


def _amount(count: int, unit: str) -> str:
    return f"{count} day" if unit == "days" and count == 1 else f"{count} {unit}"


def format_age(seconds: float) -> str:
    """A duration as people read it: `90 days`, `3 days 4 h`, `45 min`, `4 s`, `250 ms`; at most two units, and
    never more than 120 of a unit when a larger one fits. What every text output and page prints; JSON keeps
    seconds.

    A negative duration (an age measured against a clock corrected backwards: the cache trusts entries stamped up
    to FUTURE_TOLERANCE_S ahead) reads `0 s`: it is a duration, not a time, so `just now` is format_ago's word and
    a minus sign would read as a bug. Rounding never shows a unit's limit: 0.9996 s is `1 s`, not `1000 ms`."""
    if math.isnan(seconds) or seconds < 0:
        seconds = 0.0
    seconds = min(seconds, float(MAX_DURATION_S))
    if 0 < seconds < 1:
        millis = round(seconds * 1000)
        if millis < 1000:
            return f"{millis} ms"
        seconds = 1.0
    tenths = round(seconds, 1)
    if tenths < _CARRY and tenths != int(tenths):
        return f"{tenths:.1f} s"
    seconds = max(seconds, tenths)
    whole = int(seconds)
    index = _unit_of(whole)
    unit, size, _ = _UNITS[index]
    shown = _amount(whole // size, unit)
    if index < len(_UNITS) - 1:
        small, small_size, _ = _UNITS[index + 1]
        rest = (whole % size) // small_size
        if rest:
            shown += f" {_amount(rest, small)}"
    return shown


def format_ago(seconds: float) -> str:
    """How long ago (or, negative, how far ahead) in the largest unit alone: `3 min ago`, `in 12 days`."""
    whole = abs(int(seconds))
    if whole < 60:
        return "just now" if seconds >= 0 else "in under a minute"
    unit, size, _ = _UNITS[_unit_of(whole)]
    amount = _amount(whole // size, unit)
    return f"{amount} ago" if seconds >= 0 else f"in {amount}"
