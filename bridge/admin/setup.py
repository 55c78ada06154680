"""`bridge setup [--dry-run] [--json]`: install or upgrade the database side over a direct Postgres connection.

The third way to apply setup.sql, beside pasting it into the SQL editor and `supabase db push`: the same file
(shipped inside the package), run as the `postgres` role in one transaction, so a failure changes nothing. It
needs the database password, so the connection string comes from SUPABASE_DB_URL or a hidden prompt, never
argv (every local user can read a process's argv). TLS is verified (`sslmode=verify-full`) unless the server is
on this machine; Supabase signs its database certificates with its own CA, which the user downloads from the
dashboard and names with `sslrootcert=`. psycopg is imported here only: no resolve ever loads it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
from collections.abc import MutableMapping
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

from bridge import SCHEMA_VERSION
from bridge.app.verbs import Verb, add_dry_run, add_json
from bridge.core.errors import BridgeError, UsageError

if TYPE_CHECKING:
    import psycopg

    from bridge.app.context import Context

ENV_DB_URL = "SUPABASE_DB_URL"
CONNECT_TIMEOUT_S = 15
STATEMENT_TIMEOUT_MS = 300_000
"""The whole run's bound once connected: setup.sql takes seconds."""
LOCK_TIMEOUT_MS = 10_000
"""How long setup.sql waits for a lock another session holds (a long query on the audit log) before saying so."""
VERIFIED_MODES = ("verify-full", "verify-ca")
REQUIRE_AUTH = "scram-sha-256,none"
"""Never hand the password to a server that asks for it in clear text or as MD5: a process squatting a loopback
port would get it. Supabase asks for SCRAM; a local test server may ask for nothing."""
KEPT_PG_ENV = ("PGPASSWORD", "PGPASSFILE", "PGCONNECT_TIMEOUT")
"""The libpq environment variables bridge setup honours; every other PG* one (PGHOST, PGHOSTADDR, PGSERVICE,
PGSSLMODE, ...) would change where it connects or how, behind the URL the TLS rule judged."""
SETUP_LOCK = 0x62726964_6765
"""pg_advisory_xact_lock key ("bridge" in ASCII): two bridge setup runs on one database take turns."""
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+")
STEP = re.compile(r"^-- Version (\d+): (.*)$", re.MULTILINE)
"""How setup.sql titles each versioned step (section 3): the one place the steps are listed."""
CA_FIX = ("download your project's CA certificate (Dashboard > Project Settings > Database > SSL Configuration) "
          "and add sslrootcert=/path/to/prod-ca-2021.crt to SUPABASE_DB_URL, or sslrootcert=system for the system store")
ENCODE_FIX = "percent-encode any @ / : ? # in the password (for example @ as %40)"


class Step(NamedTuple):
    version: int
    title: str


class Plan(NamedTuple):
    installed: int
    target: int
    steps: list[Step]

    def as_json(self, applied: bool) -> dict[str, Any]:
        return {"installed": self.installed, "target": self.target, "applied": applied,
                "steps": [step._asdict() for step in self.steps]}


def setup_sql() -> str:
    return (resources.files("bridge") / "setup.sql").read_text(encoding="utf-8")


def steps_of(sql: str) -> list[Step]:
    return [Step(int(number), title.strip()) for number, title in STEP.findall(sql)]


def read_db_url(ctx: Context) -> str:
    """SUPABASE_DB_URL, or the connection string typed at a hidden prompt: it holds the database password."""
    url = ctx.env.get(ENV_DB_URL, "").strip()
    if url:
        return url
    stdin = ctx.stdin
    if stdin is None or not stdin.isatty():
        raise UsageError(f"set {ENV_DB_URL} to the project's connection string (Dashboard > Connect > Direct connection), "
                         "or run bridge setup on a terminal to type it at a hidden prompt; never on the command line")
    import getpass

    url = getpass.getpass("Postgres connection string (postgresql://postgres:PASSWORD@db.REF.supabase.co:5432/postgres): ").strip()
    if not url:
        raise UsageError("no connection string given")
    return url


