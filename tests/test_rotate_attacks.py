"""Attacks on issue 31's kept versions (rotate, rollback, history, rollout progress), against real PostgreSQL.

A failing test here is an attack that succeeded on main; a passing one is an
attack that was blocked and stays as a regression test. Races are made with two
real connections whose transactions interleave in a fixed order (one holds its
transaction open while the other runs), never with sleeps.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.support.api_role import become, call, mint, resolve_with_token
from tests.support.pg import PgCluster
from tests.test_setup_admin import unique

OLD = "sk-proj-ATTACKOLD-5c2e9b1d7f3a-never-shown"
NEW = "sk-proj-ATTACKNEW-0f8a6d4c2b1e-never-shown"


def rotate(conn: psycopg.Connection, name: str, value: str, keep: str | None = None) -> dict[str, Any]:
    ((answer,),) = call(conn, "SELECT public.rotate_secret_version(%s, %s, %s::interval, NULL, NULL)", (name, value, keep))
    result: dict[str, Any] = answer
    return result


def history(conn: psycopg.Connection, name: str) -> list[dict[str, Any]]:
    ((answer,),) = call(conn, "SELECT public.history_secret_versions(%s)", (name,))
    versions: list[dict[str, Any]] = answer["versions"]
    return versions


def as_postgres(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement as postgres (the test's own view of Vault), then service_role again."""
    conn.execute("RESET ROLE")
    try:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []
    finally:
        become(conn, "service_role", headers={"x-bridge-host": "admin-laptop"})


def vault_has(conn: psycopg.Connection, value: str) -> bool:
    conn.execute("RESET ROLE")
    try:
        (found,) = conn.execute("SELECT count(*) FROM vault.decrypted_secrets WHERE decrypted_secret = %s",
                                (value,)).fetchone() or (0,)
    finally:
        become(conn, "service_role", headers={"x-bridge-host": "admin-laptop"})
    return bool(found)


def kept_ids(conn: psycopg.Connection, name: str) -> list[uuid.UUID]:
    conn.execute("RESET ROLE")
    try:
        rows = conn.execute("SELECT x.value_id FROM vault_bridge.secret_versions AS x JOIN vault.secrets AS s ON s.id = x.secret_id "
                            "WHERE s.name = %s AND x.value_id IS NOT NULL", (name,)).fetchall()
    finally:
        become(conn, "service_role", headers={"x-bridge-host": "admin-laptop"})
    return [r[0] for r in rows]


@pytest.fixture
def stored(owner: psycopg.Connection) -> str:
    """A secret (rolled back with the test's transaction) rotated once from OLD to NEW: OLD is the kept version."""
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    name = unique("ATTACKED")
    call(owner, "SELECT public.set_secret(%s, %s, NULL, %s)", (name, OLD, json.dumps({"type": "openai"})))
    rotate(owner, name, NEW, keep="1 hour")
    return name


@pytest.fixture
def committed(pg: PgCluster) -> Iterator[tuple[str, str]]:
    """A committed secret holding OLD and a committed gateway token allowed to read it, for races between two
    connections; deleted (with its kept versions) and revoked afterwards."""
    name, gateway = unique("RACED"), unique("gw")
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        call(conn, "SELECT public.set_secret(%s, %s)", (name, OLD))
        token = mint(conn, "default", gateway, [name])
        conn.commit()
    try:
        yield name, token
    finally:
        with pg.connect("postgres") as conn:
            become(conn, "service_role")
            call(conn, "SELECT public.delete_secret(%s)", (name,))
            call(conn, "SELECT public.revoke_gateway_token('default', %s)", (gateway,))
            conn.commit()


# --- reaching a kept value --------------------------------------------------------------------------------------


def test_token_cannot_reach_a_kept_value_by_name_id_or_description(owner: psycopg.Connection, stored: str) -> None:
    (kept,) = kept_ids(owner, stored)
    ((description,),) = as_postgres(owner, "SELECT description FROM vault.secrets WHERE id = %s", (kept,))
    token = mint(owner, "default", unique("gw"), ["*_*", "*-*", "*:*", "* *"])
    got = resolve_with_token(owner, token, [stored, str(kept), description, ""])
    assert got == {stored: NEW}
    become(owner, "anon")
    ((feed,),) = call(owner, "SELECT public.changed_secrets_with_token(%s, %s, NULL)", (token, [str(kept), description]))
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    assert OLD not in json.dumps(feed) and feed["changed"] == []


def test_listings_resolve_and_change_feed_show_no_kept_version(owner: psycopg.Connection, stored: str) -> None:
    (kept,) = kept_ids(owner, stored)
    listed = call(owner, "SELECT id, name FROM public.list_secrets(NULL)")
    assert kept not in [row[0] for row in listed] and None not in [row[1] for row in listed]
    assert all(row[0] is not None for row in call(owner, "SELECT name FROM public.list_secrets_status(NULL)"))
    ((resolved,),) = call(owner, "SELECT public.resolve_secrets(%s)", ([stored, str(kept)],))
    assert OLD not in json.dumps(resolved)
    ((feed,),) = call(owner, "SELECT public.changed_secrets(%s, NULL)", ([str(kept)],))
    assert feed["changed"] == []
    assert OLD not in json.dumps(history(owner, stored))


