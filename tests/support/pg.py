"""A throwaway PostgreSQL cluster shaped like a Supabase project.

PostgreSQL refuses to run as root, and CI runs as root, so the server runs as
an unprivileged OS user (``postgres``, created by Debian's package) while the
tests connect over a private Unix socket. The cluster gets Supabase's roles and
default privileges and the Vault stand-in, then setup.sql applied as the
non-superuser ``postgres``, exactly as a user would paste it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parents[2]
SETUP_SQL = REPO / "setup.sql"
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
SERVER_USER = "postgres"
START_TIMEOUT_S = 60


def _bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parts[-3]),
    )
    if not candidates:
        raise RuntimeError("PostgreSQL server not found: apt-get install postgresql")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    root: Path
    bindir: Path
    port: int
    uid: int | None
    gid: int | None

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def create(cls) -> PgCluster:
        root = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
        uid = gid = None
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            uid, gid = user.pw_uid, user.pw_gid
            os.chown(root, uid, gid)
        cluster = cls(root=root, bindir=_bindir(), port=free_port(), uid=uid, gid=gid)
        cluster._initdb()
        cluster._start()
        cluster._provision()
        return cluster

    def _run_server_cmd(self, args: list[str]) -> None:
        subprocess.run(
            args, check=True, user=self.uid, group=self.gid, cwd=self.root,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def _initdb(self) -> None:
        self._run_server_cmd([
            str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", "supabase_admin",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        ])
        os.makedirs(self.socket_dir, exist_ok=True)
        if self.uid is not None:
            os.chown(self.socket_dir, self.uid, self.gid or -1)
        root_key = secrets.token_hex(32)
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\n"
                # The Vault stand-in's root key: server configuration, not a table.
                f"vault_standin.root_key = '{root_key}'\n"
            )

    def _start(self) -> None:
        self._run_server_cmd([
            str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
            "-w", "-t", str(START_TIMEOUT_S), "start",
        ])

    def stop(self) -> None:
        try:
            self._run_server_cmd([
                str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop",
            ])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def conninfo(self, user: str, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={user} dbname={dbname}"

    def connect(self, user: str, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(user), autocommit=autocommit)

    def psql_file(self, user: str, path: Path) -> subprocess.CompletedProcess[str]:
        """Apply a SQL file the way a person pastes it: one script, stop at the first error."""
        return subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", self.conninfo(user), "-f", str(path)],
            capture_output=True, text=True, check=False,
        )

    def apply(self, user: str, path: Path) -> None:
        result = self.psql_file(user, path)
        if result.returncode != 0:
            raise RuntimeError(f"{path.name} as {user} failed: {result.stderr.strip()}")

    def pg_dump(self) -> str:
        return subprocess.run(
            [str(self.bindir / "pg_dump"), "-d", self.conninfo("supabase_admin")],
            capture_output=True, text=True, check=True,
        ).stdout

    def server_log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def _provision(self) -> None:
        self.apply("supabase_admin", SQL_DIR / "supabase_roles.sql")
        self.apply("supabase_admin", SQL_DIR / "vault_standin.sql")
        self.apply("postgres", SETUP_SQL)


def forget(pg: PgCluster, *names: str, tenants: tuple[str, ...] = ()) -> None:
    """Delete committed test data: the Vault secrets `names`, and every gateway token of `tenants`."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM vault.secrets WHERE name = ANY(%s)", (list(names),))
        if tenants:
            conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = ANY(%s)", (list(tenants),))


@contextlib.contextmanager
def audit_rows_dropped_after(pg: PgCluster) -> Iterator[None]:
    """The audit rows written inside the block are deleted after it: alerts a test provokes on purpose would
    otherwise stay in the session's database for 24 hours and show in every later doctor's alert line."""
    with pg.connect("postgres", autocommit=True) as conn:
        (mark, start) = one(conn.execute("SELECT coalesce(max(id), 0), now() FROM public.vault_access_log"))
    try:
        yield
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE id > %s", (mark,))
            # The first hosts those rows recorded go with them, so a later new_host alert is not judged against them.
            conn.execute("DELETE FROM vault_bridge.secret_hosts WHERE first_at >= %s", (start,))


def one(cursor: psycopg.Cursor[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The row of a query that always returns exactly one (an aggregate, a function call): None would be a bug."""
    row = cursor.fetchone()
    assert row is not None, "the query returned no row"
    return row
