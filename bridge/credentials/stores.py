"""The stores that hold the bootstrap credentials, and the lookup across them.

Every store has the same three operations, as credential helpers do: get,
store, erase. Lookup order: OS keyring, then the sealed file, then the
environment (for containers). Imports of the keyring and cipher libraries
happen inside the store that needs them, so a resolve pays only for the store
that answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bridge.core.credentials import ENV_KEYS, ENV_PUBLIC_KEYS, ENV_TOKEN, ENV_URL, Credentials
from bridge.core.errors import BridgeError
from bridge.credentials.base import STORE_BUDGET_S, CredentialStore, StoreAbsent, StoreUnavailable

if TYPE_CHECKING:
    from bridge.core.deadline import Deadline

def lookup_order(env: Mapping[str, str], sealed_path: Path) -> list[CredentialStore]:
    from bridge.credentials.env import EnvStore
    from bridge.credentials.os_keyring import KeyringStore
    from bridge.credentials.sealed import SealedFileStore

    return [KeyringStore(env), SealedFileStore(sealed_path), EnvStore(env)]


class FoundCredentials(NamedTuple):
    credentials: Credentials
    source: str
    notes: tuple[str, ...] = ()
    """One line per store that failed or hung before this one answered."""


def find_credentials(stores: list[CredentialStore], deadline: Deadline | None = None) -> FoundCredentials:
    """The first store that answers, each given at most STORE_BUDGET_S (less when the deadline is nearer).

    A store that fails, hangs or crashes is skipped with one line, so a broken keyring never hides the sealed
    file or the environment behind it.
    """
    from bridge.core.deadline import TimedOut, run_within

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
                return FoundCredentials(credentials, store.name, tuple(notes))
            continue
        skipped.append(f"{store.name}: {reason}")
        notes.append(f"credential store {store.name} skipped: {reason}")
    detail = f" ({'; '.join(skipped)})" if skipped else ""
    raise BridgeError(
        "no Supabase credentials: run `bridge login --url https://<project-ref>.supabase.co`, "
        f"or set {ENV_URL} and {ENV_KEYS[0]} (a gateway: {ENV_PUBLIC_KEYS[0]} and {ENV_TOKEN}){detail}"
    )