def test_an_authenticated_member_sees_no_kept_version_in_the_overview(owner: psycopg.Connection, stored: str) -> None:
    user = uuid.uuid4()
    call(owner, "SELECT public.add_tenant_member('default', %s)", (user,))
    become(owner, "authenticated", sub=str(user))
    rows = call(owner, "SELECT tenant, name, description FROM public.vault_secrets_overview")
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    assert [r for r in rows if r[1] == stored] and all(r[1] is not None for r in rows)
    assert not any("version 1 of" in str(r[2]) for r in rows), "a kept copy's description is not listed"


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize("query", [
    "SELECT public.rotate_secret_version(%s, 'x', NULL, NULL, NULL)",
    "SELECT public.rollback_secret_version(%s, NULL)",
    "SELECT public.history_secret_versions(%s)",
    "SELECT public.secret_rollout_progress(%s, now())",
])
def test_api_roles_cannot_rotate_roll_back_or_read_history(owner: psycopg.Connection, stored: str, role: str, query: str) -> None:
    become(owner, role, sub=str(uuid.uuid4()))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        call(owner, query, (stored,))


# --- purge ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call_name", "query"), [
    ("list_secrets_status (bridge secrets ls)", "SELECT count(*) FROM public.list_secrets_status(NULL)"),
    ("get_secret (bridge secrets get)", "SELECT public.get_secret(%s)"),
    ("set_secret (bridge secrets set)", "SELECT public.set_secret(%s || '_OTHER', 'another-value-77', NULL, NULL)"),
    ("read_access_log (bridge audit)", "SELECT count(*) FROM public.read_access_log(NULL, NULL, NULL, 10, NULL)"),
    ("delete_secret of another (bridge secrets rm)", "SELECT public.delete_secret(%s || '_NOT_THERE')"),
], ids=["ls", "get", "set", "audit", "rm"])
def test_kept_value_past_its_time_is_purged_at_the_next_admin_call(owner: psycopg.Connection, stored: str,
                                                                  call_name: str, query: str) -> None:
    """The issue: "Purging happens at the next admin call past its time". Only rotate, rollback and history purge:
    a secret rotated once and then only listed, read, set or audited keeps its old key in Vault for ever."""
    as_postgres(owner, "UPDATE vault_bridge.secret_versions SET keep_until = now() - interval '1 second' WHERE value_id IS NOT NULL")
    assert vault_has(owner, OLD)
    call(owner, query, (stored,) if "%s" in query else ())
    assert not vault_has(owner, OLD), f"the kept value past its time is still in Vault after {call_name}"


def test_purge_cost_is_bounded_with_ten_thousand_expired_versions(owner: psycopg.Connection, stored: str) -> None:
    """10,000 kept values past their time: one history call deletes max_purge_per_call() of them, not all."""
    as_postgres(owner, """
        WITH made AS (
          SELECT g, vault.create_secret('expired-kept-' || g, NULL, 'attack filler') AS id FROM generate_series(1, 10000) AS g)
        INSERT INTO vault_bridge.secret_versions (secret_id, version, created_at, value_id, superseded_at, keep_until)
        SELECT gen_random_uuid(), 1, now() - interval '2 days', m.id, now() - interval '2 days', now() - interval '1 day'
        FROM made AS m""")
    ((limit,),) = as_postgres(owner, "SELECT vault_bridge.max_purge_per_call()")
    history(owner, stored)
    ((left,),) = as_postgres(owner, "SELECT count(*) FROM vault.secrets WHERE description = 'attack filler'")
    assert left == 10000 - limit


def test_history_does_not_call_a_kept_copy_deleted_by_hand_kept(owner: psycopg.Connection, stored: str) -> None:
    """A kept copy deleted in Studio (or by delete_credential on its id): rollback refuses, but history still
    says the version is kept, so the operator believes a rollback is possible."""
    (kept,) = kept_ids(owner, stored)
    call(owner, "SELECT public.delete_credential(%s)", (kept,))
    with pytest.raises(psycopg.Error, match="no longer in Vault"):
        call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    (_current, previous) = history(owner, stored)
    assert previous["kept"] is False, "history says version 1 is kept though its value is gone from Vault"


# --- races ------------------------------------------------------------------------------------------------------


