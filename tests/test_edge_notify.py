"""Vault as the source of truth for the rest of the stack: `bridge edge sync|status`, `bridge login --access-token`,
notifications (`bridge notify test`, `bridge audit --alerts --notify`, the watcher) and their doctor line.

Real parts: the bridge as a subprocess over the PostgREST stand-in and the
session's PostgreSQL; a loopback stand-in of the Management API built from
its documented shapes (bearer check, SHA-256 digests, 429 with Retry-After,
a secret the bridge does not manage); a loopback webhook receiver. Every
output is searched for values, the access token and the webhook URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.core.edge_names import (
    CHANGED_ELSEWHERE,
    CREATED,
    NOT_MANAGED,
    UNCHANGED,
    UPDATED,
    Entry,
    digest,
    expand,
    parse_entry,
    plan,
)
from bridge.core.errors import ConfigError
from bridge.local.config import parse_config
from tests.conftest import Vault
from tests.support.bridge_proc import Result, run_bridge
from tests.support.management_api import ManagementStandIn
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_lifecycle_sql import Rpc
from tests.test_watch_cli import KEY_NAME, OLD_KEY, OLD_TOKEN, TOKEN_NAME, Rig, stop, wait_for

REF = "abcdefghijklmnopqrst"
WAIT_S = 60.0
"""Only against a hang: how soon things arrive is never asserted."""


def access_token() -> str:
    return "sbp_" + secrets.token_hex(20)


def value() -> str:
    return "edge-value-" + secrets.token_urlsafe(18)


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5).upper()}"


def clean(result: Result, *secret_texts: str) -> Result:
    text = result.all_output()
    leaked = [i for i, s in enumerate(secret_texts) if s and s in text]
    assert not leaked, f"secret #{leaked} appears in the output"
    return result


def write_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text)


# --- the pure part ------------------------------------------------------------------


def test_plan_creates_missing_updates_managed_and_leaves_the_projects_own_alone() -> None:
    wanted = {"NEW": digest("a"), "MINE": digest("b2"), "THEIRS": digest("c"), "SAME": digest("d")}
    remote = {"MINE": digest("b1"), "THEIRS": digest("other"), "SAME": digest("d"), "SUPABASE_URL": "x"}
    steps = dict(plan(wanted, remote, frozenset({"MINE"})))
    assert steps == {"NEW": CREATED, "MINE": UPDATED, "THEIRS": NOT_MANAGED, "SAME": UNCHANGED}
    # The API's digest is the hex SHA-256 of the value's UTF-8 bytes.
    assert digest("é") == hashlib.sha256("é".encode()).hexdigest()


def test_plan_updates_a_managed_name_only_while_it_holds_what_the_bridge_wrote() -> None:
    wanted = {"KEPT": digest("new"), "CHANGED": digest("new"), "OLD_RECORD": digest("new")}
    remote = {"KEPT": digest("old"), "CHANGED": digest("someone else's"), "OLD_RECORD": digest("old")}
    written = {"KEPT": frozenset({digest("old")}), "CHANGED": frozenset({digest("old")})}
    steps = dict(plan(wanted, remote, frozenset(wanted), written))
    # OLD_RECORD was recorded before digests were: trusted once.
    assert steps == {"KEPT": UPDATED, "CHANGED": CHANGED_ELSEWHERE, "OLD_RECORD": UPDATED}


def test_names_map_to_themselves_to_another_or_by_glob() -> None:
    entries = [parse_entry("OPENAI_API_KEY", "t"), parse_entry("STRIPE=stripe_live", "t"), parse_entry("edge_*", "t")]
    assert entries[1] == Entry("STRIPE", "stripe_live")
    mapped = expand(entries, ["edge_one", "edge_two", "other", "t#edge_x", "SUPABASE_nope"])
    assert mapped == {"OPENAI_API_KEY": "OPENAI_API_KEY", "STRIPE": "stripe_live", "edge_one": "edge_one", "edge_two": "edge_two"}


@pytest.mark.parametrize(("doc", "words"), [
    ({"edge": {"names": ["SUPABASE_URL"]}}, "Supabase's own"),
    ({"edge": {"names": ["1BAD"]}}, "not an environment variable name"),
    ({"edge": {"names": "ONE"}}, "must be a list"),
    ({"edge": {"api_url": "http://api.example.com"}}, "refusing plain http"),
    ({"edge": {"project_ref": "Nope"}}, "20 lowercase letters"),
    ({"edge": {"nmes": []}}, "unknown key 'nmes' in [edge]"),
    ({"notify": {"webhook": "https://hooks.slack.com/services/T/B/x"}}, "never hold the URL"),
    ({"notify": {"webhook": 3}}, "names the Vault secret"),
])
def test_bad_edge_and_notify_settings_are_one_line_naming_the_fix(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(doc)
    assert words in str(refused.value)


def test_good_edge_and_notify_settings() -> None:
    config = parse_config({"edge": {"names": ["A", "B=b"], "api_url": "http://127.0.0.1:9/", "project_ref": REF},
                           "notify": {"webhook": "SLACK_HOOK"}})
    assert (config.edge.names, config.edge.api_url, config.edge.project_ref) == (
        (Entry("A", "A"), Entry("B", "b")), "http://127.0.0.1:9", REF,
    )
    assert config.notify.webhook == "SLACK_HOOK"
    assert parse_config({}).edge.api_url == "https://api.supabase.com"


def test_an_alert_is_new_again_only_when_its_activity_starts_after_what_was_posted() -> None:
    from bridge.notify.events import alert_events, is_new, status_events

    burst = {"kind": "failures", "secret": "K", "first_at": "2026-12-07T10:00:00+00:00", "last_at": "2026-12-07T10:05:00+00:00",
             "message": "6 failed accesses to K"}
    (event,) = alert_events([burst])
    sent = {event.key: {"mark": event.mark}}
    grown = {**burst, "last_at": "2026-12-07T10:20:00+00:00"}
    slid = {**burst, "first_at": "2026-12-07T10:03:00+00:00"}
    again = {**burst, "first_at": "2026-12-07T12:00:00+00:00", "last_at": "2026-12-07T12:01:00+00:00"}
    assert [is_new(e, sent) for e in alert_events([grown, slid, again])] == [False, False, True]
    assert is_new(event, {}) and "K" in event.text
    # A due state is about one due date: the next state of the same secret, or a new date, is new.
    rows = [{"name": "S", "due": "due", "due_at": "2026-12-09T00:00:00+00:00", "status": "ok"}]
    (due,) = status_events(rows, 0.0)
    sent = {due.key: {}}
    assert not is_new(status_events(rows, 0.0)[0], sent)
    assert is_new(status_events([{**rows[0], "due": "overdue"}], 0.0)[0], sent)
    assert status_events([{"name": "S", "due": "ok", "status": "ok"}], 0.0) == []
    (invalid,) = status_events([{"name": "T", "due": "ok", "status": "invalid", "updated_at": "v1", "check_message": "401"}], 0.0)
    assert invalid.data == {"kind": "test", "secret": "T", "state": "invalid", "checked_at": None}


# --- bridge edge sync / status --------------------------------------------------------


@pytest.fixture
def api() -> Iterator[ManagementStandIn]:
    server = ManagementStandIn(access_token(), REF, {"THEIRS": "the-projects-own-value", "SUPABASE_DB_URL": "postgres://x"})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def edge_env(env_bootstrap: dict[str, str], api: ManagementStandIn) -> dict[str, str]:
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\n')
    return {**env_bootstrap, "SUPABASE_ACCESS_TOKEN": api.token}


def sync(env: dict[str, str], *args: str) -> dict[str, str]:
    result = run_bridge(["edge", "sync", "--json", *args], env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row["outcome"] for row in json.loads(result.stdout)["names"]}


def test_sync_creates_updates_by_digest_and_never_touches_a_secret_it_does_not_manage(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault, pg: PgCluster,
) -> None:
    mine, mapped_vault, theirs_vault = unique("EDGE_MINE"), unique("edge_src"), unique("EDGE_THEIRS")
    values = {mine: value(), mapped_vault: value(), theirs_vault: value()}
    for name, text in values.items():
        vault.put(name, text)
    names = ["--name", mine, "--name", f"MAPPED={mapped_vault}", "--name", f"THEIRS={theirs_vault}"]
    dry = run_bridge(["edge", "sync", "--dry-run", *names], edge_env)
    assert dry.returncode == 0 and "would be created" in dry.stdout.decode() and api.posts() == []

    first = run_bridge(["edge", "sync", *names], edge_env)
    assert first.returncode == 0, first.stderr
    clean(first, *values.values(), api.token)
    lines = first.stdout.decode().splitlines()
    assert f"{mine}: created" in lines and f"MAPPED (from {mapped_vault}): created" in lines
    assert "THEIRS (from " + theirs_vault + "): skipped (not managed)" in lines
    # One POST with exactly the created names; the project's own secret keeps its value.
    (post,) = api.posts()
    assert post.names == sorted([mine, "MAPPED"])
    assert (api.secrets[mine], api.secrets["MAPPED"], api.secrets["THEIRS"]) == (values[mine], values[mapped_vault], "the-projects-own-value")

    assert sync(edge_env, *names) == {mine: UNCHANGED, "MAPPED": UNCHANGED, "THEIRS": NOT_MANAGED}
    assert len(api.posts()) == 1, "nothing differs, so nothing is sent"
    # Each write is one edge_sync audit row naming the project and the names sent, never a value.
    with pg.connect("postgres") as conn:
        rows = conn.execute("SELECT secret_name, success, name_count FROM public.vault_access_log "
                            "WHERE access_type = 'edge_sync' AND secret_name LIKE %s", (f"{REF}: %{mine}%",)).fetchall()
    assert rows == [(f"{REF}: {','.join(sorted(['MAPPED', mine]))}", True, 2)], rows

    rotated = value()
    assert run_bridge(["secrets", "set", mine], edge_env, rotated.encode()).returncode == 0
    assert sync(edge_env, *names) == {mine: UPDATED, "MAPPED": UNCHANGED, "THEIRS": NOT_MANAGED}
    assert api.posts()[-1].names == [mine] and api.secrets[mine] == rotated and api.secrets["THEIRS"] == "the-projects-own-value"

    status = run_bridge(["edge", "status", "--json", *names], edge_env)
    clean(status, rotated, *values.values(), api.token)
    assert {r["name"]: r["status"] for r in json.loads(status.stdout)["names"]} == {
        mine: "in step", "MAPPED": "in step", "THEIRS": "not managed",
    }
    api.secrets["MAPPED"] = "changed-in-the-dashboard"
    # Someone else's value now (finding C of the attack review): status says what a sync would do.
    assert ("MAPPED (from " + mapped_vault + "): not managed (changed since the bridge wrote it)"
            in run_bridge(["edge", "status", *names], edge_env).stdout.decode())
    assert sync(edge_env, *names)["MAPPED"] == CHANGED_ELSEWHERE and api.secrets["MAPPED"] == "changed-in-the-dashboard"
    # Which names it manages is on disk, 0600: names and the digests the bridge wrote, never a value.
    managed = Path(edge_env["BRIDGE_HOME"]) / "edge-managed.json"
    assert managed.stat().st_mode & 0o777 == 0o600
    assert json.loads(managed.read_text())["projects"][REF] == sorted([mine, "MAPPED"])
    assert not any(v in managed.read_text() for v in (*values.values(), rotated))
    # Each sync's Vault reads are in the audit log under client provider edge-sync, names only.
    with pg.connect("postgres") as conn:
        rows = conn.execute(
            "SELECT secret_name, access_type, client->>'provider' FROM public.vault_access_log WHERE secret_name = %s", (mine,),
        ).fetchall()
    assert ("retrieve" in {r[1] for r in rows}) and {r[2] for r in rows if r[1] == "retrieve"} == {"edge-sync"}


def test_a_429_is_waited_out_as_retry_after_asks(edge_env: dict[str, str], api: ManagementStandIn, vault: Vault) -> None:
    name = unique("EDGE_LIMITED")
    vault.put(name, value())
    api.limit(2)
    assert sync(edge_env, "--name", name) == {name: CREATED}
    assert [c.status for c in api.calls][:3] == [429, 429, 200] and api.secrets.get(name)
    # A wait past admin_deadline is not waited: one line saying so.
    api.retry_after = "3600"
    api.limit(1)
    refused = run_bridge(["edge", "sync", "--name", name], edge_env)
    assert refused.returncode == 1 and "rate limiting" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_the_access_token_comes_from_login_never_argv_and_a_refused_one_is_one_clean_line(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    name = unique("EDGE_LOGIN")
    vault.put(name, value())
    env = {k: v for k, v in edge_env.items() if k != "SUPABASE_ACCESS_TOKEN"}
    missing = run_bridge(["edge", "status", "--name", name], env)
    assert missing.returncode == 1 and "bridge login --access-token" in missing.stderr
    assert run_bridge(["login", "--access-token", "--store", "file"], env, b"not-a-token\n").returncode == 1
    stored = run_bridge(["login", "--access-token", "--store", "file"], env, api.token.encode() + b"\n")
    assert stored.returncode == 0, stored.stderr
    clean(stored, api.token)
    sealed = Path(env["BRIDGE_HOME"]) / "access-token.sealed"
    assert sealed.stat().st_mode & 0o777 == 0o600 and api.token.encode() not in sealed.read_bytes()
    assert sync(env, "--name", name) == {name: CREATED}
    wrong = access_token()
    refused = run_bridge(["edge", "sync", "--name", name], {**env, "SUPABASE_ACCESS_TOKEN": wrong})
    assert refused.returncode == 1 and "refused the access token (HTTP 401)" in refused.stderr
    clean(refused, wrong, api.token)
    write_config(Path(env["BRIDGE_HOME"]), f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\nnames = ["{name}"]\n')
    doctor = clean(run_bridge(["doctor", "--json"], env), api.token)
    (line,) = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "edge secrets"]
    assert line["status"] == "pass" and "access token from file" in line["detail"]
    assert run_bridge(["logout"], env).returncode == 0 and not sealed.exists()
    doctor = run_bridge(["doctor", "--json"], env)
    (line,) = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "edge secrets"]
    assert line["status"] == "warn" and line["fix"] == "bridge login --access-token"


def test_a_write_the_api_refuses_takes_back_the_names_it_would_have_created(
    edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    name = unique("EDGE_REFUSED")
    vault.put(name, value())
    api.post_status = 500
    failed = run_bridge(["edge", "sync", "--name", name], edge_env)
    assert failed.returncode == 1 and "HTTP 500" in failed.stderr and name not in api.secrets
    managed = Path(edge_env["BRIDGE_HOME"]) / "edge-managed.json"
    assert name not in json.loads(managed.read_text())["projects"].get(REF, [])
    # Someone else creates it meanwhile: it is theirs, and stays so.
    api.post_status = None
    api.secrets[name] = "made-by-hand"
    assert sync(edge_env, "--name", name) == {name: NOT_MANAGED} and api.secrets[name] == "made-by-hand"


def test_retry_after_in_seconds_or_as_a_date_else_the_reset_header() -> None:
    from email.utils import formatdate

    from bridge.remote.management import retry_after

    now = 1_800_000_000.0
    assert retry_after({"Retry-After": "7"}, now, 1.0) == 7.0
    assert retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now, 1.0) == 30.0
    assert retry_after({"X-RateLimit-Reset": "12"}, now, 1.0) == 12.0
    assert retry_after({}, now, 2.0) == 2.0


# --- the watcher ----------------------------------------------------------------------


def test_a_rotation_under_the_watcher_reaches_the_edge_secrets(
    tmp_path: Path, edge_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    name, other = unique("EDGE_WATCHED"), unique("EDGE_STILL")
    first, still = value(), value()
    vault.put(name, first)
    vault.put(other, still)
    home = Path(edge_env["BRIDGE_HOME"])
    write_config(home, f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\nnames = ["{name}", "{other}"]\n')
    rig = Rig(tmp_path, edge_env)
    once = run_bridge(["watch", "--once"], rig.env)
    assert once.returncode == 0, once.stderr
    assert api.posts()[-1].names == sorted([name, other]) and api.secrets[name] == first

    proc = rig.start("--interval", "1s")
    try:
        wait_for(rig.ready(proc), "the first poll")
        rotated = value()
        assert run_bridge(["secrets", "set", name], edge_env, rotated.encode()).returncode == 0
        assert api.wait_for_post(2, WAIT_S)
        # Only the changed name is sent, with its new value.
        assert api.posts()[1].names == [name] and api.secrets[name] == rotated and api.secrets[other] == still
    finally:
        assert stop(proc) == 0
    clean(Result(0, b"", rig.journal()), first, rotated, still, api.token)
    assert f"edge sync to project {REF}: {name}" in rig.journal()


# --- notifications --------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http(endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster) -> Iterator[Rpc]:
    rpc = Rpc(endpoint, keys)
    try:
        with audit_rows_dropped_after(pg):
            yield rpc
    finally:
        forget(pg, *rpc.names)


@pytest.fixture
def notify_env(env_bootstrap: dict[str, str], receiver: WebhookReceiver, vault: Vault) -> dict[str, str]:
    hook = unique("NOTIFY_HOOK")
    vault.put(hook, receiver.hook_url)
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[notify]\nwebhook = "{hook}"\n')
    return env_bootstrap


def notify(env: dict[str, str], receiver: WebhookReceiver, *secret_texts: str) -> Result:
    result = run_bridge(["audit", "--alerts", "--notify"], env)
    return clean(result, receiver.hook_url, receiver.path, *secret_texts)


def ours(receiver: WebhookReceiver, names: set[str]) -> list[tuple[str, str]]:
    """(kind, what) of every event received about this test's names or tokens."""
    found = []
    for event in receiver.events():
        about = event.get("secret") or event.get("token") or ""
        if any(n in str(about) for n in names):
            found.append((str(event.get("alert") or event.get("kind")), str(event.get("state") or about)))
    return sorted(found)


