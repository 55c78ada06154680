"""The sealed credentials file: bound to machine and user, authenticated, private, written atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bridge.core.credentials import Credentials
from bridge.core.errors import BridgeError
from bridge.credentials.sealed import HEADER_BYTES, SealedFileStore, SealError, seal, unseal
from bridge.local.files import atomic_write
from bridge.local.identity import Identity

HERE = Identity(machine_id="0123456789abcdef0123456789abcdef", user="alice")
KEY = "sb_secret_SEALEDKEY0123456789abcdef"


def test_round_trip_and_fresh_salt_and_nonce_each_time() -> None:
    first, second = seal(b"payload", HERE), seal(b"payload", HERE)
    assert first != second
    assert unseal(first, HERE) == unseal(second, HERE) == b"payload"
    assert b"payload" not in first


@pytest.mark.parametrize("position", [0, 4, 5, 20, HEADER_BYTES - 1, HEADER_BYTES, -1])
def test_any_flipped_byte_is_refused(position: int) -> None:
    blob = bytearray(seal(b"payload", HERE))
    blob[position] ^= 0x01
    with pytest.raises(SealError):
        unseal(bytes(blob), HERE)


def test_truncated_is_refused() -> None:
    blob = seal(b"payload", HERE)
    for cut in (0, 10, HEADER_BYTES, len(blob) - 1):
        with pytest.raises(SealError):
            unseal(blob[:cut], HERE)


def test_another_machine_or_user_cannot_open_it() -> None:
    blob = seal(b"payload", HERE)
    with pytest.raises(SealError, match="another machine or for another user"):
        unseal(blob, Identity(machine_id="fedcba9876543210fedcba9876543210", user="alice"))
    with pytest.raises(SealError, match="another machine or for another user"):
        unseal(blob, Identity(machine_id=HERE.machine_id, user="mallory"))


def test_store_writes_0600_in_0700_dir_and_never_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "profile" / "credentials.sealed"
    store = SealedFileStore(path)
    store.store(Credentials("https://abcd.supabase.co", KEY))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert KEY.encode() not in raw and b"supabase.co" not in raw
    assert store.get() == Credentials("https://abcd.supabase.co", KEY)
    assert [p.name for p in path.parent.iterdir()] == ["credentials.sealed"]
    assert store.erase() and not path.exists() and not store.erase()


def test_tampered_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    store = SealedFileStore(tmp_path / "credentials.sealed")
    store.store(Credentials("https://abcd.supabase.co", KEY))
    blob = bytearray(store.path.read_bytes())
    blob[-5] ^= 0x80
    store.path.write_bytes(bytes(blob))
    with pytest.raises(BridgeError, match="run `bridge login` on this machine") as raised:
        store.get()
    assert KEY not in str(raised.value)


def test_symlinked_sealed_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.sealed"
    SealedFileStore(real).store(Credentials("https://abcd.supabase.co", KEY))
    link = tmp_path / "credentials.sealed"
    link.symlink_to(real)
    with pytest.raises(OSError):
        SealedFileStore(link).get()


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f"]


def test_identity_without_a_machine_id_is_a_clear_error(tmp_path: Path) -> None:
    from bridge.core.errors import IdentityUnavailable

    empty = tmp_path / "machine-id"
    empty.write_text("\n")
    with pytest.raises(IdentityUnavailable, match=r"no machine id in .*machine-id or .*missing; run systemd-machine-id-setup"):
        Identity.current((empty, tmp_path / "missing"))
    present = tmp_path / "other-id"
    present.write_text("abc123\n")
    assert Identity.current((empty, present)).machine_id == "abc123"
