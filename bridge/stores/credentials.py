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
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.deadline import Deadline
from bridge.fsutil import FileTooLarge, atomic_write, read_private

KEYRING_SERVICE = "openclaw-supabase-bridge"
KEYRING_ACCOUNT = "default"
ENV_URL = "SUPABASE_URL"
ENV_KEYS = ("SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
STORE_BUDGET_S = 1.5
"""Longest wait for one store: a session bus that accepts and never answers must not eat the gateway's 5 s."""
KEYRING_WRITE_BUDGET_S = 10.0
MAX_SEALED_BYTES = 64 * 1024
"""Far above any sealed {url, key}; a larger file is not ours and is never read whole."""


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
    """This store failed here (keyring refused, locked or broken); the lookup notes it in one line and moves on."""


class StoreAbsent(StoreUnavailable):
    """This store does not exist here at all (no D-Bus session): the lookup moves on without a note."""


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
            raise StoreAbsent("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")

    def _run(self, what: str, operation: Callable[[Any], Any]) -> Any:
        import secretstorage

        try:
            connection = secretstorage.dbus_init()
        except Exception as exc:  # noqa: BLE001 - a stale bus address raises OSError, not secretstorage's errors
            raise StoreUnavailable(
                f"cannot reach the Secret Service on the session bus ({type(exc).__name__}); "
                "check DBUS_SESSION_BUS_ADDRESS or log in to the desktop session"
            ) from None
        try:
            collection = secretstorage.get_default_collection(connection)
            if collection.is_locked() and (collection.unlock() or collection.is_locked()):
                raise StoreUnavailable("the keyring is locked; unlock it (log in to the desktop session) and retry")
            return operation(collection)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - D-Bus and the keyring daemon fail in many ways; all mean "not here"
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
            raise StoreAbsent(f"no usable OS keyring ({type(self._backend).__module__})")
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
        self._within("write", lambda: self.backend().set(KEYRING_SERVICE, KEYRING_ACCOUNT, credentials.to_json().decode()))

    def erase(self) -> bool:
        try:
            return bool(self._within("delete", lambda: self.backend().delete(KEYRING_SERVICE, KEYRING_ACCOUNT)))
        except StoreUnavailable:
            return False

    @staticmethod
    def _within(what: str, operation: Callable[[], object]) -> object:
        """Writes may wait on an unlock prompt, so they get longer than a resolve's read, but never forever."""
        from bridge.deadline import TimedOut, run_within

        try:
            return run_within(KEYRING_WRITE_BUDGET_S, operation, f"keyring {what}")
        except TimedOut:
            raise StoreUnavailable(f"the OS keyring did not answer within {KEYRING_WRITE_BUDGET_S:g}s") from None


class SealedFileStore:
    """An AES-256-GCM file bound to this machine and user, for hosts without a keyring."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> Credentials | None:
        from bridge.sealed import Identity, SealError, unseal

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
    notes: tuple[str, ...] = ()
    """One line per store that failed or hung before this one answered."""


def find_credentials(stores: list[CredentialStore], deadline: Deadline | None = None) -> Found:
    """The first store that answers, each given at most STORE_BUDGET_S (less when the deadline is nearer).

    A store that fails, hangs or crashes is skipped with one line, so a broken keyring never hides the sealed
    file or the environment behind it.
    """
    from bridge.deadline import TimedOut, run_within

    skipped: list[str] = []
    notes: list[str] = []
    for store in stores:
        budget = STORE_BUDGET_S if deadline is None else min(STORE_BUDGET_S, deadline.remaining())
        try:
            credentials = run_within(budget, store.get, f"the {store.name} store")
        except StoreAbsent as exc:
            skipped.append(f"{store.name}: {exc}")
            continue
        except TimedOut:
            reason = f"did not answer within {budget:.1f}s"
        except (StoreUnavailable, BridgeError) as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken store is skipped, never a crash of the whole lookup
            reason = f"failed ({type(exc).__name__})"
        else:
            if credentials is not None:
                return Found(credentials, store.name, tuple(notes))
            continue
        skipped.append(f"{store.name}: {reason}")
        notes.append(f"credential store {store.name} skipped: {reason}")
    detail = f" ({'; '.join(skipped)})" if skipped else ""
    raise BridgeError(
        "no Supabase credentials: run `bridge login --url https://<project-ref>.supabase.co`, "
        f"or set {ENV_URL} and {ENV_KEYS[0]}{detail}"
    )
