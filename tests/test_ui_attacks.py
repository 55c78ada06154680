"""`bridge ui` attacked as another program on the same machine would (issue 26).

The dashboard runs as a user runs it, and the user logs in through what it printed, in the real Chromium.
Then the user's browser opens a page of another local server: it makes the browser request a loopback
"attacker" server on another port (images on 127.0.0.1 and localhost, fetch with credentials, iframes, a
navigation). The attacker records every header it receives and replays every cookie and header it got against
the dashboard, with whatever Host and Origin it likes, on every path it can guess, trying to read a page, mint
a gateway token or store a secret. It must get nothing.

The login URL comes from the file the first line names (`open file:///.../login-PORT.html`, a meta-refresh
page), or from the line itself when it prints the URL.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests import test_ui_browser
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE
from tests.support.faults import FaultProxy
from tests.support.pg import PgCluster, audit_rows_dropped_after
from tests.support.postgrest import Endpoint
from tests.support.sockets import HttpServer, Seen

browser = test_ui_browser.browser
provider = test_ui_browser.provider
"""The real Chromium and the loopback OpenAI of the dashboard's own tests."""
WAIT_S = test_ui_browser.WAIT_S
COOKIE = "bridge_session"
URL = re.compile(r"https?://[^\s\"'<>]+")
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
       b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def login_url_of(line: str) -> tuple[str, str, Path | None]:
    """(what the user opens, the login URL itself, the login file if any) from the first line printed."""
    opened = line.split()[3]
    if opened.startswith("file://"):
        path = Path(unquote(urlsplit(opened).path))
        found = [u for u in URL.findall(html.unescape(path.read_text())) if "token=" in u]
        assert found, f"no login URL in {path}"
        return opened, found[0], path
    return opened, opened, None


class Ui:
    """`bridge ui --no-browser --port 0` as a user runs it; stopped with a signal."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.proc = subprocess.Popen([str(BRIDGE), "ui", "--no-browser", "--port", "0", *extra], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.line = self.proc.stdout.readline()
        assert self.line.startswith("bridge ui: open "), self.line + self.proc.stderr.read()
        self.opened, self.login_url, self.login_file = login_url_of(self.line)
        parts = urlsplit(self.login_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.port = parts.port or 80
        self.login_path = self.login_url[len(self.origin):]

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=WAIT_S)
        return self.proc.returncode, self.line + out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def ui(env_bootstrap: dict[str, str], provider: object) -> Iterator[Ui]:
    dashboard = Ui(env_bootstrap)
    try:
        yield dashboard
    finally:
        dashboard.kill()


def fresh(driver: WebDriver) -> WebDriver:
    """The module's browser with no cookie of an earlier test's dashboard."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return driver


def log_in(driver: WebDriver, dashboard: Ui) -> str:
    """Open what the dashboard printed, as the user would; the page it lands on."""
    driver.get(dashboard.opened)
    WebDriverWait(driver, WAIT_S).until(lambda d: d.current_url.startswith(dashboard.origin + "/")
                                        and "/login" not in d.current_url)
    url: str = driver.current_url
    assert url.endswith("/secrets"), url
    return url


@dataclass
class Heard:
    """One request a loopback server received, with the Host it was sent to."""

    method: str
    path: str
    headers: dict[str, str]


PROBES = """<!doctype html><title>a local dev server</title>
<p>nothing to see</p>
<iframe src="http://127.0.0.1:{port}/frame-ip"></iframe>
<iframe src="http://localhost:{port}/frame-localhost"></iframe>
<script>
const base = ["http://127.0.0.1:{port}", "http://localhost:{port}"];
const paths = ["/img", "/secrets", "/login", "/static/app.js", "/tokens"];
const loads = [];
for (const b of base) for (const p of paths) {{
  loads.push(new Promise(done => {{ const i = new Image(); i.onload = i.onerror = done; i.src = b + p + "?img"; }}));
  loads.push(fetch(b + p + "?fetch", {{credentials: "include", mode: "no-cors"}}).catch(() => null));
  loads.push(fetch(b + p + "?cors", {{credentials: "include"}}).catch(() => null));
}}
for (const f of document.querySelectorAll("iframe")) {{
  loads.push(new Promise(done => {{ f.complete ? done() : f.addEventListener("load", done); }}));
}}
Promise.all(loads).then(() => {{ location.href = "http://127.0.0.1:{port}/navigated"; }});
</script>"""


class Listener(HttpServer):
    """A loopback server on its own port that records every request and header it gets: a dev server, a local
    tool, a compromised package's server. `/page` makes the browser request `target`'s port every way it can."""

    def __init__(self) -> None:
        self.heard: list[Heard] = []
        self.navigated = threading.Event()
        self.target = 0
        self.set_cookie = ""
        self.set_cookies: list[str] = []
        super().__init__()

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        self.heard.append(Heard(seen.method, seen.path, dict(seen.headers)))
        path = seen.path.split("?")[0]
        if path == "/page":
            body, kind = PROBES.format(port=self.target or self.port).encode(), "text/html"
        elif path == "/img":
            body, kind = GIF, "image/gif"
        else:
            body, kind = b"<!doctype html><p>ok</p>", "text/html"
        cookie = "".join(f"Set-Cookie: {c}\r\n" for c in [self.set_cookie, *self.set_cookies] if c)
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n{cookie}"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
        conn.sendall(head.encode() + body)
        if path == "/navigated":
            self.navigated.set()

    def cookies(self) -> set[str]:
        return {h.headers["cookie"] for h in self.heard if "cookie" in h.headers}