def test_rollout_never_counts_a_gateway_that_read_the_old_value_as_updated(pg: PgCluster, committed: tuple[str, str]) -> None:
    """A gateway resolves while a rotation is in flight (begun, not committed): it gets OLD. Its audit row is
    stamped with its transaction's start, which is after the rotation's (Vault's updated_at is the rotating
    transaction's start), so secret_rollout counts it as holding the new value: --wait exits 0 and tells the
    operator to revoke the key that gateway still uses."""
    name, token = committed
    rotating, gateway = pg.connect("postgres"), pg.connect("postgres")
    try:
        become(rotating, "service_role", headers={"x-bridge-host": "admin-laptop"})
        rotate(rotating, name, NEW)  # in flight: not committed yet
        gateway.execute("SET statement_timeout = '20s'")
        got = resolve_with_token(gateway, token, [name])
        gateway.commit()
        assert got == {name: OLD}
        rotating.commit()
    finally:
        rotating.close()
        gateway.close()
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        ((report,),) = call(conn, "SELECT public.secret_rollout(%s)", (name,))
        conn.rollback()
    updated = [g["gateway"] for g in report["updated"]]
    assert not [g for g in updated if g.startswith("default/")], \
        f"rollout says {updated} hold the new value; that gateway resolved the old one"


def test_history_during_a_rotation_answers_rather_than_failing(pg: PgCluster, committed: tuple[str, str]) -> None:
    """history_secret_versions takes no rotation lock; current_version then waits on the row the rotation
    supersedes, finds no current row once it commits and inserts a version 1 that exists: a raw unique
    violation for `bridge secrets history` (and the dashboard) while someone rotates."""
    name, _token = committed
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        history(conn, name)  # version 1 recorded
        conn.commit()
    rotating, reading = pg.connect("postgres"), pg.connect("postgres")
    outcome: dict[str, Any] = {}

    def read() -> None:
        try:
            become(reading, "service_role")
            reading.execute("SET LOCAL statement_timeout = '20s'")
            outcome["versions"] = history(reading, name)
            reading.commit()
        except psycopg.Error as exc:
            outcome["error"] = f"{exc.sqlstate}: {exc}"
            reading.rollback()

    try:
        become(rotating, "service_role")
        rotate(rotating, name, NEW)
        thread = threading.Thread(target=read)
        thread.start()
        # history is now waiting on the version row the rotation locked: wait for that lock wait to show.
        with pg.connect("postgres", autocommit=True) as watch:
            while not watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND query LIKE '%%history_secret_versions%%'").fetchone()[0]:  # type: ignore[index]
                if not thread.is_alive():
                    break
        rotating.commit()
        thread.join(30)
    finally:
        rotating.close()
        reading.close()
    assert "error" not in outcome, outcome.get("error")
    assert [v["version"] for v in outcome["versions"]][:2] == [2, 1]


# --- the CLI: the provider test and --wait --------------------------------------------------------------------


@pytest.fixture
def cli_secrets(pg: PgCluster, env_bootstrap: dict[str, str]) -> Iterator[list[str]]:
    """Names a CLI test stored, deleted afterwards (with their kept versions) through delete_secret."""
    made: list[str] = []
    try:
        yield made
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            for name in made:
                conn.execute("SET ROLE service_role")
                conn.execute("SELECT public.delete_secret(%s)", (name,))
                conn.execute("RESET ROLE")


def test_rotate_against_a_provider_that_never_answers_ends_at_the_deadline_and_stores_with_a_warning(
    env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    """A provider that accepts the connection and says nothing: the provider test ends at admin_deadline as
    unreachable, and the value is stored with a warning (not a hang, not a refusal)."""
    import socket

    from tests.support.bridge_proc import run_bridge
    from tests.test_lifecycle_cli import openai_key, point_at

    name, old, new = "ATTACK_SILENT_PROVIDER", openai_key(), openai_key()
    cli_secrets.append(name)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        point_at(env_bootstrap, {"openai": f"http://127.0.0.1:{silent.getsockname()[1]}"}, 'admin_deadline = "2s"\n')
        assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, old.encode()).returncode == 0
        done = run_bridge(["secrets", "rotate", name], env_bootstrap, new.encode(), timeout=50)
    assert done.returncode == 0, done.stderr
    assert "could not ask the openai provider" in done.stderr and new not in done.all_output() and old not in done.all_output()
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == new + "\n"


def test_wait_progress_stays_one_short_line_with_a_thousand_pending_gateways(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    """The fleet aim is 1,000 gateways. Every pending gateway is written into the progress line, rewritten at each
    change: 1,000 names in one 'line' (on a terminal a rewrite of the last row only, the rest scrolls away), and
    off a terminal a fresh copy of the whole list per gateway that updates."""
    from tests.support.bridge_proc import run_bridge

    name = "ATTACK_THOUSAND_GATEWAYS"
    cli_secrets.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, b"thousand-old-value-9c8b7a").returncode == 0
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                     "SELECT %s, 'resolve', true, jsonb_build_object('host', 'gw-' || g), now() - interval '1 hour' "
                     "FROM generate_series(1, 1000) AS g", (name,))
    try:
        done = run_bridge(["secrets", "rotate", name, "--wait", "1s"], env_bootstrap, b"thousand-new-value-1f2e3d")
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE secret_name = %s", (name,))
    assert done.returncode == 1, done.stderr
    (progress,) = [line for line in done.stdout.decode().splitlines() if "gateways have the new value" in line]
    assert progress.startswith("0/1000 gateways have the new value")
    assert len(progress) <= 400, f"the progress line is {len(progress)} characters: it names every pending gateway"


