"""Hostile review of issue 30: `bridge setup`, sql/build.py and the Supabase migrations, attacked.

Each test is one attack, run against the real PostgreSQL (and the real Supabase CLI where the migrations are
the target). A passing test is an attack the code blocks, kept as a regression test; a failing one is an attack
that succeeded. The "remote" server of the TLS attacks is this machine's own non-loopback address (eth0), where a
forwarder passes the bytes to the test cluster: whatever reaches it unencrypted would cross a network.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bridge import SCHEMA_VERSION
from tests.support.bridge_proc import BRIDGE
from tests.support.pg import REPO, SETUP_SQL, PgCluster
from tests.test_setup_upgrade import RELEASES, Database, create_database, drop_database, release_setup_sql

PASSWORD = "Kx9Leak-Qz7Tail"
"""A database password: no part of it may reach argv, stdout or stderr."""
WAIT_LIMIT = 600
"""Polls of pg_stat_activity (50 ms apart) before a test gives up waiting for `bridge setup` to block."""


# --- Fixtures and helpers -------------------------------------------------------------------------------------


@pytest.fixture
def database(pg: PgCluster) -> Iterator[Database]:
    name = f"bridge_attack_{uuid.uuid4().hex[:8]}"
    try:
        yield create_database(pg, name)
    finally:
        drop_database(pg, name)


def url(database: Database, password: str | None = None, host: str = "127.0.0.1", port: int | None = None) -> str:
    auth = f"postgres:{password}" if password is not None else "postgres"
    return f"postgresql://{auth}@{host}:{port or database.pg.port}/{database.name}"


def setup_env(home: Path, db_url: str | None, **extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": "/nonexistent", "HOME": str(home), **extra}
    if db_url is not None:
        env["SUPABASE_DB_URL"] = db_url
    return env


def bridge_setup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BRIDGE), "setup", *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


def spawn_setup(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BRIDGE), "setup", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def snapshot(database: Database) -> str:
    """The whole database, schema and data, as pg_dump writes it: any change a run made shows here."""
    dump = subprocess.run([str(database.pg.bindir / "pg_dump"), "-d", database.pg.conninfo("supabase_admin", database.name)],
                          capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def version_of(database: Database) -> int | None:
    with database.connect("supabase_admin") as admin:
        exists = admin.execute("SELECT to_regclass('vault_bridge.schema_migrations') IS NOT NULL").fetchone()
        if exists != (True,):
            return None
        row = admin.execute("SELECT max(version) FROM vault_bridge.schema_migrations").fetchone()
        return row[0] if row else None


def install_release(database: Database, version: int) -> None:
    database.apply("postgres", release_setup_sql(next(r for r in RELEASES if r.version == version)))


def setup_backends(database: Database, waiting: bool) -> int:
    with database.pg.connect("supabase_admin", autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'bridge setup' "
            "AND (NOT %s OR wait_event_type = 'Lock')", (database.name, waiting)).fetchone()
        return int(row[0]) if row else 0


def await_backends(database: Database, count: int, waiting: bool) -> None:
    """Until `count` bridge setup sessions are connected (and, if `waiting`, blocked on a lock)."""
    for _ in range(WAIT_LIMIT):
        if (setup_backends(database, waiting) >= count) if count else setup_backends(database, False) == 0:
            return
        time.sleep(0.05)
    pytest.fail(f"bridge setup sessions never reached {count} (waiting={waiting})")


def one_line(text: str) -> bool:
    return text.count("\n") == 1 and text.startswith("bridge: ")


# --- A non-loopback "remote" server -----------------------------------------------------------------------------


def non_loopback_address() -> str:
    """This machine's first IPv4 address outside 127/8 (SIOCGIFADDR on each interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not address.startswith("127."):
                return address
    pytest.fail("the TLS attacks need a non-loopback IPv4 address on this machine (none found)")


