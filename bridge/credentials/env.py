"""Credentials from the environment, for containers: SUPABASE_URL plus a key.

A gateway sets SUPABASE_PUBLISHABLE_KEY (or the legacy SUPABASE_ANON_KEY) and
BRIDGE_GATEWAY_TOKEN; an admin host SUPABASE_SECRET_KEY or
SUPABASE_SERVICE_ROLE_KEY. With both set, the token wins: the least privilege
that is configured is the one used.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.core.credentials import ENV_KEYS, ENV_PUBLIC_KEYS, ENV_TOKEN, ENV_URL, Credentials, normalize_url
from bridge.core.errors import BridgeError


class EnvStore:
    """SUPABASE_URL plus a gateway token and the publishable key, or the secret key. Read-only."""

    name = "env"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def get(self) -> Credentials | None:
        url = self._env.get(ENV_URL)
        if not url:
            return None
        token = self._env.get(ENV_TOKEN, "")
        public = next((self._env[k] for k in ENV_PUBLIC_KEYS if self._env.get(k)), None)
        if token and public:
            return Credentials(url=normalize_url(url), key=public, token=token)
        if token:
            raise BridgeError(f"{ENV_TOKEN} is set but {ENV_PUBLIC_KEYS[0]} is not: a gateway token goes with the project's publishable key")
        key = next((self._env[k] for k in ENV_KEYS if self._env.get(k)), None)
        if not key:
            return None
        return Credentials(url=normalize_url(url), key=key)

    def store(self, credentials: Credentials) -> None:
        raise BridgeError("the environment is read-only: set SUPABASE_URL and SUPABASE_SECRET_KEY yourself")

    def erase(self) -> bool:
        return False
