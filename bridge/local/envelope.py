"""One AES-256-GCM envelope for everything the bridge writes encrypted: the sealed credentials and the cache.

Layout: MAGIC(4) | version(1) | salt(salt_bytes) | nonce(12) | ciphertext+tag.
The whole header is the associated data, so a changed magic, version, salt or
nonce fails exactly like a changed ciphertext. The key derivations live here
too, on the standard library, so a caller pays only for the one it uses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import NamedTuple

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32

KeyFor = Callable[[bytes], bytes]
"""The key for a header's salt: a fixed key ignores it, a password-based one derives from it."""


class EnvelopeError(Exception):
    """The bytes cannot be opened with this key."""


class Malformed(EnvelopeError):
    """Too short, or not this kind of file at all."""


class OtherVersion(EnvelopeError):
    def __init__(self, found: int) -> None:
        super().__init__(f"format version {found}")
        self.found = found


class Tampered(EnvelopeError):
    """The tag does not verify: altered, or sealed under another key (machine, user or credentials)."""


class CipherFailed(EnvelopeError):
    """The native cipher itself failed (a Rust panic surfaces as a BaseException): the file is treated as unreadable,
    never as a crash, so a cache that makes the cipher fail cannot stop every later run."""


def _native(call: Callable[[], bytes]) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return call()
    except InvalidTag:
        raise Tampered("altered, or sealed under another key") from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        raise CipherFailed(f"the cipher failed ({type(exc).__name__})") from None


class Envelope(NamedTuple):
    magic: bytes
    version: int
    salt_bytes: int = 0

    @property
    def header_bytes(self) -> int:
        return len(self.magic) + 1 + self.salt_bytes + NONCE_BYTES

    def seal(self, plaintext: bytes, key_for: KeyFor) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt, nonce = os.urandom(self.salt_bytes), os.urandom(NONCE_BYTES)
        header = self.magic + bytes([self.version]) + salt + nonce
        return header + _native(lambda: AESGCM(key_for(salt)).encrypt(nonce, plaintext, header))

    def open(self, blob: bytes, key_for: KeyFor) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(blob) < self.header_bytes + TAG_BYTES or not blob.startswith(self.magic):
            raise Malformed("truncated or wrong format")
        if blob[len(self.magic)] != self.version:
            raise OtherVersion(blob[len(self.magic)])
        header = blob[: self.header_bytes]
        salt = header[len(self.magic) + 1 : len(self.magic) + 1 + self.salt_bytes]
        return _native(lambda: AESGCM(key_for(salt)).decrypt(header[-NONCE_BYTES:], blob[self.header_bytes :], header))


def hkdf_sha256(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869), one block: for a key that is already high-entropy (a Supabase key)."""
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def pbkdf2_sha512(material: bytes, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA512: for low-entropy inputs (machine id and user name), slowed down on purpose."""
    return hashlib.pbkdf2_hmac("sha512", material, salt, iterations, KEY_BYTES)
