"""Who may use `bridge ui`, as pure rules over a request's method, path and headers.

The page binds loopback only, but any web page the user visits can make the browser send requests to it, and
a DNS rebinding attack can even read the answers: so every request must carry the loopback Host, the session
cookie (set once from the one-time token the terminal printed), and every state-changing one a same-origin
Origin and the session's CSRF token. A value never reaches the browser at all (see bridge.web.app).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
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
"""Sent with every answer, refusals included."""


@dataclass
class Session:
    """The one login this server admits: a one-time token for the URL, then a cookie; both random, in memory."""

    port: int
    login_token: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES))
    cookie: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES))
    used: bool = False

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def login_url(self) -> str:
        return f"{self.origin}{LOGIN_PATH}?token={self.login_token}"

    @property
    def csrf(self) -> str:
        """Bound to the session: a form from another session (or none) cannot carry it."""
        return hmac.new(self.cookie.encode(), b"csrf", hashlib.sha256).hexdigest()

    def redeem(self, token: str) -> bool:
        """The login token, once: true the first time it is given, false ever after."""
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


def refusal(session: Session, method: str, path: str, headers: Mapping[str, str], form_csrf: str | None) -> str | None:
    """Why this request is refused (403), or None. `headers` lowercased; `form_csrf` the form's csrf field."""
    if not host_allowed(headers.get("host"), session.port):
        return "wrong Host: open the URL bridge ui printed"
    if path == LOGIN_PATH and method in SAFE_METHODS:
        return None
    cookie = cookie_of(headers.get("cookie"))
    if cookie is None or not hmac.compare_digest(cookie.encode(), session.cookie.encode()):
        return "no session: open the URL bridge ui printed, once"
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
