"""Gateways with a scoped token and the publishable key, as an operator sets them up: real processes, real database.

The admin (secret key) stores per-tenant secrets and mints tokens; the
gateway holds only the project's publishable key and its token. Every
output is grepped for the token and the values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bridge_proc import Result, request, run_bridge
from tests.support.faults import FaultProxy
from tests.support.pg import PgCluster, forget
from tests.support.postgrest import Endpoint, ProjectKeys

ACME = "sk-acme-TOKENS-41b2"
GLOBEX = "sk-globex-TOKENS-77c0"
DEFAULT = "sk-default-TOKENS-09ef"
NAMES = ("OPENAI_API_KEY", "acme#OPENAI_API_KEY", "acme#ANTHROPIC_API_KEY", "globex#OPENAI_API_KEY")
TENANTS = ("acme", "globex")


def created_token(result: Result) -> str:
    assert result.returncode == 0, result.stderr
    token = result.stdout.decode().splitlines()[-1]
    assert token.startswith("ocbt_") and len(token) >= 5 + 43, "at least 256 random bits, base64url"
    return token


@pytest.fixture
def admin(env_bootstrap: dict[str, str], pg: PgCluster) -> Iterator[dict[str, str]]:
    forget(pg, *NAMES, tenants=TENANTS)
    for args, value in ((["--tenant", "acme"], ACME), (["--tenant", "globex"], GLOBEX), ([], DEFAULT)):
        assert run_bridge(["secrets", "set", "OPENAI_API_KEY", *args], env_bootstrap, value.encode()).returncode == 0
    assert run_bridge(["secrets", "set", "ANTHROPIC_API_KEY", "--tenant", "acme"], env_bootstrap, b"sk-ant-acme").returncode == 0
    yield env_bootstrap
    forget(pg, *NAMES, tenants=TENANTS)


def gateway(admin: dict[str, str], keys: ProjectKeys, token: str, home: Path) -> dict[str, str]:
    home.mkdir(mode=0o700, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(home), "SUPABASE_URL": admin["SUPABASE_URL"],
        "SUPABASE_PUBLISHABLE_KEY": keys.publishable, "BRIDGE_GATEWAY_TOKEN": token,
    }


def test_a_token_resolves_its_tenant_within_its_allow_list_and_is_audited(
    admin: dict[str, str], keys: ProjectKeys, tmp_path: Path, endpoint: Endpoint
) -> None:
    minted = run_bridge(["tokens", "create", "gw-berlin", "--tenant", "acme", "--allow", "OPENAI_*", "--expires", "30d"], admin)
    token = created_token(minted)
    env = gateway(admin, keys, token, tmp_path / "gw")
    calls = endpoint.calls
    resolved = run_bridge(["resolve"], env, request("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "acme#OPENAI_API_KEY"))
    assert endpoint.calls == calls + 1, "still one RPC per resolve"
    answer = json.loads(resolved.stdout)
    assert answer["values"] == {"OPENAI_API_KEY": ACME}
    assert set(answer["errors"]) == {"ANTHROPIC_API_KEY", "acme#OPENAI_API_KEY"}, "a selector: field OPENAI_API_KEY of secret acme"
    other = created_token(run_bridge(["tokens", "create", "gw-ny", "--tenant", "globex"], admin))
    assert json.loads(run_bridge(["resolve"], gateway(admin, keys, other, tmp_path / "gw2"), request("OPENAI_API_KEY")).stdout)[
        "values"] == {"OPENAI_API_KEY": GLOBEX}

    log = json.loads(run_bridge(["audit", "--json", "--since", "1h", "--limit", "50"], admin).stdout)
    mine = [r for r in log if r["token_name"] == "gw-berlin" and r["access_type"] == "resolve"]
    assert {(r["tenant"], r["secret_name"], r["success"], r["name_count"]) for r in mine} == {
        ("acme", "acme#OPENAI_API_KEY", True, 1), ("acme", "acme#ANTHROPIC_API_KEY", False, 1), ("acme", "acme#acme", False, 1),
    }, "a refused name that is a secret in Vault has its own row (a probe shows on its chart and failures)"
    listed = run_bridge(["tokens", "ls", "--json"], admin)
    rows = {(r["tenant"], r["name"]): r for r in json.loads(listed.stdout)}
    assert set(rows[("acme", "gw-berlin")]) == {"name", "tenant", "allow", "created_at", "expires_at", "last_used_at", "revoked_at"}
    assert rows[("acme", "gw-berlin")]["allow"] == ["OPENAI_*"] and rows[("acme", "gw-berlin")]["last_used_at"]
    for result in (minted, resolved, listed, run_bridge(["tokens", "ls"], admin)):
        assert token[5:] not in result.stderr and token not in (result.stdout.decode() if result is not minted else "")
    assert token not in resolved.stdout.decode() + resolved.stderr


def test_revoked_and_garbage_tokens_get_nothing_not_even_from_the_cache(
    admin: dict[str, str], keys: ProjectKeys, tmp_path: Path
) -> None:
    token = created_token(run_bridge(["tokens", "create", "gw-1", "--tenant", "acme"], admin))
    env = gateway(admin, keys, token, tmp_path / "gw")
    (tmp_path / "gw" / "config.toml").write_text('cache_ttl = "1h"\n')
    assert json.loads(run_bridge(["resolve"], env, request("OPENAI_API_KEY")).stdout)["values"] == {"OPENAI_API_KEY": ACME}
    assert (tmp_path / "gw" / "cache.sealed").exists(), "the good answer was cached"
    revoked = run_bridge(["tokens", "revoke", "gw-1", "--tenant", "acme"], admin)
    assert revoked.returncode == 0 and "next resolve is refused" in revoked.stdout.decode()
    for env_now in (env, {**env, "BRIDGE_GATEWAY_TOKEN": "ocbt_" + "A" * 43}):
        refused = run_bridge(["resolve"], env_now, request("OPENAI_API_KEY"))
        answer = json.loads(refused.stdout)
        assert answer["values"] == {}
        assert "bridge tokens create" in answer["errors"]["OPENAI_API_KEY"]["message"]
        assert ACME not in refused.all_output() and env_now["BRIDGE_GATEWAY_TOKEN"] not in refused.all_output()
    again = run_bridge(["tokens", "revoke", "gw-1", "--tenant", "acme"], admin)
    assert again.returncode == 1 and "no active token named gw-1" in again.stderr


def test_a_revoked_token_stays_dead_when_supabase_is_then_unreachable(
    admin: dict[str, str], keys: ProjectKeys, tmp_path: Path, proxy: FaultProxy
) -> None:
    """The attack: revoke, then block the gateway's network. The cache must not hand the revoked secrets back."""
    token = created_token(run_bridge(["tokens", "create", "gw-offline", "--tenant", "acme"], admin))
    env = {**gateway(admin, keys, token, tmp_path / "gw"), "SUPABASE_URL": proxy.url}
    (tmp_path / "gw" / "config.toml").write_text('deadline = "2.5s"\n')
    assert json.loads(run_bridge(["resolve"], env, request("OPENAI_API_KEY")).stdout)["values"] == {"OPENAI_API_KEY": ACME}
    assert run_bridge(["tokens", "revoke", "gw-offline", "--tenant", "acme"], admin).returncode == 0
    refused = json.loads(run_bridge(["resolve"], env, request("OPENAI_API_KEY")).stdout)
    assert "refused the gateway token" in refused["errors"]["OPENAI_API_KEY"]["message"]
    cache = tmp_path / "gw" / "cache.sealed"
    assert ACME.encode() not in cache.read_bytes()
    for outage in (503, "hang", "refused"):
        if outage == "refused":
            proxy.stop()
        else:
            proxy.mode = outage
        offline = run_bridge(["resolve"], env, request("OPENAI_API_KEY"))
        answer = json.loads(offline.stdout)
        assert answer["values"] == {}, outage
        assert "Supabase refused these credentials" in answer["errors"]["OPENAI_API_KEY"]["message"]
        assert ACME not in offline.all_output() and token not in offline.all_output()


