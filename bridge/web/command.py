"""`bridge ui [--port N] [--no-browser]`: the local dashboard, on 127.0.0.1 only, for the one person who ran it.

It prints one line, the URL with a one-time token (as Jupyter does), and opens the browser unless told not
to; the first request with that token gets the session cookie, and nothing without it gets any data. Ctrl-C
stops it. The web stack is an optional extra (`pip install '.[ui]'`, `install.sh --with-ui`), imported
here only, so nothing else in the bridge pays for it.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
from typing import TYPE_CHECKING

from bridge.app.verbs import Verb, add_provider
from bridge.core.errors import BridgeError, UsageError

if TYPE_CHECKING:
    from bridge.app.context import Context

LOOPBACK = "127.0.0.1"


def port_number(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"--port {raw!r}: give a port number, or 0 for a free one")
    return port


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise BridgeError(f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}); pick another --port, or --port 0") from None
    sock.listen(64)
    return sock


def handle_ui(args: argparse.Namespace, ctx: Context) -> int:
    try:
        import uvicorn

        from bridge.web.app import create_app
        from bridge.web.backend import AdminBackend
        from bridge.web.security import Session
    except ImportError:
        raise UsageError("bridge ui needs its extra: pip install 'openclaw-supabase-bridge[ui]', or ./install.sh --with-ui") from None
    from bridge.openclaw.config import check_provider_name

    provider = check_provider_name(args.provider)
    ctx.credentials()  # looked up once, before any request: a missing login is one line here, not on every page
    sock = listen(args.port)
    session = Session(port=sock.getsockname()[1])
    app = create_app(AdminBackend(ctx, provider), session)
    print(f"bridge ui: open {session.login_url}  (once; Ctrl-C stops it)", file=ctx.out, flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(session.login_url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    # uvicorn shuts down gracefully on Ctrl-C, then raises the signal again for its caller: the stop asked for.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    print("bridge ui: stopped", file=ctx.out, flush=True)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=port_number, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL only; do not open a browser")
    add_provider(parser)


VERBS = {
    "ui": Verb(
        "ui", "a local dashboard: secrets, tests, rotation, tokens, audit, alerts, doctor (never a value)",
        "bridge ui --no-browser --port 8765", handle_ui, add_arguments,
    ),
}
