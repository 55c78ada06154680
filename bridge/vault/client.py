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
import re
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from bridge import __version__
from bridge.credentials import Credentials
from bridge.deadline import Deadline
from bridge.errors import BridgeError

USER_AGENT = f"openclaw-supabase-bridge/{__version__}"
MAX_ATTEMPTS = 3
MIN_ATTEMPT_S = 0.2
"""An attempt with less time left than this is not started."""
BACKOFF_BASE_S = 0.1
MAX_ERROR_TEXT = 200
MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""Largest body read from Supabase, after decompression: 512 values that could still be answered fit many times
over, and a hostile or endless body stops here instead of growing memory without bound."""
MAX_HEADER_CHARS = 255
REDACTED = "[REDACTED]"
LEAK_WINDOW = 16
"""A server message holding any run of this many characters of the key is withheld whole."""
_KEY_SHAPES = re.compile(r"sb_secret_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_GZIP_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}

LEGACY_JWT = "legacy service_role JWT"
SECRET_KEY = "secret key (sb_secret_)"


class SupabaseError(BridgeError):
    """Supabase answered, and the answer is final (bad key, missing grants, setup.sql not installed)."""


class SupabaseUnavailable(BridgeError):
    """Supabase could not answer: network, TLS, timeout, 5xx or an unreadable body. Worth a retry or the cache."""


class AnswerTooLarge(SupabaseUnavailable):
    """The body passed MAX_ANSWER_BYTES, compressed or not."""


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


def header_value(text: str) -> str:
    """Any string as a safe header value: percent-encoded outside printable ASCII, so a non-ASCII host name or a
    provider name with a newline can neither crash the request nor inject a header."""
    return quote(text, safe="-._~:/@+=,;!*'()[]")[:MAX_HEADER_CHARS]


def request_headers(credentials: Credentials, provider: str, host: str) -> dict[str, str]:
    headers = {
        "apikey": credentials.key,
        "content-type": "application/json",
        "accept": "application/json",
        "accept-encoding": "identity",
        "user-agent": USER_AGENT,
        "x-bridge-host": header_value(host),
        "x-bridge-provider": header_value(provider),
    }
    if classify_key(credentials.key) == LEGACY_JWT:
        headers["authorization"] = f"Bearer {credentials.key}"
    return headers


def scrub(text: str, secret: str) -> str:
    """Server text with the credentials taken out: a proxy that echoes the request's apikey must not put it on
    stderr or into errors. Key-shaped strings go too, and a text still holding part of the key is withheld whole."""
    if secret:
        text = text.replace(secret, REDACTED)
    text = _KEY_SHAPES.sub(REDACTED, text)
    if secret and any(secret[i : i + LEAK_WINDOW] in text for i in range(max(1, len(secret) - LEAK_WINDOW + 1))):
        return "[message withheld: it quoted the credentials]"
    return text


def _server_text(value: object, secret: str) -> str:
    """A field of a server's error body as one short, credential-free line; redacted before it is cut, so a cut
    can never leave a fragment of the key behind."""
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value)
    return " ".join(scrub(text[: MAX_ERROR_TEXT * 4], secret).split())[:MAX_ERROR_TEXT]


def parse_json(raw: bytes) -> Any:
    """JSON from a server, or ValueError: nesting past the interpreter's recursion limit is refused, not a crash."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def read_capped(chunks: Iterable[bytes], limit: int = MAX_ANSWER_BYTES) -> bytes:
    """At most `limit` bytes from a stream; AnswerTooLarge past that, without reading the rest."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(f"answer from Supabase is larger than {limit // (1024 * 1024)} MiB; refused")
        parts.append(chunk)
    return b"".join(parts)


def decode_body(raw: bytes, content_encoding: str, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The body as sent before compression, never more than `limit` bytes of it: a compression bomb stops there."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in _GZIP_WBITS:
        raise SupabaseUnavailable(f"unsupported Content-Encoding {header_value(encoding)!r} from Supabase")
    decoder = zlib.decompressobj(_GZIP_WBITS[encoding])
    try:
        out = decoder.decompress(raw, limit + 1)
    except zlib.error:
        raise SupabaseUnavailable("unreadable answer from Supabase (corrupt compressed body)") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise AnswerTooLarge(f"answer from Supabase is larger than {limit // (1024 * 1024)} MiB once decompressed; refused")
    return out


def error_for(status: int, body: bytes, function: str, secret: str = "") -> BridgeError:
    """Turn a PostgREST error response into a message naming the cause and the fix; never with the credentials."""
    try:
        doc = parse_json(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        doc = {}
    code = _server_text(doc.get("code"), secret)
    message = _server_text(doc.get("message"), secret)
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
        self._secret = credentials.key
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
            with self._client.stream(
                "POST", self._base + function, content=body, headers=self._headers, timeout=timeout
            ) as response:
                status = response.status_code
                raw = read_capped(response.iter_raw())
                encoding = response.headers.get("content-encoding", "")
        except httpx.TimeoutException:
            raise SupabaseUnavailable(f"Supabase did not answer in time (calling {function})") from None
        except httpx.HTTPError as exc:
            raise SupabaseUnavailable(f"cannot reach Supabase: {_transport_reason(exc)}") from None
        content = decode_body(raw, encoding)
        if status == 204:
            return None
        if status >= 300:
            raise error_for(status, content, function, self._secret)
        try:
            return parse_json(content)
        except ValueError:
            raise SupabaseUnavailable(f"unreadable answer from Supabase (HTTP {status}, not JSON)") from None


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
