"""setup.sql v5 hardening, called as PostgREST calls it: a bounded audit log, names that cannot forge log lines,
paged audit reads, default-tenant tokens that name their secrets, and tenants that exist only as Vault names.

Calls run inside transactions that are rolled back; `now()` is the transaction's start, so a test moves a token's
budget window by writing its start, never by waiting.
"""

from __future__ import annotations

import random
import re
import secrets

import psycopg
import pytest
from psycopg import errors

from tests.support.api_role import become, call, mint, new_token, resolve_with_token
from tests.support.pg import one
from tests.test_setup_sql import PLAINTEXT, audit_rows, audit_watermark

CONTROL_NAMES = ("A\x1b[2J", "B\rFORGED ok", "C\nx", "D\x07", "E\x85", "F\x7f", "G\u202etxt.exe")
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MARKER = re.compile(r"…\[(truncated|escaped): (\d+) chars, sha256 [0-9a-f]{16}…\]$")


def incompressible(chars: int, seed: int) -> str:
    """A name PostgreSQL cannot compress under its index row limit: random CJK characters, 3 bytes each."""
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(chars))


def logged_bytes(conn: psycopg.Connection, after: int) -> int:
    size: int = one(conn.execute("SELECT coalesce(sum(pg_column_size(l.*)), 0) FROM public.vault_access_log AS l WHERE id > %s",
                                 (after,)))[0]
    return size


# --- A2/A3: one bad name never fails a batch; a flood writes bounded rows ----------------


