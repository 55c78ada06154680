"""Shared fixtures: one Supabase-shaped PostgreSQL for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.support.pg import PgCluster


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster.create()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def db(pg: PgCluster) -> Iterator[psycopg.Connection]:
    """A connection as `authenticator` (PostgREST's login role) inside a transaction that is rolled back."""
    conn = pg.connect("authenticator")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()
