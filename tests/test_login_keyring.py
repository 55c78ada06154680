"""`bridge login` / `logout` and credential lookup, with a real GNOME Keyring and the sealed-file fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge import SCHEMA_VERSION
from tests.conftest import Vault
from tests.support.bridge_proc import resolve, run_bridge
from tests.support.postgrest import Endpoint, ProjectKeys

VALUE = "sk-proj-KEYRING-e2e-55aa"


def keyring_item(env: dict[str, str]) -> str | None:
    """What the keyring holds for the bridge, read through secret-tool (libsecret), not through our code."""
    import subprocess

    out = subprocess.run(
        ["secret-tool", "lookup", "service", "openclaw-supabase-bridge", "username", "default"],
        env=env, capture_output=True, text=True, check=False,
    )
    return out.stdout or None


def test_login_stores_in_the_keyring_and_resolve_reads_it_with_a_gateway_env(
    keyring_env: dict[str, str], endpoint: Endpoint, keys: ProjectKeys, vault: Vault, bridge_home: Path
) -> None:
    vault.put("KR", VALUE)
    login = run_bridge(["login", "--url", endpoint.url], keyring_env, (keys.secret + "\n").encode())
    assert login.returncode == 0, login.stderr
    assert "stored in the OS keyring" in login.stdout.decode()
    assert f"schema version {SCHEMA_VERSION} is installed" in login.stdout.decode()
    assert json.loads(keyring_item(keyring_env) or "{}")["url"] == endpoint.url
    assert not (bridge_home / "credentials.sealed").exists()
    gateway_env = {k: keyring_env[k] for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "BRIDGE_HOME", "PATH")}
    assert resolve(gateway_env, "KR")[0]["values"] == {"KR": VALUE}
    for output in (login.all_output(),):
        assert keys.secret not in output and VALUE not in output

    logout = run_bridge(["logout"], keyring_env)
    assert "removed credentials from the OS keyring" in logout.stdout.decode()
    assert keyring_item(keyring_env) is None
    assert "bridge login" in resolve(gateway_env, "KR")[0]["errors"]["KR"]["message"]


def test_without_a_keyring_login_falls_back_to_the_sealed_file_and_says_so(
    endpoint: Endpoint, keys: ProjectKeys, vault: Vault, bridge_home: Path
) -> None:
    vault.put("SEALED", VALUE)
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    login = run_bridge(["login", "--url", endpoint.url], env, keys.secret.encode())
    assert login.returncode == 0, login.stderr
    assert "no usable OS keyring" in login.stderr and "sealed file" in login.stderr
    sealed = bridge_home / "credentials.sealed"
    assert sealed.exists() and keys.secret.encode() not in sealed.read_bytes()
    assert resolve(env, "SEALED")[0]["values"] == {"SEALED": VALUE}
    assert run_bridge(["logout"], env).returncode == 0
    assert not sealed.exists()


def test_store_file_is_forced_even_with_a_keyring(
    keyring_env: dict[str, str], endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path
) -> None:
    run_bridge(["login", "--url", endpoint.url], keyring_env, keys.secret.encode())
    forced = run_bridge(["login", "--url", endpoint.url, "--store", "file"], keyring_env, keys.secret.encode())
    assert forced.returncode == 0 and "sealed file" in forced.stdout.decode()
    assert (bridge_home / "credentials.sealed").exists()
    assert keyring_item(keyring_env) is None


def test_store_keyring_is_refused_without_one(endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    result = run_bridge(["login", "--url", endpoint.url, "--store", "keyring"], env, keys.secret.encode())
    assert result.returncode == 1 and "cannot use the OS keyring" in result.stderr
    assert result.stderr.count("\n") == 1


def test_login_refuses_a_wrong_key_and_stores_nothing(endpoint: Endpoint, bridge_home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    wrong = "sb_secret_NOT-THE-RIGHT-ONE-000000"
    result = run_bridge(["login", "--url", endpoint.url], env, wrong.encode())
    assert result.returncode == 1 and "rejected the key" in result.stderr
    assert wrong not in result.all_output()
    assert list(bridge_home.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "key", "message"),
    [
        ("http://example.com", "sb_secret_x0000000000000", "refusing plain http"),
        ("not a url", "sb_secret_x0000000000000", "not a Supabase URL"),
        (None, "sb_publishable_abc000000000000", "publishable key"),
        (None, "", "no key given"),
        (None, "hunter2-not-a-key", "unrecognised key"),
    ],
)
def test_login_bad_input_is_one_line_naming_the_fix(
    endpoint: Endpoint, bridge_home: Path, url: str | None, key: str, message: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    result = run_bridge(["login", "--url", url or endpoint.url], env, key.encode())
    assert result.returncode == 1
    assert message in result.stderr and result.stderr.count("\n") == 1
    if key:
        assert key not in result.all_output()
    assert list(bridge_home.iterdir()) == []


def test_legacy_jwt_login_warns_about_retirement(endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    result = run_bridge(["login", "--url", endpoint.url, "--store", "file"], env, keys.service_role_jwt.encode())
    assert result.returncode == 0, result.stderr
    assert "retired by the end of 2026" in result.stderr
    assert keys.service_role_jwt not in result.all_output()


def test_usage_errors_exit_2(bridge_home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    assert run_bridge(["login"], env).returncode == 2
    assert run_bridge(["frobnicate"], env).returncode == 2
    assert run_bridge([], env).returncode == 2
    help_text = run_bridge(["resolve", "--help"], env)
    assert help_text.returncode == 0 and b"example:" in help_text.stdout
