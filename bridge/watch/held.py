"""The watcher's own record of the token the gateway holds: sealed, private, written only after a confirmed delivery.

With the cache off (max_stale = 0), or kept under other credentials than the
watcher's, nothing else on the machine says which token the running gateway
holds, and Vault says only what it holds now: after a rotation made while no
watcher ran, that is the value the gateway refuses. So each value the gateway
is confirmed to hold (its own resolve had it from Supabase after the reload
began) is kept here, with the one before it, for the next watcher.

watch-token-<hash of the gateway URL>.sealed, 0600, replaced atomically: an
AES-256-GCM envelope (bridge/local/envelope.py) under a key derived like the
cache's from the watcher's own credentials, this machine and this user, so a
copy opens nowhere else and a file sealed under other credentials is ignored.
It holds the gateway URL, the ref id and at most two values, never anything
else; a crash mid-write leaves the old file or the new one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bridge.core.credentials import Credentials
from bridge.local.envelope import Envelope, EnvelopeError, hkdf_sha256
from bridge.local.files import FileTooLarge, atomic_write, read_private
from bridge.local.identity import Identity

ENVELOPE = Envelope(magic=b"OCSW", version=1)
KEY_INFO = b"openclaw-supabase-bridge/watch-token/v1"
HELD_PREFIX = "watch-token-"
MAX_HELD_BYTES = 64 * 1024
KEPT_VALUES = 2
"""The value the gateway holds and the one before it, in case the watcher is one rotation ahead of the gateway."""


def held_path(data_dir: Path, gateway_url: str) -> Path:
    return data_dir / f"{HELD_PREFIX}{hashlib.sha256(gateway_url.encode()).hexdigest()[:16]}.sealed"


class HeldFile:
    def __init__(self, path: Path, gateway_url: str, credentials: Credentials, identity: Identity) -> None:
        self.path = path
        self._url = gateway_url
        info = b"\0".join((KEY_INFO, identity.machine_id.encode(), identity.user.encode(), credentials.url.encode()))
        secret = credentials.key + ("\0" + credentials.token if credentials.token else "")
        self._key = hkdf_sha256(secret.encode(), KEY_INFO, info)

    def load(self, ref_id: str) -> list[str]:
        """The values kept for `ref_id` at this gateway, newest first; [] when there are none here for it."""
        try:
            blob = read_private(self.path, MAX_HELD_BYTES)
            if blob is None:
                return []
            doc = json.loads(ENVELOPE.open(blob, lambda _salt: self._key))
        except (OSError, FileTooLarge, EnvelopeError, ValueError):
            return []
        if not isinstance(doc, dict) or doc.get("url") != self._url or doc.get("ref") != ref_id:
            return []
        values = doc.get("values")
        return [v for v in values if isinstance(v, str)][:KEPT_VALUES] if isinstance(values, list) else []

    def save(self, ref_id: str, values: list[str]) -> None:
        """Raises OSError or EnvelopeError; the watcher says so and carries on with what it has in memory."""
        doc = {"url": self._url, "ref": ref_id, "values": values[:KEPT_VALUES]}
        atomic_write(self.path, ENVELOPE.seal(json.dumps(doc).encode(), lambda _salt: self._key))