class Forwarder:
    """Listens on a non-loopback address and passes each connection to the cluster, keeping what clients sent."""

    def __init__(self, listen: str, target_port: int) -> None:
        self.server = socket.create_server((listen, 0))
        self.address = listen
        self.port = int(self.server.getsockname()[1])
        self.target_port = target_port
        self.sent: list[bytearray] = []
        self.sockets: list[socket.socket] = [self.server]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            seen = bytearray()
            self.sent.append(seen)
            self.sockets += [client, upstream]
            for source, sink, record in ((client, upstream, seen), (upstream, client, None)):
                thread = threading.Thread(target=self._pump, args=(source, sink, record), daemon=True)
                self.threads.append(thread)
                thread.start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, record: bytearray | None) -> None:
        try:
            while chunk := source.recv(65536):
                if record is not None and len(record) < 65536:
                    record += chunk
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def plaintext_sessions(self) -> int:
        """Connections whose startup message (user, database) crossed the wire unencrypted."""
        return sum(1 for seen in self.sent if b"user\x00" in seen)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self.threads:
            thread.join(timeout=10)


@pytest.fixture
def remote(pg: PgCluster) -> Iterator[Forwarder]:
    forwarder = Forwarder(non_loopback_address(), pg.port)
    try:
        yield forwarder
    finally:
        forwarder.close()


# --- Secrets ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Kx9Leak/Qz7Tail", "Kx9Leak@Qz7Tail", "Kx9Leak@Qz7:Wm4Tail"],
                         ids=["slash", "at-sign", "colon-and-at-sign"])
def test_password_with_a_reserved_character_never_reaches_stderr(database: Database, tmp_path: Path, password: str) -> None:
    """A password typed unencoded (Supabase lets users choose one with / or @) splits into host or port, which the
    error names: the part after the split is printed."""
    done = bridge_setup(setup_env(tmp_path, url(database, password)))
    assert done.returncode != 0
    for fragment in re.split(r"[^A-Za-z0-9]", password):
        assert fragment not in output(done), f"a piece of the password reached the output: {output(done)!r}"


@pytest.mark.parametrize("db_url", [
    "postgresql://postgres:Kx9Leak-Qz7Tail%zz@db.abcdefgh.supabase.co:5432/postgres",
    "host=db.abcdefgh.supabase.co user=postgres password=Kx9Leak-Qz7Tail sslmode=require",
    "host=db.abcdefgh.supabase.co password='Kx9Leak-Qz7Tail",
    "postgresql://postgres@db.abcdefgh.supabase.co/postgres?password=Kx9Leak-Qz7Tail&sslmode=disable",
    "postgresql://postgres@db.abcdefgh.supabase.co/postgres?password=Kx9Leak-Qz7Tail&bogus=1",
    "Kx9Leak-Qz7Tail",
    "https://abcdefgh.supabase.co?apikey=Kx9Leak-Qz7Tail",
], ids=["bad-percent-encoding", "conninfo-weak-tls", "conninfo-unclosed-quote", "password-param", "unknown-param",
        "the-password-alone", "the-api-url"])
def test_unusable_connection_strings_say_so_in_one_line_without_the_password(tmp_path: Path, db_url: str) -> None:
    for debug in ("0", "1"):
        done = bridge_setup(setup_env(tmp_path, db_url, BRIDGE_DEBUG=debug))
        assert done.returncode == 2 and one_line(done.stderr) and done.stdout == "", done.stderr
        assert "Kx9Leak" not in output(done)


def test_a_bad_connect_timeout_is_one_clear_line(database: Database, tmp_path: Path) -> None:
    """psycopg checks connect_timeout itself and raises ProgrammingError, which no handler expects."""
    done = bridge_setup(setup_env(tmp_path, url(database, PASSWORD) + "?connect_timeout=soon"))
    assert done.returncode in (1, 2) and one_line(done.stderr), done.stderr
    assert "connect_timeout" in done.stderr and "internal error" not in done.stderr, done.stderr
    assert PASSWORD not in output(done)


