"""Reading a body from a server that may be hostile: never more than MAX_ANSWER_BYTES, compressed or not."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from bridge.vault.errors import AnswerTooLarge, SupabaseUnavailable

MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""Largest body read from Supabase, after decompression: 512 values that could still be answered fit many times
over, and a hostile or endless body stops here instead of growing memory without bound."""
_TOKEN = re.compile(r"[a-z0-9-]{1,20}")
_GZIP_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def read_capped(chunks: Iterable[bytes], limit: int = MAX_ANSWER_BYTES) -> bytes:
    """At most `limit` bytes from a stream; AnswerTooLarge past that, without reading the rest."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(f"answer from Supabase is larger than {limit // (1024 * 1024)} MiB; refused")
        parts.append(chunk)
    return b"".join(parts)


def decode_body(raw: bytes, content_encoding: str, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The body as sent before compression, never more than `limit` bytes of it: a compression bomb stops there."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in _GZIP_WBITS:
        # Named only when it is a plain token: a header is server text, and could quote the key.
        shown = f" {encoding!r}" if _TOKEN.fullmatch(encoding) else ""
        raise SupabaseUnavailable(f"unsupported Content-Encoding{shown} from Supabase")
    decoder = zlib.decompressobj(_GZIP_WBITS[encoding])
    try:
        out = decoder.decompress(raw, limit + 1)
    except zlib.error:
        raise SupabaseUnavailable("unreadable answer from Supabase (corrupt compressed body)") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise AnswerTooLarge(f"answer from Supabase is larger than {limit // (1024 * 1024)} MiB once decompressed; refused")
    return out
