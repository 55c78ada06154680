"""`bridge ui` in a real browser (Debian's headless Chromium through Selenium), against the real stack.

The dashboard runs as a user runs it (`bridge ui --no-browser --port 0`), the test reads the one line it
prints and logs in through that URL. Every page the browser is shown is kept and searched for the values
stored through it. The refusals (no cookie, a foreign Host, a POST without the CSRF token) are sent with
httpx, since a browser will not forge them; that is the point of them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from bridge.local.paths import Paths
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.provider_fakes import OpenAIFake

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
"""Debian's chromium and chromium-driver, which test.sh installs."""
WAIT_S = 30.0
DOCS = Path(__file__).resolve().parents[1] / "docs"
"""Where the screenshots of every page go (docs/ui-*.png), rewritten when UPDATE_SCREENSHOT=1 by the walk below."""

def openai_key() -> str:
    return ("sk-proj-" + secrets.token_urlsafe(48))[:56]


class Dashboard:
    """`bridge ui` as a process: the private login file named by the one line it prints, and the URL in that file;
    stopped with Ctrl-C (SIGINT)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([str(BRIDGE), "ui", "--no-browser", "--port", "0"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline()
        assert self.line.startswith("bridge ui: open file:///"), self.line + (self.proc.stderr.read() if self.proc.stderr else "")
        self.login_file_uri = self.line.split()[3]
        self.login_file = Path(self.login_file_uri.removeprefix("file://"))
        self.login_url = self.login_file.read_text().split('content="0;url=')[1].split('"')[0].replace("&amp;", "&")
        self.origin = self.login_url.split("/login")[0]
        self.port = int(self.origin.rsplit(":", 1)[1])
        self.root = ""
        """The session's path, learnt from the login's redirect."""

    def logged_in_at(self, url: str) -> None:
        assert url.startswith(self.origin + "/") and url.endswith("/secrets"), url
        self.root = url.removeprefix(self.origin).removesuffix("/secrets")

    @property
    def base(self) -> str:
        return self.origin + self.root

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        return self.stop_after_signal()

    def stop_after_signal(self) -> tuple[int, str]:
        """Its exit status and everything it printed, once a stop signal was sent."""
        code = self.proc.wait(timeout=WAIT_S)
        rest = (self.proc.stdout.read() if self.proc.stdout else "") + (self.proc.stderr.read() if self.proc.stderr else "")
        return code, self.line + rest


@pytest.fixture
def provider(env_bootstrap: dict[str, str]) -> Iterator[OpenAIFake]:
    fake = OpenAIFake(openai_key())
    config = Paths.from_env(env_bootstrap).config_file
    config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_text(f'[providers.openai]\nbase_url = "{fake.url}"\n')
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def dashboard(env_bootstrap: dict[str, str], provider: OpenAIFake) -> Iterator[Dashboard]:
    ui = Dashboard(env_bootstrap)
    try:
        yield ui
    finally:
        if ui.proc.poll() is None:
            ui.proc.kill()
            ui.proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Pages:
    """The browser, keeping every page source it was shown."""

    def __init__(self, driver: WebDriver, origin: str) -> None:
        self.driver = driver
        self.origin = origin
        self.sources: list[str] = []

    def open(self, path: str) -> None:
        self.driver.get(self.origin + path)
        self.keep()

    def keep(self) -> None:
        self.sources.append(self.driver.page_source)

    def fill(self, form: Any, **fields: str) -> None:
        for name, value in fields.items():
            element = form.find_element(By.NAME, name)
            if element.tag_name == "select":
                element.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, form: Any) -> None:
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(self.driver, WAIT_S).until(expected_conditions.staleness_of(form))
        self.keep()

    def form(self, action_suffix: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, f"form[method=post][action$='{action_suffix}']")

    def flash(self) -> str:
        return " ".join(e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".flash"))


def test_the_dashboard_in_a_real_browser(
    dashboard: Dashboard, browser: WebDriver, provider: OpenAIFake, vault: Vault, pg: PgCluster, env_bootstrap: dict[str, str],
) -> None:
    name = "UI_OPENAI_" + secrets.token_hex(3).upper()
    vault.names.append(name)
    key, rotated = provider.key, openai_key()
    hostile = "<script>window.__pwned = 1</script> team key"
    with audit_rows_dropped_after(pg):
        # Log in as a user does: the browser opens the private file bridge ui wrote, which sends it on to the token
        # URL; the cookie is set, scoped to the session's path, and the token is spent.
        assert dashboard.login_file.stat().st_mode & 0o777 == 0o600
        assert dashboard.login_file.parent.stat().st_mode & 0o777 == 0o700
        browser.get(dashboard.login_file_uri)
        WebDriverWait(browser, WAIT_S).until(lambda driver: driver.current_url.endswith("/secrets"))
        dashboard.logged_in_at(browser.current_url)
        pages = Pages(browser, dashboard.base)
        pages.keep()
        cookie = browser.get_cookie("bridge_session")
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == dashboard.root and len(dashboard.root) > 40

        # Add a typed secret; the description holding a script tag renders as text and runs nothing.
        add = pages.form("/secrets")
        pages.fill(add, name=name, value=key, type="openai", description=hostile, rotate_every="90d")
        pages.submit(add)
        assert f"stored {name}" in pages.flash(), browser.current_url + browser.page_source[:800]
        pages.open(f"/secrets?q={name}")
        row = browser.find_element(By.CSS_SELECTOR, f"tr[data-name='{name}']")
        assert "openai" in row.text and row.find_element(By.CSS_SELECTOR, ".badge").text == "untested"
        assert row.find_element(By.CSS_SELECTOR, ".description").text == hostile
        assert browser.execute_script("return window.__pwned === undefined")

        # Test it against the loopback stand-in of OpenAI: the badge turns to connected.
        row.find_element(By.TAG_NAME, "a").click()
        pages.keep()
        pages.submit(pages.form("/test"))
        assert f"test of {name}: connected" in pages.flash()
        assert browser.find_element(By.CSS_SELECTOR, "h1 .badge").text == "connected"

        # Rotate it, and see the audit rows of the store, the test and the rotation.
        provider.key = rotated
        rotate = pages.form("/rotate")
        pages.fill(rotate, value=rotated)
        pages.submit(rotate)
        assert f"rotated {name}" in pages.flash()
        kinds = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(2)")]
        assert {"test", "rotate"} <= set(kinds), kinds
        # The store is older than the page's RECENT_AUDIT_ROWS (each view of this page writes its own list and
        # audit rows naming the secret): the audit page, filtered by name, holds it.
        secret_page = browser.current_url
        browser.get(dashboard.base + f"/audit?since=1h&name={name}")
        kinds = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(2)")]
        assert {"store", "test", "rotate"} <= set(kinds), kinds
        browser.get(secret_page)
        versions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.history tbody tr")]
        assert len(versions) == 2 and "current" in versions[0] and "ok" in versions[0] and "kept until" in versions[1], versions
        assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]"), "no gateway is pending"
        # A gateway that resolved it before the rotation and not since: the page shows the progress and reloads
        # itself (no script) until it has; once it has, the reloading stops.
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                         "VALUES (%s, 'resolve', true, '{\"host\": \"gw-berlin\"}', now() - interval '1 hour')", (name,))
        pages.open(f"/secrets/default/{name}")
        assert "0/1 gateway has the new value" in browser.find_element(By.ID, "rollout-progress").text
        assert browser.find_element(By.CSS_SELECTOR, "meta[http-equiv=refresh]").get_attribute("content") == "5"
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client) "
                         "VALUES (%s, 'resolve', true, '{\"host\": \"gw-berlin\"}')", (name,))
        pages.open(f"/secrets/default/{name}")
        assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")

        # Create a token (shown once, with a copy button) and revoke it.
        token_name = "ui-" + secrets.token_hex(3)
        pages.open("/tokens")
        create = pages.form("/tokens")
        pages.fill(create, name=token_name, tenant="default", allow=name)
        pages.submit(create)
        token = browser.find_element(By.ID, "new-token").text
        assert token.startswith("ocbt_") and browser.find_element(By.CSS_SELECTOR, "button.copy").is_displayed()
        pages.open("/tokens")
        assert token not in browser.page_source, "the token is shown once"
        listed = browser.find_element(By.CSS_SELECTOR, f"tr[data-token='default/{token_name}']")
        assert "active" in listed.text
        pages.submit(listed.find_element(By.TAG_NAME, "form"))
        assert "revoked token" in pages.flash()
        assert "revoked" in browser.find_element(By.CSS_SELECTOR, f"tr[data-token='default/{token_name}']").text

        # The CSV export, with a formula planted in the log, opens as text in a spreadsheet.
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client) "
                         "VALUES (%s, 'resolve', true, jsonb_build_object('host', '=HYPERLINK(\"http://evil\")'))", (name,))
        pages.open(f"/audit?name={name}&since=1h")
        href = browser.find_element(By.ID, "export-csv").get_attribute("href")
        assert href is not None
        csv_text = httpx.get(href, cookies={"bridge_session": cookie["value"]}, headers={"host": f"127.0.0.1:{dashboard.port}"}).text
        assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text and name in csv_text

        for path in ("/alerts", "/doctor", f"/secrets/default/{name}"):
            pages.open(path)
        assert "Doctor" in pages.sources[-2] and "rollout" in pages.sources[-1].lower()

        # Delete it with a typed confirmation.
        delete = pages.form("/delete")
        pages.fill(delete, confirm="not-the-name")
        pages.submit(delete)
        assert "type the secret's name" in pages.flash()
        delete = pages.form("/delete")
        pages.fill(delete, confirm=name)
        pages.submit(delete)
        assert f"deleted {name}" in pages.flash()

    leaked = [i for i, source in enumerate(pages.sources) if key in source or rotated in source]
    assert not leaked, f"a value appears in page source #{leaked}"
    code, output = dashboard.stop()
    assert code == 0, output
    assert key not in output and rotated not in output and token not in output


def test_requests_without_the_session_from_another_host_or_without_csrf_are_refused(
    dashboard: Dashboard, vault: Vault,
) -> None:
    host = {"host": f"127.0.0.1:{dashboard.port}"}
    with httpx.Client(base_url=dashboard.origin, follow_redirects=False) as client:
        assert client.get("/secrets", headers=host).status_code == 403, "no cookie"
        rebinding = client.get(dashboard.login_url.replace(dashboard.origin, ""), headers={"host": f"evil.example:{dashboard.port}"})
        assert rebinding.status_code == 403 and "wrong Host" in rebinding.text
        login = client.get(dashboard.login_url.replace(dashboard.origin, ""), headers=host)
        assert login.status_code == 200 and 'http-equiv="refresh"' in login.text
        cookie = login.cookies["bridge_session"]
        assert "HttpOnly" in login.headers["set-cookie"] and "samesite=strict" in login.headers["set-cookie"].lower()
        root = login.text.split('content="0;url=')[1].split('"')[0].removesuffix("/secrets")
        assert f"Path={root};" in login.headers["set-cookie"] + ";"
        again = client.get(dashboard.login_url.replace(dashboard.origin, ""), headers=host)
        assert again.status_code == 403, "the login token works once"
        assert httpx.get(f"{dashboard.origin}{root}/secrets", headers=host).status_code == 403, "the session's path, no cookie"
        client.cookies.set("bridge_session", cookie)
        for elsewhere in ("/secrets", "/", f"{root[:-1]}/secrets", f"{root}x/secrets"):
            refused = client.get(elsewhere, headers=host)
            assert refused.status_code == 403 and root not in refused.text + json.dumps(dict(refused.headers)), elsewhere

        page = client.get(f"{root}/secrets", headers=host)
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text.replace(f'<script src="{root}/static/app.js" defer></script>', "")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]

        name = "UI_REFUSED_" + secrets.token_hex(3).upper()
        vault.names.append(name)
        form = {"name": name, "value": "sk-refused-" + secrets.token_hex(16), "type": "generic", "tenant": "default"}
        same_origin = {**host, "origin": dashboard.origin}
        assert client.post(f"{root}/secrets", data=form, headers=same_origin).status_code == 403, "no CSRF token"
        assert client.post(f"{root}/secrets", data={**form, "csrf": "0" * 64}, headers=same_origin).status_code == 403
        foreign = client.post(f"{root}/secrets", data={**form, "csrf": csrf}, headers={**host, "origin": "http://evil.example"})
        assert foreign.status_code == 403 and "cross-origin" in foreign.text
        assert client.post(f"{root}/secrets", data={**form, "csrf": csrf}, headers=host).status_code == 403, "no Origin"
        listed = client.get(f"{root}/secrets?q={name}", headers=host).text
        assert f"data-name=\"{name}\"" not in listed, "nothing refused was stored"
        stored = client.post(f"{root}/secrets", data={**form, "csrf": csrf}, headers=same_origin)
        assert stored.status_code == 303 and form["value"] not in stored.text + json.dumps(dict(stored.headers))
        tested = client.post(f"{root}/secrets/default/{name}/test", data={"csrf": csrf}, headers=same_origin)
        assert tested.status_code == 303
        assert "a generic secret: there is nothing to test" in client.get(tested.headers["location"], headers=host).text
        for refused in (client.get(f"{root}/static/app.js", headers={"host": "evil.example"}),
                        httpx.get(f"{dashboard.origin}{root}/doctor", headers=host)):
            assert refused.status_code == 403 and "<table" not in refused.text


DEMO = "demo"
"""The walk's tenant: its secrets are the only ones its list page shows, whatever other tests stored."""
DEMO_SECRETS = {
    # name: (type, description, recorded test (status, message) or None, policy change in SQL or None)
    "OPENAI_API_KEY": ("openai", "production key for the gateway", ("ok", "200 from GET /v1/models"), None),
    "ANTHROPIC_API_KEY": ("anthropic", "Claude for the support bot", ("invalid", "401 authentication_error"), None),
    "GEMINI_API_KEY": ("gemini", "", ("unreachable", "no answer within 4 s"), None),
    "OPENROUTER_API_KEY": ("openrouter", "fallback models", None, "expires_at = now() - interval '3 days'"),
    "GCP_SERVICE_ACCOUNT": ("gcp-service-account", "Vertex AI", None, "rotated_at = now() - interval '200 days'"),
    "TELEGRAM_BOT_TOKEN": ("generic", "the gateway's Telegram channel", None, None),
}
DAILY_RESOLVES = [(d * 7) % 13 + 2 for d in range(30)]
"""OPENAI_API_KEY's successful resolves, by days ago (0 is today): a pattern whose bars differ day by day."""
DAILY_FAILURES = {3: 2, 4: 5, 11: 1}
ROTATED_DAYS_AGO = 12
SECONDS_OVER_120 = re.compile(r"\b(\d+(?:\.\d+)?) ?(?:s|sec|seconds)\b")
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d")
NONE_SHOWN = re.compile(r"\b(None|null|undefined|nan)\b")


