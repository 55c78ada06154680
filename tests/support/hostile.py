"""Servers that answer as badly as they like, on loopback only: the attacker's side of the hardening tests.

`HostileServer` speaks just enough HTTP/1.1 to read one request and then sends
whatever its `respond` callable yields, so a test can send a compression bomb,
an endless body or an error that echoes the request's apikey. `SilentBus` is a
unix socket that accepts D-Bus connections and never says a word. Every
stream ends by itself after STREAM_LIMIT_S, so no test leaves a thread behind.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

STREAM_LIMIT_S = 20.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Seen], Iterable[bytes]]


def http_response(status: int, body: bytes, extra_headers: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{extra_headers}Connection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class HostileServer:
    respond: Responder
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._closed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                seen = _read_request(conn)
            except (ConnectionError, OSError, ValueError):
                return
            self.requests.append(seen)
            ends = time.monotonic() + STREAM_LIMIT_S
            try:
                for chunk in self.respond(seen):
                    if self._closed.is_set() or time.monotonic() > ends:
                        return
                    conn.sendall(chunk)
            except OSError:
                return


def _read_request(conn: socket.socket) -> Seen:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += conn.recv(65536)
    return Seen(lines[0].split(" ")[1], headers, body)


class SilentBus:
    """A D-Bus address that accepts every connection and then never answers: a hung session bus. With
    `authenticate`, it first completes D-Bus's SASL handshake, so the client hangs on its first method call."""

    def __init__(self, path: Path, authenticate: bool = False) -> None:
        self.path = path
        self._authenticate = authenticate
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(16)
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"unix:path={self.path}"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(conn)
            if self._authenticate:
                threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

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
        self._closed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for conn in self._held:
            conn.close()
