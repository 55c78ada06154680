"""Whether a text holds a secret in an encoded form nobody listed.

part_forms (secret_types) spells a value the ways a server usually quotes it, and redaction masks those spellings.
A proxy or an SDK may write it in one more: MIME base64 broken into lines (or into JSON `\\n` escapes), every byte
percent-encoded (twice), HTML entities, `\\u`, `\\x` or octal escapes, hex with separators or `0x` prefixes,
quoted-printable, base32, a decimal byte list, UTF-16 or UTF-32, gzip, zlib or deflate then base64, base64 of base64, zero-width
characters or spaces between the characters, full-width characters, or simply reversed. Enumerating encodings of
the value cannot keep up, so this module goes the other way: it decodes the text in each of those ways (two layers
deep) and looks for a run of the value in what comes out. A text that holds one is withheld whole by its caller.

Cost is bounded whatever the text holds: at most MAX_SCAN_CHARS of text (a longer one is not vouched for, and
callers cut theirs first), every regex linear, each distinct run decoded once, and all decoding together may produce
at most DECODE_BUDGET_CHARS; a text whose decodings would go past that is not vouched for either. Not vouched for
means withheld: the caller cannot show what it could not check.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

WINDOW_CHARS = 12
"""A decoded view holds the value when it holds this many of its characters in a row (or the whole of a shorter
part): random bytes decoded from an ordinary message never match twelve characters of a key by chance."""
MIN_SOURCE_CHARS = 8
"""Shorter parts are not sought in decoded views: eight characters or fewer would match decoded noise."""
MIN_RUN_CHARS = 16
"""An encoded run shorter than this holds fewer than twelve characters of anything."""
MAX_SCAN_CHARS = 64 * 1024
"""The longest text looked at: more than any caller shows (they cut to a few hundred characters after this)."""
DECODE_BUDGET_CHARS = 1024 * 1024
"""All the decoding of one call together: inflated gzip and every view included."""
DEPTH = 2
"""Layers of encoding undone: base64 of base64, gzip then base64, hex of UTF-16."""
MIN_LOOSE_CHARS = 16
"""Parts sought in the loose views too (the text without whitespace, reversed): a shorter, word-like value (a
password of dictionary words) would match prose there, `pass word 1` for `password1`."""

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}")
_BASE32_RUN = re.compile(r"[A-Za-z2-7]{16,}")
_HEX_RUN = re.compile(r"(?:[0-9A-Fa-f]{2}[:.=,-]?){8,}")
_DECIMAL_LIST = re.compile(r"\d{1,3}(?:,\d{1,3}){11,}")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([0-3][0-7]{2})|\\([nrt/\\\"'])")
_JSON_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\", '"': '"', "'": "'"}
class _Exhausted(Exception):
    """The decoding budget is spent: the text is not vouched for."""


class _Budget:
    def __init__(self, chars: int) -> None:
        self.left = chars

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise _Exhausted


def holds_encoded(text: str, parts: Iterable[str]) -> bool:
    """Whether `text` holds a run of WINDOW_CHARS characters of a secret part (or a whole shorter one) once decoded
    any way this module knows, or is too long or too costly to decode to tell (True: withhold it)."""
    sought = [p for p in parts if len(p) >= MIN_SOURCE_CHARS]
    if not sought or not text:
        return False
    if len(text) > MAX_SCAN_CHARS:
        return True
    windows = _Windows(sought)
    loose = _Windows([p for p in sought if len(p) >= MIN_LOOSE_CHARS])
    try:
        return any((loose if is_loose else windows).found_in(view) for view, is_loose in _views(text, _Budget(DECODE_BUDGET_CHARS)))
    except _Exhausted:
        return True


MAX_PART_WINDOWS = 128 * 1024
"""Windows of the parts kept: a mebibyte value keeps every 8th, so a leak of 19 characters or more in a row is
still found (every run of WINDOW_CHARS + stride - 1 holds a kept window) and memory stays a few MiB."""


class _Windows:
    """The windows of the parts, looked up per position of a view: memory in the parts, time in the views."""

    def __init__(self, parts: list[str]) -> None:
        self.widths = sorted({min(WINDOW_CHARS, len(p)) for p in parts})
        stride = max(1, -(-sum(len(p) for p in parts) // MAX_PART_WINDOWS))
        self.known = {p[i : i + w] for p in parts for w in (min(WINDOW_CHARS, len(p)),) for i in range(0, len(p) - w + 1, stride)}

    def found_in(self, view: str) -> bool:
        return any(view[i : i + w] in self.known for w in self.widths for i in range(len(view) - w + 1))


def _views(text: str, budget: _Budget) -> Iterator[tuple[str, bool]]:
    """The text as written, unescaped every way at once (twice, for double encodings), without invisible, control
    and compatibility characters (NULs of UTF-16 read as UTF-8 too), then the loose views (without whitespace,
    reversed: True); then every encoded run of those, decoded DEPTH deep."""
    unescaped = _unescaped(_unescaped(text))
    plain = unicodedata.normalize("NFKC", "".join(c for c in unescaped if c.isspace() or unicodedata.category(c) not in ("Cf", "Cc")))
    joined = "".join(plain.split())
    listed = joined.replace("0x", "").replace("0X", "")
    seen_views: set[str] = set()
    seen_runs: set[str] = set()
    layer: list[str] = []
    for view in (text, unescaped, plain, joined, listed):
        if view not in seen_views:
            seen_views.add(view)
            layer.append(view)
    for view in layer:
        budget.spend(len(view))
        yield view, view in (joined, listed)
        yield view[::-1], True
    for _ in range(DEPTH):
        decoded: list[str] = []
        for view in layer:
            for data in _decoded_runs(view, seen_runs, budget):
                for as_text in _as_text(data, budget):
                    for one in (as_text, _unescaped(as_text)):
                        if one not in seen_views:
                            seen_views.add(one)
                            budget.spend(len(one))
                            decoded.append(one)
                            yield one, False
        layer = decoded + ["".join(v.split()) for v in decoded]


def _unescaped(text: str) -> str:
    """Percent-decoding, HTML entities and backslash escapes, all at once: a proxy may mix them in one string."""
    text = urllib.parse.unquote(text, errors="replace")
    text = html.unescape(text)

    def one(match: re.Match[str]) -> str:
        hex4, hex2, octal, simple = match.groups()
        if simple:
            return _JSON_ESCAPES[simple]
        return chr(int(hex4 or hex2, 16) if (hex4 or hex2) else int(octal, 8))

    return _ESCAPE.sub(one, text)


class _Codec(NamedTuple):
    """A text encoding of bytes: its runs, their spelling made standard, the characters a block of it takes (a run
    glued to other text is tried at every offset within a block) and its decoder."""

    tag: str
    run: re.Pattern[str]
    normal: Callable[[str], str]
    block: int
    decode: Callable[[str], bytes]


_CODECS = (
    _Codec("64:", _BASE64_RUN, lambda run: run.replace("-", "+").replace("_", "/"), 4, base64.b64decode),
    _Codec("32:", _BASE32_RUN, str.upper, 8, base64.b32decode),
    _Codec("16:", _HEX_RUN, lambda run: re.sub(r"[^0-9A-Fa-f]", "", run), 2, binascii.unhexlify),
)


def _aligned(run: str, block: int) -> Iterator[str]:
    """`run` from each offset within a block, cut to whole blocks, where long enough to hold a window."""
    for offset in range(block):
        body = run[offset:]
        body = body[: len(body) - len(body) % block]
        if len(body) >= MIN_RUN_CHARS:
            yield body


def _decoded_runs(view: str, seen: set[str], budget: _Budget) -> Iterator[bytes]:
    """Each run of base64, base32, hex or decimal byte values in `view`, decoded once per call however many views
    hold it."""

    def fresh(run: str) -> bool:
        if run in seen:
            return False
        seen.add(run)
        budget.spend(len(run))
        return True

    for codec in _CODECS:
        for match in codec.run.finditer(view):
            if fresh(codec.tag + match.group()):
                for body in _aligned(codec.normal(match.group()), codec.block):
                    try:
                        yield codec.decode(body)
                    except binascii.Error:
                        continue
    for match in _DECIMAL_LIST.finditer(view):
        if fresh("10:" + match.group()):
            numbers = [int(n) for n in match.group().split(",")]
            if all(n < 256 for n in numbers):
                yield bytes(numbers)


_GZIP_MAGIC = b"\x1f\x8b"
MAX_MEMBERS = 8
"""Compressed streams tried in one decoded run: a second gzip member, a zlib or a raw deflate stream."""


def _as_text(data: bytes, budget: _Budget) -> Iterator[str]:
    """Decoded bytes read as text every way a value may be stored in them, and inflated if they are compressed."""
    yield data.decode("utf-8", errors="replace")
    # UTF-16 and UTF-32 of the ASCII a key is made of, either byte order, anywhere in a larger record.
    yield data.replace(b"\0", b"").decode("utf-8", errors="replace")
    starts = [0]
    at = data.find(_GZIP_MAGIC)
    while at >= 0 and len(starts) <= MAX_MEMBERS:
        starts.append(at)
        at = data.find(_GZIP_MAGIC, at + 1)
    for start, wbits in [(s, 16 + zlib.MAX_WBITS) for s in starts[1:]] + [(0, zlib.MAX_WBITS), (0, -zlib.MAX_WBITS)]:
        limit = min(budget.left, MAX_SCAN_CHARS) + 1
        try:
            inflated = zlib.decompressobj(wbits).decompress(data[start:], limit)
        except zlib.error:
            continue
        if inflated:
            budget.spend(len(inflated))
            if len(inflated) >= limit:
                raise _Exhausted
            yield inflated.decode("utf-8", errors="replace")
            yield inflated.replace(b"\0", b"").decode("utf-8", errors="replace")
