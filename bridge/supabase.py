"""PostgREST RPC calls to a Supabase project: key handling, one POST per call, errors people can act on.

Key handling follows Supabase: a legacy service_role JWT goes in both
`apikey` and `Authorization: Bearer`; a new `sb_secret_...` key goes in
`apikey` only. The User-Agent names the bridge (the platform refuses secret
keys from browser-like agents), and X-Bridge-Host / X-Bridge-Provider let the
audit log record who resolved.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge import __version__
from bridge.credentials import Credentials
from bridge.errors import BridgeError

USER_AGENT = f"openclaw-supabase-bridge/{__version__}"
MAX_ATTEMPTS = 3
MIN_ATTEMPT_S = 0.2
"""An attempt with less time left than this is not started."""
BACKOFF_BASE_S = 0.1
MAX_ERROR_TEXT = 200

LEGACY_JWT = "legacy service_role JWT"
SECRET_KEY = "secret key (sb_secret_)"


class SupabaseError(BridgeError):
    """Supabase answered, and the answer is final (bad key, missing grants, setup.sql not installed)."""


class SupabaseUnavailable(BridgeError):
    """Supabase could not answer: network, TLS, timeout, 5xx or an unreadable body. Worth a retry or the cache."""


class SetupMissing(SupabaseError):
    """PostgREST has no such function (PGRST202): setup.sql is not installed in this project."""


class NotFound(SupabaseError):
    """The function raised PT404: no secret with that name or id."""


def classify_key(key: str) -> str:
    """Which kind of key this is; refuses keys that cannot read Vault."""
    if key.startswith("sb_secret_"):
        return SECRET_KEY
    if key.startswith("sb_publishable_"):
        raise BridgeError("that is a publishable key, which cannot read Vault; use the project's secret key (sb_secret_...)")
    parts = key.split(".")
    if key.startswith("eyJ") and len(parts) == 3:
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise BridgeError("the key looks like a JWT but its payload is unreadable; copy the key again")
        if claims.get("role") != "service_role":
            raise BridgeError(
                f"that JWT has role {claims.get('role')!r}; the bridge needs the service_role key or a secret key (sb_secret_...)"
            )
        return LEGACY_JWT
    raise BridgeError("unrecognised key: use the project's secret key (sb_secret_...) or its legacy service_role key (eyJ...)")


def request_headers(credentials: Credentials, provider: str, host: str) -> dict[str, str]:
    headers = {
        "apikey": credentials.key,
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": USER_AGENT,
        "x-bridge-host": host,
        "x-bridge-provider": provider,
    }
    if classify_key(credentials.key) == LEGACY_JWT:
        headers["authorization"] = f"Bearer {credentials.key}"
    return headers


@dataclass(frozen=True)
class Deadline:
    """A point in time every network step must fit before."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> "Deadline":
        return cls(at=clock() + seconds, clock=clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:MAX_ERROR_TEXT]


def error_for(status: int, body: bytes, function: str) -> BridgeError:
    """Turn a PostgREST error response into a message naming the cause and the fix."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        doc = {}
    code = _one_line(doc.get("code") or "")
    message = _one_line(doc.get("message") or "")
    if status >= 500:
        return SupabaseUnavailable(f"Supabase is unavailable (HTTP {status}{', ' + code if code else ''}); try again shortly")
    if status == 401:
        return SupabaseError(
            f"Supabase rejected the key (HTTP 401{': ' + message if message else ''}); "
            "run `bridge login` with the project's secret or service_role key"
        )
    if status == 403 or code == "42501":
        return SupabaseError(
            f"permission denied for {function} (HTTP {status}): the key is not service_role, "
            "or setup.sql's grants are missing; re-run setup.sql in the Supabase SQL editor"
        )
    if status == 404 and code.startswith("PGRST"):
        return SetupMissing(
            f"setup.sql is not installed: Supabase has no function public.{function}; "
            "paste setup.sql into the Supabase SQL editor and run it"
        )
    if status == 404:
        return NotFound(message or "not found")
    return SupabaseError(f"Supabase refused {function} (HTTP {status}{', ' + code if code else ''}): {message or 'no message'}")


class Rpc:
    """One client per process. Calls retry only transport failures and 5xx, with jitter, and only while the deadline allows."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        provider: str,
        host: str,
        connect_timeout: float,
        read_timeout: float,
        deadline: Deadline,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self._httpx = httpx
        self._base = f"{credentials.url}/rest/v1/rpc/"
        self._headers = request_headers(credentials, provider, host)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._sleep = sleep
        self._client = httpx.Client(verify=_tls_context(credentials.url), follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def call(self, function: str, args: dict[str, Any]) -> Any:
        body = json.dumps(args).encode()
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
                return self._attempt(function, body, left)
            except SupabaseUnavailable as exc:
                last = exc
        raise last or SupabaseUnavailable(f"no time left to call Supabase within the {function} deadline")

    def _attempt(self, function: str, body: bytes, left: float) -> Any:
        httpx = self._httpx
        timeout = httpx.Timeout(
            connect=min(self._connect_timeout, left), read=min(self._read_timeout, left),
            write=min(self._read_timeout, left), pool=left,
        )
        try:
            response = self._client.post(self._base + function, content=body, headers=self._headers, timeout=timeout)
        except httpx.TimeoutException:
            raise SupabaseUnavailable(f"Supabase did not answer in time (calling {function})") from None
        except httpx.TransportError as exc:
            raise SupabaseUnavailable(f"cannot reach Supabase: {_transport_reason(exc)}") from None
        if response.status_code == 204:
            return None
        if response.status_code >= 300:
            raise error_for(response.status_code, response.content, function)
        try:
            return json.loads(response.content)
        except ValueError:
            raise SupabaseUnavailable(f"unreadable answer from Supabase (HTTP {response.status_code}, not JSON)") from None


def _transport_reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return "TLS verification failed (check the URL, or the system clock and CA certificates)"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve (check the URL)"
    if "Connection refused" in text:
        return "connection refused"
    return type(exc).__name__


def _tls_context(url: str) -> Any:
    """A verifying TLS context; for plain-http URLs (localhost only) a CA-less one that can never trust a certificate."""
    import ssl

    if url.startswith("https://"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
