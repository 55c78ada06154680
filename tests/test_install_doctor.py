"""install.sh into a fresh HOME, the real OpenClaw resolving through the installed launcher, self-checks and doctor."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import install, request, run_bridge
from tests.support.keyring_session import keyring_session
from tests.support.openclaw import OpenClaw, openclaw_on_path
from tests.support.postgrest import Endpoint, ProjectKeys

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[1]
OPENAI = "sk-proj-INSTALLED-3e9f"
REFS_CONFIG = """{
  // written by hand, as people do
  models: { providers: {
    openai: { apiKey: { source: "exec", provider: "supabase", id: "OPENAI_API_KEY" } },
  } },
}
"""
DOCTOR_STATUSES = {"pass", "warn", "fail", "skip"}


def run(command: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(openclaw: OpenClaw, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A user's machine: a keyring session, openclaw on PATH, a hand-written openclaw.json, then ./install.sh."""
    with keyring_session() as session:
        home = Path(session["HOME"])
        openclaw_on_path(openclaw, home / "bin")
        env = {**session, "PATH": f"{home / 'bin'}:/usr/bin:/bin"}
        (home / ".openclaw").mkdir(mode=0o700)
        (home / ".openclaw" / "openclaw.json").write_text(REFS_CONFIG)
        first = install(env)
        assert first.returncode == 0, first.stdout + first.stderr
        env["FIRST_INSTALL_OUTPUT"] = first.stdout
        yield env


