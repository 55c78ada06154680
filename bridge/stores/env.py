"""Credentials from the environment, for containers: SUPABASE_URL plus SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY."""

from __future__ import annotations

from collections.abc import Mapping

from bridge.errors import BridgeError
from bridge.stores.credentials import ENV_KEYS, ENV_URL, Credentials, normalize_url


class EnvStore:
    """SUPABASE_URL plus SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY, for containers. Read-only."""

    name = "env"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def get(self) -> Credentials | None:
        url = self._env.get(ENV_URL)
        key = next((self._env[k] for k in ENV_KEYS if self._env.get(k)), None)
        if not url or not key:
            return None
        return Credentials(url=normalize_url(url), key=key)

    def store(self, credentials: Credentials) -> None:
        raise BridgeError("the environment is read-only: set SUPABASE_URL and SUPABASE_SECRET_KEY yourself")

    def erase(self) -> bool:
        return False
