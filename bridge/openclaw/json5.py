"""openclaw.json's format, JSON5, read with the maintained `json5` package and written back as plain JSON.

The package reads what people write in hand-edited configs (comments, unquoted
keys, single quotes, trailing commas, hex, Infinity). This module gives its
failures one shape, a JSON5Error naming the line and column, so a caller can
refuse the file in one line and never overwrite what it could not read; and it
bounds nesting (MAX_DEPTH), so no document OpenClaw accepts can make a later
walk over it recurse without end.
"""

from __future__ import annotations

import json
import re

import json5 as _json5

_PLACE = re.compile(r"^<string>:(\d+) (.+) at column (\d+)$")
MAX_DEPTH = 100
"""Deeper than any config a person writes; a deeper one is refused in one line, never a RecursionError."""
MAX_JSON5_CHARS = 48 * 1024
"""The longest text with JSON5's additions read: about 2.5 s of the pure-Python parser, half of admin_deadline.
A hand-written openclaw.json is a few KiB."""


class JSON5Error(ValueError):
    pass


def _error(exc: ValueError) -> JSON5Error:
    text = str(exc)
    place = _PLACE.match(text)
    if place:
        line, what, column = place.groups()
        return JSON5Error(f"{what[:1].lower()}{what[1:]} at line {line}, column {column}")
    return JSON5Error((text[:1].lower() + text[1:200]) or "unreadable JSON5")


def depth(doc: object) -> int:
    """How deeply objects and arrays nest, counted without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(doc, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((child, level) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def loads(text: str, max_depth: int = MAX_DEPTH) -> object:
    """Plain JSON (what OpenClaw itself writes, and most files are) goes through the C parser, milliseconds for
    megabytes; only a file with JSON5's additions goes through the pure-Python `json5` package, about 50 µs a
    character, so one longer than MAX_JSON5_CHARS is refused in one line rather than outlive admin_deadline."""
    too_deep = JSON5Error(f"nested deeper than {max_depth} levels")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError:
        if len(text) > MAX_JSON5_CHARS:
            raise JSON5Error(
                f"it is {len(text) // 1024} KiB of JSON5 (comments, unquoted keys or trailing commas), more than the "
                f"{MAX_JSON5_CHARS // 1024} KiB read in time; make it plain JSON (no comments, quoted keys, no trailing "
                "commas), which is read at any size"
            ) from None
        doc = _loads_json5(text, too_deep)
    if depth(doc) > max_depth:
        raise too_deep
    return doc


def _loads_json5(text: str, too_deep: JSON5Error) -> object:
    try:
        return _json5.loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise _error(exc) from None


def dumps(value: object) -> str:
    """Written back as plain JSON (valid JSON5); comments cannot survive a rewrite, and callers say so."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
