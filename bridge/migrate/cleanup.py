"""What `openclaw secrets apply` leaves behind, removed: every plaintext copy of a value that is now in Vault.

Apply rewrites openclaw.json but keeps the old plaintext in its rotated
backups (`openclaw.json.bak`, `.bak.1`...), in `.env` lines it does not know
moved, in the shared auth-profile store and in `file`-provider files. The
edits are planned first as a list (so --dry-run can show them); none of these
files is the bridge's, so each edit rewrites its file in place (same inode,
mode, owner, directory untouched), through a symlink at the link's target.
A moved value found inside a longer string cannot be replaced by a ref: it
is reported (`Embedded`), never edited and never a reason to delete a file.
The pure rules that decide the new contents are the functions at the top.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.local.files import rewrite_in_place
from bridge.migrate.places import FILE_REF, Move
from bridge.openclaw import dotenv, json5
from bridge.openclaw.auth_store import auth_store_files, read_profiles, store_table
from bridge.openclaw.documents import at_path, pointer_parts, read_text

SQLITE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Embedded:
    """A string that holds a moved value inside it (a token in a URL, `Bearer <key>`): where, never what."""

    file: str
    where: str
    name: str

    def line(self) -> str:
        return f"{self.file}: {self.where} holds the value of {self.name} inside a longer string"


def strings(doc: object) -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every key and string value in a parsed document, without recursion."""
    stack: list[tuple[str, object]] = [("", doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path or "(top level)", node
        elif isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, str(key)
                stack.append((child, value))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), value) for i, value in enumerate(node))


REDACTED_KEY = "<a key holding a moved value>"


def shown_path(where: str, values: Mapping[str, str]) -> str:
    """A dotted path for people: a key may itself hold a moved value (`map.sk-....note`), and must not show it."""
    for value in sorted(values, key=len, reverse=True):
        where = where.replace(value, REDACTED_KEY)
    return where


def embedded_in(file: str, doc: object, values: Mapping[str, str]) -> list[Embedded]:
    """Every string in `doc` longer than a moved value that contains it; `values` maps value -> Vault name."""
    return [
        Embedded(file, shown_path(where, values), name)
        for where, text in strings(doc)
        for value, name in values.items()
        if value in text and text != value
    ]


def env_without(text: str, moved: Mapping[str, str]) -> tuple[str, list[str]]:
    """The `.env` text without the names whose value moved (`moved` maps name -> value), each only where dotenv
    reads that very value for it; every other byte stays, and every other name keeps the value it had."""
    before = dotenv.values(text)
    removed = [name for name, value in moved.items() if before.get(name) == value]
    kept = dotenv.without(text, set(removed))
    if dotenv.values(kept) != {n: v for n, v in before.items() if n not in removed}:
        raise BridgeError("removing the moved lines would change how the rest of the .env file reads; nothing was changed")
    return kept, sorted(removed)


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
        for key_field in ("key", "token"):
            if isinstance(profile, dict) and profile.get(key_field) in values:
                del profile[key_field]
                count += 1
    return out, count


@dataclass(frozen=True)
class Edit:
    """One change to one file; `describe` is for people and never holds a value."""

    path: Path
    describe: str
    apply: Callable[[], None]


def shown(path: Path) -> str:
    """A path for people; a symlink with the file it points at, which is where the edit happens."""
    return f"{path} (-> {path.resolve()})" if path.is_symlink() else str(path)


def remove_file(path: Path) -> None:
    """A file whose one value moved: its target goes, and the link to it, so no plaintext stays behind a link."""
    target = path.resolve()
    target.unlink()
    if path.is_symlink():
        path.unlink()


@dataclass(frozen=True)
class Cleanup:
    edits: list[Edit]
    embedded: list[Embedded] = field(default_factory=list)


