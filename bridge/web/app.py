"""The pages of `bridge ui`, server-rendered with autoescaping Jinja2 templates, behind the rules of
bridge.web.security.

Every change is a POST of a plain form (fields `name`, `value`, `type`, `description`, `tenant`,
`rotate_every`, `expires`), answered by a redirect to a page that shows what happened: a value posted is
stored and forgotten, never echoed, never put in a page, an attribute or a redirect. A failed action is
one line on the next page, in the CLI's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import shlex
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.admin.audit import MAX_LIMIT, subject, write_csv
from bridge.admin.tokens import allow_shown, check_glob, check_token_name, token_state
from bridge.core.errors import BridgeError
from bridge.core.names import check_name
from bridge.core.secret_types import SECRET_TYPES
from bridge.core.status import state
from bridge.core.text import plural
from bridge.web.backend import AdminBackend
from bridge.web.chart import sparkline, usage_chart
from bridge.web.listing import BADGES, DUE_STATES, Filters, badge, badge_class, due_state, duration, page_of, when
from bridge.web.security import HEADERS, LOGIN_PATH, SAFE_METHODS, Session, refusal, session_cookie

HERE = Path(__file__).parent
MAX_FORM_BYTES = 64 * 1024
"""A form holds at most a secret of OpenClaw's output limit and a few short fields."""
AUDIT_PAGE_ROWS = 1000
"""The audit page shows at most this many rows of its period, and says so when the period holds more."""
AUDIT_CSV_ROWS = MAX_LIMIT
"""The export holds at most what `bridge audit --limit` can give, and its first line says so when cut."""
AUDIT_SINCE_CHOICES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
MAX_BLOCKING_CALLS = 8
"""Database calls in flight at once; one person's dashboard never needs more."""
T = TypeVar("T")
ROLLOUT_REFRESH_S = 5
"""How often the secret page reloads itself (a <meta http-equiv="refresh">, no script) while a rollout is pending."""
ROLLOUT_REFRESH_FOR_S = 600
"""A rollout still pending this long after the change is a gateway that is down, not one about to reload: the page
stops reloading itself, and shows who is pending."""


class SecretView(NamedTuple):
    """What the secret page shows."""

    row: dict[str, object]
    audit: list[dict[str, object]]
    rollout: dict[str, Any] | None
    history: list[dict[str, Any]]


def rollout_in_progress(rollout: dict[str, Any] | None, now: float | None = None) -> bool:
    """A change made in the last ROLLOUT_REFRESH_FOR_S that some gateway has not resolved yet."""
    import datetime as dt

    if not rollout or not rollout.get("pending") or not isinstance(rollout.get("changed_at"), str):
        return False
    try:
        changed = dt.datetime.fromisoformat(str(rollout["changed_at"]).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return (time.time() if now is None else now) - changed < ROLLOUT_REFRESH_FOR_S


class AuditQuery(NamedTuple):
    """The audit page's filters, from its query string; an unknown period is the default one."""

    period: str
    since: str
    name: str | None
    failures: bool

    @classmethod
    def from_params(cls, params: Mapping[str, str], now: float) -> AuditQuery:
        period = params.get("since", "24h")
        period = period if period in AUDIT_SINCE_CHOICES else "24h"
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - AUDIT_SINCE_CHOICES[period]))
        return cls(period, since, params.get("name") or None, params.get("failures") == "1")

    def cut_note(self, found: int, cap: int) -> str | None:
        """What a page or file cut at `cap` rows says, with the command that gives every row; None when uncut."""
        if found <= cap:
            return None
        command = ["bridge", "audit", "--since", self.period, *(["--name", self.name] if self.name else []),
                   *(["--failures"] if self.failures else []), "--all", "--format", "csv"]
        return (f"only the newest {cap} rows of the last {self.period} are shown, and there are more; "
                f"every row: {shlex.join(command)}")


