"""What Supabase's answers mean for a person: errors that name the cause and the fix, and never hold the key."""

from __future__ import annotations

import json
from typing import Any

from bridge.core.errors import BridgeError
from bridge.core.keys import scrub

MAX_ERROR_TEXT = 200


class SupabaseError(BridgeError):
    """Supabase answered, and the answer is final (bad key, missing grants, setup.sql not installed)."""


class SupabaseUnavailable(BridgeError):
    """Supabase could not answer: network, TLS, timeout, 5xx or an unreadable body. Worth a retry or the cache."""


class AnswerTooLarge(SupabaseUnavailable):
    """The body passed MAX_ANSWER_BYTES, compressed or not."""


class CredentialsRefused(SupabaseError):
    """Supabase answered 401: it refused the key or the gateway token. Nothing cached under these credentials may
    be served any more, whatever happens to the network later."""


SETUP_FIX = ("run `bridge setup` (with SUPABASE_DB_URL), or `supabase db push` from the bridge's repo, "
             "or paste the current setup.sql into the Supabase SQL editor and run it")
"""The three ways to install or upgrade the database side, named wherever setup.sql is missing or old."""


class SetupMissing(SupabaseError):
    """PostgREST has no such function (PGRST202): setup.sql is not installed in this project."""


class NotFound(SupabaseError):
    """The function raised PT404: no secret with that name or id."""


def _server_text(value: object, secret: str) -> str:
    """A field of a server's error body as one short, credential-free line; redacted before it is cut, so a cut
    can never leave a fragment of the key behind."""
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value)
    return " ".join(scrub(text, secret, MAX_ERROR_TEXT).split())[:MAX_ERROR_TEXT]


def parse_json(raw: bytes) -> Any:
    """JSON from a server, or ValueError: nesting past the interpreter's recursion limit is refused, not a crash."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


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
    if status == 401 and function == "resolve_secrets_with_token":
        return CredentialsRefused(
            "Supabase refused the gateway token (unknown, revoked or expired); mint a new one on the admin machine with "
            "`bridge tokens create NAME --tenant T` and log in with it (`bridge login --publishable-key ... --gateway-token`)"
        )
    if status == 401:
        return CredentialsRefused(
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
            f"setup.sql is not installed, or older than this bridge: Supabase has no function public.{function}; {SETUP_FIX}"
        )
    if status == 404:
        return NotFound(message or "not found")
    return SupabaseError(f"Supabase refused {function} (HTTP {status}{', ' + code if code else ''}): {message or 'no message'}")