# --- more races ---------------------------------------------------------------------------------------------------


def second_waits(pg: PgCluster, first: psycopg.Connection, second_sql: str, params: tuple[Any, ...],
                 marker: str) -> dict[str, Any]:
    """Run `second_sql` on a new connection while `first` holds its transaction open; once the second is seen
    waiting on a lock (or has ended), commit `first`, then let the second commit. Its answer or its error."""
    outcome: dict[str, Any] = {}
    second = pg.connect("postgres")

    def run() -> None:
        try:
            become(second, "service_role", headers={"x-bridge-host": "second-admin"})
            second.execute("SET LOCAL statement_timeout = '20s'")
            outcome["answer"] = call(second, second_sql, params)[0][0]
            second.commit()
        except psycopg.Error as exc:
            outcome["error"] = f"{exc.sqlstate}: {str(exc).splitlines()[0]}"
            second.rollback()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        with pg.connect("postgres", autocommit=True) as watch:
            while thread.is_alive() and not watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                    (f"%{marker}%",)).fetchone()[0]:  # type: ignore[index]
                pass
        first.commit()
        thread.join(30)
    finally:
        second.close()
    return outcome


def test_two_rotations_at_once_leave_one_current_version_and_keep_both_previous(
    pg: PgCluster, committed: tuple[str, str],
) -> None:
    name, _token = committed
    third = "sk-proj-ATTACKTHIRD-7d6c5b4a3f2e-never-shown"
    first = pg.connect("postgres")
    try:
        become(first, "service_role", headers={"x-bridge-host": "first-admin"})
        rotate(first, name, NEW)
        outcome = second_waits(pg, first, "SELECT public.rotate_secret_version(%s, %s, NULL, NULL, NULL)", (name, third),
                               "rotate_secret_version")
    finally:
        first.close()
    assert "error" not in outcome, outcome["error"]
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        versions = history(conn, name)
        ((value,),) = call(conn, "SELECT public.get_secret(%s)", (name,))
        conn.commit()
    assert [(v["version"], v["current"], v["kept"]) for v in versions] == [(3, True, False), (2, False, True), (1, False, True)]
    assert value == third


def test_rollback_during_a_rotation_restores_the_value_the_rotation_replaced(pg: PgCluster, committed: tuple[str, str]) -> None:
    name, _token = committed
    first = pg.connect("postgres")
    try:
        become(first, "service_role", headers={"x-bridge-host": "first-admin"})
        rotate(first, name, NEW)
        outcome = second_waits(pg, first, "SELECT public.rollback_secret_version(%s, NULL)", (name,), "rollback_secret_version")
    finally:
        first.close()
    assert "error" not in outcome, outcome["error"]
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        ((value,),) = call(conn, "SELECT public.get_secret(%s)", (name,))
        conn.commit()
    assert value == OLD and outcome["answer"]["restored_from"] == 1


def test_a_first_rotation_while_the_dashboard_reads_history_succeeds(pg: PgCluster, committed: tuple[str, str]) -> None:
    """The secret page reads history on every load (every 5 s during a rollout). On a secret never rotated, history
    records version 1 (current_version inserts it) without the rotation lock; a rotation begun meanwhile inserts a
    version 1 as well and fails with a raw unique violation once the page's transaction commits."""
    name, _token = committed
    page = pg.connect("postgres")
    try:
        become(page, "service_role")
        history(page, name)  # version 1 inserted, not committed yet
        outcome = second_waits(pg, page, "SELECT public.rotate_secret_version(%s, %s, NULL, NULL, NULL)", (name, NEW),
                               "rotate_secret_version")
    finally:
        page.close()
    assert "error" not in outcome, outcome["error"]


def test_a_gateway_over_its_audit_budget_that_resolved_the_new_value_is_not_reported_pending(
    pg: PgCluster, committed: tuple[str, str],
) -> None:
    """A token's resolves past token_log_rows() an hour are answered but not itemised. A gateway that spent its
    window (a busy gateway, or a token holder resolving in a loop) resolves the new value and secret_rollout
    lists it pending as if nothing were known: --wait names it as holding the old value, for up to an hour.

    Changed from the review's `pending == []`: the token row counts unitemised calls and names, not which names,
    so counting it updated would be a guess that can tell the operator to revoke a key still in use (the very
    thing rollout must never do). It stays pending, marked unitemised, so the operator is told why."""
    name, token = committed
    with pg.connect("postgres") as conn:
        become(conn, "service_role")
        assert resolve_with_token(conn, token, [name]) == {name: OLD}
        conn.commit()
        become(conn, "service_role", headers={"x-bridge-host": "admin-laptop"})
        rotate(conn, name, NEW)
        conn.commit()
        call(conn, "SELECT public.secret_rollout(%s)", (name,))  # what rotate does at once: the change is seen committed
        conn.commit()
        conn.execute("RESET ROLE")
        conn.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now(), "
                     "log_window_rows = vault_bridge.token_log_rows() WHERE token_sha256 = sha256(convert_to(%s, 'UTF8'))",
                     (token,))
        conn.commit()
        assert resolve_with_token(conn, token, [name]) == {name: NEW}
        conn.commit()
        become(conn, "service_role")
        ((report,),) = call(conn, "SELECT public.secret_rollout(%s)", (name,))
        conn.commit()
    assert report["updated"] == [] and [g["unitemised"] for g in report["pending"]] == [True], \
        f"a gateway past its audit budget that used its token since the change is not marked unitemised: {report}"


