"""OpenClaw exec secret provider protocol, version 1: pure parsing, validation and encoding.

No I/O here. Two kinds of failure, kept apart as OpenClaw keeps them apart:
a RequestError rejects the whole request (the bridge exits 1 and prints
nothing on stdout); an IdError concerns one id and becomes errors[id].
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

PROTOCOL_VERSION = 1
MAX_IDS = 512
"""OpenClaw's maxRefsPerProvider."""
MAX_REQUEST_BYTES = 256 * 1024
"""OpenClaw's maxBatchBytes."""
MAX_RESPONSE_BYTES = 1024 * 1024
"""OpenClaw's maxOutputBytes: a longer response fails the whole resolution."""
SELECTOR_SEPARATOR = "#"
MAX_ID_CHARS = 256
"""OpenClaw's exec id rule allows at most this many characters."""
_ENVELOPE = b'{"protocolVersion":1,"values":{},"errors":{}}'
_TOO_LARGE = f"value too large: the response would exceed OpenClaw's {MAX_RESPONSE_BYTES // 1024} KiB output limit"

_EXEC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}")


class RequestError(Exception):
    """The request as a whole is unusable; nothing can be answered."""


NOT_FOUND = "NOT_FOUND"
"""One of the two error codes OpenClaw shows to its user (it never shows the message)."""


class IdError(Exception):
    """One id cannot be resolved; becomes errors[id] = {"message", and "code" when OpenClaw knows it}."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"message": str(self)} | ({"code": self.code} if self.code else {})


class Request(NamedTuple):
    provider: str
    ids: tuple[str, ...]
    """Requested ids, duplicates removed, first-seen order kept."""


class Ref(NamedTuple):
    """A parsed id: the Vault secret name and an optional JSON field selector."""

    id: str
    name: str
    selector: str | None = None


class Response:
    __slots__ = ("errors", "values")

    def __init__(self, values: dict[str, str] | None = None, errors: dict[str, IdError] | None = None) -> None:
        self.values = {} if values is None else values
        self.errors = {} if errors is None else errors


def parse_request(raw: bytes) -> Request:
    if len(raw) > MAX_REQUEST_BYTES:
        raise RequestError(f"request is larger than {MAX_REQUEST_BYTES // 1024} KiB; send fewer ids per request")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestError("request on stdin is not valid JSON; send one protocol v1 object") from None
    if not isinstance(doc, dict):
        raise RequestError("request must be a JSON object with protocolVersion, provider and ids")
    version = doc.get("protocolVersion")
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise RequestError(f"unsupported protocolVersion {version!r}; this bridge speaks protocolVersion 1")
    provider = doc.get("provider", "")
    if not isinstance(provider, str):
        raise RequestError("provider must be a string")
    ids = doc.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RequestError("ids must be a list of strings")
    if len(ids) > MAX_IDS:
        raise RequestError(f"{len(ids)} ids requested; at most {MAX_IDS} per request")
    return Request(provider=provider, ids=tuple(dict.fromkeys(ids)))


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


def _json_string(text: str) -> bytes:
    """One JSON string as UTF-8; an id with a lone surrogate is echoed escaped, exactly as the gateway sent it."""
    try:
        return json.dumps(text, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text).encode("ascii")


def _pair(key: str, value: object) -> bytes:
    return _json_string(key) + b":" + (_json_string(value) if isinstance(value, str) else json.dumps(value).encode())


def servable(value: str) -> bool:
    """Whether a value could ever be answered alone under the longest id without breaking OpenClaw's output limit."""
    return len(_ENVELOPE) + len(_pair("x" * MAX_ID_CHARS, value)) <= MAX_RESPONSE_BYTES


def encode_response(response: Response) -> bytes:
    """Serialise within OpenClaw's output limit, moving the largest values to errors until the whole fits.

    Linear in the response's size: every entry is encoded once, and only the sizes are juggled.
    """
    values = {key: _pair(key, value) for key, value in response.values.items()}
    errors = {key: _pair(key, error.to_json()) for key, error in response.errors.items()}
    total = len(_ENVELOPE) + sum(len(v) + 1 for v in values.values()) + sum(len(e) + 1 for e in errors.values())
    if total > MAX_RESPONSE_BYTES:
        for key in sorted(values, key=lambda k: len(values[k]), reverse=True):
            moved = _pair(key, IdError(_TOO_LARGE).to_json())
            total += len(moved) - len(values.pop(key))
            errors[key] = moved
            if total <= MAX_RESPONSE_BYTES:
                break
    return b"".join((
        b'{"protocolVersion":', str(PROTOCOL_VERSION).encode(), b',"values":{', b",".join(values.values()),
        b'},"errors":{', b",".join(errors.values()), b"}}",
    ))