def backup_edits(config_file: Path, refs: Mapping[str, Mapping[str, str]], moved: Mapping[str, str]) -> Cleanup:
    edits: list[Edit] = []
    embedded: list[Embedded] = []
    for backup in sorted(config_file.parent.glob(config_file.name + ".bak*")):
        if not backup.is_file():
            continue
        text = read_text(backup)
        try:
            doc = json5.loads(text)
        except json5.JSON5Error:
            embedded.extend(Embedded(str(backup), "(not JSON5)", name) for value, name in moved.items() if value in text)
            continue
        embedded.extend(embedded_in(str(backup), doc, moved))
        scrubbed, count = replace_values(doc, refs)
        if count:
            data = json5.dumps(scrubbed).encode()
            edits.append(Edit(
                backup, f"{shown(backup)}: {count} plaintext value(s) replaced by refs",
                partial(rewrite_in_place, backup.resolve(), data),
            ))
    return Cleanup(edits, embedded)


def env_edits(env_files: list[Path], moved: Mapping[str, str], values: Mapping[str, str]) -> Cleanup:
    """`moved` maps each `.env` name whose value is in Vault to that value; `values` maps every moved value to its
    name, for the strings that hold one inside them."""
    edits: list[Edit] = []
    embedded: list[Embedded] = []
    for env_file in sorted({path.resolve(): path for path in env_files}.values()):
        if not env_file.is_file():
            continue
        text = read_text(env_file)
        if len(text.encode()) > dotenv.MAX_BYTES:
            continue
        try:
            kept, removed = env_without(text, moved)
        except BridgeError as exc:
            raise BridgeError(f"{shown(env_file)}: {exc}; remove the moved names by hand") from None
        for assignment in dotenv.parse(kept):
            embedded.extend(
                Embedded(str(env_file), shown_path(assignment.name, values), name)
                for value, name in values.items() if value in assignment.value and assignment.value != value
            )
        if removed:
            edits.append(Edit(
                env_file, f"{shown(env_file)}: removed {', '.join(removed)}",
                partial(rewrite_in_place, env_file.resolve(), kept.encode()),
            ))
    return Cleanup(edits, embedded)


def file_provider_edits(moves: list[Move], values: Mapping[str, str]) -> Cleanup:
    """Each moved entry out of its provider file, only where the file still holds that same value."""
    pointers: dict[Path, list[tuple[str, str]]] = {}
    for move in moves:
        for place in move.places:
            if place.kind == FILE_REF:
                pointers.setdefault(Path(place.source_file), []).append((place.pointer, move.value))
    edits: list[Edit] = []
    embedded: list[Embedded] = []
    for source, entries in sorted(pointers.items()):
        if not source.is_file():
            continue
        text = read_text(source)
        if any(pointer == "value" for pointer, _ in entries):
            if any((text[:-1] if text.endswith("\n") else text) == value for pointer, value in entries if pointer == "value"):
                edits.append(Edit(source, f"{shown(source)}: its one value is in Vault; removed", partial(remove_file, source)))
            continue
        try:
            doc: object = json5.loads(text)
        except json5.JSON5Error:
            continue
        removed: list[str] = []
        for pointer, value in entries:
            if at_path(doc, pointer_parts(pointer)) == value:
                doc = without_pointer(doc, pointer_parts(pointer))
                removed.append(pointer)
        embedded.extend(embedded_in(str(source), doc, values))
        if removed:
            data = (json5.dumps(doc)).encode()
            edits.append(Edit(
                source, f"{shown(source)}: removed {', '.join(sorted(removed))}", partial(rewrite_in_place, source.resolve(), data),
            ))
    return Cleanup(edits, embedded)


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
                stored = json5.loads(row[0])
                scrubbed, count = profiles_without(stored if isinstance(stored, dict) else {}, values)
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
    config_file: Path, env_files: list[Path], moves: list[Move], values: Mapping[str, str], env_moved: Mapping[str, str],
    provider: str,
) -> Cleanup:
    """Every edit that removes a plaintext copy of a value now in Vault, and every string a moved value sits inside.
    `values` maps each value now in Vault to its name (this run's moves, and every secret the config already refers
    to, so an interrupted run resumes); `env_moved` maps each `.env` name that moved to its value."""
    refs = {value: {"source": "exec", "provider": provider, "id": name} for value, name in values.items()}
    moved = {move.value: move.name for move in moves}
    parts = [
        backup_edits(config_file, refs, moved), env_edits(env_files, env_moved, moved), file_provider_edits(moves, moved),
        Cleanup(store_edits(config_file.parent, values)),
    ]
    return Cleanup([e for p in parts for e in p.edits], [h for p in parts for h in p.embedded])