def is_loopback(host: str) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True  # no host, or a Unix socket directory: this machine
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def connection_args(url: str) -> dict[str, str]:
    """The connection's parameters, with TLS verified unless the server is on this machine; one line if not. Only
    what the URL says decides where libpq connects: bridge setup clears the libpq environment (clean_pg_env)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items() if value is not None}
    except Exception:  # noqa: BLE001 - psycopg's message may quote the password
        raise UsageError(f"{ENV_DB_URL} is not a Postgres connection string (postgresql://USER:PASSWORD@HOST:PORT/DB); "
                         f"{ENCODE_FIX}") from None
    for name in ("service", "hostaddr"):
        if name in params:
            raise UsageError(f"{ENV_DB_URL} sets {name}=, which bridge setup does not take: name the server with its "
                             "host (postgresql://USER:PASSWORD@HOST:PORT/DB)")
    if "sslmode" in params.get("options", ""):
        raise UsageError(f"{ENV_DB_URL} sets sslmode inside options=; give it as sslmode= (verify-full for a remote host)")
    hosts = params.get("host", "").split(",")
    if len(hosts) > 1:
        raise UsageError(f"{ENV_DB_URL} names several hosts; give the one database bridge setup installs into")
    host = hosts[0]
    if host and not host.startswith("/") and not HOST_NAME.fullmatch(host):
        raise UsageError(f"the host part of {ENV_DB_URL} is not a host name; {ENCODE_FIX}")
    port = params.get("port", "")
    if port and not port.isdigit():
        raise UsageError(f"the port part of {ENV_DB_URL} is not a number; {ENCODE_FIX}")
    local = is_loopback(host)
    mode = params.get("sslmode")
    if mode is None:
        params["sslmode"] = "prefer" if local else "verify-full"
    elif not local and mode not in VERIFIED_MODES:
        raise UsageError(f"{ENV_DB_URL} asks for sslmode={mode}, which does not check whose server answers; "
                         f"use sslmode=verify-full: {CA_FIX}")
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params["require_auth"] = REQUIRE_AUTH
    params["options"] = (f"{params.get('options', '')} -c statement_timeout={STATEMENT_TIMEOUT_MS} "
                         f"-c lock_timeout={LOCK_TIMEOUT_MS}").strip()
    params.setdefault("application_name", "bridge setup")
    return params


def clean_pg_env(environ: MutableMapping[str, str]) -> None:
    """Drop every libpq variable but the password's: libpq fills from them whatever the URL leaves out."""
    for name in [name for name in environ if name.startswith("PG") and name not in KEPT_PG_ENV]:
        del environ[name]


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    import os

    import psycopg
    from psycopg.conninfo import make_conninfo

    params = connection_args(url)
    clean_pg_env(os.environ)
    try:
        conn = psycopg.connect(make_conninfo(**params))
    except psycopg.Error as exc:
        raise BridgeError(connect_problem(str(exc), params)) from None
    where = conn.info.hostaddr or conn.info.host
    if not is_loopback(where) and not conn.pgconn.ssl_in_use:
        conn.close()
        raise BridgeError(f"the database at {conn.info.host} answered without TLS; nothing was sent; {CA_FIX}")
    return conn


def connect_problem(message: str, params: dict[str, str]) -> str:
    """One line for a failed connection, naming the fix; never the password (scrubbed, should libpq quote it)."""
    password = params.get("password", "")
    where = f"{params.get('host') or 'localhost'}:{params.get('port', '5432')}"
    lines = message.strip().splitlines()
    first = lines[0] if lines else "no answer"
    if password:
        first = first.replace(password, "[password]")
    if "root certificate file" in message or "certificate verify failed" in message:
        return f"cannot verify the TLS certificate of {where} ({first}); {CA_FIX}"
    if "password authentication failed" in message:
        return f"the database at {where} refused the password; copy the connection string again (Dashboard > Connect)"
    if "authentication method requirement" in message:
        return (f"the server at {where} asked for the password in a form bridge setup never sends (clear text or MD5); "
                "is the URL's host and port your database?")
    if "invalid" in first and "connection option" in first:
        return f"{ENV_DB_URL}: {first}"
    return f"cannot connect to the database at {where}: {first}"


