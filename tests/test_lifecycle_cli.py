"""The secret lifecycle as a person uses it: `bridge secrets set --type/--rotate-every/--expires/--keep-value`,
`secrets test` against loopback providers, `secrets ls` and `due`, `audit --alerts` and doctor's lines.

Real parts throughout: the bridge as a subprocess, the PostgREST stand-in
over the session's PostgreSQL, and provider fakes that answer as the
providers document and echo the credential back in their errors. Every
output is searched for the value and for any 8 characters of it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bridge.local.paths import Paths
from tests.support.bridge_proc import Result, request, run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import ProjectKeys
from tests.support.provider_fakes import AnthropicFake, OpenAIFake, ProviderFake, closed_port_url, leaks
from tests.test_tokens import created_token

AWAIT_S = 15.0
"""Longest wait for a one-second schedule to fall due: the clock is awaited, never slept through blindly."""


@pytest.fixture(autouse=True)
def quiet_log(pg: PgCluster) -> Iterator[None]:
    """This module provokes alerts on purpose; they leave with each test, so no later doctor sees them."""
    with audit_rows_dropped_after(pg):
        yield


def openai_key() -> str:
    return ("sk-proj-" + secrets.token_urlsafe(48))[:56]


def anthropic_key() -> str:
    return ("sk-ant-api03-" + secrets.token_urlsafe(48))[:64]


def clean(result: Result, secret_type: str, *values: str) -> Result:
    """The result, after checking that no output holds a value or 8 characters of one."""
    for value in values:
        assert not leaks(secret_type, value, result.all_output()), result.all_output()
    return result


def as_json(result: Result) -> Any:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def names(pg: PgCluster) -> Iterator[list[str]]:
    made: list[str] = []
    try:
        yield made
    finally:
        forget(pg, *made)


def unique(names: list[str], prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(6).upper()}"
    names.append(name)
    return name


@pytest.fixture
def fakes() -> Iterator[dict[str, ProviderFake]]:
    made: dict[str, ProviderFake] = {}
    try:
        yield made
    finally:
        for fake in made.values():
            fake.stop()


def point_at(env: dict[str, str], urls: dict[str, str], settings: str = "") -> None:
    """config.toml's [providers.<type>] base_url for each fake, after any top-level `settings`."""
    config = Paths.from_env(env).config_file
    config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_text(settings + "".join(f'[providers.{kind}]\nbase_url = "{url}"\n\n' for kind, url in urls.items()))


def status(env: dict[str, str], name: str) -> dict[str, Any]:
    rows = {row["name"]: row for row in as_json(run_bridge(["secrets", "ls", name, "--json"], env))}
    row: dict[str, Any] = rows[name]
    return row


# --- set: types, shapes, policy ------------------------------------------------------


@pytest.mark.parametrize(
    ("secret_type", "value", "said"),
    [
        ("openai", "not-a-key-at-all-0123456789", "openai"),
        ("gemini", "AIza" + "x" * 20, "gemini"),
        ("gcp-service-account", '{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"}', "private_key"),
        ("aws", '{"access_key_id": "AKIAABCDEFGHIJKLMNOP"}', "secret_access_key"),
        ("azure", '{"client_id": "0b8e5f4a-1c2d-4e3f-9a8b-7c6d5e4f3a2b", "client_secret": "s3cr3t-v4lue"}', "tenant_id"),
    ],
)
def test_a_value_of_the_wrong_shape_is_refused_before_anything_is_stored(
    env_bootstrap: dict[str, str], names: list[str], secret_type: str, value: str, said: str
) -> None:
    name = unique(names, "SHAPE")
    refused = clean(run_bridge(["secrets", "set", name, "--type", secret_type], env_bootstrap, value.encode()), secret_type, value)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert said in refused.stderr and "nothing was changed" in refused.stderr
    assert run_bridge(["secrets", "get", name], env_bootstrap).returncode == 1