def seed_demo(pg: PgCluster) -> dict[str, str]:
    """The demo tenant's secrets with their types, test outcomes and policy, 30 days of gateway use of
    OPENAI_API_KEY (and a little of the others) with failures and a rotation, as committed rows; their values."""
    values = {}
    with pg.connect("postgres", autocommit=True) as conn:
        for name, (kind, description, tested, policy) in DEMO_SECRETS.items():
            full = f"{DEMO}#{name}"
            values[name] = "demo-" + secrets.token_urlsafe(24)
            conn.execute("DELETE FROM vault.secrets WHERE name = %s", (full,))
            conn.execute("SELECT public.set_secret(%s, %s, %s, %s)", (full, values[name], description or None, json.dumps({"type": kind})))
            if tested is not None:
                conn.execute("SELECT public.record_secret_check(%s, %s, %s, (SELECT updated_at FROM vault.secrets WHERE name = %s))",
                             (full, *tested, full))
            if policy is not None:
                conn.execute(f"UPDATE vault_bridge.secret_meta SET {policy} WHERE secret_id = "
                             "(SELECT id FROM vault.secrets WHERE name = %s)", (full,))
        openai = f"{DEMO}#OPENAI_API_KEY"
        for days_ago, count in enumerate(DAILY_RESOLVES):
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, client, accessed_at) "
                "SELECT %s, 'resolve', true, %s, CASE WHEN i %% 2 = 0 THEN 'gw-laptop' END, "
                "jsonb_build_object('host', CASE WHEN i %% 2 = 0 THEN 'laptop' ELSE 'mac-mini' END), "
                "least(now() - interval '1 minute', date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
                "- %s * interval '1 day' + i * interval '37 minutes') FROM generate_series(1, %s) AS i",
                (openai, DEMO, days_ago, count))
        for days_ago, count in DAILY_FAILURES.items():
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, error_message, name_count, client, accessed_at) "
                "VALUES (%s, 'resolve', false, 'secret not found', %s, '{\"host\": \"mac-mini\"}', "
                "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - %s * interval '1 day' + interval '5 hours')",
                (openai, count, days_ago))
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, access_type, success, accessed_at) VALUES (%s, 'rotate', true, "
            "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - %s * interval '1 day' + interval '9 hours')",
            (openai, ROTATED_DAYS_AGO))
        for name, every in (("ANTHROPIC_API_KEY", 3), ("TELEGRAM_BOT_TOKEN", 1), ("GCP_SERVICE_ACCOUNT", 5)):
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                "SELECT %s, 'resolve', %s, '{\"host\": \"mac-mini\"}', now() - d * interval '1 day' - interval '2 hours' "
                "FROM generate_series(0, 29, %s) AS d", (f"{DEMO}#{name}", name != "ANTHROPIC_API_KEY", every))
    return values