@pytest.fixture
def attacker() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def third() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.stop()


def visit_other_servers(driver: WebDriver, attacker: Listener, third: Listener) -> None:
    """The user, logged in, opens a page of the attacker's own server and one of a third local server whose
    page points at the attacker: each makes the browser request the attacker's port every way it can."""
    third.target = attacker.port
    for page in (f"{attacker.url}/page", f"http://localhost:{third.port}/page", f"{third.url}/page"):
        attacker.navigated.clear()
        driver.get(page)
        assert attacker.navigated.wait(WAIT_S), f"the probes of {page} never finished"


@dataclass
class Replay:
    """The attacker with what it collected: every way it can think of to use it against the dashboard."""

    port: int
    heard: list[Heard]
    wins: list[str] = field(default_factory=list)

    def hosts(self) -> list[str]:
        return [f"127.0.0.1:{self.port}", f"localhost:{self.port}"]

    def prefixes(self) -> list[str]:
        """"" and any path prefix a Referer or a request path it saw could hold (a path secret, if leaked)."""
        found = {""}
        for h in self.heard:
            for url in (h.headers.get("referer", ""), h.path):
                segments = urlsplit(url).path.split("/")
                for n in range(2, len(segments)):
                    found.add("/".join(segments[:n]))
        return sorted(found)

    def header_sets(self) -> list[dict[str, str]]:
        """For each distinct Cookie header it was sent (and none): the whole request as the browser sent it, and
        the cookie alone (the attacker is no browser, and drops Sec-Fetch-* and the rest at will)."""
        kept: dict[str, dict[str, str]] = {"": {}}
        for h in self.heard:
            cookie = h.headers.get("cookie", "")
            if cookie and cookie not in kept:
                kept[cookie] = {k: v for k, v in h.headers.items()
                                if k not in ("host", "content-length", "connection", "origin", "referer")}
        return [*kept.values(), *({"cookie": c} for c in kept if c)]

    def run(self, token_name: str, secret_name: str) -> list[str]:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", follow_redirects=False, timeout=WAIT_S) as client:
            for headers in self.header_sets():
                for host in self.hosts():
                    for prefix in self.prefixes():
                        self.attempt(client, headers, host, prefix, token_name, secret_name)
        return self.wins

    def attempt(self, client: httpx.Client, headers: dict[str, str], host: str, prefix: str,
                token_name: str, secret_name: str) -> None:
        base = {**headers, "host": host}
        sent = "the cookie alone" if list(headers) == ["cookie"] else f"{len(headers)} headers the browser sent"
        for path in ("/secrets", "/tokens", "/audit", "/doctor", "/", "/login"):
            page = client.get(prefix + path, headers=base)
            if page.status_code == 200:
                self.wins.append(f"GET {host}{prefix}{path} with {sent}: 200")
            if 'name="csrf" value="' not in page.text:
                continue
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            for origin in (f"http://{h}" for h in self.hosts()):
                posted = {**base, "origin": origin, "content-type": "application/x-www-form-urlencoded"}
                minted = client.post(prefix + "/tokens", headers=posted,
                                     data={"csrf": csrf, "name": token_name, "tenant": "default", "allow": "OPENAI_API_KEY"})
                if "ocbt_" in minted.text:
                    self.wins.append(f"POST {host}{prefix}/tokens as {origin} with {sent}: minted a gateway token")
                stored = client.post(prefix + "/secrets", headers=posted,
                                     data={"csrf": csrf, "name": secret_name, "value": "attacker-" + secrets.token_hex(8),
                                           "tenant": "default", "type": "generic"})
                if stored.status_code == 303 and "error" not in client.get(stored.headers["location"], headers=base).text:
                    self.wins.append(f"POST {host}{prefix}/secrets as {origin} with {sent}: stored a secret")


def tokens_named(pg: PgCluster, name: str) -> int:
    with pg.connect("postgres", autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM vault_bridge.gateway_tokens WHERE name = %s", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def drop_tokens(pg: PgCluster, name: str) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE name = %s", (name,))


def test_another_local_server_gets_no_page_no_token_and_no_change_from_what_the_browser_sends_it(
    ui: Ui, browser: WebDriver, attacker: Listener, third: Listener, pg: PgCluster, vault: Vault,
) -> None:
    driver = fresh(browser)
    log_in(driver, ui)
    visit_other_servers(driver, attacker, third)
    token_name = "attacker-" + secrets.token_hex(3)
    secret_name = "ATTACKER_" + secrets.token_hex(3).upper()
    vault.names.append(secret_name)
    try:
        wins = Replay(ui.port, attacker.heard + third.heard).run(token_name, secret_name)
        minted = tokens_named(pg, token_name)
    finally:
        drop_tokens(pg, token_name)
    assert not wins and not minted, "the attacker got in with what the browser sent it:\n" + "\n".join(wins)


