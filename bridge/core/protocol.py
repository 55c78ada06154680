"""OpenClaw exec secret provider protocol, version 1: pure parsing, validation and encoding.

No I/O here. Two kinds of failure, kept apart as OpenClaw keeps them apart:
a RequestError rejects the whole request (the bridge exits 1 and prints
nothing on stdout); an IdError concerns one id and becomes errors[id].
"""

from __future__ import annotations

import json
from typing import NamedTuple

from bridge.core.limits import MAX_ID_CHARS, MAX_IDS, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL_VERSION
from bridge.core.refs import IdError

_ENVELOPE = b'{"protocolVersion":1,"values":{},"errors":{}}'
_TOO_LARGE = f"value too large: the response would exceed OpenClaw's {MAX_RESPONSE_BYTES // 1024} KiB output limit"


class RequestError(Exception):
    """The request as a whole is unusable; nothing can be answered."""


class Request(NamedTuple):
    provider: str
    ids: tuple[str, ...]
    """Requested ids, duplicates removed, first-seen order kept."""


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
