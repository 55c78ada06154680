"""Attacks on `bridge edge` and the notifications (issue 32's review): each test is one attack.

A test that passes is an attack the code blocks, kept as a regression test; a
test that fails is an attack that succeeds on main's code. Real parts as in
tests/test_edge_notify.py: the bridge as a subprocess over the PostgREST
stand-in and the session's PostgreSQL, loopback stand-ins for the Management
API and the webhook, and hostile loopback servers for what a broken or
hostile service sends.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, Result, run_bridge
from tests.support.hostile import HostileServer, Seen, http_response
from tests.support.management_api import ManagementStandIn
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.support.sockets import HttpServer
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_edge_notify import REF, access_token, clean, unique, value, write_config
from tests.test_lifecycle_sql import Rpc
from tests.test_watch_cli import KEY_NAME, OLD_KEY, OLD_TOKEN, TOKEN_NAME, Rig, stop, wait_for

DEADLINE_S = 4.0
"""admin_deadline in the configs below: what a hostile server must not be able to stretch."""


def one_clean_line(result: Result, *secret_texts: str) -> str:
    """Exit 1, one stderr line that is the bridge's own message (not an internal error), no secret anywhere."""
    clean(result, *secret_texts)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def api() -> Iterator[ManagementStandIn]:
    server = ManagementStandIn(access_token(), REF, {"THEIRS": "the-projects-own-value"})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def edge_env(env_bootstrap: dict[str, str], api: ManagementStandIn) -> dict[str, str]:
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\n')
    return {**env_bootstrap, "SUPABASE_ACCESS_TOKEN": api.token}


@pytest.fixture
def http(endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster) -> Iterator[Rpc]:
    """Calls as an admin or a gateway token holder makes them, over the PostgREST stand-in (as test_edge_notify)."""
    rpc = Rpc(endpoint, keys)
    try:
        with audit_rows_dropped_after(pg):
            yield rpc
    finally:
        forget(pg, *rpc.names)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    try:
        yield server
    finally:
        server.stop()


def hostile_api_env(env_bootstrap: dict[str, str], server: HostileServer, token: str) -> dict[str, str]:
    write_config(Path(env_bootstrap["BRIDGE_HOME"]),
                 f'admin_deadline = "{DEADLINE_S:g}s"\n[edge]\napi_url = "{server.url}"\nproject_ref = "{REF}"\n')
    return {**env_bootstrap, "SUPABASE_ACCESS_TOKEN": token}


def notify_config(env: dict[str, str], vault: Vault, url: str) -> str:
    hook = unique("NOTIFY_HOOK")
    vault.put(hook, url)
    write_config(Path(env["BRIDGE_HOME"]), f'admin_deadline = "{DEADLINE_S:g}s"\n[notify]\nwebhook = "{hook}"\n')
    return hook


# --- the Management API: leaks on every error path ---------------------------------


@pytest.mark.parametrize("status", [401, 403, 404, 500, 302, 400])
def test_api_error_bodies_echoing_the_token_and_value_are_never_shown(
    env_bootstrap: dict[str, str], vault: Vault, status: int,
) -> None:
    token, name, text = access_token(), unique("EDGE_ECHO"), value()
    vault.put(name, text)

    def echo(seen: Seen) -> Iterable[bytes]:
        # A broken API that quotes the request back: the bearer, and (for the POST) the values it was sent.
        body = json.dumps({"message": f"bad: {seen.headers.get('authorization')} {seen.body.decode(errors='replace')}"}).encode()
        if seen.method == "GET" and status >= 500:
            yield http_response(200, b"[]")
            return
        yield http_response(status, body, f"Location: https://evil.example/?t={token}\r\n")

    server = HostileServer(echo)
    try:
        env = hostile_api_env(env_bootstrap, server, token)
        # Past the list (answered 200 for a 5xx case, so the POST meets the failure), and the list itself.
        for verb in ("sync",) if status >= 500 else ("sync", "status"):
            result = run_bridge(["edge", verb, "--name", name], env)
            line = one_clean_line(result, token, text, "evil.example")
            assert f"HTTP {status}" in line
    finally:
        server.stop()


# --- the Management API: hostile or broken answers ---------------------------------


def test_api_answering_deeply_nested_json_is_one_clean_line(env_bootstrap: dict[str, str], vault: Vault) -> None:
    """A list answer of 200,000 nested brackets (well under the 1 MiB cap) makes json.loads raise RecursionError,
    which list_secrets does not catch: the command ends in "internal error" (and the watcher's Edge follower, which
    catches only BridgeError and OSError, ends `bridge watch`)."""
    token, name = access_token(), unique("EDGE_DEEP")
    vault.put(name, value())
    server = HostileServer(lambda seen: [http_response(200, b"[" * 200_000)])
    try:
        one_clean_line(run_bridge(["edge", "status", "--name", name], hostile_api_env(env_bootstrap, server, token)), token)
    finally:
        server.stop()


