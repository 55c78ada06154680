"""Shared fixtures: one Supabase-shaped PostgreSQL and one PostgREST-compatible endpoint for the whole run."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.faults import FaultProxy
from tests.support.keyring_session import keyring_session
from tests.support.openclaw import OpenClaw, ensure_openclaw
from tests.support.pg import PgCluster, forget
from tests.support.postgrest import Endpoint, ProjectKeys

KIND_FIXTURES = {"pg": "db", "keyring_env": "keyring", "openclaw": "openclaw"}
"""A test that uses one of these fixtures (directly or through another) needs that service."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by what it needs, so `./test.sh -m unit` runs the fast part alone."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        kinds = {kind for fixture, kind in KIND_FIXTURES.items() if fixture in names}
        kinds |= {m.name for m in item.iter_markers() if m.name in ("db", "keyring", "openclaw", "install")}
        for kind in kinds or {"unit"}:
            item.add_marker(getattr(pytest.mark, kind))


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


@pytest.fixture
def owner(pg: PgCluster) -> Iterator[psycopg.Connection]:
    """A connection as `postgres` (which may create Vault secrets directly, read private tables, write audit rows
    and ANALYZE) inside a transaction that is rolled back."""
    conn = pg.connect("postgres")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture(scope="session")
def openclaw() -> OpenClaw:
    """Node and the real OpenClaw CLI, installed under .test-tools/ on first use."""
    return ensure_openclaw()


@pytest.fixture(scope="session")
def keys() -> ProjectKeys:
    return ProjectKeys()


@pytest.fixture(scope="session")
def endpoint(pg: PgCluster, keys: ProjectKeys) -> Iterator[Endpoint]:
    server = Endpoint(pg.conninfo("authenticator"), keys).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxy(endpoint: Endpoint) -> Iterator[FaultProxy]:
    """A switchable front for the endpoint on 127.0.0.1 (tests.support.faults): Supabase broken on demand."""
    front = FaultProxy(endpoint.url)
    try:
        yield front
    finally:
        front.stop()


class Vault:
    """Committed secrets for tests that go through the endpoint; removed again afterwards."""

    def __init__(self, pg: PgCluster) -> None:
        self._pg = pg
        self.names: list[str] = []

    def put(self, name: str, value: str) -> None:
        with self._pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault.secrets WHERE name = %s", (name,))
            conn.execute("SELECT vault.create_secret(%s, %s)", (value, name))
        self.names.append(name)

    def put_json(self, name: str, doc: dict[str, Any]) -> None:
        self.put(name, json.dumps(doc))

    def delete(self, name: str) -> None:
        with self._pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault.secrets WHERE name = %s", (name,))

    def clear(self) -> None:
        forget(self._pg, *self.names)


@pytest.fixture
def vault(pg: PgCluster) -> Iterator[Vault]:
    store = Vault(pg)
    try:
        yield store
    finally:
        store.clear()


@pytest.fixture
def bridge_home(tmp_path: Path) -> Path:
    home = tmp_path / "bridge-home"
    home.mkdir(mode=0o700)
    return home


@pytest.fixture
def keyring_env(bridge_home: Path) -> Iterator[dict[str, str]]:
    """A real GNOME Keyring in a private D-Bus session: the environment a process needs to use it."""
    with keyring_session() as env:
        yield {**env, "BRIDGE_HOME": str(bridge_home)}


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    """A launcher as install.sh writes it, in a private trusted dir: the gateway wants a regular file it owns, not the venv's script."""
    trusted = tmp_path / "provider"
    trusted.mkdir(mode=0o700)
    script = trusted / "bridge"
    script.write_text(f"#!{sys.executable} -I\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n")
    script.chmod(0o700)
    return script


@pytest.fixture
def env_bootstrap(endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path) -> dict[str, str]:
    """The minimal environment a container would pass: URL and secret key, and a private BRIDGE_HOME."""
    return {
        "PATH": "/usr/bin:/bin",
        "BRIDGE_HOME": str(bridge_home),
        "SUPABASE_URL": endpoint.url,
        "SUPABASE_SECRET_KEY": keys.secret,
    }
