"""Settings from one TOML file, validated on load so a typo fails loudly instead of silently using a default."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from bridge.errors import BridgeError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class Config:
    deadline: float = 4.0
    """Seconds within which `bridge resolve` always answers; below OpenClaw's default 5 s kill."""
    connect_timeout: float = 1.5
    """Seconds allowed to open the connection to Supabase (each attempt, capped by the deadline)."""
    read_timeout: float = 3.0
    """Seconds allowed between bytes from Supabase (each attempt, capped by the deadline)."""
    max_stale: float = 7 * 86400.0
    """Oldest cached value served when Supabase cannot answer; 0 disables the cache."""
    cache_ttl: float = 0.0
    """Serve a cached value younger than this without asking Supabase; 0 always asks first."""


def parse_duration(key: str, raw: object) -> float:
    """Seconds from a number of seconds or a string such as "500ms", "4s", "5m", "2h", "7d"."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise BridgeError(f"config: {key} must be a duration like 4 or \"4s\", got {type(raw).__name__}")
    if isinstance(raw, str):
        match = _DURATION.fullmatch(raw.strip())
        if match is None:
            raise BridgeError(f"config: {key} = {raw!r} is not a duration; use e.g. \"500ms\", \"4s\", \"5m\", \"2h\", \"7d\"")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        seconds = float(raw)
    if seconds < 0:
        raise BridgeError(f"config: {key} must not be negative, got {raw!r}")
    return seconds


def parse_config(doc: dict[str, object], source: str = "config") -> Config:
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BridgeError(f"{source}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    values = {key: parse_duration(key, raw) for key, raw in doc.items()}
    config = Config(**values)
    for key in ("deadline", "connect_timeout", "read_timeout"):
        if getattr(config, key) <= 0:
            raise BridgeError(f"{source}: {key} must be greater than 0")
    return config


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise BridgeError(f"cannot read {path}: {exc.strerror}") from None
    import tomllib

    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BridgeError(f"{path} is not valid TOML ({exc}); fix it or delete it to use the defaults") from None
    return parse_config(doc, source=str(path))
