"""What Supabase keys and gateway tokens look like, which kind a credential is, and how to keep them out of text.

Every place that recognises, shows or withholds a key reads the shapes here:
the error messages built from server text, the debug traceback, `bridge
login`'s checks and the lines that name the credential in use.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import urllib.parse

from bridge.core.errors import BridgeError

SECRET_KEY_PREFIX = "sb_secret_"
PUBLISHABLE_KEY_PREFIX = "sb_publishable_"
TOKEN_PREFIX = "ocbt_"
"""A gateway token: `ocbt_` and 43 base64url characters (256 random bits)."""
ACCESS_TOKEN_PREFIX = "sbp_"
"""A Supabase personal access token, for the Management API (Edge Function secrets)."""
JWT_PREFIX = "eyJ"
KEY_SHAPES = re.compile(
    rf"{SECRET_KEY_PREFIX}[A-Za-z0-9_-]+|{TOKEN_PREFIX}[A-Za-z0-9_-]+|{ACCESS_TOKEN_PREFIX}[A-Za-z0-9_-]+|{JWT_PREFIX}[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
)
"""Anything shaped like a secret key, a gateway token, an access token or a JWT, wherever it came from."""
PROVIDER_KEY_SHAPES = re.compile(r"(sk-ant-|sk-|ghp_|gho_|ghs_|github_pat_|xox[abpr]-|AKIA|ASIA|AIza|sb_secret_)[A-Za-z0-9_-]{8,}")
"""Well-known API key prefixes of other services (OpenAI, Anthropic, GitHub, Slack, AWS, Google, Supabase)."""
REDACTED = "[REDACTED]"
WITHHELD = "[message withheld: it quoted the credentials]"
LEAK_WINDOW = 6
"""A text holding any run of this many characters of the key's own part (past a public prefix such as sb_secret_)
is withheld whole: as one_line redacts a value's runs from six characters, a masked key's ends never get out."""

LEGACY_JWT = "legacy service_role JWT"
SECRET_KEY = "secret key (sb_secret_)"
GATEWAY_TOKEN = "gateway token (with the publishable key)"
GATEWAY_TOKEN_LEGACY = "gateway token (with the legacy anon JWT)"
ADMIN_KINDS = (SECRET_KEY, LEGACY_JWT)
"""Keys that open every secret and table of the project: for the admin's machine, not for gateways."""


def looks_like_key(text: str) -> bool:
    """Whether `text` as a whole has the shape of a credential: a Supabase key, a gateway token, a JWT, or a
    well-known provider's key."""
    return bool(KEY_SHAPES.fullmatch(text) or PROVIDER_KEY_SHAPES.fullmatch(text))


def redact_key(key: str) -> str:
    """Enough of a key to recognise it (its prefix and last 4 characters), never enough to use it."""
    prefix = next((p for p in (SECRET_KEY_PREFIX, PUBLISHABLE_KEY_PREFIX, TOKEN_PREFIX, ACCESS_TOKEN_PREFIX) if key.startswith(p)), key[:3])
    return f"{prefix}...{key[-4:]}" if len(key) > 12 else "***"


_PREFIXED = re.compile(rf"{SECRET_KEY_PREFIX}[A-Za-z0-9_-]+|{TOKEN_PREFIX}[A-Za-z0-9_-]+")
_DOTTED_RUN = re.compile(r"[A-Za-z0-9_.-]+")


def redact_shapes(text: str) -> str:
    """Every key-shaped string replaced: for text whose keys are not known to the caller (a traceback).

    KEY_SHAPES's JWT branch, used with `sub`, rescanned the rest of a run for every `eyJ` in it (quadratic in a
    server's error body); the JWTs are found here by splitting each run at its dots instead, once."""
    return _DOTTED_RUN.sub(lambda run: _without_jwts(_PREFIXED.sub(REDACTED, run.group())), text)


def _without_jwts(run: str) -> str:
    """`run` (no character outside A-Z a-z 0-9 _ . -) with each `eyJ<seg>.<seg>.<seg>` replaced, leftmost first."""
    segments = run.split(".")
    kept: list[str] = []
    i = 0
    while i < len(segments):
        segment, at = segments[i], segments[i].find(JWT_PREFIX)
        if at >= 0 and len(segment) > at + len(JWT_PREFIX) and i + 2 < len(segments) and segments[i + 1] and segments[i + 2]:
            kept.append(segment[:at] + REDACTED)
            i += 3
        else:
            kept.append(segment)
            i += 1
    return ".".join(kept)


SCRUBBED_PER_SHOWN = 4
"""A caller that shows `shown` characters of a text has scrubbed this many times as many from its start: enough
that redaction, which shortens, still leaves `shown` to show, and little enough that the cost stays small and the
text is short enough to be vouched for (encodings.MAX_SCAN_CHARS)."""


