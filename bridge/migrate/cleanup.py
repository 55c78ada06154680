"""What `openclaw secrets apply` leaves behind, removed: every plaintext copy of a value that is now in Vault.

Apply rewrites openclaw.json but keeps the old plaintext in its rotated
backups (`openclaw.json.bak`, `.bak.1`...), in `.env` lines it does not know
moved, in the shared auth-profile store and in `file`-provider files. The
edits are planned first as a list (so --dry-run can show them) and each one
replaces a file atomically or rewrites one SQLite row; the pure rules that
decide the new contents are the functions at the top.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.local.files import atomic_write
from bridge.migrate.discover import ENV_LINE, env_value, pointer_parts, read_profiles, read_text, store_table
from bridge.migrate.places import FILE_REF, Move
from bridge.openclaw import json5

SQLITE_TIMEOUT_S = 10.0


def env_without(text: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """The `.env` text without the assignments whose value moved; every other line stays byte for byte."""
    kept: list[str] = []
    removed: list[str] = []
    for line in text.splitlines(keepends=True):
        match = ENV_LINE.match(line.rstrip("\r\n"))
        if match and env_value(match.group(2)) in values:
            removed.append(match.group(1))
            continue
        kept.append(line)
    return "".join(kept), removed


def replace_values(doc: object, refs: Mapping[str, Mapping[str, str]]) -> tuple[object, int]:
    """A config (a backup of one) with every string that is a moved value replaced by its ref, and how many."""
    if isinstance(doc, str) and doc in refs:
        return dict(refs[doc]), 1
    if isinstance(doc, dict):
        count = 0
        out: dict[str, object] = {}
        for key, value in doc.items():
            out[key], n = replace_values(value, refs)
            count += n
        return out, count
    if isinstance(doc, list):
        pairs = [replace_values(value, refs) for value in doc]
        return [value for value, _ in pairs], sum(n for _, n in pairs)
    return doc, 0


def without_pointer(doc: object, parts: list[str]) -> object:
    """`doc` without the value at the pointer, and without the objects that emptied on the way."""
    if not parts or not isinstance(doc, dict) or parts[0] not in doc:
        return doc
    out = dict(doc)
    if len(parts) == 1:
        del out[parts[0]]
        return out
    child = without_pointer(out[parts[0]], parts[1:])
    if child == {}:
        del out[parts[0]]
    else:
        out[parts[0]] = child
    return out


def profiles_without(store: dict[str, Any], values: Mapping[str, str]) -> tuple[dict[str, Any], int]:
    """An auth-profile store without plaintext `key`/`token` fields whose value moved (what OpenClaw's own scrub
    does for the providers a plan targets)."""
    out = copy.deepcopy(store)
    count = 0
    profiles = out.get("profiles")
    for profile in profiles.values() if isinstance(profiles, dict) else ():
        for field in ("key", "token"):
            if isinstance(profile, dict) and profile.get(field) in values:
                del profile[field]
                count += 1
    return out, count


@dataclass(frozen=True)
class Edit:
    """One change to one file; `describe` is for people and never holds a value."""

    path: Path
    describe: str
    apply: Callable[[], None]


def backup_edits(config_file: Path, refs: Mapping[str, Mapping[str, str]]) -> list[Edit]:
    edits: list[Edit] = []
    for backup in sorted(config_file.parent.glob(config_file.name + ".bak*")):
        if not backup.is_file() or backup.is_symlink():
            continue
        text = read_text(backup)
        quoted = any(value in text for value in refs)
        try:
            doc = json5.loads(text)
        except json5.JSON5Error:
            if quoted:
                edits.append(Edit(backup, f"{backup}: unreadable backup holding migrated plaintext; removed", backup.unlink))
            continue
        scrubbed, count = replace_values(doc, refs)
        if not count and not quoted:
            continue
        data = json5.dumps(scrubbed).encode()
        if any(value.encode() in data for value in refs):
            edits.append(Edit(backup, f"{backup}: holds migrated plaintext outside any field; removed", backup.unlink))
            continue
        edits.append(Edit(backup, f"{backup}: {count} plaintext value(s) replaced by refs", partial(atomic_write, backup, data)))
    return edits


def env_edits(env_files: list[Path], values: Mapping[str, str]) -> list[Edit]:
    """Through a symlink to its target: replacing the link would leave the plaintext in the file it points at."""
    edits: list[Edit] = []
    for env_file in sorted({path.resolve() for path in env_files}):
        if not env_file.is_file():
            continue
        text = read_text(env_file)
        kept, removed = env_without(text, values)
        if removed:
            data = kept.encode()
            edits.append(Edit(env_file, f"{env_file}: removed {', '.join(removed)}", partial(atomic_write, env_file, data)))
    return edits


def file_provider_edits(moves: list[Move]) -> list[Edit]:
    pointers: dict[Path, list[str]] = {}
    for move in moves:
        for place in move.places:
            if place.kind == FILE_REF:
                pointers.setdefault(Path(place.source_file).resolve(), []).append(place.pointer)
    edits: list[Edit] = []
    for source, ids in sorted(pointers.items()):
        if not source.is_file():
            continue
        if ids == ["value"] or "value" in ids:
            edits.append(Edit(source, f"{source}: its one value is in Vault; removed", source.unlink))
            continue
        doc: object = json.loads(read_text(source))
        for pointer in ids:
            doc = without_pointer(doc, pointer_parts(pointer))
        data = (json.dumps(doc, indent=2) + "\n").encode()
        edits.append(Edit(source, f"{source}: removed {', '.join(sorted(ids))}", partial(atomic_write, source, data)))
    return edits


def auth_store_files(state_dir: Path) -> list[Path]:
    return [state_dir / "state" / "openclaw.sqlite", *sorted(state_dir.glob("agents/*/agent/openclaw-agent.sqlite"))]


def rewrite_store(path: Path, values: Mapping[str, str]) -> None:
    """Drop the moved plaintext from one store row; secure_delete and a truncating checkpoint zero the old bytes,
    which would otherwise survive in free pages or the write-ahead log."""
    table, key_column, value_column, key = store_table(path)
    try:
        conn = sqlite3.connect(path, timeout=SQLITE_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(f"SELECT {value_column} FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
            if row is not None:
                scrubbed, count = profiles_without(json.loads(row[0]), values)
                if count:
                    conn.execute(f"UPDATE {table} SET {value_column} = ? WHERE {key_column} = ?", (json.dumps(scrubbed), key))
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BridgeError(f"cannot remove the migrated plaintext from {path}: {exc}; stop the gateway and run migrate again") from None


def store_edits(state_dir: Path, values: Mapping[str, str]) -> list[Edit]:
    edits: list[Edit] = []
    for store in auth_store_files(state_dir):
        if not store.is_file():
            continue
        _, count = profiles_without({"profiles": read_profiles(store)}, values)
        if count:
            edits.append(Edit(store, f"{store}: {count} auth-profile plaintext value(s) removed", partial(rewrite_store, store, values)))
    return edits


def plan_cleanup(
    config_file: Path, env_files: list[Path], moves: list[Move], values: Mapping[str, str], provider: str
) -> list[Edit]:
    """Every edit that removes a plaintext copy of a value now in Vault. `values` maps each such value to its
    Vault name: this run's moves and every secret the config already refers to, so an interrupted run resumes."""
    refs = {value: {"source": "exec", "provider": provider, "id": name} for value, name in values.items()}
    return [
        *backup_edits(config_file, refs), *env_edits(env_files, values), *file_provider_edits(moves),
        *store_edits(config_file.parent, values),
    ]
