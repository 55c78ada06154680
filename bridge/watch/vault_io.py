"""Supabase and the bridge's cache, for `bridge watch`: the change feed, and the few reads of the gateway's token.

The watcher reads no value on the gateway's behalf. Every value read writes an
audit row under the watcher's credentials and host, which may be the gateway's,
and `bridge secrets rollout` counts such rows as the gateway having the new
value: only the gateway's own resolves, during the reload, may write them. So
before a reload the watcher only dates the changed names' cache entries back
past cache_ttl (the gateway's resolve then asks Supabase for them); it reads a
value only for gateway.auth.token, only after the gateway's own live resolve of
it was confirmed, and only when the cache cannot say it (so the row it writes
is true of the gateway as well).

A VaultClient has one deadline for its life, so every call gets a fresh one
under the resolve settings (deadline, timeouts): a watcher's call is as
bounded as a resolve.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from bridge.cache.live import FUTURE_SKEW_S, live_path, read_live
from bridge.cache.store import CacheFile
from bridge.core.deadline import Deadline
from bridge.core.errors import BridgeError, IdentityUnavailable
from bridge.local.identity import Identity
from bridge.vault.client import Changes, VaultClient, connect
from bridge.watch.held import HeldFile, held_path
from bridge.watch.reload import RELOAD_TIMEOUT_S

if TYPE_CHECKING:
    from bridge.app.context import Context
    from bridge.local.config import Config

AUDIT_PROVIDER = "bridge-watch"
"""The provider the watcher's own reads of the gateway token are audited under (x-bridge-provider): never the
gateway's provider name, so `secrets rollout` (sql/change_feed.sql, sql/versions.sql) does not count the
watcher's read, under the gateway's credentials and host, as the gateway holding the value."""
CREDENTIALS_WAIT_S = 5.0
"""The credential stores are asked once, at start; each gets at most 1.5 s of this."""
CACHE_LOCK_WAIT_S = 5.0
RELOAD_WINDOW_S = RELOAD_TIMEOUT_S + 30.0
"""The longest a reload (and the gateway's resolves during it) can run, kills included: a stamp later than this
past the reload's start is not the reload's."""


class VaultIO:
    def __init__(self, ctx: Context, config: Config, provider: str) -> None:
        self._credentials = ctx.credentials(Deadline.after(CREDENTIALS_WAIT_S)).credentials
        self._cache_path = ctx.paths.cache_file
        self._data_dir = ctx.paths.data_dir
        self._config = config
        self._provider = provider

    def _client(self, provider: str | None = None) -> VaultClient:
        config = self._config
        return connect(
            self._credentials, provider=provider or self._provider, host=socket.gethostname(), connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout, deadline=Deadline.after(config.deadline), lean=True,
        )

    def changes(self, names: list[str], since: str | None) -> Changes:
        with self._client() as client:
            return client.changes(names, since)

    def live(self, name: str) -> str | None:
        """The value of `name` in Vault now (None when it is missing or not text). Audited, and never cached: only
        ever read for gateway.auth.token right after the gateway's own live resolve of it was confirmed."""
        with self._client(AUDIT_PROVIDER) as client:
            value = client.resolve_secrets([name]).get(name)
        return value if isinstance(value, str) else None

    def prepare(self, names: list[str]) -> str | None:
        """Make the gateway's next resolve of `names` ask Supabase rather than answer from the cache within
        cache_ttl. Returns a note when the cache is not this watcher's to change; raises BridgeError when it is but
        could not be changed (the reload must wait: it would hand out the old values)."""
        ttl = self._config.cache_ttl
        cache = self._cache()
        if ttl <= 0 or cache is None:
            return None
        try:
            problem = cache.expire(names, time.time() - ttl, wait_until=time.monotonic() + CACHE_LOCK_WAIT_S)
        except OSError as exc:
            raise BridgeError(f"cache not prepared for the reload ({exc.strerror or type(exc).__name__}); check {self._cache_path}") from None
        if problem is None:
            return None
        return f"{problem}; left alone, so the gateway may serve cached values for up to cache_ttl"

    def undelivered(self, names: list[str], since: float) -> list[str] | None:
        """Which of `names` no resolve has had from Supabase itself since `since` (wall clock): answered from the
        cache, or not at all. None when no resolve ever stamped here (the gateway's bridge keeps another data
        directory): then nothing can be confirmed. A stamp later than now, or later than the reload could have
        run, is from a clock that ran ahead and since stepped back: it confirms nothing."""
        # Only the stamps of `bridge resolve` for the provider this watcher watches: the gateway's own.
        stamps = read_live(live_path(self._cache_path), self._provider)
        if stamps is None:
            return None
        until = min(time.time(), since + RELOAD_WINDOW_S) + FUTURE_SKEW_S
        return [name for name in names if not since <= stamps.get(name, float("-inf")) <= until]

    def login_fix(self) -> str:
        """What to do once Supabase refuses the watcher's credentials: a gateway token is not fixed by a login."""
        if self._credentials.token:
            return (
                "the gateway token the watcher authenticates with is revoked or expired: mint a new one "
                "(bridge tokens create NAME --allow ...) and give it to the watcher (bridge login --publishable-key ... "
                "--gateway-token, or BRIDGE_GATEWAY_TOKEN in its environment)"
            )
        return "log in again (bridge login)"

    def kept(self, gateway_url: str) -> HeldFile | None:
        """Where the watcher keeps the token the gateway holds, sealed under its own credentials; None when this
        machine has no id to bind it to (then it is kept in memory only)."""
        try:
            identity = Identity.current()
        except IdentityUnavailable:
            return None
        return HeldFile(held_path(self._data_dir, gateway_url), gateway_url, self._credentials, identity)

    def refused(self) -> None:
        """Supabase refused these credentials: what is cached under them is dropped, as `bridge resolve` does; a
        cache kept under other credentials is not theirs, and stays."""
        cache = self._cache()
        if cache is not None and cache.opens():
            cache.refuse(time.time(), wait_until=time.monotonic() + CACHE_LOCK_WAIT_S)

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