def test_each_alert_kind_and_due_state_arrives_once_across_restarts_and_nothing_else(
    tmp_path: Path, notify_env: dict[str, str], receiver: WebhookReceiver, http: Rpc, pg: PgCluster, vault: Vault,
) -> None:
    env = notify_env
    # Whatever the shared database already deserves a message for is posted first, and not counted below.
    assert notify(env, receiver).returncode == 0
    receiver.messages.clear()

    prefix = unique("NOTE")
    due, overdue, expired, invalid, noisy, hosted = (f"{prefix}_{s}" for s in ("DUE", "OVERDUE", "EXPIRED", "INVALID", "NOISY", "HOSTED"))
    http.store(due, meta={"rotate_every_s": 3 * 86400})
    http.store(overdue, meta={"rotate_every_s": 86400})
    http.store(expired, meta={"expires_at": "2020-01-01T00:00:00Z"})
    http.store(invalid, meta={"type": "openai"})
    http.store(hosted)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE vault_bridge.secret_meta SET rotated_at = now() - interval '3 days' "
                     "WHERE secret_id = (SELECT id FROM vault.secrets WHERE name = %s)", (overdue,))
        # record_secret_check takes the version tested (schema v11): a verdict is about one value.
        row = conn.execute("SELECT updated_at FROM vault.secrets WHERE name = %s", (invalid,)).fetchone()
    assert row is not None
    http.admin("record_secret_check", {"p_name": invalid, "p_status": "invalid", "p_message": "provider said 401",
                                       "p_version": row[0].isoformat()})
    token_name = unique("gw-note").lower()
    token = http.token("default", token_name, [f"{prefix}_*"])
    for _ in range(6):
        http.gateway(token, [noisy], "gw-noisy")
    http.admin("resolve_secrets", {"p_names": [hosted]}, host="gw-home")
    http.admin("resolve_secrets", {"p_names": [hosted]}, host="gw-elsewhere")
    idle = unique("gw-idle").lower()
    http.token("default", idle, [hosted])
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE vault_bridge.gateway_tokens SET created_at = now() - interval '100 days' WHERE name = %s", (idle,))
        conn.execute("UPDATE public.vault_access_log SET accessed_at = accessed_at - interval '2 days' "
                     "WHERE secret_name = %s AND host = 'gw-home'", (hosted,))
    names = {prefix, token_name, idle}
    expected = sorted([
        ("due", "due"), ("due", "overdue"), ("due", "expired"), ("test", "invalid"),
        ("failures", noisy), ("failures", f"default/{token_name}"), ("new_host", hosted), ("unused_token", f"default/{idle}"),
    ])

    # The watcher posts them; started again, and then from cron, nothing new, so nothing arrives.
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    rig = Rig(tmp_path, env)
    for _ in range(2):
        watched = run_bridge(["watch", "--once"], rig.env)
        assert watched.returncode == 0, watched.stderr
        clean(watched, receiver.hook_url, receiver.path)
    assert ours(receiver, names) == expected
    assert len(receiver.events()) == len(expected), "nothing else arrives"
    (message,) = receiver.messages
    assert isinstance(message["text"], str) and due in message["text"]
    assert "nothing new" in notify(env, receiver).stdout.decode()
    assert len(receiver.messages) == 1

    # A failed delivery is one clean line, shown by doctor, and retried: the event then arrives once.
    receiver.status = 500
    later = f"{prefix}_LATER"
    http.store(later, meta={"expires_at": "2020-01-01T00:00:00Z"})
    failed = notify(env, receiver)
    assert failed.returncode == 1 and "HTTP 500" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    backing_off = notify(env, receiver)
    assert backing_off.returncode == 0 and "backing off" in backing_off.stdout.decode()
    doctor = clean(run_bridge(["doctor", "--json"], env), receiver.hook_url, receiver.path)
    (line,) = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "notifications"]
    assert line["status"] == "warn" and "HTTP 500" in line["detail"]
    receiver.status = 200
    state_file = Path(env["BRIDGE_HOME"]) / "notify-state.json"
    assert state_file.stat().st_mode & 0o777 == 0o600 and receiver.hook_url not in state_file.read_text()
    state = json.loads(state_file.read_text())
    state["next_try_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).timestamp()  # the backoff has run out
    state_file.write_text(json.dumps(state))
    assert notify(env, receiver).returncode == 0
    assert ours(receiver, {later}) == [("due", "expired")]
    assert notify(env, receiver).returncode == 0 and len(receiver.messages) == 2
    doctor = clean(run_bridge(["doctor", "--json"], env), receiver.hook_url, receiver.path)
    (line,) = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "notifications"]
    assert line["status"] == "pass"
    # Only the webhook's host was ever asked.
    assert all(r.path == receiver.path for r in receiver.requests)


