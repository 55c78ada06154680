"""`bridge ui`'s session against the attacks of issue 26, as a process with httpx (and the real Chromium where a
browser is involved): the login URL in no argv, a login only one GET spends, two dashboards side by side, the
audit view that never hides a row, Supabase down or hanging, and the stop signals."""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bridge.local.paths import Paths
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE
from tests.support.faults import FaultProxy
from tests.support.pg import PgCluster, audit_rows_dropped_after
from tests.test_ui_browser import WAIT_S, Dashboard, browser  # noqa: F401 - the module's browser fixture

SINCE = "1h"


class LoggedIn:
    """A dashboard logged into with httpx: the session's path and cookie, and the Host it must name."""

    def __init__(self, ui: Dashboard) -> None:
        self.ui = ui
        self.client = httpx.Client(base_url=ui.origin, follow_redirects=False, timeout=WAIT_S)
        login = self.client.get(ui.login_url.removeprefix(ui.origin))
        assert login.status_code == 200, login.text
        self.root = login.text.split('content="0;url=')[1].split('"')[0].removesuffix("/secrets")

    def get(self, path: str) -> httpx.Response:
        return self.client.get(self.root + path)


@pytest.fixture
def make_dashboard(env_bootstrap: dict[str, str]) -> Iterator[list[Dashboard]]:
    started: list[Dashboard] = []
    try:
        yield started
    finally:
        for ui in started:
            if ui.proc.poll() is None:
                ui.proc.kill()
                ui.proc.wait()


def start(started: list[Dashboard], env: dict[str, str]) -> Dashboard:
    ui = Dashboard(env)
    started.append(ui)
    return ui


