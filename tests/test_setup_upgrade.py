"""Upgrading a database set up by an earlier setup.sql by running the current one.

Every earlier schema version is a starting point (RELEASES): the first release,
which had no version record, and each versioned one. For each, two databases
are made inside the session's cluster, shaped like the project database (the
per-database part of tests/sql/supabase_roles.sql and the Vault stand-in), and
dropped at the end of the module. One gets that release's setup.sql from git
history (applied with psql, as that release's tests did), data written through
that release's API, then the current setup.sql pasted as into the SQL editor
(one script, one transaction, as `postgres`); the other gets only the current
setup.sql, pasted the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from bridge import SCHEMA_VERSION
from tests.support.api_role import become
from tests.support.pg import REPO, SETUP_SQL, SQL_DIR, PgCluster, one
from tests.test_setup_sql import (
    CATALOG_SNAPSHOT,
    EXPECTED_PUBLIC_FUNCTIONS,
    FUNCTION_GRANTS,
    HELPER_GRANTS,
    expected_grants,
)


@dataclass(frozen=True)
class Release:
    """An earlier setup.sql: the commit that last had it, and the schema version it installs."""

    commit: str
    version: int


# One per earlier schema version, oldest first. Version 1 is the last commit
# whose setup.sql had no version record; version 2 the commit that added it.
RELEASES = (
    Release("3945593986d63f2070f8d795cbc63b2182616e37", 1),
    Release("2305d710a9ea24b4dafb42aac7fdd6aab51b45e6", 2),
    Release("5e8679901aa7d4d92cfb224e5caac099ac8a1715", 3),
    Release("c2d4cf39f0cdc7d56a8ab8715baeb61042a5d0c0", 4),
    Release("4a3f91adfa486c443b3e5a1ff0ef6625767ec994", 5),
    Release("37cdc4a2c026b24cfe4d716bfdf79071ce34282a", 6),
    Release("e41d3e4757d39a001998635e41f7b8a8b48bd5ce", 7),
    Release("8544d4af5b0ec3f35a61ef8590b6e1f8a5f14508", 8),
)

SECRETS = {
    "OPENAI_API_KEY": "sk-proj-UPGRADE-1",
    "gcp-sa": '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nUPGRADE\\n"}',
    "team/anthropic:prod": "sk-ant-UPGRADE-2",
    "n" * 256: "UPGRADE-longest-name",
}
ROTATED = ("ROTATED_KEY", "UPGRADE-before-rotation", "UPGRADE-after-rotation")
BY_ID = ("stored-by-id", "UPGRADE-by-id")
HEADERS = {"user-agent": "openclaw-supabase-bridge/0.1.0", "x-bridge-host": "gw-upgrade", "x-bridge-provider": "supabase"}
INSERT_AUDIT_ROW = "INSERT INTO public.vault_access_log (access_type, success) VALUES (%s, true)"
RENAMED = {
    "read_access_log(timestamp with time zone,text,boolean,integer)":
        "read_access_log(timestamp with time zone,text,boolean,integer,bigint)",
    "set_secret(text,text,text)": "set_secret(text,text,text,jsonb)",
    "list_secrets_usage(text)": "list_secrets_status(text,interval,boolean)",
}
"""Signatures an upgrade replaces (version 5 added p_before_id; version 6 p_meta, and the status listing), with the
function that takes each one's place."""
SERVICE_ROLE_KEY = "eyJ-UPGRADE-service-role-key-kept-for-pg-net"
"""A Vault secret the bridge never stored: what a default-tenant `*` token could read before version 5."""
DEFAULT_TOKENS = {
    "gw-used": ["*"],
    "gw-mixed": ["TEAM_*", "?*"],
    "gw-idle": ["*"],
}
"""Default-tenant tokens of version 4 and their allow-lists; gw-used and gw-mixed resolve before the upgrade, gw-idle never."""
NAMED_DEFAULT_TOKENS = {
    "gw-used": ["OPENAI_API_KEY", "gcp-sa"],
    "gw-mixed": ["ROTATED_KEY", "TEAM_*"],
    "gw-idle": ["IDLE_KEY"],
}
"""The same tokens from version 5 on, which refuses a default-tenant glob of only * and ?."""
TOKEN_RESOLVED = {"OPENAI_API_KEY", "gcp-sa", "ROTATED_KEY"}


