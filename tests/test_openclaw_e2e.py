"""The real OpenClaw gateway CLI spawning `bridge resolve` as its exec secret provider, against the test endpoint.

The other tests speak the exec protocol to the bridge themselves; this one lets
OpenClaw do it, so its launcher checks, its stripped environment and its reading
of our answers are all exercised. The first run installs Node and OpenClaw with
npm into .test-tools/ (~30 s).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.faults import FaultProxy
from tests.support.openclaw import OpenClaw, write_config
from tests.support.postgrest import ProjectKeys

OPENAI = "sk-proj-OPENAI-oc-e2e-7f3a9c"
ANTHROPIC = "sk-ant-api03-oc-e2e-c41d8e"
REFS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
BOOTSTRAP = ["SUPABASE_URL", "SUPABASE_SECRET_KEY", "BRIDGE_HOME"]


@pytest.fixture
def oc_home(tmp_path: Path) -> Path:
    home = tmp_path / "oc-home"
    home.mkdir(mode=0o700)
    return home


@pytest.fixture
def bootstrap_env(env_bootstrap: dict[str, str]) -> dict[str, str]:
    """Set on the openclaw process and forwarded by passEnv, so the config file never holds the secret key.

    PATH stays OpenClaw's own (its Node must stay first on it).
    """
    return {name: value for name, value in env_bootstrap.items() if name in BOOTSTRAP}


def configure(home: Path, launcher: Path) -> Path:
    provider = {
        "source": "exec",
        "command": str(launcher),
        "args": ["resolve"],
        "passEnv": BOOTSTRAP,
        "trustedDirs": [str(launcher.parent)],
        "timeoutMs": 5000,
        "jsonOnly": True,
    }
    return write_config(home, provider, REFS)


def audit(openclaw: OpenClaw, home: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    done = openclaw.run(["secrets", "audit", "--allow-exec", "--json"], home, extra_env=env)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"audit printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.returncode, report, done.stdout + done.stderr


def assert_valid(openclaw: OpenClaw, home: Path, env: dict[str, str]) -> None:
    done = openclaw.run(["config", "validate", "--json"], home, extra_env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["valid"] is True


def test_gateway_resolves_present_refs_and_reports_absent(
    openclaw: OpenClaw, vault: Vault, launcher: Path, oc_home: Path, bootstrap_env: dict[str, str], keys: ProjectKeys
) -> None:
    """One stored, one missing: OpenClaw must blame only the missing ref, with our NOT_FOUND code, and echo no value."""
    vault.put("OPENAI_API_KEY", OPENAI)
    vault.delete("ANTHROPIC_API_KEY")
    config = configure(oc_home, launcher)
    assert_valid(openclaw, oc_home, bootstrap_env)

    returncode, report, output = audit(openclaw, oc_home, bootstrap_env)

    assert report["resolution"]["resolvabilityComplete"] is True
    assert report["resolution"]["refsChecked"] == 2
    assert report["summary"]["unresolvedRefCount"] == 1
    assert len(report["findings"]) == 1, report["findings"]
    (finding,) = report["findings"]
    assert finding["jsonPath"] == "models.providers.anthropic.apiKey"
    assert "NOT_FOUND" in finding["message"]
    assert not any("openai" in f["jsonPath"] for f in report["findings"])
    assert returncode == 2
    for secret in (OPENAI, keys.secret):
        assert secret not in output
        assert secret not in config.read_text()


def test_gateway_all_present_is_clean(
    openclaw: OpenClaw, vault: Vault, launcher: Path, oc_home: Path, bootstrap_env: dict[str, str]
) -> None:
    """Both refs in Vault: the audit is clean and exits 0, which is what `openclaw secrets audit` in CI relies on."""
    vault.put("OPENAI_API_KEY", OPENAI)
    vault.put("ANTHROPIC_API_KEY", ANTHROPIC)
    configure(oc_home, launcher)

    returncode, report, output = audit(openclaw, oc_home, bootstrap_env)

    assert report["status"] == "clean", report
    assert report["resolution"] == {"refsChecked": 2, "skippedExecRefs": 0, "resolvabilityComplete": True}
    assert report["summary"]["unresolvedRefCount"] == 0
    assert returncode == 0
    assert OPENAI not in output and ANTHROPIC not in output


def test_gateway_still_resolves_from_the_cache_with_supabase_stopped(
    openclaw: OpenClaw, vault: Vault, launcher: Path, oc_home: Path, bootstrap_env: dict[str, str], proxy: FaultProxy
) -> None:
    """Seed 004's open threat: Supabase down must not stop the gateway. One good start warms the cache; then the port is closed."""
    vault.put("OPENAI_API_KEY", OPENAI)
    vault.put("ANTHROPIC_API_KEY", ANTHROPIC)
    configure(oc_home, launcher)
    env = {**bootstrap_env, "SUPABASE_URL": proxy.url}
    assert audit(openclaw, oc_home, env)[1]["status"] == "clean"
    proxy.stop()

    returncode, report, output = audit(openclaw, oc_home, env)

    assert report["resolution"]["resolvabilityComplete"] is True
    assert report["summary"]["unresolvedRefCount"] == 0, report["findings"]
    assert returncode == 0
    assert OPENAI not in output and ANTHROPIC not in output


def test_gateway_refuses_group_writable_launcher(
    openclaw: OpenClaw, launcher: Path, oc_home: Path, bootstrap_env: dict[str, str]
) -> None:
    """The gateway's own guard, documented here: a launcher others could rewrite is rejected before it is ever run."""
    configure(oc_home, launcher)
    launcher.chmod(0o720)

    done = openclaw.run(["config", "validate", "--json"], oc_home, extra_env=bootstrap_env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "permissions are too open" in done.stdout + done.stderr
