"""What every admin verb starts with: a Vault client over the stored credentials, with a deadline a person can wait for."""

from __future__ import annotations

import socket

from bridge.app.context import Context
from bridge.vault.admin_api import AdminApi
from bridge.vault.client import connect

ADMIN_PROVIDER = "admin"
"""Recorded in the audit log's client.provider for calls made by these verbs."""


def open_client(ctx: Context) -> AdminApi:
    """The project the bridge is logged in to (keyring, sealed file or environment), over httpx."""
    found = ctx.credentials()
    return AdminApi(connect(
        found.credentials, provider=ADMIN_PROVIDER, host=socket.gethostname(), connect_timeout=5.0,
        read_timeout=20.0, deadline=ctx.admin_deadline(),
    ))