def scrub(text: str, secret: str, shown: int | None = None) -> str:
    """Text with a known credential taken out: a proxy that echoes the request's apikey must not put it on stderr
    or into errors, as it is or in any form secret_types.part_forms knows (base64 in a Basic header, hex, quoted).
    Key-shaped strings go too, and a text still holding part of the key, as it is or in any encoding
    core.encodings decodes, is withheld whole. A caller that shows only the first `shown` characters passes it:
    only the start of the text is read (SCRUBBED_PER_SHOWN)."""
    if shown is not None:
        text = text[: shown * SCRUBBED_PER_SHOWN]
    if secret:
        from bridge.core.secret_types import part_forms  # only once there is an error to scrub: resolve stays lean

        for form in sorted(part_forms(secret), key=len, reverse=True):
            text = text.replace(form, REDACTED)
    text = redact_shapes(text)
    body = own_part(secret)
    if not body:
        return text
    from bridge.core.encodings import MAX_SCAN_CHARS, WINDOW_CHARS, holds_encoded

    if len(text) > MAX_SCAN_CHARS:
        return WITHHELD
    window = min(len(body), LEAK_WINDOW if _random_looking(body) else WINDOW_CHARS)
    windows_shown = {text[i : i + window] for i in range(len(text) - window + 1)}
    if any(body[i : i + window] in windows_shown for i in range(len(body) - window + 1)) or holds_encoded(text, [body]):
        return WITHHELD
    return text


def _random_looking(body: str) -> bool:
    """A generated key (lower and upper case and digits), whose masked ends are worth withholding at LEAK_WINDOW;
    a password or a URL of words would share six characters with ordinary messages."""
    return any(c.islower() for c in body) and any(c.isupper() for c in body) and any(c.isdigit() for c in body)


PUBLIC_PREFIXES = (SECRET_KEY_PREFIX, PUBLISHABLE_KEY_PREFIX, TOKEN_PREFIX, ACCESS_TOKEN_PREFIX, "sk-proj-", "sk-ant-", "sk-or-v1-", "sk-")
"""The fixed starts of key formats: a message may name them without quoting any key."""


AUTH_SCHEMES = ("Bearer ", "Basic ", "Token ")
"""How an Authorization value starts: the scheme is no secret, and every 401 names it."""


def own_part(secret: str) -> str:
    """The part of a credential that is its own: what follows a public prefix every key of its kind shares or an
    Authorization scheme, the password of a URL, else its query, else its last path segment (a webhook's token;
    its scheme, host, port, user and leading path are in every connection error),
    the signature of a JWT (its header and claims are the same for every key of a project)."""
    for scheme in AUTH_SCHEMES:
        if secret.lower().startswith(scheme.lower()):
            secret = secret[len(scheme):].strip()
    if "://" in secret:
        with contextlib.suppress(ValueError):
            url = urllib.parse.urlsplit(secret)
            secret_of_url = url.password or url.query or url.path.rstrip("/").rsplit("/", 1)[-1]
            if secret_of_url:
                return secret_of_url
    segments = secret.split(".")
    if secret.startswith(JWT_PREFIX) and len(segments) == 3 and segments[2]:
        return segments[2]
    for prefix in PUBLIC_PREFIXES:
        if secret.startswith(prefix):
            return secret[len(prefix):]
    return secret


def jwt_role(key: str) -> str | None:
    """The `role` claim of a legacy JWT key; None for anything that is not a JWT."""
    parts = key.split(".")
    if not (key.startswith(JWT_PREFIX) and len(parts) == 3):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise BridgeError("the key looks like a JWT but its payload is unreadable; copy the key again")
    return str(claims.get("role"))


def classify_key(key: str, token: str = "") -> str:
    """Which kind of credential this is; refuses a key that cannot do what it is meant for."""
    role = jwt_role(key)
    if token:
        if key.startswith(PUBLISHABLE_KEY_PREFIX):
            return GATEWAY_TOKEN
        if role == "anon":
            return GATEWAY_TOKEN_LEGACY
        raise BridgeError(
            f"a gateway token goes with the project's publishable key ({PUBLISHABLE_KEY_PREFIX}...), not with a secret key"
        )
    if key.startswith(SECRET_KEY_PREFIX):
        return SECRET_KEY
    if key.startswith(PUBLISHABLE_KEY_PREFIX) or role == "anon":
        raise BridgeError(
            "a publishable key cannot read Vault by itself: give this gateway a token (`bridge tokens create` on the "
            f"admin machine, then `bridge login --publishable-key ... --gateway-token`), or use the secret key ({SECRET_KEY_PREFIX}...)"
        )
    if role is not None:
        if role != "service_role":
            raise BridgeError(f"that JWT has role {role!r}; the bridge needs the service_role key or a secret key ({SECRET_KEY_PREFIX}...)")
        return LEGACY_JWT
    raise BridgeError(f"unrecognised key: use the project's secret key ({SECRET_KEY_PREFIX}...) or its legacy service_role key ({JWT_PREFIX}...)")
