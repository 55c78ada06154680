"""Tenants, gateway tokens and members in setup.sql, every call made as PostgREST makes it (role and JWT claims).

A gateway calls with the publishable key (role anon) and its token; an
admin with service_role; a Supabase Auth user as authenticated with `sub`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import psycopg
import pytest
from psycopg import errors

from tests.support.api_role import become, call, mint, new_token, refused_with_token, resolve_with_token
from tests.support.pg import PgCluster
from tests.test_setup_sql import audit_rows, audit_watermark


def store(conn: psycopg.Connection, vault_name: str, value: str) -> None:
    call(conn, "SELECT public.set_secret(%s, %s)", (vault_name, value))


@pytest.fixture
def two_tenants(db: psycopg.Connection) -> dict[str, str]:
    """Tenants acme and globex with the same name holding different values, and one token each."""
    become(db, "service_role")
    store(db, "OPENAI_API_KEY", "sk-default")
    store(db, "acme#OPENAI_API_KEY", "sk-acme")
    store(db, "acme#acme-only", "acme-secret")
    store(db, "globex#OPENAI_API_KEY", "sk-globex")
    return {"acme": mint(db, "acme", "gw-1"), "globex": mint(db, "globex", "gw-1"),
            "default": mint(db, "default", "gw-d", allow=["OPENAI_API_KEY", "acme-only"])}


def test_each_token_resolves_only_its_own_tenant(db: psycopg.Connection, two_tenants: dict[str, str]) -> None:
    names = ["OPENAI_API_KEY", "acme-only", "acme#OPENAI_API_KEY"]
    assert resolve_with_token(db, two_tenants["acme"], names) == {"OPENAI_API_KEY": "sk-acme", "acme-only": "acme-secret"}
    assert resolve_with_token(db, two_tenants["globex"], names) == {"OPENAI_API_KEY": "sk-globex"}
    assert resolve_with_token(db, two_tenants["default"], names) == {"OPENAI_API_KEY": "sk-default"}


def test_the_allow_list_limits_names_and_globs_are_literal_but_for_star_and_question(db: psycopg.Connection) -> None:
    become(db, "service_role")
    for name in ("OPENAI_API_KEY", "OPENAIXAPI_KEY", "ANTHROPIC_API_KEY", "TELEGRAM_BOT_TOKEN"):
        store(db, f"scoped#{name}", f"v-{name}")
    token = mint(db, "scoped", "narrow", allow=["OPENAI_API_KEY", "TELEGRAM_*"])
    assert resolve_with_token(db, token, ["OPENAI_API_KEY", "OPENAIXAPI_KEY", "ANTHROPIC_API_KEY", "TELEGRAM_BOT_TOKEN"]) == {
        "OPENAI_API_KEY": "v-OPENAI_API_KEY", "TELEGRAM_BOT_TOKEN": "v-TELEGRAM_BOT_TOKEN",
    }
    mark = audit_watermark(db)
    resolve_with_token(db, token, ["ANTHROPIC_API_KEY"])
    (row,) = audit_rows(db, mark)
    assert (row["tenant"], row["token_name"], row["success"], row["error_message"]) == (
        "scoped", "narrow", False, "not allowed for this token")


@pytest.mark.parametrize("case", ["revoked", "expired", "garbage", "empty", "null"])
def test_revoked_expired_and_garbage_tokens_get_nothing(db: psycopg.Connection, two_tenants: dict[str, str], case: str) -> None:
    become(db, "service_role")
    token: str | None = two_tenants["acme"]
    if case == "revoked":
        assert call(db, "SELECT public.revoke_gateway_token('acme', 'gw-1')") == [(True,)]
    elif case == "expired":
        token = mint(db, "acme", "short", expires=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    else:
        token = {"garbage": "ocbt_" + secrets.token_urlsafe(32), "empty": "", "null": None}[case]
    mark = audit_watermark(db)
    refused = refused_with_token(db, token, ["OPENAI_API_KEY", "acme-only"])
    assert (refused["status"], refused["code"]) == (401, "PT401") and "bridge tokens create" in (refused["hint"] or "")
    rows = [(r["token_name"], r["success"], r["name_count"], r["error_message"]) for r in audit_rows(db, mark)]
    if case in ("revoked", "expired"):
        # A known token's refusal is answered, not raised, so its one row (for both names asked) is kept.
        assert not refused["raised"]
        ((token_name, success, count, message),) = rows
        assert (token_name, success, count) == ("gw-1" if case == "revoked" else "short", False, 2)
        assert message.startswith(f"gateway token {case} at ")
    else:
        # An unknown token writes nothing: anon cannot fill the log.
        assert refused["raised"] and rows == []


def test_a_token_can_do_nothing_but_resolve(db: psycopg.Connection, two_tenants: dict[str, str]) -> None:
    become(db, "anon")
    for statement in (
        "SELECT public.set_secret('acme#X', 'v')", "SELECT public.get_secret('acme#OPENAI_API_KEY')",
        "SELECT * FROM public.list_secrets_status()", "SELECT public.delete_secret('acme#OPENAI_API_KEY')",
        "SELECT * FROM public.read_access_log()", "SELECT * FROM public.list_gateway_tokens()",
        "SELECT public.resolve_secrets(ARRAY['OPENAI_API_KEY'])", "SELECT * FROM public.list_tenants()",
        "SELECT * FROM public.vault_access_log", "SELECT * FROM public.vault_secrets_overview",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            call(db, statement)


def test_tokens_ls_and_revocation_take_effect_on_the_next_resolve(db: psycopg.Connection, two_tenants: dict[str, str]) -> None:
    become(db, "service_role")
    assert resolve_with_token(db, two_tenants["globex"], ["OPENAI_API_KEY"]) == {"OPENAI_API_KEY": "sk-globex"}
    listed = {(r[0], r[1]): r for r in call(db, "SELECT * FROM public.list_gateway_tokens()")}
    assert listed[("globex", "gw-1")][5] is not None, "last_used_at is recorded"
    assert all(two_tenants["globex"] not in str(row) for row in listed.values())
    assert call(db, "SELECT public.revoke_gateway_token('globex', 'gw-1')") == [(True,)]
    assert call(db, "SELECT public.revoke_gateway_token('globex', 'gw-1')") == [(False,)]
    assert refused_with_token(db, two_tenants["globex"], ["OPENAI_API_KEY"])["status"] == 401


def test_public_relations_hold_no_row_for_anon_or_a_non_member(db: psycopg.Connection, two_tenants: dict[str, str]) -> None:
    relations = [r[0] for r in call(db, "SELECT c.oid::regclass::text FROM pg_class c "
                                        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')")]
    assert set(relations) == {"vault_access_log", "vault_secrets_overview"}
    stranger = str(uuid.uuid4())
    for role, sub in (("anon", None), ("authenticated", stranger)):
        become(db, role, sub=sub)
        for relation in relations:
            try:
                rows = call(db, f"SELECT * FROM public.{relation}")
            except errors.InsufficientPrivilege:
                rows = []
            assert rows == [], (role, relation)


def test_a_member_sees_only_their_tenants_metadata_and_never_a_value(db: psycopg.Connection, two_tenants: dict[str, str]) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    become(db, "service_role")
    assert call(db, "SELECT public.add_tenant_member('acme', %s)", (alice,)) == [(True,)]
    assert call(db, "SELECT public.add_tenant_member('acme', %s)", (alice,)) == [(False,)]
    assert call(db, "SELECT public.add_tenant_member('globex', %s)", (bob,)) == [(True,)]
    resolve_with_token(db, two_tenants["acme"], ["OPENAI_API_KEY"])
    become(db, "authenticated", sub=alice)
    rows = call(db, "SELECT tenant, name, description, updated_at, last_accessed_at FROM public.vault_secrets_overview ORDER BY name")
    assert [(r[0], r[1]) for r in rows] == [("acme", "OPENAI_API_KEY"), ("acme", "acme-only")]
    assert rows[0][4] is not None and rows[1][4] is None, "last_accessed_at is the last resolve"
    assert not any(v in str(rows) for v in ("sk-acme", "acme-secret", "sk-globex"))
    assert call(db, "SELECT count(*) FROM public.vault_secrets_overview WHERE tenant = 'globex'") == [(0,)]
    become(db, "authenticated", sub=bob)
    assert [r[0] for r in call(db, "SELECT tenant FROM public.vault_secrets_overview")] == ["globex"]
    become(db, "service_role")
    assert call(db, "SELECT public.remove_tenant_member('acme', %s)", (alice,)) == [(True,)]
    become(db, "authenticated", sub=alice)
    assert call(db, "SELECT count(*) FROM public.vault_secrets_overview") == [(0,)]
    become(db, "service_role")
    tenants = {r[0]: r for r in call(db, "SELECT * FROM public.list_tenants()")}
    assert tenants["acme"][2] == 2 and tenants["globex"][1] == [uuid.UUID(bob)] and tenants["default"][3] >= 1


def test_bad_tenant_and_token_names_are_refused_with_the_fix(db: psycopg.Connection) -> None:
    become(db, "service_role")
    _, digest = new_token()
    for tenant, name, hint in (("Acme", "gw", "lowercase"), ("acme", "bad name", "letter or digit")):
        with pytest.raises(psycopg.Error) as refused:
            call(db, "SELECT public.create_gateway_token(%s, %s, %s)", (tenant, name, digest))
        assert refused.value.sqlstate == "22023" and hint in (refused.value.diag.message_hint or "")
    with pytest.raises(psycopg.Error) as not_a_hash:
        call(db, "SELECT public.create_gateway_token('acme', 'gw', 'ocbt_plaintext-token')")
    assert "never the token" in (not_a_hash.value.diag.message_hint or "")


def test_pg_dump_holds_no_token(pg: PgCluster) -> None:
    token, digest = new_token()
    with pg.connect("authenticator", autocommit=True) as conn:
        with conn.transaction():
            become(conn, "service_role")
            conn.execute("SELECT public.create_gateway_token('dumped', 'gw', %s)", (digest,))
        with conn.transaction():
            become(conn, "anon")
            conn.execute("SELECT public.resolve_secrets_with_token(%s, ARRAY['X'])", (token,))
    try:
        dump = pg.pg_dump()
        assert "gateway_tokens" in dump and token not in dump and token[5:25] not in dump
    finally:
        with pg.connect("postgres", autocommit=True) as admin:
            admin.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = 'dumped'")
            admin.execute("DELETE FROM vault_bridge.tenants WHERE tenant = 'dumped'")