def test_the_session_cookie_never_reaches_another_local_port(
    ui: Ui, browser: WebDriver, attacker: Listener, third: Listener,
) -> None:
    driver = fresh(browser)
    log_in(driver, ui)
    visit_other_servers(driver, attacker, third)
    assert attacker.heard, "the browser never reached the attacker"
    leaked = [c for c in attacker.cookies() | third.cookies() if COOKIE in c]
    assert not leaked, f"another port received the dashboard's cookie: {leaked}"


@dataclass
class Client:
    """A logged-in session as httpx holds it: the cookie, the session's path (`root`) and a CSRF token."""

    http: httpx.Client
    root: str
    cookie: str

    def page(self, path: str) -> httpx.Response:
        return self.http.get(self.root + path)

    def csrf(self) -> str:
        text = self.page("/secrets").text
        return text.split('name="csrf" value="')[1].split('"')[0]

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        origin = {"origin": f"http://127.0.0.1:{self.http.base_url.port}"}
        return self.http.post(self.root + path, data={"csrf": self.csrf(), **data}, headers=origin)


def landing_of(answer: httpx.Response) -> str:
    """Where a login answer sends the browser: a redirect's Location, or a meta refresh's URL."""
    if answer.is_redirect:
        return urlsplit(answer.headers["location"]).path
    return urlsplit(html.unescape(answer.text.split("url=", 1)[1].split('"')[0])).path


def http_login(dashboard: Ui) -> Client:
    http = httpx.Client(base_url=f"http://127.0.0.1:{dashboard.port}", follow_redirects=False, timeout=WAIT_S,
                        headers={"host": f"127.0.0.1:{dashboard.port}"})
    answer = http.get(dashboard.login_path)
    assert answer.status_code in (200, 303) and COOKIE in answer.cookies, (answer.status_code, answer.text)
    landing = landing_of(answer)
    assert landing.endswith("/secrets"), landing
    return Client(http, landing.removesuffix("/secrets"), answer.cookies[COOKIE])


@pytest.fixture
def session(ui: Ui) -> Iterator[Client]:
    client = http_login(ui)
    try:
        yield client
    finally:
        client.http.close()


def test_head_options_post_and_prefetches_never_spend_the_login_token(ui: Ui) -> None:
    host = {"host": f"127.0.0.1:{ui.port}"}
    tries = [
        httpx.head(ui.login_url, headers=host, timeout=WAIT_S),
        httpx.options(ui.login_url, headers=host, timeout=WAIT_S),
        httpx.post(ui.login_url, headers=host, timeout=WAIT_S),
        *(httpx.get(ui.login_url, headers={**host, name: value}, timeout=WAIT_S) for name, value in (
            ("sec-purpose", "prefetch"), ("sec-purpose", "prefetch;prerender"), ("purpose", "prefetch"),
            ("x-moz", "prefetch"), ("sec-purpose", "Prefetch;anonymous-client-ip"))),
    ]
    got_cookie = [f"{r.request.method} {dict(r.request.headers)}" for r in tries if COOKIE in r.cookies]
    assert not got_cookie, f"these spent the login token: {got_cookie}"
    answer = httpx.get(ui.login_url, headers=host, timeout=WAIT_S)
    assert COOKIE in answer.cookies, "the user's own GET after them was refused"


def test_a_safari_top_sites_preview_never_spends_the_login_token(ui: Ui) -> None:
    """Safari loads pages for its Top Sites previews in the background with `X-Purpose: preview`."""
    preview = httpx.get(ui.login_url, headers={"host": f"127.0.0.1:{ui.port}", "x-purpose": "preview"}, timeout=WAIT_S)
    assert COOKIE not in preview.cookies, "a background preview spent the login token"
    assert COOKIE in httpx.get(ui.login_url, headers={"host": f"127.0.0.1:{ui.port}"}, timeout=WAIT_S).cookies


def test_exactly_one_of_many_concurrent_logins_wins(ui: Ui) -> None:
    racers = 24
    barrier = threading.Barrier(racers)
    won: list[bool] = []

    def race() -> None:
        with httpx.Client(timeout=WAIT_S) as client:
            barrier.wait()
            won.append(COOKIE in client.get(ui.login_url, headers={"host": f"127.0.0.1:{ui.port}"}).cookies)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == racers and won.count(True) == 1, f"{won.count(True)} of {racers} concurrent logins got a session"


def login_token(dashboard: Ui) -> str:
    return dashboard.login_url.split("token=", 1)[1]