def installed_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The schema version the database has, from the bridge's own record: 0 for none, 1 for the first release
    (which kept no record but left its audit log). Anything there that is not the bridge's is one line."""
    import psycopg

    try:
        row = conn.execute(
            "SELECT to_regclass('vault_bridge.schema_migrations') IS NOT NULL, "
            "to_regclass('public.vault_access_log') IS NOT NULL, "
            "(SELECT p.prorettype = 'integer'::regtype FROM pg_catalog.pg_proc AS p "
            " WHERE p.oid = to_regprocedure('public.vault_bridge_version()'))").fetchone()
        has_record, has_log, version_function = row if row else (False, False, None)
        if version_function is False or (version_function and not has_record and not has_log):
            raise BridgeError("public.vault_bridge_version() exists and is not the bridge's (another tool's function of "
                              "that name): nothing was changed; use a dedicated project, or drop that function")
        if has_record:
            found = conn.execute("SELECT max(version)::integer FROM vault_bridge.schema_migrations").fetchone()
            return int(found[0]) if found and found[0] is not None else 0
        if has_log:
            ours = conn.execute(
                "SELECT count(*) = 4 FROM pg_catalog.pg_attribute WHERE attrelid = 'public.vault_access_log'::regclass "
                "AND attname IN ('accessed_at', 'secret_name', 'access_type', 'success') AND NOT attisdropped").fetchone()
            if not (ours and ours[0]):
                raise BridgeError("public.vault_access_log exists and is not the bridge's audit log: this database holds "
                                  "another app's table of that name; use a dedicated project, or rename that table")
            return 1
        return 0
    except psycopg.Error as exc:
        conn.rollback()
        raise BridgeError(f"cannot read the bridge's schema version ({exc.diag.message_primary or type(exc).__name__}): "
                          "vault_bridge.schema_migrations is not the bridge's") from None


def plan(installed: int, sql: str) -> Plan:
    if installed > SCHEMA_VERSION:
        raise BridgeError(f"the database has schema version {installed}, newer than this bridge's {SCHEMA_VERSION}: "
                          "upgrade the bridge (./install.sh) before running bridge setup")
    return Plan(installed, SCHEMA_VERSION, [step for step in steps_of(sql) if step.version > installed])


def handle_setup(args: argparse.Namespace, ctx: Context) -> int:
    sql = setup_sql()
    with connect(read_db_url(ctx)) as conn:
        todo = plan(installed_version(conn), sql)
        if not args.dry_run:
            todo = apply(conn, sql)
    report(todo, args, ctx)
    return 0


def apply(conn: psycopg.Connection[tuple[Any, ...]], sql: str) -> Plan:
    """setup.sql in one transaction, after the lock two runs share and the version read under it: a second run
    that waited finds the work done. Run even when up to date: it puts back a function or grant that was lost."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            todo = plan(installed_version(conn), sql)
            conn.execute(sql.encode())  # one script, as the SQL editor runs it
    except psycopg.errors.LockNotAvailable:
        raise BridgeError(f"another session held a lock setup.sql needs for {LOCK_TIMEOUT_MS // 1000} s (a long query "
                          "on the audit log?); nothing was changed; run bridge setup again") from None
    except psycopg.Error as exc:
        detail = (exc.diag.message_primary or type(exc).__name__) if exc.diag else type(exc).__name__
        raise BridgeError(f"setup.sql failed and nothing was changed: {detail}; run bridge doctor, "
                          "or paste setup.sql into the SQL editor to see where") from None
    now = installed_version(conn)
    if now != todo.target:
        raise BridgeError(f"setup.sql ran but the database reports schema version {now}, not {todo.target}")
    return todo


def report(todo: Plan, args: argparse.Namespace, ctx: Context) -> None:
    applied = not args.dry_run and bool(todo.steps)
    if args.json:
        ctx.out.write(json.dumps(todo.as_json(applied), indent=2) + "\n")
        return
    if not todo.steps:
        repaired = "" if args.dry_run else " (functions, grants and comments re-applied)"
        print(f"schema version {todo.target}: up to date{repaired}", file=ctx.out)
        return
    if args.dry_run:
        print(f"schema version {todo.installed} -> {todo.target} (dry run: nothing was changed); the steps:", file=ctx.out)
        for step in todo.steps:
            print(f"  {step.version}: {step.title}", file=ctx.out)
        return
    print(f"schema version {todo.installed} -> {todo.target}", file=ctx.out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)
    add_json(parser)


VERBS = {
    "setup": Verb(
        "setup", "install or upgrade the database side (setup.sql) over SUPABASE_DB_URL, in one transaction",
        "bridge setup --dry-run    # with SUPABASE_DB_URL set, or type the connection string at the prompt\n"
        "  bridge setup --json",
        handle_setup, add_arguments,
    ),
}
