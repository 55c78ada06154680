"""Reading OpenClaw's own files as documents: bounded text, JSON pointers and dotted paths into parsed JSON.

Pure helpers plus one bounded read; shared by discovery and clean-up, so both
read a file and address a value in it the same way.
"""

from __future__ import annotations

from pathlib import Path

from bridge.core.errors import BridgeError
from bridge.local.files import FileTooLarge, read_capped

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest `.env` or provider file read; OpenClaw's file provider itself stops at 1 MiB."""


def pointer_parts(pointer: str) -> list[str]:
    """An RFC 6901 JSON pointer as keys."""
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def at_path(doc: object, keys: list[str] | tuple[str, ...]) -> object:
    for key in keys:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list) and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        else:
            return None
    return doc


def read_text_if_exists(path: Path) -> str | None:
    """The file as text, None when there is none; larger than any OpenClaw file, or not UTF-8, is an error naming
    it, so nothing is ever parsed (or rewritten) from a file read only in part."""
    try:
        raw = read_capped(path, MAX_FILE_BYTES)
    except FileTooLarge:
        raise BridgeError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not an OpenClaw file, it was left untouched") from None
    except OSError as exc:
        raise BridgeError(f"cannot read {path}: {exc.strerror}") from None
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BridgeError(f"{path} is not UTF-8 text; fix it by hand, it was left untouched") from None


def read_text(path: Path) -> str:
    text = read_text_if_exists(path)
    if text is None:
        raise BridgeError(f"cannot read {path}: it does not exist")
    return text