# --- kill -9, hostile host names, an echoing provider ---------------------------------------------------------------


def test_kill_9_during_the_provider_test_changes_nothing(pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str]) -> None:
    import signal
    import socket
    import subprocess

    from tests.support.bridge_proc import BRIDGE, run_bridge
    from tests.test_lifecycle_cli import openai_key, point_at

    name, old, new = "ATTACK_KILLED_ROTATE", openai_key(), openai_key()
    cli_secrets.append(name)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        point_at(env_bootstrap, {"openai": f"http://127.0.0.1:{silent.getsockname()[1]}"}, 'admin_deadline = "30s"\n')
        assert run_bridge(["secrets", "set", name], env_bootstrap, old.encode()).returncode == 0
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("UPDATE vault_bridge.secret_meta SET type = 'openai' WHERE secret_id = "
                         "(SELECT id FROM vault.secrets WHERE name = %s)", (name,))
        proc = subprocess.Popen([str(BRIDGE), "secrets", "rotate", name], env=env_bootstrap, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(new.encode())
        proc.stdin.close()
        asking, _ = silent.accept()  # the provider test has begun: the bridge is waiting on the provider
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        asking.close()
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == old + "\n"
    with pg.connect("postgres", autocommit=True) as conn:
        (found,) = conn.execute("SELECT count(*) FROM vault.decrypted_secrets WHERE decrypted_secret = %s", (new,)).fetchone() or (0,)
        (versions,) = conn.execute("SELECT count(*) FROM vault_bridge.secret_versions AS x JOIN vault.secrets AS s ON s.id = x.secret_id "
                                   "WHERE s.name = %s", (name,)).fetchone() or (0,)
    assert found == 0 and versions == 0


HOSTILE_HOST = "\x1b[2J\x1b]0;pwned\x07<img src=x onerror=alert(1)>\u202egw"


def test_a_hostile_host_name_is_shown_inert_in_history(owner: psycopg.Connection) -> None:
    become(owner, "service_role", headers={"x-bridge-host": HOSTILE_HOST})
    name = unique("HOSTILE_BY")
    call(owner, "SELECT public.set_secret(%s, %s)", (name, OLD))
    rotate(owner, name, NEW)
    (current, _previous) = history(owner, name)
    assert not any(ch in current["by"] for ch in "\x1b\x07\u202e"), repr(current["by"])


def test_the_cli_history_table_and_json_hold_no_control_character_or_value(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    from tests.support.bridge_proc import run_bridge

    name = "ATTACK_HOSTILE_HISTORY"
    cli_secrets.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, OLD.encode()).returncode == 0
    with pg.connect("postgres") as conn:
        become(conn, "service_role", headers={"x-bridge-host": HOSTILE_HOST})
        rotate(conn, name, NEW)
        conn.commit()
    table = run_bridge(["secrets", "history", name], env_bootstrap)
    shown = run_bridge(["secrets", "history", name, "--json"], env_bootstrap)
    assert table.returncode == 0 and shown.returncode == 0, table.stderr + shown.stderr
    for out in (table.all_output(), shown.all_output()):
        assert OLD not in out and NEW not in out
        assert not any(ch in out for ch in "\x1b\x07\u202e"), repr(out)
    rows = json.loads(shown.stdout)
    assert [(r["version"], r["current"]) for r in rows] == [(2, True), (1, False)]
    assert {"version", "created_at", "by", "status", "current", "purged_at"} <= set(rows[0])


def test_forced_invalid_value_echoed_by_the_provider_is_nowhere_in_the_status_or_versions(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    from tests.support.bridge_proc import run_bridge
    from tests.support.provider_fakes import OpenAIFake
    from tests.test_lifecycle_cli import openai_key, point_at

    name, old, refused = "ATTACK_ECHOED_KEY", openai_key(), openai_key()
    cli_secrets.append(name)
    fake = OpenAIFake(old, echo="full")
    try:
        point_at(env_bootstrap, {"openai": fake.url})
        assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, old.encode()).returncode == 0
        forced = run_bridge(["secrets", "rotate", name, "--force", "--json"], env_bootstrap, refused.encode())
    finally:
        fake.stop()
    assert forced.returncode == 0, forced.stderr
    listed = run_bridge(["secrets", "ls", name, "--json"], env_bootstrap)
    with pg.connect("postgres", autocommit=True) as conn:
        meta = conn.execute("SELECT m.* FROM vault_bridge.secret_meta AS m JOIN vault.secrets AS s ON s.id = m.secret_id "
                            "WHERE s.name = %s", (name,)).fetchall()
        versions = conn.execute("SELECT x.* FROM vault_bridge.secret_versions AS x JOIN vault.secrets AS s ON s.id = x.secret_id "
                                "WHERE s.name = %s", (name,)).fetchall()
    for text in (forced.all_output(), listed.all_output(), repr(meta), repr(versions)):
        assert refused not in text and refused[8:40] not in text and old not in text
    assert [v for v in versions if v[4] == "invalid"], "the forced value's version records invalid"


# --- the dashboard -----------------------------------------------------------------------------------------------


def test_dashboard_versions_table_is_inert_and_its_refresh_stops_for_a_gateway_that_is_down(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    """A host name with HTML and terminal controls in the versions table; a gateway that never comes back: the page
    reloads itself while the change is fresh and stops after ROLLOUT_REFRESH_FOR_S, still naming who is pending."""
    from tests.support.bridge_proc import run_bridge
    from tests.test_ui_attacks import Ui, http_login

    name = "ATTACK_DASHBOARD_VERSIONS"
    cli_secrets.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, OLD.encode()).returncode == 0
    with pg.connect("postgres") as conn:
        conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                     "VALUES (%s, 'resolve', true, '{\"host\": \"gw-down\"}', now() - interval '1 hour')", (name,))
        become(conn, "service_role", headers={"x-bridge-host": HOSTILE_HOST})
        rotate(conn, name, NEW)
        conn.commit()
    dashboard = Ui(env_bootstrap)
    try:
        session = http_login(dashboard)
        fresh = session.page(f"/secrets/default/{name}")
        with pg.connect("supabase_admin", autocommit=True) as conn:
            conn.execute("UPDATE vault.secrets SET updated_at = updated_at - interval '11 minutes' WHERE name = %s", (name,))
            conn.execute("UPDATE public.vault_access_log SET accessed_at = accessed_at - interval '11 minutes' "
                         "WHERE secret_name = %s AND access_type = 'resolve'", (name,))
        stale = session.page(f"/secrets/default/{name}")
        session.http.close()
    finally:
        dashboard.kill()
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE secret_name = %s", (name,))
    assert fresh.status_code == 200 and stale.status_code == 200
    assert 'http-equiv="refresh"' in fresh.text and "gw-down" in fresh.text
    assert 'http-equiv="refresh"' not in stale.text and "pending: host gw-down" in stale.text
    for page in (fresh.text, stale.text):
        assert "<img src=x" not in page and not any(ch in page for ch in "\x1b\x07\u202e")
        assert OLD not in page and NEW not in page


