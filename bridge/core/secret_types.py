"""What each type of secret looks like, how often it is rotated, and how to keep every part of it out of text.

`bridge secrets set --type` refuses a value whose shape does not fit before
anything is stored, so the message names the type and the field, never the
value. `bridge secrets test` shows what a provider answered, and providers
echo the key they refused (OpenAI's "Incorrect API key provided: sk-ab***wxyz"):
`one_line` redacts every part of the value, in every form a server might
quote it, before the text is cut or shown.

Redaction, in order:

1. every part of four characters or more (the value, each string field of a
   JSON value, each base64 line of a PEM key; see `secret_parts`), in every
   form a server or proxy quotes it in (`part_forms`: as it is, URL-quoted,
   JSON-escaped, hex, base64 alone or inside a longer base64 text), wherever
   it occurs;
2. then every maximal run of key characters (A-Z a-z 0-9 _ + / = ~ -) of four
   or more that occurs inside a part of eight or more, or that holds six
   characters in a row of one: what is left of a masked or truncated echo
   (`sk-ab`, `wxyz`, a prefix), also glued to other text (`key=sk-proj-Zx81…`,
   `/v1/keys/sk-…`). The one exception is a plain lowercase word under eight
   letters standing alone between spaces or quotes ("account" inside a
   service account's email): a masked echo always borders a mask character
   (`*`, `.`, `…`), so that tail still goes.

3. then, if the text still holds the value in a form nobody listed (decoded
   every way `encodings` knows: MIME base64 in lines, percent-encoding of any
   byte, HTML entities, `\\u` escapes, hex with separators, base32, UTF-16,
   gzip, reversed), the whole text is withheld (WITHHELD).

What can survive: a piece of three characters or fewer standing between
non-key characters (`.`, `*`, a space), and a plain lowercase word of four to
seven letters standing alone that happens to be in the value.

Every check here runs in time linear in its input (tests/test_regex_bounds.py):
values and provider answers are chosen by others, and a check that
backtracks holds the interpreter lock where no deadline can stop it.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

from bridge.core.encodings import holds_encoded
from bridge.core.errors import UsageError
from bridge.core.text import printable

API_KEY_TYPES = ("openai", "anthropic", "gemini", "openrouter")
"""One opaque key per secret, sent as a header."""
SERVICE_TYPES = ("gcp-service-account", "aws", "azure")
"""A JSON object of several fields: an identity and the secret that proves it."""
DEFAULT_TYPE = "generic"
SECRET_TYPES = (*API_KEY_TYPES, *SERVICE_TYPES, DEFAULT_TYPE)

DAY_S = 86400
DEFAULT_ROTATE_EVERY_S: dict[str, int | None] = {
    "openai": 90 * DAY_S,
    "anthropic": 90 * DAY_S,
    "gemini": 90 * DAY_S,
    "openrouter": 90 * DAY_S,
    "gcp-service-account": 180 * DAY_S,
    "aws": 180 * DAY_S,
    "azure": 180 * DAY_S,
    "generic": None,
}
"""The users' schedule: API keys every 90 days, service credentials every 180, generic secrets never. setup.sql
states the same numbers and a test compares them."""

OK = "ok"
INVALID = "invalid"
UNREACHABLE = "unreachable"
CHECK_STATUSES = (OK, INVALID, UNREACHABLE)
"""What testing a secret against its provider can find: it works, the provider refused it, or no answer said."""

MIN_KEY_CHARS = 20
"""Shortest API key accepted: every provider's keys are far longer, and a shorter value is a paste cut short."""
GEMINI_BODY_CHARS = 35
KEY_ALPHABET = "A-Z, a-z, 0-9, _ and -"
_KEY_BODY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PREFIXES = {"anthropic": "sk-ant-", "openrouter": "sk-or-", "gemini": "AIza", "openai": "sk-"}
"""Longest first where one is a prefix of another: `sk-ant-` is anthropic's before it is openai's `sk-`."""

