"""`bridge secrets test`: make a provider's cheapest authenticated call with a value, within a deadline.

The call goes over TLS verified against certifi's roots (plain http only to
localhost, by the same rule as the Supabase URL), never through a proxy from
the environment, never after a redirect; at most MAX_BODY_BYTES of the answer
is read, uncompressed. The whole test, from the shape check to the redacted
answer, runs under run_within, so neither a server that drips its answer a
byte at a time nor a value crafted to be slow to check can hold it past the
deadline.

A network failure is an outcome (unreachable), never an exception; only a
misuse raises: a generic secret, an unknown type, a bad base URL. Every word
a provider wrote is passed through one_line with every part of the value and
of what the request derived from it, so no message can carry any of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from bridge import __version__
from bridge.core.deadline import TimedOut, run_within
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError, UsageError
from bridge.core.secret_types import (
    DEFAULT_TYPE,
    INVALID,
    ONE_LINE_CHARS,
    SECRET_TYPES,
    UNREACHABLE,
    hidden_parts,
    one_line,
    secret_parts,
)
from bridge.local.config import provider_base_url
from bridge.local.network import tls_context, transport_reason
from bridge.providers.api_keys import ANTHROPIC, GEMINI, OPENAI, OPENROUTER
from bridge.providers.aws import AWS
from bridge.providers.azure import AZURE
from bridge.providers.endpoints import default_base_url
from bridge.providers.gcp import GCP
from bridge.providers.provider import Answer, Provider, Request, Verdict, judge
from bridge.providers.shapes import check_shape

PROVIDERS: dict[str, Provider] = {
    "openai": OPENAI,
    "anthropic": ANTHROPIC,
    "gemini": GEMINI,
    "openrouter": OPENROUTER,
    "gcp-service-account": GCP,
    "aws": AWS,
    "azure": AZURE,
}
MAX_BODY_BYTES = 64 * 1024
"""Enough for any error a provider sends; a longer body is cut here, not read to its end."""
USER_AGENT = f"openclaw-supabase-bridge/{__version__}"


class _Unreachable(Exception):
    """No answer came: why, in transport_reason's words."""


class CheckResult(NamedTuple):
    status: str
    """ok, invalid or unreachable (bridge.core.secret_types.CHECK_STATUSES)."""
    message: str
    """One line, free of every part of the value."""


def test_secret(
    secret_type: str, value: str, base_url: str | None, deadline_s: float, now: Callable[[], float] = time.time
) -> CheckResult:
    """Test `value` against its provider at `base_url` (the configured override) or its public endpoint.

    The whole test, the shape check, the request (a JWT signed with the value's key), the call and the redaction
    of the answer, runs within `deadline_s`: a value crafted to make any step slow, or a provider that drips its
    answer, ends the test as unreachable at the deadline, in words that hold nothing of the value."""
    provider = _provider(secret_type)
    base = provider_base_url(secret_type, base_url) if base_url is not None else None
    progress = _Progress()
    try:
        return run_within(
            deadline_s, lambda: _test(provider, secret_type, value, base, deadline_s, progress, now), f"testing a {secret_type} secret",
        )
    except TimedOut:
        if progress.host is None:
            return CheckResult(UNREACHABLE, f"testing the {provider.name} secret did not finish within {format_age(deadline_s)}")
        return _shown(Verdict(UNREACHABLE, f"{provider.name} did not answer within {format_age(deadline_s)} ({progress.host})"), None, progress)


@dataclass
class _Progress:
    """How far the test got, for the words of a test cut off at its deadline: the host once the request is made,
    and what to redact from them (a host can hold the value's region)."""

    parts: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    host: str | None = None


def _test(
    provider: Provider, secret_type: str, value: str, base: str | None, deadline_s: float, progress: _Progress,
    now: Callable[[], float],
) -> CheckResult:
    problem = check_shape(secret_type, value)
    if problem:
        return CheckResult(INVALID, problem)
    request = provider.request(value, base or default_base_url(secret_type, value), now())
    progress.parts = (*secret_parts(secret_type, value), *request.secrets)
    progress.hidden = (*hidden_parts(secret_type, value), *request.secrets)
    progress.host = host = urlsplit(request.url).netloc
    try:
        answer = _send(request, deadline_s)
    except TimedOut:
        return _shown(Verdict(UNREACHABLE, f"{provider.name} did not answer within {format_age(deadline_s)} ({host})"), None, progress)
    except _Unreachable as exc:
        return _shown(Verdict(UNREACHABLE, f"cannot reach {provider.name} at {host}: {exc}"), None, progress)
    return _shown(judge(provider, answer), answer.status, progress)


def _provider(secret_type: str) -> Provider:
    if secret_type == DEFAULT_TYPE:
        raise BridgeError("generic secrets have nothing to test; give it a type with `bridge secrets set NAME --type TYPE --keep-value`")
    if secret_type not in PROVIDERS:
        raise UsageError(f"unknown secret type {secret_type!r}; use one of: {', '.join(SECRET_TYPES)}")
    return PROVIDERS[secret_type]


def _shown(verdict: Verdict, http_status: int | None, progress: _Progress) -> CheckResult:
    """The verdict as one line of at most ONE_LINE_CHARS, all of it redacted (a host can hold the value's region),
    the HTTP status kept whole at its end."""
    suffix = f" (HTTP {http_status})" if http_status else ""
    text = f"{verdict.summary}: {verdict.detail}" if verdict.detail.strip() else verdict.summary
    return CheckResult(verdict.status, one_line(text, progress.parts, ONE_LINE_CHARS - len(suffix), progress.hidden) + suffix)


def _send(request: Request, timeout_s: float) -> Answer:
    """One request on a client of its own, so a call abandoned at the deadline leaves nothing shared behind."""
    import httpx

    headers = {"user-agent": USER_AGENT, "accept": "application/json", "accept-encoding": "identity", **request.headers}
    client = httpx.Client(verify=tls_context(request.url), trust_env=False, follow_redirects=False, timeout=timeout_s)
    try:
        with client, client.stream(request.method, request.url, headers=headers, content=request.body or None) as response:
            compressed = response.headers.get("content-encoding", "identity").lower() != "identity"
            return Answer(response.status_code, b"" if compressed else _read_capped(response.iter_raw()))
    except httpx.TimeoutException:
        raise TimedOut from None
    except (httpx.HTTPError, OSError) as exc:
        raise _Unreachable(transport_reason(exc)) from None


def _read_capped(chunks: Iterable[bytes]) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) >= MAX_BODY_BYTES:
            break
    return bytes(body[:MAX_BODY_BYTES])
