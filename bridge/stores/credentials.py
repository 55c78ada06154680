"""Bootstrap credentials (Supabase URL + key) and the stores that hold them.

Every store has the same three operations, as credential helpers do: get,
store, erase. Lookup order: OS keyring, then the sealed file, then the
environment (for containers). Imports of the keyring and cipher libraries
happen inside the store that needs them, so a resolve pays only for the store
that answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import urlsplit

from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.deadline import Deadline

ENV_URL = "SUPABASE_URL"
ENV_KEYS = ("SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY")
ENV_PUBLIC_KEYS = ("SUPABASE_PUBLISHABLE_KEY", "SUPABASE_ANON_KEY")
ENV_TOKEN = "BRIDGE_GATEWAY_TOKEN"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
STORE_BUDGET_S = 1.5
"""Longest wait for one store: a session bus that accepts and never answers must not eat the gateway's 5 s."""


class Credentials(NamedTuple):
    """The project URL and a key: the project's secret key (admin), or its publishable key plus a gateway token,
    which resolves only its own tenant's allowed names."""

    url: str
    key: str
    token: str = ""

    def __repr__(self) -> str:
        token = f", token={redact_key(self.token)!r}" if self.token else ""
        return f"Credentials(url={self.url!r}, key={redact_key(self.key)!r}{token})"

    def to_json(self) -> bytes:
        doc = {"url": self.url, "key": self.key, **({"token": self.token} if self.token else {})}
        return json.dumps(doc).encode()

    @classmethod
    def from_json(cls, raw: bytes | str, where: str) -> Credentials:
        try:
            doc = json.loads(raw)
            return cls(url=normalize_url(doc["url"]), key=str(doc["key"]), token=str(doc.get("token") or ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BridgeError(f"credentials in {where} are unreadable; run `bridge login` again") from None


def redact_key(key: str) -> str:
    """Enough of a key to recognise it (its prefix and last 4 characters), never enough to use it."""
    prefix = next((p for p in ("sb_secret_", "sb_publishable_", "ocbt_") if key.startswith(p)), key[:3])
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


def lookup_order(env: Mapping[str, str], sealed_path: Path) -> list[CredentialStore]:
    from bridge.stores.env import EnvStore
    from bridge.stores.os_keyring import KeyringStore
    from bridge.stores.sealed import SealedFileStore

    return [KeyringStore(env), SealedFileStore(sealed_path), EnvStore(env)]


class Found(NamedTuple):
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
        f"or set {ENV_URL} and {ENV_KEYS[0]} (a gateway: {ENV_PUBLIC_KEYS[0]} and {ENV_TOKEN}){detail}"
    )