def release_setup_sql(release: Release) -> str:
    shown = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{release.commit}:setup.sql"],
        capture_output=True, text=True, check=False,
    )
    if shown.returncode != 0:
        shallow = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        fix = "this clone is shallow: run `git fetch --unshallow`" if shallow == "true" else "fetch the full history"
        pytest.fail(
            f"the upgrade test needs earlier releases' setup.sql from git history "
            f"(`git show {release.commit[:7]}:setup.sql` failed: {shown.stderr.strip()}); {fix}",
            pytrace=False,
        )
    return shown.stdout


def project_shape_sql(database: str) -> str:
    """supabase_roles.sql without what is cluster-wide (roles and memberships, which exist already)."""
    text = re.sub(r"--[^\n]*", "", (SQL_DIR / "supabase_roles.sql").read_text(encoding="utf-8"))
    statements = [s.strip() for s in text.split(";") if s.strip()]
    kept = [
        s.replace("ALTER DATABASE postgres ", f'ALTER DATABASE "{database}" ')
        for s in statements
        if not s.startswith("CREATE ROLE") and not (s.startswith("GRANT") and " ON " not in s)
    ]
    return ";\n".join(kept) + ";\n"


@dataclass
class Database:
    pg: PgCluster
    name: str

    def connect(self, user: str, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(self.pg.conninfo(user, self.name), autocommit=autocommit)

    def psql(self, user: str, script: str) -> subprocess.CompletedProcess[str]:
        """Apply a script as psql applies a file: statement by statement, stopping at the first error."""
        return subprocess.run(
            [str(self.pg.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg.conninfo(user, self.name),
             "-f", "-"],
            input=script, capture_output=True, text=True, check=False,
        )

    def apply(self, user: str, script: str) -> None:
        result = self.psql(user, script)
        assert result.returncode == 0, result.stderr
        assert "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr

    def paste(self, script: str) -> None:
        """Run a whole script as the Supabase SQL editor does: as `postgres`, in one implicit transaction."""
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(script)

    def catalog(self) -> dict[str, Any]:
        with self.connect("supabase_admin") as admin:
            snapshot: dict[str, Any] = one(admin.execute(CATALOG_SNAPSHOT))[0]
            return snapshot

    def schema_dump(self) -> str:
        dump = subprocess.run(
            [str(self.pg.bindir / "pg_dump"), "--schema-only", "-n", "public", "-n", "vault_bridge",
             "-d", self.pg.conninfo("supabase_admin", self.name)],
            capture_output=True, text=True, check=True,
        ).stdout
        # Comments and pg_dump's per-run \restrict key are the only lines that may differ.
        lines = [line for line in dump.splitlines() if line and not line.startswith(("--", "\\restrict", "\\unrestrict"))]
        return "\n".join(lines)

    def migrations(self) -> list[tuple[int, str]]:
        with self.connect("postgres") as conn:
            return conn.execute("SELECT version, description FROM vault_bridge.schema_migrations ORDER BY version").fetchall()

    def function_grants(self, schema: str) -> dict[str, list[str]]:
        with self.connect("postgres") as conn:
            return dict(conn.execute(FUNCTION_GRANTS, (schema,)).fetchall())


def create_database(pg: PgCluster, name: str) -> Database:
    with pg.connect("supabase_admin", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER postgres").format(sql.Identifier(name)))
    database = Database(pg, name)
    database.apply("supabase_admin", project_shape_sql(name))
    database.apply("supabase_admin", (SQL_DIR / "vault_standin.sql").read_text(encoding="utf-8"))
    return database


def drop_database(pg: PgCluster, name: str) -> None:
    with pg.connect("supabase_admin", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Upgrade:
    release: Release
    upgraded: Database
    fresh: Database
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    audit_before: list[tuple[Any, ...]] = field(default_factory=list)
    grants_before: dict[str, list[str]] = field(default_factory=dict)
    version_before: int | None = None
    audit_type_rejected_before: bool = False
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)


def write_through_previous_api(database: Database, state: Upgrade) -> None:
    """Store, rotate, resolve and list as the bridge does through PostgREST, committed."""
    with database.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role", sub="svc-upgrade", headers=HEADERS)
        for name, value in SECRETS.items():
            (state.ids[name],) = one(conn.execute("SELECT public.store_secret(%s, %s, 'before upgrade')", (name, value)))
            state.values[name] = value
        name, first, second = ROTATED
        (state.ids[name],) = one(conn.execute("SELECT public.store_secret(%s, %s)", (name, first)))
        conn.execute("SELECT public.rotate_secret(%s, %s)", (name, second))
        state.values[name] = second
        name, value = BY_ID
        (state.ids[name],) = one(conn.execute("SELECT public.store_credential(%s, %s)", (name, value)))
        state.values[name] = value
        (resolved,) = one(conn.execute("SELECT public.resolve_secrets(%s)", ([*state.values, "MISSING"],)))
        assert resolved == state.values
        conn.execute("SELECT * FROM public.list_secrets()")
        (state.version_before,) = one(conn.execute("SELECT public.vault_bridge_version()"))
        if state.version_before >= 4:
            write_tokens_through_previous_api(conn, state)


def write_tokens_through_previous_api(conn: psycopg.Connection, state: Upgrade) -> None:
    """Version 4's tokens: default-tenant ones with `*` that resolve, one that never does, and one of tenant acme."""
    for name, allow in (DEFAULT_TOKENS if state.version_before == 4 else NAMED_DEFAULT_TOKENS).items():
        state.tokens[("default", name)] = mint(conn, "default", name, allow)
    state.tokens[("acme", "gw-acme")] = mint(conn, "acme", "gw-acme", ["*"])
    used = state.tokens[("default", "gw-used")]
    assert resolve_with_token(conn, used, ["OPENAI_API_KEY", "gcp-sa", "MISSING"]) == {
        "OPENAI_API_KEY": state.values["OPENAI_API_KEY"], "gcp-sa": state.values["gcp-sa"],
    }
    assert resolve_with_token(conn, state.tokens[("default", "gw-mixed")], ["ROTATED_KEY"]) == {
        "ROTATED_KEY": state.values["ROTATED_KEY"],
    }


def mint(conn: psycopg.Connection, tenant: str, name: str, allow: list[str]) -> str:
    token = f"ocbt_upgrade-{tenant}-{name}-{uuid.uuid4().hex}"
    conn.execute("SELECT public.create_gateway_token(%s, %s, %s, %s)",
                 (tenant, name, hashlib.sha256(token.encode()).hexdigest(), allow))
    return token


def resolve_with_token(conn: psycopg.Connection, token: str, names: list[str]) -> dict[str, str]:
    become(conn, "anon", headers=HEADERS)
    try:
        values: dict[str, str] = one(conn.execute("SELECT public.resolve_secrets_with_token(%s, %s)", (token, names)))[0]
        return values
    finally:
        become(conn, "service_role", sub="svc-upgrade", headers=HEADERS)


def audit_log(database: Database) -> list[tuple[Any, ...]]:
    with database.connect("supabase_admin") as admin:
        # The columns of version 1: later versions add columns, which rows written before them leave NULL.
        return admin.execute(
            "SELECT id, secret_id, secret_name, accessed_at, \"session_user\", accessed_by, client, access_type, success, "
            "error_message FROM public.vault_access_log ORDER BY id"
        ).fetchall()


def rejects_access_type(database: Database, access_type: str) -> bool:
    with database.connect("postgres") as conn:
        try:
            conn.execute(INSERT_AUDIT_ROW, (access_type,))
        except errors.CheckViolation:
            return True
        finally:
            conn.rollback()
        return False


@pytest.fixture(scope="module", params=RELEASES, ids=lambda release: f"from-v{release.version}")
def upgrade(pg: PgCluster, request: pytest.FixtureRequest) -> Iterator[Upgrade]:
    release: Release = request.param
    previous = release_setup_sql(release)
    suffix = uuid.uuid4().hex[:8]
    names = [f"bridge_upgraded_v{release.version}_{suffix}", f"bridge_fresh_v{release.version}_{suffix}"]
    try:
        state = Upgrade(release=release, upgraded=create_database(pg, names[0]), fresh=create_database(pg, names[1]))
        state.upgraded.apply("postgres", previous)
        write_through_previous_api(state.upgraded, state)
        state.audit_before = audit_log(state.upgraded)
        state.grants_before = state.upgraded.function_grants("public")
        state.audit_type_rejected_before = rejects_access_type(state.upgraded, "audit")
        state.upgraded.paste(SETUP_SQL.read_text(encoding="utf-8"))
        state.fresh.paste(SETUP_SQL.read_text(encoding="utf-8"))
        yield state
    finally:
        for name in names:
            drop_database(pg, name)


def test_every_earlier_schema_version_is_a_starting_point() -> None:
    assert [release.version for release in RELEASES] == list(range(1, SCHEMA_VERSION))


def test_the_starting_point_is_the_release_it_names(upgrade: Upgrade) -> None:
    assert upgrade.version_before == upgrade.release.version
    assert len(upgrade.audit_before) > len(upgrade.values)
    # Version 2 added 'audit' to the access_type check.
    assert upgrade.audit_type_rejected_before == (upgrade.release.version < 2)


def test_upgrade_keeps_every_secret_with_its_vault_id_and_value(upgrade: Upgrade) -> None:
    with upgrade.upgraded.connect("authenticator") as conn:
        become(conn, "service_role", headers=HEADERS)
        (resolved,) = one(conn.execute("SELECT public.resolve_secrets(%s)", (list(upgrade.values),)))
        assert resolved == upgrade.values
        listed: dict[str, uuid.UUID] = dict(conn.execute("SELECT name, id FROM public.list_secrets()").fetchall())
        assert listed == upgrade.ids
        for name, secret_id in upgrade.ids.items():
            assert conn.execute("SELECT public.retrieve_credential(%s)", (secret_id,)).fetchone() == (upgrade.values[name],)
        conn.rollback()


def test_upgrade_keeps_the_audit_log_and_appends_to_it(upgrade: Upgrade) -> None:
    assert audit_log(upgrade.upgraded) == upgrade.audit_before
    with upgrade.upgraded.connect("authenticator") as conn:
        become(conn, "service_role", headers=HEADERS)
        conn.execute("SELECT public.get_secret(%s)", ("OPENAI_API_KEY",))
        (row_id, access_type, name, success) = one(conn.execute(
            "SELECT id, access_type, secret_name, success FROM public.vault_access_log ORDER BY id DESC LIMIT 1"
        ))
        assert (access_type, name, success) == ("retrieve", "OPENAI_API_KEY", True)
        assert row_id > upgrade.audit_before[-1][0]
        conn.rollback()


def test_upgrade_advances_the_version_and_records_every_step(upgrade: Upgrade) -> None:
    assert upgrade.release.version < SCHEMA_VERSION
    with upgrade.upgraded.connect("authenticator") as conn:
        become(conn, "service_role")
        assert conn.execute("SELECT public.vault_bridge_version()").fetchone() == (SCHEMA_VERSION,)
        conn.rollback()
    migrations = upgrade.upgraded.migrations()
    assert [version for version, _ in migrations] == list(range(1, SCHEMA_VERSION + 1))
    assert all(description for _, description in migrations)


def test_upgraded_access_type_check_accepts_audit_and_still_refuses_others(upgrade: Upgrade) -> None:
    assert not rejects_access_type(upgrade.upgraded, "audit")
    assert rejects_access_type(upgrade.upgraded, "bogus")
    with upgrade.upgraded.connect("postgres") as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.vault_access_log'::regclass AND contype = 'c' "
            "AND pg_get_constraintdef(oid) LIKE '%access_type%'"
        ).fetchone() == (1,)


def test_upgrade_keeps_exactly_the_grants_of_every_function(upgrade: Upgrade) -> None:
    after = upgrade.upgraded.function_grants("public")
    assert set(after) == EXPECTED_PUBLIC_FUNCTIONS
    before = {RENAMED.get(signature, signature): grants for signature, grants in upgrade.grants_before.items()}
    assert set(before) <= set(after)
    assert {signature: after[signature] for signature in before} == before
    assert after == {signature: expected_grants(signature) for signature in after}
    helpers = upgrade.upgraded.function_grants("vault_bridge")
    assert helpers == dict.fromkeys(helpers, HELPER_GRANTS)


def test_admin_functions_work_on_the_data_kept_by_the_upgrade(upgrade: Upgrade) -> None:
    """set_secret, list_secrets_status and read_access_log over secrets and audit rows written before the upgrade."""
    with upgrade.upgraded.connect("authenticator") as conn:
        become(conn, "service_role", headers=HEADERS)
        status = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT name, last_used_at, uses, gateways, type, rotate_every, due, rotated_at = updated_at "
                "FROM public.list_secrets_status()"
            ).fetchall()
        }
        assert set(status) == set(upgrade.ids)
        # Every secret was resolved before the upgrade, from one host; some through a token too, which is a gateway of its own.
        for name, (last_used_at, uses, gateways, *policy) in status.items():
            assert last_used_at is not None, name
            by_token = upgrade.release.version >= 4 and name in TOKEN_RESOLVED
            assert (uses, gateways) == (1 + by_token, 1 + by_token), name
            # What existed becomes generic, with no schedule, last changed when Vault last changed it.
            assert policy == ["generic", None, "ok", True], name
        logged = conn.execute(
            "SELECT access_type, success, host FROM public.read_access_log(p_name => %s)", (ROTATED[0],)
        ).fetchall()
        logged_by_token = [("resolve", True, "gw-upgrade")] if upgrade.release.version >= 4 else []
        assert logged == [*logged_by_token, ("resolve", True, "gw-upgrade"), ("rotate", True, "gw-upgrade"), ("store", True, "gw-upgrade")]
        name = "OPENAI_API_KEY"
        (result,) = one(conn.execute("SELECT public.set_secret(%s, %s)", (name, "UPGRADE-set")))
        assert (result["id"], result["created"], result["type"]) == (str(upgrade.ids[name]), False, "generic")
        assert conn.execute("SELECT public.get_secret(%s)", (name,)).fetchone() == ("UPGRADE-set",)
        assert conn.execute(
            "SELECT description FROM public.list_secrets(%s)", (name,)
        ).fetchone() == ("before upgrade",)
        conn.rollback()