def test_api_that_never_answers_or_trickles_is_bounded_by_admin_deadline(env_bootstrap: dict[str, str], vault: Vault) -> None:
    token, name = access_token(), unique("EDGE_SLOW")
    vault.put(name, value())

    def silent(seen: Seen) -> Iterable[bytes]:
        while True:
            time.sleep(0.5)
            yield b""

    def trickle(seen: Seen) -> Iterable[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
        while True:
            time.sleep(0.2)
            yield b"{},"

    for respond in (silent, trickle):
        server = HostileServer(respond)
        try:
            started = time.monotonic()
            result = run_bridge(["edge", "sync", "--name", name], hostile_api_env(env_bootstrap, server, token))
            took = time.monotonic() - started
            line = one_clean_line(result, token)
            assert "did not answer" in line
            # The whole command, Vault reads and interpreter start included, within the deadline and some slack.
            assert took < DEADLINE_S + 6, took
        finally:
            server.stop()


@pytest.mark.parametrize("retry_after", ["99999", "Fri, 01 Jan 2100 00:00:00 GMT", "inf"])
def test_a_429_asking_for_a_wait_past_the_deadline_is_not_slept(
    env_bootstrap: dict[str, str], vault: Vault, retry_after: str,
) -> None:
    token, name = access_token(), unique("EDGE_429")
    vault.put(name, value())
    server = HostileServer(lambda seen: [http_response(429, b"{}", f"Retry-After: {retry_after}\r\nX-RateLimit-Reset: 99999\r\n")])
    try:
        started = time.monotonic()
        line = one_clean_line(run_bridge(["edge", "sync", "--name", name], hostile_api_env(env_bootstrap, server, token)), token)
        assert "rate limit" in line and time.monotonic() - started < DEADLINE_S + 6
        assert len(server.requests) == 1
    finally:
        server.stop()


def test_a_429_with_a_nonsense_retry_after_is_not_a_tight_loop(env_bootstrap: dict[str, str], vault: Vault) -> None:
    token, name = access_token(), unique("EDGE_NAN")
    vault.put(name, value())
    server = HostileServer(lambda seen: [http_response(429, b"{}", "Retry-After: nan\r\n")])
    try:
        line = one_clean_line(run_bridge(["edge", "sync", "--name", name], hostile_api_env(env_bootstrap, server, token)), token)
        assert "429" in line
        assert len(server.requests) <= 6, "at most MAX_RATE_WAITS + 1 requests for one call"
    finally:
        server.stop()


def test_a_huge_api_answer_is_refused_not_read(env_bootstrap: dict[str, str], vault: Vault) -> None:
    token, name = access_token(), unique("EDGE_HUGE")
    vault.put(name, value())

    def huge(seen: Seen) -> Iterable[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n["
        for _ in range(64):
            yield b'{"name":"X","value":"y"},' * 2000

    server = HostileServer(huge)
    try:
        line = one_clean_line(run_bridge(["edge", "status", "--name", name], hostile_api_env(env_bootstrap, server, token)), token)
        assert "KiB" in line
    finally:
        server.stop()


def test_a_list_that_never_agrees_costs_one_post_per_sync_not_a_loop(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    name = unique("EDGE_LIAR")
    vault.put(name, value())
    assert run_bridge(["edge", "sync", "--name", name], edge_env).returncode == 0
    api.secrets[name] = "a digest that never matches"

    for _ in range(2):
        api.secrets[name] = "still not it"
        result = run_bridge(["edge", "sync", "--name", name], edge_env)
        assert result.returncode == 0, result.stderr
    # A listed digest that is not the one the bridge wrote is someone else's value (finding C): each later sync
    # lists and leaves it alone, so no sync costs more than one POST and these cost none.
    assert len(api.posts()) == 1 and len(api.calls) == 4


def test_hostile_names_in_the_projects_list_are_never_printed(env_bootstrap: dict[str, str], vault: Vault) -> None:
    token, name = access_token(), unique("EDGE_NAMES")
    vault.put(name, value())
    rows = [{"name": "../../etc/passwd", "value": "x"}, {"name": "\x1b]0;pwned\x07\x1b[2J", "value": "x"},
            {"name": "SUPABASE_SERVICE_ROLE_KEY", "value": "x"}, {"name": name, "value": "\x1b[31mred"}]
    server = HostileServer(lambda seen: [http_response(200, json.dumps(rows).encode())])
    try:
        env = hostile_api_env(env_bootstrap, server, token)
        for args in (["edge", "status", "--name", name], ["edge", "sync", "--dry-run", "--name", name]):
            result = run_bridge(args, env)
            assert result.returncode == 0, result.stderr
            text = result.all_output()
            assert "\x1b" not in text and "passwd" not in text and "SUPABASE_SERVICE_ROLE_KEY" not in text
    finally:
        server.stop()


@pytest.mark.parametrize("ref", ["../../v1/organizations", "abcdefghijklmnopqrs/", "abcdefghijklmnopq?x=", "abcdefghijklmnopqr#t",
                                 "ABCDEFGHIJKLMNOPQRST", "abcdefghijklmnopqrs%2f"])
def test_project_ref_with_path_characters_never_reaches_the_url(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault, ref: str,
) -> None:
    name = unique("EDGE_REF")
    vault.put(name, value())
    result = run_bridge(["edge", "sync", "--project-ref", ref, "--name", name], edge_env)
    assert result.returncode == 2 and "20 lowercase letters" in result.stderr
    assert api.calls == []


def test_supabase_names_are_refused_before_anything_is_sent(edge_env: dict[str, str], api: ManagementStandIn, vault: Vault) -> None:
    vault.put("SUPABASE_SNEAKY", value())
    for entry in ("SUPABASE_SNEAKY", "supabase_sneaky=SUPABASE_SNEAKY"):
        result = run_bridge(["edge", "sync", "--name", entry], edge_env)
        assert result.returncode == 2 and "Supabase's own" in result.stderr
    # A glob skips them.
    glob = run_bridge(["edge", "sync", "--name", "SUPABASE_SNEAK*"], edge_env)
    assert glob.returncode == 1 and api.posts() == []


# --- the managed record --------------------------------------------------------------


def managed_file(env: dict[str, str]) -> Path:
    return Path(env["BRIDGE_HOME"]) / "edge-managed.json"


def test_a_deeply_nested_managed_record_is_one_clean_line(edge_env: dict[str, str], api: ManagementStandIn, vault: Vault) -> None:
    """A corrupt edge-managed.json (here 100,000 nested brackets, under its 256 KiB cap): Managed._load catches
    ValueError, TypeError, KeyError, AttributeError, but json.loads raises RecursionError."""
    name = unique("EDGE_DEEPREC")
    vault.put(name, value())
    managed_file(edge_env).write_bytes(b"[" * 100_000)
    managed_file(edge_env).chmod(0o600)
    line = one_clean_line(run_bridge(["edge", "sync", "--name", name], edge_env), api.token)
    assert "edge-managed.json" in line and api.posts() == []


@pytest.mark.parametrize("content", [b"{", b'{"projects": 3}', b'{"projects": {"abcdefghijklmnopqrst": 7}}', b"\xff\xfe", b"null"])
def test_a_corrupt_managed_record_is_one_line_and_nothing_is_sent(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault, content: bytes,
) -> None:
    name = unique("EDGE_CORRUPT")
    vault.put(name, value())
    managed_file(edge_env).write_bytes(content)
    line = one_clean_line(run_bridge(["edge", "sync", "--name", name], edge_env), api.token)
    assert "edge-managed.json" in line and api.posts() == []
    assert managed_file(edge_env).read_bytes() == content, "left for the person to look at"


def test_a_symlinked_or_huge_managed_record_is_refused_and_not_followed(
    tmp_path: Path, edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    name = unique("EDGE_LINK")
    vault.put(name, value())
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"version": 1, "projects": {REF: ["THEIRS"]}}))
    managed_file(edge_env).symlink_to(target)
    api.secrets[name] = "someone else's"
    refused = run_bridge(["edge", "sync", "--name", "THEIRS=" + name], edge_env)
    assert refused.returncode == 1 and api.posts() == [] and api.secrets["THEIRS"] == "the-projects-own-value"
    assert "internal error" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert json.loads(target.read_text())["projects"][REF] == ["THEIRS"]
    managed_file(edge_env).unlink()
    managed_file(edge_env).write_bytes(b" " * (300 * 1024))
    one_clean_line(run_bridge(["edge", "sync", "--name", name], edge_env), api.token)
    assert api.posts() == []


def test_a_secret_the_bridge_created_then_someone_deleted_and_recreated_is_not_overwritten(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    """The record keeps a name forever once created: after someone deletes the Edge secret in the dashboard and
    another engineer creates their own under that name, the next sync (the watcher's, after a rotation) overwrites
    theirs as `updated`, though the bridge never saw the name missing and did not create that secret."""
    name = unique("EDGE_RECREATED")
    vault.put(name, value())
    assert run_bridge(["edge", "sync", "--name", name], edge_env).returncode == 0
    del api.secrets[name]                       # deleted in the dashboard
    api.secrets[name] = "another-engineers-own"  # and made again by someone else, by hand
    assert run_bridge(["secrets", "set", name], edge_env, value().encode()).returncode == 0  # a rotation in Vault
    result = run_bridge(["edge", "sync", "--json", "--name", name], edge_env)
    assert result.returncode == 0, result.stderr
    assert api.secrets[name] == "another-engineers-own", "someone else's secret was overwritten"


def test_kill_9_between_the_record_and_the_post_leaves_no_claim_on_a_secret_made_later(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    """The record is written before the POST. Killed while the POST is in flight (here: the API holds it and the
    bridge gets SIGKILL), nothing was created, yet the name stays recorded as the bridge's: a secret someone makes
    by hand under that name afterwards is then overwritten by the next sync."""
    name = unique("EDGE_KILLED")
    vault.put(name, value())
    arrived, release, hold = threading.Event(), threading.Event(), threading.Event()
    hold.set()

    class Holding(ManagementStandIn):
        def answer(self, conn: socket.socket, seen: Seen) -> None:
            if seen.method == "POST" and hold.is_set():
                arrived.set()
                release.wait(30)
                return
            super().answer(conn, seen)

    holding = Holding(api.token, REF, {})
    try:
        write_config(Path(edge_env["BRIDGE_HOME"]), f'[edge]\napi_url = "{holding.url}"\nproject_ref = "{REF}"\n')
        proc = subprocess.Popen([str(BRIDGE), "edge", "sync", "--name", name], env=edge_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert arrived.wait(30), "the POST never came"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        hold.clear()
        release.set()
        assert name not in holding.secrets
        holding.secrets[name] = "made-by-hand-after-the-crash"
        result = run_bridge(["edge", "sync", "--json", "--name", name], edge_env)
        assert result.returncode == 0, result.stderr
        assert holding.secrets[name] == "made-by-hand-after-the-crash", "a secret the bridge never created was overwritten"
    finally:
        release.set()
        holding.stop()


def test_two_syncs_at_once_create_each_name_once(edge_env: dict[str, str], api: ManagementStandIn, vault: Vault) -> None:
    name = unique("EDGE_TWICE")
    vault.put(name, value())
    procs = [subprocess.Popen([str(BRIDGE), "edge", "sync", "--name", name], env=edge_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    codes = [p.wait(60) for p in procs]
    for p in procs:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        p.stderr.close()
    assert 0 in codes and len(api.posts()) == 1
    assert json.loads(managed_file(edge_env).read_text())["projects"][REF] == [name]


# --- the webhook ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/services/T0\nB0/secret-part-nl",
    "http://127.0.0.1:9/services/T0/B0/secret-part\ttab",
    "https://\U0001f4a9.example/services/T0/B0/secret-part-idn",
    "https://" + "a" * 70 + ".example/services/T0/B0/secret-part-label",
])
def test_a_webhook_value_that_is_not_a_usable_url_is_one_clean_line(
    env_bootstrap: dict[str, str], vault: Vault, url: str,
) -> None:
    """Anyone who can set the Vault secret [notify] names (or a paste with a stray character) chooses its bytes.
    check_outbound passes these (urlsplit strips \\n, an IDN host has a hostname), httpx then raises InvalidURL,
    InvalidCodepoint or UnicodeError, none of them httpx.HTTPError: "internal error" here."""
    notify_config(env_bootstrap, vault, url)
    one_clean_line(run_bridge(["notify", "test"], env_bootstrap), url, "secret-part")


def test_the_watcher_survives_a_webhook_value_that_is_not_a_url(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """NotifyFollower catches BridgeError and OSError only: the webhook value's InvalidURL ends `bridge watch`,
    so one bad paste into Vault stops every gateway reload on the host."""
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    hook = notify_config(env_bootstrap, vault, "http://127.0.0.1:9/services/T0\nB0/secret-part")
    # Something to post, so the pass reaches the webhook: a secret already expired.
    expired_secret(vault)
    rig = Rig(tmp_path, env_bootstrap)
    result = run_bridge(["watch", "--once"], rig.env)
    clean(result, "secret-part")
    assert "internal error" not in result.stderr, result.stderr
    assert hook


def test_webhook_credentials_in_userinfo_or_a_500_echoing_the_url_are_never_shown(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    def echo(seen: Seen) -> Iterable[bytes]:
        yield http_response(500, f"no: {seen.path} {seen.headers.get('authorization')}".encode(),
                            f"Location: http://127.0.0.1:1{seen.path}\r\n")

    server = HostileServer(echo)
    try:
        url = f"http://hookuser:hookpass-secret@127.0.0.1:{server.port}/services/T0/B0/secret-part-500"
        notify_config(env_bootstrap, vault, url)
        line = one_clean_line(run_bridge(["notify", "test"], env_bootstrap), url, "hookpass-secret", "secret-part-500")
        assert "HTTP 500" in line and len(server.requests) == 1
        state = (Path(env_bootstrap["BRIDGE_HOME"]) / "notify-state.json").read_text()
        assert "secret-part" not in state and "hookpass" not in state
    finally:
        server.stop()


@pytest.mark.parametrize("url", [
    "http://localhost.:{port}/p/secret-part", "http://127.0.0.1.nip.io:{port}/p/secret-part", "http://0.0.0.0:{port}/p/secret-part",
    "http://127.1:{port}/p/secret-part", "http://[::ffff:127.0.0.1]:{port}/p/secret-part", "HTTP://evil.example/p/secret-part",
    "ftp://127.0.0.1/p/secret-part", "secret-part-not-a-url", "//127.0.0.1:{port}/p/secret-part",
    "http://evil.example\\@127.0.0.1:{port}/p/secret-part",
])
def test_plain_http_is_only_for_the_loopback_names_and_never_quoted(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver, url: str,
) -> None:
    filled = url.format(port=receiver.port)
    notify_config(env_bootstrap, vault, filled)
    result = run_bridge(["notify", "test"], env_bootstrap)
    if result.returncode == 0:
        # Accepted: then it went to the loopback receiver and nowhere else.
        assert len(receiver.requests) == 1
    else:
        one_clean_line(result, filled, "secret-part")


def test_proxy_variables_in_the_environment_are_not_used(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault, receiver: WebhookReceiver,
) -> None:
    proxy = HostileServer(lambda seen: [http_response(502, b"")])
    try:
        name = unique("EDGE_PROXY")
        vault.put(name, value())
        hook = unique("NOTIFY_HOOK")
        vault.put(hook, receiver.hook_url)
        write_config(Path(edge_env["BRIDGE_HOME"]), f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\n[notify]\nwebhook = "{hook}"\n')
        env = {**edge_env, **dict.fromkeys(("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"), proxy.url),
               "NO_PROXY": "", "no_proxy": ""}
        assert run_bridge(["edge", "sync", "--name", name], env).returncode == 0
        assert run_bridge(["notify", "test"], env).returncode == 0
        assert proxy.requests == [] and len(api.posts()) == 1 and receiver.wait_for(1, 30)
    finally:
        proxy.stop()


def test_a_hanging_webhook_is_cut_off(env_bootstrap: dict[str, str], vault: Vault) -> None:
    def hang(seen: Seen) -> Iterable[bytes]:
        while True:
            time.sleep(0.5)
            yield b""

    server = HostileServer(hang)
    try:
        notify_config(env_bootstrap, vault, f"{server.url}/services/T0/B0/secret-part-hang")
        started = time.monotonic()
        line = one_clean_line(run_bridge(["notify", "test"], env_bootstrap), "secret-part-hang")
        assert "did not answer" in line and time.monotonic() - started < DEADLINE_S + 6
    finally:
        server.stop()


# --- notify-state.json ---------------------------------------------------------------


def state_file(env: dict[str, str]) -> Path:
    return Path(env["BRIDGE_HOME"]) / "notify-state.json"


def plant_state(env: dict[str, str], doc: object) -> None:
    state_file(env).write_text(json.dumps(doc))
    state_file(env).chmod(0o600)


def expired_secret(vault: Vault) -> str:
    name = unique("ATTACK_EXPIRED")
    vault.put(name, value())
    pg: PgCluster = vault._pg
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("INSERT INTO vault_bridge.secret_meta (secret_id, expires_at, vault_updated_at) "
                     "SELECT id, '2020-01-01', updated_at FROM vault.secrets WHERE name = %s "
                     "ON CONFLICT (secret_id) DO UPDATE SET expires_at = '2020-01-01'", (name,))
    return name


def test_a_backoff_set_far_in_the_future_does_not_silence_notifications_forever(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver,
) -> None:
    """next_try_at is trusted as stored: a failure recorded while the clock was wrong (a host booting with its RTC
    in 2030 before NTP steps it back), or a planted file, silences every notification until that date. The
    backoff is at most an hour, so a next try more than an hour away is not a backoff the bridge set."""
    notify_config(env_bootstrap, vault, receiver.hook_url)
    plant_state(env_bootstrap, {"version": 1, "sent": {}, "failures": 3, "next_try_at": 1_900_000_000.0,
                                "last_delivery": {"at": "2030-03-17T17:46:40Z", "ok": False, "error": "x"}})
    result = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
    assert result.returncode == 0, result.stderr
    assert "backing off" not in result.stdout.decode(), result.stdout.decode()


def test_a_state_file_with_a_bad_record_is_replaced_not_a_crash(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver,
) -> None:
    """docs/edge.md: "A corrupt state file is reported by doctor and replaced". A `seen` that is not a number
    makes save_state's float() raise ValueError: every pass then ends in "internal error", and nothing is posted
    again until someone deletes the file."""
    notify_config(env_bootstrap, vault, receiver.hook_url)
    plant_state(env_bootstrap, {"version": 1, "sent": {"alert|x|||": {"seen": "yesterday", "mark": None}}})
    result = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
    assert result.returncode == 0 and "internal error" not in result.stderr, result.stderr


def test_a_state_file_with_a_non_numeric_failure_count_is_not_a_crash(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    notify_config(env_bootstrap, vault, "http://127.0.0.1:9/services/T0/B0/secret-part")
    plant_state(env_bootstrap, {"version": 1, "sent": {}, "failures": "many", "next_try_at": None})
    # Something to post, so the pass reaches the (refusing) webhook and counts a failure.
    expired_secret(vault)
    result = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
    assert "internal error" not in result.stderr, result.stderr


def test_after_a_thousand_failed_deliveries_a_pass_still_fails_cleanly_and_backs_off(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """failed() computes 60 * 2 ** (failures - 1) before capping it at an hour: past 1,024 failures in a row the
    float overflows (OverflowError, not BridgeError). A webhook revoked for ~43 days (the backoff is an hour) gets
    there; from then on every pass ends in "internal error", the state is never saved, so the count never moves
    and the watcher, whose follower catches BridgeError and OSError only, ends."""
    notify_config(env_bootstrap, vault, "http://127.0.0.1:9/services/T0/B0/secret-part")
    plant_state(env_bootstrap, {"version": 1, "sent": {}, "failures": 1025, "next_try_at": 1.0, "last_delivery": None})
    expired_secret(vault)
    result = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
    one_clean_line(result, "secret-part")
    state = json.loads(state_file(env_bootstrap).read_text())
    assert state["failures"] == 1026 and state["next_try_at"] <= time.time() + 3600 + 60


def test_a_deleted_or_garbage_state_file_reposts_once_then_is_quiet(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver,
) -> None:
    notify_config(env_bootstrap, vault, receiver.hook_url)
    name = expired_secret(vault)
    assert run_bridge(["audit", "--alerts", "--notify"], env_bootstrap).returncode == 0
    assert any(e.get("secret") == name for e in receiver.events())
    for damage in (lambda: state_file(env_bootstrap).unlink(), lambda: state_file(env_bootstrap).write_bytes(b"\x00garbage")):
        receiver.messages.clear()
        damage()
        for _ in range(2):
            result = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
            assert result.returncode == 0, result.stderr
        assert [e.get("secret") for e in receiver.events()].count(name) == 1, "posted again once, not per pass"


# --- the posted text ------------------------------------------------------------------


def test_slack_markup_in_names_and_hosts_is_escaped_in_the_posted_text() -> None:
    from bridge.notify.deliver import message
    from bridge.notify.events import alert_events

    rows = [{"kind": "new_host", "secret": "K", "host": "<!channel> <https://evil.example|click here>",
             "first_at": "2026-12-07T10:00:00+00:00",
             "message": "K read from a new host <!channel> <https://evil.example|click here> <@U123> <!subteam^S1>"}]
    text = str(message(alert_events(rows), "<!here>")["text"])
    for markup in ("<!channel>", "<!here>", "<https://", "<@U123>", "<!subteam"):
        assert markup not in text
    assert "&lt;!channel&gt;" in text


def test_an_alert_flood_is_posted_in_capped_messages_each_event_once() -> None:
    from bridge.notify.deliver import MAX_EVENTS_PER_MESSAGE, message
    from bridge.notify.events import alert_events, is_new

    rows = [{"kind": "failures", "secret": f"S{i}", "first_at": "2026-12-07T10:00:00+00:00", "message": f"burst {i}"} for i in range(500)]
    events = alert_events(rows)
    sent: dict[str, dict[str, object]] = {}
    batches = 0
    while True:
        new = [e for e in events if is_new(e, sent)][:MAX_EVENTS_PER_MESSAGE]
        if not new:
            break
        assert len(str(message(new, "h")["text"]).splitlines()) == len(new) + 1
        for e in new:
            sent[e.key] = {"mark": e.mark}
        batches += 1
    assert batches == 10


# --- the watcher: a follower's unexpected exception ends `bridge watch` ---------------


def watcher_rig(tmp_path: Path, env: dict[str, str], vault: Vault) -> Rig:
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    return Rig(tmp_path, env)


def test_the_watcher_survives_a_management_api_answering_deeply_nested_json(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """EdgeFollower catches BridgeError and OSError; list_secrets lets RecursionError through."""
    token, name = access_token(), unique("EDGE_WATCH_DEEP")
    vault.put(name, value())
    server = HostileServer(lambda seen: [http_response(200, b"[" * 200_000)])
    try:
        env = hostile_api_env(env_bootstrap, server, token)
        with (Path(env["BRIDGE_HOME"]) / "config.toml").open("a") as config:
            config.write(f'names = ["{name}"]\n')
        rig = watcher_rig(tmp_path, env, vault)
        result = run_bridge(["watch", "--once"], rig.env)
        clean(result, token)
        assert "internal error" not in result.stderr, result.stderr
    finally:
        server.stop()


def test_the_watcher_survives_its_thousandth_failed_delivery(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """The OverflowError of failed() (see above), raised inside the watcher: `bridge watch` ends."""
    notify_config(env_bootstrap, vault, "http://127.0.0.1:9/services/T0/B0/secret-part")
    plant_state(env_bootstrap, {"version": 1, "sent": {}, "failures": 1025, "next_try_at": 1.0, "last_delivery": None})
    expired_secret(vault)
    rig = watcher_rig(tmp_path, env_bootstrap, vault)
    result = run_bridge(["watch", "--once"], rig.env)
    clean(result, "secret-part")
    assert "internal error" not in result.stderr, result.stderr


def test_a_hanging_webhook_holds_the_watchers_poll_no_longer_than_one_post(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """A webhook that accepts and never answers: the pass is cut at POST_SECONDS (10 s), then backs off a minute,
    so the watcher's loop is held at most 10 s per backoff period, never indefinitely."""
    def hang(seen: Seen) -> Iterable[bytes]:
        while True:
            time.sleep(0.5)
            yield b""

    server = HostileServer(hang)
    try:
        notify_config(env_bootstrap, vault, f"{server.url}/services/T0/B0/secret-part-hang")
        write_config(Path(env_bootstrap["BRIDGE_HOME"]),
                     (Path(env_bootstrap["BRIDGE_HOME"]) / "config.toml").read_text().replace(f'admin_deadline = "{DEADLINE_S:g}s"\n', ""))
        expired_secret(vault)
        rig = watcher_rig(tmp_path, env_bootstrap, vault)
        started = time.monotonic()
        result = run_bridge(["watch", "--once"], rig.env)
        took = time.monotonic() - started
        clean(result, "secret-part-hang")
        assert "notification not delivered" in result.stderr and took < 10 + 10, took
    finally:
        server.stop()


# --- the access token -------------------------------------------------------------------


def test_an_access_token_with_a_non_ascii_character_is_one_clean_line(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    """check_access_token refuses whitespace only: a token with a non-ASCII character (a bad paste, or a
    lookalike) reaches httpx, whose header encoding raises UnicodeEncodeError (not httpx.HTTPError)."""
    name = unique("EDGE_UNICODE")
    vault.put(name, value())
    bad = "sbp_" + "0" * 20 + "\u00e9" + "1" * 19
    for debug in ("0", "1"):
        result = run_bridge(["edge", "status", "--name", name], {**edge_env, "SUPABASE_ACCESS_TOKEN": bad, "BRIDGE_DEBUG": debug})
        clean(result, bad, bad[:24], api.token)
    one_clean_line(run_bridge(["edge", "status", "--name", name], {**edge_env, "SUPABASE_ACCESS_TOKEN": bad}), bad, api.token)


def test_a_debug_traceback_of_a_bad_webhook_value_does_not_quote_it(env_bootstrap: dict[str, str], vault: Vault) -> None:
    url = "https://\U0001f4a9.example/services/T0/B0/secret-part-debug"
    notify_config(env_bootstrap, vault, url)
    result = run_bridge(["notify", "test"], {**env_bootstrap, "BRIDGE_DEBUG": "1"})
    clean(result, url, "secret-part-debug", "/services/T0/B0")


def test_a_readable_access_token_file_is_flagged_as_the_bridges_sealed_file_is(
    edge_env: dict[str, str], api: ManagementStandIn,
) -> None:
    """The sealed key is derived from the machine id, the user name and an app salt, all readable by any local
    user: a sealed file others can read is a plaintext token. The self-checks (doctor, and every resolve) hold
    `credentials.sealed` to 0600, but access-token.sealed, the account-wide token, is not among their targets."""
    env = {k: v for k, v in edge_env.items() if k != "SUPABASE_ACCESS_TOKEN"}
    assert run_bridge(["login", "--access-token", "--store", "file"], env, api.token.encode() + b"\n").returncode == 0
    home = Path(env["BRIDGE_HOME"])
    (home / "access-token.sealed").chmod(0o644)
    home.chmod(0o755)
    doctor = clean(run_bridge(["doctor", "--json"], env), api.token)
    checks = json.loads(doctor.stdout)["checks"]
    flagged = [c for c in checks if "access-token.sealed" in json.dumps(c) and c["status"] != "pass"]
    assert flagged, f"doctor says nothing of an access token file others can read: {[(c['name'], c['status']) for c in checks]}"


# --- the dashboard's /integrations page ---------------------------------------------


def integrations_page(env: dict[str, str]) -> tuple[int, str]:
    from tests.test_ui_browser import Dashboard
    from tests.test_ui_session import LoggedIn

    ui = Dashboard(env)
    try:
        page = LoggedIn(ui).get("/integrations")
        return page.status_code, page.text
    finally:
        ui.stop()


def test_the_integrations_page_shows_no_token_value_or_url_when_the_api_echoes_them(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    token, name, text, hook_url = access_token(), unique("EDGE_PAGE"), value(), "https://hooks.example/services/T0/B0/secret-part-page"

    def echo(seen: Seen) -> Iterable[bytes]:
        yield http_response(403, json.dumps({"message": f"no {seen.headers.get('authorization')}"}).encode())

    server = HostileServer(echo)
    try:
        vault.put(name, text)
        hook = unique("NOTIFY_HOOK")
        vault.put(hook, hook_url)
        write_config(Path(env_bootstrap["BRIDGE_HOME"]),
                     f'[edge]\napi_url = "{server.url}"\nproject_ref = "{REF}"\nnames = ["{name}"]\n[notify]\nwebhook = "{hook}"\n')
        status, body = integrations_page({**env_bootstrap, "SUPABASE_ACCESS_TOKEN": token})
        assert status == 200 and "HTTP 403" in body
        for secret_text in (token, text, hook_url, "secret-part-page"):
            assert secret_text not in body
    finally:
        server.stop()


def test_the_integrations_page_survives_an_api_answering_deeply_nested_json(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """edge_panel catches BridgeError only: list_secrets' RecursionError makes the whole page a 500."""
    token, name = access_token(), unique("EDGE_PAGE_DEEP")
    vault.put(name, value())
    server = HostileServer(lambda seen: [http_response(200, b"[" * 200_000)])
    try:
        write_config(Path(env_bootstrap["BRIDGE_HOME"]),
                     f'[edge]\napi_url = "{server.url}"\nproject_ref = "{REF}"\nnames = ["{name}"]\n')
        status, body = integrations_page({**env_bootstrap, "SUPABASE_ACCESS_TOKEN": token})
        assert status == 200, body[:300]
        assert token not in body
    finally:
        server.stop()


@pytest.mark.parametrize("planted", [
    {"failures": "many"},
    {"next_try_at": 1e300},
    {"last_delivery": {"at": "x", "ok": False, "error": "<script>alert(1)</script>"}},
])
def test_the_integrations_page_survives_a_planted_notify_state(
    env_bootstrap: dict[str, str], planted: dict[str, object],
) -> None:
    """notify_panel takes int(failures) and time.gmtime(next_try_at) from the file as it is: a count that is not
    a number or a time past year 9999 (a corrupt or planted file) makes the page a 500."""
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), '[notify]\nwebhook = "X_HOOK"\n')
    plant_state(env_bootstrap, {"version": 1, "sent": {}, **planted})
    status, body = integrations_page(env_bootstrap)
    assert status == 200, body[:300]
    assert "<script>alert(1)" not in body


def test_the_integrations_page_with_supabase_down_is_a_clean_page(env_bootstrap: dict[str, str], vault: Vault) -> None:
    token, name = access_token(), unique("EDGE_PAGE_DOWN")
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[edge]\napi_url = "http://127.0.0.1:9"\nproject_ref = "{REF}"\nnames = ["{name}"]\n')
    env = {**env_bootstrap, "SUPABASE_ACCESS_TOKEN": token}
    from tests.test_ui_browser import Dashboard
    from tests.test_ui_session import LoggedIn

    ui = Dashboard(env)
    try:
        session = LoggedIn(ui)
        # Supabase goes away after the login: the page reports it in words, with no key and no token.
        env_down = dict(env)
        env_down["SUPABASE_URL"] = "http://127.0.0.1:9"
        ui.stop()
        ui = Dashboard(env_down)
        session = LoggedIn(ui)
        page = session.get("/integrations")
        assert page.status_code in (200, 502, 503), page.status_code
        for secret_text in (token, env["SUPABASE_SECRET_KEY"]):
            assert secret_text not in page.text
    finally:
        ui.stop()


# --- what a gateway token holder can put in the channel ---------------------------------


def new_host_text(env: dict[str, str], vault: Vault, receiver: WebhookReceiver, http: Rpc, pg: PgCluster, host: str) -> str:
    """The posted text of a new-host alert whose host a gateway token holder chose (x-bridge-host)."""
    notify_config(env, vault, receiver.hook_url)
    assert run_bridge(["audit", "--alerts", "--notify"], env).returncode == 0
    receiver.messages.clear()
    name = unique("ATTACK_HOSTED")
    http.store(name)
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-home")
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE public.vault_access_log SET accessed_at = accessed_at - interval '2 days' "
                     "WHERE secret_name = %s AND host = 'gw-home'", (name,))
    token = http.token("default", unique("gw-evil").lower(), [name])
    assert http.gateway(token, [name], host).status_code == 200
    result = run_bridge(["audit", "--alerts", "--notify"], env)
    assert result.returncode == 0, result.stderr
    texts = [str(m["text"]) for m in receiver.messages if any(e.get("secret") == name for e in m["bridge"]["events"])]
    assert len(texts) == 1, receiver.messages
    (line,) = [line for line in texts[0].splitlines() if name in line]
    return line


def test_a_gateway_token_holder_cannot_ping_the_channel_or_plant_a_slack_link(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver, http: Rpc, pg: PgCluster,
) -> None:
    line = new_host_text(env_bootstrap, vault, receiver, http, pg,
                         "<!channel> <https://evil.example/rotate|Rotate your keys here> <@U024BE7LH>")
    for markup in ("<!channel>", "<https://", "<@U"):
        assert markup not in line, line


def test_a_gateway_token_holder_cannot_post_a_clickable_link_or_formatting(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver, http: Rpc, pg: PgCluster,
) -> None:
    """slack_text escapes &, < and > only. Slack still turns a bare URL into a link and reads *bold*, _italic_
    and ~strike~, so a gateway token holder's host (x-bridge-host, any text) posts "URGENT: rotate at
    https://evil.example/..." as a clickable link, under the bridge's name, in the team's channel. Text a
    token holder chose would be safe inside a code span (`...`), where Slack neither links nor formats."""
    line = new_host_text(env_bootstrap, vault, receiver, http, pg, "*URGENT* rotate all keys at https://evil.example/rotate")
    outside_code = "".join(part for i, part in enumerate(line.split("`")) if i % 2 == 0)
    assert "https://evil.example" not in outside_code and "*URGENT*" not in outside_code, line


# --- more leaks: TLS failures, long URLs, the audit log -----------------------------------


def test_a_tls_failure_never_quotes_the_webhook_url_or_the_api_token(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    token, name = access_token(), unique("EDGE_TLS")
    vault.put(name, value())
    class PlainText(HttpServer):
        """Answers each connection in clear text at once, whatever the client sent: a TLS handshake fails."""

        def handle(self, conn: socket.socket) -> None:
            with conn, contextlib.suppress(OSError):
                conn.sendall(http_response(200, b"[]"))

    plain = PlainText()
    try:
        hook_url = f"https://127.0.0.1:{plain.port}/services/T0/B0/secret-part-tls"
        notify_config(env_bootstrap, vault, hook_url)
        line = one_clean_line(run_bridge(["notify", "test"], env_bootstrap), hook_url, "secret-part-tls")
        assert "TLS" in line
        write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[edge]\napi_url = "https://127.0.0.1:{plain.port}"\nproject_ref = "{REF}"\n')
        one_clean_line(run_bridge(["edge", "status", "--name", name], {**env_bootstrap, "SUPABASE_ACCESS_TOKEN": token}), token)
    finally:
        plain.stop()


def test_a_very_long_webhook_url_is_delivered_or_one_clean_line(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    server = HostileServer(lambda seen: [http_response(414, b"URI Too Long: " + seen.path.encode()[:5000])])
    try:
        hook_url = f"{server.url}/services/T0/B0/secret-part-{'x' * 60_000}"
        notify_config(env_bootstrap, vault, hook_url)
        result = run_bridge(["notify", "test"], env_bootstrap)
        line = one_clean_line(result, "secret-part", "x" * 200)
        assert "HTTP 414" in line or "cannot reach" in line
    finally:
        server.stop()


def test_the_audit_log_never_holds_the_token_a_value_or_the_webhook_url(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault, receiver: WebhookReceiver, pg: PgCluster,
) -> None:
    name, text, hook = unique("EDGE_AUDITED"), value(), unique("NOTIFY_HOOK")
    vault.put(name, text)
    vault.put(hook, receiver.hook_url)
    write_config(Path(edge_env["BRIDGE_HOME"]), f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\n[notify]\nwebhook = "{hook}"\n')
    assert run_bridge(["edge", "sync", "--name", name], edge_env).returncode == 0
    assert run_bridge(["notify", "test"], edge_env).returncode == 0
    receiver.status = 500
    assert run_bridge(["notify", "test"], edge_env).returncode == 1
    assert run_bridge(["audit", "--alerts", "--notify"], edge_env).returncode in (0, 1)
    with pg.connect("postgres") as conn:
        rows = conn.execute("SELECT pg_catalog.row_to_json(l)::text FROM public.vault_access_log AS l "
                            "WHERE l.accessed_at > now() - interval '10 minutes'").fetchall()
    dump = "\n".join(r[0] for r in rows)
    assert name in dump, "the sync's reads are audited"
    for secret_text in (api.token, text, receiver.hook_url, receiver.path):
        assert secret_text not in dump
    home = Path(edge_env["BRIDGE_HOME"])
    for state in ("edge-managed.json", "notify-state.json"):
        content = (home / state).read_text()
        assert all(s not in content for s in (api.token, text, receiver.hook_url, receiver.path))
        assert (home / state).stat().st_mode & 0o777 == 0o600


def test_a_gateway_token_holder_cannot_starve_other_notifications_with_decoy_alerts(
    env_bootstrap: dict[str, str], vault: Vault, receiver: WebhookReceiver, http: Rpc, pg: PgCluster,
) -> None:
    """Each pass posts the first 50 new events, alerts (newest first) before due states. A token holder who
    resolves from 50 new host names a minute (one request each) fills every message with new_host decoys, so an
    expired secret (or any older alert) is never posted while the decoys keep coming."""
    env = env_bootstrap
    notify_config(env, vault, receiver.hook_url)
    for _ in range(20):  # whatever the shared database already holds is posted first
        drained = run_bridge(["audit", "--alerts", "--notify"], env)
        assert drained.returncode == 0, drained.stderr
        if "nothing new" in drained.stdout.decode():
            break
    name = unique("ATTACK_DECOYED")
    http.store(name)
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-home")
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE public.vault_access_log SET accessed_at = accessed_at - interval '2 days' "
                     "WHERE secret_name = %s AND host = 'gw-home'", (name,))
    token = http.token("default", unique("gw-decoy").lower(), [name])
    expired = expired_secret(vault)
    receiver.messages.clear()
    for wave in range(2):
        for i in range(55):
            assert http.gateway(token, [name], f"decoy-{wave}-{i}").status_code == 200
        result = run_bridge(["audit", "--alerts", "--notify"], env)
        assert result.returncode == 0, result.stderr
    posted = [e.get("secret") for e in receiver.events()]
    assert expired in posted, f"the expired secret waits behind {posted.count(name)} decoy alerts"


def test_a_secret_adopted_because_its_value_matched_is_not_overwritten_after_its_owner_changes_it(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    """docs/edge.md: a name the project has with the same value is `unchanged` and managed from then on ("no
    one's value is overwritten by that"). But later: its owner changes it in the dashboard, Vault's copy is rotated,
    and the next sync overwrites the owner's new value as `updated`: a secret the bridge never created. (By the
    documented design; listed because the brief's rule is "never overwrite what it did not create".)"""
    name, shared = unique("EDGE_ADOPTED"), value()
    api.secrets[name] = shared  # another engineer made it by hand, with the same key
    vault.put(name, shared)
    result = run_bridge(["edge", "sync", "--json", "--name", name], edge_env)
    assert result.returncode == 0 and json.loads(result.stdout)["names"][0]["outcome"] == "unchanged"
    api.secrets[name] = "the-owners-new-value"
    assert run_bridge(["secrets", "set", name], edge_env, value().encode()).returncode == 0
    assert run_bridge(["edge", "sync", "--name", name], edge_env).returncode == 0
    assert api.secrets[name] == "the-owners-new-value", "the owner's value was overwritten"


@pytest.mark.parametrize("args", [["login", "--access-token", "{token}"], ["login", "--access-token={token}"],
                                  ["edge", "sync", "--project-ref", "{token}"]])
def test_a_token_pasted_into_argv_is_not_echoed_to_stderr(env_bootstrap: dict[str, str], args: list[str]) -> None:
    """Argparse's usage error quotes the stray argument: `bridge login --access-token sbp_...` (the token pasted
    where the flag takes none) prints the account-wide token to stderr, into a CI log or a terminal recording.
    (Argparse's behaviour for every verb; reached here by the new flag.)"""
    token = access_token()
    result = run_bridge([a.format(token=token) for a in args], env_bootstrap)
    assert result.returncode in (1, 2)
    clean(result, token)


def test_notify_test_during_a_pass_does_not_undo_what_the_pass_recorded(env_bootstrap: dict[str, str], vault: Vault) -> None:
    """`bridge notify test` loads notify-state.json, posts, and saves what it loaded, without notify.lock. A pass
    (the watcher's, or cron's) that posts and records events while the test message is in flight has its record
    overwritten: the same events are posted again by the next pass."""
    got_test, release = threading.Event(), threading.Event()
    bodies: list[dict[str, object]] = []

    class SlowForTests(HttpServer):
        def answer(self, conn: socket.socket, seen: Seen) -> None:
            doc = json.loads(seen.body)
            if "test message" in str(doc.get("text")):
                got_test.set()
                release.wait(30)
            else:
                bodies.append(doc)
            conn.sendall(http_response(200, b"ok"))

    server = SlowForTests()
    try:
        notify_config(env_bootstrap, vault, f"{server.url}/services/T0/B0/secret-part")
        for _ in range(20):
            drained = run_bridge(["audit", "--alerts", "--notify"], env_bootstrap)
            assert drained.returncode == 0, drained.stderr
            if "nothing new" in drained.stdout.decode():
                break
        expired = expired_secret(vault)
        tester = subprocess.Popen([str(BRIDGE), "notify", "test"], env=env_bootstrap, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert got_test.wait(30)
            assert run_bridge(["audit", "--alerts", "--notify"], env_bootstrap).returncode == 0
        finally:
            release.set()
            tester.wait(30)
        assert run_bridge(["audit", "--alerts", "--notify"], env_bootstrap).returncode == 0
        posted = [e.get("secret") for b in bodies for e in b["bridge"]["events"]]  # type: ignore[index]
        assert posted.count(expired) == 1, f"posted {posted.count(expired)} times"
    finally:
        release.set()
        server.stop()


def test_a_running_watcher_outlives_a_webhook_value_that_is_not_a_url(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """The long-running form of the --once test above: the watcher process itself ends on the first pass."""
    notify_config(env_bootstrap, vault, "http://127.0.0.1:9/services/T0\nB0/secret-part-running")
    expired_secret(vault)
    rig = watcher_rig(tmp_path, env_bootstrap, vault)
    proc = rig.start("--interval", "1s")
    try:
        wait_for(lambda: proc.poll() is not None or "notification not delivered" in rig.journal(), "the first notification pass")
        assert proc.poll() is None, rig.journal()
    finally:
        if proc.poll() is None:
            assert stop(proc) == 0
        else:
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    clean(Result(0, b"", rig.journal()), "secret-part-running")
