"""A Slack-style incoming webhook: one JSON POST to a URL that is itself the credential.

The URL is never shown: messages name "the notification webhook" and, at
most, an HTTP status. Nothing is sent to any other host (no redirect is
followed), and plain http is allowed only to this machine.
"""

from __future__ import annotations

import json

from bridge.core.errors import BridgeError
from bridge.remote.http import RemoteUnavailable, check_outbound, send

WHAT = "the notification webhook"


def check_webhook_url(url: str) -> None:
    """The URL read from Vault, held to https (or loopback http); the error never quotes it."""
    check_outbound(url, f"{WHAT} URL (the Vault secret [notify] webhook names)")


def post(url: str, payload: dict[str, object], seconds: float) -> int:
    """POST the payload; the status on 2xx, else a one-line error with the status only."""
    check_webhook_url(url)
    answer = send("POST", url, {"Content-Type": "application/json"}, json.dumps(payload).encode(), seconds, WHAT)
    if 200 <= answer.status < 300:
        return answer.status
    if answer.status == 429 or answer.status >= 500:
        raise RemoteUnavailable(f"{WHAT} answered HTTP {answer.status}; the message is kept and sent again later")
    raise BridgeError(f"{WHAT} refused the message (HTTP {answer.status}); check the URL stored in Vault")
