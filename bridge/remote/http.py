"""One outbound HTTP request, guarded as the Supabase transport is (bridge.vault.transport).

TLS verified against certifi's roots (bridge.local.network), plain http only
to this machine, no proxy from the environment, no redirect followed (a
request goes to the host it names and nowhere else), the body capped while
it is read, and the whole call, not each read, bounded by a deadline: a
server that trickles bytes cannot hold a watcher. Failures are one line that
never holds the URL, a header or the body sent, since the URL of a webhook
and the bearer token of the Management API are credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from bridge.core.credentials import LOCAL_HOSTS
from bridge.core.deadline import TimedOut, run_within
from bridge.core.errors import BridgeError
from bridge.local.network import tls_context, transport_reason

MAX_BODY_BYTES = 1024 * 1024
"""Far above a list of a project's secrets or a webhook's "ok"; a larger answer is refused, not read."""
CONNECT_TIMEOUT_S = 5.0


class RemoteUnavailable(BridgeError):
    """The service could not be reached or did not answer in time; worth trying again later."""


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


HOST_LABEL_MAX = 63
"""DNS's limit on one label of a host name (RFC 1035), which the HTTP client refuses past."""


def check_outbound(url: str, what: str) -> None:
    """https, or plain http to this machine only: a credential never crosses a network in clear text.

    The URL is also held to printable ASCII with DNS-sized labels before any client parses it: urlsplit drops a
    newline or a tab that the HTTP client then refuses with an error quoting the URL, and an emoji or over-long
    host fails inside IDNA encoding. A person stores such a URL again; the error never quotes it."""
    if any(not (0x20 < ord(c) < 0x7F) for c in url):
        raise BridgeError(f"{what} holds a space, a control character or a non-ASCII character; store it again as the "
                          "service printed it (an internationalised host in its xn-- form)")
    parts = urlsplit(url)
    if not ((parts.scheme == "https" and parts.hostname) or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)):
        raise BridgeError(f"{what} must be an https:// URL (plain http is allowed only for localhost)")
    if any(not 0 < len(label) <= HOST_LABEL_MAX for label in (parts.hostname or "").rstrip(".").split(".")):
        raise BridgeError(f"{what} names a host that is not a DNS name (an empty label, or one over {HOST_LABEL_MAX} characters)")


def send(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, seconds: float, what: str,
) -> Answer:
    """One request to `url` within `seconds` in all; `what` names the service in messages instead of the URL."""
    check_outbound(url, what)
    if seconds <= 0:
        raise RemoteUnavailable(f"no time left to call {what}")
    import httpx

    def call() -> Answer:
        timeout = httpx.Timeout(connect=min(CONNECT_TIMEOUT_S, seconds), read=seconds, write=seconds, pool=seconds)
        with httpx.Client(verify=tls_context(url), follow_redirects=False, trust_env=False) as client, client.stream(
            method, url, content=body, headers=dict(headers), timeout=timeout,
        ) as response:
            parts: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise RemoteUnavailable(f"{what} answered with more than {MAX_BODY_BYTES // 1024} KiB; refused")
                parts.append(chunk)
            return Answer(response.status_code, dict(response.headers), b"".join(parts))

    try:
        return run_within(seconds, call, what)
    except TimedOut:
        raise RemoteUnavailable(f"{what} did not answer within {seconds:.0f}s") from None
    except httpx.TimeoutException:
        raise RemoteUnavailable(f"{what} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise RemoteUnavailable(f"cannot reach {what}: {transport_reason(exc)}") from None
    except (httpx.InvalidURL, UnicodeError, ValueError):
        # The client's refusal of a URL or header it cannot encode quotes them (a webhook URL, a bearer token).
        raise BridgeError(f"{what}: the URL or the credential holds a character HTTP cannot carry; store it again") from None
