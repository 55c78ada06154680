"""`bridge secrets rotate|rollback|history` against the PostgREST stand-in and loopback provider fakes.

The provider's verdict on the new value comes before anything changes; the
previous value is looked for in vault.secrets itself (as postgres), never
through the API; every output is searched for every value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.bridge_proc import Result, run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after
from tests.support.provider_fakes import OpenAIFake, ProviderFake, closed_port_url, leaks
from tests.test_lifecycle_cli import as_json, fakes, openai_key, point_at  # noqa: F401 - fakes is a fixture


@pytest.fixture(autouse=True)
def quiet_log(pg: PgCluster) -> Iterator[None]:
    with audit_rows_dropped_after(pg):
        yield


@pytest.fixture
def rotated(pg: PgCluster, env_bootstrap: dict[str, str]) -> Iterator[list[str]]:
    """Names this test made, deleted afterwards through delete_secret, which takes their kept versions too."""
    made: list[str] = []
    try:
        yield made
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            for name in made:
                conn.execute("SET ROLE service_role")
                conn.execute("SELECT public.delete_secret(%s)", (name,))
                conn.execute("RESET ROLE")


def vault_values(pg: PgCluster) -> list[str]:
    with pg.connect("postgres", autocommit=True) as conn:
        return [str(v) for (v,) in conn.execute("SELECT decrypted_secret FROM vault.decrypted_secrets").fetchall()]


def audit_text(pg: PgCluster) -> str:
    with pg.connect("postgres", autocommit=True) as conn:
        return json.dumps([list(map(str, r)) for r in conn.execute("SELECT * FROM public.vault_access_log").fetchall()])


def clean(result: Result, *values: str) -> Result:
    for value in values:
        assert not leaks("openai", value, result.all_output()), result.all_output()
    return result


def history(env: dict[str, str], name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = as_json(run_bridge(["secrets", "history", name, "--json"], env))
    return rows


def test_an_invalid_new_value_is_refused_with_nothing_changed_and_force_stores_it(
    env_bootstrap: dict[str, str], rotated: list[str], fakes: dict[str, ProviderFake], pg: PgCluster,  # noqa: F811
) -> None:
    name, old, refused = "ROTATE_OPENAI_KEY", openai_key(), openai_key()
    rotated.append(name)
    fakes["openai"] = OpenAIFake(old, echo="full")
    point_at(env_bootstrap, {"openai": fakes["openai"].url})
    assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, old.encode()).returncode == 0

    no = clean(run_bridge(["secrets", "rotate", name], env_bootstrap, refused.encode()), old, refused)
    lines = no.stderr.strip().splitlines()
    assert no.returncode == 1 and len(lines) == 1, no.stderr
    assert "provider refused the new value" in lines[0] and "nothing was changed" in lines[0] and "--force" in lines[0]
    assert refused not in vault_values(pg) and run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == old + "\n"
    assert [v["version"] for v in history(env_bootstrap, name)] == [1]

    forced = clean(run_bridge(["secrets", "rotate", name, "--force", "--json"], env_bootstrap, refused.encode()), old, refused)
    assert forced.returncode == 0, forced.stderr
    report = json.loads(forced.stdout)
    assert set(report) == {"name", "changed_at", "updated", "pending", "complete"} and report["complete"] is True
    assert "storing it anyway" in forced.stderr and "https://platform.openai.com/api-keys" in forced.stderr
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == refused + "\n"
    versions = history(env_bootstrap, name)
    assert [(v["version"], v["current"], v["kept"], v["status"]) for v in versions] == [
        (2, True, False, "invalid"), (1, False, True, None),
    ]
    assert vault_values(pg).count(old) == 1, "the previous value is kept in Vault, once"
    text = audit_text(pg)
    assert old not in text and refused not in text


def test_unreachable_warns_and_stores_and_rollback_restores(
    env_bootstrap: dict[str, str], rotated: list[str], pg: PgCluster,
) -> None:
    name, old, new = "ROTATE_UNREACHABLE", openai_key(), openai_key()
    rotated.append(name)
    point_at(env_bootstrap, {"openai": closed_port_url()})
    assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, old.encode()).returncode == 0
    done = clean(run_bridge(["secrets", "rotate", name], env_bootstrap, new.encode()), old, new)
    assert done.returncode == 0 and "could not ask the openai provider" in done.stderr, done.stderr
    assert "next: revoke the old key" in done.stdout.decode()

    asked = clean(run_bridge(["secrets", "rollback", name], env_bootstrap), old, new)
    assert asked.returncode == 2 and "--yes" in asked.stderr
    back = clean(run_bridge(["secrets", "rollback", name, "--yes"], env_bootstrap), old, new)
    assert back.returncode == 0, back.stderr
    assert run_bridge(["secrets", "get", name], env_bootstrap).stdout.decode() == old + "\n"
    table = clean(run_bridge(["secrets", "history", name], env_bootstrap), old, new).stdout.decode()
    assert "3 (= v1)" in table and "unreachable" in table
    with pg.connect("postgres", autocommit=True) as conn:
        (rollbacks,) = conn.execute("SELECT count(*) FROM public.vault_access_log WHERE secret_name = %s AND access_type = 'rollback'",
                                    (name,)).fetchone() or (0,)
    assert rollbacks == 1


def test_keep_previous_zero_purges_the_previous_value_from_vault(env_bootstrap: dict[str, str], rotated: list[str], pg: PgCluster) -> None:
    name, old, new = "ROTATE_GENERIC", "generic-old-value-5d1c9a", "generic-new-value-8f2e7b"
    rotated.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, old.encode()).returncode == 0
    done = run_bridge(["secrets", "rotate", name, "--keep-previous", "0s"], env_bootstrap, new.encode())
    assert done.returncode == 0, done.stderr
    assert old not in done.all_output() and new not in done.all_output()
    assert old not in vault_values(pg)
    assert "wherever it was issued" in done.stdout.decode() and "version 1 was not kept" in done.stdout.decode()
    (latest, first) = history(env_bootstrap, name)
    assert first["purged_at"] is not None and not first["kept"] and latest["current"]
    no = run_bridge(["secrets", "rollback", name, "--yes"], env_bootstrap)
    assert no.returncode == 1 and "no previous version" in no.stderr and no.stderr.count("\n") == 1


@pytest.mark.parametrize(("args", "said"), [
    (["--keep-previous", "a week"], "--keep-previous"), (["--wait", "soon"], "--wait"),
])
def test_bad_durations_are_usage_errors(env_bootstrap: dict[str, str], args: list[str], said: str) -> None:
    done = run_bridge(["secrets", "rotate", "ANY_NAME", *args], env_bootstrap, b"value")
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_rotating_a_secret_that_does_not_exist_reads_no_value(env_bootstrap: dict[str, str]) -> None:
    done = run_bridge(["secrets", "rotate", "NOT_STORED_ANYWHERE"], env_bootstrap, b"would-be-value")
    assert done.returncode == 1 and "store it first" in done.stderr


def test_progress_is_one_updating_line_on_a_terminal_and_one_line_per_change_off_one(
    env_bootstrap: dict[str, str], rotated: list[str], pg: PgCluster,
) -> None:
    from tests.support.bridge_proc import BRIDGE
    from tests.support.terminal import on_a_terminal

    name, values = "ROTATE_PROGRESS", ["progress-old-value-1a2b3c", "progress-new-value-4d5e6f", "progress-third-7a8b9c"]
    rotated.append(name)
    assert run_bridge(["secrets", "set", name], env_bootstrap, values[0].encode()).returncode == 0
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, client, accessed_at) "
                     "VALUES (%s, 'resolve', true, '{\"host\": \"gw-berlin\"}', now() - interval '2 minutes')", (name,))

    code, screen = on_a_terminal([str(BRIDGE), "secrets", "rotate", name, "--wait", "3s"], env_bootstrap,
                                 b"(input hidden): ", values[1].encode() + b"\n")
    assert code == 1, screen
    assert "\r\x1b[2K0/1 gateway has the new value; waiting for gw-berlin (last resolve 2 min" in screen, screen
    assert "not yet: 1 gateway(s) still hold the old value" in screen and "gw-berlin" in screen

    off = run_bridge(["secrets", "rotate", name, "--wait", "3s"], env_bootstrap, values[2].encode())
    lines = off.stdout.decode().splitlines()
    assert off.returncode == 1 and "\r" not in off.stdout.decode()
    (progress,) = [line for line in lines if "the new value; waiting" in line]
    assert progress.startswith("0/1 gateway has the new value; waiting for gw-berlin (last resolve ")
    assert all(value not in screen + off.all_output() for value in values)
