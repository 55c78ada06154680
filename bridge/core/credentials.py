"""The bootstrap credentials as a value: the project URL and a key, or the publishable key plus a gateway token.

Where they come from (keyring, sealed file, environment) is the credential
stores' business; this module says what they are, how they are shown, and
which environment variables carry them, so the stores, the debug redaction
and the OpenClaw registration (passEnv) name the same variables.
"""

from __future__ import annotations

import json
from typing import NamedTuple
from urllib.parse import urlsplit

from bridge.core.errors import BridgeError
from bridge.core.keys import redact_key

ENV_URL = "SUPABASE_URL"
ENV_KEYS = ("SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY")
"""The project's secret key (or its legacy service_role JWT): an admin host."""
ENV_PUBLIC_KEYS = ("SUPABASE_PUBLISHABLE_KEY", "SUPABASE_ANON_KEY")
ENV_TOKEN = "BRIDGE_GATEWAY_TOKEN"
ENV_HOME = "BRIDGE_HOME"
ENV_ACCESS_TOKEN = "SUPABASE_ACCESS_TOKEN"
"""A personal access token (sbp_...) for the Management API, read as the Supabase CLI reads it; never passed to a
gateway (it is not in ENV_NAMES)."""
ENV_SECRET_VALUES = (*ENV_KEYS, ENV_TOKEN, ENV_ACCESS_TOKEN)
"""The variables whose values are secrets: replaced wherever a traceback could show them."""
ENV_NAMES = (ENV_HOME, ENV_URL, *ENV_KEYS, *ENV_PUBLIC_KEYS, ENV_TOKEN)
"""Every variable the bridge reads its own settings and credentials from."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Credentials(NamedTuple):
    """The project URL and a key: the project's secret key (admin), or its publishable key plus a gateway token,
    which resolves only its own tenant's allowed names."""

    url: str
    key: str
    token: str = ""

    def __repr__(self) -> str:
        token = f", token={redact_key(self.token)!r}" if self.token else ""
        return f"Credentials(url={self.url!r}, key={redact_key(self.key)!r}{token})"

    def shown(self) -> str:
        """Which credential this is, for people: the token when there is one, else the key; never usable."""
        return f"gateway token {redact_key(self.token)}" if self.token else f"key {redact_key(self.key)}"

    def to_json(self) -> bytes:
        doc = {"url": self.url, "key": self.key, **({"token": self.token} if self.token else {})}
        return json.dumps(doc).encode()

    @classmethod
    def from_json(cls, raw: bytes | str, where: str) -> Credentials:
        try:
            doc = json.loads(raw)
            return cls(url=normalize_url(doc["url"]), key=str(doc["key"]), token=str(doc.get("token") or ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BridgeError(f"credentials in {where} are unreadable; run `bridge login` again") from None


def normalize_url(url: str) -> str:
    """The project URL without a trailing slash; https required except on this machine."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BridgeError(f"not a Supabase URL: {url!r}; use https://<project-ref>.supabase.co")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise BridgeError(f"refusing plain http for {parts.hostname}: use https:// (http is allowed only for localhost)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BridgeError("the Supabase URL must not contain credentials, a query or a fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
