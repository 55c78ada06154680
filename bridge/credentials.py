"""Bootstrap credentials (Supabase URL + key) and the stores that hold them.

Every store has the same three operations, as credential helpers do: get,
store, erase. Lookup order: OS keyring, then the sealed file, then the
environment (for containers). Imports of the keyring and cipher libraries
happen inside the store that needs them, so a resolve pays only for the store
that answers.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from bridge.errors import BridgeError
from bridge.fsutil import atomic_write, read_private

KEYRING_SERVICE = "openclaw-supabase-bridge"
KEYRING_ACCOUNT = "default"
ENV_URL = "SUPABASE_URL"
ENV_KEYS = ("SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Credentials:
    url: str
    key: str

    def __repr__(self) -> str:
        return f"Credentials(url={self.url!r}, key={redact_key(self.key)!r})"

    def to_json(self) -> bytes:
        return json.dumps({"url": self.url, "key": self.key}).encode()

    @classmethod
    def from_json(cls, raw: bytes | str, where: str) -> "Credentials":
        try:
            doc = json.loads(raw)
            return cls(url=normalize_url(doc["url"]), key=str(doc["key"]))
        except (ValueError, KeyError, TypeError):
            raise BridgeError(f"credentials in {where} are unreadable; run `bridge login` again") from None


def redact_key(key: str) -> str:
    """Enough of a key to recognise it (its prefix and last 4 characters), never enough to use it."""
    prefix = "sb_secret_" if key.startswith("sb_secret_") else key[:3]
    return f"{prefix}...{key[-4:]}" if len(key) > 12 else "***"


def normalize_url(url: str) -> str:
    """The project URL without a trailing slash; https required except on this machine."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BridgeError(f"not a Supabase URL: {url!r}; use https://<project-ref>.supabase.co")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise BridgeError(f"refusing plain http for {parts.hostname}: use https:// (http is allowed only for localhost)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BridgeError("the Supabase URL must not contain credentials, a query or a fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class StoreUnavailable(Exception):
    """This store cannot be used here (no keyring service, locked keyring); the lookup moves on."""


class CredentialStore(Protocol):
    name: str

    def get(self) -> Credentials | None: ...

    def store(self, credentials: Credentials) -> None: ...

    def erase(self) -> bool: ...


class KeyringStore:
    """The OS keyring: macOS Keychain, Secret Service (GNOME Keyring, KWallet), Windows Credential Manager."""

    name = "keyring"

    def __init__(self, env: dict[str, str] | os._Environ[str]) -> None:
        self._env = env

    def _backend(self) -> Any:
        if sys.platform.startswith("linux"):
            if not self._env.get("DBUS_SESSION_BUS_ADDRESS"):
                raise StoreUnavailable("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")
            # Secret Service is the Linux keyring (GNOME Keyring, KWallet, KeePassXC). Loading its
            # backend directly skips keyring's probe of every backend, ~45 ms on each resolve.
            from keyring.backends.SecretService import Keyring

            return Keyring()
        import keyring

        backend = keyring.get_keyring()
        if backend.priority <= 0:
            raise StoreUnavailable(f"no usable OS keyring ({type(backend).__module__})")
        return backend

    @staticmethod
    def _failures() -> tuple[type[Exception], ...]:
        """What a keyring call raises when the store cannot serve: keyring's errors, and Secret Service's own on Linux."""
        from keyring.errors import KeyringError

        if sys.platform.startswith("linux"):
            from secretstorage.exceptions import SecretStorageException

            return (KeyringError, SecretStorageException)
        return (KeyringError,)

    def get(self) -> Credentials | None:
        backend = self._backend()
        try:
            raw = backend.get_password(KEYRING_SERVICE, KEYRING_ACCOUNT)
        except self._failures() as exc:
            raise StoreUnavailable(f"OS keyring refused access ({type(exc).__name__})") from None
        return None if raw is None else Credentials.from_json(raw, "the OS keyring")

    def store(self, credentials: Credentials) -> None:
        backend = self._backend()
        try:
            backend.set_password(KEYRING_SERVICE, KEYRING_ACCOUNT, credentials.to_json().decode())
        except self._failures() as exc:
            raise StoreUnavailable(f"OS keyring refused the write ({type(exc).__name__})") from None

    def erase(self) -> bool:
        try:
            backend = self._backend()
        except StoreUnavailable:
            return False
        from keyring.errors import PasswordDeleteError

        try:
            if backend.get_password(KEYRING_SERVICE, KEYRING_ACCOUNT) is None:
                return False
            backend.delete_password(KEYRING_SERVICE, KEYRING_ACCOUNT)
        except PasswordDeleteError:
            return False
        except self._failures() as exc:
            raise BridgeError(f"OS keyring refused to delete the credentials ({type(exc).__name__})") from None
        return True


class SealedFileStore:
    """An AES-256-GCM file bound to this machine and user, for hosts without a keyring."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> Credentials | None:
        from bridge.sealed import Identity, SealError, unseal

        blob = read_private(self.path)
        if blob is None:
            return None
        try:
            plaintext = unseal(blob, Identity.current())
        except SealError as exc:
            raise BridgeError(f"cannot open {self.path}: {exc}; run `bridge login` on this machine") from None
        return Credentials.from_json(plaintext, str(self.path))

    def store(self, credentials: Credentials) -> None:
        from bridge.sealed import Identity, seal

        atomic_write(self.path, seal(credentials.to_json(), Identity.current()))

    def erase(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


class EnvStore:
    """SUPABASE_URL plus SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY, for containers. Read-only."""

    name = "env"

    def __init__(self, env: dict[str, str] | os._Environ[str]) -> None:
        self._env = env

    def get(self) -> Credentials | None:
        url = self._env.get(ENV_URL)
        key = next((self._env[k] for k in ENV_KEYS if self._env.get(k)), None)
        if not url or not key:
            return None
        return Credentials(url=normalize_url(url), key=key)

    def store(self, credentials: Credentials) -> None:
        raise BridgeError("the environment is read-only: set SUPABASE_URL and SUPABASE_SECRET_KEY yourself")

    def erase(self) -> bool:
        return False


def lookup_order(env: dict[str, str] | os._Environ[str], sealed_path: Path) -> list[CredentialStore]:
    return [KeyringStore(env), SealedFileStore(sealed_path), EnvStore(env)]


@dataclass(frozen=True)
class Found:
    credentials: Credentials
    source: str


def find_credentials(stores: list[CredentialStore]) -> Found:
    skipped: list[str] = []
    for store in stores:
        try:
            credentials = store.get()
        except StoreUnavailable as exc:
            skipped.append(f"{store.name}: {exc}")
            continue
        if credentials is not None:
            return Found(credentials, store.name)
    detail = f" ({'; '.join(skipped)})" if skipped else ""
    raise BridgeError(
        "no Supabase credentials: run `bridge login --url https://<project-ref>.supabase.co`, "
        f"or set {ENV_URL} and {ENV_KEYS[0]}{detail}"
    )
