"""Which Supabase key this is, and the headers that carry it.

A legacy JWT (service_role, or anon with a gateway token) goes in both
`apikey` and `Authorization: Bearer`; a new `sb_secret_...` or
`sb_publishable_...` key goes in `apikey` only. A gateway token travels in
the request body, never in a header or the URL. The User-Agent names the
bridge (the platform refuses secret keys from browser-like agents), and
X-Bridge-Host / X-Bridge-Provider let the audit log record who resolved.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from bridge import __version__
from bridge.errors import BridgeError
from bridge.stores.credentials import Credentials

USER_AGENT = f"openclaw-supabase-bridge/{__version__}"
MAX_HEADER_CHARS = 255
LEGACY_JWT = "legacy service_role JWT"
SECRET_KEY = "secret key (sb_secret_)"
GATEWAY_TOKEN = "gateway token (with the publishable key)"
GATEWAY_TOKEN_LEGACY = "gateway token (with the legacy anon JWT)"
ADMIN_KINDS = (SECRET_KEY, LEGACY_JWT)
"""Keys that open every secret and table of the project: for the admin's machine, not for gateways."""


def jwt_role(key: str) -> str | None:
    """The `role` claim of a legacy JWT key; None for anything that is not a JWT."""
    parts = key.split(".")
    if not (key.startswith("eyJ") and len(parts) == 3):
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
        if key.startswith("sb_publishable_"):
            return GATEWAY_TOKEN
        if role == "anon":
            return GATEWAY_TOKEN_LEGACY
        raise BridgeError(
            "a gateway token goes with the project's publishable key (sb_publishable_...), not with a secret key"
        )
    if key.startswith("sb_secret_"):
        return SECRET_KEY
    if key.startswith("sb_publishable_") or role == "anon":
        raise BridgeError(
            "a publishable key cannot read Vault by itself: give this gateway a token (`bridge tokens create` on the "
            "admin machine, then `bridge login --publishable-key ... --gateway-token`), or use the secret key (sb_secret_...)"
        )
    if role is not None:
        if role != "service_role":
            raise BridgeError(f"that JWT has role {role!r}; the bridge needs the service_role key or a secret key (sb_secret_...)")
        return LEGACY_JWT
    raise BridgeError("unrecognised key: use the project's secret key (sb_secret_...) or its legacy service_role key (eyJ...)")


def header_value(text: str) -> str:
    """Any string as a safe header value: percent-encoded outside printable ASCII, so a non-ASCII host name or a
    provider name with a newline or a lone surrogate can neither crash the request nor inject a header."""
    # A host name that is not UTF-8 arrives decoded with surrogateescape: its own bytes are sent back. A lone
    # surrogate from a request's JSON has no bytes of its own: surrogatepass encodes it like any other character.
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return quote(raw, safe="-._~:/@+=,;!*'()[]")[:MAX_HEADER_CHARS]


def request_headers(credentials: Credentials, provider: str, host: str) -> dict[str, str]:
    headers = {
        "apikey": credentials.key,
        "content-type": "application/json",
        "accept": "application/json",
        "accept-encoding": "identity",
        "user-agent": USER_AGENT,
        "x-bridge-host": header_value(host),
        "x-bridge-provider": header_value(provider),
    }
    if classify_key(credentials.key, credentials.token) in (LEGACY_JWT, GATEWAY_TOKEN_LEGACY):
        headers["authorization"] = f"Bearer {credentials.key}"
    return headers
