"""Who may use `bridge ui`, as pure rules over a request's method, path and headers.

The page binds loopback only, and other programs on the machine can reach loopback too: another user's
server, a dev server, a compromised package's server. Browsers scope cookies by host and never by port (RFC
6265 §8.5), so a cookie for 127.0.0.1 alone would be sent to every one of them the browser touches. The
session is therefore bound to a path no other origin ever learns: every page lives under `/<k>/`, where `k`
is a random per-run key, and the session cookie is scoped to that path. A browser sends it only to URLs under
`/<k>/`, which no other server is asked for (it would have to know k), and a request needs both the key in
its path and the cookie: a cookie that leaked anyway is not enough. Pages send a Referer to their own origin only,
so k never leaves it. On top: the loopback Host (DNS rebinding), and for every state change a
same-origin Origin and the session's CSRF token. A value never reaches the browser at all (bridge.web.app).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

COOKIE = "bridge_session"
LOGIN_PATH = "/login"
SAFE_METHODS = frozenset({"GET", "HEAD"})
LOOPBACK = "127.0.0.1"
TOKEN_BYTES = 32
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
"""Sent with every answer, refusals included. A Referer goes to the dashboard's own origin only: elsewhere it would
carry the session's path. (Not `no-referrer`: under it a browser sends `Origin: null` with a form's POST.)"""
PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz")
PREFETCH_WORDS = ("prefetch", "prerender", "preview")
"""Set by a browser's prefetch, prerender or page preview (Safari's Top Sites sends `X-Purpose: preview`): such a
request must never spend the one-time login token."""


def _token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class Session:
    """The one login this server admits: a one-time token for the login URL, then the path key and the cookie.
    All random, in memory only; the login URL reaches the user through a private file, never argv."""

    port: int
    login_token: str = field(default_factory=_token)
    key: str = field(default_factory=_token)
    cookie: str = field(default_factory=_token)
    used: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def root(self) -> str:
        """The path every page, form and file of this session lives under; the cookie is scoped to it."""
        return f"/{self.key}"

    @property
    def login_url(self) -> str:
        return f"{self.origin}{LOGIN_PATH}?token={self.login_token}"

    @property
    def csrf(self) -> str:
        """Bound to the session: a form from another session (or none) cannot carry it."""
        return hmac.new(self.cookie.encode(), b"csrf", hashlib.sha256).hexdigest()

    def redeem(self, token: str) -> bool:
        """The login token, once: true the first time it is given, false ever after, concurrent requests included."""
        with self._lock:
            if self.used or not hmac.compare_digest(token.encode(), self.login_token.encode()):
                return False
            self.used = True
            return True


def host_allowed(host: str | None, port: int) -> bool:
    """Only the loopback names of this port: any other Host is a rebinding attacker's name for 127.0.0.1."""
    return host in (f"{LOOPBACK}:{port}", f"localhost:{port}")


def cookie_of(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def prefetch(headers: Mapping[str, str]) -> bool:
    return any(word in headers.get(name, "").lower() for name in PREFETCH_HEADERS for word in PREFETCH_WORDS)


def session_cookie(session: Session) -> str:
    """The Set-Cookie value: host-only (no Domain), scoped to the session's path, HttpOnly, SameSite=Strict, and
    Priority=High, so another port of the host that floods the browser's per-host cookie jar (Chromium keeps 180)
    evicts its own cookies before this one."""
    return f"{COOKIE}={session.cookie}; Path={session.root}; HttpOnly; SameSite=Strict; Priority=High"


def in_session_path(session: Session, path: str) -> bool:
    """Whether the path is under this session's key, compared in constant time: its timing says nothing of k."""
    root = session.root
    head, rest = path[: len(root)], path[len(root):]
    return hmac.compare_digest(head.encode(), root.encode()) and (rest == "" or rest.startswith("/"))


def refusal(session: Session, method: str, path: str, headers: Mapping[str, str], form_csrf: str | None) -> str | None:
    """Why this request is refused (403), or None. `headers` lowercased; `form_csrf` the form's csrf field."""
    if not host_allowed(headers.get("host"), session.port):
        return "wrong Host: open the link bridge ui gave"
    if path == LOGIN_PATH:
        if method != "GET":
            return "the login link is opened with GET only"
        if prefetch(headers):
            return "a prefetch does not spend the login link"
        return None
    if not in_session_path(session, path):
        return "no session: open the link bridge ui gave, once"
    cookie = cookie_of(headers.get("cookie"))
    if cookie is None or not hmac.compare_digest(cookie.encode(), session.cookie.encode()):
        return "no session: open the link bridge ui gave, once"
    if method in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin not in (session.origin, f"http://localhost:{session.port}"):
        return "cross-origin request refused"
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return "cross-site request refused"
    if form_csrf is None or not hmac.compare_digest(form_csrf.encode(), session.csrf.encode()):
        return "missing or wrong CSRF token: reload the page and try again"
    return None