def test_upgrade_gives_every_secret_generic_metadata_and_every_audit_row_its_host(upgrade: Upgrade) -> None:
    """Version 6: metadata keyed by Vault id (never a value), and host as a column of rows written long before."""
    with upgrade.upgraded.connect("postgres") as conn:
        meta = {row[0]: row[1:] for row in conn.execute(
            "SELECT s.name, m.type, m.rotate_every, m.expires_at, m.rotated_at = s.updated_at, m.checked_at "
            "FROM vault.secrets AS s JOIN vault_bridge.secret_meta AS m ON m.secret_id = s.id"
        ).fetchall()}
        assert set(meta) == set(upgrade.ids)
        assert set(meta.values()) == {("generic", None, None, True, None)}
        hosts = conn.execute(
            "SELECT count(*) FILTER (WHERE host IS DISTINCT FROM client ->> 'host'), count(*) FILTER (WHERE host = %s) "
            "FROM public.vault_access_log",
            (HEADERS["x-bridge-host"],),
        ).fetchone()
        assert hosts is not None and hosts[0] == 0 and hosts[1] > len(upgrade.values)
        dumped = json.dumps(conn.execute("SELECT * FROM vault_bridge.secret_meta").fetchall(), default=str)
        assert not any(value in dumped for value in upgrade.values.values())