def test_the_login_token_is_in_no_argv_environment_or_piped_output(
    env_bootstrap: dict[str, str], provider: object, tmp_path: Path,
) -> None:
    """Without --no-browser: the browser it starts (a stand-in that records its argv and environment, as
    /proc/<pid>/cmdline and environ show them), bridge's own /proc entries, and its stdout to a pipe."""
    seen = tmp_path / "browser-saw"
    os.mkfifo(seen)
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\n{{ printf "%s\\n" "$@"; env; cat /proc/$$/cmdline; }} > {seen}\n')
    fake.chmod(0o700)
    proc = subprocess.Popen([str(BRIDGE), "ui", "--port", "0"], env={**env_bootstrap, "BROWSER": str(fake)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("bridge ui: open "), line
        _, url, _ = login_url_of(line)
        token = url.split("token=", 1)[1]
        fd = os.open(seen, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as pipe:
            ready, _, _ = select.select([pipe], [], [], WAIT_S)
            assert ready, "bridge ui never started the browser"
            os.set_blocking(fd, True)
            browser_saw = pipe.read().decode()
        own = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode() + Path(f"/proc/{proc.pid}/environ").read_bytes().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT_S)
    places = {"the browser's argv or environment": browser_saw, "bridge's own argv or environment": own,
              "stdout to a pipe": line + out, "stderr": err}
    assert not [where for where, text in places.items() if token in text], \
        f"the login token is in {[where for where, text in places.items() if token in text]}"


def everything_in(answer: httpx.Response) -> str:
    return f"{answer.status_code} {answer.headers!r} {answer.text}"


def test_no_answer_to_a_request_without_the_session_holds_the_session_path(ui: Ui) -> None:
    """What anyone on the machine can ask without the cookie or the path: every status, header and body they get
    back (redirects, 403 and 404 pages, static files, the login page with a wrong or spent token)."""
    host = {"host": f"127.0.0.1:{ui.port}"}
    asked = ["/", "/secrets", "/tokens", "/audit.csv", "/static/app.js", "/static/", "/nope", "/login", "/login?token=x",
             "/login/", "//", "/..", "/%2e%2e/secrets"]
    with httpx.Client(base_url=f"http://127.0.0.1:{ui.port}", follow_redirects=False, timeout=WAIT_S) as client:
        before = [everything_in(client.request(method, path, headers=host)) for path in asked for method in ("GET", "HEAD", "POST")]
        before += [everything_in(client.head(ui.login_path, headers=host)),
                   everything_in(client.get(ui.login_path, headers={**host, "sec-purpose": "prefetch"}))]
        session = http_login(ui)
        after = [everything_in(client.request(method, path, headers=host)) for path in [*asked, ui.login_path]
                 for method in ("GET", "HEAD", "POST")]
    key = session.root.strip("/")
    assert key, "this design has no session path"
    leaked = [text[:120] for text in before + after if key in text]
    assert not leaked, f"the session path leaks to requests without it: {leaked}"


def test_the_cookie_alone_on_any_other_path_gets_nothing(session: Client) -> None:
    """The attacker has the cookie (say it leaked) but not the path: every path it can think of, with it."""
    root, key = session.root, session.root.strip("/")
    tries = ["/secrets", "/tokens", "/audit.csv", "/", "//secrets", "/./secrets", "/%2e/secrets", "/static/../secrets",
             "/login/../secrets", "/login%2F..%2Fsecrets", f"/{key.upper()}/secrets", f"/{key.lower()}/secrets",
             f"/{key[:-1]}/secrets", f"/{key}x/secrets", f"/{key[1:]}/secrets", f"/{key}%2Fsecrets",
             f"//{key}/secrets"]
    tries = [t for t in tries if not t.startswith(root + "/") or t == f"/{key}%2Fsecrets"]
    got = {path: session.http.get(path) for path in tries}
    answered = {p: a.status_code for p, a in got.items() if a.status_code < 300 or 'name="csrf"' in a.text}
    assert not answered, f"the cookie without the exact path got pages: {answered}"
    assert session.page("/secrets").status_code == 200


def raw_request(port: int, head: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as conn:
        conn.sendall(head.encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


def test_a_foreign_host_gets_nothing_even_with_the_cookie_and_the_path(session: Client) -> None:
    """DNS rebinding, and every Host trick: with the cookie and the path (the strongest attacker), only the
    loopback names of this port may get a page. Duplicate Host headers and absolute-form targets included."""
    port = session.http.base_url.port
    assert port is not None
    cookie = f"{COOKIE}={session.cookie}"
    path = session.root + "/secrets"
    foreign = [f"evil.example:{port}", "evil.example", f"127.0.0.1:{port}.evil.example", f"127.0.0.1.evil.example:{port}",
               f"evil.example:{port}@127.0.0.1:{port}", f"127.0.0.1:{port}, evil.example", f"127.0.0.1:{port} evil.example",
               f"localhost.evil.example:{port}", ""]
    got = {}
    for host in foreign:
        got[repr(host)] = raw_request(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    for first, second in ((f"evil.example:{port}", f"127.0.0.1:{port}"), (f"127.0.0.1:{port}", f"evil.example:{port}")):
        got[f"Host: {first} + Host: {second}"] = raw_request(
            port, f"GET {path} HTTP/1.1\r\nHost: {first}\r\nHost: {second}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    got["absolute-form to evil.example"] = raw_request(
        port, f"GET http://evil.example:{port}{path} HTTP/1.1\r\nHost: evil.example:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    got["absolute-form, Host loopback, target evil.example"] = raw_request(
        port, f"GET http://evil.example:{port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    answered = {k: v.split("\r\n", 1)[0] for k, v in got.items() if 'name="csrf"' in v}
    # The last one names loopback in Host; serving it is harmless (the browser never sends it), so it is not held against it.
    answered.pop("absolute-form, Host loopback, target evil.example", None)
    assert not answered, f"a foreign Host got a page: {answered}"


@pytest.fixture
def second_ui(env_bootstrap: dict[str, str], provider: object, tmp_path: Path) -> Iterator[Ui]:
    """A second `bridge ui` of the same user at the same time (its own port)."""
    dashboard = Ui(env_bootstrap)
    try:
        yield dashboard
    finally:
        dashboard.kill()


def shows_the_dashboard(driver: WebDriver, url: str) -> bool:
    driver.get(url)
    return 'name="csrf"' in driver.page_source and "403 forbidden" not in driver.find_element("tag name", "body").text


def test_two_dashboards_in_one_browser_each_keep_working(ui: Ui, second_ui: Ui, browser: WebDriver) -> None:
    driver = fresh(browser)
    first = log_in(driver, ui)
    second = log_in(driver, second_ui)
    assert shows_the_dashboard(driver, first), "logging into a second dashboard logged the first one out"
    assert shows_the_dashboard(driver, second), "the second dashboard lost its session"


@pytest.mark.parametrize("tossed", ["Path=/", "Path=/secrets", "Path=/login"])
def test_a_cookie_another_port_sets_never_logs_the_user_out(
    ui: Ui, browser: WebDriver, attacker: Listener, tossed: str,
) -> None:
    """Cookie tossing: a server on another port of the same host sets its own `bridge_session` for the host, which
    the browser then sends the dashboard next to (or before) the real one."""
    driver = fresh(browser)
    landing = log_in(driver, ui)
    attacker.set_cookie = f"{COOKIE}=tossed-by-another-port; {tossed}"
    driver.get(f"{attacker.url}/img")
    stored = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    assert any(c["value"] == "tossed-by-another-port" for c in stored), "the browser did not keep the tossed cookie"
    assert shows_the_dashboard(driver, landing), f"a cookie set by another port ({tossed}) locked the user out"


def test_another_port_flooding_the_cookie_jar_never_logs_the_user_out(
    ui: Ui, browser: WebDriver, attacker: Listener,
) -> None:
    """Chromium keeps at most 180 cookies per host and evicts the least recently used: another port of 127.0.0.1
    sets 200, and the dashboard's session (its login token spent) would be gone."""
    driver = fresh(browser)
    landing = log_in(driver, ui)
    attacker.set_cookies = [f"filler{n}=x; Path=/; Max-Age=600" for n in range(200)]
    driver.get(f"{attacker.url}/img")
    assert shows_the_dashboard(driver, landing), "another port evicted the session cookie by flooding the host's cookie jar"


def test_leaving_the_dashboard_sends_no_referer_holding_the_session_path(
    ui: Ui, browser: WebDriver, attacker: Listener,
) -> None:
    """The user follows a link (or anything navigates) from a dashboard page to another local server."""
    driver = fresh(browser)
    landing = log_in(driver, ui)
    root = urlsplit(landing).path.removesuffix("/secrets")
    for page in (landing, f"{ui.origin}{root}/audit", f"{ui.origin}{root}/static/app.js", f"{ui.origin}{root}/nope"):
        driver.get(page)
        attacker.navigated.clear()
        driver.execute_script("location.href = arguments[0]", f"{attacker.url}/navigated")
        assert attacker.navigated.wait(WAIT_S)
    leaked = [h.headers.get("referer") for h in attacker.heard if root and root in h.headers.get("referer", "") + h.path]
    assert not leaked, f"a Referer carried the session path to another server: {leaked}"


@pytest.fixture(scope="module")
def rebinding_browser() -> Iterator[WebDriver]:
    """A Chromium whose DNS answers rebind.test with 127.0.0.1, as a rebinding attacker's DNS server would."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = test_ui_browser.CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP rebind.test 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(test_ui_browser.CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_dns_rebinding_reads_nothing(ui: Ui, rebinding_browser: WebDriver) -> None:
    """The attacker's name resolves to 127.0.0.1: a page of its origin, on the dashboard's port, can read what the
    dashboard answers it. It must answer nothing, login included."""
    driver = rebinding_browser
    driver.get(ui.login_url.replace("127.0.0.1", "rebind.test"))
    body = driver.find_element("tag name", "body").text
    assert "403" in body and not driver.get_cookies(), body
    driver.get(ui.opened)
    WebDriverWait(driver, WAIT_S).until(lambda d: d.current_url.endswith("/secrets"))
    landing = driver.current_url
    driver.get(landing.replace("127.0.0.1", "rebind.test"))
    assert 'name="csrf"' not in driver.page_source


class SpyProxy(FaultProxy):
    """The fault proxy, telling the test when a call has reached it (so a test awaits it, not a sleep)."""

    def __init__(self, upstream: str) -> None:
        self.reached = threading.Event()
        super().__init__(upstream)

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        self.reached.set()
        super().answer(conn, seen)


@pytest.fixture
def spy(endpoint: Endpoint) -> Iterator[SpyProxy]:
    front = SpyProxy(endpoint.url)
    try:
        yield front
    finally:
        front.stop()


def through(spy: SpyProxy, env: dict[str, str], deadline: str) -> Iterator[Ui]:
    (Path(env["BRIDGE_HOME"]) / "config.toml").write_text(f'admin_deadline = "{deadline}"\n')
    dashboard = Ui({**env, "SUPABASE_URL": spy.url})
    try:
        yield dashboard
    finally:
        dashboard.kill()


@pytest.fixture
def ui_via_spy(env_bootstrap: dict[str, str], spy: SpyProxy) -> Iterator[Ui]:
    yield from through(spy, env_bootstrap, "2s")


@pytest.fixture
def ui_patient(env_bootstrap: dict[str, str], spy: SpyProxy) -> Iterator[Ui]:
    """A dashboard that would wait 120 s for Supabase: a stop must not wait for it."""
    yield from through(spy, env_bootstrap, "120s")


ROUTES = [("GET", "/"), ("GET", "/secrets"), ("GET", "/secrets/default/SOME_KEY"), ("GET", "/tokens"), ("GET", "/audit"),
          ("GET", "/audit.csv"), ("GET", "/audit.csv?since=7d&name=SOME_KEY&failures=1"), ("GET", "/alerts"),
          ("GET", "/doctor"), ("POST", "/secrets"), ("POST", "/secrets/default/SOME_KEY/test"),
          ("POST", "/secrets/default/SOME_KEY/rotate"), ("POST", "/secrets/default/SOME_KEY/policy"),
          ("POST", "/secrets/default/SOME_KEY/delete"), ("POST", "/tokens"), ("POST", "/tokens/default/some-token/revoke")]
FORM = {"name": "SOME_KEY", "value": "v-" + "0" * 20, "type": "generic", "tenant": "default", "confirm": "SOME_KEY",
        "allow": "SOME_KEY", "description": "d"}


def every_route(client: Client, csrf: str) -> dict[str, httpx.Response]:
    origin = {"origin": f"http://127.0.0.1:{client.http.base_url.port}"}
    return {f"{method} {path}": client.http.request(method, client.root + path, headers=origin,
                                                    data={**FORM, "csrf": csrf} if method == "POST" else None)
            for method, path in ROUTES}


def one_line_answers(answers: dict[str, httpx.Response]) -> dict[str, str]:
    """The answers that are neither a page, a redirect, the CSV nor one line saying what failed (a bare
    "Internal Server Error" is not one)."""
    bad = {}
    for route, answer in answers.items():
        kind = answer.headers.get("content-type", "")
        page = answer.status_code in (200, 303) and ("html" in kind or answer.status_code == 303 or "csv" in kind)
        line = answer.text.strip()
        said = answer.status_code >= 400 and len(line.splitlines()) == 1 and line != "Internal Server Error"
        if not (page or said):
            bad[route] = f"{answer.status_code} {answer.text[:200]!r}"
    return bad


@pytest.mark.parametrize("fault", ["down", "hang", 503, "garbage"])
def test_every_route_answers_one_line_when_supabase_is_down_or_slow(ui_via_spy: Ui, spy: SpyProxy, fault: str | int) -> None:
    client = http_login(ui_via_spy)
    csrf = client.csrf()
    if fault == "down":
        spy.stop()
    else:
        spy.mode = fault
    answers = every_route(client, csrf)
    alive = ui_via_spy.proc.poll() is None
    code, out, err = ui_via_spy.stop()
    assert alive and code == 0, (code, err)
    assert not one_line_answers(answers), one_line_answers(answers)
    assert "Traceback" not in err and "Traceback" not in out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_exits_0_and_says_stopped(ui: Ui, sig: int) -> None:
    http_login(ui).http.close()
    code, out, err = ui.stop(sig)
    assert code == 0 and "stopped" in out, (code, out, err)
    assert ui.login_file is None or not ui.login_file.exists(), "the login file outlived the dashboard"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_never_waits_for_a_request_stuck_on_a_hanging_supabase(ui_patient: Ui, spy: SpyProxy, sig: int) -> None:
    client = http_login(ui_patient)
    spy.mode = "hang"
    def ask() -> None:
        with contextlib.suppress(httpx.HTTPError):
            client.page("/secrets")

    stuck = threading.Thread(target=ask, daemon=True)
    spy.reached.clear()
    stuck.start()
    assert spy.reached.wait(WAIT_S), "the request never reached Supabase"
    began = time.monotonic()
    ui_patient.proc.send_signal(sig)
    try:
        code = ui_patient.proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        code = None
    waited = time.monotonic() - began
    assert code == 0, f"after {signal.Signals(sig).name} with a call stuck: exit {code} after {waited:.1f} s"
    assert waited < WAIT_S, f"it waited {waited:.1f} s"


def plant_audit(pg: PgCluster, rows: list[tuple[str, str, str | None, str]], tag: str = "") -> None:
    """Audit rows as a gateway-token holder's requests leave them: (secret name, host, error, age); `tag` in
    the provider column."""
    with pg.connect("postgres", autocommit=True) as conn:
        for name, host, error, age in rows:
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, error_message, client, accessed_at) "
                "VALUES (%s, 'resolve', %s, %s, jsonb_build_object('host', %s::text, 'user_agent', %s::text, "
                "'provider', %s::text), now() - %s::interval)",
                (name, error is None, error, host, host, tag, age))


def flood_audit(pg: PgCluster, name: str, count: int) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
            "SELECT %s, 'resolve', false, jsonb_build_object('host', 'junk-' || n), now() - (n || ' ms')::interval "
            "FROM generate_series(1, %s) AS n", (name, count))


@pytest.mark.parametrize("junk", [250, 1200, 10_050])
def test_a_token_holder_flooding_the_log_hides_no_read_without_a_word(session: Client, pg: PgCluster, junk: int) -> None:
    """One real read an hour ago, then `junk` requests of the same name: the page and the CSV of the period
    show the real read, or say (in the page, and in the file's first line) that they stop short, and how to get
    everything."""
    name = "FLOODED_" + secrets.token_hex(3).upper()
    real = "the-real-read-" + secrets.token_hex(3)
    with audit_rows_dropped_after(pg):
        plant_audit(pg, [(name, real, None, "1 hour")])
        flood_audit(pg, name, junk)
        missing = {}
        for query in (f"since=24h&name={name}", "since=24h", f"since=7d&name={name}"):
            page = session.page(f"/audit?{query}").text
            sheet = session.page(f"/audit.csv?{query}").text
            if real not in page and "bridge audit" not in page:
                missing[f"/audit?{query}"] = "no real read, no word"
            if real not in sheet and "bridge audit" not in sheet.split("\n", 1)[0]:
                missing[f"/audit.csv?{query}"] = "no real read, no word in the first line"
            if junk <= 1000 and f"name={name}" in query and (real not in page or real not in sheet):
                missing[f"?{query}"] = f"the real read is cut from {junk + 1} rows"
    assert not missing, missing


HOSTILE_CELLS = ["x;=2+5;y", "gw;@SUM(1+1);z", "a\t=1+1", "a,=1+1", '"=1+1"', '"x";=1+1', ' =1+1', "  @SUM(1)",
                 "x\r=1+1", "x\n=1+1", "x\r\n+1+1", "-2+3", "+cmd|' /C calc'!A0", "x;-2+3", 'x";=1+1;"y', "x\t@A1",
                 "x; =1+1", "x;\t=1+1", "x,\"=1+1\"", "=HYPERLINK(\"http://evil\")", "x|=1+1", "x;'=1+1",
                 'x;"=1+1"', 'x;" =1+1"', 'x;""=1+1', 'x; "=1+1"', 'x;"', ';"=1+1', 'x\t"=1+1"', "x;\u00a0=1+1",
                 "x;\u3000=1+1", "x;\uff1d1+1", "x;\u200b=1+1"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")
CSV_TAG = "csvtag" + secrets.token_hex(3)


def spreadsheet_cells(text: str, separator: str) -> list[list[str]]:
    """The cells Excel or LibreOffice makes of the file when the locale's list separator is `separator`: quotes
    honoured, as both do."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))


@pytest.fixture
def hostile_csv(session: Client, pg: PgCluster) -> Iterator[str]:
    with audit_rows_dropped_after(pg):
        plant_audit(pg, [(cell, cell, cell, "1 minute") for cell in HOSTILE_CELLS], tag=CSV_TAG)
        answer = session.page("/audit.csv?since=1h")
        assert answer.status_code == 200, answer.text
        yield answer.text


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_csv_cell_starts_a_formula_in_any_locale(hostile_csv: str, separator: str) -> None:
    formulas = [cell for row in spreadsheet_cells(hostile_csv, separator) for cell in row if cell.startswith(FORMULA)]
    assert not formulas, f"split at {separator!r}, these cells start a formula: {formulas}"


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_csv_cell_starts_a_formula_after_leading_spaces(hostile_csv: str, separator: str) -> None:
    """Some importers trim the spaces before a cell's text (LibreOffice's "Trim spaces", Excel's Text import)."""
    formulas = [cell for row in spreadsheet_cells(hostile_csv, separator) for cell in row
                if cell.lstrip(" ").startswith(FORMULA)]
    assert not formulas, f"split at {separator!r} and trimmed, these cells start a formula: {formulas}"


def test_the_hostile_csv_still_reads_as_csv(hostile_csv: str) -> None:
    rows = spreadsheet_cells(hostile_csv, ",")
    header = next(r for r in rows if "secret_name" in r)
    body = rows[rows.index(header) + 1:]
    planted = [r for r in body if r[header.index("provider")] == CSV_TAG]
    assert len(planted) == len(HOSTILE_CELLS), f"{len(planted)} of the {len(HOSTILE_CELLS)} planted rows read back"
    assert {len(r) for r in body} == {len(header)}, "rows of another width than the header"


def test_a_form_over_64_kib_is_refused_and_nothing_is_stored(session: Client, vault: Vault) -> None:
    name = "HUGE_" + secrets.token_hex(3).upper()
    vault.names.append(name)
    csrf = session.csrf()
    origin = {"origin": f"http://127.0.0.1:{session.http.base_url.port}"}
    form = {"csrf": csrf, "name": name, "tenant": "default", "type": "generic", "value": "v" * (70 * 1024)}
    whole = session.http.post(session.root + "/secrets", data=form, headers=origin)
    body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    chunked = session.http.post(session.root + "/secrets", content=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
                                headers={**origin, "content-type": "application/x-www-form-urlencoded"})
    multipart = session.http.post(session.root + "/secrets", data={k: v for k, v in form.items() if k != "value"},
                                  files={"value": ("v", b"v" * (70 * 1024))}, headers=origin)
    assert [whole.status_code, chunked.status_code, multipart.status_code] == [413, 413, 413]
    assert f'data-name="{name}"' not in session.page(f"/secrets?q={name}").text


def test_many_idle_connections_do_not_lock_the_user_out(session: Client) -> None:
    """Slowloris: another user holds hundreds of connections open, each with half a request, or a form body
    that never ends."""
    port = session.http.base_url.port
    assert port is not None
    held = []
    try:
        for n in range(400):
            conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
            if n % 2:
                conn.sendall(f"GET {session.root}/secrets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-a: ".encode())
            else:
                conn.sendall(f"POST {session.root}/secrets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                             f"Cookie: {COOKIE}={session.cookie}\r\nContent-Length: 60000\r\n\r\nname=".encode())
            held.append(conn)
        answer = session.page("/secrets")
    finally:
        for conn in held:
            conn.close()
    assert answer.status_code == 200


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
"""Another user of the machine."""


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NOBODY, *argv], capture_output=True, text=True, timeout=WAIT_S, check=False)


@pytest.fixture
def shared_home(env_bootstrap: dict[str, str]) -> Iterator[tuple[dict[str, str], Path]]:
    """A data directory other users can traverse (0755, as ~/.local/share is under umask 022), on a path they can
    reach; or, made 1777 by a test, one they can write in."""
    top = Path(tempfile.mkdtemp(prefix="bridge-ui-shared-"))
    top.chmod(0o755)
    home = top / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    try:
        yield {**env_bootstrap, "BRIDGE_HOME": str(home)}, home
    finally:
        shutil.rmtree(top, ignore_errors=True)


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def start_ui(env: dict[str, str], *extra: str, umask: int = 0o022) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BRIDGE), "ui", "--no-browser", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.umask(umask))


def test_another_user_cannot_read_the_login_file_whatever_the_umask(shared_home: tuple[dict[str, str], Path]) -> None:
    env, _ = shared_home
    proc = start_ui(env, "--port", "0", umask=0)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        _, url, path = login_url_of(line)
        assert path is not None
        token = url.split("token=", 1)[1]
        modes = (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777)
        read = as_nobody("cat", str(path))
        listed = as_nobody("ls", "-la", str(path.parent))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=WAIT_S)
    assert modes == (0o600, 0o700), f"login file and directory modes {modes[0]:o} {modes[1]:o}"
    assert token not in read.stdout + listed.stdout and read.returncode != 0


@pytest.mark.parametrize("planted", ["directory", "symlink to a directory", "symlinked login file"])
def test_a_login_path_another_user_planted_never_gets_them_the_token(
    shared_home: tuple[dict[str, str], Path], tmp_path: Path, planted: str,
) -> None:
    """The data directory is writable by others (1777): another user plants `ui` (a directory of theirs, or a
    symlink to one) or `ui/login-PORT.html` (a symlink to a file of theirs) before `bridge ui --port PORT`, and
    watches it. They must get no token; bridge either refuses with one line or writes where they cannot read."""
    env, home = shared_home
    home.chmod(0o1777)
    theirs = Path(tempfile.mkdtemp(prefix="bridge-ui-theirs-"))
    port = free_port()
    try:
        os.chown(theirs, 65534, 65534)
        theirs.chmod(0o777)
        if planted == "directory":
            assert as_nobody("mkdir", "-m", "777", str(home / "ui")).returncode == 0
        elif planted == "symlink to a directory":
            assert as_nobody("ln", "-s", str(theirs), str(home / "ui")).returncode == 0
        else:
            assert as_nobody("mkdir", "-m", "777", str(home / "ui")).returncode == 0
            assert as_nobody("touch", str(theirs / "catch")).returncode == 0
            assert as_nobody("chmod", "666", str(theirs / "catch")).returncode == 0
            assert as_nobody("ln", "-s", str(theirs / "catch"), str(home / "ui" / f"login-{port}.html")).returncode == 0
        proc = start_ui(env, "--port", str(port))
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        token = ""
        if line.startswith("bridge ui: open "):
            token = login_url_of(line)[1].split("token=", 1)[1]
        seen = as_nobody("sh", "-c", f"cat {home}/ui/* {home}/ui/.* {theirs}/* {theirs}/.* 2>/dev/null; ls -la {home}/ui {theirs}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        shutil.rmtree(theirs, ignore_errors=True)
    if not token:
        assert proc.returncode == 1 and len(err.strip().splitlines()) == 1, (line, out, err)
    assert not token or token not in seen.stdout, f"another user read the token through a planted {planted}"