def test_a_rotation_racing_a_delete_leaves_no_value_behind(pg: PgCluster, committed: tuple[str, str]) -> None:
    """delete_secret takes no rotation lock. A delete in flight, a rotation of the same name begun meanwhile: the
    rotation copies the value it replaces into a new unnamed Vault secret, then waits on the deleted row. Once the
    delete commits, that copy (and the new value's version rows) must not outlive the secret."""
    name, _token = committed
    with pg.connect("postgres", autocommit=True) as conn:
        secret_id = conn.execute("SELECT id FROM vault.secrets WHERE name = %s", (name,)).fetchone()[0]  # type: ignore[index]
    deleting = pg.connect("postgres")
    try:
        become(deleting, "service_role")
        call(deleting, "SELECT public.delete_secret(%s)", (name,))
        outcome = second_waits(pg, deleting, "SELECT public.rotate_secret_version(%s, %s, NULL, NULL, NULL)", (name, NEW),
                               "rotate_secret_version")
    finally:
        deleting.close()
    with pg.connect("postgres", autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM vault.decrypted_secrets WHERE decrypted_secret IN (%s, %s)",
                            (OLD, NEW)).fetchone()[0]  # type: ignore[index]
        # Only this secret's rows: other tests delete secrets the way Studio does, which leaves theirs.
        rows = conn.execute("SELECT value_id FROM vault_bridge.secret_versions WHERE secret_id = %s", (secret_id,)).fetchall()
        conn.execute("DELETE FROM vault.secrets WHERE id IN (SELECT value_id FROM vault_bridge.secret_versions WHERE secret_id = %s)",
                     (secret_id,))
        conn.execute("DELETE FROM vault_bridge.secret_versions WHERE secret_id = %s", (secret_id,))
    assert left == 0, f"the deleted secret's value is still in Vault (rotation answered {outcome})"
    assert rows == [], "version rows of a deleted secret"


