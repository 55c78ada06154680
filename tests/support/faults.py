"""A switchable front for the test endpoint, on 127.0.0.1 only, to break Supabase on demand.

Modes: "pass" forwards to the PostgREST-compatible endpoint; "hang" accepts
and never answers; "drip" sends a response one byte a second; "garbage" answers
200 with a body that is not JSON; an int answers that status with PostgREST's
error shape; `stop()` closes the port so connections are refused. The URL
stays the same throughout, as a real project's does during an outage.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from urllib.parse import urlsplit

DRIP_INTERVAL_S = 1.0
DRIP_LIMIT_S = 60.0
"""Every hang or drip ends by itself after this, so no test can leave a thread behind for long."""


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.mode: str | int = "pass"
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Refuse from now on: shutdown wakes the accepting thread, which a bare close would leave listening."""
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

    def _read_request(self, conn: socket.socket) -> tuple[str, dict[str, str], bytes]:
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
        return lines[0].split(" ")[1], headers, body

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                path, headers, body = self._read_request(conn)
            except (ConnectionError, OSError, ValueError):
                return
            self.requests += 1
            mode = self.mode
            try:
                if mode == "pass":
                    conn.sendall(self._forward(path, headers, body))
                elif mode == "hang":
                    self._closed.wait(DRIP_LIMIT_S)
                elif mode == "drip":
                    self._drip(conn)
                elif mode == "garbage":
                    conn.sendall(_response(200, b'{"A": "truncated'))
                else:
                    error = {"code": "PGRST000", "details": None, "hint": None, "message": "injected failure"}
                    conn.sendall(_response(int(mode), json.dumps(error).encode()))
            except OSError:
                return

    def _drip(self, conn: socket.socket) -> None:
        payload = _response(200, b'{"A": "' + b"x" * 100 + b'"}')
        ends = time.monotonic() + DRIP_LIMIT_S
        for byte in payload:
            if self._closed.is_set() or time.monotonic() > ends:
                return
            conn.sendall(bytes([byte]))
            time.sleep(DRIP_INTERVAL_S)

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k not in ("host", "connection")}
            upstream.request("POST", path, body=body, headers=forwarded)
            answer = upstream.getresponse()
            return _response(answer.status, answer.read())
        finally:
            upstream.close()


def _response(status: int, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body