def test_debug_tracebacks_never_hold_the_password(database: Database, tmp_path: Path) -> None:
    """BRIDGE_DEBUG=1 prints the traceback of an unexpected error, redacting only the bridge's own key variables
    (not SUPABASE_DB_URL): no frame or message may carry the connection string. (Both cases here are now one
    handled line, not a traceback; whichever it is, the password is in neither.)"""
    with database.connect("postgres") as conn:
        conn.execute("CREATE FUNCTION public.vault_bridge_version() RETURNS text LANGUAGE sql AS $$ SELECT 'eight' $$")
        conn.commit()
    for suffix in ("?connect_timeout=soon", ""):
        done = bridge_setup(setup_env(tmp_path, url(database, PASSWORD) + suffix, BRIDGE_DEBUG="1"))
        assert done.returncode != 0, done.stderr
        assert PASSWORD not in output(done)


@pytest.fixture
def password_role(pg: PgCluster) -> Iterator[str]:
    """A role that must give its password over TCP (scram-sha-256), the way a Supabase project's postgres does."""
    role = "bridge_attack_pw"
    hba = pg.data_dir / "pg_hba.conf"
    before = hba.read_text(encoding="utf-8")
    with pg.connect("supabase_admin", autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'the-right-one-9f2'")
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + before, encoding="utf-8")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield role
    finally:
        with pg.connect("supabase_admin", autocommit=True) as admin:
            hba.write_text(before, encoding="utf-8")
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.parametrize("way", ["url", "PGPASSWORD", "PGPASSFILE"])
def test_a_refused_password_is_one_line_without_the_password(database: Database, password_role: str, tmp_path: Path,
                                                             way: str) -> None:
    base = f"postgresql://{password_role}@127.0.0.1:{database.pg.port}/{database.name}"
    extra: dict[str, str] = {}
    if way == "url":
        db_url = base.replace(f"{password_role}@", f"{password_role}:{PASSWORD}@")
    elif way == "PGPASSWORD":
        db_url, extra = base, {"PGPASSWORD": PASSWORD}
    else:
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"*:*:*:*:{PASSWORD}\n", encoding="utf-8")
        passfile.chmod(0o600)
        db_url, extra = base, {"PGPASSFILE": str(passfile)}
    done = bridge_setup(setup_env(tmp_path, db_url, **extra))
    assert done.returncode == 1 and one_line(done.stderr), done.stderr
    assert "refused the password" in done.stderr and PASSWORD not in output(done)


def test_the_password_never_reaches_argv_or_the_server_s_activity_view(database: Database, tmp_path: Path) -> None:
    """While bridge setup runs (held on a lock), every local user can read its argv and pg_stat_activity."""
    install_release(database, 7)
    with database.connect("postgres") as holder:
        holder.execute("LOCK TABLE public.vault_access_log IN ACCESS EXCLUSIVE MODE")
        running = spawn_setup(setup_env(tmp_path, url(database, PASSWORD)))
        try:
            await_backends(database, 1, waiting=True)
            argv = Path(f"/proc/{running.pid}/cmdline").read_bytes()
            assert PASSWORD.encode() not in argv
            with database.pg.connect("supabase_admin", autocommit=True) as admin:
                seen = admin.execute("SELECT string_agg(concat_ws(' ', application_name, query), ' ') "
                                     "FROM pg_stat_activity WHERE datname = %s", (database.name,)).fetchone()
                assert seen is not None and PASSWORD not in str(seen[0])
        finally:
            holder.rollback()
        out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    assert out == f"schema version 7 -> {SCHEMA_VERSION}\n" and PASSWORD not in out + err


def test_the_hidden_prompt_never_echoes_the_connection_string(database: Database, tmp_path: Path) -> None:
    typed = url(database, PASSWORD)
    pid, fd = pty.fork()
    if pid == 0:  # the child: bridge setup on a terminal of its own, with no SUPABASE_DB_URL
        os.execve(str(BRIDGE), [str(BRIDGE), "setup"], setup_env(tmp_path, None))
    seen = b""
    try:
        while b"connection string" not in seen:
            seen += os.read(fd, 4096)
        os.write(fd, typed.encode() + b"\n")
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert f"schema version 0 -> {SCHEMA_VERSION}" in text
    assert PASSWORD not in text and database.name not in text, text