async def off_loop(limit: asyncio.Semaphore, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` in a daemon thread, awaited cancellably: a call stuck on a hanging Supabase (bounded by
    admin_deadline anyway) never holds up the server's shutdown, which a worker pool's thread would."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request, which reports it
            error = exc
        with contextlib.suppress(RuntimeError):  # the server stopped meanwhile: nobody is waiting
            loop.call_soon_threadsafe(settle, result, error)

    async with limit:
        threading.Thread(target=work, name="bridge-ui-call", daemon=True).start()
        return await future


class Guard:
    """ASGI middleware: the security headers on every answer, and the refusal (403, no data) of every request
    that fails bridge.web.security's rules; a form is read once here, bounded, for its CSRF field."""

    def __init__(self, app: ASGIApp, session: Session) -> None:
        self._app = app
        self._session = session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()))
                message["headers"] = headers
            await send(message)

        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope["method"]
        body = b""
        form_csrf = None
        if method not in SAFE_METHODS:
            read = await read_body(receive)
            if read is None:
                await PlainTextResponse("413: the form is larger than any this page sends", 413)(scope, receive, send_with_headers)
                return
            body = read
            form_csrf = csrf_field(body, headers.get("content-type", ""))
        problem = refusal(self._session, method, scope["path"], headers, form_csrf)
        if problem is not None:
            await PlainTextResponse(f"403 forbidden: {problem}", 403)(scope, receive, send_with_headers)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if method in SAFE_METHODS or replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        started_response = False

        async def tracked(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self._app(scope, replay, tracked)
        except Exception as exc:  # noqa: BLE001 - one line for the person, never a traceback on the terminal
            print(f"bridge ui: {scope['method']} failed: {type(exc).__name__}", file=sys.stderr, flush=True)
            if not started_response:
                await PlainTextResponse(f"500: {one_line_error(exc)}", 500)(scope, receive, send_with_headers)


def one_line_error(exc: Exception) -> str:
    """What a page says of a failure: a BridgeError's own line (written for people, never holding a value), and
    for anything else only its kind."""
    if isinstance(exc, BridgeError):
        return str(exc)
    return f"internal error ({type(exc).__name__}); bridge doctor may say more"


async def read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def csrf_field(body: bytes, content_type: str) -> str | None:
    """The `csrf` field of a urlencoded form; forms here are never multipart."""
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get("csrf")
    return values[0] if values else None


def redirect_page(path: str) -> str:
    """A page that goes on to `path` at once (a meta refresh: the CSP allows no script), with a link as well."""
    link = html.escape(path, quote=True)
    return (f'<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={link}">'
            f'<title>bridge ui</title></head><body><p><a href="{link}">Open the dashboard</a></p></body></html>')


def field(form: FormData, key: str) -> str | None:
    raw = form.get(key)
    text = raw.strip() if isinstance(raw, str) else ""
    return text or None


def create_app(backend: AdminBackend, session: Session) -> ASGIApp:
    templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=jinja2.StrictUndefined,
    ))
    flashes: list[tuple[str, str]] = []
    root = session.root
    calls = asyncio.Semaphore(MAX_BLOCKING_CALLS)

    async def call(fn: Callable[..., T], *args: object) -> T:
        return await off_loop(calls, fn, *args)

    def render(request: Request, template: str, **context: Any) -> Response:
        shown = list(flashes)
        flashes.clear()
        now = time.time()
        return templates.TemplateResponse(request, template, {
            "csrf": session.csrf, "flashes": shown, "badge": badge, "badge_class": badge_class, "due_state": due_state,
            "root": root, "when": lambda stamp, empty="never": when(stamp, now, empty), "duration": duration,
            "subject": subject, "allow_shown": allow_shown, "sparkline": sparkline, "usage_chart": usage_chart, "plural": plural,
            "token_state": lambda token: token_state(token, now),
            **context,
        })

    def back(url: str, kind: str, message: str) -> Response:
        flashes.append((kind, message))
        return RedirectResponse(root + url, 303)

    def secret_url(tenant: str, name: str) -> str:
        return f"/secrets/{quote(tenant)}/{quote(name)}"

    def login(request: Request) -> Response:
        if not session.redeem(request.query_params.get("token", "")):
            return PlainTextResponse("403 forbidden: this login link was used already or is wrong; run bridge ui again", 403)
        # A page that moves on by itself, not a redirect: when the login was opened from the file bridge ui wrote,
        # the navigation began at file://, a cross-site start after which the browser withholds a SameSite=Strict
        # cookie for the whole redirect chain; a navigation this page starts is same-origin.
        response = HTMLResponse(redirect_page(root + "/secrets"))
        response.headers.append("set-cookie", session_cookie(session))
        return response

    async def home(request: Request) -> Response:
        return RedirectResponse(root + "/secrets", 303)

    async def secrets_page(request: Request) -> Response:
        filters = Filters.from_query(request.query_params)
        try:
            total, rows, tenants = await call(backend.secrets_page, filters)
        except BridgeError as exc:
            flashes.append(("error", str(exc)))
            total, rows, tenants = 0, [], []
        query = {k: v for k, v in request.query_params.items() if k != "page"}
        return render(
            request, "secrets.html", page=page_of(total, rows, filters), filters=filters, tenants=tenants,
            types=list(SECRET_TYPES), badges=BADGES, due_states=DUE_STATES, query=urlencode(query),
        )

    async def add_secret(request: Request) -> Response:
        form = await request.form()
        tenant = field(form, "tenant") or "default"
        try:
            name = check_name(field(form, "name") or "")
            value = form.get("value")
            if not isinstance(value, str) or not value:
                raise BridgeError("give the secret's value in the value field")
            done = await call(
                backend.store, tenant, name, value, field(form, "description"), field(form, "type"),
                field(form, "rotate_every"), field(form, "expires"),
            )
        except BridgeError as exc:
            return back("/secrets", "error", str(exc))
        return back(secret_url(tenant, name), "ok", f"{done} {name}")

    def secret_view(tenant: str, name: str) -> SecretView | None:
        row = backend.secret(tenant, name)
        if row is None:
            return None
        row["usage"] = backend.usage(tenant, name)
        audit = backend.recent_audit(tenant, name)
        try:
            rollout: dict[str, Any] | None = backend.rollout(tenant, name)
        except BridgeError:
            rollout = None
        return SecretView(row, audit, rollout, backend.history(tenant, name))

    async def secret_page(request: Request) -> Response:
        tenant, name = request.path_params["tenant"], request.path_params["name"]
        try:
            view = await call(secret_view, tenant, name)
        except BridgeError as exc:
            return back("/secrets", "error", str(exc))
        if view is None:
            return back("/secrets", "error", f"no secret named {name} in tenant {tenant}")
        return render(request, "secret.html", row=view.row, audit=view.audit, rollout=view.rollout, history=view.history,
                      refresh_s=ROLLOUT_REFRESH_S if rollout_in_progress(view.rollout) else None, types=list(SECRET_TYPES))

    def secret_action(action: Callable[[str, str, FormData], str]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            tenant, name = request.path_params["tenant"], request.path_params["name"]
            form = await request.form()
            try:
                message = await call(action, tenant, name, form)
            except BridgeError as exc:
                return back(secret_url(tenant, name), "error", str(exc))
            target = "/secrets" if action is delete else secret_url(tenant, name)
            return back(target, "ok", message)

        return endpoint

    def test(tenant: str, name: str, form: FormData) -> str:
        tested = backend.test(tenant, name)
        return f"test of {name}: {state(tested.type, tested.status)}: {tested.message}"

    def rotate(tenant: str, name: str, form: FormData) -> str:
        value = form.get("value")
        if not isinstance(value, str) or not value:
            raise BridgeError("give the new value in the value field")
        return backend.rotate(tenant, name, value)

    def policy(tenant: str, name: str, form: FormData) -> str:
        done = backend.store(tenant, name, None, field(form, "description"), field(form, "type"),
                             field(form, "rotate_every"), field(form, "expires"))
        return f"{done} {name}"

    def delete(tenant: str, name: str, form: FormData) -> str:
        if field(form, "confirm") != name:
            raise BridgeError(f"type the secret's name ({name}) to delete it; nothing was deleted")
        backend.delete(tenant, name)
        return f"deleted {name}"

    async def tokens_page(request: Request) -> Response:
        try:
            tokens = await call(backend.tokens)
        except BridgeError as exc:
            flashes.append(("error", str(exc)))
            tokens = []
        return render(request, "tokens.html", tokens=tokens)

    async def create_token(request: Request) -> Response:
        form = await request.form()
        tenant = field(form, "tenant") or "default"
        try:
            name = check_token_name(field(form, "name") or "")
            allow = [check_glob(g) for g in (field(form, "allow") or "").replace(",", " ").split()]
            token, globs, until = await call(backend.mint, tenant, name, allow, field(form, "expires"))
        except BridgeError as exc:
            return back("/tokens", "error", str(exc))
        # The one answer that carries a secret: the token, once; never stored, and not cached (no-store).
        return render(request, "token_created.html", token=token, tenant=tenant, name=name, allow=globs, until=until)

    async def revoke(request: Request) -> Response:
        tenant, name = request.path_params["tenant"], request.path_params["name"]
        try:
            await call(backend.revoke, tenant, name)
        except BridgeError as exc:
            return back("/tokens", "error", str(exc))
        return back("/tokens", "ok", f"revoked token {name} of tenant {tenant}: its next resolve is refused")

    async def audit_page(request: Request) -> Response:
        query = AuditQuery.from_params(request.query_params, time.time())
        try:
            records = await call(backend.audit, query.since, query.name, query.failures, AUDIT_PAGE_ROWS + 1)
        except BridgeError as exc:
            flashes.append(("error", str(exc)))
            records = []
        cut = query.cut_note(len(records), AUDIT_PAGE_ROWS)
        return render(request, "audit.html", records=records[:AUDIT_PAGE_ROWS], cut=cut, since=query.period,
                      name=query.name or "", failures=query.failures, choices=list(AUDIT_SINCE_CHOICES),
                      query=request.url.query)

    async def audit_csv(request: Request) -> Response:
        query = AuditQuery.from_params(request.query_params, time.time())
        try:
            records = await call(backend.audit, query.since, query.name, query.failures, AUDIT_CSV_ROWS + 1)
        except BridgeError as exc:
            return PlainTextResponse(f"503: {exc}", 503)
        out = io.StringIO()
        cut = query.cut_note(len(records), AUDIT_CSV_ROWS)
        write_csv([records[:AUDIT_CSV_ROWS]], out, note=cut)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="bridge-audit.csv"'})

    async def alerts_page(request: Request) -> Response:
        try:
            alerts = await call(backend.alerts, None)
        except BridgeError as exc:
            flashes.append(("error", str(exc)))
            alerts = []
        return render(request, "alerts.html", alerts=alerts)

    async def integrations_page(request: Request) -> Response:
        return render(request, "integrations.html", edge=await call(backend.edge_panel), notify=await call(backend.notify_panel))

    async def doctor_page(request: Request) -> Response:
        return render(request, "doctor.html", checks=await call(backend.doctor))

    app = Starlette(routes=[
        Route(LOGIN_PATH, login, methods=["GET"]),
        Mount(root, routes=[
            Route("/", home),
            Route("/secrets", secrets_page),
            Route("/secrets", add_secret, methods=["POST"]),
            Route("/secrets/{tenant}/{name:path}/test", secret_action(test), methods=["POST"]),
            Route("/secrets/{tenant}/{name:path}/rotate", secret_action(rotate), methods=["POST"]),
            Route("/secrets/{tenant}/{name:path}/policy", secret_action(policy), methods=["POST"]),
            Route("/secrets/{tenant}/{name:path}/delete", secret_action(delete), methods=["POST"]),
            Route("/secrets/{tenant}/{name:path}", secret_page),
            Route("/tokens", tokens_page),
            Route("/tokens", create_token, methods=["POST"]),
            Route("/tokens/{tenant}/{name}/revoke", revoke, methods=["POST"]),
            Route("/audit", audit_page),
            Route("/audit.csv", audit_csv),
            Route("/alerts", alerts_page),
            Route("/doctor", doctor_page),
            Route("/integrations", integrations_page),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]),
    ])
    return Guard(app, session)