def launcher_of(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".openclaw" / "bridge" / "bridge"


def openclaw_config(env: dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((Path(env["HOME"]) / ".openclaw" / "openclaw.json").read_text())
    return config


def test_install_layout_and_registration(installed: dict[str, str]) -> None:
    launcher = launcher_of(installed)
    assert launcher.is_file() and not launcher.is_symlink()
    assert launcher.stat().st_mode & 0o777 == 0o700 and launcher.parent.stat().st_mode & 0o777 == 0o700
    assert launcher.stat().st_uid == os.getuid()
    provider = openclaw_config(installed)["secrets"]["providers"]["supabase"]
    assert provider["command"] == str(launcher) and provider["args"] == ["resolve"]
    assert provider["trustedDirs"] == [str(launcher.parent)]
    assert {"HOME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} <= set(provider["passEnv"])
    assert {"SUPABASE_PUBLISHABLE_KEY", "SUPABASE_ANON_KEY", "BRIDGE_GATEWAY_TOKEN"} <= set(provider["passEnv"]), "a gateway's token"
    assert provider["timeoutMs"] == 5000 and provider["jsonOnly"] is True
    out = installed["FIRST_INSTALL_OUTPUT"]
    assert "login --url" in out and "setup.sql" in out and "doctor" in out
    validate = run(["openclaw", "config", "validate", "--json"], installed)
    assert validate.returncode == 0 and json.loads(validate.stdout)["valid"] is True


def test_login_doctor_all_pass_and_gateway_resolves_through_the_installed_launcher(
    installed: dict[str, str], endpoint: Endpoint, keys: ProjectKeys, vault: Vault
) -> None:
    vault.put("OPENAI_API_KEY", OPENAI)
    launcher = launcher_of(installed)
    login = run([str(launcher), "login", "--url", endpoint.url], installed, keys.secret)
    assert login.returncode == 0, login.stderr
    assert "stored in the OS keyring" in login.stdout

    audit = run(["openclaw", "secrets", "audit", "--allow-exec", "--json"], installed)
    report = json.loads(audit.stdout)
    assert report["resolution"]["resolvabilityComplete"] and report["resolution"]["refsChecked"] == 1
    assert report["summary"]["unresolvedRefCount"] == 0 and audit.returncode == 0

    doctor = run([str(launcher), "doctor", "--json"], installed)
    result = json.loads(doctor.stdout)
    # Alerts count the last day of the whole session database, which other tests share.
    # Edge secrets and notifications are not configured here: each says so as a skip.
    not_passing = [c for c in result["checks"] if c["status"] != "pass" and c["name"] not in ("alerts", "watcher")
                   and not (c["status"] == "skip" and c["name"] in ("edge secrets", "notifications"))]
    # Installed without --with-watch: the watcher line says how to set it up.
    assert [(c["status"], c["detail"]) for c in result["checks"] if c["name"] == "watcher"] == [
        ("skip", "not set up (install.sh --with-watch)")
    ]
    # A gateway holding the project's secret key: the one warning, with the fix (a scoped token).
    assert [(c["name"], c["status"]) for c in not_passing] == [("key type", "warn")]
    assert "bridge tokens create" in not_passing[0]["fix"] and "--gateway-token" in not_passing[0]["fix"]
    assert result["ok"] is True and doctor.returncode == 0
    names = {c["name"] for c in result["checks"]}
    for expected in ("openclaw registration", "openclaw passEnv", "keyring", "credentials", "key type",
                     "reachability", "setup.sql", "canary resolve", "rotation", "alerts", "cache", "watcher",
                     "openclaw audit"):
        assert expected in names
    text = run([str(launcher), "doctor"], installed)
    for output in (doctor.stdout, text.stdout, text.stderr, audit.stdout, audit.stderr):
        assert OPENAI not in output and keys.secret not in output
    assert keys.secret[-4:] in text.stdout


def test_second_install_gives_the_same_result(installed: dict[str, str]) -> None:
    config_before = openclaw_config(installed)
    launcher_before = launcher_of(installed).read_bytes()
    again = install(installed)
    assert again.returncode == 0, again.stderr
    after = openclaw_config(installed)
    assert after["secrets"] == config_before["secrets"] and after["models"] == config_before["models"]
    assert launcher_of(installed).read_bytes() == launcher_before


def test_dry_run_changes_nothing(installed: dict[str, str], tmp_path: Path) -> None:
    config_before = (Path(installed["HOME"]) / ".openclaw" / "openclaw.json").read_bytes()
    dry = install(installed, "--prefix", str(tmp_path / "elsewhere"), "--provider", "vault2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would register provider 'vault2'" in dry.stdout and str(tmp_path / "elsewhere" / "bridge") in dry.stdout
    assert not (tmp_path / "elsewhere").exists()
    assert (Path(installed["HOME"]) / ".openclaw" / "openclaw.json").read_bytes() == config_before


def test_doctor_json_shape(installed: dict[str, str]) -> None:
    result = json.loads(run([str(launcher_of(installed)), "doctor", "--json"], installed).stdout)
    assert set(result) == {"ok", "version", "checks"}
    assert isinstance(result["ok"], bool) and isinstance(result["version"], str)
    for check in result["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in DOCTOR_STATUSES
        assert all(isinstance(check[k], str) for k in ("name", "detail", "fix"))


def test_uninstall_removes_install_and_provider_and_keeps_config_valid(
    openclaw: OpenClaw, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    openclaw_on_path(openclaw, home / "bin")
    env = {"HOME": str(home), "PATH": f"{home / 'bin'}:/usr/bin:/bin"}
    (home / ".openclaw").mkdir(mode=0o700)
    (home / ".openclaw" / "openclaw.json").write_text(REFS_CONFIG)
    assert install(env).returncode == 0
    removed = install(env, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not (home / ".openclaw" / "bridge").exists()
    config = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert "supabase" not in config.get("secrets", {}).get("providers", {})
    assert config["models"]["providers"]["openai"]["apiKey"]["id"] == "OPENAI_API_KEY"
    assert "left alone" in removed.stdout and "OPENAI_API_KEY" in removed.stdout
    validate = run(["openclaw", "config", "validate", "--json"], env)
    assert validate.returncode == 0 and json.loads(validate.stdout)["valid"] is True


def test_without_openclaw_the_json5_file_is_edited_with_a_backup(openclaw: OpenClaw, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True, mode=0o700)
    config = home / ".openclaw" / "openclaw.json"
    config.write_text(REFS_CONFIG)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = install(env, "--provider", "vault")
    assert done.returncode == 0, done.stderr
    backups = list(config.parent.glob("openclaw.json.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == REFS_CONFIG
    doc = json.loads(config.read_text())
    assert doc["secrets"]["providers"]["vault"]["command"] == str(home / ".openclaw" / "bridge" / "bridge")
    assert doc["models"]["providers"]["openai"]["apiKey"]["provider"] == "supabase"
    assert config.stat().st_mode & 0o777 == 0o600
    validate = openclaw.run(["config", "validate", "--json"], home)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    again = install(env, "--provider", "vault")
    assert "already registered" in again.stdout and len(list(config.parent.glob("openclaw.json.bak-*"))) == 1


def test_register_without_openclaw_leaves_the_config_directory_as_it_was(tmp_path: Path) -> None:
    """~/.openclaw is OpenClaw's: a shared, setgid one keeps its mode when the bridge edits the config inside it."""
    home = tmp_path / "home"
    state = home / ".openclaw"
    state.mkdir(parents=True)
    state.chmod(0o2750)
    config = state / "openclaw.json"
    config.write_text(REFS_CONFIG)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(tmp_path / "bridge-home")}
    done = run_bridge(["register", "--provider", "vault", "--command", "/opt/bridge/bridge"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(config.read_text())["secrets"]["providers"]["vault"]["command"] == "/opt/bridge/bridge"
    assert state.stat().st_mode & 0o7777 == 0o2750


def test_unparsable_openclaw_config_is_refused_and_left_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True, mode=0o700)
    config = home / ".openclaw" / "openclaw.json"
    config.write_text("{ models: { broken ")
    done = install({"HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert "not valid JSON5" in done.stderr and "left untouched" in done.stderr
    assert config.read_text() == "{ models: { broken "
    assert not list(config.parent.glob("openclaw.json.bak-*"))


# --- self-checks: doctor fails with the fix, resolve refuses --------------------------


def refused(command: Path, env: dict[str, str], fix: str) -> None:
    result = subprocess.run([str(command), "resolve"], input=request("A"), env=env, capture_output=True, timeout=60, check=False)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b"", stderr
    assert "refusing to run" in stderr and fix in stderr and stderr.count("\n") == 1


def doctor_fails_with(command: Path, env: dict[str, str], fix: str) -> None:
    result = subprocess.run([str(command), "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "fail"]
    assert any(fix in c["fix"] for c in failed), failed


def test_group_writable_launcher_fails_doctor_and_refuses_resolve(launcher: Path, env_bootstrap: dict[str, str]) -> None:
    launcher.chmod(0o720)
    fix = f"chmod go-w {launcher}"
    refused(launcher, env_bootstrap, fix)
    doctor_fails_with(launcher, env_bootstrap, fix)


def test_symlinked_launcher_fails_doctor_and_refuses_resolve(launcher: Path, env_bootstrap: dict[str, str], tmp_path: Path) -> None:
    link = tmp_path / "provider" / "bridge-link"
    link.symlink_to(launcher)
    refused(link, env_bootstrap, "readlink -f")
    doctor_fails_with(link, env_bootstrap, "readlink -f")


def test_world_readable_sealed_file_fails_doctor_and_refuses_resolve(
    launcher: Path, endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    assert run_bridge(["login", "--url", endpoint.url, "--store", "file"], env, keys.secret.encode()).returncode == 0
    sealed = bridge_home / "credentials.sealed"
    sealed.chmod(0o644)
    fix = f"chmod 600 {sealed}"
    refused(launcher, env, fix)
    doctor_fails_with(launcher, env, fix)


def test_group_writable_data_dir_refuses_resolve(launcher: Path, env_bootstrap: dict[str, str], bridge_home: Path) -> None:
    bridge_home.chmod(0o770)
    refused(launcher, env_bootstrap, f"chmod go-w {bridge_home}")


def test_doctor_reports_a_missing_setup_sql_and_wrong_key_without_leaking(
    launcher: Path, env_bootstrap: dict[str, str]
) -> None:
    wrong = "sb_secret_DOCTOR-WRONG-KEY-00000000"
    result = subprocess.run(
        [str(launcher), "doctor", "--json"], env={**env_bootstrap, "SUPABASE_SECRET_KEY": wrong},
        capture_output=True, text=True, timeout=120, check=False,
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.returncode == 1
    assert checks["reachability"]["status"] == "fail" and "rejected the key" in checks["reachability"]["detail"]
    assert "0000" in checks["credentials"]["detail"] and wrong not in result.stdout + result.stderr
    assert checks["openclaw registration"]["status"] == "fail"


def test_legacy_key_is_a_doctor_warning(launcher: Path, env_bootstrap: dict[str, str], keys: ProjectKeys) -> None:
    env = {k: v for k, v in env_bootstrap.items() if k != "SUPABASE_SECRET_KEY"}
    env["SUPABASE_SERVICE_ROLE_KEY"] = keys.service_role_jwt
    result = subprocess.run([str(launcher), "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False)
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["key type"]["status"] == "warn" and "end of 2026" in checks["key type"]["detail"]
    assert checks["setup.sql"]["status"] == "pass" and checks["canary resolve"]["status"] == "pass"
    assert keys.service_role_jwt not in result.stdout