@pytest.mark.parametrize(
    "upgrade", [release for release in RELEASES if release.version == 4], indirect=True,
    ids=lambda release: f"from-v{release.version}",
)
def test_upgrade_narrows_default_tenant_wildcards_to_the_names_each_token_resolved(upgrade: Upgrade) -> None:
    """Tokens came with version 4, and version 5 refuses the wildcards: only a version 4 database has any to narrow."""
    with upgrade.upgraded.connect("postgres") as conn:
        # Kept in Vault for pg_net, never stored by the bridge: no default-tenant token reaches it.
        conn.execute("SELECT vault.create_secret(%s, 'service_role_key')", (SERVICE_ROLE_KEY,))
        become(conn, "service_role", headers=HEADERS)
        allow = {(r[0], r[1]): r[2] for r in conn.execute("SELECT tenant, name, allow FROM public.list_gateway_tokens()")}
        assert allow == {
            ("default", "gw-used"): ["OPENAI_API_KEY", "gcp-sa"],
            ("default", "gw-mixed"): ["ROTATED_KEY", "TEAM_*"],
            ("default", "gw-idle"): [],
            ("acme", "gw-acme"): ["*"],
        }
        everything = [*upgrade.values, "service_role_key"]
        assert resolve_with_token(conn, upgrade.tokens[("default", "gw-used")], everything) == {
            "OPENAI_API_KEY": upgrade.values["OPENAI_API_KEY"], "gcp-sa": upgrade.values["gcp-sa"],
        }
        assert resolve_with_token(conn, upgrade.tokens[("default", "gw-mixed")], everything) == {
            "ROTATED_KEY": upgrade.values["ROTATED_KEY"],
        }
        assert resolve_with_token(conn, upgrade.tokens[("default", "gw-idle")], everything) == {}
        assert SERVICE_ROLE_KEY not in json.dumps(conn.execute("SELECT * FROM public.read_access_log()").fetchall(), default=str)
        conn.rollback()


