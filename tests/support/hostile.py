"""Servers that answer as badly as they like, on loopback only: the attacker's side of the hardening tests.

`HostileServer` reads one request and then sends whatever its `respond`
callable yields, so a test can send a compression bomb, an endless body or an
error that echoes the request's apikey. `SilentBus` is a unix socket that
accepts D-Bus connections and never says a word. Every stream ends by itself
after STREAM_LIMIT_S, so no test leaves a thread behind.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.support.sockets import HttpServer, Seen, SocketServer, http_response

__all__ = ["HostileServer", "Seen", "SilentBus", "http_response"]

STREAM_LIMIT_S = 20.0

Responder = Callable[[Seen], Iterable[bytes]]


class HostileServer(HttpServer):
    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.requests: list[Seen] = []
        super().__init__()

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        self.requests.append(seen)
        ends = time.monotonic() + STREAM_LIMIT_S
        for chunk in self.respond(seen):
            if self._closed.is_set() or time.monotonic() > ends:
                return
            conn.sendall(chunk)


class SilentBus(SocketServer):
    """A D-Bus address that accepts every connection and then never answers: a hung session bus. With
    `authenticate`, it first completes D-Bus's SASL handshake, so the client hangs on its first method call."""

    def __init__(self, path: Path, authenticate: bool = False) -> None:
        self.path = path
        self._authenticate = authenticate
        self._held: list[socket.socket] = []
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(16)
        super().__init__(listener)

    @property
    def address(self) -> str:
        return f"unix:path={self.path}"

    def handle(self, conn: socket.socket) -> None:
        self._held.append(conn)
        if self._authenticate:
            self._handshake(conn)

    @staticmethod
    def _handshake(conn: socket.socket) -> None:
        """Agree to everything up to BEGIN, then fall silent."""
        pending = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                pending += chunk
                while b"\r\n" in pending:
                    line, pending = pending.split(b"\r\n", 1)
                    command = line.lstrip(b"\0").split(b" ", 1)[0]
                    if command == b"AUTH":
                        conn.sendall(b"OK 1234deadbeef1234deadbeef1234dead\r\n")
                    elif command == b"NEGOTIATE_UNIX_FD":
                        conn.sendall(b"AGREE_UNIX_FD\r\n")
                    elif command == b"BEGIN":
                        return
        except OSError:
            return

    def stop(self) -> None:
        super().stop()
        for conn in self._held:
            conn.close()
