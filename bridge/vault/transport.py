"""How one HTTP request reaches Supabase: a small interface and two implementations.

`StdlibTransport` (http.client + ssl) is what `bridge resolve` uses: importing
httpx and httpcore cost ~45 ms of every cold start, more than the whole
stdlib baseline. `HttpxTransport` serves the admin verbs and keeps respx's
contract tests meaningful. Both verify TLS against the same roots (certifi's
bundle, which httpx uses too; bridge.local.network), send nothing to proxies,
follow no redirects, cap the body at MAX_ANSWER_BYTES while reading it, and
turn every transport failure into SupabaseUnavailable with a reason a person
can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import urlsplit

from bridge.local.network import tls_context, transport_reason
from bridge.vault.body import MAX_ANSWER_BYTES, read_capped
from bridge.vault.errors import SupabaseUnavailable

if TYPE_CHECKING:
    import ssl

READ_CHUNK_BYTES = 64 * 1024


class RawAnswer(NamedTuple):
    """A response as it came off the wire: status, Content-Encoding, and the body not yet decompressed."""

    status: int
    content_encoding: str
    body: bytes


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        connect_timeout: float, read_timeout: float,
    ) -> RawAnswer: ...

    def close(self) -> None: ...


def _called(url: str) -> str:
    """The function or table a URL names, for messages."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


class StdlibTransport:
    """One connection per request, as a resolve makes one request: nothing to pool, nothing to import."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._context: ssl.SSLContext | None = tls_context(base_url) if self._https else None

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        connect_timeout: float, read_timeout: float,
    ) -> RawAnswer:
        import http.client

        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=connect_timeout, context=self._context)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=connect_timeout)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(read_timeout)
            conn.request(method, target, body=body, headers=dict(headers))
            response = conn.getresponse()
            raw = read_capped(iter(lambda: response.read(READ_CHUNK_BYTES), b""), MAX_ANSWER_BYTES)
            return RawAnswer(response.status, response.getheader("content-encoding") or "", raw)
        except TimeoutError:
            raise SupabaseUnavailable(f"Supabase did not answer in time (calling {_called(url)})") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise SupabaseUnavailable(f"cannot reach Supabase: {transport_reason(exc)}") from None
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing is kept open between requests."""


class HttpxTransport:
    """httpx, for the admin verbs: a pooled client, and the transport respx pins the HTTP contract on."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self._httpx = httpx
        self._client = httpx.Client(verify=tls_context(base_url), follow_redirects=False, trust_env=False)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
        connect_timeout: float, read_timeout: float,
    ) -> RawAnswer:
        httpx = self._httpx
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
        try:
            with self._client.stream(method, url, content=body, headers=dict(headers), timeout=timeout) as response:
                raw = read_capped(response.iter_raw(), MAX_ANSWER_BYTES)
                return RawAnswer(response.status_code, response.headers.get("content-encoding", ""), raw)
        except httpx.TimeoutException:
            raise SupabaseUnavailable(f"Supabase did not answer in time (calling {_called(url)})") from None
        except httpx.HTTPError as exc:
            raise SupabaseUnavailable(f"cannot reach Supabase: {transport_reason(exc)}") from None

    def close(self) -> None:
        self._client.close()