def test_gateway_login_stores_publishable_key_and_token_and_doctor_names_the_credential(
    admin: dict[str, str], keys: ProjectKeys, tmp_path: Path
) -> None:
    token = created_token(run_bridge(["tokens", "create", "gw-login", "--tenant", "acme"], admin))
    home = tmp_path / "gw"
    home.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(home)}
    login = run_bridge(
        ["login", "--url", admin["SUPABASE_URL"], "--publishable-key", keys.publishable, "--gateway-token", "--store", "file"],
        env, (token + "\n").encode(),
    )
    assert login.returncode == 0, login.stderr
    assert "gateway token accepted" in login.stdout.decode() and token not in login.all_output()
    assert all(token.encode() not in p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert json.loads(run_bridge(["resolve"], env, request("OPENAI_API_KEY")).stdout)["values"] == {"OPENAI_API_KEY": ACME}
    doctor = json.loads(run_bridge(["doctor", "--json"], env).stdout)
    checks = {c["name"]: c for c in doctor["checks"]}
    assert checks["key type"]["status"] == "pass" and "gateway token" in checks["key type"]["detail"]
    assert checks["canary resolve"]["status"] == "pass" and checks["setup.sql"]["status"] == "skip"
    assert token not in json.dumps(doctor)
    half = run_bridge(["login", "--url", admin["SUPABASE_URL"], "--gateway-token"], env, token.encode())
    assert half.returncode == 2 and "go together" in half.stderr


def test_secrets_are_kept_apart_by_tenant_in_the_admin_verbs(admin: dict[str, str]) -> None:
    got = run_bridge(["secrets", "get", "OPENAI_API_KEY", "--tenant", "globex"], admin)
    assert got.stdout == (GLOBEX + "\n").encode()
    assert run_bridge(["secrets", "get", "OPENAI_API_KEY"], admin).stdout == (DEFAULT + "\n").encode()
    acme = {r["name"] for r in json.loads(run_bridge(["secrets", "ls", "--tenant", "acme", "--json"], admin).stdout)}
    assert acme == {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
    default = {r["name"] for r in json.loads(run_bridge(["secrets", "ls", "--json"], admin).stdout)}
    assert "OPENAI_API_KEY" in default and not any("#" in name for name in default)
    assert run_bridge(["secrets", "rm", "ANTHROPIC_API_KEY", "--tenant", "acme", "--yes"], admin).returncode == 0
    assert run_bridge(["secrets", "get", "ANTHROPIC_API_KEY", "--tenant", "acme"], admin).returncode == 1
    bad = run_bridge(["secrets", "ls", "--tenant", "Acme Corp"], admin)
    assert bad.returncode == 2 and "lowercase" in bad.stderr


def test_tenant_members_through_the_cli(admin: dict[str, str]) -> None:
    user = "3f2c9a4e-1b7d-4c55-9e0a-2d6f8b1c7e90"
    added = run_bridge(["tenants", "add-member", "acme", user], admin)
    assert added.returncode == 0 and f"added {user}" in added.stdout.decode()
    listed = {t["tenant"]: t for t in json.loads(run_bridge(["tenants", "ls", "--json"], admin).stdout)}
    assert user in listed["acme"]["members"] and listed["acme"]["secrets"] >= 2 and "default" in listed
    assert run_bridge(["tenants", "remove-member", "acme", user], admin).returncode == 0
    gone = run_bridge(["tenants", "remove-member", "acme", user], admin)
    assert gone.returncode == 1 and "not a member" in gone.stderr
    assert run_bridge(["tenants", "add-member", "acme", "not-a-uuid"], admin).returncode == 2


def test_a_default_tenant_token_must_name_its_secrets(admin: dict[str, str], keys: ProjectKeys, tmp_path: Path, pg: PgCluster) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM vault.secrets WHERE name = 'service_role_key'")
        conn.execute("SELECT vault.create_secret('eyJ-TOKENS-project-key', 'service_role_key')")
    try:
        for allow in ([], ["--allow", "*"], ["--allow", "OPENAI_API_KEY", "--allow", "??*"]):
            refused = run_bridge(["tokens", "create", "gw-d", "--tenant", "default", *allow], admin)
            assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
            assert "must name its secrets" in refused.stderr and "--allow OPENAI_API_KEY --allow 'TELEGRAM_*'" in refused.stderr
            assert "tenant of its own" in refused.stderr and refused.stdout == b""
        token = created_token(run_bridge(["tokens", "create", "gw-d", "--tenant", "default", "--allow", "OPENAI_*"], admin))
        answer = json.loads(run_bridge(["resolve"], gateway(admin, keys, token, tmp_path / "gw"),
                                       request("OPENAI_API_KEY", "service_role_key")).stdout)
        assert answer["values"] == {"OPENAI_API_KEY": DEFAULT} and set(answer["errors"]) == {"service_role_key"}
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("UPDATE vault_bridge.gateway_tokens SET allow = '{}' WHERE tenant = 'default' AND name = 'gw-d'")
        listed = run_bridge(["tokens", "ls"], admin).stdout.decode()
        assert any("default/gw-d" in line and "(none: create a new token with --allow)" in line for line in listed.splitlines())
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault.secrets WHERE name = 'service_role_key'")
            conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = 'default' AND name = 'gw-d'")


def test_tenants_ls_shows_tenants_made_by_secrets_set_and_by_vault_names(admin: dict[str, str], pg: PgCluster) -> None:
    try:
        assert run_bridge(["secrets", "set", "OPENAI_API_KEY", "--tenant", "initech"], admin, b"sk-initech").returncode == 0
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("SELECT vault.create_secret('v', 'hooli#OPENAI_API_KEY')")
        listed = {t["tenant"]: t for t in json.loads(run_bridge(["tenants", "ls", "--json"], admin).stdout)}
        assert listed["initech"]["secrets"] == 1 and listed["initech"]["created_at"]
        assert listed["hooli"]["secrets"] == 1 and listed["hooli"]["created_at"] is None
        table = run_bridge(["tenants", "ls"], admin).stdout.decode().splitlines()
        assert any(line.startswith("initech ") for line in table) and any(line.startswith("hooli ") for line in table)
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault.secrets WHERE name IN ('initech#OPENAI_API_KEY', 'hooli#OPENAI_API_KEY')")
            conn.execute("DELETE FROM vault_bridge.tenants WHERE tenant = 'initech'")