_PEM_BEGIN, _PEM_END, _PEM_TAIL, _PEM_DASHES = "-----BEGIN ", "-----END ", "PRIVATE KEY", "-----"
_PEM_LABEL = re.compile(r"[A-Z ]*")
"""The words of a PEM header (`RSA PRIVATE KEY`): one quantifier with nothing after it, so it cannot backtrack."""
_ACCESS_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
_BASE64 = re.compile(r"[A-Za-z0-9/+=]+")
"""A session token: it travels in a header, so nothing else (no CR or LF) may pass."""
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+){1,2}-[0-9]{1,2}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")

MAX_SERVICE_VALUE_CHARS = 64 * 1024
"""Largest gcp-service-account, aws or azure value tested (a real one is 1-3 KB): each of its strings is a part to
redact in every form, and a mebibyte of short strings would take seconds to spell out."""

MIN_PART_CHARS = 4
"""Shorter parts are not redacted on their own: three characters would blank out ordinary words."""
MIN_FRAGMENT_SOURCE_CHARS = 8
"""A run of text is a fragment of the value only if a part at least this long holds it."""
MIN_GLUED_CHARS = 6
"""A longer run is the value's when it holds this many characters of a part in a row: glued to other text."""
PLAIN_WORD_MAX_CHARS = 7
REDACTED = "[redacted]"
WITHHELD = "[message withheld: it quoted the value in an encoded form]"
MAX_REDACT_CHARS = 4096
"""How much of a provider's text `one_line` looks at: a message is its first sentence, and redaction stays fast."""
ONE_LINE_CHARS = 200
_FRAGMENT = re.compile(rf"[A-Za-z0-9_+/=~-]{{{MIN_PART_CHARS},}}")
_PERCENT = re.compile("%[0-9A-F]{2}")
_PLAIN_WORD = re.compile(rf"[a-z]{{{MIN_PART_CHARS},{PLAIN_WORD_MAX_CHARS}}}")
_WORD_EDGES = frozenset(" \t\r\n'\"(),:;!?[]{}<>")
"""What may stand either side of a plain word that is kept; `.` and `*` are not among them: they mask keys."""


def shape_problem(secret_type: str, value: str) -> str | None:
    """None when `value` fits `secret_type`, else one short phrase naming the type and the missing or wrong field;
    never any part of the value."""
    if secret_type not in SECRET_TYPES:
        raise UsageError(f"unknown secret type {secret_type!r}; use one of: {', '.join(SECRET_TYPES)}")
    if not value:
        return f"{secret_type}: the value is empty"
    if secret_type in API_KEY_TYPES:
        return _key_problem(secret_type, value)
    if secret_type in _FIELD_RULES:
        return _object_problem(secret_type, value)
    return None


def _key_problem(secret_type: str, key: str) -> str | None:
    prefix = _KEY_PREFIXES[secret_type]
    if key != key.strip():
        return f"{secret_type}: the key has surrounding whitespace; paste it alone"
    owner = next((t for t, p in _KEY_PREFIXES.items() if key.startswith(p)), None)
    if owner is None:
        return f"{secret_type}: the key does not start with {prefix}"
    if owner != secret_type:
        article = "a" if owner == "gemini" else "an"
        return f"{secret_type}: the key looks like {article} {owner} key ({_KEY_PREFIXES[owner]}); use --type {owner}"
    if not _KEY_BODY.fullmatch(key[len(prefix) :]):
        return f"{secret_type}: the key holds a character outside {KEY_ALPHABET} after {prefix}"
    if secret_type == "gemini" and len(key) - len(prefix) != GEMINI_BODY_CHARS:
        return f"{secret_type}: the key must be {prefix} and exactly {GEMINI_BODY_CHARS} more characters (it has {len(key) - len(prefix)})"
    if len(key) < MIN_KEY_CHARS:
        return f"{secret_type}: the key is too short ({len(key)} characters; at least {MIN_KEY_CHARS})"
    return None


FieldRule = Callable[[object], str | None]
"""What is wrong with one field's value, as words to follow its name; None when it fits."""


def _string(pattern: re.Pattern[str] | None = None, wanted: str = "", strip: bool = True) -> FieldRule:
    def rule(field: object) -> str | None:
        if not isinstance(field, str) or not field:
            return "must be a non-empty string"
        if strip and field != field.strip():
            return "has surrounding whitespace"
        if pattern is not None and not pattern.fullmatch(field):
            return f"is not {wanted}"
        return None

    return rule


