"""What an unfinished migration still has to clean up, kept on disk so a killed run is finished by the next one.

Once `openclaw secrets apply` has pointed a field at Vault, OpenClaw forgets
where the plaintext came from (the file provider is deleted, the ref names
another source), so only this record lets a later run remove the copies the
first run had planned to remove. It holds refs only, never a value: Vault
names, files, `.env` names, JSON pointers, auth-profile ids. It lives in the
bridge's private data directory as a 0600 file, written before the first
change and removed once every planned clean-up is done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.local.files import FileTooLarge, atomic_write, read_private
from bridge.local.paths import Paths
from bridge.migrate.places import Place

FILE_NAME = "migrate-journal.json"
MAX_BYTES = 4 * 1024 * 1024
VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One Vault name and every place its value was planned to leave."""

    name: str
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Journal:
    config: str
    provider: str
    entries: tuple[Entry, ...]


def journal_path(env: Mapping[str, str]) -> Path:
    return Paths.from_env(env).data_dir / FILE_NAME


def dumps(journal: Journal) -> bytes:
    doc = {"version": VERSION, "config": journal.config, "provider": journal.provider,
           "entries": [{"name": e.name, "places": [asdict(p) for p in e.places]} for e in journal.entries]}
    return (json.dumps(doc, indent=2) + "\n").encode()


def place_from(doc: Mapping[str, Any]) -> Place:
    extra = {key: str(doc.get(key, "")) for key in ("agent_id", "auth_provider", "file_provider", "source_file", "pointer")}
    return Place(str(doc["kind"]), str(doc["file"]), tuple(str(part) for part in doc["path"]), **extra)


def loads(data: bytes) -> Journal:
    """A journal as written by `dumps`; anything else is a ValueError."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise ValueError("not a version 1 migrate journal")
    entries = tuple(
        Entry(str(e["name"]), tuple(place_from(p) for p in e["places"]))
        for e in doc["entries"]
    )
    return Journal(str(doc["config"]), str(doc["provider"]), entries)


def read(path: Path) -> Journal | None:
    try:
        data = read_private(path, MAX_BYTES)
    except (OSError, FileTooLarge) as exc:
        raise BridgeError(f"cannot read the migrate journal {path}: {exc}") from None
    if data is None:
        return None
    try:
        return loads(data)
    except (ValueError, KeyError, TypeError):
        raise BridgeError(f"{path} is not a migrate journal this bridge wrote; move it away and run migrate again") from None


def write(path: Path, journal: Journal) -> None:
    atomic_write(path, dumps(journal))


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