def page_problems(text: str, source: str) -> list[str]:
    """What a page must never show: None or null, a duration of more than 120 seconds, a time to the microsecond."""
    problems = [f"shows {m.group()!r}" for m in NONE_SHOWN.finditer(text)]
    problems += [f"duration {m.group()!r}" for m in SECONDS_OVER_120.finditer(text) if float(m.group(1)) > 120]
    problems += [f"microsecond time {source[max(0, m.start() - 80) : m.end() + 20]!r}" for m in MICROSECONDS.finditer(source)]
    return problems


def bars(browser: WebDriver, css: str) -> list[tuple[str, int, int]]:
    return [(g.get_attribute("data-day") or "", int(g.get_attribute("data-resolves") or -1), int(g.get_attribute("data-failures") or -1))
            for g in browser.find_elements(By.CSS_SELECTOR, f"{css} g.day")]


def test_every_page_speaks_human_with_realistic_data(
    dashboard: Dashboard, browser: WebDriver, vault: Vault, pg: PgCluster, env_bootstrap: dict[str, str],
) -> None:
    """Every page, with a tenant of realistic secrets and 30 days of use: no None, no duration in raw seconds, no
    microseconds, the badges `secrets ls` says, and a chart whose bars are the audit rows. Its screenshots are
    docs/ui-*.png (UPDATE_SCREENSHOT=1)."""
    vault.names.extend(f"{DEMO}#{name}" for name in DEMO_SECRETS)
    with audit_rows_dropped_after(pg):
        values = seed_demo(pg)
        created = run_bridge(["tokens", "create", "gw-laptop", "--tenant", DEMO, "--allow", "OPENAI_API_KEY", "--expires", "90d"],
                             env_bootstrap)
        assert created.returncode == 0, created.stderr
        listed = run_bridge(["secrets", "ls", "--tenant", DEMO, "--json"], env_bootstrap)
        assert listed.returncode == 0, listed.stderr
        states = {row["name"]: row["state"] for row in json.loads(listed.stdout)}
        assert states == {"OPENAI_API_KEY": "connected", "ANTHROPIC_API_KEY": "refused", "GEMINI_API_KEY": "unreachable",
                          "OPENROUTER_API_KEY": "untested", "GCP_SERVICE_ACCOUNT": "untested", "TELEGRAM_BOT_TOKEN": "not testable"}
        assert {row["status"] for row in json.loads(listed.stdout)} == {"ok", "invalid", "unreachable", None}, "--json keeps its values"
        table = run_bridge(["secrets", "ls", "--tenant", DEMO], env_bootstrap).stdout.decode()
        for name, word in states.items():
            line = next(line for line in table.splitlines() if line.startswith(name + " "))
            assert f"  {word}  " in line, line
        assert "90 days" in table and "overdue" in table and "expired" in table
        assert not page_problems(table, table), page_problems(table, table)
        # The CLI's other text outputs say the same: durations in days or minutes, times to the minute, no None.
        for args in (["secrets", "due", "--tenant", DEMO], ["audit", "--since", "30d", "--limit", "200", "--name", f"{DEMO}#OPENAI_API_KEY"], ["doctor"],
                     ["tokens", "ls"], ["secrets", "rollout", "OPENAI_API_KEY", "--tenant", DEMO]):
            text = run_bridge(args, env_bootstrap).stdout.decode()
            assert text and not page_problems(text, text), (args, page_problems(text, text))
            assert not any(value in text for value in values.values())
        due = run_bridge(["secrets", "due", "--tenant", DEMO], env_bootstrap).stdout.decode()
        assert "OPENROUTER_API_KEY   expired" in due and "days ago" in due and "(gcp-service-account, untested)" in due
        assert "(all secrets of tenant demo)" in run_bridge(["audit", "--since", "1h"], env_bootstrap).stdout.decode()
        assert "max_stale 7 days" in run_bridge(["doctor"], env_bootstrap).stdout.decode()

        browser.get(dashboard.login_file_uri)
        WebDriverWait(browser, WAIT_S).until(lambda driver: driver.current_url.endswith("/secrets"))
        dashboard.logged_in_at(browser.current_url)
        pages = Pages(browser, dashboard.base)
        shots = os.environ.get("UPDATE_SCREENSHOT") == "1"

        # The list: the badge of every row is the word `secrets ls` printed, and every row has its sparkline.
        pages.open(f"/secrets?tenant={DEMO}")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.secrets tbody tr[data-name]")
        shown = {row.get_attribute("data-name"): row.find_element(By.CSS_SELECTOR, ".badge").text for row in rows}
        assert shown == states
        assert all(row.find_elements(By.CSS_SELECTOR, "svg.sparkline path.bar-resolves") for row in rows)
        spark = browser.find_element(By.CSS_SELECTOR, "tr[data-name='OPENAI_API_KEY'] svg.sparkline")
        assert (spark.get_attribute("data-resolves") or "").split(",") == [str(n) for n in DAILY_RESOLVES[::-1]]
        assert (spark.get_attribute("data-failures") or "").split(",") == [str(DAILY_FAILURES.get(29 - i, 0)) for i in range(30)]
        drawn = (spark.find_element(By.CSS_SELECTOR, "path.bar-resolves").get_attribute("d") or "").count("M")
        assert drawn == sum(1 for n in DAILY_RESOLVES if n), "one bar a day with resolves"
        for word in ("refused", "not testable"):
            pages.open(f"/secrets?tenant={DEMO}&status={word.replace(' ', '+')}")
            assert [r.get_attribute("data-name") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-name]")] == [
                name for name, state in states.items() if state == word]
        pages.open(f"/secrets?tenant={DEMO}")
        if shots:
            browser.save_screenshot(str(DOCS / "ui-secrets.png"))

        # Each secret's page: its chart. OPENAI_API_KEY's bars are the rows seeded: resolves and failures per day,
        # heights in proportion, and the rotation marked on its day.
        for name in DEMO_SECRETS:
            pages.open(f"/secrets/{DEMO}/{name}")
            assert browser.find_element(By.CSS_SELECTOR, "h1 .badge").text == states[name]
            assert len(bars(browser, "svg.usage-chart")) == 30
        pages.open(f"/secrets/{DEMO}/OPENAI_API_KEY")
        chart = bars(browser, "svg.usage-chart")
        assert [r for _, r, _ in chart] == DAILY_RESOLVES[::-1], chart
        assert [f for _, _, f in chart] == [DAILY_FAILURES.get(29 - i, 0) for i in range(30)]
        peak = max(r + f for _, r, f in chart)
        for g in browser.find_elements(By.CSS_SELECTOR, "svg.usage-chart g.day"):
            height = float(g.find_element(By.CSS_SELECTOR, "rect.bar-resolves").get_attribute("height") or 0)
            assert abs(height - 140 * int(g.get_attribute("data-resolves") or 0) / peak) < 0.11
        marks = browser.find_elements(By.CSS_SELECTOR, "svg.usage-chart g.rotation")
        assert len(marks) == 1 and "rotated" in marks[0].text
        assert browser.find_element(By.ID, "rotate-every").text == "90 days"
        assert (browser.find_element(By.CSS_SELECTOR, "dd time").get_attribute("title") or "").endswith("Z")
        if shots:
            browser.save_screenshot(str(DOCS / "ui-secret.png"))

        pages.open("/audit?since=30d")
        assert "(all secrets)" in pages.sources[-1] and "token demo/gw-laptop" in pages.sources[-1]
        for path, shot in (("/tokens", "ui-tokens.png"), ("/audit?since=30d&failures=1", "ui-audit.png"),
                           ("/alerts", "ui-alerts.png"), ("/doctor", "ui-doctor.png")):
            pages.open(path)
            if shots:
                browser.save_screenshot(str(DOCS / shot))

        for index, source in enumerate(pages.sources):
            browser.execute_script("document.open(); document.write(arguments[0]); document.close();", source)
            problems = page_problems(browser.find_element(By.TAG_NAME, "body").text, source)
            assert not problems, (index, problems)
            assert not any(value in source for value in values.values())
    forget(pg, tenants=(DEMO,))
