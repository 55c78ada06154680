"""The one small interface every provider implements, and what an answer means for a credential.

A provider is data: how to build the request that proves a credential, which
statuses it uses to refuse one, and how to read its own words out of a body.
`judge` turns any answer into ok (2xx), invalid (a status the provider
refuses credentials with) or unreachable (anything else: a redirect, which
is never followed, a 5xx, a 404 from a wrong base URL). Nothing here
redacts: `check` passes every word a provider wrote through one_line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from bridge.core.secret_types import INVALID, OK, UNREACHABLE
from bridge.providers.answers import error_detail


class Request(NamedTuple):
    """One HTTP request, built without touching the network."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    secrets: tuple[str, ...] = ()
    """What the request carries that is derived from the value (a signed assertion, a signature): redacted like
    the value, since a server that echoes one hands out a credential for as long as it lives."""


class Answer(NamedTuple):
    """A provider's answer: the status, and at most the first MAX_BODY_BYTES of the body."""

    status: int
    body: bytes


class Verdict(NamedTuple):
    """What an answer means: the outcome, our words for it, and the provider's own words, not yet redacted."""

    status: str
    summary: str
    detail: str = ""


RequestBuilder = Callable[[str, str, float], Request]
"""(value, base URL, now as Unix seconds) -> the request; the value's shape is already checked."""


def _nothing(body: bytes) -> str:
    return ""


@dataclass(frozen=True)
class Provider:
    name: str
    """Who answers, as a person knows it: "OpenAI", "AWS STS"."""
    noun: str
    """What is tested: "key", "service account", "credentials"."""
    refused: frozenset[int]
    """The statuses this provider refuses a credential with, as its error documentation lists them."""
    request: RequestBuilder
    accepted: Callable[[bytes], str] = _nothing
    """Words worth showing from a 2xx body (the identity AWS confirms); never an access token."""


def judge(provider: Provider, answer: Answer) -> Verdict:
    if 200 <= answer.status < 300:
        return Verdict(OK, f"{provider.name} accepted the {provider.noun}", provider.accepted(answer.body))
    if answer.status in provider.refused:
        return Verdict(INVALID, f"{provider.name} refused the {provider.noun}", error_detail(answer.body))
    if 300 <= answer.status < 400:
        return Verdict(UNREACHABLE, f"{provider.name} answered with a redirect, which is not followed; check the base URL")
    if answer.status >= 500:
        return Verdict(UNREACHABLE, f"{provider.name} is unavailable", error_detail(answer.body))
    return Verdict(UNREACHABLE, f"{provider.name} gave no verdict on the {provider.noun}", error_detail(answer.body))