def test_notify_test_posts_one_message_and_never_shows_the_url(
    notify_env: dict[str, str], receiver: WebhookReceiver,
) -> None:
    done = run_bridge(["notify", "test"], notify_env)
    assert done.returncode == 0, done.stderr
    clean(done, receiver.hook_url, receiver.path)
    assert receiver.wait_for(1, WAIT_S) and receiver.events() == [{"kind": "test_message"}]
    receiver.status = 404
    refused = run_bridge(["notify", "test"], notify_env)
    assert refused.returncode == 1 and "HTTP 404" in refused.stderr
    clean(refused, receiver.hook_url, receiver.path)


def test_a_redirect_from_the_webhook_is_not_followed(notify_env: dict[str, str], receiver: WebhookReceiver) -> None:
    elsewhere = WebhookReceiver()
    try:
        receiver.redirect_to = elsewhere.hook_url
        refused = run_bridge(["notify", "test"], notify_env)
        assert refused.returncode == 1 and "HTTP 307" in refused.stderr
        clean(refused, receiver.hook_url, receiver.path, elsewhere.hook_url)
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


def test_a_plain_http_webhook_off_this_machine_is_refused_without_quoting_it(
    env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    hook = unique("NOTIFY_PLAIN")
    url = "http://hooks.example.com/services/T1/B1/secret-part-xyz"
    vault.put(hook, url)
    write_config(Path(env_bootstrap["BRIDGE_HOME"]), f'[notify]\nwebhook = "{hook}"\n')
    refused = run_bridge(["notify", "test"], env_bootstrap)
    assert refused.returncode == 1 and "https://" in refused.stderr
    clean(refused, url, "secret-part-xyz", "hooks.example.com")


# --- the dashboard --------------------------------------------------------------------


def test_the_dashboard_shows_edge_status_and_notification_settings_read_only(
    edge_env: dict[str, str], api: ManagementStandIn, receiver: WebhookReceiver, vault: Vault,
) -> None:
    from tests.test_ui_browser import Dashboard
    from tests.test_ui_session import LoggedIn

    name, theirs = unique("EDGE_PANEL"), unique("EDGE_PANEL_THEIRS")
    text, hook = value(), unique("NOTIFY_HOOK")
    vault.put(name, text)
    vault.put(theirs, value())
    vault.put(hook, receiver.hook_url)
    home = Path(edge_env["BRIDGE_HOME"])
    write_config(home, f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\nnames = ["{name}", "THEIRS={theirs}"]\n'
                       f'[notify]\nwebhook = "{hook}"\n')
    assert sync(edge_env) == {name: CREATED, "THEIRS": NOT_MANAGED}
    assert run_bridge(["notify", "test"], edge_env).returncode == 0
    posts = len(api.posts())
    ui = Dashboard(edge_env)
    try:
        session = LoggedIn(ui)
        page = session.get("/integrations")
        assert page.status_code == 200, page.text
        body = page.text
        assert f"<td>{name}</td><td>{name}</td><td><span class=\"edge-status\">in step</span>" in body
        assert "not managed" in body and REF in body
        assert f"<code>{hook}</code>" in body and "ok" in body.split("Last delivery")[1]
        assert "/integrations" in session.get("/tokens").text, "one nav link"
    finally:
        ui.stop()
    for secret_text in (text, api.token, receiver.hook_url, receiver.path):
        assert secret_text not in body
    assert len(api.posts()) == posts, "the panel never syncs"


def test_the_access_token_goes_to_the_os_keyring_apart_from_the_project_key(
    edge_env: dict[str, str], keyring_env: dict[str, str], api: ManagementStandIn, vault: Vault,
) -> None:
    name = unique("EDGE_KEYRING")
    vault.put(name, value())
    env = {**{k: v for k, v in edge_env.items() if k != "SUPABASE_ACCESS_TOKEN"}, **keyring_env}
    stored = run_bridge(["login", "--access-token"], env, api.token.encode() + b"\n")
    assert stored.returncode == 0 and "stored in the OS keyring" in stored.stdout.decode(), stored.stderr
    clean(stored, api.token)
    assert not (Path(env["BRIDGE_HOME"]) / "access-token.sealed").exists()
    assert sync(env, "--name", name) == {name: CREATED}
    out = run_bridge(["logout"], env)
    assert "access token from the OS keyring" in out.stdout.decode()
    assert "bridge login --access-token" in run_bridge(["edge", "status", "--name", name], env).stderr


def test_a_second_sync_or_notification_pass_at_the_same_time_skips_instead_of_doubling(
    edge_env: dict[str, str], api: ManagementStandIn, receiver: WebhookReceiver, vault: Vault,
) -> None:
    from bridge.local.locks import held

    home = Path(edge_env["BRIDGE_HOME"])
    name, hook = unique("EDGE_LOCKED"), unique("NOTIFY_HOOK")
    vault.put(name, value())
    vault.put(hook, receiver.hook_url)
    write_config(home, f'[edge]\napi_url = "{api.url}"\nproject_ref = "{REF}"\n[notify]\nwebhook = "{hook}"\n')
    with held(home / "edge-sync.lock") as mine, held(home / "notify.lock") as also_mine:
        assert mine and also_mine
        busy = run_bridge(["edge", "sync", "--name", name], edge_env)
        assert busy.returncode == 1 and "another edge sync is running" in busy.stderr and api.posts() == []
        skipped = run_bridge(["audit", "--alerts", "--notify"], edge_env)
        assert skipped.returncode == 0 and "another notification pass is running" in skipped.stdout.decode()
        assert receiver.requests == []
    assert sync(edge_env, "--name", name) == {name: CREATED}
