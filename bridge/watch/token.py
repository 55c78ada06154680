"""The operator token the running gateway holds, so a rotation of it can still be reloaded with the old value.

When gateway.auth.token is an exec ref through our provider, what the gateway
holds is what its last resolve got. The watcher learns it, in this order, from
what it kept itself after its last confirmed delivery (bridge/watch/held.py),
then from the cache the gateway's resolves wrote, and only on its very first
start here, with neither, from Vault (the baseline every watched name starts
from; a read made before any rotation, so rollout never counts it for one).
After that it never reads Vault for the token before a reload: a value read
there would be the new one the gateway refuses, and its audited read would
count as the gateway's in `secrets rollout`. Only once the gateway's own live
resolve of the token is confirmed (the reload delivered it) does the watcher
take the new value, from the cache or, failing that, with one read of Vault
that is then true of the gateway too.

When nothing says, the reload goes without --url and the OpenClaw CLI resolves
the token itself: right unless it rotated while no watcher ran. A refused
reload is tried again once with each other value known (the one before, the
cached one), then once the CLI's way; refused every way, it is said once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bridge.core.errors import BridgeError
from bridge.core.refs import IdError, parse_ref, select_value
from bridge.local.envelope import EnvelopeError
from bridge.watch.held import KEPT_VALUES
from bridge.watch.target import TokenSource

Read = Callable[[str], str | None]


class Kept(Protocol):
    def load(self, ref_id: str) -> list[str]: ...

    def save(self, ref_id: str, values: list[str]) -> None: ...


class HeldToken:
    def __init__(self, source: TokenSource, cached: Read, live: Read, kept: Kept | None) -> None:
        self.source = source
        self._cached = cached
        self._live = live
        self._kept = kept
        self.value = source.value
        self._earlier: list[str] = []

    @property
    def name(self) -> str | None:
        """The Vault name behind the token, when a rotation in Vault can change it."""
        return self.source.name

    def learn(self) -> str | None:
        """At start, or when openclaw.json names another token: what the gateway holds, from what was kept, else
        the cache, else (a watcher's first start here) Vault's value now, the baseline every watched name starts
        from. Returns why it is still unknown, or None."""
        ref_id = self.source.ref_id
        if ref_id is None:
            return None
        name = parse_ref(ref_id).name
        kept = self._kept.load(ref_id) if self._kept is not None else []
        if kept:
            self.value, self._earlier = kept[0], kept[1:]
            return None
        value = self._select(self._cached(name))
        if value is not None:
            self.value = value
            return self._keep()
        try:
            value = self._select(self._live(name))
        except BridgeError as exc:
            return f"gateway.auth.token ({name}) not resolved: {exc}; reloads let the OpenClaw CLI resolve it until a delivery of it is confirmed"
        if value is None:
            return f"gateway.auth.token ({name}) is not in Vault; add it: bridge secrets set {name}"
        self.value = value
        return None

    def delivered(self) -> str | None:
        """The gateway's own resolve had the token from Supabase after the reload began: it holds Vault's value
        now, taken from the cache its resolve wrote, else read once (a read that is true of the gateway too)."""
        ref_id = self.source.ref_id
        if ref_id is None:
            return None
        name = parse_ref(ref_id).name
        value = self._select(self._cached(name))
        if value is None:
            try:
                value = self._select(self._live(name))
            except BridgeError as exc:
                return f"gateway.auth.token ({name}) delivered, but its new value not read: {exc}; the CLI resolves it at the next reload"
        if value is None:
            return f"gateway.auth.token ({name}) delivered, but not in Vault now; the CLI resolves it at the next reload"
        if value != self.value:
            self._earlier = [v for v in [self.value, *self._earlier] if v is not None and v != value][: KEPT_VALUES - 1]
            self.value = value
        return self._keep()

    def took(self, value: str | None) -> str | None:
        """A reload with `value` was admitted, so the gateway holds it (None: the CLI's own, not known here)."""
        if value is None:
            self.value, self._earlier = None, [v for v in [self.value, *self._earlier] if v is not None][: KEPT_VALUES - 1]
            return None
        if value != self.value:
            self._earlier = [v for v in [self.value, *self._earlier] if v is not None and v != value][: KEPT_VALUES - 1]
            self.value = value
        return self._keep()

    def alternatives(self) -> list[str]:
        """The other values the gateway might hold, for a refused reload: the ones kept from before, then the
        cached one. Never a read of Vault."""
        if self.source.ref_id is None:
            return []
        found: list[str] = []
        for value in [*self._earlier, self._select(self._cached(parse_ref(self.source.ref_id).name))]:
            if value is not None and value != self.value and value not in found:
                found.append(value)
        return found

    def _select(self, raw: str | None) -> str | None:
        if raw is None or self.source.ref_id is None:
            return None
        try:
            return select_value(parse_ref(self.source.ref_id), raw)
        except IdError:
            return None

    def _keep(self) -> str | None:
        if self._kept is None or self.source.ref_id is None or self.value is None:
            return None
        try:
            self._kept.save(self.source.ref_id, [self.value, *self._earlier])
        except (OSError, EnvelopeError, BridgeError) as exc:
            return f"the token the gateway holds not kept for the next watcher ({getattr(exc, 'strerror', None) or exc})"
        return None