def _pem_private_key(field: object) -> str | None:
    if not isinstance(field, str) or not pem_bodies(field):
        return "is not a PEM private key (-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----)"
    return None


def _email(field: object) -> str | None:
    """One `@` with something before it, a domain with a dot inside it after it, and no whitespace: checked by
    scanning, where the pattern it replaces went quadratic on a long string of dots."""
    wrong = _string()(field)
    if wrong or not isinstance(field, str):
        return wrong
    local, at, domain = field.partition("@")
    if not (local and at and "@" not in domain and "." in domain[1:-1]) or any(c.isspace() for c in field):
        return "is not an email address"
    return None


def pem_bodies(text: str) -> list[str]:
    """The base64 body of each `-----BEGIN <label>PRIVATE KEY----- ... -----END <label>PRIVATE KEY-----` block in
    `text`, first to last, each ending at the first END of its own label.

    Plain string scanning in time linear in `text` (plus a sort of the END markers): the regular expression this
    replaces backtracked cubically, and a header followed by 6,000 spaces held `secrets test` past a minute. Every
    END marker is found once and looked up by label, so no BEGIN ever rescans the text."""
    ends: dict[str, list[int]] = {}
    for start, label, _after in _pem_markers(text, _PEM_END):
        ends.setdefault(label, []).append(start)
    bodies: list[str] = []
    done = 0
    for start, label, after in _pem_markers(text, _PEM_BEGIN):
        if start < done or label not in ends:
            continue
        positions = ends[label]
        index = bisect.bisect_left(positions, after)
        if index < len(positions):
            bodies.append(text[after : positions[index]].strip())
            done = positions[index] + len(_PEM_END) + len(label) + len(_PEM_TAIL) + len(_PEM_DASHES)
    return bodies


def _pem_markers(text: str, opener: str) -> Iterable[tuple[int, str, int]]:
    """(where, label, where the marker ends) of each `<opener><label>PRIVATE KEY-----` in `text`."""
    start = text.find(opener)
    while start >= 0:
        words = _PEM_LABEL.match(text, start + len(opener))
        assert words is not None  # `*` matches the empty string
        end = words.end()
        if words.group().endswith(_PEM_TAIL) and text.startswith(_PEM_DASHES, end):
            yield start, words.group()[: -len(_PEM_TAIL)], end + len(_PEM_DASHES)
        start = text.find(opener, start + 1)


def _exactly(expected: str) -> FieldRule:
    return lambda field: None if field == expected else f'must be "{expected}"'


_REQUIRED, _OPTIONAL = True, False
_FIELD_RULES: dict[str, tuple[tuple[str, bool, FieldRule], ...]] = {
    "gcp-service-account": (
        ("type", _REQUIRED, _exactly("service_account")),
        ("client_email", _REQUIRED, _email),
        ("private_key", _REQUIRED, _pem_private_key),
        ("private_key_id", _REQUIRED, _string()),
        ("token_uri", _REQUIRED, _string()),
    ),
    "aws": (
        ("access_key_id", _REQUIRED, _string(_ACCESS_KEY_ID, "an access key id (AKIA or ASIA and 16 capital letters or digits)")),
        ("secret_access_key", _REQUIRED, _string(_AWS_SECRET, "40 characters of A-Z, a-z, 0-9, / and +")),
        ("session_token", _OPTIONAL, _string(_BASE64, "base64 text")),
        ("region", _OPTIONAL, _string(_AWS_REGION, "a region name like us-east-1")),
    ),
    "azure": (
        ("client_id", _REQUIRED, _string(_GUID, "a GUID (the application (client) id)")),
        ("client_secret", _REQUIRED, _string()),
        ("tenant_id", _REQUIRED, _string(re.compile(f"{_GUID.pattern}|{_DOMAIN.pattern}"), "a GUID or a domain name")),
    ),
}
"""Each JSON type's fields, whether each must be there, and its rule. Fields not named here are allowed."""


