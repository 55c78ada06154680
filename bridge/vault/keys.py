"""The headers that carry a Supabase key (which kind it is: core.keys).

A legacy JWT (service_role, or anon with a gateway token) goes in both
`apikey` and `Authorization: Bearer`; a new `sb_secret_...` or
`sb_publishable_...` key goes in `apikey` only. A gateway token travels in
the request body, never in a header or the URL. The User-Agent names the
bridge (the platform refuses secret keys from browser-like agents), and
X-Bridge-Host / X-Bridge-Provider let the audit log record who resolved.
"""

from __future__ import annotations

from urllib.parse import quote

from bridge import __version__
from bridge.core.credentials import Credentials
from bridge.core.keys import GATEWAY_TOKEN_LEGACY, LEGACY_JWT, classify_key

USER_AGENT = f"openclaw-supabase-bridge/{__version__}"
MAX_HEADER_CHARS = 255
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