def test_rollback_never_restores_a_version_past_its_keep_time(owner: psycopg.Connection, stored: str) -> None:
    """Purging is capped at max_purge_per_call() a call, oldest first. With more versions due than that, a version
    past its keep time is still in Vault when rollback looks for one, and rollback restores it: a key the operator
    was told would be gone (and may have revoked) comes back into service."""
    ((limit,),) = as_postgres(owner, "SELECT vault_bridge.max_purge_per_call()")
    as_postgres(owner, """
        WITH made AS (
          SELECT g, vault.create_secret('older-expired-' || g, NULL, 'attack filler') AS id FROM generate_series(1, %s) AS g)
        INSERT INTO vault_bridge.secret_versions (secret_id, version, created_at, value_id, superseded_at, keep_until)
        SELECT gen_random_uuid(), 1, now() - interval '3 days', m.id, now() - interval '3 days', now() - interval '2 days'
        FROM made AS m""", (3 * limit,))
    as_postgres(owner, "UPDATE vault_bridge.secret_versions SET keep_until = now() - interval '1 hour' "
                       "WHERE value_id IS NOT NULL AND secret_id = (SELECT id FROM vault.secrets WHERE name = %s)", (stored,))
    with pytest.raises(psycopg.Error, match="no previous version"):
        call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    ((value,),) = call(owner, "SELECT public.get_secret(%s)", (stored,))
    assert value == NEW


def test_a_token_holder_cannot_add_gateways_to_a_rollout_or_count_for_another_tenant(owner: psycopg.Connection) -> None:
    """A token holder sends its own x-bridge-host headers and resolves the same name in its own tenant: the rollout
    of the default tenant's secret counts neither a fake host nor the other tenant's gateway."""
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    name, tenant = unique("FLEET"), "atk" + uuid.uuid4().hex[:6]
    call(owner, "SELECT public.set_secret(%s, %s)", (name, OLD))
    call(owner, "SELECT public.set_secret(%s, %s)", (f"{tenant}#{name}", "other-tenant-value-3c2b"))
    other = mint(owner, tenant, "gw-other", ["*"])
    own = mint(owner, "default", "gw-own", [name])
    rotate(owner, name, NEW)
    for token in (own, other):
        become(owner, "anon", headers={"x-bridge-host": "fake-gateway-1", "x-bridge-provider": "fake"})
        call(owner, "SELECT public.resolve_secrets_with_token(%s, %s)", (token, [name]))
    become(owner, "service_role")
    ((report,),) = call(owner, "SELECT public.secret_rollout(%s)", (name,))
    assert [g["gateway"] for g in report["updated"] + report["pending"]] == ["default/gw-own"]


def test_a_policy_change_after_a_rotation_keeps_the_versions(owner: psycopg.Connection, stored: str) -> None:
    """A description, type or schedule change is no new value: history keeps version 2 current, 1 kept."""
    call(owner, "SELECT public.set_secret(%s, NULL, %s, %s)", (stored, "now described", json.dumps({"rotate_every_s": 86400})))
    call(owner, "SELECT public.record_secret_check(%s, 'ok', 'fine', now())", (stored,))
    assert [(v["version"], v["current"], v["kept"]) for v in history(owner, stored)] == [(2, True, False), (1, False, True)]
    ((done,),) = call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    assert done["restored_from"] == 1


def test_cli_rollback_to_a_kept_copy_deleted_in_studio_is_one_line_and_empty_values_are_refused(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    from tests.support.bridge_proc import run_bridge

    name, old, new = "ATTACK_STUDIO_DELETED", "studio-old-value-4e3d2c", "studio-new-value-9a8b7c"
    cli_secrets.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, old.encode()).returncode == 0
    for empty in (b"", b"\n"):
        no = run_bridge(["secrets", "rotate", name], env_bootstrap, empty)
        assert no.returncode in (1, 2) and no.stderr.count("\n") == 1, no.stderr
    assert run_bridge(["secrets", "rotate", name], env_bootstrap, new.encode()).returncode == 0
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM vault.secrets WHERE id IN (SELECT x.value_id FROM vault_bridge.secret_versions AS x "
                     "JOIN vault.secrets AS s ON s.id = x.secret_id WHERE s.name = %s)", (name,))
    back = run_bridge(["secrets", "rollback", name, "--yes"], env_bootstrap)
    assert back.returncode == 1 and back.stderr.count("\n") == 1 and "no longer in Vault" in back.stderr, back.stderr
    assert old not in back.all_output() and new not in back.all_output()
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == new + "\n"


def test_a_gateway_whose_token_was_revoked_before_the_rotation_does_not_hold_the_wait_for_30_days(
    owner: psycopg.Connection,
) -> None:
    """The leak playbook revokes the leaked gateway's token, then rotates. That token resolved the secret the day
    before, so it is pending; it can never resolve again, so `rotate --wait` cannot exit 0 for 30 days and the
    operator is told a revoked token "still holds the old value"."""
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    name, gateway = unique("REVOKED_GW"), unique("gw")
    call(owner, "SELECT public.set_secret(%s, %s)", (name, OLD))
    mint(owner, "default", gateway, [name])
    as_postgres(owner, "INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, accessed_at) "
                       "VALUES (%s, 'resolve', true, 'default', %s, now() - interval '1 day')", (name, gateway))
    call(owner, "SELECT public.revoke_gateway_token('default', %s)", (gateway,))
    rotate(owner, name, NEW)
    ((report,),) = call(owner, "SELECT public.secret_rollout(%s)", (name,))
    assert report["pending"] == [], f"a revoked token is pending for ever: {report['pending']}"


