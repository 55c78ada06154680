"""The three ways to put the bridge's schema on a database, against the real PostgreSQL: pasting setup.sql into
the SQL editor, `bridge setup` over a direct connection, and the Supabase CLI's `supabase db push` of
supabase/migrations. Each installs a fresh database and upgrades one that an earlier release's setup.sql
installed, and every way ends with the same functions, grants and comments as a paste of the current setup.sql.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import SCHEMA_VERSION
from bridge.admin.setup import connection_args, setup_sql, steps_of
from bridge.core.errors import UsageError
from tests.support.api_role import become
from tests.support.bridge_proc import BRIDGE
from tests.support.pg import REPO, SETUP_SQL, PgCluster
from tests.support.sql_build import build
from tests.support.supabase_cli import SupabaseCli, ensure_supabase_cli
from tests.test_setup_upgrade import RELEASES, Database, Release, create_database, drop_database, release_setup_sql

DEFINITIONS = """
SELECT json_build_object(
  'functions', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', pg_get_functiondef(p.oid), p.proacl, obj_description(p.oid, 'pg_proc')) AS x
     FROM pg_proc p WHERE p.pronamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)) f),
  'relations', (SELECT json_agg(x ORDER BY x) FROM (
     SELECT concat_ws(' | ', c.oid::regclass, c.relkind, c.relacl, obj_description(c.oid, 'pg_class'),
                      CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END) AS x
     FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'vault_bridge'::regnamespace)) r),
  'versions', (SELECT json_agg(m.version ORDER BY m.version) FROM vault_bridge.schema_migrations m)
)
"""
"""What a way must agree on: each function's definition, grants and comment, and each relation's grants,
comment and index, without the oids that differ from database to database."""


def definitions(database: Database) -> dict[str, Any]:
    with database.connect("supabase_admin") as admin:
        row = admin.execute(DEFINITIONS).fetchone()
        assert row is not None
        found: dict[str, Any] = row[0]
        return found


@pytest.fixture(scope="module")
def pasted(pg: PgCluster) -> Iterator[dict[str, Any]]:
    """The definitions a paste of the current setup.sql gives a fresh database: what every way must give."""
    name = f"bridge_pasted_{uuid.uuid4().hex[:8]}"
    try:
        database = create_database(pg, name)
        database.paste(SETUP_SQL.read_text(encoding="utf-8"))
        yield definitions(database)
    finally:
        drop_database(pg, name)


@pytest.fixture
def database(pg: PgCluster) -> Iterator[Database]:
    name = f"bridge_way_{uuid.uuid4().hex[:8]}"
    try:
        yield create_database(pg, name)
    finally:
        drop_database(pg, name)


def db_url(database: Database) -> str:
    """The test database as a user's SUPABASE_DB_URL names a project's: over TCP, here on loopback."""
    return f"postgresql://postgres@127.0.0.1:{database.pg.port}/{database.name}"


def bridge_setup(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SUPABASE_DB_URL": db_url(database), "BRIDGE_HOME": "/nonexistent"}
    return subprocess.run([str(BRIDGE), "setup", *args], env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def test_the_packaged_setup_sql_is_the_pasted_one_and_lists_every_step() -> None:
    assert setup_sql() == SETUP_SQL.read_text(encoding="utf-8")
    assert [step.version for step in steps_of(setup_sql())] == list(range(1, SCHEMA_VERSION + 1))


def test_bridge_setup_installs_a_fresh_database_then_says_it_is_up_to_date(database: Database, pasted: dict[str, Any]) -> None:
    dry = bridge_setup(database, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"schema version 0 -> {SCHEMA_VERSION} (dry run: nothing was changed)")
    assert dry.stdout.count("\n  ") == SCHEMA_VERSION
    with database.connect("postgres") as conn:
        assert conn.execute("SELECT to_regclass('public.vault_access_log')").fetchone() == (None,), "a dry run changes nothing"
    done = bridge_setup(database)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"schema version 0 -> {SCHEMA_VERSION}\n", "")
    assert definitions(database) == pasted
    again = bridge_setup(database, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"installed": SCHEMA_VERSION, "target": SCHEMA_VERSION, "applied": False, "steps": []}
    assert bridge_setup(database).stdout == f"schema version {SCHEMA_VERSION}: up to date (functions, grants and comments re-applied)\n"


@pytest.mark.parametrize("release", RELEASES, ids=lambda release: f"from-v{release.version}")
def test_bridge_setup_upgrades_a_database_an_earlier_release_installed(
    database: Database, pasted: dict[str, Any], release: Release,
) -> None:
    database.apply("postgres", release_setup_sql(release))
    done = bridge_setup(database)
    assert (done.returncode, done.stdout) == (0, f"schema version {release.version} -> {SCHEMA_VERSION}\n"), done.stderr
    assert definitions(database) == pasted
    assert resolves(database)


def test_bridge_setup_refuses_a_connection_string_in_argv_or_without_verified_tls() -> None:
    usage = subprocess.run([str(BRIDGE), "setup", "postgresql://postgres:pw@db.example.invalid/postgres"],
                           env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2
    missing = subprocess.run([str(BRIDGE), "setup"], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert missing.returncode == 2 and "SUPABASE_DB_URL" in missing.stderr and missing.stderr.count("\n") == 1
    remote = "postgresql://postgres:hunter2@db.abcdefgh.supabase.co:5432/postgres"
    assert connection_args(remote)["sslmode"] == "verify-full"
    assert connection_args(remote + "?sslmode=verify-ca&sslrootcert=/ca.crt")["sslmode"] == "verify-ca"
    for weak in ("disable", "allow", "prefer", "require"):
        with pytest.raises(UsageError, match=f"sslmode={weak}, which does not check"):
            connection_args(f"{remote}?sslmode={weak}")
    assert connection_args("postgresql://postgres@127.0.0.1:5432/postgres")["sslmode"] == "prefer"
    assert connection_args("postgresql://postgres@[::1]:5432/postgres?sslmode=disable")["sslmode"] == "disable"
    with pytest.raises(UsageError) as refused:
        connection_args("postgresql://postgres:hunter2@db.x.supabase.co:5432/postgres?sslmode=nonsense&port=x")
    assert "hunter2" not in str(refused.value)


def test_bridge_setup_with_tls_the_server_cannot_give_says_what_to_do(database: Database) -> None:
    env = {"PATH": "/usr/bin:/bin", "SUPABASE_DB_URL": db_url(database).replace("postgres@", "postgres:hunter2@")
           + "?sslmode=verify-full"}
    failed = subprocess.run([str(BRIDGE), "setup"], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert failed.returncode == 1 and failed.stderr.count("\n") == 1, failed.stderr
    assert "cannot connect to the database at 127.0.0.1" in failed.stderr and "hunter2" not in failed.stdout + failed.stderr


@pytest.fixture(scope="module")
def supabase() -> SupabaseCli:
    return ensure_supabase_cli()


def db_push(supabase: SupabaseCli, database: Database, home: Any) -> subprocess.CompletedProcess[str]:
    """`supabase db push` from the repository, as a user runs it against their project."""
    return supabase.run(["db", "push", "--db-url", db_url(database) + "?sslmode=disable", "--yes"], cwd=REPO, home=home)


def resolves(database: Database) -> bool:
    """A secret stored through the installed API resolves through it: the bridge works on this database."""
    name, value = f"WAY_{uuid.uuid4().hex[:6].upper()}", f"value-{uuid.uuid4().hex}"
    with database.connect("authenticator") as conn:
        become(conn, "service_role")
        conn.execute("SELECT public.store_secret(%s, %s)", (name, value))
        row = conn.execute("SELECT public.resolve_secrets(%s)", ([name],)).fetchone()
        conn.rollback()
    return row is not None and row[0] == {name: value}


def test_supabase_db_push_installs_a_fresh_database_then_says_it_is_up_to_date(
    supabase: SupabaseCli, database: Database, pasted: dict[str, Any], tmp_path: Any,
) -> None:
    pushed = db_push(supabase, database, tmp_path)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    assert f"_bridge_schema_v{SCHEMA_VERSION}.sql" in pushed.stdout + pushed.stderr
    assert definitions(database) == pasted and resolves(database)
    again = db_push(supabase, database, tmp_path)
    assert again.returncode == 0 and "Remote database is up to date" in again.stdout + again.stderr, again.stderr


@pytest.mark.parametrize("release", RELEASES, ids=lambda release: f"from-v{release.version}")
def test_supabase_db_push_upgrades_a_database_an_earlier_release_installed(
    supabase: SupabaseCli, database: Database, pasted: dict[str, Any], release: Release, tmp_path: Any,
) -> None:
    database.apply("postgres", release_setup_sql(release))
    pushed = db_push(supabase, database, tmp_path)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    assert definitions(database) == pasted and resolves(database)


def test_supabase_db_push_after_a_paste_of_the_current_setup_sql_changes_nothing(
    supabase: SupabaseCli, database: Database, pasted: dict[str, Any], tmp_path: Any,
) -> None:
    database.paste(SETUP_SQL.read_text(encoding="utf-8"))
    pushed = db_push(supabase, database, tmp_path)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    assert definitions(database) == pasted


def test_every_schema_version_is_one_migration_and_the_earlier_ones_run_that_release_s_setup_sql() -> None:
    import re

    migrations = sorted((REPO / "supabase" / "migrations").glob("*.sql"))
    versions = [int(re.fullmatch(r"\d{14}_bridge_schema_v(\d+)\.sql", path.name).group(1))  # type: ignore[union-attr]
                for path in migrations]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    for release in RELEASES:
        text = migrations[release.version - 1].read_text(encoding="utf-8")
        assert build.setup_of(text, release.version) == release_setup_sql(release).rstrip("\n") + "\n", release
    newest = migrations[-1].read_text(encoding="utf-8")
    assert build.setup_of(newest, SCHEMA_VERSION) == SETUP_SQL.read_text(encoding="utf-8")