def test_a_flood_of_512_names_of_40_kb_writes_three_rows_and_still_answers_the_valid_names(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.set_secret('flood#OPENAI_API_KEY', %s)", (PLAINTEXT,))
    call(db, "SELECT public.set_secret('flood#TELEGRAM_BOT_TOKEN', 'tg-value')")
    token = mint(db, "flood", "gw-flood", ["*"])
    names = ["OPENAI_API_KEY", "TELEGRAM_BOT_TOKEN", *(secrets.token_hex(20_000) for _ in range(510))]
    mark = audit_watermark(db)
    assert resolve_with_token(db, token, names) == {"OPENAI_API_KEY": PLAINTEXT, "TELEGRAM_BOT_TOKEN": "tg-value"}
    rows = audit_rows(db, mark)
    assert [(r["secret_name"], r["success"], r["name_count"]) for r in rows] == [
        ("flood#OPENAI_API_KEY", True, 1), ("flood#TELEGRAM_BOT_TOKEN", True, 1), (None, False, 510),
    ]
    failure = rows[-1]["error_message"]
    assert failure.startswith("510 names refused: secret name is longer than 256 characters: ")
    assert re.search(r"…\[truncated: \d+ chars\]$", failure) and len(failure) < 1100
    assert logged_bytes(db, mark) < 4096, "a 20 MB request costs the log three rows of a few hundred bytes"


def test_the_audit_read_returns_what_was_written_so_its_marker_stays_true(db: psycopg.Connection) -> None:
    become(db, "service_role")
    name = "\u202e" * 300
    mark = audit_watermark(db)
    assert call(db, "SELECT public.resolve_secrets(%s)", ([name],)) == [({},)]
    (stored,) = [r["secret_name"] for r in audit_rows(db, mark)]
    (shown,) = [r[0] for r in call(db, "SELECT secret_name FROM public.read_access_log(p_since => now())")
                if r[0] and r[0].startswith("\\u202e")]
    assert shown == stored
    marker = MARKER.search(shown)
    assert marker is not None and marker.groups() == ("truncated", "300")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u200e", "\u061c"])
def test_line_separators_and_bidi_marks_are_refused_as_the_terminal_escapes_them(db: psycopg.Connection, separator: str) -> None:
    become(db, "service_role")
    with pytest.raises(errors.InvalidParameterValue):
        call(db, "SELECT public.set_secret(%s, 'v')", (f"A{separator}B",))


def test_a_3000_character_name_fails_alone_in_a_batch_on_both_resolves(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.set_secret('OPENAI_API_KEY', %s)", (PLAINTEXT,))
    call(db, "SELECT public.set_secret('wide#OPENAI_API_KEY', %s)", (PLAINTEXT,))
    long_name = incompressible(3000, seed=15)
    token = mint(db, "wide", "gw-wide", ["*"])
    for how in ("service_role", "token"):
        mark = audit_watermark(db)
        batch = ["OPENAI_API_KEY", long_name]
        if how == "service_role":
            answer = call(db, "SELECT public.resolve_secrets(%s)", (batch,))[0][0]
        else:
            answer = resolve_with_token(db, token, batch)
        assert answer == {"OPENAI_API_KEY": PLAINTEXT}, how
        bad = [r for r in audit_rows(db, mark) if not r["success"]]
        assert len(bad) == 1, how
        vault_name = long_name if how == "service_role" else "wide#" + long_name
        assert bad[0]["secret_name"].startswith(vault_name[:64]), how
        marker = MARKER.search(bad[0]["secret_name"])
        assert marker is not None and marker.groups() == ("truncated", str(len(vault_name))), how
        assert bad[0]["error_message"] == "secret name is longer than 256 characters", how


# --- A1: control characters ---------------------------------------------------------------


def test_control_character_names_are_refused_by_set_and_reported_per_name_by_resolve(db: psycopg.Connection) -> None:
    become(db, "service_role")
    call(db, "SELECT public.set_secret('CLEAN', %s)", (PLAINTEXT,))
    for name in CONTROL_NAMES:
        for statement in ("SELECT public.set_secret(%s, %s)", "SELECT public.store_secret(%s, %s)"):
            with pytest.raises(errors.InvalidParameterValue) as refused:
                call(db, statement, (name, PLAINTEXT))
            assert "secret name holds control character \\" in str(refused.value), name
            assert "without control characters" in (refused.value.diag.message_hint or "")
            assert not RAW_CONTROL.search(refused.value.diag.message_primary or ""), name
    mark = audit_watermark(db)
    assert call(db, "SELECT public.resolve_secrets(%s)", (["CLEAN", *CONTROL_NAMES],))[0][0] == {"CLEAN": PLAINTEXT}
    failed = {r["secret_name"]: r["error_message"] for r in audit_rows(db, mark) if not r["success"]}
    assert len(failed) == len(CONTROL_NAMES)
    assert "A\\x1b[2J…[escaped: 5 chars, sha256 " in "".join(failed)
    assert "G\\u202etxt.exe…[escaped: " in "".join(failed)
    assert not RAW_CONTROL.search("".join(failed) + "".join(failed.values()))

    call(db, "SELECT public.set_secret('ctl#CLEAN', %s)", (PLAINTEXT,))
    token = mint(db, "ctl", "gw-ctl", ["*"])
    mark = audit_watermark(db)
    assert resolve_with_token(db, token, ["CLEAN", *CONTROL_NAMES]) == {"CLEAN": PLAINTEXT}
    (refused_row,) = [r for r in audit_rows(db, mark) if not r["success"]]
    assert refused_row["name_count"] == len(CONTROL_NAMES) and refused_row["secret_name"] is None
    assert refused_row["error_message"].startswith(f"{len(CONTROL_NAMES)} names refused: secret name holds control character")
    assert not RAW_CONTROL.search(refused_row["error_message"])


# --- A3: the per-token budget ----------------------------------------------------------------


def test_beyond_its_budget_a_token_is_answered_without_rows_and_summed_up_when_the_next_window_opens(
    owner: psycopg.Connection,
) -> None:
    (budget, kept) = one(owner.execute("SELECT vault_bridge.token_log_rows(), vault_bridge.token_failure_rows()"))
    owner.execute("SELECT vault.create_secret('v' || i, 'budget#K' || i) FROM generate_series(1, 512) AS i")
    become(owner, "service_role")
    token = mint(owner, "budget", "gw-budget", ["*"])
    names = [f"K{i}" for i in range(1, 513)]
    mark = audit_watermark(owner)
    for _ in range(budget // len(names)):
        assert len(resolve_with_token(owner, token, names)) == 512
    # Successes are itemised while they leave the failures' share of the budget free: the last call of 512 is not.
    itemised = (budget - kept) // len(names) * len(names)
    assert len(audit_rows(owner, mark)) == itemised
    over = audit_watermark(owner)
    assert len(resolve_with_token(owner, token, [*names[:511], "MISSING"])) == 511, "over the budget the call is still answered"
    (failure,) = audit_rows(owner, over)
    assert (failure["secret_name"], failure["success"]) == ("budget#MISSING", False), "a failure still has its share"
    owner.execute("RESET ROLE")
    assert owner.execute(
        "SELECT unlogged_names, unlogged_calls, log_window_rows FROM vault_bridge.gateway_tokens WHERE tenant = 'budget'"
    ).fetchone() == (512 + 511, 2, itemised + 1)
    owner.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now() - vault_bridge.token_log_window() "
                  "WHERE tenant = 'budget'")
    become(owner, "service_role")
    assert resolve_with_token(owner, token, ["K1"]) == {"K1": "v1"}
    _, summary, item = audit_rows(owner, over)
    assert (summary["success"], summary["name_count"], summary["token_name"], summary["secret_name"]) == (
        False, 1023, "gw-budget", None)
    assert summary["error_message"].startswith("not itemised: 1023 names in 2 calls of the window from ")
    assert f"audit budget of {budget} rows per 1 hour" in summary["error_message"]
    assert (item["secret_name"], item["success"]) == ("budget#K1", True)


def test_a_token_s_failures_beyond_its_whole_budget_are_counted_not_written(owner: psycopg.Connection) -> None:
    (budget,) = one(owner.execute("SELECT vault_bridge.token_log_rows()"))
    become(owner, "service_role")
    token = mint(owner, "spent", "gw-spent", ["*"])
    owner.execute("RESET ROLE")
    owner.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now(), log_window_rows = %s - 1 "
                  "WHERE tenant = 'spent'", (budget,))
    become(owner, "service_role")
    mark = audit_watermark(owner)
    for missing in ("A", "B"):
        assert resolve_with_token(owner, token, [missing]) == {}
    # The last row of the budget takes the first failure; the second is counted on the token row.
    assert [(r["secret_name"], r["success"]) for r in audit_rows(owner, mark)] == [("spent#A", False)]
    owner.execute("RESET ROLE")
    assert owner.execute(
        "SELECT unlogged_names, unlogged_calls FROM vault_bridge.gateway_tokens WHERE tenant = 'spent'"
    ).fetchone() == (1, 1)


def test_revoking_a_token_writes_what_its_budget_kept_out(owner: psycopg.Connection) -> None:
    become(owner, "service_role")
    call(owner, "SELECT public.set_secret('revoked#K', 'v')")
    token = mint(owner, "revoked", "gw-r", ["*"])
    owner.execute("RESET ROLE")
    owner.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now(), log_window_rows = vault_bridge.token_log_rows() "
                  "WHERE tenant = 'revoked'")
    become(owner, "service_role")
    mark = audit_watermark(owner)
    assert resolve_with_token(owner, token, ["K", "NOPE"]) == {"K": "v"}
    assert audit_rows(owner, mark) == []
    assert call(owner, "SELECT public.revoke_gateway_token('revoked', 'gw-r')") == [(True,)]
    summary, revoked = audit_rows(owner, mark)
    assert (summary["name_count"], summary["error_message"][:32]) == (2, "not itemised: 2 names in 1 calls")
    assert (revoked["access_type"], revoked["success"]) == ("token", True)


