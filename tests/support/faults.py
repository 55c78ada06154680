"""A switchable front for the test endpoint, on 127.0.0.1 only, to break Supabase on demand.

Modes: "pass" forwards to the PostgREST-compatible endpoint; "hang" accepts
and never answers; "drip" sends a response one byte a second; "trickle" sends
the headers at once, then the body one byte a second; "garbage" answers
200 with a body that is not JSON; an int answers that status with PostgREST's
error shape; `stop()` closes the port so connections are refused. The URL
stays the same throughout, as a real project's does during an outage.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from urllib.parse import urlsplit

from tests.support.sockets import HttpServer, Seen, http_response

DRIP_INTERVAL_S = 1.0
DRIP_LIMIT_S = 60.0
"""Every hang or drip ends by itself after this, so no test can leave a thread behind for long."""


class FaultProxy(HttpServer):
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.mode: str | int = "pass"
        self.requests = 0
        super().__init__()

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        self.requests += 1
        mode = self.mode
        if mode == "pass":
            conn.sendall(self._forward(seen.path, seen.headers, seen.body))
        elif mode == "hang":
            self._closed.wait(DRIP_LIMIT_S)
        elif mode in ("drip", "trickle"):
            self._drip(conn, headers_first=mode == "trickle")
        elif mode == "garbage":
            conn.sendall(http_response(200, b'{"A": "truncated'))
        else:
            error = {"code": "PGRST000", "details": None, "hint": None, "message": "injected failure"}
            conn.sendall(http_response(int(mode), json.dumps(error).encode()))

    def _drip(self, conn: socket.socket, headers_first: bool = False) -> None:
        payload = http_response(200, b'{"A": "' + b"x" * 100 + b'"}')
        if headers_first:
            head, _, body = payload.partition(b"\r\n\r\n")
            conn.sendall(head + b"\r\n\r\n")
            payload = body
        ends = time.monotonic() + DRIP_LIMIT_S
        for byte in payload:
            if self._closed.is_set() or time.monotonic() > ends:
                return
            conn.sendall(bytes([byte]))
            time.sleep(DRIP_INTERVAL_S)

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        upstream = http.client.HTTPConnection(self.upstream.netloc, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k not in ("host", "connection")}
            upstream.request("POST", path, body=body, headers=forwarded)
            answer = upstream.getresponse()
            return http_response(answer.status, answer.read())
        finally:
            upstream.close()

