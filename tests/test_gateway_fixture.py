"""The real OpenClaw gateway (`openclaw gateway run`, tests/support/gateway.py) with its own auth token and a model key
in Vault, resolved through the bridge: the Facts of issue 18 checked on the installed OpenClaw.

Every gateway binds 127.0.0.1 (and ::1) only, in a private HOME, and reaches nothing beyond the test endpoint.
Each test starts its own (~7 s). Run with -s to see the measured reload times (`reload took ...`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import run_bridge
from tests.support.gateway import TOKEN_ID, Gateway, running_gateway
from tests.support.openclaw import OpenClaw
from tests.support.pg import PgCluster, audit_rows_dropped_after, one
from tests.support.postgrest import ProjectKeys

MODEL_KEY = "OPENAI_API_KEY"
REFS = {"openai": MODEL_KEY}
BOOTSTRAP = ("SUPABASE_URL", "SUPABASE_SECRET_KEY", "BRIDGE_HOME")
LOOPBACK = {"127.0.0.1", "::1"}


def token() -> str:
    return "gw-" + secrets.token_urlsafe(24)


@pytest.fixture
def gw_tokens(vault: Vault) -> tuple[str, str]:
    """The gateway token in Vault now, and the one a rotation will store."""
    old, new = token(), token()
    vault.put(TOKEN_ID, old)
    vault.put(MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
    return old, new


@pytest.fixture
def since(pg: PgCluster) -> Iterator[datetime]:
    """The database's clock before the gateway starts: audit rows from earlier tests (same names) are older. The
    rows this test writes are deleted afterwards."""
    with audit_rows_dropped_after(pg):
        with pg.connect("postgres", autocommit=True) as conn:
            (now,) = one(conn.execute("SELECT pg_catalog.clock_timestamp()"))
        yield now


@pytest.fixture
def gateway(
    openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], gw_tokens: tuple[str, str],
    since: datetime,
) -> Iterator[Gateway]:
    home = tmp_path / "gw-home"
    home.mkdir(mode=0o700)
    bootstrap = {k: v for k, v in env_bootstrap.items() if k in BOOTSTRAP}
    with running_gateway(openclaw, home, launcher, bootstrap, refs=REFS) as gw:
        yield gw


def resolves(env_bootstrap: dict[str, str], name: str, since: datetime) -> list[dict[str, Any]]:
    """The successful `resolve` rows of `name` since `since`, newest first, as `bridge audit --json` shows them."""
    done = run_bridge(["audit", "--name", name, "--since", "1h", "--json"], env_bootstrap)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return [
        r for r in rows
        if r["access_type"] == "resolve" and r["success"] and datetime.fromisoformat(r["accessed_at"]) >= since
    ]


def timed_reload(gw: Gateway, tok: str, label: str) -> dict[str, Any]:
    answer = gw.reload(tok)
    rpc = gw.reload_rpc_ms()
    print(
        f"\nreload took {gw.reload_seconds[-1]:.2f} s ({label}): `openclaw secrets reload --json` wall clock, CLI start"
        f" included; the gateway's secrets.reload RPC {rpc[-1] if rpc else '?'} ms"
    )
    return answer


def test_gateway_starts_with_its_token_from_vault_on_loopback_only(
    gateway: Gateway, gw_tokens: tuple[str, str], env_bootstrap: dict[str, str], keys: ProjectKeys, since: datetime
) -> None:
    """Facts 1-2: the gateway resolved gateway.auth.token through the bridge at startup (an audit row from provider
    `supabase`), admits that token and nothing else, and `secrets reload` answers {"ok": true, "warningCount": 0}."""
    old, _ = gw_tokens
    assert gateway.listening(), "the gateway listens on nothing"
    assert {address for address, _ in gateway.listening()} <= LOOPBACK, gateway.listening()
    assert {port for _, port in gateway.listening()} == {gateway.port}
    assert [r["provider"] for r in resolves(env_bootstrap, TOKEN_ID, since)] == ["supabase"]
    assert "SECRETS_GATEWAY_AUTH_SURFACE] gateway.auth.token is active" in gateway.output()

    assert gateway.admits(old)
    assert not gateway.admits(token())

    assert timed_reload(gateway, old, "nothing changed") == {"ok": True, "warningCount": 0}
    assert len(resolves(env_bootstrap, TOKEN_ID, since)) == 2
    assert gateway.admits(old)

    assert gateway.stop() == 0
    assert "[shutdown] completed cleanly" in gateway.output()
    for value in (old, keys.secret):
        assert value not in gateway.output()


def test_a_token_rotated_in_vault_reaches_the_running_gateway_on_reload_with_the_old_token(
    gateway: Gateway, gw_tokens: tuple[str, str], vault: Vault
) -> None:
    """Facts 1, 3, 4 and 5: a rotation in Vault changes nothing until a reload; the CLI without --token resolves
    the NEW token itself and is refused; `reload --token OLD` succeeds, then the new token is admitted and the old
    refused, by the same process."""
    old, new = gw_tokens
    pid = gateway.pid
    vault.put(TOKEN_ID, new)

    assert gateway.admits(old) and not gateway.admits(new), "the gateway re-resolved without a reload"
    own = gateway.cli(["secrets", "reload", "--json"])  # no --url: gateway.port from openclaw.json; no --token: the bridge's
    assert own.returncode != 0, own.stdout
    assert "AUTH_TOKEN_MISMATCH" in own.stdout + own.stderr or "token mismatch" in own.stdout + own.stderr, own.stdout + own.stderr

    assert timed_reload(gateway, old, "gateway token rotated") == {"ok": True, "warningCount": 0}

    assert gateway.admits(new)
    assert not gateway.admits(old)
    assert gateway.pid == pid and gateway.running()
    assert gateway.cli(["secrets", "reload", "--json"]).returncode == 0  # the CLI's own resolve agrees again
    for value in (old, new):
        assert value not in gateway.output()


def test_reload_resolves_the_model_key_again_and_a_failed_reload_keeps_the_snapshot(
    gateway: Gateway, gw_tokens: tuple[str, str], vault: Vault, env_bootstrap: dict[str, str], since: datetime
) -> None:
    """Facts 1 and 2: every reload spawns the bridge for models.providers.openai.apiKey too (one more audit row per
    reload, rotated value or not). A model key missing from Vault degrades the reload (ok, warningCount 1, the
    provider keeps its last good key); the gateway's own token missing fails it (ok false), and the running
    gateway keeps admitting the token it holds."""
    old, _ = gw_tokens
    before = resolves(env_bootstrap, MODEL_KEY, since)
    assert [r["provider"] for r in before] == ["supabase"], "the startup resolve of the model key"
    rotated = "sk-proj-" + secrets.token_urlsafe(24)
    vault.put(MODEL_KEY, rotated)

    assert timed_reload(gateway, old, "model key rotated") == {"ok": True, "warningCount": 0}
    after = resolves(env_bootstrap, MODEL_KEY, since)
    assert len(after) == len(before) + 1
    assert after[0]["accessed_at"] > before[0]["accessed_at"]

    vault.delete(MODEL_KEY)
    degraded = timed_reload(gateway, old, "model key missing in Vault: kept stale")
    assert degraded == {"ok": True, "warningCount": 1}, degraded
    assert "SECRETS_OWNER_UNAVAILABLE] Secret owner provider:openai is using last-known-good" in gateway.output()

    vault.put(MODEL_KEY, rotated)
    vault.delete(TOKEN_ID)
    failed = timed_reload(gateway, old, "gateway token missing in Vault: refused")
    assert failed["ok"] is False, failed
    assert 'secrets.reload failed: Exec provider "supabase" failed for id "GATEWAY_TOKEN" (NOT_FOUND)' in gateway.output()
    assert gateway.admits(old), "a failed reload dropped the last good snapshot"
    assert rotated not in gateway.output()
