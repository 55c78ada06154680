"""Act as PostgREST does: switch role per request and expose claims and headers as settings."""

from __future__ import annotations

import json
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