# --- TLS: the loopback test must judge where libpq really connects ------------------------------------------------


@pytest.mark.parametrize("way", ["hostaddr-in-url", "PGHOST", "PGHOSTADDR", "PGSERVICE"])
def test_a_remote_server_never_gets_a_plaintext_session(database: Database, remote: Forwarder, tmp_path: Path,
                                                        way: str) -> None:
    """The connection's destination is remote, but the string the loopback check reads names no remote host, so
    bridge setup falls back to sslmode=prefer: the remote server (a forwarder on eth0 here) gets the session in
    plain text, and so would anyone between."""
    extra: dict[str, str] = {}
    if way == "hostaddr-in-url":
        db_url = f"host=localhost hostaddr={remote.address} port={remote.port} user=postgres dbname={database.name}"
    elif way == "PGHOST":
        db_url, extra = f"postgresql:///{database.name}?user=postgres&port={remote.port}", {"PGHOST": remote.address}
    elif way == "PGHOSTADDR":
        db_url, extra = url(database, port=remote.port), {"PGHOSTADDR": remote.address}
    else:
        services = tmp_path / "pg_service.conf"
        services.write_text(f"[prod]\nhost={remote.address}\nport={remote.port}\n", encoding="utf-8")
        db_url = f"postgresql:///{database.name}?user=postgres"
        extra = {"PGSERVICEFILE": str(services), "PGSERVICE": "prod"}
    done = bridge_setup(setup_env(tmp_path, db_url, **extra))
    assert remote.plaintext_sessions() == 0, f"a plaintext session reached {remote.address}: {output(done)!r}"
    assert done.returncode != 0 and version_of(database) is None


@pytest.mark.parametrize("way", ["PGSSLMODE-disable", "sslmode-twice", "host-list", "ipv4-mapped", "sslmode-in-options",
                                 "verify-ca-with-the-system-store"])
def test_weakening_tls_for_a_remote_host_is_refused(database: Database, remote: Forwarder, tmp_path: Path, way: str) -> None:
    extra: dict[str, str] = {}
    remote_url = url(database, host=remote.address, port=remote.port)
    if way == "PGSSLMODE-disable":
        db_url, extra = remote_url, {"PGSSLMODE": "disable", "PGREQUIRESSL": "0", "PGSSLNEGOTIATION": "postgres"}
    elif way == "sslmode-twice":
        db_url = remote_url + "?sslmode=verify-full&sslmode=disable"
    elif way == "host-list":
        db_url = f"postgresql://postgres@127.0.0.1:{database.pg.port},{remote.address}:{remote.port}/{database.name}" \
                 "?target_session_attrs=any"
    elif way == "ipv4-mapped":
        db_url = url(database, host=f"[::ffff:{remote.address}]", port=remote.port)
    elif way == "sslmode-in-options":
        db_url = remote_url + "?options=-c%20sslmode%3Ddisable"
    else:  # any publicly trusted certificate, for any name, would pass verify-ca
        db_url = remote_url + "?sslmode=verify-ca&sslrootcert=system"
    done = bridge_setup(setup_env(tmp_path, db_url, **extra))
    assert remote.plaintext_sessions() == 0, output(done)
    assert done.returncode in (1, 2) and one_line(done.stderr), done.stderr
    assert version_of(database) is None