def _object_problem(secret_type: str, value: str) -> str | None:
    if len(value) > MAX_SERVICE_VALUE_CHARS:
        return f"{secret_type}: the value is over {MAX_SERVICE_VALUE_CHARS // 1024} KiB, far more than any such credential"
    doc = json_object(value)
    if doc is None:
        return f"{secret_type}: the value is not a JSON object"
    for field, required, rule in _FIELD_RULES[secret_type]:
        if field not in doc:
            if required:
                return f"{secret_type}: {field} is missing"
            continue
        wrong = rule(doc[field])
        if wrong:
            return f"{secret_type}: {field} {wrong}"
    if secret_type == "aws" and str(doc["access_key_id"]).startswith("ASIA") and "session_token" not in doc:
        return "aws: an ASIA (temporary) access_key_id needs its session_token"
    return None


def json_object(value: str) -> dict[str, object] | None:
    """The value as a JSON object, or None when it is not one."""
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def secret_parts(secret_type: str, value: str) -> tuple[str, ...]:
    """Everything of the value that must never be shown: the value, each string in a JSON value, and each base64
    line of a PEM key (a server quoting one line of it has quoted the key)."""
    parts = [value]
    doc = json_object(value) if secret_type in SERVICE_TYPES else None
    if doc is not None:
        for text in _strings(doc):
            parts.append(text)
            for body in pem_bodies(text):
                parts.extend(line.strip() for line in body.splitlines())
    return tuple(dict.fromkeys(p for p in parts if len(p) >= MIN_PART_CHARS))


PUBLIC_FIELDS = frozenset({
    "type", "project_id", "client_email", "client_id", "auth_uri", "token_uri", "auth_provider_x509_cert_url",
    "client_x509_cert_url", "universe_domain", "region",
})
"""Fields of a service's credential JSON that are no secret (Google's own URLs and domain, the account's address
and ids, an AWS region): still redacted where quoted as they are, but not sought in decoded text, where their
generic runs (`https://www.`) would withhold any message holding an encoded URL."""


def hidden_parts(secret_type: str, value: str) -> tuple[str, ...]:
    """secret_parts without the values of PUBLIC_FIELDS: what an encoded echo must not hold."""
    doc = json_object(value) if secret_type in SERVICE_TYPES else None
    if doc is None:
        return secret_parts(secret_type, value)
    # The JSON text itself holds the public fields too; its secret fields are parts of their own.
    public = {value} | {text for key, child in doc.items() if key in PUBLIC_FIELDS for text in _strings(child)}
    return tuple(p for p in secret_parts(secret_type, value) if p not in public)


def _strings(node: object) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for child in node.values():
            yield from _strings(child)
    elif isinstance(node, list):
        for child in node:
            yield from _strings(child)


def redact(text: str, parts: Iterable[str], hidden: Iterable[str] | None = None) -> str:
    """`text` with every part, every quoted or encoded form of one, and every fragment of one replaced (the
    module's rule).

    Time is linear in the text and the parts, whatever either holds: the forms are sought only when their first
    characters are in the text, each occurrence is masked by position rather than by one pattern of every form,
    and the fragments are looked up in one pass over the parts (MAX_REDACT_CHARS bounds the text; the parts are
    the value, which a user can make a mebibyte long)."""
    parts = [p for p in parts if len(p) >= MIN_PART_CHARS]
    if not parts:
        return text
    text = _masked(text, (form for part in parts for form in part_forms(part)))
    # A JSON value's own text is no source of fragments: its field names (client_id, region) would take the
    # provider's error codes with them; its fields are parts of their own.
    haystack = [p for p in parts if len(p) >= MIN_FRAGMENT_SOURCE_CHARS and json_object(p) is None]
    if not haystack:
        return text
    sought = haystack if hidden is None else list(hidden)
    runs = [m for m in _FRAGMENT.finditer(text) if not _standalone_word(m)]
    seen = _grams_in(haystack, {_grams(m.group()) if len(m.group()) >= MIN_GLUED_CHARS else (m.group(),) for m in runs})

    def fragment(match: re.Match[str]) -> str:
        run = match.group()
        if _standalone_word(match):
            return run
        grams = _grams(run) if len(run) >= MIN_GLUED_CHARS else (run,)
        return REDACTED if any(gram in seen for gram in grams) else run

    text = _FRAGMENT.sub(fragment, text) if runs else text
    return WITHHELD if holds_encoded(text, sought) else text


