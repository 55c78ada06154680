"""The one accept loop behind every test server: loopback or a unix socket, a thread per connection, a clean stop."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass


@dataclass
class Seen:
    """One HTTP request as a test server read it."""

    path: str
    headers: dict[str, str]
    body: bytes
    method: str = "GET"


class SocketServer:
    """Accepts until stopped and hands each connection to `handle` on its own daemon thread."""

    def __init__(self, listener: socket.socket) -> None:
        self._listener = listener
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Refuse from now on: shutdown wakes the accepting thread, which a bare close would leave listening."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()


class HttpServer(SocketServer):
    """A loopback HTTP server for tests: reads each request, then `answer` writes whatever the test wants."""

    def __init__(self) -> None:
        listener, self.port = loopback_listener()
        super().__init__(listener)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        raise NotImplementedError

    def handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                seen = read_request(conn)
            except (ConnectionError, OSError, ValueError):
                return
            try:
                self.answer(conn, seen)
            except OSError:
                return


def loopback_listener() -> tuple[socket.socket, int]:
    listener = socket.create_server(("127.0.0.1", 0))
    return listener, listener.getsockname()[1]


def read_request(conn: socket.socket) -> Seen:
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
    method, path = lines[0].split(" ")[:2]
    return Seen(path, headers, body, method)


def http_response(status: int, body: bytes, extra_headers: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{extra_headers}Connection: close\r\n\r\n"
    )
    return head.encode() + body
