"""The rules for a ref's id, alone in one module as OpenClaw keeps them (src/secrets/ref-contract.ts).

An exec id is 1-256 characters of A-Z a-z 0-9 . _ : / # -, starting with a
letter or digit, with no `.` or `..` path segment; `name#field` selects one
string field of a JSON secret. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from bridge.core.limits import MAX_ID_CHARS

SELECTOR_SEPARATOR = "#"
"""Starts a field selector in a ref's id; a secret's name never holds it (core.names)."""
_EXEC_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:/#-]{{0,{MAX_ID_CHARS - 1}}}")


NOT_FOUND = "NOT_FOUND"
"""One of the two error codes OpenClaw shows to its user (it never shows the message)."""


class IdError(Exception):
    """One id cannot be resolved; becomes errors[id] = {"message", and "code" when OpenClaw knows it}."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"message": str(self)} | ({"code": self.code} if self.code else {})


class Ref(NamedTuple):
    """A parsed id: the Vault secret name and an optional JSON field selector."""

    id: str
    name: str
    selector: str | None = None


def id_problem(ref_id: str) -> str | None:
    """Why OpenClaw would refuse this exec id, or None when it is valid."""
    if not _EXEC_ID.fullmatch(ref_id):
        return (
            "invalid id: use 1-256 characters from A-Z a-z 0-9 . _ : / # -, "
            "starting with a letter or digit"
        )
    if any(segment in (".", "..") for segment in ref_id.split("/")):
        return "invalid id: '.' and '..' path segments are not allowed"
    return None


def parse_ref(ref_id: str) -> Ref:
    problem = id_problem(ref_id)
    if problem is not None:
        raise IdError(problem)
    name, sep, selector = ref_id.partition(SELECTOR_SEPARATOR)
    if sep and not selector:
        raise IdError(f"empty selector after '#': use {name}#<json field>")
    return Ref(id=ref_id, name=name, selector=selector if sep else None)


def select_value(ref: Ref, secret: str) -> str:
    """The string OpenClaw gets for a ref: the secret itself or one field of a JSON secret."""
    if ref.selector is None:
        value = secret
    else:
        try:
            doc = json.loads(secret)
        except ValueError:
            raise IdError(f"secret {ref.name} is not JSON, so #{ref.selector} cannot select a field") from None
        except RecursionError:
            raise IdError(f"secret {ref.name} is JSON nested too deeply to read; store a flatter object") from None
        if not isinstance(doc, dict):
            raise IdError(f"secret {ref.name} is JSON but not an object, so #{ref.selector} cannot select a field")
        if ref.selector not in doc:
            raise IdError(f"secret {ref.name} has no field {ref.selector!r}")
        value = doc[ref.selector]
        if not isinstance(value, str):
            kind = "null" if value is None else type(value).__name__
            raise IdError(f"field {ref.selector!r} of secret {ref.name} is a {kind}, not a string")
    if value == "":
        raise IdError(f"{ref.id} is empty in Vault; store a non-empty value")
    if not is_unicode_text(value):
        raise IdError(f"{ref.id} holds an unpaired surrogate, which is not text; store it again as valid UTF-8")
    return value


def is_unicode_text(text: str) -> bool:
    """False for strings holding a lone surrogate (a JSON escape such as \\ud800), which no UTF-8 output can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
