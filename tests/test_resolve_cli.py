"""`bridge resolve` as the gateway runs it: a subprocess with a minimal environment, against the test endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import request, run_bridge
from tests.support.pg import PgCluster, one
from tests.support.postgrest import Endpoint, ProjectKeys

OPENAI = "sk-proj-OPENAI-e2e-4b1d7c"
GCP_KEY = "-----BEGIN PRIVATE KEY-----\\nMIIE-gcp-e2e-91ac\\n-----END PRIVATE KEY-----\\n"


def assert_no_secret(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output


def test_done_when_example_resolves_values_and_reports_missing(vault: Vault, env_bootstrap: dict[str, str]) -> None:
    vault.put("A", OPENAI)
    vault.put_json("B", {"x": "field-x-value", "private_key": GCP_KEY})
    result = run_bridge(["resolve"], env_bootstrap, request("A", "B#x", "missing"))
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["protocolVersion"] == 1
    assert response["values"] == {"A": OPENAI, "B#x": "field-x-value"}
    assert set(response["errors"]) == {"missing"}
    assert response["errors"]["missing"]["code"] == "NOT_FOUND"
    assert "no secret named missing" in response["errors"]["missing"]["message"]
    assert result.stderr == ""


def test_one_rpc_for_all_ids_and_duplicates_resolved_once(
    vault: Vault, env_bootstrap: dict[str, str], endpoint: Endpoint
) -> None:
    vault.put_json("SA", {"client_email": "svc@example.iam", "private_key": GCP_KEY})
    before = endpoint.calls
    result = run_bridge(["resolve"], env_bootstrap, request("SA#client_email", "SA#private_key", "SA#client_email", "SA"))
    assert endpoint.calls - before == 1
    values = json.loads(result.stdout)["values"]
    assert values["SA#client_email"] == "svc@example.iam"
    assert values["SA#private_key"] == json.loads(json.dumps(GCP_KEY))
    assert set(values) == {"SA#client_email", "SA#private_key", "SA"}


def test_512_ids_in_one_request(vault: Vault, env_bootstrap: dict[str, str], endpoint: Endpoint) -> None:
    for i in range(0, 512, 8):
        vault.put(f"BULK_{i:03d}", f"v{i}")
    before = endpoint.calls
    result = run_bridge(["resolve"], env_bootstrap, request(*(f"BULK_{i:03d}" for i in range(512))))
    response = json.loads(result.stdout)
    assert endpoint.calls - before == 1
    assert len(response["values"]) == 64 and len(response["errors"]) == 448
    assert set(response["values"]) | set(response["errors"]) == {f"BULK_{i:03d}" for i in range(512)}


@pytest.mark.parametrize(
    ("ref_id", "message"),
    [
        ("/OPENAI_API_KEY", "invalid id"),
        ("a/../b", "'.' and '..'"),
        ("A#", "empty selector"),
        ("B#nope", "has no field 'nope'"),
        ("B#n", "is a int, not a string"),
        ("PLAIN#x", "is not JSON"),
        ("EMPTY", "is empty in Vault"),
    ],
)
def test_per_id_faults_name_the_problem(
    vault: Vault, env_bootstrap: dict[str, str], ref_id: str, message: str
) -> None:
    vault.put("A", OPENAI)
    vault.put_json("B", {"x": "1", "n": 5})
    vault.put("PLAIN", "not-json")
    vault.put("EMPTY", "")
    result = run_bridge(["resolve"], env_bootstrap, request("A", ref_id))
    response = json.loads(result.stdout)
    assert response["values"] == {"A": OPENAI}
    assert message in response["errors"][ref_id]["message"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1]", "must be a JSON object"),
        (b'{"protocolVersion":2,"provider":"s","ids":[]}', "unsupported protocolVersion 2"),
        (b'{"protocolVersion":1,"provider":"s","ids":"A"}', "ids must be a list of strings"),
        (b'{"protocolVersion":1,"provider":"s","ids":[1]}', "ids must be a list of strings"),
        (json.dumps({"protocolVersion": 1, "provider": "s", "ids": [f"K{i}" for i in range(513)]}).encode(), "at most 512"),
        (json.dumps({"protocolVersion": 1, "provider": "s", "ids": ["A" * 250] * 1100}).encode(), "larger than 256 KiB"),
    ],
)
def test_request_level_faults_exit_1_with_one_line_and_no_stdout(
    env_bootstrap: dict[str, str], stdin: bytes, message: str
) -> None:
    result = run_bridge(["resolve"], env_bootstrap, stdin)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_sb_secret_and_legacy_jwt_keys_both_work(
    vault: Vault, env_bootstrap: dict[str, str], keys: ProjectKeys
) -> None:
    vault.put("A", OPENAI)
    legacy = {**env_bootstrap, "SUPABASE_SERVICE_ROLE_KEY": keys.service_role_jwt}
    del legacy["SUPABASE_SECRET_KEY"]
    for env in (env_bootstrap, legacy):
        assert json.loads(run_bridge(["resolve"], env, request("A")).stdout)["values"] == {"A": OPENAI}


def test_bad_key_gives_every_id_the_401_message_and_leaks_nothing(
    vault: Vault, env_bootstrap: dict[str, str]
) -> None:
    vault.put("A", OPENAI)
    wrong = "sb_secret_WRONGKEY0000000000000000"
    result = run_bridge(["resolve"], {**env_bootstrap, "SUPABASE_SECRET_KEY": wrong}, request("A", "B"))
    response = json.loads(result.stdout)
    assert response["values"] == {}
    for ref in ("A", "B"):
        assert "rejected the key (HTTP 401" in response["errors"][ref]["message"]
    assert "bridge: Supabase rejected the key" in result.stderr
    assert_no_secret(result.all_output(), wrong, OPENAI)


def test_anon_key_is_refused_before_any_call(env_bootstrap: dict[str, str], keys: ProjectKeys, endpoint: Endpoint) -> None:
    before = endpoint.calls
    env = {**env_bootstrap, "SUPABASE_SECRET_KEY": keys.anon_jwt}
    response = json.loads(run_bridge(["resolve"], env, request("A")).stdout)
    assert "cannot read Vault by itself: give this gateway a token" in response["errors"]["A"]["message"]
    assert endpoint.calls == before


def test_project_without_setup_sql_is_named(pg: PgCluster, keys: ProjectKeys, env_bootstrap: dict[str, str]) -> None:
    with pg.connect("supabase_admin", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bare")
        admin.execute("CREATE DATABASE bare OWNER postgres")
    bare = Endpoint(pg.conninfo("authenticator", dbname="bare"), keys).start()
    try:
        result = run_bridge(["resolve"], {**env_bootstrap, "SUPABASE_URL": bare.url}, request("A"))
    finally:
        bare.stop()
    message = json.loads(result.stdout)["errors"]["A"]["message"]
    assert "setup.sql is not installed" in message and "SQL editor" in message


def test_no_credentials_says_how_to_log_in(bridge_home: Path) -> None:
    result = run_bridge(["resolve"], {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}, request("A"))
    response = json.loads(result.stdout)
    assert "bridge login --url" in response["errors"]["A"]["message"]


def test_audit_log_records_host_and_provider(vault: Vault, env_bootstrap: dict[str, str], pg: PgCluster) -> None:
    import socket

    vault.put("AUDITED", OPENAI)
    run_bridge(["resolve"], env_bootstrap, request("AUDITED", provider="supabase-prod"))
    with pg.connect("supabase_admin") as conn:
        client, accessed_by, success = one(conn.execute(
            "SELECT client, accessed_by, success FROM public.vault_access_log WHERE secret_name = 'AUDITED' ORDER BY id DESC LIMIT 1"
        ))
    assert success is True
    assert client["host"] == socket.gethostname() and client["provider"] == "supabase-prod"
    assert client["user_agent"].startswith("openclaw-supabase-bridge/")
    assert accessed_by == {"role": "service_role"}
