"""The Supabase side of the bridge: typed calls to setup.sql's functions through PostgREST.

One client per process, usable as a context manager so a long-running caller
closes what it opened. Calls retry only transport failures and 5xx, with
jitter, and only while the deadline allows; every answer is read through the
bounded decoder, and every error names its cause and fix without the key.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, NamedTuple

from bridge.core.credentials import Credentials
from bridge.core.deadline import Deadline, TimedOut, run_within
from bridge.core.errors import BridgeError
from bridge.vault.body import decode_body
from bridge.vault.errors import SupabaseUnavailable, error_for, parse_json
from bridge.vault.keys import request_headers
from bridge.vault.transport import RawAnswer, Transport

MAX_ATTEMPTS = 3
MIN_ATTEMPT_S = 0.2
"""An attempt with less time left than this is not started."""
BACKOFF_BASE_S = 0.1
RESOLVE_FUNCTION = "resolve_secrets"
TOKEN_RESOLVE_FUNCTION = "resolve_secrets_with_token"
VERSION_FUNCTION = "vault_bridge_version"
CHANGES_FUNCTION = "changed_secrets"
TOKEN_CHANGES_FUNCTION = "changed_secrets_with_token"


class Changes(NamedTuple):
    """What the change feed says of the names asked about since a server time."""

    now: str
    """The server's time, to pass as `since` next."""
    changed: dict[str, str]
    """Name -> when its value last changed, for each name changed since then (a little earlier too: see setup.sql's
    change_settle(); the caller tells a change it has seen by its time)."""
    gone: list[str]
    """Names that no longer resolve: deleted, expired, or (with a token) not the token's to read."""


class VaultClient:
    def __init__(
        self,
        credentials: Credentials,
        transport: Transport,
        *,
        provider: str,
        host: str,
        connect_timeout: float,
        read_timeout: float,
        deadline: Deadline,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rest = f"{credentials.url}/rest/v1/"
        self._secret = credentials.token or credentials.key
        self._token = credentials.token
        self._headers = request_headers(credentials, provider, host)
        self._transport = transport
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._sleep = sleep

    def __enter__(self) -> VaultClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def resolve_secrets(self, names: list[str]) -> dict[str, object]:
        """{name: value} for the names that exist (with a gateway token: of its tenant, that it may read); the caller
        checks each value (a bad one fails only its ids). Still one call either way."""
        if self._token:
            function, args = TOKEN_RESOLVE_FUNCTION, {"p_token": self._token, "p_names": names}
        else:
            function, args = RESOLVE_FUNCTION, {"p_names": names}
        answer = self.call(function, args)
        if not isinstance(answer, dict):
            raise SupabaseUnavailable(f"unexpected answer from {function}; re-run setup.sql to update it")
        return answer

    def changes(self, names: list[str], since: str | None) -> Changes:
        """One call, no value: which of `names` changed since the server time `since` (None: all that exist)."""
        if self._token:
            function, args = TOKEN_CHANGES_FUNCTION, {"p_token": self._token, "p_names": names, "p_since": since}
        else:
            function, args = CHANGES_FUNCTION, {"p_names": names, "p_since": since}
        answer = self.call(function, args)
        try:
            changed = {str(c["name"]): str(c["changed_at"]) for c in answer["changed"]}
            return Changes(now=str(answer["now"]), changed=changed, gone=[str(n) for n in answer["gone"]])
        except (TypeError, KeyError):
            raise SupabaseUnavailable(f"unexpected answer from {function}; re-run setup.sql to update it") from None

    def version(self) -> object:
        """The installed setup.sql schema version, as the server says it (the caller compares)."""
        return self.call(VERSION_FUNCTION, {})

    def call(self, function: str, args: dict[str, Any]) -> Any:
        """POST /rest/v1/rpc/<function> with named arguments; the decoded JSON answer, None for 204."""
        return self._request("POST", f"rpc/{function}", json.dumps(args).encode(), function)

    def _request(self, method: str, path: str, body: bytes | None, what: str) -> Any:
        last: BridgeError | None = None
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                delay = random.uniform(0, BACKOFF_BASE_S * 2**attempt)
                if self._deadline.remaining() - delay < MIN_ATTEMPT_S:
                    break
                self._sleep(delay)
            left = self._deadline.remaining()
            if left < MIN_ATTEMPT_S:
                break
            try:
                raw = self._send_within(left, method, path, body, what)
                return self._decode(raw, what)
            except SupabaseUnavailable as exc:
                last = exc
        raise last or SupabaseUnavailable(f"no time left to call Supabase within the {what} deadline")

    def _send_within(self, left: float, method: str, path: str, body: bytes | None, what: str) -> RawAnswer:
        """One attempt, bounded as a whole: the transports' timeouts apply per read, so a server that trickles
        a byte at a time would otherwise hold the call for as long as it likes."""

        def send() -> RawAnswer:
            return self._transport.send(
                method, self._rest + path, self._headers, body,
                min(self._connect_timeout, left), min(self._read_timeout, left),
            )

        try:
            return run_within(left, send, what)
        except TimedOut:
            raise SupabaseUnavailable(
                f"Supabase did not answer within the deadline (calling {what}; it was still sending); "
                "try again, or run `bridge doctor`"
            ) from None

    def _decode(self, raw: RawAnswer, what: str) -> Any:
        content = decode_body(raw.body, raw.content_encoding)
        if raw.status == 204:
            return None
        if raw.status >= 300:
            raise error_for(raw.status, content, what, self._secret)
        try:
            return parse_json(content)
        except ValueError:
            raise SupabaseUnavailable(f"unreadable answer from Supabase (HTTP {raw.status}, not JSON)") from None


def connect(
    credentials: Credentials, *, provider: str, host: str, connect_timeout: float, read_timeout: float,
    deadline: Deadline, lean: bool = False,
) -> VaultClient:
    """A client over httpx, or with `lean` over the stdlib transport that `bridge resolve` uses."""
    from bridge.vault.transport import HttpxTransport, StdlibTransport

    transport: Transport = StdlibTransport(credentials.url) if lean else HttpxTransport(credentials.url)
    return VaultClient(
        credentials, transport, provider=provider, host=host, connect_timeout=connect_timeout,
        read_timeout=read_timeout, deadline=deadline,
    )