class RogueServer:
    """Whoever listens on a loopback port the real server is not on (another user on this machine, a stopped local
    stack's port): it declines TLS, as sslmode=prefer allows, and asks for the password in clear text."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.passwords: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with client, contextlib.suppress(OSError, struct.error):
                self._answer(client)

    @staticmethod
    def _read(client: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count and (chunk := client.recv(count - len(data))):
            data += chunk
        return data

    def _answer(self, client: socket.socket) -> None:
        while True:
            length, code = struct.unpack("!ii", self._read(client, 8))
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: declined
                client.sendall(b"N")
                continue
            self._read(client, length - 8)  # the startup message: user, database, options
            break
        client.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind, length = struct.unpack("!ci", self._read(client, 5))
        if kind == b"p":
            self.passwords.append(self._read(client, length - 4).rstrip(b"\0"))
        message = b"SFATAL\0C28P01\0Mpassword authentication failed for user \"postgres\"\0\0"
        client.sendall(b"E" + struct.pack("!i", len(message) + 4) + message)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=10)


def test_a_rogue_loopback_listener_never_gets_the_password(tmp_path: Path) -> None:
    """Plain TCP is allowed to loopback, so nothing proves who listens there: libpq answers a request for the
    cleartext password (require_auth=scram-sha-256, which Supabase uses, would refuse it)."""
    rogue = RogueServer()
    try:
        done = bridge_setup(setup_env(tmp_path, f"postgresql://postgres:{PASSWORD}@127.0.0.1:{rogue.port}/postgres"))
    finally:
        rogue.close()
    assert done.returncode == 1 and PASSWORD not in output(done), output(done)
    assert rogue.passwords == [], f"the listener on 127.0.0.1:{rogue.port} was sent {rogue.passwords!r}"


# --- The transaction ----------------------------------------------------------------------------------------------


def test_setup_sql_failing_midway_changes_nothing(database: Database, tmp_path: Path) -> None:
    """A late section (the dashboard's list_secrets_page, new in version 8) meets a function of that name it may not
    replace: everything before it (the version 8 step, limits, helpers, secrets, resolve...) must roll back."""
    install_release(database, 7)
    with database.connect("supabase_admin") as admin:
        admin.execute("CREATE FUNCTION public.list_secrets_page(text, text, text, text, text, integer, integer) "
                      "RETURNS integer LANGUAGE sql AS 'SELECT 1'")
        admin.commit()
    before = snapshot(database)
    done = bridge_setup(setup_env(tmp_path, url(database, PASSWORD)))
    assert done.returncode == 1 and one_line(done.stderr) and "nothing was changed" in done.stderr, done.stderr
    assert snapshot(database) == before and PASSWORD not in output(done)


def test_the_server_ending_the_session_mid_run_is_one_line_and_changes_nothing(database: Database, tmp_path: Path) -> None:
    install_release(database, 7)
    before = snapshot(database)
    with database.connect("postgres") as holder:
        holder.execute("LOCK TABLE public.vault_access_log IN ACCESS EXCLUSIVE MODE")
        running = spawn_setup(setup_env(tmp_path, url(database, PASSWORD)))
        try:
            await_backends(database, 1, waiting=True)
            with database.pg.connect("supabase_admin", autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND application_name = 'bridge setup'", (database.name,))
            out, err = running.communicate(timeout=60)
        finally:
            holder.rollback()
    assert running.returncode == 1 and one_line(err) and "internal error" not in err, err
    assert out == "" and PASSWORD not in err
    assert snapshot(database) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_run_changes_nothing(database: Database, tmp_path: Path, signum: int) -> None:
    install_release(database, 7)
    before = snapshot(database)
    with database.connect("postgres") as holder:
        holder.execute("LOCK TABLE public.vault_access_log IN ACCESS EXCLUSIVE MODE")
        running = spawn_setup(setup_env(tmp_path, url(database, PASSWORD)))
        try:
            await_backends(database, 1, waiting=True)
            running.send_signal(signum)
            out, err = running.communicate(timeout=60)
        finally:
            holder.rollback()
    await_backends(database, 0, waiting=False)
    assert running.returncode != 0 and PASSWORD not in out + err
    if signum == signal.SIGINT:
        assert (running.returncode, err) == (130, "bridge: interrupted\n")
    assert snapshot(database) == before


@pytest.mark.parametrize("start", [0, 7], ids=["fresh", "from-v7"])
def test_a_second_concurrent_bridge_setup_waits_its_turn(database: Database, tmp_path: Path, start: int) -> None:
    """Two people (or a script retried) run bridge setup at once: both must end at the target version, the
    second either waiting and saying up to date or refusing in one line that names the other run; never a
    catalog error."""
    if start:
        install_release(database, start)
    env = setup_env(tmp_path, url(database, PASSWORD))
    with database.connect("supabase_admin") as holder:
        # Hold both runs at the same point (the vault schema is read by the secrets section) so they overlap.
        holder.execute("LOCK TABLE vault.secrets IN ACCESS EXCLUSIVE MODE")
        first = spawn_setup(env)
        await_backends(database, 1, waiting=True)
        second = spawn_setup(env)
        await_backends(database, 2, waiting=True)
        holder.rollback()
    results = [(run.wait(timeout=120), *run.communicate()) for run in (first, second)]
    assert version_of(database) == SCHEMA_VERSION
    for code, out, err in results:
        assert code == 0 or (code == 1 and one_line(err) and "another" in err), (code, out, err)


# --- Versions -----------------------------------------------------------------------------------------------------


def test_a_database_newer_than_the_bridge_is_refused_in_one_line(database: Database, tmp_path: Path) -> None:
    database.paste(SETUP_SQL.read_text(encoding="utf-8"))
    with database.connect("postgres") as conn:
        conn.execute("INSERT INTO vault_bridge.schema_migrations (version, description) VALUES (99, 'a future bridge')")
        conn.commit()
    before = snapshot(database)
    for args in ((), ("--dry-run",), ("--json",)):
        done = bridge_setup(setup_env(tmp_path, url(database)), *args)
        assert done.returncode == 1 and one_line(done.stderr) and "newer than this bridge" in done.stderr, done.stderr
        assert done.stdout == ""
    assert snapshot(database) == before


@pytest.mark.parametrize("body", ["RETURNS text LANGUAGE sql AS $$ SELECT 'eight' $$",
                                  "RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'not the bridge'; END $$",
                                  "RETURNS text LANGUAGE sql AS $$ SELECT NULL::text $$"],
                         ids=["text", "raises", "null-text"])
def test_a_foreign_vault_bridge_version_is_one_clear_line(database: Database, tmp_path: Path, body: str) -> None:
    """Someone else's public.vault_bridge_version() (another tool, a half-manual install): bridge setup must say
    in one line what it found, not fail with an internal error, and change nothing."""
    with database.connect("postgres") as conn:
        conn.execute(f"CREATE FUNCTION public.vault_bridge_version() {body}")
        conn.commit()
    before = snapshot(database)
    for args in (("--dry-run",), ()):
        done = bridge_setup(setup_env(tmp_path, url(database)), *args)
        assert done.returncode == 1 and one_line(done.stderr), done.stderr
        assert "internal error" not in done.stderr and "vault_bridge_version" in done.stderr, done.stderr
    assert snapshot(database) == before


def test_bridge_setup_repairs_what_the_setup_fix_sends_it_to(database: Database, tmp_path: Path) -> None:
    """A project whose version record says current but which lacks a function (dropped by hand, a restore of part
    of the schema): every call then fails with SetupMissing, whose fix (vault/errors.py SETUP_FIX) names
    `bridge setup` first. The version alone says "up to date", so the advice is a dead end."""
    database.paste(SETUP_SQL.read_text(encoding="utf-8"))
    with database.connect("postgres") as conn:
        conn.execute("DROP FUNCTION public.resolve_secrets(text[])")
        conn.commit()
    done = bridge_setup(setup_env(tmp_path, url(database)))
    assert done.returncode == 0, done.stderr
    with database.connect("postgres") as conn:
        restored = conn.execute("SELECT to_regprocedure('public.resolve_secrets(text[])') IS NOT NULL").fetchone()
    assert restored == (True,), f"bridge setup said {done.stdout!r} and left public.resolve_secrets missing"


def test_a_foreign_vault_access_log_is_not_taken_for_a_first_release_install(database: Database, tmp_path: Path) -> None:
    """public.vault_access_log is a plain name another app may use; with no version record bridge setup takes it
    for schema version 1 and runs steps 2.. over that table."""
    with database.connect("postgres") as conn:
        conn.execute("CREATE TABLE public.vault_access_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                     "door text NOT NULL, opened_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO public.vault_access_log (door) VALUES ('front'), ('back')")
        conn.commit()
    dry = bridge_setup(setup_env(tmp_path, url(database)), "--dry-run")
    assert "schema version 1 ->" not in dry.stdout, dry.stdout
    before = snapshot(database)
    done = bridge_setup(setup_env(tmp_path, url(database)))
    assert done.returncode == 1 and one_line(done.stderr) and "vault_access_log" in done.stderr, done.stderr
    assert snapshot(database) == before


def test_a_planted_schema_migrations_table_is_refused(database: Database, tmp_path: Path) -> None:
    with database.connect("postgres") as conn:
        conn.execute("CREATE SCHEMA vault_bridge")
        conn.execute("CREATE TABLE vault_bridge.schema_migrations (version integer PRIMARY KEY)")
        conn.execute("INSERT INTO vault_bridge.schema_migrations VALUES (99)")
        conn.commit()
    before = snapshot(database)
    done = bridge_setup(setup_env(tmp_path, url(database)))
    assert done.returncode == 1 and one_line(done.stderr), done.stderr
    assert snapshot(database) == before


# --- --dry-run ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [0, 1, 5, SCHEMA_VERSION], ids=lambda v: f"at-v{v}")
def test_dry_run_changes_nothing(database: Database, tmp_path: Path, start: int) -> None:
    if start == SCHEMA_VERSION:
        database.paste(SETUP_SQL.read_text(encoding="utf-8"))
    elif start:
        install_release(database, start)
    before = snapshot(database)
    for args in (("--dry-run",), ("--dry-run", "--json")):
        done = bridge_setup(setup_env(tmp_path, url(database)), *args)
        assert done.returncode == 0, done.stderr
    assert snapshot(database) == before


# --- sql/build.py and the migrations ------------------------------------------------------------------------------


def load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sql_build_under_attack", REPO / "sql" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_migration_quote_inside_setup_sql_is_refused_or_still_runs(database: Database) -> None:
    """build.py refuses a setup.sql holding $setup_vN$ but not one holding $migration$, the DO block's own quote: a
    comment that mentions it ends the block early and the migration no longer parses (or runs the rest bare)."""
    build = load_build()
    setup = ("CREATE TABLE public.built_here (note text);\n"
             "-- each migration wraps this file in DO $migration$ ... $migration$\n"
             "INSERT INTO public.built_here VALUES ('ran');\n")
    try:
        text = build.migration(SCHEMA_VERSION + 1, setup)
    except SystemExit:
        return
    applied = database.psql("postgres", text)
    assert applied.returncode == 0, applied.stderr
    with database.connect("postgres") as conn:
        assert conn.execute("SELECT note FROM public.built_here").fetchall() == [("ran",)]


def test_a_setup_sql_holding_its_own_migration_quote_is_refused() -> None:
    build = load_build()
    with pytest.raises(SystemExit, match=r"\$setup_v9_1\$"):
        build.migration(9, "SELECT 'closes early: $setup_v9_1$';\n")


def copy_of_repo(tmp_path: Path) -> Path:
    """What sql/build.py reads and writes, copied, so an attack can tamper with it."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "sql", root / "sql", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "supabase", root / "supabase")
    (root / "bridge").mkdir()
    shutil.copy(REPO / "bridge" / "__init__.py", root / "bridge" / "__init__.py")
    shutil.copy(SETUP_SQL, root / "setup.sql")
    return root


def check(root: Path) -> subprocess.CompletedProcess[str]:
    """build.py --check on the copy, reading released setup.sql files from this repository's git history."""
    import os

    return subprocess.run([sys.executable, str(root / "sql" / "build.py"), "--check"], capture_output=True, text=True,
                          check=False, timeout=120, env={**os.environ, "GIT_DIR": str(REPO / ".git")})


def migration_path(root: Path, version: int) -> Path:
    (found,) = (root / "supabase" / "migrations").glob(f"*_bridge_schema_v{version}.sql")
    return found


def test_build_check_passes_on_the_committed_tree(tmp_path: Path) -> None:
    done = check(copy_of_repo(tmp_path))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("tamper", ["edit-guard", "append-statement", "edit-body"])
def test_build_check_catches_a_hand_edited_earlier_migration(tmp_path: Path, tamper: str) -> None:
    """Migrations are append-only: a project that already pushed v3 never runs it again, so an edit to it reaches
    only new projects; --check compares the newest migration alone."""
    root = copy_of_repo(tmp_path)
    path = migration_path(root, 3)
    text = path.read_text(encoding="utf-8")
    if tamper == "edit-guard":
        text = text.replace("IF v_installed > 3 THEN", "IF v_installed > 99 THEN")
    elif tamper == "append-statement":
        text += "GRANT ALL ON ALL TABLES IN SCHEMA vault_bridge TO anon;\n"
    else:
        text = text.replace("REVOKE ALL ON SCHEMA vault_bridge FROM PUBLIC", "GRANT USAGE ON SCHEMA vault_bridge TO PUBLIC", 1)
    assert text != path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert check(root).returncode == 1


def test_build_check_catches_a_renamed_earlier_migration(tmp_path: Path) -> None:
    """supabase db push keys applied migrations by timestamp: renaming one that projects already applied makes
    the next push refuse ("Remote migration versions not found in local migrations directory")."""
    root = copy_of_repo(tmp_path)
    path = migration_path(root, 3)
    path.rename(path.with_name(path.name[:12] + "59" + path.name[14:]))
    assert check(root).returncode == 1


@pytest.mark.parametrize("tamper", ["missing-middle", "out-of-order", "stray-file", "duplicate-version"])
def test_build_check_catches_a_broken_migrations_directory(tmp_path: Path, tamper: str) -> None:
    root = copy_of_repo(tmp_path)
    migrations = root / "supabase" / "migrations"
    v3, v4 = migration_path(root, 3), migration_path(root, 4)
    if tamper == "missing-middle":
        v3.unlink()
    elif tamper == "out-of-order":
        v3.rename(v3.with_name(str(int(v4.name[:14]) + 1) + v3.name[14:]))
    elif tamper == "stray-file":
        (migrations / "20991231000000_hotfix.sql").write_text("SELECT 1;\n", encoding="utf-8")
    else:
        shutil.copy(v3, migrations / (str(int(v3.name[:14]) + 1) + v3.name[14:]))
    done = check(root)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("sql/build.py: "), done.stderr


# --- supabase db push ---------------------------------------------------------------------------------------------


def test_supabase_db_push_over_a_planted_version_record_is_not_a_silent_success(database: Database, tmp_path: Path) -> None:
    """A vault_bridge.schema_migrations the bridge did not write (max 99): the SQL editor paste and bridge setup
    refuse; each migration's guard reads it, says "nothing to do", and the push reports success with no bridge."""
    from tests.support.supabase_cli import ensure_supabase_cli

    with database.connect("postgres") as conn:
        conn.execute("CREATE SCHEMA vault_bridge")
        conn.execute("CREATE TABLE vault_bridge.schema_migrations (version integer PRIMARY KEY)")
        conn.execute("INSERT INTO vault_bridge.schema_migrations VALUES (99)")
        conn.commit()
    pushed = ensure_supabase_cli().run(["db", "push", "--db-url", url(database) + "?sslmode=disable", "--yes"],
                                       cwd=REPO, home=tmp_path)
    with database.connect("supabase_admin") as admin:
        installed = admin.execute("SELECT to_regprocedure('public.resolve_secrets(text[])') IS NOT NULL").fetchone()
    assert pushed.returncode != 0 or installed == (True,), pushed.stdout + pushed.stderr


def test_the_docs_never_show_the_database_password_as_a_command_line_argument() -> None:
    """`supabase db push --db-url postgresql://postgres:PASSWORD@...` puts the password in argv, which every local
    user can read (ps); `supabase link` asks for it, or takes SUPABASE_DB_PASSWORD from the environment."""
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = " ".join(doc.read_text(encoding="utf-8").split())
        for shown in re.finditer(r"--db-url \"?postgres(?:ql)?://[^\s\"`]*", text):
            assert not re.search(r"://[^/@\s]*:[^/@\s]+@", shown.group()), f"{doc.name}: {shown.group()}"
