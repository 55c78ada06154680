"""A PostgREST-compatible endpoint over the test PostgreSQL (tests only).

It does what Supabase's API gateway and PostgREST do for
`POST /rest/v1/rpc/<function>`: checks the `apikey` header (legacy JWTs and
`sb_secret_`/`sb_publishable_` keys), refuses secret keys from browser-like
user agents, switches to the key's role as `authenticator` with
request.jwt.claims and request.headers set, calls the function with named
arguments, and answers with PostgREST's status codes and error body shape
({"code","message","details","hint"}).

Runs in a thread inside pytest, or standalone for the benchmark:
    python -m tests.support.postgrest --conninfo "..." --port 54321
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

JWT_SECRET = b"test-jwt-secret-with-at-least-32-characters!"
RPC_PREFIX = "/rest/v1/rpc/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(role: str, secret: bytes = JWT_SECRET) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"iss": "supabase", "ref": "testproject", "role": role, "iat": 1700000000, "exp": 4100000000}).encode())
    signature = _b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def verify_jwt(token: str) -> dict[str, Any] | None:
    try:
        header, payload, signature = token.split(".")
        expected = _b64(hmac.new(JWT_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class ProjectKeys:
    """One project's keys, as the Supabase dashboard shows them."""

    service_role_jwt: str = field(default_factory=lambda: make_jwt("service_role"))
    anon_jwt: str = field(default_factory=lambda: make_jwt("anon"))
    secret: str = field(default_factory=lambda: "sb_secret_" + secrets.token_urlsafe(24))
    publishable: str = field(default_factory=lambda: "sb_publishable_" + secrets.token_urlsafe(24))


def _status_for(sqlstate: str, role: str) -> int:
    """PostgREST's SQLSTATE -> HTTP status table."""
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500}
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    prefixes = {
        "08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500, "39": 500,
        "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500, "F0": 500, "HV": 500,
        "P0": 500, "XX": 500,
    }
    return prefixes.get(sqlstate[:2], 400)


class Endpoint:
    def __init__(self, conninfo: str, keys: ProjectKeys, port: int = 0) -> None:
        self.conninfo = conninfo
        self.keys = keys
        self.calls = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Endpoint:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def role_for(self, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | str:
        """The role a request runs as, or (status, error body) as the gateway would refuse it."""
        apikey = headers.get("apikey")
        if not apikey:
            return 401, {"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."}
        if apikey.startswith("sb_"):
            if apikey == self.keys.secret:
                if "mozilla" in headers.get("user-agent", "").lower():
                    return 401, {"message": "Forbidden use of secret API key in browser", "hint": "Secret API keys can only be used in a protected environment and should never be used in a browser."}
                role = "service_role"
            elif apikey == self.keys.publishable:
                role = "anon"
            else:
                return 401, {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}
            if "authorization" in headers:
                return 401, {"code": "PGRST301", "message": "Expected 3 parts in JWT; got 1", "details": None, "hint": None}
            return role
        claims = verify_jwt(apikey)
        if claims is None:
            return 401, {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}
        auth = headers.get("authorization", "")
        if auth:
            bearer = verify_jwt(auth.removeprefix("Bearer "))
            if bearer is None:
                return 401, {"code": "PGRST301", "message": "JWSError JWSInvalidSignature", "details": None, "hint": None}
            claims = bearer
        return str(claims.get("role", "anon"))

    def call(self, function: str, args: dict[str, Any], role: str, headers: dict[str, str]) -> tuple[int, Any]:
        self.calls += 1
        with psycopg.connect(self.conninfo, user="authenticator", autocommit=False) as conn:
            # proargnames also holds OUT and TABLE columns; only input
            # arguments (modes i, b, v; no proargmodes means all input) are
            # callable by name, in the order of proargtypes.
            proc = conn.execute(
                """
                SELECT p.oid, p.proretset, p.prorettype = 'void'::regtype,
                       CASE WHEN p.proargmodes IS NULL THEN coalesce(p.proargnames, '{}')
                            ELSE ARRAY(SELECT a.name FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, n)
                                       WHERE a.mode IN ('i', 'b', 'v') ORDER BY a.n) END,
                       p.proargtypes::regtype[]::text[], p.pronargdefaults
                FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = %s
                """,
                (function,),
            ).fetchall()
            match = next((p for p in proc if set(args) <= set(p[3]) and len(p[3]) - p[5] <= len(args)), None)
            if match is None:
                params = ", ".join(sorted(args))
                return 404, {
                    "code": "PGRST202",
                    "details": f"Searched for the function public.{function} with parameters {params} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
                    "hint": None,
                    "message": f"Could not find the function public.{function}({params}) in the schema cache",
                }
            _, returns_set, returns_void, names, types, _ = match
            type_of = dict(zip(names, types, strict=False))  # unnamed arguments leave names shorter than types
            call = sql.SQL("public.{}({})").format(
                sql.Identifier(function),
                sql.SQL(", ").join(
                    sql.SQL("{} => {}::{}").format(sql.Identifier(k), sql.Placeholder(), sql.SQL(type_of[k])) for k in args
                ),
            )
            query = (
                sql.SQL("SELECT coalesce(json_agg(t), '[]') FROM {} AS t").format(call) if returns_set
                else sql.SQL("SELECT to_json({})").format(call)
            )
            try:
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
                conn.execute(
                    "SELECT set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true), "
                    "set_config('request.method', 'POST', true), set_config('request.path', %s, true)",
                    (json.dumps({"role": role}), json.dumps(headers), RPC_PREFIX + function),
                )
                # A JSON argument arrives as the JSON it was in the body, as PostgREST passes it.
                values = [Jsonb(v) if type_of[k] in ("json", "jsonb") and v is not None else v for k, v in args.items()]
                [(result,)] = conn.execute(query, values).fetchall()  # one row: an aggregate or a scalar call
                # PostgREST 8+ answers with the status a function set in response.status, and commits (PR #1541).
                [(status,)] = conn.execute("SELECT current_setting('response.status', true)").fetchall()
                conn.commit()
            except psycopg.Error as exc:
                conn.rollback()
                diag = exc.diag
                state = exc.sqlstate or "XX000"
                return _status_for(state, role), {
                    "code": state, "details": diag.message_detail, "hint": diag.message_hint,
                    "message": diag.message_primary or str(exc),
                }
        if status:
            return int(status), result
        if returns_void:
            return 204, None
        return 200, result

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
                return

            def _send(self, status: int, body: Any) -> None:
                payload = b"" if status == 204 else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not self.path.startswith(RPC_PREFIX):
                    self._send(404, {"message": "no Route matched with those values"})
                    return
                role = endpoint.role_for(headers)
                if isinstance(role, tuple):
                    self._send(*role)
                    return
                try:
                    args = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"code": "PGRST102", "details": None, "hint": None, "message": "Empty or invalid json"})
                    return
                self._send(*endpoint.call(self.path[len(RPC_PREFIX):], args, role, headers))

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args()
    endpoint = Endpoint(args.conninfo, ProjectKeys(secret=args.secret_key), args.port)
    print(endpoint.url, flush=True)
    endpoint.server.serve_forever()


if __name__ == "__main__":
    main()
