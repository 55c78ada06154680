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
"""The whole run's bound once connected: setup.sql takes seconds; a lock held elsewhere must not hang it."""
VERIFIED_MODES = ("verify-full", "verify-ca")
STEP = re.compile(r"^-- Version (\d+): (.*)$", re.MULTILINE)
"""How setup.sql titles each versioned step (section 4): the one place the steps are listed."""
CA_FIX = ("download your project's CA certificate (Dashboard > Project Settings > Database > SSL Configuration) "
          "and add sslrootcert=/path/to/prod-ca-2021.crt to SUPABASE_DB_URL, or sslrootcert=system for the system store")


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
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connection_args(url: str) -> dict[str, str]:
    """The connection's parameters, with TLS verified unless every host is on this machine; one line if not."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items() if value is not None}
    except Exception:  # noqa: BLE001 - psycopg's message may quote the password
        raise UsageError(f"{ENV_DB_URL} is not a Postgres connection string (postgresql://USER:PASSWORD@HOST:PORT/DB)") from None
    local = all(is_loopback(host) for host in params.get("host", "").split(","))
    mode = params.get("sslmode")
    if mode is None:
        params["sslmode"] = "prefer" if local else "verify-full"
    elif not local and mode not in VERIFIED_MODES:
        raise UsageError(f"{ENV_DB_URL} asks for sslmode={mode}, which does not check whose server answers; "
                         f"use sslmode=verify-full: {CA_FIX}")
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params["options"] = f"{params.get('options', '')} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
    params.setdefault("application_name", "bridge setup")
    return params


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg
    from psycopg.conninfo import make_conninfo

    params = connection_args(url)
    try:
        return psycopg.connect(make_conninfo(**params))
    except psycopg.OperationalError as exc:
        raise BridgeError(connect_problem(str(exc), params)) from None


def connect_problem(message: str, params: dict[str, str]) -> str:
    """One line for a failed connection, naming the fix; never the password (libpq's message never holds it)."""
    where = f"{params.get('host', 'localhost')}:{params.get('port', '5432')}"
    first = message.strip().splitlines()[0] if message.strip() else "no answer"
    if "root certificate file" in message or "certificate verify failed" in message:
        return f"cannot verify the TLS certificate of {where} ({first}); {CA_FIX}"
    if "password authentication failed" in message:
        return f"the database at {where} refused the password; copy the connection string again (Dashboard > Connect)"
    return f"cannot connect to the database at {where}: {first}"


def installed_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The schema version the database has: 0 for none, 1 for the first release (which kept no record)."""
    row = conn.execute(
        "SELECT to_regprocedure('public.vault_bridge_version()') IS NOT NULL, "
        "to_regclass('public.vault_access_log') IS NOT NULL").fetchone()
    has_version, has_log = row if row else (False, False)
    if has_version:
        found = conn.execute("SELECT public.vault_bridge_version()").fetchone()
        return int(found[0]) if found and found[0] is not None else 0
    return 1 if has_log else 0


def plan(installed: int, sql: str) -> Plan:
    if installed > SCHEMA_VERSION:
        raise BridgeError(f"the database has schema version {installed}, newer than this bridge's {SCHEMA_VERSION}: "
                          "upgrade the bridge (./install.sh) before running bridge setup")
    return Plan(installed, SCHEMA_VERSION, [step for step in steps_of(sql) if step.version > installed])


def handle_setup(args: argparse.Namespace, ctx: Context) -> int:
    import psycopg

    sql = setup_sql()
    with connect(read_db_url(ctx)) as conn:
        todo = plan(installed_version(conn), sql)
        if not args.dry_run and todo.steps:
            try:
                with conn.transaction():
                    conn.execute(sql.encode())  # one script, as the SQL editor runs it
            except psycopg.Error as exc:
                detail = (exc.diag.message_primary or type(exc).__name__) if exc.diag else type(exc).__name__
                raise BridgeError(f"setup.sql failed and nothing was changed: {detail}; run bridge doctor, "
                                  "or paste setup.sql into the SQL editor to see where") from None
            now = installed_version(conn)
            if now != todo.target:
                raise BridgeError(f"setup.sql ran but the database reports schema version {now}, not {todo.target}")
    report(todo, args, ctx)
    return 0


def report(todo: Plan, args: argparse.Namespace, ctx: Context) -> None:
    applied = not args.dry_run and bool(todo.steps)
    if args.json:
        ctx.out.write(json.dumps(todo.as_json(applied), indent=2) + "\n")
        return
    if not todo.steps:
        print(f"schema version {todo.target}: up to date", file=ctx.out)
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
        "SUPABASE_DB_URL='postgresql://postgres:...@db.REF.supabase.co:5432/postgres?sslrootcert=prod-ca-2021.crt' "
        "bridge setup --dry-run",
        handle_setup, add_arguments,
    ),
}
