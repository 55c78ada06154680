"""Where the Supabase personal access token (sbp_...) lives: the environment, as the Supabase CLI reads it, else
the same stores as the bridge's credentials (the OS keyring, else a sealed file bound to this machine and user).

The token opens the Management API for every project the account can reach,
so it is kept apart from the project key: its own keyring entry and its own
sealed file, erased by `bridge logout` with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from bridge.core.credentials import ENV_ACCESS_TOKEN
from bridge.core.deadline import TimedOut, run_within
from bridge.core.errors import BridgeError
from bridge.core.keys import ACCESS_TOKEN_PREFIX
from bridge.credentials.base import STORE_BUDGET_S, StoreAbsent, StoreUnavailable
from bridge.credentials.os_keyring import KEYRING_SERVICE, KeyringStore
from bridge.credentials.sealed import MAX_SEALED_BYTES, SealError, seal, unseal
from bridge.local.files import FileTooLarge, atomic_write, read_private
from bridge.local.identity import Identity
from bridge.local.paths import ACCESS_TOKEN_FILE

ACCESS_TOKEN_ACCOUNT = "supabase-access-token"
SEALED_NAME = ACCESS_TOKEN_FILE
MAX_TOKEN_CHARS = 512


class FoundToken(NamedTuple):
    token: str
    source: str


def check_access_token(token: str) -> str:
    token = token.strip()
    if not token.startswith(ACCESS_TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS or any(not 0x20 < ord(c) < 0x7F for c in token):
        raise BridgeError(
            f"that is not a Supabase personal access token ({ACCESS_TOKEN_PREFIX}...); create one at "
            "https://supabase.com/dashboard/account/tokens"
        )
    return token


def sealed_path(data_dir: Path) -> Path:
    return data_dir / SEALED_NAME


def find_access_token(env: Mapping[str, str], data_dir: Path) -> FoundToken:
    """SUPABASE_ACCESS_TOKEN, else the keyring, else the sealed file; one line naming the fix when none has it."""
    from_env = env.get(ENV_ACCESS_TOKEN, "").strip()
    if from_env:
        return FoundToken(check_access_token(from_env), "env")
    notes: list[str] = []
    try:
        # Bounded as every store read is: a session bus that never answers must not hold `bridge watch`.
        stored = run_within(STORE_BUDGET_S, lambda: KeyringStore(env).backend().get(KEYRING_SERVICE, ACCESS_TOKEN_ACCOUNT),
                            "the keyring store")
        if stored:
            return FoundToken(check_access_token(stored), "keyring")
    except StoreAbsent:
        pass
    except StoreUnavailable as exc:
        notes.append(f"keyring: {exc}")
    except TimedOut:
        notes.append(f"keyring: did not answer within {STORE_BUDGET_S:g}s")
    path = sealed_path(data_dir)
    try:
        blob = read_private(path, MAX_SEALED_BYTES)
    except FileTooLarge as exc:
        raise BridgeError(f"{exc}; run `bridge login --access-token` again") from None
    if blob is not None:
        try:
            return FoundToken(check_access_token(unseal(blob, Identity.current()).decode()), "file")
        except (SealError, UnicodeDecodeError) as exc:
            raise BridgeError(f"cannot open {path}: {exc}; run `bridge login --access-token` on this machine") from None
    detail = f" ({'; '.join(notes)})" if notes else ""
    raise BridgeError(
        f"no Supabase access token: set {ENV_ACCESS_TOKEN} or run `bridge login --access-token` "
        f"(create a token at https://supabase.com/dashboard/account/tokens){detail}"
    )


def store_access_token(token: str, env: Mapping[str, str], data_dir: Path, store: str | None) -> str:
    """Into the keyring (or the sealed file with `store="file"`, or when no keyring works); where it went."""
    if store != "file":
        try:
            KeyringStore.within("write", lambda: KeyringStore(env).backend().set(KEYRING_SERVICE, ACCESS_TOKEN_ACCOUNT, token))
        except StoreUnavailable as exc:
            if store == "keyring":
                raise BridgeError(f"cannot use the OS keyring: {exc}; use `--store file` on headless hosts") from None
        else:
            sealed_path(data_dir).unlink(missing_ok=True)
            return "OS keyring"
    atomic_write(sealed_path(data_dir), seal(token.encode(), Identity.current()))
    return f"sealed file {sealed_path(data_dir)}"


def erase_access_token(env: Mapping[str, str], data_dir: Path) -> list[str]:
    removed: list[str] = []
    try:
        if KeyringStore.within("delete", lambda: KeyringStore(env).backend().delete(KEYRING_SERVICE, ACCESS_TOKEN_ACCOUNT)):
            removed.append("OS keyring")
    except StoreUnavailable:
        pass
    try:
        sealed_path(data_dir).unlink()
        removed.append(f"sealed file {sealed_path(data_dir)}")
    except FileNotFoundError:
        pass
    return removed
