"""setup.sql's admin functions (set_secret, list_secrets_status, read_access_log), called as PostgREST calls them.

Calls run as `service_role` with request.jwt.claims and request.headers set
(tests/support/api_role.py), inside transactions that are rolled back. Tests
that need audit rows no function writes (old, failed, future-dated) insert
them as `postgres`, the table's owner, on a connection that then switches to
service_role for the calls; rows dated in the year 2200 keep committed rows of
other tests out of the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from tests.conftest import Vault
from tests.support.api_role import become, call
from tests.support.pg import PgCluster, one
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_setup_sql import PLAINTEXT, audit_rows, audit_watermark

STATUS_COLUMNS = [
    "name", "description", "type", "status", "checked_at", "check_message", "last_used_at", "uses", "failures", "gateways",
    "rotated_at", "rotate_every", "expires_at", "due", "due_at", "created_at", "updated_at",
]
LOG_COLUMNS = [
    "id", "accessed_at", "secret_name", "access_type", "success", "error_message",
    "session_user", "role", "host", "provider", "user_agent", "tenant", "token_name", "name_count",
]
FUTURE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
INSERT_LOG_ROW = (
    "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, error_message, accessed_by, client) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def headers_for(host: str | None) -> dict[str, str]:
    headers = {"user-agent": "openclaw-supabase-bridge/0.1.0", "x-bridge-provider": "admin"}
    if host is not None:
        headers["x-bridge-host"] = host
    return headers


def rows_as_dicts(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of one call, inside a savepoint."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
        return [column.name for column in cur.description or ()], rows


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# --- set_secret -----------------------------------------------------------------


def test_set_secret_creates_then_rotates_keeping_the_id(db: psycopg.Connection) -> None:
    become(db, "service_role", sub="svc-admin", headers=headers_for("gw-admin"))
    name = unique("SET")
    mark = audit_watermark(db)
    ((first,),) = call(db, "SELECT public.set_secret(%s, %s, %s)", (name, PLAINTEXT, "first description"))
    assert set(first) == {"id", "created", "type", "rotate_every", "expires_at", "rotated_at"} and first["created"] is True
    secret_id = uuid.UUID(first["id"])
    ((second,),) = call(db, "SELECT public.set_secret(p_name => %s, p_secret => %s)", (name, PLAINTEXT + "-2"))
    assert (second["id"], second["created"]) == (str(secret_id), False)
    rows = audit_rows(db, mark)
    assert [(r["access_type"], r["secret_name"], r["secret_id"], r["success"]) for r in rows] == [
        ("store", name, secret_id, True),
        ("rotate", name, secret_id, True),
    ]
    assert all(r["client"]["host"] == "gw-admin" for r in rows)
    assert call(db, "SELECT public.get_secret(%s)", (name,)) == [(PLAINTEXT + "-2",)]
    # A NULL description keeps the one stored; a given one replaces it, even an empty one.
    assert call(db, "SELECT id, description FROM public.list_secrets(%s)", (name,)) == [(secret_id, "first description")]
    call(db, "SELECT public.set_secret(%s, %s, %s)", (name, PLAINTEXT + "-3", "second description"))
    assert call(db, "SELECT id, description FROM public.list_secrets(%s)", (name,)) == [(secret_id, "second description")]
    call(db, "SELECT public.set_secret(%s, %s, %s)", (name, PLAINTEXT + "-4", ""))
    assert call(db, "SELECT id, description FROM public.list_secrets(%s)", (name,)) == [(secret_id, "")]
    assert call(db, "SELECT public.get_secret(%s)", (name,)) == [(PLAINTEXT + "-4",)]
    for row in audit_rows(db, mark):
        assert PLAINTEXT not in json.dumps(row, default=str)


def test_set_secret_without_a_description_creates_with_an_empty_one(db: psycopg.Connection) -> None:
    become(db, "service_role")
    name = unique("SET")
    ((result,),) = call(db, "SELECT public.set_secret(%s, %s)", (name, PLAINTEXT))
    assert result["created"] is True
    assert call(db, "SELECT description FROM public.list_secrets(%s)", (name,)) == [("",)]


@pytest.mark.parametrize(
    ("name", "secret", "sqlstate", "message"),
    [
        (None, PLAINTEXT, "22023", "secret name is NULL"),
        ("", PLAINTEXT, "22023", "secret name is empty"),
        ("x" * 257, PLAINTEXT, "22023", "longer than 256"),
        ("VALID", None, "22004", "secret value is NULL"),
    ],
)
def test_set_secret_refuses_what_store_secret_refuses(
    db: psycopg.Connection, name: str | None, secret: str | None, sqlstate: str, message: str
) -> None:
    become(db, "service_role")
    for function in ("set_secret", "store_secret"):
        with pytest.raises(psycopg.Error) as raised:
            call(db, f"SELECT public.{function}(%s, %s)", (name, secret))
        assert raised.value.sqlstate == sqlstate, function
        assert message in str(raised.value), function
        assert PLAINTEXT not in str(raised.value)


def test_set_secret_never_writes_a_value_to_the_postgres_log(pg: PgCluster) -> None:
    plaintext = f"sk-live-{uuid.uuid4().hex}"
    marker = unique("LOGGED")
    with pg.connect("authenticator") as conn:
        become(conn, "service_role", headers=headers_for("gw-log"))
        call(conn, "SELECT public.set_secret(%s, %s, 'described')", (marker, plaintext))
        call(conn, "SELECT public.set_secret(%s, %s)", (marker, plaintext + "-rotated"))
        with pytest.raises(errors.InvalidParameterValue):
            call(conn, "SELECT public.set_secret(%s, %s)", (marker + "x" * 256, plaintext))
        with pytest.raises(errors.NullValueNotAllowed):
            call(conn, "SELECT public.set_secret(%s, %s)", (marker + "_NULL", None))
        conn.rollback()
    log = pg.server_log()
    failures = [line for line in log.splitlines() if "vault_bridge audit: access_type=store" in line and marker in line]
    assert len(failures) == 2
    assert "longer than 256" in failures[0] and "gw-log" in failures[0]
    assert "secret value is NULL" in failures[1]
    assert plaintext not in log


def wait_for_lock_wait(pg: PgCluster, pid: int) -> None:
    """Return once backend `pid` is blocked on a lock held by another transaction."""
    deadline = time.monotonic() + 10
    with pg.connect("supabase_admin", autocommit=True) as admin:
        while time.monotonic() < deadline:
            (event,) = one(admin.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)))
            if event == "Lock":
                return
            time.sleep(0.02)
    pytest.fail(f"backend {pid} never waited on a lock")


def in_thread(function: Callable[[], Any]) -> Any:
    return ThreadPoolExecutor(max_workers=1).submit(function)


def set_secret_on(conn: psycopg.Connection, name: str, value: str) -> dict[str, Any]:
    answer: dict[str, Any] = one(conn.execute("SELECT public.set_secret(%s, %s)", (name, value)))[0]
    return answer


def committed_audit(pg: PgCluster, name: str) -> list[tuple[str, uuid.UUID]]:
    with pg.connect("postgres") as conn:
        return conn.execute(
            "SELECT access_type, secret_id FROM public.vault_access_log WHERE secret_name = %s ORDER BY id", (name,)
        ).fetchall()


def test_concurrent_set_secret_of_one_new_name_is_one_create_and_one_rotation(pg: PgCluster, vault: Vault) -> None:
    name = unique("RACE")
    vault.names.append(name)
    with pg.connect("authenticator") as first, pg.connect("authenticator") as second:
        become(first, "service_role")
        become(second, "service_role")
        created = set_secret_on(first, name, "from-first")
        assert created["created"] is True
        # The second create blocks on the unique name until the first commits,
        # then meets the unique violation and rotates the first one's secret.
        pending = in_thread(lambda: set_secret_on(second, name, "from-second"))
        wait_for_lock_wait(pg, second.info.backend_pid)
        first.commit()
        answer = pending.result(timeout=10)
        assert (answer["id"], answer["created"]) == (created["id"], False)
        second.commit()
    with pg.connect("postgres") as conn:
        assert conn.execute(
            "SELECT id, decrypted_secret FROM vault.decrypted_secrets WHERE name = %s", (name,)
        ).fetchall() == [(uuid.UUID(created["id"]), "from-second")]
    assert committed_audit(pg, name) == [("store", uuid.UUID(created["id"])), ("rotate", uuid.UUID(created["id"]))]


def test_a_lost_create_race_under_repeatable_read_asks_to_retry(pg: PgCluster, vault: Vault) -> None:
    name = unique("RACE_RR")
    vault.names.append(name)
    with pg.connect("authenticator") as first, pg.connect("authenticator") as second:
        second.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        become(first, "service_role")
        become(second, "service_role")
        set_secret_on(first, name, "from-first")
        pending = in_thread(lambda: set_secret_on(second, name, "from-second"))
        wait_for_lock_wait(pg, second.info.backend_pid)
        first.commit()
        with pytest.raises(errors.SerializationFailure) as raised:
            pending.result(timeout=10)
        assert raised.value.diag.message_hint == "try again"
        second.rollback()


def test_set_secret_over_a_concurrent_delete_creates_the_secret_again(pg: PgCluster, vault: Vault) -> None:
    name = unique("RACE_DEL")
    vault.put(name, "old")
    with pg.connect("postgres") as deleter, pg.connect("authenticator") as setter:
        (old_id,) = one(deleter.execute("DELETE FROM vault.secrets WHERE name = %s RETURNING id", (name,)))
        become(setter, "service_role")
        # The rotation finds the row, then waits for the delete; once that
        # commits the update finds nothing and set_secret creates instead.
        pending = in_thread(lambda: set_secret_on(setter, name, "new"))
        wait_for_lock_wait(pg, setter.info.backend_pid)
        deleter.commit()
        result = pending.result(timeout=10)
        setter.commit()
    assert result["created"] is True and uuid.UUID(result["id"]) != old_id
    with pg.connect("postgres") as conn:
        assert conn.execute(
            "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = %s", (name,)
        ).fetchall() == [("new",)]
    assert committed_audit(pg, name) == [("store", uuid.UUID(result["id"]))]


# --- list_secrets_status ------------------------------------------------------------


def test_list_secrets_status_counts_uses_failures_and_gateways_in_30_days(owner: psycopg.Connection) -> None:
    prefix = unique("USAGE") + "/"
    used, old, idle = prefix + "A", prefix + "B", prefix + "C"
    (now,) = one(owner.execute("SELECT now()"))
    forty_days_ago = now - dt.timedelta(days=40)
    owner.execute("SELECT vault.create_secret('v-old', %s, 'old one'), vault.create_secret('v-idle', %s)", (old, idle))
    owner.execute(INSERT_LOG_ROW, (old, forty_days_ago, "resolve", True, None, None, json.dumps({"host": "gw-old"})))
    # Not uses: a failure (counted as one), and list and audit rows that name the secret.
    for access_type, success in (("resolve", False), ("list", True), ("audit", True)):
        owner.execute(INSERT_LOG_ROW, (used, now, access_type, success, None, None, json.dumps({"host": "gw-not-a-use"})))

    become(owner, "service_role", headers=headers_for("gw-b"))
    call(owner, "SELECT public.set_secret(%s, %s, 'used one')", (used, PLAINTEXT))
    for host in ("gw-c", "gw-b", None):
        become(owner, "service_role", headers=headers_for(host))
        call(owner, "SELECT public.resolve_secrets(%s)", ([used, prefix + "GONE"],))
    call(owner, "SELECT * FROM public.list_secrets(%s)", (used,))
    columns, rows = rows_as_dicts(owner, "SELECT * FROM public.list_secrets_status(%s)", (prefix,))

    assert columns == STATUS_COLUMNS
    assert [r["name"] for r in rows] == [used, old, idle]
    by_name = {r["name"]: r for r in rows}
    assert by_name[used]["description"] == "used one"
    usage = {name: (r["last_used_at"], r["uses"], r["failures"], r["gateways"]) for name, r in by_name.items()}
    # Three resolves, from two named hosts and one without: storing is no use, and a host-less caller no gateway.
    assert usage == {used: (now, 3, 1, 2), old: (forty_days_ago, 0, 0, 0), idle: (None, 0, 0, 0)}
    # Stored outside the bridge: generic, changed when Vault last changed it, never due.
    assert {(r["type"], r["rotate_every"], r["due"]) for r in rows} == {("generic", None, "ok")}
    assert by_name[old]["rotated_at"] == by_name[old]["updated_at"]
    assert all(r["created_at"] and r["updated_at"] for r in rows)
    for value in (PLAINTEXT, "v-old", "v-idle"):
        assert value not in json.dumps(rows, default=str)


def test_list_secrets_status_matches_the_prefix_literally(db: psycopg.Connection) -> None:
    become(db, "service_role")
    base = unique("LITERAL")
    names = [base + "%B", base + "XA", base + "\\C", base + "_A"]
    for name in names:
        call(db, "SELECT public.set_secret(%s, %s)", (name, PLAINTEXT))

    def listed(prefix: str | None) -> list[str]:
        return [name for (name,) in call(db, "SELECT name FROM public.list_secrets_status(%s)", (prefix,))]

    assert listed(base) == sorted(names)
    assert listed(base + "_") == [base + "_A"]
    assert listed(base + "%") == [base + "%B"]
    assert listed(base + "\\") == [base + "\\C"]
    assert listed(base + "_%") == []
    assert set(names) <= set(listed(None))


def test_list_secrets_status_is_audited_as_list(db: psycopg.Connection) -> None:
    become(db, "service_role", headers=headers_for("gw-list"))
    mark = audit_watermark(db)
    call(db, "SELECT * FROM public.list_secrets_status(%s)", ("SOME_PREFIX",))
    call(db, "SELECT * FROM public.list_secrets_status()")
    assert [(r["access_type"], r["secret_name"], r["success"]) for r in audit_rows(db, mark)] == [
        ("list", "SOME_PREFIX", True), ("list", None, True),
    ]


def test_list_secrets_status_never_decrypts(db: psycopg.Connection) -> None:
    become(db, "service_role")
    name = unique("NODECRYPT")
    call(db, "SELECT public.set_secret(%s, %s)", (name, PLAINTEXT))
    # Without the root key nothing can be decrypted: resolving fails, listing does not.
    db.execute("SELECT set_config('vault_standin.root_key', '', true)")
    with pytest.raises(psycopg.Error, match="root_key"):
        call(db, "SELECT public.resolve_secrets(%s)", ([name],))
    assert call(db, "SELECT name FROM public.list_secrets_status(%s)", (name,)) == [(name,)]
    sources = call(
        db,
        "SELECT p.prosrc FROM pg_proc AS p WHERE p.oid IN "
        "('public.list_secrets_status(text, interval, boolean)'::regprocedure, 'public.read_access_log(timestamptz, text, boolean, integer, bigint)'::regprocedure)",
    )
    assert len(sources) == 2 and not any("decrypted_secrets" in source for (source,) in sources)


# --- read_access_log ---------------------------------------------------------------


def future_rows(owner: psycopg.Connection, names: tuple[str, str]) -> None:
    """Five audit rows dated in 2200, with a tie on time, two failures, and caller and client set."""
    first, second = names
    client = json.dumps({"host": "gw-9", "provider": "supabase", "user_agent": "openclaw-supabase-bridge/0.1.0"})
    caller = json.dumps({"role": "service_role", "sub": "svc-9"})
    for minutes, name, access_type, success, error in (
        (0, first, "resolve", True, None),
        (1, second, "resolve", False, "not found"),
        (2, first, "retrieve", True, None),
        (2, first, "rotate", True, None),
        (3, second, "delete", False, "secret x not found"),
    ):
        owner.execute(INSERT_LOG_ROW, (name, FUTURE + dt.timedelta(minutes=minutes), access_type, success, error, caller, client))


def test_read_access_log_is_newest_first_with_each_filter(owner: psycopg.Connection) -> None:
    names = (unique("LOG1"), unique("LOG2"))
    future_rows(owner, names)
    become(owner, "service_role")
    first, second = names

    def read(**arguments: Any) -> list[tuple[Any, ...]]:
        named = ", ".join(f"{key} => %s" for key in arguments)
        _, rows = rows_as_dicts(owner, f"SELECT * FROM public.read_access_log({named})", tuple(arguments.values()))
        return [(r["secret_name"], r["access_type"]) for r in rows]

    everything = [(second, "delete"), (first, "rotate"), (first, "retrieve"), (second, "resolve"), (first, "resolve")]
    assert read(p_since=FUTURE) == everything
    assert read(p_since=FUTURE + dt.timedelta(minutes=2)) == everything[:3]
    assert read(p_name=first) == [(first, "rotate"), (first, "retrieve"), (first, "resolve")]
    assert read(p_since=FUTURE, p_failures_only=True) == [(second, "delete"), (second, "resolve")]
    assert read(p_name=second, p_failures_only=True) == [(second, "delete"), (second, "resolve")]
    assert read(p_name=first, p_failures_only=True) == []
    assert read(p_since=FUTURE, p_limit=2) == everything[:2]
    assert read(p_since=FUTURE, p_failures_only=False, p_limit=1) == everything[:1]
    # Ties on time: the later row (higher id) first.
    _, rows = rows_as_dicts(owner, "SELECT * FROM public.read_access_log(p_name => %s)", (first,))
    assert rows[0]["accessed_at"] == rows[1]["accessed_at"] and rows[0]["id"] > rows[1]["id"]


def test_read_access_log_columns_come_from_caller_and_client_never_a_value(owner: psycopg.Connection) -> None:
    names = (unique("LOG1"), unique("LOG2"))
    stored = unique("LOG3")
    become(owner, "service_role", headers=headers_for("gw-8"))
    call(owner, "SELECT public.set_secret(%s, %s)", (stored, PLAINTEXT))
    call(owner, "SELECT public.resolve_secrets(%s)", ([stored],))
    owner.execute("RESET ROLE")
    future_rows(owner, names)
    become(owner, "service_role")
    columns, rows = rows_as_dicts(owner, "SELECT * FROM public.read_access_log(p_since => %s, p_limit => 1)", (FUTURE,))
    assert columns == LOG_COLUMNS
    assert rows == [{
        "id": rows[0]["id"], "accessed_at": FUTURE + dt.timedelta(minutes=3), "secret_name": names[1],
        "access_type": "delete", "success": False, "error_message": "secret x not found", "session_user": "postgres",
        "role": "service_role", "host": "gw-9", "provider": "supabase", "user_agent": "openclaw-supabase-bridge/0.1.0",
        "tenant": None, "token_name": None, "name_count": 1,
    }]
    _, written = rows_as_dicts(owner, "SELECT * FROM public.read_access_log(p_name => %s)", (stored,))
    assert [(r["access_type"], r["host"], r["provider"]) for r in written] == [
        ("resolve", "gw-8", "admin"), ("store", "gw-8", "admin"),
    ]
    assert PLAINTEXT not in json.dumps(written, default=str)


def test_read_access_log_limit_is_lowered_to_10000_and_must_be_positive(owner: psycopg.Connection) -> None:
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success) "
        "SELECT 'LIMIT', %s + i * interval '1 second', 'resolve', true FROM generate_series(1, 10005) AS i",
        (FUTURE,),
    )
    become(owner, "service_role")

    def count(limit: object = "default") -> int:
        if limit == "default":
            rows: int = call(owner, "SELECT count(*) FROM public.read_access_log(p_since => %s)", (FUTURE,))[0][0]
            return rows
        rows = call(owner, "SELECT count(*) FROM public.read_access_log(p_since => %s, p_limit => %s)", (FUTURE, limit))[0][0]
        return rows

    assert count() == 1000
    assert count(1) == 1
    assert count(10000) == 10000
    assert count(20000) == 10000
    assert count(2**31 - 1) == 10000
    for bad in (0, -1, None):
        with pytest.raises(errors.InvalidParameterValue) as raised:
            count(bad)
        assert "is not a positive number of rows" in str(raised.value)
        assert raised.value.diag.message_hint == "pass a limit of 1 to 10000 rows"


def test_read_access_log_writes_one_audit_row_which_the_next_read_returns(db: psycopg.Connection) -> None:
    become(db, "service_role", sub="svc-audit", headers=headers_for("gw-audit"))
    mark = audit_watermark(db)
    (now,) = one(db.execute("SELECT now()"))
    assert call(db, "SELECT id FROM public.read_access_log(p_since => %s)", (now,)) == []
    rows = audit_rows(db, mark)
    assert [(r["access_type"], r["secret_name"], r["secret_id"], r["success"], r["error_message"]) for r in rows] == [
        ("audit", None, None, True, None),
    ]
    assert rows[0]["accessed_by"] == {"role": "service_role", "sub": "svc-audit"}
    assert rows[0]["client"]["host"] == "gw-audit"
    _, again = rows_as_dicts(db, "SELECT * FROM public.read_access_log(p_since => %s)", (now,))
    assert [(r["id"], r["access_type"], r["host"]) for r in again] == [(rows[0]["id"], "audit", "gw-audit")]
    assert [r["access_type"] for r in audit_rows(db, mark)] == ["audit", "audit"]


# --- indexes ----------------------------------------------------------------------


def log_scans(conn: psycopg.Connection) -> dict[str, int]:
    """Scans of the audit log and each of its indexes so far in this transaction."""
    scans = dict(conn.execute(
        "SELECT c.relname, pg_stat_get_xact_numscans(i.indexrelid) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'public.vault_access_log'::regclass"
    ).fetchall())
    (scans["seq_scan"],) = one(conn.execute(
        "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'public.vault_access_log'::regclass"
    ))
    return scans


def test_admin_log_lookups_use_an_index_never_a_scan(owner: psycopg.Connection) -> None:
    prefix = unique("INDEXED") + "/"
    # 20,000 rows over 60 days for 200 names, one in a hundred a failure.
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, client) "
        "SELECT %s || (i %% 200), now() - (i %% 60) * interval '1 day' - i * interval '1 second', 'resolve', i %% 100 <> 0, "
        "jsonb_build_object('host', 'gw-' || (i %% 3)) FROM generate_series(1, 20000) AS i",
        (prefix,),
    )
    # And a busy last hour, most of the log: 50,000 rows sharing one timestamp (a statement's rows share its
    # transaction's), which leaves an index on time alone no order between them.
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, client) "
        "SELECT %s || 'busy', now() - interval '5 minutes', 'resolve', true, '{}' FROM generate_series(1, 50000) AS i",
        (prefix,),
    )
    owner.execute("SELECT vault.create_secret('v', %s || i) FROM generate_series(0, 2) AS i", (prefix,))
    owner.execute("ANALYZE public.vault_access_log")

    def scans_of(query: str, params: tuple[Any, ...]) -> dict[str, int]:
        before = log_scans(owner)
        become(owner, "service_role")
        call(owner, query, params)
        owner.execute("RESET ROLE")
        after = log_scans(owner)
        return {key: after[key] - before.get(key, 0) for key in after}

    usage = scans_of("SELECT * FROM public.list_secrets_status(%s)", (prefix,))
    assert usage["seq_scan"] == 0 and usage["vault_access_log_secret_name_idx"] >= 3, usage
    by_name = scans_of("SELECT * FROM public.read_access_log(p_name => %s)", (prefix + "7",))
    assert by_name["seq_scan"] == 0 and by_name["vault_access_log_secret_name_idx"] >= 1, by_name
    failures = scans_of("SELECT * FROM public.read_access_log(p_failures_only => true)", ())
    assert failures["seq_scan"] == 0 and failures["vault_access_log_failures_idx"] >= 1, failures
    recent = scans_of("SELECT * FROM public.read_access_log(p_since => now() - interval '1 hour')", ())
    assert recent["seq_scan"] == 0 and recent["vault_access_log_accessed_at_idx"] >= 1, recent


# --- privileges -----------------------------------------------------------------

ADMIN_CALLS = (
    ("SELECT public.set_secret(%s, %s, %s)", ("PRIV_CHECK", PLAINTEXT, "d")),
    ("SELECT * FROM public.list_secrets_status(%s)", ("PRIV",)),
    ("SELECT * FROM public.read_access_log(%s, %s, %s, %s)", (None, "PRIV_CHECK", False, 10)),
)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_anon_and_authenticated_cannot_execute_the_admin_functions(db: psycopg.Connection, role: str) -> None:
    become(db, role)
    for statement, params in ADMIN_CALLS:
        with pytest.raises(errors.InsufficientPrivilege):
            call(db, statement, params)
            pytest.fail(f"{role} could run {statement}")


def test_service_role_executes_the_admin_functions(db: psycopg.Connection) -> None:
    become(db, "service_role")
    for statement, params in ADMIN_CALLS:
        call(db, statement, params)
    assert call(db, "SELECT name FROM public.list_secrets_status('PRIV_CHECK')") == [("PRIV_CHECK",)]


# --- through the PostgREST-compatible endpoint -----------------------------------------


def test_admin_functions_answer_through_postgrest_as_objects_and_arrays(
    endpoint: Endpoint, keys: ProjectKeys, vault: Vault
) -> None:
    name = unique("HTTP")
    vault.names.append(name)
    service = {"apikey": keys.secret, "x-bridge-host": "gw-http", "x-bridge-provider": "admin"}

    def rpc(function: str, arguments: dict[str, Any], headers: dict[str, str] = service) -> httpx.Response:
        return httpx.post(f"{endpoint.url}/rest/v1/rpc/{function}", json=arguments, headers=headers, timeout=10)

    created = rpc("set_secret", {"p_name": name, "p_secret": PLAINTEXT, "p_description": "over http"})
    assert created.status_code == 200 and created.json()["created"] is True
    rotated = rpc("set_secret", {"p_name": name, "p_secret": PLAINTEXT + "-2"})
    assert rotated.status_code == 200
    assert {k: rotated.json()[k] for k in ("id", "created", "type", "rotate_every")} == {
        "id": created.json()["id"], "created": False, "type": "generic", "rotate_every": None,
    }

    usage = rpc("list_secrets_status", {"p_prefix": name})
    assert usage.status_code == 200
    (listed,) = usage.json()
    assert list(listed) == STATUS_COLUMNS
    assert (listed["name"], listed["description"], listed["uses"], listed["gateways"]) == (name, "over http", 0, 0)
    assert rpc("list_secrets_status", {}).status_code == 200

    log = rpc("read_access_log", {"p_name": name, "p_limit": 5})
    assert log.status_code == 200
    assert [list(row) for row in log.json()] == [LOG_COLUMNS] * 3
    # A listing records its prefix as the name.
    assert [(row["access_type"], row["host"], row["role"]) for row in log.json()] == [
        ("list", "gw-http", "service_role"), ("rotate", "gw-http", "service_role"), ("store", "gw-http", "service_role"),
    ]
    assert PLAINTEXT not in usage.text + log.text

    refused = rpc("read_access_log", {"p_limit": 0})
    assert refused.status_code == 400 and refused.json()["code"] == "22023"
    for function, arguments in (("set_secret", {"p_name": name, "p_secret": "x"}), ("list_secrets_status", {}),
                                ("read_access_log", {})):
        anon = rpc(function, arguments, {"apikey": keys.publishable})
        assert anon.status_code == 401 and anon.json()["code"] == "42501", function
