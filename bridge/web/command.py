"""`bridge ui [--port N] [--no-browser]`: the local dashboard, on 127.0.0.1 only, for the one person who ran it.

The login URL carries a one-time token, so it must never sit where another user can read it: not in a
process's argv (/proc/<pid>/cmdline is world-readable), its environment or a log. As Jupyter does, it goes
into a private file (0600, in the bridge's 0700 data directory) that redirects to it; the browser is opened on
that file, and the one line printed names the file. Only a terminal is also shown the URL itself, for a
browser elsewhere (an SSH tunnel). The first GET with the token gets the session (bridge.web.security), and
nothing without it gets any data. Ctrl-C, SIGTERM and SIGHUP stop it with exit 0 within a few seconds,
whatever requests are in flight. The web stack is an optional extra (`pip install '.[ui]'`, `install.sh
--with-ui`), imported here only, so nothing else in the bridge pays for it.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.app.verbs import Verb, add_provider
from bridge.core.errors import BridgeError, UsageError

if TYPE_CHECKING:
    import uvicorn

    from bridge.app.context import Context

LOOPBACK = "127.0.0.1"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 3
"""How long a stop waits for requests in flight; a call still waiting on Supabase then is abandoned."""


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


def login_page(url: str) -> bytes:
    """A page that sends the browser on to the login URL, as Jupyter's redirect file does."""
    link = html.escape(url, quote=True)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={link}"><title>bridge ui</title></head>'
        f'<body><p>Opening the dashboard: <a href="{link}">continue</a>.</p></body></html>\n'
    ).encode()


def write_login_file(directory: Path, port: int, url: str) -> Path:
    """The login URL in a file only this user can read, in a directory only this user owns."""
    from bridge.local.files import ensure_private_dir, replace_file

    ensure_private_dir(directory)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise BridgeError(f"{directory} is not a private directory of this user; remove it and run bridge ui again")
    path = directory / f"login-{port}.html"
    replace_file(path, login_page(url))
    return path


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
    config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off", timeout_graceful_shutdown=GRACE_S)
    server = dashboard_server(config)
    # A stop signal from here on stops the server, even one that comes before it runs (it then exits at once).
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in STOP_SIGNALS}
    login_file = write_login_file(ctx.paths.data_dir / "ui", session.port, session.login_url)
    try:
        print(f"bridge ui: open {login_file.as_uri()}  (once; Ctrl-C stops it)", file=ctx.out, flush=True)
        if ctx.out.isatty():
            print(f"bridge ui: or, in a browser elsewhere, {session.login_url}", file=ctx.out, flush=True)
        if not args.no_browser:
            import webbrowser

            webbrowser.open(login_file.as_uri())
        server.run(sockets=[sock])
    finally:
        login_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("bridge ui: stopped", file=ctx.out, flush=True)
    return 0


def dashboard_server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, leaving the stop signals to handle_ui: uvicorn's own handling re-raises the signal after
    its shutdown, which would end the process by it (exit -15) instead of with a word and 0, and it starts only
    once the server runs, so a signal just before would kill the process mid-start."""
    import uvicorn

    class Dashboard(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Dashboard(config)


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
