"""The OS keyring as a credential store: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from bridge.core.credentials import Credentials
from bridge.credentials.base import StoreAbsent, StoreUnavailable

KEYRING_SERVICE = "openclaw-supabase-bridge"
KEYRING_ACCOUNT = "default"
KEYRING_WRITE_BUDGET_S = 10.0


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

        value: str | None = self._run("read", read)
        return value

    def set(self, service: str, account: str, secret: str) -> None:
        attributes = {"application": "Python keyring library", "service": service, "username": account}
        self._run("write", lambda c: c.create_item(f"Password for '{account}' on '{service}'", attributes, secret.encode(), replace=True))

    def delete(self, service: str, account: str) -> bool:
        def remove(collection: Any) -> bool:
            items = list(collection.search_items({"service": service, "username": account}))
            for item in items:
                item.delete()
            return bool(items)

        return bool(self._run("delete", remove))


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
        value = self._run("read", lambda: self._backend.get_password(service, account))
        return None if value is None else str(value)

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
        self.within("write", lambda: self.backend().set(KEYRING_SERVICE, KEYRING_ACCOUNT, credentials.to_json().decode()))

    def erase(self) -> bool:
        try:
            return bool(self.within("delete", lambda: self.backend().delete(KEYRING_SERVICE, KEYRING_ACCOUNT)))
        except StoreUnavailable:
            return False

    @staticmethod
    def within(what: str, operation: Callable[[], object]) -> object:
        """Writes may wait on an unlock prompt, so they get longer than a resolve's read, but never forever."""
        from bridge.core.deadline import TimedOut, run_within

        try:
            return run_within(KEYRING_WRITE_BUDGET_S, operation, f"keyring {what}")
        except TimedOut:
            raise StoreUnavailable(f"the OS keyring did not answer within {KEYRING_WRITE_BUDGET_S:g}s") from None
