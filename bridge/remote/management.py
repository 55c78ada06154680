"""Supabase's Management API, for a project's Edge Function secrets only (docs/edge.md cites the reference).

`GET /v1/projects/{ref}/secrets` lists `[{"name", "value"}]`, where value is
the SHA-256 digest of the secret, never the secret; `POST` the same path
with `[{"name", "value"}]` creates or replaces those names. The bearer is a
personal access token (`sbp_…`). The API answers 429 past its rate limit:
the wait it asks for (Retry-After, else X-RateLimit-Reset) is honoured when
it fits the deadline, and otherwise the call fails saying when to retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from bridge.core.deadline import Deadline
from bridge.core.errors import BridgeError
from bridge.remote.http import Answer, RemoteUnavailable, send

WHAT = "the Supabase Management API"
MAX_RATE_WAITS = 5
"""429s in a row that one call waits out before it gives up; each wait is the one the API asked for."""
FIRST_BACKOFF_S = 1.0
"""The wait after a 429 that says nothing of when to come back, doubled on each one after."""


def retry_after(headers: Mapping[str, str], now: float, fallback: float) -> float:
    """Seconds the API asks us to wait: Retry-After (seconds or an HTTP date), else X-RateLimit-Reset (seconds
    left in the window), else `fallback`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get("retry-after", "").strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - now)
            except (TypeError, ValueError, IndexError):
                pass
    reset = lowered.get("x-ratelimit-reset", "").strip()
    try:
        return max(0.0, float(reset)) if reset else fallback
    except ValueError:
        return fallback


class ManagementApi:
    def __init__(
        self, base_url: str, token: str, deadline: Deadline,
        sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._deadline = deadline
        self._sleep = sleep
        self._wall = wall
        self.rate_waits = 0
        """429s waited out so far, for the command's report."""

    def _call(self, method: str, path: str, payload: object | None) -> Answer:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        backoff = FIRST_BACKOFF_S
        for _ in range(MAX_RATE_WAITS + 1):
            answer = send(method, self._base + path, headers, body, self._deadline.remaining(), WHAT)
            if answer.status != 429:
                return self._checked(answer)
            wait = retry_after(answer.headers, self._wall(), backoff)
            backoff *= 2
            if wait >= self._deadline.remaining():
                raise RemoteUnavailable(
                    f"{WHAT} is rate limiting this token (HTTP 429) for {wait:.0f}s more, past admin_deadline; try again then"
                )
            self.rate_waits += 1
            self._sleep(wait)
        raise RemoteUnavailable(f"{WHAT} kept answering HTTP 429 (rate limited); try again in a minute")

    def _checked(self, answer: Answer) -> Answer:
        if answer.status in (401, 403):
            raise BridgeError(
                f"{WHAT} refused the access token (HTTP {answer.status}): create a personal access token at "
                "https://supabase.com/dashboard/account/tokens, then `bridge login --access-token`"
            )
        if answer.status == 404:
            raise BridgeError(f"{WHAT} does not know this project (HTTP 404): check --project-ref or SUPABASE_URL, and that the token can reach it")
        if answer.status >= 500:
            raise RemoteUnavailable(f"{WHAT} failed (HTTP {answer.status}); try again later")
        if answer.status >= 300:
            raise BridgeError(f"{WHAT} refused the request (HTTP {answer.status})")
        return answer

    def list_secrets(self, ref: str) -> dict[str, str]:
        """Name -> digest of every Edge Function secret of the project, Supabase's own included."""
        answer = self._call("GET", f"/v1/projects/{quote(ref, safe='')}/secrets", None)
        try:
            rows = json.loads(answer.body)
            return {str(row["name"]): str(row.get("value") or "") for row in rows}
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            # RecursionError: a list nested deeper than the parser goes (a hostile or broken answer).
            raise BridgeError(f"unexpected answer from {WHAT} listing secrets (not a list of {{name, value}})") from None

    def set_secrets(self, ref: str, values: Mapping[str, str]) -> None:
        """Create or replace these names in one request."""
        self._call("POST", f"/v1/projects/{quote(ref, safe='')}/secrets", [{"name": n, "value": v} for n, v in sorted(values.items())])
