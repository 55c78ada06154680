"""The operator token the running gateway holds, kept in memory only, so a rotation of it can still be reloaded.

When gateway.auth.token is an exec ref through our provider, the value is
resolved at start (Supabase first, the cache the gateway's own resolves wrote
when Supabase cannot answer). After a reload that rotated it succeeds, the
gateway holds the new value, and so does this. It is never written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.core.errors import BridgeError
from bridge.core.refs import IdError, parse_ref, select_value
from bridge.watch.target import TokenSource

Fetch = Callable[[list[str]], dict[str, str]]
Cached = Callable[[str], str | None]


class HeldToken:
    def __init__(self, source: TokenSource, fetch: Fetch, cached: Cached) -> None:
        self.source = source
        self._fetch = fetch
        self._cached = cached
        self.value = source.value

    @property
    def name(self) -> str | None:
        """The Vault name behind the token, when a rotation in Vault can change it."""
        return self.source.name

    def learn(self, fallback: str | None = None) -> str | None:
        """Resolve the token now; with Supabase unreachable, `fallback` (a secret value fetched just before), or
        else the cache. Returns why it is still unknown, or None."""
        if self.source.ref_id is None or self.source.name is None:
            return None
        ref = parse_ref(self.source.ref_id)
        try:
            raw: str | None = self._fetch([ref.name]).get(ref.name)
        except BridgeError as exc:
            raw = fallback if fallback is not None else self._cached(ref.name)
            if raw is None:
                return f"gateway.auth.token ({ref.name}) not resolved: {exc}"
        if raw is None:
            return f"gateway.auth.token ({ref.name}) is not in Vault; add it: bridge secrets set {ref.name}"
        try:
            self.value = select_value(ref, raw)
        except IdError as exc:
            return f"gateway.auth.token: {exc}"
        return None
