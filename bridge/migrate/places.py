"""Where a plaintext credential sits in an OpenClaw install, and the Vault name it gets: pure values and rules.

A name must be one a person recognises and the same on every run, so it is
derived from the place alone: a `.env` variable keeps its name, a config
field becomes its path in SCREAMING_SNAKE_CASE without the structural keys
(`models.providers.openai.apiKey` -> `OPENAI_API_KEY`), an auth profile
becomes `<PROVIDER>_API_KEY`. A value found in several places is stored
once, under the name of its most recognisable place (`.env` first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ENV, CONFIG, FILE_REF, AUTH_PROFILE = "env", "config", "file-ref", "auth-profile"
NAME_PRIORITY = (ENV, CONFIG, FILE_REF, AUTH_PROFILE)
"""Which place names a value seen in several: the names people already use for their keys come first."""
STRUCTURAL_KEYS = frozenset({"models", "providers", "channels", "plugins", "entries", "config", "accounts"})
"""Keys that say what kind of thing follows, not which: left out of derived names."""
SPECIAL_NAMES = {
    ("gateway", "auth", "token"): "OPENCLAW_GATEWAY_TOKEN",
    ("gateway", "auth", "password"): "OPENCLAW_GATEWAY_PASSWORD",
    ("gateway", "remote", "token"): "OPENCLAW_GATEWAY_REMOTE_TOKEN",
    ("gateway", "remote", "password"): "OPENCLAW_GATEWAY_REMOTE_PASSWORD",
}
"""The environment names OpenClaw itself gives these fields."""
ACPX_MCP_SERVERS = ("plugins", "entries", "acpx", "config", "mcpServers")
"""An acpx MCP server's env variable is named in Vault as the variable, as `bridge migrate --mcp` names them."""
DEFAULT_PROFILE_LABELS = frozenset({"manual", "default"})
MAX_NAME_CHARS = 200
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_NAME = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True, order=True)
class Place:
    """One place a credential is stored. `path` is the config path for config fields and file refs,
    (`profiles`, id, field) for an auth profile, and (NAME,) for a `.env` line."""

    kind: str
    file: str
    path: tuple[str, ...]
    agent_id: str = ""
    auth_provider: str = ""
    file_provider: str = ""
    """For a file ref: the file provider's alias, its file, and the ref's JSON pointer (or `value`)."""
    source_file: str = ""
    pointer: str = ""

    @property
    def rank(self) -> int:
        return NAME_PRIORITY.index(self.kind)

    def label(self) -> str:
        """Where it is, for people: never the value."""
        if self.kind == ENV:
            return f"{self.file}: {self.path[0]}"
        if self.kind == AUTH_PROFILE:
            return f"{self.file}: auth profile {self.path[1]} ({self.auth_provider})"
        if self.kind == FILE_REF:
            return f"{self.source_file}: {self.pointer} (file provider {self.file_provider!r}, ref at {'.'.join(self.path)})"
        return f"{self.file}: {'.'.join(self.path)}"


@dataclass(frozen=True)
class Found:
    place: Place
    value: str = field(repr=False)


@dataclass(frozen=True)
class Move:
    """One value on its way into Vault, under one name, from every place it was found."""

    name: str
    value: str = field(repr=False)
    places: tuple[Place, ...]


def screaming_snake(parts: list[str]) -> str:
    words = [_NOT_NAME.sub("_", _CAMEL.sub("_", part).upper()).strip("_") for part in parts]
    return "_".join(word for word in words if word)[:MAX_NAME_CHARS]


def name_for(place: Place) -> str:
    """The name a value from this place gets in Vault, on every run the same."""
    if place.kind == ENV:
        return place.path[0]
    if place.kind == AUTH_PROFILE:
        provider, _, label = place.path[1].partition(":")
        suffix = "API_KEY" if place.path[2] == "key" else "TOKEN"
        parts = [place.auth_provider or provider] + ([] if not label or label in DEFAULT_PROFILE_LABELS else [label])
        return screaming_snake([*parts, suffix])
    if place.path in SPECIAL_NAMES:
        return SPECIAL_NAMES[place.path]
    if place.path[:5] == ACPX_MCP_SERVERS and len(place.path) == 8 and place.path[6] == "env":
        return place.path[7]
    segments = list(place.path)
    if segments[:2] == ["skills", "entries"] and len(segments) > 2:
        segments = [segments[2], "skill", *segments[3:]]
    return screaming_snake([s for s in segments if s not in STRUCTURAL_KEYS]) or "OPENCLAW_SECRET"


def group(found: list[Found]) -> list[Move]:
    """One move per distinct value, named by its most recognisable place; two values that would share a name
    get `_2`, `_3`... in the order of their places, so the names are stable across runs."""
    by_value: dict[str, list[Place]] = {}
    for item in found:
        by_value.setdefault(item.value, []).append(item.place)
    candidates = sorted(
        ((min(places, key=lambda p: (p.rank, p)), value, tuple(sorted(set(places), key=lambda p: (p.rank, p))))
         for value, places in by_value.items()),
        key=lambda c: (c[0].rank, c[0]),
    )
    taken: set[str] = set()
    moves: list[Move] = []
    for first, value, places in candidates:
        base = name_for(first)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        moves.append(Move(name, value, places))
    return sorted(moves, key=lambda m: m.name)
