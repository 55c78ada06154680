"""`bridge secrets` and `bridge audit` as people run them: real processes against the real database and endpoint.

Every test greps every output for the values it stored: only `secrets get`
may ever print one, on stdout, followed by one newline.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from bridge.admin.secrets import LS_COLUMNS
from tests.support.bridge_proc import BRIDGE, Result, request, run_bridge
from tests.support.hostile import HostileServer, http_response
from tests.support.pg import PgCluster, forget, one
from tests.support.terminal import on_a_terminal

VALUE = "sk-proj-ADMIN-first-3f1e"
ROTATED = "sk-proj-ADMIN-rotated-77aa"
PROMPTED = "sk-proj-ADMIN-typed-9d0c"


def vault_id(pg: PgCluster, name: str) -> str | None:
    with pg.connect("postgres", autocommit=True) as conn:
        row = conn.execute("SELECT id::text FROM vault.secrets WHERE name = %s", (name,)).fetchone()
    return row[0] if row else None


def no_value_in(result: Result, *values: str) -> None:
    for value in values:
        assert value not in result.all_output()


def bridge_on_a_terminal(args: list[str], env: dict[str, str], prompt: bytes, typed: bytes) -> tuple[int, str]:
    return on_a_terminal([str(BRIDGE), *args], env, prompt, typed)


def test_set_creates_then_rotates_keeping_the_vault_id_and_get_prints_only_the_value(
    pg: PgCluster, env_bootstrap: dict[str, str]
) -> None:
    forget(pg, "ADMIN_A")
    try:
        created = run_bridge(["secrets", "set", "ADMIN_A", "--description", "prod key"], env_bootstrap, (VALUE + "\n").encode())
        assert created.returncode == 0, created.stderr
        assert "stored ADMIN_A" in created.stdout.decode()
        first_id = vault_id(pg, "ADMIN_A")
        rotated = run_bridge(["secrets", "set", "ADMIN_A"], env_bootstrap, ROTATED.encode())
        assert rotated.returncode == 0 and "rotated ADMIN_A" in rotated.stdout.decode()
        assert vault_id(pg, "ADMIN_A") == first_id
        got = run_bridge(["secrets", "get", "ADMIN_A"], env_bootstrap)
        assert got.returncode == 0 and got.stdout == (ROTATED + "\n").encode() and got.stderr == ""
        for result in (created, rotated):
            no_value_in(result, VALUE, ROTATED)
        listed = json.loads(run_bridge(["secrets", "ls", "ADMIN_A", "--json"], env_bootstrap).stdout)
        assert [(s["name"], s["description"]) for s in listed] == [("ADMIN_A", "prod key")]
    finally:
        forget(pg, "ADMIN_A")


def test_ls_shows_use_and_hosts_and_never_a_value(pg: PgCluster, env_bootstrap: dict[str, str]) -> None:
    forget(pg, "ADMIN_LS_1", "ADMIN_LS_2")
    try:
        for name in ("ADMIN_LS_1", "ADMIN_LS_2"):
            assert run_bridge(["secrets", "set", name], env_bootstrap, VALUE.encode()).returncode == 0
        for _ in range(2):
            assert json.loads(run_bridge(["resolve"], env_bootstrap, request("ADMIN_LS_1")).stdout)["values"] == {"ADMIN_LS_1": VALUE}
        as_json = run_bridge(["secrets", "ls", "ADMIN_LS_", "--json"], env_bootstrap)
        assert as_json.returncode == 0, as_json.stderr
        rows = {row["name"]: row for row in json.loads(as_json.stdout)}
        assert set(rows) == {"ADMIN_LS_1", "ADMIN_LS_2"}
        assert set(rows["ADMIN_LS_1"]) == {*LS_COLUMNS, "state"}, "every key it had, and the state word (docs/lifecycle.md)"
        used, idle = rows["ADMIN_LS_1"], rows["ADMIN_LS_2"]
        # Two resolves from this one host (the bridge's X-Bridge-Host): two uses, one gateway.
        assert (used["uses"], used["failures"], used["gateways"], used["tenant"]) == (2, 0, 1, "default")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", used["last_used_at"])
        assert (idle["uses"], idle["last_used_at"], idle["type"], idle["due"], idle["status"]) == (0, None, "generic", "ok", None)
        assert idle["state"] == "not testable"
        table = run_bridge(["secrets", "ls"], env_bootstrap)
        assert "ADMIN_LS_1" in table.stdout.decode() and "NAME" in table.stdout.decode()
        no_value_in(as_json, VALUE)
        no_value_in(table, VALUE)
    finally:
        forget(pg, "ADMIN_LS_1", "ADMIN_LS_2")


def test_rm_asks_on_a_terminal_and_refuses_without_one_unless_yes(pg: PgCluster, env_bootstrap: dict[str, str]) -> None:
    forget(pg, "ADMIN_RM")
    try:
        assert run_bridge(["secrets", "set", "ADMIN_RM"], env_bootstrap, VALUE.encode()).returncode == 0
        refused = run_bridge(["secrets", "rm", "ADMIN_RM"], env_bootstrap)
        assert refused.returncode == 2 and "pass --yes" in refused.stderr and vault_id(pg, "ADMIN_RM")
        code, screen = bridge_on_a_terminal(["secrets", "rm", "ADMIN_RM"], env_bootstrap, b"[y/N]", b"n\n")
        assert code == 1 and "nothing deleted" in screen and vault_id(pg, "ADMIN_RM")
        code, screen = bridge_on_a_terminal(["secrets", "rm", "ADMIN_RM"], env_bootstrap, b"[y/N]", b"y\n")
        assert code == 0 and "deleted ADMIN_RM" in screen and vault_id(pg, "ADMIN_RM") is None
        again = run_bridge(["secrets", "rm", "ADMIN_RM", "--yes"], env_bootstrap)
        assert again.returncode == 1 and "no secret named ADMIN_RM" in again.stderr
    finally:
        forget(pg, "ADMIN_RM")


def test_set_reads_a_hidden_prompt_on_a_terminal(pg: PgCluster, env_bootstrap: dict[str, str]) -> None:
    forget(pg, "ADMIN_TTY")
    try:
        code, screen = bridge_on_a_terminal(["secrets", "set", "ADMIN_TTY"], env_bootstrap, b"(input hidden): ", PROMPTED.encode() + b"\n")
        assert code == 0, screen
        assert "input hidden" in screen and PROMPTED not in screen
        assert run_bridge(["secrets", "get", "ADMIN_TTY"], env_bootstrap).stdout == (PROMPTED + "\n").encode()
    finally:
        forget(pg, "ADMIN_TTY")


def test_audit_is_newest_first_in_every_format_and_never_holds_a_value(
    pg: PgCluster, env_bootstrap: dict[str, str]
) -> None:
    forget(pg, "ADMIN_AUDIT")
    try:
        assert run_bridge(["secrets", "set", "ADMIN_AUDIT"], env_bootstrap, VALUE.encode()).returncode == 0
        assert run_bridge(["secrets", "set", "ADMIN_AUDIT"], env_bootstrap, ROTATED.encode()).returncode == 0
        assert run_bridge(["secrets", "get", "ADMIN_AUDIT"], env_bootstrap).returncode == 0
        assert run_bridge(["secrets", "get", "ADMIN_AUDIT_MISSING"], env_bootstrap).returncode == 1
        as_json = run_bridge(["audit", "--name", "ADMIN_AUDIT", "--since", "1h", "--json"], env_bootstrap)
        assert as_json.returncode == 0, as_json.stderr
        rows = json.loads(as_json.stdout)
        # Each set first lists the name, to check a new value against the type recorded for it.
        assert [r["access_type"] for r in rows][:5] == ["retrieve", "rotate", "list", "store", "list"]
        assert all(r["secret_name"] == "ADMIN_AUDIT" and r["provider"] == "admin" for r in rows)
        as_csv = run_bridge(["audit", "--name", "ADMIN_AUDIT", "--format", "csv"], env_bootstrap)
        parsed = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
        assert as_csv.stdout.decode().startswith("accessed_at,") and len(parsed) == len(rows)
        failures = json.loads(run_bridge(["audit", "--failures", "--json", "--since", "1h"], env_bootstrap).stdout)
        assert failures and not any(r["success"] for r in failures)
        table = run_bridge(["audit", "--since", "1h"], env_bootstrap)
        assert "ADMIN_AUDIT" in table.stdout.decode()
        for result in (as_json, as_csv, table):
            no_value_in(result, VALUE, ROTATED)
    finally:
        forget(pg, "ADMIN_AUDIT")


def test_failures_are_one_line_with_the_fix(env_bootstrap: dict[str, str], bridge_home: Path) -> None:
    missing = run_bridge(["secrets", "get", "NOPE_NOT_THERE"], env_bootstrap)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "bridge secrets ls" in missing.stderr
    bad_name = run_bridge(["secrets", "set", "a#b"], env_bootstrap, b"x")
    assert bad_name.returncode == 2 and "field selector" in bad_name.stderr
    assert run_bridge(["secrets"], env_bootstrap).returncode == 2
    assert run_bridge(["audit", "--since", "forever"], env_bootstrap).returncode == 2
    no_credentials = run_bridge(["secrets", "ls"], {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)})
    assert no_credentials.returncode == 1 and "bridge login" in no_credentials.stderr
    assert no_credentials.stderr.count("\n") == 1
    empty = run_bridge(["secrets", "set", "EMPTY_ONE"], env_bootstrap, b"\n")
    assert empty.returncode == 1 and "no value given" in empty.stderr


def test_setup_sql_too_old_names_the_fix(env_bootstrap: dict[str, str]) -> None:
    error = {"code": "PGRST202", "details": None, "hint": None, "message": "Could not find the function"}
    server = HostileServer(lambda seen: [http_response(404, json.dumps(error).encode())])
    try:
        result = run_bridge(["secrets", "ls"], {**env_bootstrap, "SUPABASE_URL": server.url})
    finally:
        server.stop()
    assert result.returncode == 1 and "older than this bridge" in result.stderr and "setup.sql" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_shows_an_example_for_every_verb() -> None:
    for args in (["secrets", "--help"], ["secrets", "set", "--help"], ["audit", "--help"]):
        shown = run_bridge(args, {"PATH": "/usr/bin:/bin"})
        assert shown.returncode == 0 and "example" in shown.stdout.decode()


PLANTED = (
    ("=HYPERLINK(\"http://x\")\x1b]0;pwned\x07\r\n2026-01-01 00:00:00  resolve  FORGED ok", "\x1b[31mred\x9b2J\u202eevil",
     "@gw\x1b[1A", "-provider"),
    ("+SUM(A1)\tTAB", "\rreturn", "host\u2066", "ok"),
)
RAW_CONTROL = ("\x1b", "\r", "\x07", "\x9b", "\u202e", "\u2066", "\x7f")


def plant(pg: PgCluster, stamp: str) -> str:
    """Audit rows a hostile caller could get written before version 5 (or a hand INSERT), dated far ahead."""
    marker = f"PLANT_{os.urandom(4).hex()}"
    with pg.connect("postgres", autocommit=True) as conn:
        for name, error, host, provider in PLANTED:
            conn.execute(
                "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, error_message, client, token_name) "
                "VALUES (%s, %s, 'resolve', false, %s, jsonb_build_object('host', %s::text, 'provider', %s::text), %s)",
                (name, stamp, error, host, provider, marker),
            )
    return marker


def unplant(pg: PgCluster, marker: str) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM public.vault_access_log WHERE token_name = %s", (marker,))


def test_audit_never_prints_a_planted_control_sequence_and_csv_cells_never_start_a_formula(
    pg: PgCluster, env_bootstrap: dict[str, str]
) -> None:
    marker = plant(pg, "2201-01-01T00:00:00Z")
    try:
        table = run_bridge(["audit", "--limit", "2"], env_bootstrap)
        as_csv = run_bridge(["audit", "--limit", "2", "--format", "csv"], env_bootstrap)
        as_json = run_bridge(["audit", "--limit", "2", "--json"], env_bootstrap)
        for result in (table, as_csv, as_json):
            assert result.returncode == 0, result.stderr
            shown = result.stdout.decode()
            assert not any(raw in shown for raw in RAW_CONTROL), shown
        lines = table.stdout.decode().splitlines()
        assert len(lines) == 2 and not any(line.startswith("2026") for line in lines), "no forged line"
        assert "\\x1b]0;pwned\\x07\\x0d\\x0a" in lines[1] or "\\x1b]0;pwned\\x07\\x0d\\x0a" in lines[0]
        rows = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
        assert [r["token_name"] for r in rows] == [marker, marker]
        cells = [value for row in rows for value in row.values() if value]
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in cells)
        assert {r["secret_name"][:2] for r in rows} == {"'=", "'+"} and {r["provider"] for r in rows} == {"'-provider", "ok"}
        assert [r["token_name"] for r in json.loads(as_json.stdout)] == [marker, marker]
    finally:
        unplant(pg, marker)


def test_audit_pages_through_a_log_larger_than_one_answer_may_be(pg: PgCluster, env_bootstrap: dict[str, str]) -> None:
    name = f"BIG_LOG_{os.urandom(4).hex()}"
    with pg.connect("postgres", autocommit=True) as conn:
        (mark,) = one(conn.execute("SELECT coalesce(max(id), 0) FROM public.vault_access_log"))
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, error_message, client) "
            "SELECT %s, now() - i * interval '1 millisecond', 'resolve', false, repeat(md5(i::text), 32), "
            "jsonb_build_object('host', repeat('h', 200), 'provider', repeat('p', 200), 'user_agent', repeat('u', 200)) "
            "FROM generate_series(1, 10000) AS i", (name,))
    try:
        read = run_bridge(["audit", "--name", name, "--limit", "10000", "--json"], env_bootstrap, timeout=300)
        assert read.returncode == 0, read.stderr
        rows = json.loads(read.stdout)
        assert len(rows) == 10000 and len({r["id"] for r in rows}) == 10000
        assert len(json.dumps(rows, separators=(",", ":")).encode()) > 16 * 1024 * 1024, "one answer would be refused"
        with pg.connect("postgres", autocommit=True) as conn:
            audits = conn.execute(
                "SELECT count(*) FROM public.vault_access_log WHERE id > %s AND access_type = 'audit'", (mark,)).fetchone()
        assert audits == (1,), "forty pages are one read, audited once"
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM public.vault_access_log WHERE secret_name = %s", (name,))
