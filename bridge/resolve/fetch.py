"""The I/O edge of a resolve: credentials, one RPC under a hard deadline, and the last-known-good cache.

Supabase is asked first (or the cache first within cache_ttl); the cache
answers only when Supabase cannot. Every step that waits on something outside
the process is bounded, so the answer is always ready before the deadline.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.refs import IdError
from bridge.resolve.answer import Fetched, split_answer

if TYPE_CHECKING:
    from bridge.app.context import Context
    from bridge.cache.store import CacheContents, CacheFile
    from bridge.core.credentials import Credentials
    from bridge.local.config import Config

ANSWER_MARGIN_S = 0.3
"""Kept back from the deadline for reading the cache and writing the answer."""


class Progress:
    """What the resolve is waiting on, so an answer forced by the deadline can say where the time went."""

    __slots__ = ("stage",)

    def __init__(self) -> None:
        self.stage = "starting"


class VaultFetch:
    """Supabase first (or the cache first within cache_ttl), the cache when Supabase cannot answer."""

    def __init__(
        self, provider: str, ctx: Context, config: Config, answer_by: float, progress: Progress, *, stamps: bool,
    ) -> None:
        self._provider = provider
        self._stamps = stamps
        """Whether live answers are stamped for bridge watch (under `provider`): only for `bridge resolve`, the
        gateway's, never for `bridge run`, whose answers are not the gateway's."""
        self._ctx = ctx
        self._paths = ctx.paths
        self._config = config
        self._answer_by = answer_by
        self._progress = progress

    def __call__(self, names: list[str]) -> Fetched:
        from bridge.core.deadline import Deadline, TimedOut, run_within
        from bridge.vault.client import RESOLVE_FUNCTION, connect
        from bridge.vault.errors import CredentialsRefused, SupabaseUnavailable

        config = self._config
        network_by = self._answer_by - ANSWER_MARGIN_S
        self._progress.stage = "looking up credentials"
        found = self._ctx.credentials(Deadline(at=network_by))
        diagnostics = list(found.notes)
        self._progress.stage = "opening the cache"
        cache = self._open_cache(found.credentials, diagnostics)
        now = time.time()

        prefetched: list[tuple[CacheContents, str | None]] = []
        # A gateway token is checked by Supabase on every call, so revocation takes effect on the next resolve:
        # its values are never served from the cache while Supabase can answer.
        if cache is not None and config.cache_ttl > 0 and not found.credentials.token:
            prefetched.append(cache.load(now))
            snapshot = prefetched[0][0]
            ages = {n: now - snapshot.entries[n].fetched_at for n in names if n in snapshot.entries}
            if len(ages) == len(names) and all(age < config.cache_ttl for age in ages.values()):
                return Fetched({n: snapshot.entries[n].value for n in names}, diagnostics=diagnostics)

        def ask_supabase() -> dict[str, object]:
            # Built on the worker, so setting up TLS overlaps with reading the cache.
            with connect(
                found.credentials, provider=self._provider, host=socket.gethostname(),
                connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
                deadline=Deadline(at=network_by), lean=True,
            ) as client:
                return client.resolve_secrets(names)

        def load_cache() -> None:
            # While the request is in flight: the cipher import and decryption cost nothing extra then.
            if cache is not None and not prefetched:
                prefetched.append(cache.load(now))

        self._progress.stage = "waiting for Supabase"
        try:
            try:
                result = run_within(network_by - time.monotonic(), ask_supabase, RESOLVE_FUNCTION, meanwhile=load_cache)
            except TimedOut:
                raise SupabaseUnavailable(
                    f"Supabase did not answer within the deadline ({config.deadline:g}s, calling {RESOLVE_FUNCTION})"
                ) from None
        except CredentialsRefused:
            if cache is not None:
                self._progress.stage = "forgetting the cache of refused credentials"
                # Stamped when the refusal arrived, not when the request left: an answer another bridge had
                # requested meanwhile, before the token was revoked, must not count as coming after it.
                self._forget(cache, time.time())
            raise
        except SupabaseUnavailable as exc:
            if cache is None:
                raise
            # run_within ran load_cache before it could fail, so the snapshot is already here.
            fetched = self._from_cache(prefetched[0], names, str(exc), now, config.max_stale)
            fetched.diagnostics[:0] = diagnostics
            return fetched
        good, bad = split_answer(names, result)
        fetched = Fetched({**good, **bad}, diagnostics=diagnostics)
        if self._stamps:
            self._progress.stage = "stamping the live answer"
            self._stamp_live(names, now, fetched)
        if cache is not None:
            self._progress.stage = "updating the cache"
            self._remember(cache, prefetched[0], [n for n in names if n not in bad], good, now, fetched)
        return fetched

    def _open_cache(self, credentials: Credentials, diagnostics: list[str]) -> CacheFile | None:
        """The cache for these credentials, or None when it is off; the cache never stops live values."""
        from bridge.cache.store import CacheFile, remove_cache
        from bridge.core.errors import IdentityUnavailable
        from bridge.local.identity import Identity

        if self._config.max_stale <= 0:
            # Turned off: what an earlier setting left on disk goes too.
            try:
                remove_cache(self._paths.cache_file, wait_until=self._answer_by - ANSWER_MARGIN_S)
            except (BridgeError, OSError) as exc:
                diagnostics.append(f"cache is off (max_stale = 0) but could not be removed: {exc}")
            return None
        try:
            return CacheFile(self._paths.cache_file, credentials, Identity.current())
        except IdentityUnavailable as exc:
            diagnostics.append(f"cache off, live values only: {exc}")
            return None

    def _stamp_live(self, names: list[str], now: float, fetched: Fetched) -> None:
        """Supabase answered `names` asked at `now`: bridge watch counts a change as delivered only from such an
        answer, never from one the cache gave (see bridge/cache/live.py). Cache on or off alike."""
        from bridge.cache.live import live_path, stamp_live

        try:
            stamp_live(
                live_path(self._paths.cache_file), names, now, wait_until=self._answer_by - ANSWER_MARGIN_S,
                provider=self._provider,
            )
        except (BridgeError, OSError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            fetched.diagnostics.append(f"live answer not stamped for bridge watch ({why}); it will reload once more")

    def _forget(self, cache: CacheFile, now: float) -> None:
        """Supabase itself refused these credentials (a 401 over verified TLS, never a network failure), so no later
        outage may serve what was cached under them."""
        try:
            cache.refuse(now, wait_until=self._answer_by - ANSWER_MARGIN_S)
        except OSError as exc:
            raise BridgeError(
                f"Supabase refused the credentials, and the cache kept under them could not be removed "
                f"({exc.strerror or type(exc).__name__}); run `bridge cache clear`"
            ) from None

    def _remember(
        self, cache: CacheFile, seen: tuple[CacheContents, str | None], names: list[str], good: dict[str, str],
        now: float, fetched: Fetched,
    ) -> None:
        from bridge.cache.store import merge, needs_write

        snapshot, problem = seen
        max_stale = self._config.max_stale
        if problem is None and not needs_write(snapshot, merge(snapshot, names, good, now, max_stale), now):
            # Nothing new to record: skip the lock and a second decryption. Another bridge's newer
            # file is at least as current; at worst the cache misses an entry, never holds a wrong one.
            return
        try:
            diagnostic = cache.update(
                lambda s: merge(s, names, good, now, max_stale), wait_until=self._answer_by - ANSWER_MARGIN_S, now=now
            )
        except (BridgeError, OSError) as exc:
            diagnostic = f"cache not updated: {exc}"
        if diagnostic is not None:
            fetched.diagnostics.append(diagnostic)
    @staticmethod
    def _from_cache(
        loaded: tuple[CacheContents, str | None], names: list[str], reason: str, now: float, max_stale: float
    ) -> Fetched:
        snapshot, diagnostic = loaded
        fetched = Fetched({}, reason=reason, diagnostics=[diagnostic] if diagnostic else [])
        if snapshot.refused_at is not None:
            refused = (
                f"{reason}; Supabase refused these credentials {format_age(max(0.0, now - snapshot.refused_at))} ago, "
                "so nothing cached under them is served; log in with a working key or token (`bridge login`)"
            )
            fetched.outcomes.update({name: IdError(refused) for name in names})
            return fetched
        for name in names:
            entry = snapshot.entries.get(name)
            if entry is None:
                fetched.outcomes[name] = IdError(f"{reason}; no cached value for {name}")
                continue
            age = max(0.0, now - entry.fetched_at)
            if age > max_stale:
                fetched.outcomes[name] = IdError(
                    f"{reason}; the cached value of {name} is {format_age(age)} old, past max_stale ({format_age(max_stale)})"
                )
                continue
            fetched.outcomes[name] = entry.value
            fetched.cached_ages[name] = age
        return fetched
