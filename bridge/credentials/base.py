"""What every credential store is, and how it fails: the one module the stores and their lookup both import,
so no store imports the lookup that lists it."""

from __future__ import annotations

from typing import Protocol

from bridge.core.credentials import Credentials

STORE_BUDGET_S = 1.5
"""Longest wait for one store: a session bus that accepts and never answers must not eat the gateway's 5 s."""


class StoreUnavailable(Exception):
    """This store failed here (keyring refused, locked or broken); the lookup notes it in one line and moves on."""


class StoreAbsent(StoreUnavailable):
    """This store does not exist here at all (no D-Bus session): the lookup moves on without a note."""


class CredentialStore(Protocol):
    name: str

    def get(self) -> Credentials | None: ...

    def store(self, credentials: Credentials) -> None: ...

    def erase(self) -> bool: ...
