"""Durations as people write them ("500ms", "4s", "7d") and as the bridge prints them ("3h12m")."""

from __future__ import annotations

import itertools
import math
import re
import time

from bridge.core.errors import ConfigError, UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
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


def format_age(seconds: float) -> str:
    """An age in its two largest units: 3d4h, 2h5m, 7m12s, 40s."""
    whole = int(seconds)
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for (unit, size), (small, small_size) in itertools.pairwise(units):
        if whole >= size:
            rest = (whole % size) // small_size
            return f"{whole // size}{unit}{rest}{small}" if rest else f"{whole // size}{unit}"
    return f"{whole}s"
