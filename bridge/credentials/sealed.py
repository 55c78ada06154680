"""Credentials sealed to this machine and user, for hosts without a keyring.

AES-256-GCM (the shared envelope) under a key derived with PBKDF2-HMAC-SHA512
from the machine id, the user name and an app salt, with a random salt per
file. The key inputs are readable by local users, so against a local attacker
a sealed file is protected by its 0600 mode, not the cipher; the cipher makes
a copied file useless on another machine or account and any change to it
detectable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bridge.core.credentials import Credentials
from bridge.core.errors import BridgeError
from bridge.credentials.base import StoreUnavailable
from bridge.local.envelope import Envelope, EnvelopeError, Malformed, OtherVersion, pbkdf2_sha512
from bridge.local.files import FileTooLarge, atomic_write, read_private
from bridge.local.identity import Identity

ENVELOPE = Envelope(magic=b"OCSB", version=1, salt_bytes=16)
HEADER_BYTES = ENVELOPE.header_bytes
PBKDF2_ITERATIONS = 600_000
"""OWASP's 2023 figure for PBKDF2-HMAC-SHA512."""
APP_SALT = b"openclaw-supabase-bridge/sealed/v1"
MAX_SEALED_BYTES = 64 * 1024
"""Far above any sealed {url, key}; a larger file is not ours and is never read whole."""


class SealError(Exception):
    """The sealed bytes cannot be opened here: altered, truncated, or sealed for another machine or user."""


def _key_for(identity: Identity) -> Callable[[bytes], bytes]:
    material = b"\0".join((identity.machine_id.encode(), identity.user.encode(), APP_SALT))
    return lambda salt: pbkdf2_sha512(material, salt, PBKDF2_ITERATIONS)


def seal(plaintext: bytes, identity: Identity) -> bytes:
    return ENVELOPE.seal(plaintext, _key_for(identity))


def unseal(blob: bytes, identity: Identity) -> bytes:
    try:
        return ENVELOPE.open(blob, _key_for(identity))
    except Malformed:
        raise SealError("not a sealed bridge file (truncated or wrong format)") from None
    except OtherVersion as exc:
        raise SealError(f"sealed with format version {exc.found}, this bridge reads version {ENVELOPE.version}") from None
    except EnvelopeError:
        raise SealError("altered, or sealed on another machine or for another user") from None


class SealedFileStore:
    """An AES-256-GCM file bound to this machine and user, for hosts without a keyring."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> Credentials | None:
        try:
            blob = read_private(self.path, MAX_SEALED_BYTES)
        except FileTooLarge as exc:
            raise StoreUnavailable(f"{exc}; run `bridge login` again to replace it") from None
        if blob is None:
            return None
        try:
            plaintext = unseal(blob, Identity.current())
        except SealError as exc:
            raise BridgeError(f"cannot open {self.path}: {exc}; run `bridge login` on this machine") from None
        return Credentials.from_json(plaintext, str(self.path))

    def store(self, credentials: Credentials) -> None:
        atomic_write(self.path, seal(credentials.to_json(), Identity.current()))

    def erase(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
