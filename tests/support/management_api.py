"""A loopback stand-in of Supabase's Management API, for Edge Function secrets only, from its documented shapes.

`GET /v1/projects/{ref}/secrets` answers `[{"name", "value"}]` with value the
lowercase hex SHA-256 of the secret (what `supabase secrets list` shows as
DIGEST); `POST` the same path takes `[{"name", "value"}]` and answers 201;
names starting with SUPABASE_ are refused (400), as Supabase's own are; a
missing or wrong `Authorization: Bearer sbp_...` is 401, another project
404. `limit(n)` makes the next n requests answer 429 with Retry-After, as the
API does past its rate limit. Values are held here only to compute digests
and to let a test compare them; tests never print them.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field

from tests.support.sockets import HttpServer, Seen, http_response

SECRETS_PATH = re.compile(r"/v1/projects/([^/]+)/secrets")


@dataclass
class Call:
    method: str
    path: str
    names: list[str] = field(default_factory=list)
    status: int = 200


class ManagementStandIn(HttpServer):
    def __init__(self, token: str, ref: str, secrets: dict[str, str] | None = None, retry_after: str = "1") -> None:
        self.token, self.ref = token, ref
        self.secrets: dict[str, str] = dict(secrets or {})
        self.calls: list[Call] = []
        self.retry_after = retry_after
        self._limited = 0
        self.post_status: int | None = None
        """When set, every POST fails with this status and changes nothing (a refused or failed write)."""
        self._lock = threading.Lock()
        self.posted = threading.Condition(self._lock)
        super().__init__()

    def limit(self, requests: int) -> None:
        with self._lock:
            self._limited = requests

    def posts(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == "POST"]

    def wait_for_post(self, count: int, timeout: float) -> bool:
        with self.posted:
            return self.posted.wait_for(lambda: sum(c.method == "POST" for c in self.calls) >= count, timeout)

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        status, body, extra = self._respond(seen)
        conn.sendall(http_response(status, body, extra))

    def _respond(self, seen: Seen) -> tuple[int, bytes, str]:
        with self._lock:
            call = Call(seen.method, seen.path)
            self.calls.append(call)
            status, body, extra = self._decide(seen, call)
            call.status = status
            self.posted.notify_all()
            return status, body, extra

    def _decide(self, seen: Seen, call: Call) -> tuple[int, bytes, str]:
        if self._limited > 0:
            self._limited -= 1
            return 429, b'{"message":"Too many requests"}', f"Retry-After: {self.retry_after}\r\n"
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return 401, b'{"message":"Unauthorized"}', ""
        match = SECRETS_PATH.fullmatch(seen.path)
        if match is None:
            return 404, b'{"message":"Not found"}', ""
        if match.group(1) != self.ref:
            return 404, b'{"message":"Project not found"}', ""
        if seen.method == "GET":
            rows = [{"name": n, "value": hashlib.sha256(v.encode()).hexdigest()} for n, v in sorted(self.secrets.items())]
            return 200, json.dumps(rows).encode(), ""
        if seen.method == "POST":
            if self.post_status is not None:
                return self.post_status, b'{"message":"Failed to create secrets"}', ""
            items = json.loads(seen.body)
            if not isinstance(items, list) or not all(isinstance(i, dict) and {"name", "value"} <= set(i) for i in items):
                return 400, b'{"message":"body must be [{name, value}]"}', ""
            if any(str(i["name"]).startswith("SUPABASE_") for i in items):
                return 400, b'{"message":"Env var names must not start with SUPABASE_"}', ""
            call.names = sorted(str(i["name"]) for i in items)
            for item in items:
                self.secrets[str(item["name"])] = str(item["value"])
            return 201, b"", ""
        return 405, b'{"message":"Method not allowed"}', ""