def test_a_type_brings_its_schedule_and_policy_changes_need_no_value(env_bootstrap: dict[str, str], names: list[str]) -> None:
    name, key = unique(names, "POLICY"), openai_key()
    stored = clean(run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, key.encode()), "openai", key)
    assert stored.returncode == 0 and "type openai, rotate every 90 days" in stored.stdout.decode()
    first = status(env_bootstrap, name)
    assert (first["type"], first["rotate_every"], first["due"], first["tenant"]) == ("openai", 90 * 86400, "ok", "default")

    # No stdin at all: --keep-value reads no value.
    kept = run_bridge(["secrets", "set", name, "--rotate-every", "30d", "--expires", "2099-01-31", "--keep-value"], env_bootstrap)
    assert kept.returncode == 0 and "updated" in kept.stdout.decode() and "expires 2099-01-31 00:00 UTC" in kept.stdout.decode()
    after = status(env_bootstrap, name)
    assert (after["rotate_every"], after["expires_at"], after["rotated_at"]) == (30 * 86400, "2099-01-31T00:00:00Z", first["rotated_at"])
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout == (key + "\n").encode()

    # A new type must fit the stored value, which is read (never shown) to check it.
    retyped = clean(run_bridge(["secrets", "set", name, "--type", "anthropic", "--keep-value"], env_bootstrap), "openai", key)
    assert retyped.returncode == 1 and "anthropic" in retyped.stderr and status(env_bootstrap, name)["type"] == "openai"
    # A new value of an existing typed secret is checked against its type without --type.
    bad = run_bridge(["secrets", "set", name], env_bootstrap, b"definitely not an openai key")
    assert bad.returncode == 1 and "openai" in bad.stderr
    assert run_bridge(["secrets", "set", name, "--rotate-every", "never", "--expires", "never", "--keep-value"],
                      env_bootstrap).returncode == 0
    assert (status(env_bootstrap, name)["rotate_every"], status(env_bootstrap, name)["expires_at"]) == (None, None)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--rotate-every", "soon"], "--rotate-every"),
        (["--rotate-every", "0s"], "--rotate-every"),
        (["--expires", "2027-02-30"], "--expires"),
        (["--expires", "2027-03-01T10:00:00"], "time zone"),
        (["--type", "mystery"], "invalid choice"),
        ([], "--keep-value changes only what is given"),
    ],
)
def test_bad_policy_options_are_usage_errors(env_bootstrap: dict[str, str], args: list[str], said: str) -> None:
    result = run_bridge(["secrets", "set", "ANY_NAME", "--keep-value", *args], env_bootstrap)
    assert result.returncode == 2 and said in result.stderr, result.stderr


def test_due_overdue_and_expired_with_short_durations(env_bootstrap: dict[str, str], names: list[str]) -> None:
    soon, overdue, expired, calm = (unique(names, prefix) for prefix in ("SOON", "OVERDUE", "EXPIRED", "CALM"))
    for name, args in ((soon, ["--rotate-every", "3d"]), (overdue, ["--rotate-every", "1s"]),
                       (expired, ["--expires", "2020-01-01"]), (calm, ["--rotate-every", "90d"])):
        assert run_bridge(["secrets", "set", name, *args], env_bootstrap, b"value").returncode == 0
    deadline = time.monotonic() + AWAIT_S
    while status(env_bootstrap, overdue)["due"] != "overdue":
        assert time.monotonic() < deadline, "a one-second schedule never fell due"
        time.sleep(0.2)
    listed = {row["name"]: row["due"] for row in as_json(run_bridge(["secrets", "due", "--json"], env_bootstrap))}
    assert {listed.get(n) for n in (soon, overdue, expired)} == {"due", "overdue", "expired"} and calm not in listed
    narrow = {row["name"] for row in as_json(run_bridge(["secrets", "due", "--within", "1d", "--json"], env_bootstrap))}
    assert soon not in narrow and {overdue, expired} <= narrow
    wide = {row["name"] for row in as_json(run_bridge(["secrets", "due", "--within", "120d", "--json"], env_bootstrap))}
    assert calm in wide
    table = run_bridge(["secrets", "due"], env_bootstrap).stdout.decode()
    assert f"{expired}" in table and "expired" in table and "bridge secrets set NAME" in table
    # A new value puts it back on schedule.
    assert run_bridge(["secrets", "set", overdue, "--rotate-every", "30d"], env_bootstrap, b"new").returncode == 0
    assert status(env_bootstrap, overdue)["due"] == "ok"
    # Doctor's fix for an expired one works as said: the expiry was the old value's.
    assert run_bridge(["secrets", "set", expired], env_bootstrap, b"renewed").returncode == 0
    assert (status(env_bootstrap, expired)["due"], status(env_bootstrap, expired)["expires_at"]) == ("ok", None)


