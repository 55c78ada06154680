"""openclaw.json's format, JSON5, read with the maintained `json5` package and written back as plain JSON.

The package reads what people write in hand-edited configs (comments, unquoted
keys, single quotes, trailing commas, hex, Infinity). This module only gives
its failures one shape: a JSON5Error naming the line and column, so a caller
can refuse the file in one line and never overwrite what it could not read.
"""

from __future__ import annotations

import json
import re

import json5 as _json5

_PLACE = re.compile(r"^<string>:(\d+) (.+) at column (\d+)$")


class JSON5Error(ValueError):
    pass


def _error(exc: ValueError) -> JSON5Error:
    text = str(exc)
    place = _PLACE.match(text)
    if place:
        line, what, column = place.groups()
        return JSON5Error(f"{what[:1].lower()}{what[1:]} at line {line}, column {column}")
    return JSON5Error((text[:1].lower() + text[1:200]) or "unreadable JSON5")


def loads(text: str) -> object:
    try:
        return _json5.loads(text)
    except RecursionError:
        raise JSON5Error("nested too deeply to read") from None
    except ValueError as exc:
        raise _error(exc) from None


def dumps(value: object) -> str:
    """Written back as plain JSON (valid JSON5); comments cannot survive a rewrite, and callers say so."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
