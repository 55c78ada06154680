"""Bootstrap credentials (Supabase URL + key) and the stores that hold them.

Every store has the same three operations, as credential helpers do: get,
store, erase. Lookup order: OS keyring, then the sealed file, then the
environment (for containers). Imports of the keyring and cipher libraries
happen inside the store that needs them, so a resolve pays only for the store
that answers.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Mapping
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


class SecretServiceBackend:
    """Linux: the Secret Service (GNOME Keyring, KWallet, KeePassXC) through secretstorage, the library keyring
    itself uses there. Talking to it directly costs ~25 ms per resolve against ~43 ms through keyring's
    backend class; items carry keyring's attributes, so keyring and secret-tool see the same entry."""

    name = "Secret Service (secretstorage)"

    def __init__(self, env: Mapping[str, str]) -> None:
        if not env.get("DBUS_SESSION_BUS_ADDRESS"):
            raise StoreUnavailable("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")

    def _run(self, what: str, operation: Callable[[Any], Any]) -> Any:
        import secretstorage
        from secretstorage.exceptions import SecretStorageException

        try:
            connection = secretstorage.dbus_init()
        except SecretStorageException as exc:
            raise StoreUnavailable(f"no Secret Service on the session bus ({type(exc).__name__})") from None
        try:
            collection = secretstorage.get_default_collection(connection)
            if collection.is_locked() and (collection.unlock() or collection.is_locked()):
                raise StoreUnavailable("the keyring is locked; unlock it (log in to the desktop session) and retry")
            return operation(collection)
        except SecretStorageException as exc:
            raise StoreUnavailable(f"Secret Service refused to {what} ({type(exc).__name__})") from None
        finally:
            connection.close()

    def get(self, service: str, account: str) -> str | None:
        def read(collection: Any) -> str | None:
            for item in collection.search_items({"service": service, "username": account}):
                return bytes(item.get_secret()).decode()
            return None

        return self._run("read", read)

    def set(self, service: str, account: str, secret: str) -> None:
        attributes = {"application": "Python keyring library", "service": service, "username": account}
        self._run("write", lambda c: c.create_item(f"Password for '{account}' on '{service}'", attributes, secret.encode(), replace=True))

    def delete(self, service: str, account: str) -> bool:
        def remove(collection: Any) -> bool:
            items = list(collection.search_items({"service": service, "username": account}))
            for item in items:
                item.delete()
            return bool(items)

        return self._run("delete", remove)


class KeyringLibraryBackend:
    """macOS Keychain and Windows Credential Manager, through the keyring library."""

    def __init__(self) -> None:
        import keyring

        self._backend = keyring.get_keyring()
        if self._backend.priority <= 0:
            raise StoreUnavailable(f"no usable OS keyring ({type(self._backend).__module__})")
        self.name = f"{type(self._backend).__module__}.{type(self._backend).__name__}"

    def _run(self, what: str, operation: Callable[[], Any]) -> Any:
        from keyring.errors import KeyringError

        try:
            return operation()
        except KeyringError as exc:
            raise StoreUnavailable(f"OS keyring refused to {what} ({type(exc).__name__})") from None

    def get(self, service: str, account: str) -> str | None:
        return self._run("read", lambda: self._backend.get_password(service, account))

    def set(self, service: str, account: str, secret: str) -> None:
        self._run("write", lambda: self._backend.set_password(service, account, secret))

    def delete(self, service: str, account: str) -> bool:
        if self.get(service, account) is None:
            return False
        self._run("delete", lambda: self._backend.delete_password(service, account))
        return True


class KeyringStore:
    """The OS keyring: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows."""

    name = "keyring"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def backend(self) -> SecretServiceBackend | KeyringLibraryBackend:
        if sys.platform.startswith("linux"):
            return SecretServiceBackend(self._env)
        return KeyringLibraryBackend()

    def get(self) -> Credentials | None:
        raw = self.backend().get(KEYRING_SERVICE, KEYRING_ACCOUNT)
        return None if raw is None else Credentials.from_json(raw, "the OS keyring")

    def store(self, credentials: Credentials) -> None:
        self.backend().set(KEYRING_SERVICE, KEYRING_ACCOUNT, credentials.to_json().decode())

    def erase(self) -> bool:
        try:
            return self.backend().delete(KEYRING_SERVICE, KEYRING_ACCOUNT)
        except StoreUnavailable:
            return False


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

    def __init__(self, env: Mapping[str, str]) -> None:
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


def lookup_order(env: Mapping[str, str], sealed_path: Path) -> list[CredentialStore]:
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