def test_a_value_changed_in_vault_directly_is_seen_by_ls_and_due(
    env_bootstrap: dict[str, str], names: list[str], pg: PgCluster
) -> None:
    name = unique(names, "EDITED")
    assert run_bridge(["secrets", "set", name, "--rotate-every", "30d", "--expires", "2020-01-01"],
                      env_bootstrap, b"old value").returncode == 0
    before = status(env_bootstrap, name)
    assert before["due"] == "expired" and name in {row["name"] for row in as_json(run_bridge(["secrets", "due", "--json"], env_bootstrap))}
    # What Studio's Vault page does: Vault's own API as postgres, without the bridge.
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.update_secret(id, 'new value') FROM vault.secrets WHERE name = %s", (name,))
    after = status(env_bootstrap, name)
    # Times show whole seconds, so the edit may share the second of the store: the expiry is what must go.
    assert after["rotated_at"] == after["updated_at"] >= before["updated_at"]
    assert (after["expires_at"], after["due"], after["rotate_every"]) == (None, "ok", 30 * 86400)
    assert name not in {row["name"] for row in as_json(run_bridge(["secrets", "due", "--json"], env_bootstrap))}


# --- test ------------------------------------------------------------------------------


def test_secrets_test_records_ok_invalid_and_unreachable_and_never_shows_the_key(
    env_bootstrap: dict[str, str], names: list[str], fakes: dict[str, ProviderFake]
) -> None:
    name, good, bad = unique(names, "TESTED"), openai_key(), openai_key()
    fakes["openai"] = OpenAIFake(good, echo="full")
    point_at(env_bootstrap, {"openai": fakes["openai"].url})
    assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, good.encode()).returncode == 0

    ok = clean(run_bridge(["secrets", "test", name, "--json"], env_bootstrap), "openai", good)
    result = as_json(ok)
    assert ok.returncode == 0 and set(result) == {"name", "type", "status", "checked_at", "message"}
    assert (result["name"], result["type"], result["status"]) == (name, "openai", "ok")
    assert fakes["openai"].requests[-1].headers["authorization"] == f"Bearer {good}"

    assert run_bridge(["secrets", "set", name], env_bootstrap, bad.encode()).returncode == 0
    assert status(env_bootstrap, name)["status"] is None, "a new value voids the last test"
    refused = clean(run_bridge(["secrets", "test", name], env_bootstrap), "openai", good, bad)
    assert refused.returncode == 1 and "  refused  " in refused.stdout.decode() and "[redacted]" in refused.stdout.decode()
    listed = clean(run_bridge(["secrets", "ls", name, "--json"], env_bootstrap), "openai", bad)
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "invalid" and "refused" in row["check_message"] and row["checked_at"].endswith("Z")

    fakes["openai"].mode = 503
    down = clean(run_bridge(["secrets", "test", name, "--json"], env_bootstrap), "openai", bad)
    assert down.returncode == 1 and as_json(down)["status"] == "unreachable"
    point_at(env_bootstrap, {"openai": closed_port_url()})
    closed = clean(run_bridge(["secrets", "test", name, "--json"], env_bootstrap), "openai", bad)
    assert as_json(closed)["status"] == "unreachable" and "connection refused" in as_json(closed)["message"]

    # A provider that never finishes answering takes its whole deadline, and the outcome is still recorded.
    fakes["openai"].mode = "drip"
    point_at(env_bootstrap, {"openai": fakes["openai"].url}, 'admin_deadline = "2s"\n')
    slow = clean(run_bridge(["secrets", "test", name, "--json"], env_bootstrap), "openai", bad)
    assert as_json(slow)["status"] == "unreachable" and "did not answer within 2 s" in as_json(slow)["message"]
    assert as_json(slow)["checked_at"] is not None and status(env_bootstrap, name)["status"] == "unreachable"


