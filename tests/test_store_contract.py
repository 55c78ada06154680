"""One contract, every credential store: what `bridge login`, `logout` and the lookup rely on from each of them.

As keyring's own backend tests do, the same assertions run against every
backend: the real GNOME Keyring in a private D-Bus session, the sealed file,
and the read-only environment. A new store gets these tests by being listed in
WRITABLE or READ_ONLY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge.core.credentials import Credentials
from bridge.core.errors import BridgeError
from bridge.credentials.base import CredentialStore
from bridge.credentials.env import EnvStore
from bridge.credentials.os_keyring import KeyringStore
from bridge.credentials.sealed import SealedFileStore

ADMIN = Credentials(url="https://abcd.supabase.co", key="sb_secret_CONTRACT-admin-0001")
GATEWAY = Credentials(url="https://abcd.supabase.co", key="sb_publishable_CONTRACT", token="ocbt_" + "C" * 43)


@pytest.fixture
def keyring_store(keyring_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> KeyringStore:
    # secretstorage reads the session bus address from the process environment.
    for name, value in keyring_env.items():
        monkeypatch.setenv(name, value)
    return KeyringStore(keyring_env)


@pytest.fixture
def sealed_store(tmp_path: Path) -> SealedFileStore:
    home = tmp_path / "sealed"
    home.mkdir(mode=0o700)
    return SealedFileStore(home / "credentials.sealed")


@pytest.fixture(params=["keyring_store", "sealed_store"])
def writable(request: pytest.FixtureRequest) -> Iterator[CredentialStore]:
    store: CredentialStore = request.getfixturevalue(request.param)
    yield store
    store.erase()


def test_an_empty_store_has_nothing_and_erasing_it_is_a_no_op(writable: CredentialStore) -> None:
    assert writable.get() is None
    assert writable.erase() is False


@pytest.mark.parametrize("credentials", [ADMIN, GATEWAY], ids=["secret key", "gateway token"])
def test_what_is_stored_is_what_is_read_back(writable: CredentialStore, credentials: Credentials) -> None:
    writable.store(credentials)
    assert writable.get() == credentials


def test_storing_again_replaces_and_erasing_removes(writable: CredentialStore) -> None:
    writable.store(ADMIN)
    writable.store(GATEWAY)
    assert writable.get() == GATEWAY
    assert writable.erase() is True
    assert writable.get() is None
    assert writable.erase() is False


READ_ONLY: dict[str, Callable[[Credentials], CredentialStore]] = {
    "env": lambda c: EnvStore(
        {"SUPABASE_URL": c.url, **({"SUPABASE_PUBLISHABLE_KEY": c.key, "BRIDGE_GATEWAY_TOKEN": c.token} if c.token
                                   else {"SUPABASE_SECRET_KEY": c.key})}
    ),
}


@pytest.mark.parametrize("make", READ_ONLY.values(), ids=READ_ONLY.keys())
@pytest.mark.parametrize("credentials", [ADMIN, GATEWAY], ids=["secret key", "gateway token"])
def test_a_read_only_store_reads_refuses_writes_in_one_line_and_erases_nothing(
    make: Callable[[Credentials], CredentialStore], credentials: Credentials
) -> None:
    store = make(credentials)
    assert store.get() == credentials
    with pytest.raises(BridgeError) as refused:
        store.store(ADMIN)
    assert "\n" not in str(refused.value) and ADMIN.key not in str(refused.value)
    assert store.erase() is False
    assert store.get() == credentials


@pytest.mark.parametrize("credentials", [ADMIN, GATEWAY], ids=["secret key", "gateway token"])
def test_no_store_shows_a_key_in_its_values_repr(credentials: Credentials) -> None:
    shown = repr(credentials)
    assert credentials.key not in shown and (not credentials.token or credentials.token not in shown)
