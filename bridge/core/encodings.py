"""Whether a text holds a secret in an encoded form nobody listed.

part_forms (secret_types) spells a value the ways a server usually quotes it, and redaction masks those spellings.
A proxy or an SDK may write it in one more: MIME base64 broken into lines, every byte percent-encoded, HTML
entities, `\\u` escapes, hex with colons, base32, UTF-16, gzip then base64, or simply reversed. Enumerating
encodings of the value cannot keep up, so this module goes the other way: it decodes the text in each of those
ways and looks for a run of the value in what comes out. A text that holds one is withheld whole by its caller.

Time and memory are linear in the text (its callers bound it) and in the parts: every view is one pass, each
candidate run is decoded a fixed number of times, and the parts are compared through one set of windows.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator

WINDOW_CHARS = 12
"""A decoded view holds the value when it holds this many of its characters in a row (or the whole of a shorter
part): random bytes decoded from an ordinary message never match twelve characters of a key by chance."""
MIN_SOURCE_CHARS = 8
"""Shorter parts are not sought in decoded views: eight characters or fewer would match decoded noise."""
MIN_RUN_CHARS = 16
"""An encoded run shorter than this holds fewer than twelve characters of anything."""
GZIP_MAX_BYTES = 64 * 1024
"""What a gzip member in the text may inflate to before the rest is ignored: no decompression bomb."""
CHUNK_CHARS = 16 * 1024
"""A long text is read in chunks this long, each overlapping the next by OVERLAP_CHARS, so memory stays bounded."""
OVERLAP_CHARS = 2 * 1024
"""Longer than any encoded form of a window's worth of a value, so no run is missed at a chunk's edge."""

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}")
_BASE32_RUN = re.compile(r"[A-Z2-7]{16,}")
_HEX_RUN = re.compile(r"(?:[0-9A-Fa-f]{2}[:\s.-]?){8,}")
_U_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")


def holds_encoded(text: str, parts: Iterable[str]) -> bool:
    """Whether any decoded view of `text` holds a run of WINDOW_CHARS characters of a part (or a whole part)."""
    sought = [p for p in parts if len(p) >= MIN_SOURCE_CHARS]
    if not sought or not text:
        return False
    step = CHUNK_CHARS - OVERLAP_CHARS
    return any(_chunk_holds(text[start : start + CHUNK_CHARS], sought) for start in range(0, max(1, len(text) - OVERLAP_CHARS), step))


def _chunk_holds(text: str, sought: list[str]) -> bool:
    windows = {min(WINDOW_CHARS, len(p)) for p in sought}
    seen: set[str] = set()
    for view in _views(text):
        for width in windows:
            seen.update(view[i : i + width] for i in range(len(view) - width + 1))
    for part in sought:
        width = min(WINDOW_CHARS, len(part))
        if any(part[i : i + width] in seen for i in range(len(part) - width + 1)):
            return True
    return False


def _views(text: str) -> Iterator[str]:
    """The text read every way a value may have been encoded in it; each a pass over the text or one of its runs."""
    unquoted = urllib.parse.unquote(text, errors="replace")
    unescaped = html.unescape(text)
    u_decoded = _U_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    for view in {text, unquoted, unescaped, u_decoded}:
        yield view
        yield view[::-1]
        joined = "".join(view.split())
        for decoded in _decoded_runs(joined):
            yield from _as_text(decoded)


def _decoded_runs(text: str) -> Iterator[bytes]:
    for match in _BASE64_RUN.finditer(text):
        run = match.group().replace("-", "+").replace("_", "/")
        for offset in range(4):
            body = run[offset:]
            body = body[: len(body) - len(body) % 4]
            if len(body) >= MIN_RUN_CHARS:
                yield base64.b64decode(body)
    for match in _BASE32_RUN.finditer(text):
        body = match.group()
        body = body[: len(body) - len(body) % 8]
        if len(body) >= MIN_RUN_CHARS:
            yield base64.b32decode(body)
    for match in _HEX_RUN.finditer(text):
        digits = re.sub(r"[^0-9A-Fa-f]", "", match.group())
        for offset in range(2):
            body = digits[offset:]
            body = body[: len(body) - len(body) % 2]
            if len(body) >= MIN_RUN_CHARS:
                try:
                    yield binascii.unhexlify(body)
                except binascii.Error:
                    continue


def _as_text(data: bytes) -> Iterator[str]:
    yield data.decode("utf-8", errors="replace")
    if data[1::2].count(0) * 3 > len(data) // 2 or data[0::2].count(0) * 3 > len(data) // 2:
        for offset in range(2):
            yield data[offset:].decode("utf-16-le", errors="replace")
    at = data.find(b"\x1f\x8b")
    if at >= 0:
        try:
            inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[at:], GZIP_MAX_BYTES)
        except zlib.error:
            return
        yield inflated.decode("utf-8", errors="replace")
