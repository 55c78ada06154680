"""Act as PostgREST does: switch role per request and expose claims and headers as settings; call setup.sql's
functions that way."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

import psycopg
from psycopg import sql

API_ROLES = ("anon", "authenticated", "service_role")


def become(
    conn: psycopg.Connection,
    role: str,
    *,
    sub: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Switch the current transaction to `role` with request.jwt.claims and request.headers, as PostgREST does."""
    claims: dict[str, Any] = {"role": role}
    if sub is not None:
        claims["sub"] = sub
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    conn.execute(
        "SELECT set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
        (json.dumps(claims), json.dumps(headers or {})),
    )


def call(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one call inside a savepoint so an expected error leaves the test's transaction usable."""
    with conn.transaction():
        return conn.execute(query, params).fetchall()


def new_token() -> tuple[str, str]:
    """A gateway token and the sha256 the database keeps of it."""
    token = "ocbt_" + secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def mint(conn: psycopg.Connection, tenant: str, name: str, allow: list[str] | None = None,
         expires: dt.datetime | None = None) -> str:
    """A new gateway token for `tenant`, created by the caller's role (service_role or the owner)."""
    token, digest = new_token()
    call(conn, "SELECT public.create_gateway_token(%s, %s, %s, %s, %s)", (tenant, name, digest, ["*"] if allow is None else allow, expires))
    return token


def resolve_with_token(conn: psycopg.Connection, token: str, names: list[str]) -> dict[str, str]:
    """What a gateway gets for `names` with `token` (as anon, the publishable key); service_role again afterwards."""
    become(conn, "anon")
    try:
        values: dict[str, str] = call(conn, "SELECT public.resolve_secrets_with_token(%s, %s)", (token, names))[0][0]
        return values
    finally:
        become(conn, "service_role")


def refused_with_token(conn: psycopg.Connection, token: str | None, names: list[str]) -> dict[str, Any]:
    """How a refused token's resolve ends, as PostgREST would answer it: raised (rolled back) or returned with
    response.status (committed, so its audit row stays). {"status", "code", "hint", "raised"}; service_role again afterwards."""
    become(conn, "anon")
    try:
        with conn.transaction():
            (answer,) = conn.execute("SELECT public.resolve_secrets_with_token(%s, %s)", (token, names)).fetchone() or (None,)
            (status,) = conn.execute("SELECT current_setting('response.status', true)").fetchone() or ("",)
            conn.execute("SELECT set_config('response.status', '', true)")
        return {"status": int(status or 200), "code": answer.get("code"), "hint": answer.get("hint"), "raised": False}
    except psycopg.Error as exc:
        return {"status": 401 if exc.sqlstate == "PT401" else 400, "code": exc.sqlstate, "hint": exc.diag.message_hint,
                "raised": True}
    finally:
        become(conn, "service_role")
