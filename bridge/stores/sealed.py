"""Seal bytes to this machine and user: AES-256-GCM under a key derived with PBKDF2-HMAC-SHA512.

The key inputs (machine id, user name) are readable by local users, so against
a local attacker a sealed file is protected by its 0600 mode, not the cipher;
the cipher makes a copied file useless on another machine or account and any
change to the file detectable.

Layout: MAGIC(4) | version(1) | salt(16) | nonce(12) | ciphertext+tag.
The header is authenticated as associated data, so a changed version, salt or
nonce is caught like a changed ciphertext.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import IdentityUnavailable

MAGIC = b"OCSB"
VERSION = 1
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
PBKDF2_ITERATIONS = 600_000
"""OWASP's 2023 figure for PBKDF2-HMAC-SHA512."""
APP_SALT = b"openclaw-supabase-bridge/sealed/v1"
HEADER_BYTES = len(MAGIC) + 1 + SALT_BYTES + NONCE_BYTES


class SealError(Exception):
    """The sealed bytes cannot be opened here: altered, truncated, or sealed for another machine or user."""


MACHINE_ID_PATHS = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
MAX_MACHINE_ID_BYTES = 4096


@dataclass(frozen=True)
class Identity:
    """What a sealed file and the cache are bound to."""

    machine_id: str
    user: str

    @classmethod
    def current(cls, machine_id_paths: tuple[Path, ...] = MACHINE_ID_PATHS) -> "Identity":
        """Raises IdentityUnavailable when this machine has no id; callers turn their store or cache off."""
        return cls(machine_id=_machine_id(machine_id_paths), user=_user_name())


def _user_name() -> str:
    """The account name, or `uid-<n>` for a uid with no passwd entry (`docker run --user 54321`).

    The gateway spawns the bridge with a minimal environment, so $USER is not trusted or needed.
    """
    if sys.platform == "win32":
        import getpass

        return getpass.getuser()
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid-{os.getuid()}"


def _machine_id(paths: tuple[Path, ...]) -> str:
    try:
        if sys.platform == "darwin":
            return _mac_platform_uuid()
        if sys.platform == "win32":
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0])
    except Exception as exc:  # noqa: BLE001 - ioreg or the registry failing in any way means no id, not a crash
        raise IdentityUnavailable(f"cannot read this machine's id ({type(exc).__name__})") from None
    for candidate in paths:
        try:
            with candidate.open("rb") as handle:
                value = handle.read(MAX_MACHINE_ID_BYTES).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return value
    raise IdentityUnavailable(
        f"no machine id in {' or '.join(map(str, paths))}; run systemd-machine-id-setup "
        "(in a container: mount the host's /etc/machine-id read-only)"
    )


def _mac_platform_uuid() -> str:
    import subprocess

    out = subprocess.run(
        ["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
        capture_output=True, text=True, timeout=2, check=True,
    ).stdout
    for line in out.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=", 1)[1].strip().strip('"')
    raise ValueError("no IOPlatformUUID")


def _derive_key(identity: Identity, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    material = b"\0".join((identity.machine_id.encode(), identity.user.encode(), APP_SALT))
    kdf = PBKDF2HMAC(algorithm=hashes.SHA512(), length=KEY_BYTES, salt=salt, iterations=PBKDF2_ITERATIONS)
    return kdf.derive(material)


def seal(plaintext: bytes, identity: Identity) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    header = MAGIC + bytes([VERSION]) + salt + nonce
    return header + AESGCM(_derive_key(identity, salt)).encrypt(nonce, plaintext, header)


def unseal(blob: bytes, identity: Identity) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(blob) < HEADER_BYTES + 16 or not blob.startswith(MAGIC):
        raise SealError("not a sealed bridge file (truncated or wrong format)")
    if blob[len(MAGIC)] != VERSION:
        raise SealError(f"sealed with format version {blob[len(MAGIC)]}, this bridge reads version {VERSION}")
    header = blob[:HEADER_BYTES]
    salt = header[len(MAGIC) + 1 : len(MAGIC) + 1 + SALT_BYTES]
    nonce = header[-NONCE_BYTES:]
    try:
        return AESGCM(_derive_key(identity, salt)).decrypt(nonce, blob[HEADER_BYTES:], header)
    except InvalidTag:
        raise SealError("altered, or sealed on another machine or for another user") from None
