"""Races between a listing's first record of a secret made in Studio (settle_outside_changes) and the writers of
that record: a type being set, a verdict being recorded. Found by the hostile review of the settle step; the two
calls are lined up with a lock wait, never with a sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from tests.support.api_role import become
from tests.support.pg import PgCluster, forget
from tests.test_setup_admin import unique


def waiting_on_lock(pg: PgCluster, pid: int, timeout: float = 10.0) -> None:
    """Until backend `pid` waits for a heavyweight lock (a row, a transaction or an advisory lock)."""
    deadline = time.monotonic() + timeout
    with pg.connect("postgres", autocommit=True) as watch:
        while time.monotonic() < deadline:
            row = watch.execute("SELECT locktype, mode FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)).fetchone()
            if row:
                return
            time.sleep(0.02)  # pg_locks has no notification: a bounded poll of the server's own lock table
    raise AssertionError(f"backend {pid} never waited for a lock")


class Background:
    """One call on its own connection in a thread; its error, if any, kept for the test."""

    def __init__(self, conn: psycopg.Connection, work: Callable[[psycopg.Connection], Any]) -> None:
        self.conn = conn
        self.pid = conn.info.backend_pid
        self.error: BaseException | None = None
        self.result: Any = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[psycopg.Connection], Any]) -> None:
        try:
            self.result = work(self.conn)
            self.conn.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.conn.rollback()

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "a call never finished"


@pytest.fixture
def names(pg: PgCluster) -> Iterator[list[str]]:
    made: list[str] = []
    try:
        yield made
    finally:
        forget(pg, *made)
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("SET lock_timeout = '5s'")
            conn.execute("DELETE FROM vault_bridge.secret_meta AS m WHERE NOT EXISTS "
                         "(SELECT FROM vault.secrets AS s WHERE s.id = m.secret_id)")


def studio_secret(pg: PgCluster, names: list[str], prefix: str, value: str = "made in studio") -> str:
    """A secret made in Studio (vault.create_secret as postgres): no record of the bridge's."""
    name = unique(prefix)
    names.append(name)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.create_secret(%s, %s)", (value, name))
    return name


def meta_of(pg: PgCluster, name: str) -> dict[str, Any]:
    with pg.connect("postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT m.type, m.check_status, m.check_message FROM vault.secrets AS s "
            "JOIN vault_bridge.secret_meta AS m ON m.secret_id = s.id WHERE s.name = %s", (name,)).fetchone()
    assert row is not None, f"no meta row for {name}"
    return {"type": row[0], "check_status": row[1], "check_message": row[2]}


def listed_while_uncommitted(pg: PgCluster, writer: psycopg.Connection, listing_sql: str, name: str) -> None:
    """A listing started while `writer` holds its change uncommitted: once the listing waits on a lock, the writer
    commits; the listing must then finish without an error."""

    def listing(conn: psycopg.Connection) -> Any:
        become(conn, "service_role")
        return conn.execute(listing_sql, (name,)).fetchone()

    ls = Background(pg.connect("authenticator"), listing)
    waiting_on_lock(pg, ls.pid)
    writer.commit()
    writer.close()
    ls.join()
    ls.conn.close()
    assert ls.error is None, ls.error


# --- F2/F3: settle_outside_changes overwrites a concurrent first record of a secret made in Studio ------------


def test_a_listing_overwrites_a_type_set_concurrently_on_a_studio_made_secret(pg: PgCluster, names: list[str]) -> None:
    """The first thing anyone does with a secret made in Studio is give it a type (set_secret with p_secret NULL).
    That path takes no lock_secret, and apply_meta's `SELECT ... FOR UPDATE` of a meta row that does not exist yet
    locks nothing: a listing that saw no record settles the secret as generic, its INSERT ... ON CONFLICT waits for
    the policy change to commit and then overwrites type and schedule with generic defaults."""
    name = studio_secret(pg, names, "TYPED")
    policy = pg.connect("authenticator")
    become(policy, "service_role")
    policy.execute("SELECT public.set_secret(%s, NULL, NULL, %s::jsonb)", (name, '{"type": "openai"}'))
    listed_while_uncommitted(pg, policy, "SELECT count(*) FROM public.list_secrets_status(%s)", name)
    assert meta_of(pg, name)["type"] == "openai", "the listing replaced the type just set with generic"


def test_a_listing_drops_a_verdict_recorded_concurrently_on_a_studio_made_secret(pg: PgCluster, names: list[str]) -> None:
    """record_secret_check on a secret without a record locks no meta row (there is none) and takes no
    lock_secret; its apply_meta inserts the first record and then the verdict. A listing that saw no record waits
    on that insert and then writes its own first record over it: checked_at, check_status and check_message NULL.
    `bridge secrets test` said ok; the listing afterwards says untested."""
    name = studio_secret(pg, names, "TESTED")
    with pg.connect("postgres", autocommit=True) as conn:
        (version,) = conn.execute("SELECT updated_at FROM vault.secrets WHERE name = %s", (name,)).fetchone() or (None,)
    check = pg.connect("authenticator")
    become(check, "service_role")
    (stamp,) = check.execute("SELECT public.record_secret_check(%s, 'ok', 'accepted', %s)", (name, version)).fetchone() or (None,)
    assert stamp is not None
    listed_while_uncommitted(pg, check, "SELECT public.list_secrets_page(%s)", name)
    assert meta_of(pg, name)["check_status"] == "ok", "the listing dropped the verdict just recorded"
