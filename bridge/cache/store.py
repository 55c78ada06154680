"""The encrypted last-known-good cache: what lets the gateway start while Supabase is down.

One file holds, per Vault secret name, the value and when Supabase last
returned it. It is AES-256-GCM encrypted under a key derived (HKDF-SHA256)
from the Supabase key the bridge authenticates with, bound to this machine and
user: the cache key lives wherever the credentials live (keyring, sealed file
or environment) and never on disk, and a copied file opens nowhere else.

Updates are read-modify-write under an exclusive lock and replace the file
atomically, so concurrent bridges lose no update and a crash leaves the old
or the new file, never half of one. An unreadable file is reported in one line
and replaced, never trusted.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from bridge.core.credentials import Credentials
from bridge.core.errors import BridgeError
from bridge.core.protocol import servable
from bridge.core.refs import is_unicode_text
from bridge.local.envelope import CipherFailed, Envelope, EnvelopeError, Malformed, OtherVersion, hkdf_sha256
from bridge.local.files import FileTooLarge, atomic_write, ensure_private_dir, read_private
from bridge.local.identity import Identity

ENVELOPE = Envelope(magic=b"OCSC", version=1)
KEY_INFO = b"openclaw-supabase-bridge/cache/v1"
LOCK_POLL_S = 0.01
MAX_CACHE_BYTES = 8 * 1024 * 1024
"""The file never grows past this (oldest entries go first); a larger file is ignored and rebuilt, so a huge or
planted file costs neither seconds nor gigabytes."""
FUTURE_TOLERANCE_S = 60.0
"""An entry stamped further ahead than this was not written by this clock: it is dropped, never served."""
ENTRY_OVERHEAD_BYTES = 40
SEAL_OVERHEAD_BYTES = 64
CONFIRM_REFRESH_S = 300.0
"""An unchanged value's confirmation time is rewritten only when the stored one is older than this, so a reload
storm writes the file once; ages read from the cache can lag by at most this much, which only makes them older."""


class CacheUnreadable(Exception):
    """The file is corrupt, truncated, altered, or was written with other credentials, on another machine or by another user."""


class LockTimeout(BridgeError):
    """Another bridge held the cache lock until the deadline."""


class Entry(NamedTuple):
    value: str
    fetched_at: float


class CacheContents:
    """Every cached entry of one project (a plain class: the resolve path avoids dataclasses' import cost).

    `refused_at`: when Supabase last refused these credentials (HTTP 401). Such a snapshot has no entries, and
    an answer Supabase gave before that moment never adds any back: a revoked token stays dead offline.
    """

    __slots__ = ("entries", "refused_at", "url")

    def __init__(self, url: str, entries: dict[str, Entry] | None = None, refused_at: float | None = None) -> None:
        self.url = url
        self.entries = {} if entries is None else entries
        self.refused_at = refused_at

    def to_json(self) -> bytes:
        doc: dict[str, object] = {
            "url": self.url,
            "entries": {name: {"value": e.value, "fetched_at": e.fetched_at} for name, e in self.entries.items()},
        }
        if self.refused_at is not None:
            doc["refused_at"] = self.refused_at
        return json.dumps(doc).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> CacheContents:
        try:
            doc = json.loads(raw)
            entries = {
                str(name): Entry(value=str(e["value"]), fetched_at=float(e["fetched_at"]))
                for name, e in doc["entries"].items()
            }
            refused = doc.get("refused_at")
            refused_at = None if refused is None else float(refused)
            stamps = [e.fetched_at for e in entries.values()] + ([] if refused_at is None else [refused_at])
            if not all(math.isfinite(stamp) for stamp in stamps):
                raise ValueError("timestamp out of range")
            return cls(url=str(doc["url"]), entries=entries, refused_at=refused_at)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise CacheUnreadable("cache contents are malformed") from None


def derive_key(credentials: Credentials, identity: Identity) -> bytes:
    """HKDF-SHA256 over the Supabase key (and the gateway token, which is the real secret of a gateway whose key is
    the public one), bound to machine, user and project; stdlib only, so it costs nothing to import."""
    info = b"\0".join((KEY_INFO, identity.machine_id.encode(), identity.user.encode(), credentials.url.encode()))
    secret = credentials.key + ("\0" + credentials.token if credentials.token else "")
    return hkdf_sha256(secret.encode(), KEY_INFO, info)


def seal_snapshot(snapshot: CacheContents, key: bytes) -> bytes:
    try:
        return ENVELOPE.seal(snapshot.to_json(), lambda _salt: key)
    except CipherFailed as exc:
        raise BridgeError(f"cache not written: {exc}") from None


def open_snapshot(blob: bytes, key: bytes) -> CacheContents:
    try:
        plaintext = ENVELOPE.open(blob, lambda _salt: key)
    except (Malformed, OtherVersion):
        raise CacheUnreadable("cache file is truncated or not a bridge cache") from None
    except CipherFailed as exc:
        raise CacheUnreadable(str(exc)) from None
    except EnvelopeError:
        raise CacheUnreadable("cache file was altered, or written with other credentials, on another machine or by another user") from None
    return CacheContents.from_json(plaintext)


def worth_caching(value: str) -> bool:
    """Whether some id could ever be answered from this value: alone within OpenClaw's output limit, or through
    `#field` on a JSON object holding such a field. A value no id can ever get is not written to disk."""
    if not is_unicode_text(value):
        return False
    if servable(value):
        return True
    if not value.lstrip().startswith("{"):
        return False
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and any(isinstance(v, str) and servable(v) for v in doc.values())


def trusted(snapshot: CacheContents, now: float) -> CacheContents:
    """The entries this clock could have written: one stamped in the future would otherwise pass every age check. A
    refusal stamped in the future is brought back to now, so a clock corrected by NTP does not ignore every live
    answer until it catches up."""
    limit = now + FUTURE_TOLERANCE_S
    refused_at = None if snapshot.refused_at is None else min(snapshot.refused_at, now)
    return CacheContents(snapshot.url, {n: e for n, e in snapshot.entries.items() if e.fetched_at <= limit}, refused_at)


def merge(snapshot: CacheContents, requested: list[str], found: dict[str, str], now: float, max_stale: float) -> CacheContents:
    """What Supabase said at `now`, applied: found names refreshed, requested-but-absent names dropped (deleted in
    Vault), entries past max_stale purged. An entry another bridge wrote from a later answer is newer than this
    one and stays. An answer from before Supabase refused these credentials changes nothing; one from after
    it shows they work again, and lifts the refusal."""
    if snapshot.refused_at is not None and now <= snapshot.refused_at:
        return snapshot
    entries = {n: e for n, e in snapshot.entries.items() if now - e.fetched_at <= max_stale}
    for name in requested:
        current = entries.get(name)
        if current is not None and current.fetched_at > now:
            continue
        value = found.get(name)
        if value is not None and worth_caching(value):
            entries[name] = Entry(value, now)
        else:
            entries.pop(name, None)
    return CacheContents(url=snapshot.url, entries=entries)


def stamped_before(snapshot: CacheContents, names: list[str], stamp: float) -> CacheContents:
    """The entries of `names` dated no later than `stamp`: a resolve within cache_ttl then asks Supabase for them,
    while each value still stands in for an outage until max_stale."""
    entries = {
        n: Entry(e.value, min(e.fetched_at, stamp)) if n in names else e for n, e in snapshot.entries.items()
    }
    return CacheContents(snapshot.url, entries, snapshot.refused_at)


def bounded(snapshot: CacheContents, limit: int = MAX_CACHE_BYTES) -> CacheContents:
    """The newest entries that fit in `limit` bytes once sealed; sizes are estimated once per entry, so this is
    linear in the entries (plus one sort)."""
    sizes = {n: len(json.dumps(n)) + len(json.dumps(e.value)) + ENTRY_OVERHEAD_BYTES for n, e in snapshot.entries.items()}
    budget = limit - SEAL_OVERHEAD_BYTES - len(json.dumps(snapshot.url))
    kept: dict[str, Entry] = {}
    for name in sorted(snapshot.entries, key=lambda n: snapshot.entries[n].fetched_at, reverse=True):
        if sizes[name] <= budget:
            kept[name] = snapshot.entries[name]
            budget -= sizes[name]
    return CacheContents(snapshot.url, kept, snapshot.refused_at)


def needs_write(before: CacheContents, after: CacheContents, now: float) -> bool:
    if before.refused_at != after.refused_at:
        return True
    if {n: e.value for n, e in before.entries.items()} != {n: e.value for n, e in after.entries.items()}:
        return True
    return any(
        entry.fetched_at == now and now - before.entries[name].fetched_at >= CONFIRM_REFRESH_S
        for name, entry in after.entries.items()
    )


class FileLock:
    """An exclusive advisory lock on a side file, waited for only until a deadline."""

    def __init__(self, path: Path, wait_until: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._wait_until = wait_until
        self._clock = clock
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        while True:
            try:
                _lock(fd)
                break
            except OSError:
                if self._clock() >= self._wait_until:
                    os.close(fd)
                    raise LockTimeout(f"cache lock {self.path} is held by another bridge; try again in a moment") from None
                time.sleep(LOCK_POLL_S)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._fd is not None
        _unlock(self._fd)
        os.close(self._fd)


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class CacheFile:
    """The cache on disk for one set of credentials."""

    def __init__(self, path: Path, credentials: Credentials, identity: Identity) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._url = credentials.url
        self._key = derive_key(credentials, identity)

    def load(self, now: float | None = None) -> tuple[CacheContents, str | None]:
        """The snapshot, empty when there is none, plus a one-line diagnostic when the file had to be ignored."""
        empty = CacheContents(url=self._url)
        try:
            blob = read_private(self.path, MAX_CACHE_BYTES)
        except FileTooLarge as exc:
            return empty, f"cache {exc}, more than the bridge ever writes; ignoring it, it will be rebuilt"
        except OSError as exc:
            return empty, f"cache {self.path} unreadable ({exc.strerror}); ignoring it"
        if blob is None:
            return empty, None
        try:
            snapshot = open_snapshot(blob, self._key)
        except CacheUnreadable as exc:
            return empty, f"cache {self.path} ignored: {exc}; it will be rebuilt"
        if snapshot.url != self._url:
            return empty, None
        return trusted(snapshot, time.time() if now is None else now), None

    def update(self, change: Callable[[CacheContents], CacheContents], wait_until: float, now: float) -> str | None:
        """Apply `change` under the lock; returns the load diagnostic, if any."""
        with FileLock(self.lock_path, wait_until):
            before, diagnostic = self.load(now)
            after = bounded(change(before))
            if diagnostic is not None or needs_write(before, after, now):
                self._remove_stale_temps()
                atomic_write(self.path, seal_snapshot(after, self._key))
        return diagnostic

    def expire(self, names: list[str], stamp: float, wait_until: float) -> str | None:
        """Date the entries of `names` back to `stamp` (see stamped_before). A file that does not open under these
        credentials is not this caller's to rewrite: it is left as it is, and the reason returned."""
        with FileLock(self.lock_path, wait_until):
            before, diagnostic = self.load()
            if diagnostic is not None:
                return diagnostic
            after = stamped_before(before, names, stamp)
            if after.entries != before.entries:
                self._remove_stale_temps()
                atomic_write(self.path, seal_snapshot(after, self._key))
        return None

    def opens(self) -> bool:
        """Whether the file is absent or opens under these credentials: the test before acting on someone's behalf."""
        return self.load()[1] is None

    def clear(self, names: list[str], wait_until: float) -> int:
        """Forget the named entries; returns how many went."""
        with FileLock(self.lock_path, wait_until):
            before, _ = self.load()
            kept = {n: e for n, e in before.entries.items() if n not in names}
            atomic_write(self.path, seal_snapshot(CacheContents(before.url, kept, before.refused_at), self._key))
            return len(before.entries) - len(kept)

    def refuse(self, now: float, wait_until: float) -> None:
        """Supabase refused these credentials at `now`: every entry goes, and the refusal is recorded so that a
        bridge still holding an answer from before it cannot write that back. Without the lock in time, the file
        is unlinked instead: nothing under refused credentials is left to serve either way."""
        try:
            with FileLock(self.lock_path, wait_until):
                self._remove_stale_temps()
                atomic_write(self.path, seal_snapshot(CacheContents(self._url, {}, refused_at=now), self._key))
        except (BridgeError, OSError):
            self.path.unlink(missing_ok=True)

    def _remove_stale_temps(self) -> None:
        """Temp files left by a writer that was killed mid-write; only ever called under the lock."""
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


def remove_cache(path: Path, wait_until: float) -> bool:
    """Delete the whole cache without opening it: no credentials needed, so it works after `bridge logout` and
    when the cache is turned off (max_stale = 0)."""
    if not path.exists():
        return False
    # The lock file stays: unlinking it while another bridge waits on it would let two writers in at once.
    with FileLock(path.with_name(path.name + ".lock"), wait_until):
        existed = path.exists()
        path.unlink(missing_ok=True)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
    return existed