def test_a_rotation_while_the_provider_answers_leaves_the_new_value_untested(
    env_bootstrap: dict[str, str], names: list[str], fakes: dict[str, ProviderFake]
) -> None:
    name, old, new = unique(names, "RACED"), openai_key(), openai_key()
    fakes["openai"] = OpenAIFake(old)
    point_at(env_bootstrap, {"openai": fakes["openai"].url})
    assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, old.encode()).returncode == 0
    fakes["openai"].mode = "hold"
    with ThreadPoolExecutor(max_workers=1) as pool:
        testing = pool.submit(run_bridge, ["secrets", "test", name, "--json"], env_bootstrap)
        assert fakes["openai"].arrived.wait(AWAIT_S), "the provider was never asked"
        # The old value is with the provider, which will accept it; meanwhile a new one (which it would refuse) is stored.
        assert run_bridge(["secrets", "set", name], env_bootstrap, new.encode()).returncode == 0
        fakes["openai"].released.set()
        raced = clean(testing.result(), "openai", old, new)
    shown = as_json(raced)
    assert raced.returncode == 1 and (shown["status"], shown["checked_at"]) == ("changed", None), shown
    assert "discarded" in shown["message"] and "untested" in shown["message"]
    row = status(env_bootstrap, name)
    assert (row["status"], row["checked_at"]) == (None, None), "the old value's ok is not the new value's"
    fakes["openai"].mode = "answer"
    retested = as_json(clean(run_bridge(["secrets", "test", name, "--json"], env_bootstrap), "openai", old, new))
    assert retested["status"] == "invalid" and status(env_bootstrap, name)["status"] == "invalid"


def test_test_all_checks_every_typed_secret_a_few_at_a_time(
    env_bootstrap: dict[str, str], names: list[str], fakes: dict[str, ProviderFake], pg: PgCluster
) -> None:
    tenant = "lifecycle" + secrets.token_hex(3)
    good, stale = openai_key(), anthropic_key()
    fakes["openai"], fakes["anthropic"] = OpenAIFake(good), AnthropicFake(anthropic_key())
    point_at(env_bootstrap, {kind: fake.url for kind, fake in fakes.items()})
    for name, kind, value in (("OPENAI_API_KEY", "openai", good), ("ANTHROPIC_API_KEY", "anthropic", stale), ("PLAIN", None, "x")):
        names.append(f"{tenant}#{name}")
        typed = ["--type", kind] if kind else []
        assert run_bridge(["secrets", "set", name, "--tenant", tenant, *typed], env_bootstrap, value.encode()).returncode == 0
    every = clean(run_bridge(["secrets", "test", "--all", "--tenant", tenant, "--json"], env_bootstrap), "openai", good)
    clean(every, "anthropic", stale)
    assert every.returncode == 1
    assert {(r["name"], r["status"]) for r in json.loads(every.stdout)} == {("ANTHROPIC_API_KEY", "invalid"), ("OPENAI_API_KEY", "ok")}
    shown = run_bridge(["secrets", "test", "--all", "--tenant", tenant], env_bootstrap).stdout.decode().splitlines()
    assert len(shown) == 2 and all(" connected " in line or " refused " in line for line in shown), shown
    generic = run_bridge(["secrets", "test", "PLAIN", "--tenant", tenant], env_bootstrap)
    assert generic.returncode == 1 and "nothing to test" in generic.stderr and generic.stderr.count("\n") == 1
    missing = run_bridge(["secrets", "test", "NOT_THERE", "--tenant", tenant], env_bootstrap)
    assert missing.returncode == 1 and "no secret named NOT_THERE" in missing.stderr
    assert run_bridge(["secrets", "test"], env_bootstrap).returncode == 2


# --- alerts and doctor ---------------------------------------------------------------


