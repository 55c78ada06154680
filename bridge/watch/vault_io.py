"""Supabase for `bridge watch`: the change feed, and live values that refresh the bridge's cache.

A VaultClient has one deadline for its life, so every call gets a fresh one
under the resolve settings (deadline, timeouts): a watcher's call is as
bounded as a resolve. The cache is written only through the store's own
update and merge, as `bridge resolve` writes it, so `bridge resolve` during
the reload (even within cache_ttl) serves the new values.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from bridge.cache.store import CacheFile, merge
from bridge.core.deadline import Deadline
from bridge.core.errors import BridgeError, IdentityUnavailable
from bridge.local.identity import Identity
from bridge.vault.client import Changes, VaultClient, connect

if TYPE_CHECKING:
    from bridge.app.context import Context
    from bridge.local.config import Config

CREDENTIALS_WAIT_S = 5.0
"""The credential stores are asked once, at start; each gets at most 1.5 s of this."""
CACHE_LOCK_WAIT_S = 5.0


class VaultIO:
    def __init__(self, ctx: Context, config: Config, provider: str) -> None:
        self._credentials = ctx.credentials(Deadline.after(CREDENTIALS_WAIT_S)).credentials
        self._cache_path = ctx.paths.cache_file
        self._config = config
        self._provider = provider

    def _client(self) -> VaultClient:
        config = self._config
        return connect(
            self._credentials, provider=self._provider, host=socket.gethostname(), connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout, deadline=Deadline.after(config.deadline), lean=True,
        )

    def changes(self, names: list[str], since: str | None) -> Changes:
        with self._client() as client:
            return client.changes(names, since)

    def fetch(self, names: list[str]) -> dict[str, str]:
        """The current values of `names` (those that exist and are text), merged into the cache when it is on."""
        started = time.time()
        with self._client() as client:
            answer = client.resolve_secrets(names)
        values = {name: value for name in names if isinstance(value := answer.get(name), str)}
        cache = self._cache()
        if cache is not None:
            max_stale = self._config.max_stale
            try:
                cache.update(
                    lambda s: merge(s, names, values, started, max_stale),
                    wait_until=time.monotonic() + CACHE_LOCK_WAIT_S, now=started,
                )
            except OSError as exc:
                raise BridgeError(f"cache not refreshed ({exc.strerror or type(exc).__name__}); check {self._cache_path}") from None
        return values

    def cached(self, name: str) -> str | None:
        """The cached value of `name`, which the gateway's last resolve wrote, or None."""
        cache = self._cache()
        entry = None if cache is None else cache.load()[0].entries.get(name)
        return None if entry is None else entry.value

    def _cache(self) -> CacheFile | None:
        """The cache as resolve keeps it; None when it is off (max_stale = 0) or this machine has no id."""
        if self._config.max_stale <= 0:
            return None
        try:
            return CacheFile(self._cache_path, self._credentials, Identity.current())
        except IdentityUnavailable:
            return None
