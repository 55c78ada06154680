"""A loopback incoming-webhook receiver: records each POSTed JSON body and answers as a test tells it."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from tests.support.sockets import HttpServer, Seen, http_response


class WebhookReceiver(HttpServer):
    def __init__(self, path: str = "/services/T000/B000/hook-secret-part") -> None:
        self.path = path
        self.messages: list[dict[str, Any]] = []
        self.requests: list[Seen] = []
        self.status = 200
        self.redirect_to: str | None = None
        """When set, every request is answered 307 to this URL, which the bridge must not follow."""
        self._cond = threading.Condition()
        super().__init__()

    @property
    def hook_url(self) -> str:
        return f"{self.url}{self.path}"

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e for m in self.messages for e in m.get("bridge", {}).get("events", [])]

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.messages) >= count, timeout)

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        with self._cond:
            self.requests.append(seen)
            status = self.status if seen.path == self.path and seen.method == "POST" else 404
            if status == 200:
                self.messages.append(json.loads(seen.body))
            self._cond.notify_all()
        if self.redirect_to is not None:
            conn.sendall(http_response(307, b"", f"Location: {self.redirect_to}\r\n"))
            return
        conn.sendall(http_response(status, b"ok" if status == 200 else b"no_service"))
