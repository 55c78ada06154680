"""The operator token the running gateway holds, kept in memory only, so a rotation of it can still be reloaded.

When gateway.auth.token is an exec ref through our provider, what the gateway
holds is what its last resolve got, and that is what the cache the resolve
wrote says: the watcher prefers it, at start and after each reload, and reads
Vault only when the cache cannot say (off, or kept under other credentials).
A rotation is applied to the cache only by the gateway's own resolve, so a
watcher restarted before the reload still finds the old value there. When a
reload is refused, the other known values are tried once each: a watcher can
be wrong about which one the gateway took. The value is never written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.core.errors import BridgeError
from bridge.core.refs import IdError, parse_ref, select_value
from bridge.watch.target import TokenSource

Read = Callable[[str], str | None]


class HeldToken:
    def __init__(self, source: TokenSource, live: Read, cached: Read) -> None:
        self.source = source
        self._live = live
        self._cached = cached
        self.value = source.value
        self._live_value: str | None = None
        self._live_read = False

    @property
    def name(self) -> str | None:
        """The Vault name behind the token, when a rotation in Vault can change it."""
        return self.source.name

    def learn(self) -> str | None:
        """What the gateway holds: the cached value, else Vault's. Returns why it is still unknown, or None."""
        if self.source.ref_id is None:
            return None
        problem: str | None = None
        raw = self._cached(self._vault_name())
        if raw is None:
            raw, problem = self._read_live()
        if raw is None:
            return problem
        return self._take(raw)

    def changed(self) -> None:
        """Vault says the token changed: Vault's value, if read before, is out of date."""
        self._live_read = False

    def alternatives(self) -> list[str]:
        """The other values the gateway might hold, for a refused reload: the cached one, then Vault's (read at
        most once per change, since each read is audited)."""
        if self.source.ref_id is None:
            return []
        ref = parse_ref(self.source.ref_id)
        raws = [self._cached(ref.name), self._live_value if self._live_read else self._read_live()[0]]
        found: list[str] = []
        for raw in raws:
            try:
                value = None if raw is None else select_value(ref, raw)
            except IdError:
                value = None
            if value is not None and value != self.value and value not in found:
                found.append(value)
        return found

    def _vault_name(self) -> str:
        return parse_ref(str(self.source.ref_id)).name

    def _read_live(self) -> tuple[str | None, str | None]:
        name = self._vault_name()
        try:
            self._live_value = self._live(name)
        except BridgeError as exc:
            return None, f"gateway.auth.token ({name}) not resolved: {exc}"
        self._live_read = True
        if self._live_value is None:
            return None, f"gateway.auth.token ({name}) is not in Vault; add it: bridge secrets set {name}"
        return self._live_value, None

    def _take(self, raw: str) -> str | None:
        try:
            self.value = select_value(parse_ref(str(self.source.ref_id)), raw)
        except IdError as exc:
            return f"gateway.auth.token: {exc}"
        return None
