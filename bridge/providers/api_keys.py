"""The four API-key providers: one GET each that needs nothing but a valid key, and the statuses that refuse it.

- OpenAI: `GET /v1/models` with `Authorization: Bearer` (API reference,
  Authentication; Error codes: 401 "Incorrect API key provided", 403 for an
  unsupported region or a key without access).
- Anthropic: `GET /v1/models?limit=1` with `x-api-key` and `anthropic-version:
  2023-06-01` (API reference, Models and Versioning; Errors: 401
  authentication_error, 403 permission_error).
- Gemini: `GET /v1beta/models?pageSize=1` with `x-goog-api-key` (Gemini API,
  Using Gemini API keys; models.list). A key that is not valid is a 400
  INVALID_ARGUMENT whose google.rpc.ErrorInfo reason is API_KEY_INVALID, not a
  401; 403 PERMISSION_DENIED is a key that may not call the API.
- OpenRouter: `GET /api/v1/key` with a Bearer token (API reference, Get
  current API key: 401 when the key is invalid).
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.providers.provider import Provider, Request, RequestBuilder

ANTHROPIC_VERSION = "2023-06-01"


def _get(path: str, auth: Callable[[str], dict[str, str]]) -> RequestBuilder:
    def build(key: str, base_url: str, now: float) -> Request:
        return Request("GET", base_url + path, auth(key))

    return build


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


OPENAI = Provider("OpenAI", "key", frozenset({401, 403}), _get("/v1/models", _bearer))
ANTHROPIC = Provider(
    "Anthropic", "key", frozenset({401, 403}),
    _get("/v1/models?limit=1", lambda key: {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}),
)
GEMINI = Provider("Gemini", "key", frozenset({400, 401, 403}), _get("/v1beta/models?pageSize=1", lambda key: {"x-goog-api-key": key}))
OPENROUTER = Provider("OpenRouter", "key", frozenset({401, 403}), _get("/api/v1/key", _bearer))
