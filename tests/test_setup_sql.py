"""setup.sql against a Supabase-shaped PostgreSQL, every call made as the role PostgREST would use."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.support.api_role import API_ROLES, become, call
from tests.support.pg import SETUP_SQL, PgCluster, one

PLAINTEXT = "sk-proj-PLAINTEXT-7f3a9c1e-never-logged"


def audit_watermark(conn: psycopg.Connection) -> int:
    """The last audit row id so far: committed rows from other tests stay out of the assertions."""
    mark: int = one(conn.execute("SELECT coalesce(max(id), 0) FROM public.vault_access_log"))[0]
    return mark


def audit_rows(conn: psycopg.Connection, after: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM public.vault_access_log WHERE id > %s ORDER BY id", (after,)).fetchall()


# --- seed 000's seven cases -------------------------------------------------


def test_1_store_returns_uuid_and_authenticated_cannot_read_vault(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_credential(%s, %s)", ("openai", PLAINTEXT))[0]
    assert isinstance(secret_id, uuid.UUID)
    become(db, "authenticated")
    with pytest.raises(errors.InsufficientPrivilege):
        call(db, "SELECT secret FROM vault.secrets")
    with pytest.raises(errors.InsufficientPrivilege):
        call(db, "SELECT decrypted_secret FROM vault.decrypted_secrets")


def test_2_retrieve_returns_plaintext_for_service_role(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_credential(%s, %s)", ("openai", PLAINTEXT))[0]
    assert call(db, "SELECT public.retrieve_credential(%s)", (secret_id,)) == [(PLAINTEXT,)]


def test_3_retrieve_as_authenticated_is_permission_denied(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_credential(%s, %s)", ("openai", PLAINTEXT))[0]
    become(db, "authenticated")
    with pytest.raises(errors.InsufficientPrivilege):
        call(db, "SELECT public.retrieve_credential(%s)", (secret_id,))


def test_4_rotate_changes_value_and_keeps_uuid(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_credential(%s, %s)", ("openai", PLAINTEXT))[0]
    call(db, "SELECT public.rotate_credential(%s, %s)", (secret_id, "rotated-value"))
    assert call(db, "SELECT public.retrieve_credential(%s)", (secret_id,)) == [("rotated-value",)]
    assert call(db, "SELECT id FROM public.list_secrets('openai')") == [(secret_id,)]


def test_5_delete_then_retrieve_is_not_found(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_credential(%s, %s)", ("openai", PLAINTEXT))[0]
    call(db, "SELECT public.delete_credential(%s)", (secret_id,))
    with pytest.raises(psycopg.Error) as raised:
        call(db, "SELECT public.retrieve_credential(%s)", (secret_id,))
    assert raised.value.sqlstate == "PT404"
    assert "not found" in str(raised.value)


def test_6_delete_of_unknown_uuid_returns_cleanly(db: psycopg.Connection) -> None:
    become(db, "service_role")
    assert call(db, "SELECT public.delete_credential(%s)", (uuid.uuid4(),)) == [(None,)]


def test_7_store_with_null_secret_raises(db: psycopg.Connection) -> None:
    become(db, "service_role")
    with pytest.raises(errors.NullValueNotAllowed) as raised:
        call(db, "SELECT public.store_credential(%s, %s)", ("openai", None))
    assert "secret value is NULL" in str(raised.value)


# --- privileges ---------------------------------------------------------------


def public_functions(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(signature, call with NULL arguments) for every function in public."""
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text,
               format('SELECT public.%I(%s)', p.proname,
                      (SELECT string_agg(format('NULL::%s', t::regtype), ', ')
                       FROM unnest(p.proargtypes) AS t))
        FROM pg_proc AS p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
        ORDER BY 1
        """
    ).fetchall()
    return [(signature, statement) for signature, statement in rows]


EXPECTED_PUBLIC_FUNCTIONS = {
    "store_credential(text,text,text)",
    "retrieve_credential(uuid)",
    "rotate_credential(uuid,text)",
    "delete_credential(uuid)",
    "store_secret(text,text,text)",
    "get_secret(text)",
    "rotate_secret(text,text)",
    "delete_secret(text)",
    "list_secrets(text)",
    "resolve_secrets(text[])",
    "vault_bridge_version()",
    "set_secret(text,text,text,jsonb)",
    "list_secrets_status(text,interval,boolean)",
    "list_secrets_page(text,text,text,text,text,integer,integer)",
    "record_secret_check(text,text,text,timestamp with time zone)",
    "record_edge_sync(text,text[],text)",
    "get_secret_version(text)",
    "secret_usage_days(text[],integer)",
    "list_secrets_page_usage(text,text,text,text,text,integer,integer,integer)",
    "read_access_alerts(timestamp with time zone)",
    "secrets_due_with_token(text,text[])",
    "changed_secrets(text[],timestamp with time zone)",
    "changed_secrets_with_token(text,text[],timestamp with time zone)",
    "secret_rollout(text)",
    "rotate_secret_version(text,text,interval,text,text)",
    "rollback_secret_version(text,interval)",
    "history_secret_versions(text)",
    "secret_rollout_progress(text,timestamp with time zone)",
    "read_access_log(timestamp with time zone,text,boolean,integer,bigint)",
    "resolve_secrets_with_token(text,text[])",
    "create_gateway_token(text,text,text,text[],timestamp with time zone)",
    "list_gateway_tokens()",
    "revoke_gateway_token(text,text)",
    "add_tenant_member(text,uuid)",
    "remove_tenant_member(text,uuid)",
    "list_tenants()",
}
GATEWAY_FUNCTIONS = {
    "resolve_secrets_with_token(text,text[])",
    "secrets_due_with_token(text,text[])",
    "changed_secrets_with_token(text,text[],timestamp with time zone)",
}
"""What a gateway holding only the publishable key (anon) and its token may call; nothing else."""


def test_public_api_is_exactly_the_documented_functions(db: psycopg.Connection) -> None:
    assert {sig for sig, _ in public_functions(db)} == EXPECTED_PUBLIC_FUNCTIONS


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_anon_and_authenticated_are_denied_on_every_public_function(db: psycopg.Connection, role: str) -> None:
    functions = public_functions(db)
    become(db, role)
    for signature, statement in functions:
        if role == "anon" and signature in GATEWAY_FUNCTIONS:
            continue
        with pytest.raises(errors.InsufficientPrivilege):
            call(db, statement)
            pytest.fail(f"{role} could call {signature}")


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_anon_and_authenticated_read_nothing_from_the_audit_log(db: psycopg.Connection, role: str) -> None:
    become(db, role)
    with pytest.raises(errors.InsufficientPrivilege):
        call(db, "SELECT * FROM public.vault_access_log")
    with pytest.raises(errors.InsufficientPrivilege):
        call(db, "INSERT INTO public.vault_access_log (access_type, success) VALUES ('list', true)")


def test_service_role_reads_but_cannot_forge_or_erase_the_audit_log(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT count(*) FROM public.vault_access_log")
    for statement in (
        "INSERT INTO public.vault_access_log (access_type, success) VALUES ('list', true)",
        "UPDATE public.vault_access_log SET success = true",
        "DELETE FROM public.vault_access_log",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            call(db, statement)


def test_audit_log_has_row_level_security(db: psycopg.Connection) -> None:
    assert call(db, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.vault_access_log'::regclass") == [(True,)]


def test_every_function_is_definer_with_empty_search_path_and_documented(db: psycopg.Connection) -> None:
    rows = call(
        db,
        """
        SELECT p.oid::regprocedure::text, p.prosecdef, p.proconfig, obj_description(p.oid, 'pg_proc'),
               has_function_privilege('service_role', p.oid, 'EXECUTE'),
               has_function_privilege('anon', p.oid, 'EXECUTE'),
               has_function_privilege('authenticated', p.oid, 'EXECUTE'),
               p.pronamespace::regnamespace::text
        FROM pg_proc AS p
        WHERE p.pronamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)
        """,
    )
    assert len(rows) > len(EXPECTED_PUBLIC_FUNCTIONS)
    for signature, definer, config, comment, service, anon, authenticated, schema in rows:
        assert definer, signature
        assert config == ['search_path=""'], signature
        assert comment, signature
        gateway = signature.removeprefix("public.") in GATEWAY_FUNCTIONS
        assert anon == gateway and not authenticated, signature
        assert service == (schema == "public"), signature
        if schema == "public":
            assert comment.startswith("anon (a gateway" if gateway else "service_role only."), signature


def test_private_schema_is_invisible_to_api_roles(db: psycopg.Connection) -> None:
    for role in API_ROLES:
        assert call(db, "SELECT has_schema_privilege(%s, 'vault_bridge', 'USAGE')", (role,)) == [(False,)]


# Who holds which privilege on every function of a schema, as the catalog
# records it. A NULL proacl means PostgreSQL's default, which includes
# EXECUTE for PUBLIC, so it is reported as such rather than as "no grants".
FUNCTION_GRANTS = """
SELECT p.oid::regprocedure::text,
       coalesce((SELECT array_agg(format('%%s:%%s', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                                         a.privilege_type) ORDER BY 1)
                 FROM aclexplode(p.proacl) AS a), ARRAY['PUBLIC:EXECUTE (default ACL)'])