def test_the_login_url_is_in_no_argv_or_environment_and_the_browser_is_given_the_private_file(
    env_bootstrap: dict[str, str], tmp_path: Path, make_dashboard: list[Dashboard],
) -> None:
    seen = tmp_path / "browser-argv"
    fake_browser = tmp_path / "browser"
    fake_browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}.tmp && mv {seen}.tmp {seen}\n')
    fake_browser.chmod(0o700)
    ui_proc = subprocess.Popen([str(BRIDGE), "ui", "--port", "0"], env={**env_bootstrap, "BROWSER": str(fake_browser)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert ui_proc.stdout is not None
        line = ui_proc.stdout.readline()
        login_file = Path(line.split()[3].removeprefix("file://"))
        token = login_file.read_text().split("token=")[1].split('"')[0]
        assert len(token) >= 40 and token not in line
        info = login_file.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and stat.S_IMODE(login_file.parent.stat().st_mode) == 0o700
        assert login_file.parent == Paths.from_env(env_bootstrap).data_dir / "ui"
        for _ in range(int(WAIT_S * 100)):
            if seen.exists():
                break
            threading.Event().wait(0.01)
        assert seen.read_text().split() == [login_file.as_uri()], "the browser is opened on the file, not the URL"
        for kind in ("cmdline", "environ"):
            assert token.encode() not in Path(f"/proc/{ui_proc.pid}/{kind}").read_bytes(), kind
    finally:
        ui_proc.send_signal(signal.SIGINT)
        out, err = ui_proc.communicate(timeout=WAIT_S)
    assert ui_proc.returncode == 0 and "stopped" in out and token not in out + err
    assert not login_file.exists(), "the login file goes with the dashboard"


def test_only_one_get_spends_the_login_and_head_or_a_prefetch_never_does(
    env_bootstrap: dict[str, str], make_dashboard: list[Dashboard],
) -> None:
    ui = start(make_dashboard, env_bootstrap)
    path = ui.login_url.removeprefix(ui.origin)
    with httpx.Client(base_url=ui.origin, follow_redirects=False) as client:
        assert client.head(path).status_code != 200
        assert client.request("OPTIONS", path).status_code != 200
        assert client.post(path, headers={"origin": ui.origin}).status_code != 200
        for header in ({"sec-purpose": "prefetch"}, {"purpose": "prefetch"}, {"sec-purpose": "prefetch;prerender"}):
            prefetched = client.get(path, headers=header)
            assert prefetched.status_code == 403 and "set-cookie" not in prefetched.headers, header
    barrier = threading.Barrier(16)
    codes: list[int] = []

    def race() -> None:
        barrier.wait()
        codes.append(httpx.get(ui.login_url, follow_redirects=False).status_code)

    racers = [threading.Thread(target=race) for _ in range(16)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(WAIT_S)
    assert sorted(codes) == [200] + [403] * 15


def test_two_dashboards_in_one_browser_each_keep_their_own_session(
    env_bootstrap: dict[str, str], tmp_path: Path, browser: WebDriver, make_dashboard: list[Dashboard],  # noqa: F811
) -> None:
    first = start(make_dashboard, env_bootstrap)
    second_home = tmp_path / "second-home"
    second_home.mkdir(mode=0o700)
    second = start(make_dashboard, {**env_bootstrap, "BRIDGE_HOME": str(second_home)})
    for ui in (first, second):
        browser.get(ui.login_file_uri)

        def arrived(driver: WebDriver, ui: Dashboard = ui) -> bool:
            return bool(driver.current_url.startswith(ui.origin + "/") and driver.current_url.endswith("/secrets"))

        WebDriverWait(browser, WAIT_S).until(arrived)
        ui.logged_in_at(browser.current_url)
    for ui in (first, second, first):
        browser.get(ui.base + "/tokens")
        assert browser.current_url == ui.base + "/tokens" and "403 forbidden" not in browser.page_source, ui.port
        assert "<h1>" in browser.page_source


def test_the_audit_view_shows_every_row_of_its_period_or_says_it_did_not(
    env_bootstrap: dict[str, str], pg: PgCluster, vault: Vault, make_dashboard: list[Dashboard],
) -> None:
    name = "UI_AUDIT_" + os.urandom(3).hex().upper()
    ui = LoggedIn(start(make_dashboard, env_bootstrap))
    with audit_rows_dropped_after(pg), pg.connect("postgres", autocommit=True) as conn:
        def add(rows: int, what: str) -> None:
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, client) "
                "SELECT %s, 'resolve', true, jsonb_build_object('host', %s || n) FROM generate_series(1, %s) AS n",
                (name, what, rows))

        add(1, "the-real-read-")
        add(250, "junk-")
        page = ui.get(f"/audit?since={SINCE}&name={name}").text
        assert "the-real-read-1" in page and 'id="audit-cut"' not in page, "250 rows after it no longer hide it"
        add(1000, "more-junk-")
        page = ui.get(f"/audit?since={SINCE}&name={name}").text
        assert 'id="audit-cut"' in page and "bridge audit --since 1h --name" in page and "--all --format csv" in page
        export = ui.get(f"/audit.csv?since={SINCE}&name={name}").text
        assert "the-real-read-1" in export and not export.startswith("only the newest")
        add(10_000, "flood-")
        export = ui.get(f"/audit.csv?since={SINCE}&name={name}").text
        first_line = next(csv.reader(io.StringIO(export)))[0]
        assert first_line.startswith("only the newest 10000 rows") and f"--name {name} --all --format csv" in first_line
        assert "the-real-read-1" not in export
        everything = subprocess.run([str(BRIDGE), "audit", "--since", SINCE, "--name", name, "--all", "--format", "csv"],
                                    env=env_bootstrap, capture_output=True, text=True, timeout=120)
        assert everything.returncode == 0, everything.stderr
        lines = everything.stdout.splitlines()
        assert len(lines) == 1 + 11_251 and "the-real-read-1" in lines[-1]


def test_every_route_answers_one_line_when_supabase_is_down_and_no_traceback_is_printed(
    env_bootstrap: dict[str, str], proxy: FaultProxy, make_dashboard: list[Dashboard],
) -> None:
    ui = start(make_dashboard, {**env_bootstrap, "SUPABASE_URL": proxy.url})
    session = LoggedIn(ui)
    for mode in (503, "garbage"):
        proxy.mode = mode
        for path in ("/secrets", "/secrets/default/SOME_NAME", "/tokens", "/audit", "/alerts", "/doctor"):
            answer = session.client.get(session.root + path, follow_redirects=True)
            assert answer.status_code == 200 and "<h1>" in answer.text, (mode, path, answer.text[:200])
        export = session.get("/audit.csv")
        assert export.status_code == 503 and export.text.count("\n") == 0 and export.text.startswith("503: "), export.text
    ui.proc.send_signal(signal.SIGTERM)
    code, output = ui.stop_after_signal()
    assert code == 0 and "bridge ui: stopped" in output and "Traceback" not in output, output


def test_sigterm_and_sighup_stop_it_with_exit_0_even_with_a_request_stuck_on_a_hanging_supabase(
    env_bootstrap: dict[str, str], proxy: FaultProxy, make_dashboard: list[Dashboard],
) -> None:
    home = Path(env_bootstrap["BRIDGE_HOME"])
    (home / "config.toml").write_text("admin_deadline = 600\n")
    for stop in (signal.SIGTERM, signal.SIGHUP):
        ui = start(make_dashboard, {**env_bootstrap, "SUPABASE_URL": proxy.url})
        session = LoggedIn(ui)
        proxy.mode = "hang"
        asked = proxy.requests
        stuck = threading.Thread(target=session.get, args=("/tokens",), daemon=True)
        stuck.start()
        for _ in range(int(WAIT_S * 100)):
            if proxy.requests > asked:
                break
            threading.Event().wait(0.01)
        assert proxy.requests > asked, "the page's call reached the hanging Supabase"
        ui.proc.send_signal(stop)
        # The hang lasts 60 s and the deadline is 600 s: exiting within WAIT_S means the call was abandoned.
        code, output = ui.stop_after_signal()
        assert code == 0 and "bridge ui: stopped" in output and "Traceback" not in output, (stop, output)
        proxy.mode = "pass"