# --- A4: keyset pages ---------------------------------------------------------------------


def test_read_access_log_pages_by_the_last_row_and_audits_only_the_first_page(owner: psycopg.Connection) -> None:
    name = f"PAGED_{secrets.token_hex(6)}"
    # Ids in insertion order, times not: a page must follow the answer's order (time, then id).
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success) "
        "SELECT %s, timestamptz '2200-01-01' + ((i * 7) %% 10) * interval '1 minute', 'resolve', true "
        "FROM generate_series(1, 10) AS i", (name,))
    become(owner, "service_role")
    whole = [r[0] for r in call(owner, "SELECT id FROM public.read_access_log(p_name => %s)", (name,))]
    mark = audit_watermark(owner)
    paged, before = [], None
    while True:
        page = [r[0] for r in call(owner, "SELECT id FROM public.read_access_log(p_name => %s, p_limit => 3, p_before_id => %s)",
                                   (name, before))]
        paged += page
        if len(page) < 3:
            break
        before = page[-1]
    assert paged == whole and len(whole) == 10
    assert [r["access_type"] for r in audit_rows(owner, mark)] == ["audit"]


# --- B: default-tenant tokens name their secrets ----------------------------------------------


def test_a_default_tenant_token_never_reaches_a_secret_the_bridge_never_stored(owner: psycopg.Connection) -> None:
    owner.execute("SELECT vault.create_secret('eyJ-project-service-role-key', 'service_role_key')")
    owner.execute("SELECT vault.create_secret(%s, 'OPENAI_API_KEY')", (PLAINTEXT,))
    become(owner, "service_role")
    _, digest = new_token()
    for allow in (None, ["*"], ["OPENAI_API_KEY", "?*"], ["???"]):
        arguments = (digest,) if allow is None else (digest, allow)
        placeholders = ", ".join(["%s"] * len(arguments))
        with pytest.raises(errors.InvalidParameterValue) as refused:
            call(owner, f"SELECT public.create_gateway_token('default', 'gw-any', {placeholders})", arguments)
        assert "must name its secrets" in str(refused.value), allow
        assert "or use a tenant of its own" in (refused.value.diag.message_hint or "")
    named = mint(owner, "default", "gw-named", ["OPENAI_*"])
    assert resolve_with_token(owner, named, ["OPENAI_API_KEY", "service_role_key"]) == {"OPENAI_API_KEY": PLAINTEXT}
    assert call(owner, "SELECT allow FROM public.list_gateway_tokens() WHERE tenant = 'acme-open'") == []
    mint(owner, "acme-open", "gw", ["*"])
    # Defence in depth: a `*` row that exists anyway (written before version 5, or by hand) matches nothing.
    token, digest = new_token()
    owner.execute("RESET ROLE")
    owner.execute("INSERT INTO vault_bridge.gateway_tokens (tenant, name, token_sha256, allow) "
                  "VALUES ('default', 'gw-star', decode(%s, 'hex'), ARRAY['*', '?*'])", (digest,))
    become(owner, "service_role")
    mark = audit_watermark(owner)
    assert resolve_with_token(owner, token, ["service_role_key", "OPENAI_API_KEY"]) == {}
    # OPENAI_API_KEY is a secret in Vault: a probe of it is its own row (on its chart and failures), and the one
    # refused name left gets its own row too, as a single refused name does.
    rows = audit_rows(owner, mark)
    assert sorted((r["secret_name"], r["error_message"]) for r in rows) == [
        ("OPENAI_API_KEY", "not allowed for this token"), ("service_role_key", "not allowed for this token"),
    ], rows


# --- C: tenants that exist only as Vault names -------------------------------------------------


def test_list_tenants_shows_every_tenant_that_holds_a_secret_or_a_token(owner: psycopg.Connection) -> None:
    owner.execute("SELECT vault.create_secret('v', 'zeta#KEY')")
    owner.execute("SELECT vault.create_secret('v', 'Not A Tenant#KEY')")
    become(owner, "service_role")
    call(owner, "SELECT public.set_secret('omega#KEY', 'v')")
    tenants = {r[0]: r for r in call(owner, "SELECT tenant, secrets, tokens, created_at FROM public.list_tenants()")}
    assert tenants["zeta"][1:] == (1, 0, None), "a tenant only Vault names hold is listed"
    assert tenants["omega"][1] == 1 and tenants["omega"][3] is not None, "set_secret records the tenant"
    assert "default" in tenants and not any(" " in tenant for tenant in tenants)