def _grams(run: str) -> tuple[str, ...]:
    return tuple(run[i : i + MIN_GLUED_CHARS] for i in range(len(run) - MIN_GLUED_CHARS + 1))


def _grams_in(haystack: list[str], wanted: set[tuple[str, ...]]) -> set[str]:
    """Which of the wanted pieces (six characters of a run, or a whole run shorter than that) some part holds:
    one pass over the parts with set look-ups, where asking each piece of a part would rescan it every time."""
    pieces = {piece for group in wanted for piece in group}
    lengths = sorted({len(piece) for piece in pieces})
    seen: set[str] = set()
    for part in haystack:
        for size in lengths:
            seen.update(piece for piece in (part[i : i + size] for i in range(len(part) - size + 1)) if piece in pieces)
    return seen


def _masked(text: str, forms: Iterable[str]) -> str:
    """`text` with every occurrence of every form replaced; overlapping or touching occurrences become one
    REDACTED. A form is sought only when its first MIN_PART_CHARS characters occur in `text`."""
    starts = {text[i : i + MIN_PART_CHARS] for i in range(len(text) - MIN_PART_CHARS + 1)}
    covered = bytearray(len(text))
    for form in forms:
        if len(form) > len(text) or form[:MIN_PART_CHARS] not in starts:
            continue
        at = text.find(form)
        while at >= 0:
            covered[at : at + len(form)] = b"\x01" * len(form)
            at = text.find(form, at + 1)
    if not any(covered):
        return text
    pieces: list[str] = []
    at = 0
    while at < len(text):
        end = covered.find(b"\x00" if covered[at] else b"\x01", at)
        end = len(text) if end < 0 else end
        pieces.append(REDACTED if covered[at] else text[at:end])
        at = end
    return "".join(pieces)


def part_forms(part: str) -> set[str]:
    """Every way a server or a proxy may spell `part` when it quotes it: as is, URL-quoted, JSON-escaped, as hex
    (either case), and as base64 (standard and URL-safe, padded or not), also inside a longer base64 text such
    as `Basic base64(user:key)`, where only the groups that hold the part's own bytes are the same at each of
    the three byte offsets it can start at."""
    raw = part.encode("utf-8", "surrogatepass")
    forms = {part, raw.hex(), raw.hex().upper()}
    if not _PLAIN.fullmatch(part):
        escaped = json.dumps(part)[1:-1]
        quoted = {quote(part, safe=""), quote(part), quote_plus(part, safe="")}
        forms.update((
            escaped,
            json.dumps(part, ensure_ascii=False)[1:-1],
            escaped.replace("/", "\\/"),
            *quoted,
            *(_PERCENT.sub(lambda m: m.group().lower(), q) for q in quoted),
        ))
    alone = base64.b64encode(raw).decode("ascii")
    encoded = [alone, alone.rstrip("=")]
    for offset in range(3):
        inside = base64.b64encode(bytes(offset) + raw).decode("ascii")
        encoded.append(inside[4 if offset else 0 : 4 * ((offset + len(raw)) // 3)])
    forms.update(form for b64 in encoded if len(b64) >= MIN_PART_CHARS for form in (b64, b64.translate(_URLSAFE)))
    return forms


_URLSAFE = str.maketrans("+/", "-_")
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters that URL quoting and JSON escaping leave as they are."""


def _standalone_word(match: re.Match[str]) -> bool:
    """A short lowercase word between spaces, quotes or punctuation: ordinary prose, not what a mask left over."""
    text, (start, end) = match.string, match.span()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return _PLAIN_WORD.fullmatch(match.group()) is not None and before in _WORD_EDGES and after in _WORD_EDGES


def one_line(text: str, parts: Iterable[str], limit: int = ONE_LINE_CHARS, hidden: Iterable[str] | None = None) -> str:
    """Server text as one short line a terminal can show: redacted first, so the cut can never leave a fragment of
    the value standing, then whitespace collapsed, controls escaped, and cut to `limit` with an ellipsis. `hidden`
    (default: `parts`) is what an encoded echo must not hold (hidden_parts)."""
    shown = printable(" ".join(redact(text[:MAX_REDACT_CHARS], parts, hidden).split()))
    return shown if len(shown) <= limit else shown[: limit - 1].rstrip() + "…"