def test_fresh_install_is_identical_to_the_upgraded_schema(upgrade: Upgrade) -> None:
    fresh, upgraded = upgrade.fresh.schema_dump(), upgrade.upgraded.schema_dump()
    assert "vault_access_log_access_type_check" in fresh and "schema_migrations" in fresh
    assert "vault_access_log_failures_idx" in fresh
    assert fresh == upgraded
    assert upgrade.fresh.migrations() == upgrade.upgraded.migrations()


def test_rerunning_on_the_upgraded_database_changes_nothing_and_raises_nothing(upgrade: Upgrade) -> None:
    before = upgrade.upgraded.catalog()
    upgrade.upgraded.apply("postgres", SETUP_SQL.read_text(encoding="utf-8"))
    upgrade.upgraded.paste(SETUP_SQL.read_text(encoding="utf-8"))
    assert upgrade.upgraded.catalog() == before
    assert audit_log(upgrade.upgraded) == upgrade.audit_before


def test_setup_sql_refuses_a_database_newer_than_itself(upgrade: Upgrade) -> None:
    before = upgrade.upgraded.catalog()
    with upgrade.upgraded.connect("postgres") as conn:
        conn.execute(
            "INSERT INTO vault_bridge.schema_migrations (version, description) VALUES (%s, 'a later release')",
            (SCHEMA_VERSION + 1,),
        )
        with pytest.raises(errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute(SETUP_SQL.read_text(encoding="utf-8"))
        assert f"schema version {SCHEMA_VERSION + 1}, newer than this setup.sql (version {SCHEMA_VERSION})" in str(
            raised.value
        )
        conn.rollback()
    assert upgrade.upgraded.catalog() == before


def test_an_older_versioned_setup_sql_refuses_the_upgraded_database(upgrade: Upgrade) -> None:
    """The newest earlier setup.sql has the guard too: pasted over this schema it stops and changes nothing."""
    older = RELEASES[-1]
    before = upgrade.upgraded.catalog()
    with upgrade.upgraded.connect("postgres") as conn:
        with pytest.raises(errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute(release_setup_sql(older))
        assert f"schema version {SCHEMA_VERSION}, newer than this setup.sql (version {older.version})" in str(raised.value)
        conn.rollback()
    assert upgrade.upgraded.catalog() == before