def test_failed_resolves_become_an_alert_and_doctor_sums_them_up_with_the_due_secrets(
    env_bootstrap: dict[str, str], names: list[str], tmp_path: Path
) -> None:
    missing, old = unique(names, "MISSING"), unique(names, "OLD_KEY")
    assert run_bridge(["secrets", "set", old, "--expires", "2020-06-30"], env_bootstrap, b"old value").returncode == 0
    for _ in range(6):
        assert run_bridge(["resolve"], env_bootstrap, request(missing)).returncode == 0
    alerts = as_json(run_bridge(["audit", "--alerts", "--since", "1h", "--json"], env_bootstrap))
    (alert,) = [a for a in alerts if a["secret"] == missing]
    assert (alert["kind"], alert["count"], alert["host"]) == ("failures", 6, None)
    assert alert["first_at"].endswith("Z") and set(alert) == {"kind", "secret", "token", "host", "count", "first_at", "last_at", "message"}
    table = run_bridge(["audit", "--alerts"], env_bootstrap).stdout.decode()
    assert missing in table and "failures" in table
    assert run_bridge(["audit", "--alerts", "--failures"], env_bootstrap).returncode == 2

    config = tmp_path / "openclaw.json"
    refs = {"source": "exec", "provider": "supabase"}
    config.write_text(json.dumps({
        "secrets": {"providers": {"supabase": {"source": "exec", "command": "/bin/true"}}},
        "models": {"providers": {"a": {"apiKey": {**refs, "id": old}}, "b": {"apiKey": {**refs, "id": f"{missing}#field"}}}},
    }))
    doctor = run_bridge(["doctor", "--json"], {**env_bootstrap, "OPENCLAW_CONFIG_PATH": str(config), "HOME": str(tmp_path)})
    checks = json.loads(doctor.stdout)["checks"]
    (rotation,) = [c for c in checks if c["name"] == "rotation"]
    assert rotation["status"] == "warn" and f"{old} is expired on 2020-06-30 00:00 UTC" in rotation["detail"]
    assert rotation["fix"] == f"give it a new value: bridge secrets set {old} < file"
    (summary,) = [c for c in checks if c["name"] == "alerts"]
    assert summary["status"] == "warn" and "alert(s) in the last 24 h" in summary["detail"]
    assert summary["fix"] == "bridge audit --alerts --since 24h"
    assert "old value" not in doctor.stdout.decode() + doctor.stderr


def test_a_gateway_doctor_sees_due_dates_through_its_token(
    env_bootstrap: dict[str, str], names: list[str], tmp_path: Path, keys: ProjectKeys, pg: PgCluster
) -> None:
    tenant = "gwdue" + secrets.token_hex(3)
    names.extend([f"{tenant}#DUE_KEY", f"{tenant}#CALM_KEY"])
    try:
        for name, every in (("DUE_KEY", "2d"), ("CALM_KEY", "90d")):
            assert run_bridge(["secrets", "set", name, "--tenant", tenant, "--rotate-every", every], env_bootstrap, b"v").returncode == 0
        token = created_token(run_bridge(["tokens", "create", "gw-doctor", "--tenant", tenant], env_bootstrap))
        home = tmp_path / "gw"
        home.mkdir(mode=0o700)
        config = tmp_path / "openclaw.json"
        refs = {"source": "exec", "provider": "supabase"}
        config.write_text(json.dumps({"models": {"providers": {
            "a": {"apiKey": {**refs, "id": "DUE_KEY"}}, "b": {"apiKey": {**refs, "id": "CALM_KEY"}},
        }}}))
        gateway = {
            "PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(home), "HOME": str(tmp_path), "SUPABASE_URL": env_bootstrap["SUPABASE_URL"],
            "SUPABASE_PUBLISHABLE_KEY": keys.publishable, "BRIDGE_GATEWAY_TOKEN": token, "OPENCLAW_CONFIG_PATH": str(config),
        }
        doctor = run_bridge(["doctor", "--json"], gateway)
        checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"] if c["name"] in ("rotation", "alerts")}
        assert checks["rotation"]["status"] == "warn" and checks["rotation"]["detail"].startswith("DUE_KEY is due on ")
        assert checks["alerts"]["status"] == "skip" and "admin key" in checks["alerts"]["detail"]
        assert token not in doctor.stdout.decode() + doctor.stderr
    finally:
        forget(pg, tenants=(tenant,))