def test_wait_does_not_tell_to_revoke_the_old_key_after_a_rollback_made_it_current_again(
    pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str],
) -> None:
    """`rotate --wait` polls; meanwhile another admin rolls back (the old key is live again). The wait starts over
    on the rollback's change, and when the gateway has resolved it, says "next: revoke the old key ... no gateway
    that used it still holds it" and exits 0: every gateway holds the old key, which the operator now revokes."""
    import subprocess

    from tests.support.bridge_proc import BRIDGE

    name, old, new = "ATTACK_WAIT_ROLLED_BACK", "waitrb-old-value-6f5e4d", "waitrb-new-value-3c2b1a"
    cli_secrets.append(name)
    from tests.support.bridge_proc import run_bridge

    assert run_bridge(["secrets", "set", name], env_bootstrap, old.encode()).returncode == 0
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                     "VALUES (%s, 'resolve', true, '{\"host\": \"gw-one\"}', now() - interval '1 hour')", (name,))
    proc = subprocess.Popen([str(BRIDGE), "secrets", "rotate", name, "--wait", "40s"], env=env_bootstrap,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(new.encode())
    proc.stdin.close()
    try:
        seen = b""
        while b"the new value" not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen += line
        with pg.connect("postgres") as conn:
            become(conn, "service_role", headers={"x-bridge-host": "other-admin"})
            call(conn, "SELECT public.rollback_secret_version(%s, NULL)", (name,))
            conn.commit()
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client) "
                         "VALUES (%s, 'resolve', true, '{\"host\": \"gw-one\"}')", (name,))
        out = proc.stdout.read()  # until it exits: --wait bounds it
        proc.wait(50)
        err = proc.stderr.read() if proc.stderr else b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE secret_name = %s", (name,))
    text = (seen + out).decode() + err.decode()
    assert old not in text and new not in text
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == old + "\n"
    assert not (proc.returncode == 0 and "next: revoke the old key" in text), \
        f"--wait exited {proc.returncode} telling to revoke the key that is current again:\n{text}"


def test_a_value_set_during_a_rotation_is_kept_or_current_never_lost(pg: PgCluster, committed: tuple[str, str]) -> None:
    """set_secret takes no rotation lock. A set in flight (value X), a rotation begun meanwhile copies the value it
    reads (OLD, the committed one) as the previous version, waits, then overwrites X: X is neither current nor kept,
    and history says OLD was the value the rotation replaced."""
    name, _token = committed
    between = "sk-proj-ATTACKBETWEEN-1a2b3c4d5e6f-never-shown"
    setting = pg.connect("postgres")
    try:
        become(setting, "service_role", headers={"x-bridge-host": "other-admin"})
        call(setting, "SELECT public.set_secret(%s, %s)", (name, between))
        outcome = second_waits(pg, setting, "SELECT public.rotate_secret_version(%s, %s, NULL, NULL, NULL)", (name, NEW),
                               "rotate_secret_version")
    finally:
        setting.close()
    with pg.connect("postgres", autocommit=True) as conn:
        (held,) = conn.execute("SELECT count(*) FROM vault.decrypted_secrets WHERE decrypted_secret = %s", (between,)).fetchone() or (0,)
    assert held == 1 or "error" in outcome, f"the value set during the rotation is gone from Vault (rotation: {outcome})"


def test_kill_9_while_wait_polls_leaves_the_rotation_whole(pg: PgCluster, env_bootstrap: dict[str, str], cli_secrets: list[str]) -> None:
    import signal
    import subprocess

    from tests.support.bridge_proc import BRIDGE, run_bridge

    name, old, new = "ATTACK_KILLED_WAIT", "killwait-old-value-2b3c4d", "killwait-new-value-5e6f7a"
    cli_secrets.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, old.encode()).returncode == 0
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                     "VALUES (%s, 'resolve', true, '{\"host\": \"gw-away\"}', now() - interval '1 hour')", (name,))
    proc = subprocess.Popen([str(BRIDGE), "secrets", "rotate", name, "--wait", "40s"], env=env_bootstrap,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(new.encode())
    proc.stdin.close()
    try:
        while b"the new value" not in proc.stdout.readline():
            assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE secret_name = %s", (name,))
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == new + "\n"
    rows = json.loads(run_bridge(["secrets", "history", name, "--json"], env_bootstrap).stdout)
    assert [(r["version"], r["current"], r["kept"]) for r in rows] == [(2, True, False), (1, False, True)]
    again = run_bridge(["secrets", "rotate", name], env_bootstrap, b"killwait-third-value-8c9d0e")
    assert again.returncode == 0, again.stderr