FROM pg_proc AS p
WHERE p.pronamespace = %s::regnamespace
ORDER BY 1
"""

PUBLIC_FUNCTION_GRANTS = ["postgres:EXECUTE", "service_role:EXECUTE"]
GATEWAY_FUNCTION_GRANTS = ["postgres:EXECUTE", "service_role:EXECUTE", "anon:EXECUTE"]


def expected_grants(signature: str) -> list[str]:
    return GATEWAY_FUNCTION_GRANTS if signature in GATEWAY_FUNCTIONS else PUBLIC_FUNCTION_GRANTS
HELPER_GRANTS = ["postgres:EXECUTE"]


def function_grants(conn: psycopg.Connection, schema: str) -> dict[str, list[str]]:
    return dict(conn.execute(FUNCTION_GRANTS, (schema,)).fetchall())


def test_public_functions_grant_execute_to_their_owner_and_service_role_only(db: psycopg.Connection) -> None:
    grants = function_grants(db, "public")
    assert set(grants) == EXPECTED_PUBLIC_FUNCTIONS
    assert grants == {signature: expected_grants(signature) for signature in grants}


def test_no_helper_is_executable_by_public_or_any_api_role(db: psycopg.Connection) -> None:
    grants = function_grants(db, "vault_bridge")
    some_helpers = ("name_problem(text)", "max_name_chars()", "access_types()", "delete(uuid,text)")
    assert {f"vault_bridge.{helper}" for helper in some_helpers} <= set(grants)
    assert grants == dict.fromkeys(grants, HELPER_GRANTS)
    for role in (*API_ROLES, "authenticator"):
        executable = call(
            db,
            "SELECT p.oid::regprocedure::text FROM pg_proc AS p "
            "WHERE p.pronamespace = 'vault_bridge'::regnamespace AND has_function_privilege(%s, p.oid, 'EXECUTE')",
            (role,),
        )
        assert executable == [], role


def test_private_tables_grant_nothing_to_api_roles(db: psycopg.Connection) -> None:
    rows = call(
        db,
        "SELECT c.oid::regclass::text, c.relacl::text FROM pg_class AS c "
        "WHERE c.relnamespace = 'vault_bridge'::regnamespace AND c.relkind = 'r'",
    )
    assert sorted(rows) == [
        (f"vault_bridge.{table}", "{postgres=arwdDxt/postgres}")
        for table in ("gateway_tokens", "schema_migrations", "secret_hosts", "secret_meta", "secret_versions", "tenant_members",
                      "tenants")
    ]


# --- name-based API -----------------------------------------------------------


def test_names_api_round_trip(db: psycopg.Connection) -> None:
    become(db, "service_role")
    (secret_id,) = call(db, "SELECT public.store_secret(%s, %s, %s)", ("OPENAI_API_KEY", PLAINTEXT, "prod key"))[0]
    assert call(db, "SELECT public.get_secret(%s)", ("OPENAI_API_KEY",)) == [(PLAINTEXT,)]
    listed = call(db, "SELECT id, name, description FROM public.list_secrets(%s)", ("OPENAI_API_KEY",))
    assert listed == [(secret_id, "OPENAI_API_KEY", "prod key")]
    call(db, "SELECT public.rotate_secret(%s, %s)", ("OPENAI_API_KEY", "v2"))
    assert call(db, "SELECT public.get_secret(%s)", ("OPENAI_API_KEY",)) == [("v2",)]
    assert call(db, "SELECT id FROM public.list_secrets('OPENAI')") == [(secret_id,)]
    assert call(db, "SELECT public.delete_secret(%s)", ("OPENAI_API_KEY",)) == [(True,)]
    assert call(db, "SELECT public.delete_secret(%s)", ("OPENAI_API_KEY",)) == [(False,)]
    assert call(db, "SELECT count(*) FROM public.list_secrets(%s)", ("OPENAI_API_KEY",)) == [(0,)]


def test_list_never_returns_values(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.store_secret(%s, %s)", ("A", PLAINTEXT))
    rows = call(db, "SELECT row_to_json(l)::text FROM public.list_secrets() AS l")
    assert rows and all(PLAINTEXT not in text for (text,) in rows)


def test_store_of_an_existing_name_is_a_conflict_naming_the_fix(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.store_secret(%s, %s)", ("A", PLAINTEXT))
    with pytest.raises(errors.UniqueViolation) as raised:
        call(db, "SELECT public.store_secret(%s, %s)", ("A", "other"))
    assert "already exists" in str(raised.value)
    assert raised.value.diag.message_hint == "rotate it (rotate_secret) or delete it first"


@pytest.mark.parametrize(
    ("name", "message"),
    [(None, "secret name is NULL"), ("", "secret name is empty"), ("x" * 257, "longer than 256")],
)
def test_bad_names_raise_naming_the_problem(db: psycopg.Connection, name: str | None, message: str) -> None:
    become(db, "service_role")
    for statement, params in (
        ("SELECT public.store_secret(%s, %s)", (name, PLAINTEXT)),
        ("SELECT public.get_secret(%s)", (name,)),
        ("SELECT public.rotate_secret(%s, %s)", (name, PLAINTEXT)),
        ("SELECT public.delete_secret(%s)", (name,)),
    ):
        with pytest.raises(psycopg.Error) as raised:
            call(db, statement, params)
        assert raised.value.sqlstate == "22023", statement
        assert message in str(raised.value)
        assert PLAINTEXT not in str(raised.value)


def test_name_of_256_characters_is_accepted(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.store_secret(%s, %s)", ("n" * 256, PLAINTEXT))
    assert call(db, "SELECT public.get_secret(%s)", ("n" * 256,)) == [(PLAINTEXT,)]


def test_missing_names_raise_pt404_which_postgrest_maps_to_404(db: psycopg.Connection) -> None:
    become(db, "service_role")
    for statement, params in (
        ("SELECT public.get_secret(%s)", ("nope",)),
        ("SELECT public.rotate_secret(%s, %s)", ("nope", "v")),
        ("SELECT public.rotate_credential(%s, %s)", (uuid.uuid4(), "v")),
    ):
        with pytest.raises(psycopg.Error) as raised:
            call(db, statement, params)
        assert raised.value.sqlstate == "PT404", statement


def test_null_inputs_raise(db: psycopg.Connection) -> None:
    become(db, "service_role")
    for statement, params in (
        ("SELECT public.retrieve_credential(%s)", (None,)),
        ("SELECT public.rotate_credential(%s, %s)", (None, "v")),
        ("SELECT public.delete_credential(%s)", (None,)),
        ("SELECT public.rotate_secret(%s, %s)", ("A", None)),
        ("SELECT public.resolve_secrets(%s)", (None,)),
    ):
        with pytest.raises(errors.NullValueNotAllowed):
            call(db, statement, params)


def test_schema_version(db: psycopg.Connection) -> None:
    from bridge import SCHEMA_VERSION

    become(db, "service_role")
    assert call(db, "SELECT public.vault_bridge_version()") == [(SCHEMA_VERSION,)]


def test_fresh_install_records_every_version_step_in_order(pg: PgCluster) -> None:
    from bridge import SCHEMA_VERSION

    with pg.connect("postgres") as conn:
        rows = conn.execute("SELECT version, description FROM vault_bridge.schema_migrations ORDER BY version").fetchall()
    assert [version for version, _ in rows] == list(range(1, SCHEMA_VERSION + 1))
    assert all(description for _, description in rows)


def test_limits_are_named_once_in_setup_sql() -> None:
    text = SETUP_SQL.read_text(encoding="utf-8")
    for limit in ("256", "512", "200", "240", "10000", "1024", "4096", "128"):
        assert len(re.findall(rf"\b{limit}\b", text)) == 1, limit
    # Periods are named in section 2 only (sql/limits.toml) (two limits may share one, as the token budget and the alert window
    # share an hour); every other section reads them from there.
    named = text[text.index("-- 2. Limits"):text.index("-- 3. Versioned steps")]
    elsewhere = text.replace(named, "")
    for period in ("1 hour", "7 days", "30 days", "90 days", "180 days"):
        assert re.search(rf"\b{period}\b", named) and not re.search(rf"\b{period}\b", elsewhere), period
    # 64 is also the length of a sha256 in hex; the limit is the one function that returns it.
    assert len(re.findall(r"SELECT 64 ", text)) == 1


def test_access_type_check_allows_exactly_the_named_list(pg: PgCluster) -> None:
    with pg.connect("postgres") as conn:
        (types,) = one(conn.execute("SELECT vault_bridge.access_types()"))
        assert {"store", "retrieve", "rotate", "delete", "list", "resolve", "audit", "token", "member", "test", "policy", "rollback", "edge_sync"} == set(types)
        insert = "INSERT INTO public.vault_access_log (access_type, success) VALUES (%s, true)"
        for access_type in types:
            conn.execute(insert, (access_type,))
        for outside in ("bogus", "AUDIT", ""):
            with pytest.raises(errors.CheckViolation), conn.transaction():
                conn.execute(insert, (outside,))
        conn.rollback()


# --- resolve_secrets ----------------------------------------------------------


def test_resolve_512_mixed_names_in_one_call(db: psycopg.Connection) -> None:
    become(db, "service_role")
    present = {f"KEY_{i:03d}": f"value-{i}-{PLAINTEXT}" for i in range(0, 512, 2)}
    for name, value in present.items():
        call(db, "SELECT public.store_secret(%s, %s)", (name, value))
    requested = [f"KEY_{i:03d}" for i in range(512)]
    mark = audit_watermark(db)
    ((values,),) = call(db, "SELECT public.resolve_secrets(%s)", (requested,))
    assert values == present
    rows = [(r["secret_name"], r["success"], r["error_message"]) for r in audit_rows(db, mark)]
    assert len(rows) == 512
    assert {name for name, ok, _ in rows if ok} == set(present)
    assert {(ok, err) for name, ok, err in rows if name not in present} == {(False, "not found")}


def test_resolve_refuses_more_than_512_names(db: psycopg.Connection) -> None:
    become(db, "service_role")
    with pytest.raises(errors.InvalidParameterValue) as raised:
        call(db, "SELECT public.resolve_secrets(%s)", ([f"K{i}" for i in range(513)],))
    assert "at most 512" in str(raised.value)


def test_resolve_reports_duplicates_once_and_skips_invalid_names(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.store_secret(%s, %s)", ("A", PLAINTEXT))
    mark = audit_watermark(db)
    ((values,),) = call(db, "SELECT public.resolve_secrets(%s)", (["A", "A", "", None, "x" * 300],))
    assert values == {"A": PLAINTEXT}
    rows = [(r["secret_name"], r["success"], r["error_message"]) for r in audit_rows(db, mark)]
    assert sorted((r[1], r[2]) for r in rows) == sorted([
        (True, None), (False, "secret name is NULL"), (False, "secret name is empty"),
        (False, "secret name is longer than 256 characters"),
    ])


def test_resolve_uses_the_name_index_not_a_scan(pg: PgCluster) -> None:
    with pg.connect("postgres") as conn:
        conn.execute(
            "SELECT vault.create_secret('v' || i, 'BULK_' || i) FROM generate_series(1, 5000) AS i"
        )
        conn.execute("ANALYZE vault.secrets")
        become(conn, "service_role")
        ((values,),) = conn.execute(
            "SELECT public.resolve_secrets(%s)", (["BULK_1", "BULK_4999", "NOPE"],)
        ).fetchall()
        assert values == {"BULK_1": "v1", "BULK_4999": "v4999"}
        conn.execute("RESET ROLE")
        seq, idx = one(conn.execute(
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'vault.secrets'::regclass"
        ))
        assert seq == 0 and idx >= 1
        conn.rollback()


# --- audit log ----------------------------------------------------------------


def test_every_access_is_one_audit_row_with_caller_and_client_never_the_value(db: psycopg.Connection) -> None:
    headers = {
        "apikey": "sb_secret_HEADERKEY", "authorization": "Bearer HEADERJWT",
        "user-agent": "openclaw-supabase-bridge/0.1.0", "x-bridge-host": "gw-1", "x-bridge-provider": "supabase",
    }
    become(db, "service_role", sub="svc-123", headers=headers)
    mark = audit_watermark(db)
    (secret_id,) = call(db, "SELECT public.store_secret(%s, %s)", ("A", PLAINTEXT))[0]
    call(db, "SELECT public.get_secret(%s)", ("A",))
    call(db, "SELECT public.retrieve_credential(%s)", (secret_id,))
    call(db, "SELECT public.resolve_secrets(%s)", (["A", "MISSING"],))
    call(db, "SELECT * FROM public.list_secrets()")
    call(db, "SELECT public.rotate_secret(%s, %s)", ("A", PLAINTEXT + "-2"))
    call(db, "SELECT public.delete_credential(%s)", (uuid.uuid4(),))
    call(db, "SELECT public.delete_secret(%s)", ("A",))
    rows = audit_rows(db, mark)
    assert [(r["access_type"], r["secret_name"], r["success"], r["error_message"]) for r in rows] == [
        ("store", "A", True, None),
        ("retrieve", "A", True, None),
        ("retrieve", "A", True, None),
        ("resolve", "A", True, None),
        ("resolve", "MISSING", False, "not found"),
        ("list", None, True, None),
        ("rotate", "A", True, None),
        ("delete", None, False, rows[7]["error_message"]),
        ("delete", "A", True, None),
    ]
    assert "not found" in rows[7]["error_message"]
    for row in rows:
        assert row["accessed_by"] == {"role": "service_role", "sub": "svc-123"}
        assert row["client"] == {"user_agent": "openclaw-supabase-bridge/0.1.0", "host": "gw-1", "provider": "supabase"}
        assert row["session_user"] == "authenticator"
        assert row["accessed_at"] is not None
        text = json.dumps(row, default=str)
        for forbidden in (PLAINTEXT, "HEADERKEY", "HEADERJWT"):
            assert forbidden not in text
    assert {r["secret_id"] for r in rows if r["secret_name"] == "A"} == {secret_id}


def test_direct_sql_calls_are_audited_without_api_context(pg: PgCluster) -> None:
    with pg.connect("postgres") as conn:
        conn.execute("SELECT public.store_secret(%s, %s)", ("DIRECT", PLAINTEXT))
        row = conn.execute(
            "SELECT accessed_by, client, \"session_user\" FROM public.vault_access_log WHERE secret_name = 'DIRECT'"
        ).fetchone()
        assert row == (None, None, "postgres")
        conn.rollback()


def test_raised_failures_reach_the_postgres_log_without_the_value(pg: PgCluster) -> None:
    marker = f"MISSING_{uuid.uuid4().hex}"
    with pg.connect("authenticator") as conn:
        become(conn, "service_role", headers={"x-bridge-host": "gw-log"})
        with pytest.raises(psycopg.Error):
            conn.execute("SELECT public.get_secret(%s)", (marker,))
        conn.rollback()
        become(conn, "service_role")
        with pytest.raises(errors.NullValueNotAllowed):
            conn.execute("SELECT public.rotate_secret(%s, %s)", (marker + "_NULL", None))
        conn.rollback()
        with pytest.raises(errors.UniqueViolation):
            become(conn, "service_role")
            conn.execute("SELECT public.store_secret(%s, %s)", (marker + "_DUP", PLAINTEXT))
            conn.execute("SELECT public.store_secret(%s, %s)", (marker + "_DUP", PLAINTEXT))
        conn.rollback()
    log = pg.server_log()
    audit_lines = [line for line in log.splitlines() if "vault_bridge audit:" in line and marker in line]
    assert len(audit_lines) == 3
    assert "access_type=retrieve" in audit_lines[0] and "not found" in audit_lines[0] and "gw-log" in audit_lines[0]
    assert "new secret value is NULL" in audit_lines[1]
    assert "already exists" in audit_lines[2]
    assert PLAINTEXT not in log


# --- ciphertext only at rest -------------------------------------------------


def test_pg_dump_and_every_table_hold_no_plaintext(pg: PgCluster) -> None:
    plaintext = f"sk-live-{uuid.uuid4().hex}"
    with pg.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role", headers={"x-bridge-host": "gw"})
        conn.execute("SELECT public.store_secret(%s, %s)", ("DUMPED", plaintext))
        conn.execute("SELECT public.resolve_secrets(%s)", (["DUMPED"],))
        conn.execute("SELECT public.rotate_secret(%s, %s)", ("DUMPED", plaintext + "-rotated"))
    try:
        dump = pg.pg_dump()
        assert "vault.secrets" in dump and "DUMPED" in dump
        assert plaintext not in dump
        with pg.connect("supabase_admin") as admin:
            tables = admin.execute(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            assert ("vault.secrets",) in tables and ("public.vault_access_log",) in tables
            for (table,) in tables:
                (content,) = one(admin.execute(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} AS t"))
                assert plaintext not in content, table
            (value,) = one(admin.execute("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'DUMPED'"))
            assert value == plaintext + "-rotated"
        assert plaintext not in pg.server_log()
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault.secrets WHERE name = 'DUMPED'")


# --- idempotence --------------------------------------------------------------

# Everything setup.sql defines, with oids, so a re-run that dropped and
# re-created anything (or re-ran a versioned step) shows up as a change.
CATALOG_SNAPSHOT = """
SELECT json_build_object(
  'functions', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', p.oid, p.oid::regprocedure, p.prosrc, p.proacl, p.proowner::regrole,
                      obj_description(p.oid, 'pg_proc'), p.proconfig, p.provolatile, p.prosecdef) AS x
     FROM pg_proc p WHERE p.pronamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)) f),
  'relations', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', c.oid, c.oid::regclass, c.relkind, c.relacl, c.relowner::regrole, c.relrowsecurity,
                      obj_description(c.oid, 'pg_class'),
                      CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END) AS x
     FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)) r),
  'columns', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', a.attrelid::regclass, a.attnum, a.attname, a.atttypid::regtype, a.attnotnull,
                      a.attidentity, pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)) AS x
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)
       AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped) a),
  'constraints', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', k.oid, k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid), k.convalidated) AS x
     FROM pg_constraint k WHERE k.connamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)) k),
  'migrations', (SELECT json_agg(m ORDER BY m.version) FROM vault_bridge.schema_migrations m),
  'schema', (SELECT concat_ws(' | ', nspacl, obj_description(oid, 'pg_namespace'))
             FROM pg_namespace WHERE nspname = 'vault_bridge')
)
"""


def test_setup_sql_applied_twice_changes_nothing_and_errors_on_nothing(pg: PgCluster) -> None:
    with pg.connect("supabase_admin") as admin:
        before = one(admin.execute(CATALOG_SNAPSHOT))[0]
    result = pg.psql_file("postgres", SETUP_SQL)
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "WARNING" not in result.stderr
    with pg.connect("supabase_admin") as admin:
        after = one(admin.execute(CATALOG_SNAPSHOT))[0]
    assert after == before
