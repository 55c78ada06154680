"""Commands a person runs against a server that trickles: each ends at its deadline with one line, never later.

The transports' timeouts apply per read, so without a whole-call deadline a
server sending a byte a second holds a command for as long as it likes. A
short `admin_deadline` keeps these tests quick; the assertion is the line that
names the deadline, not a wall-clock time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bridge_proc import run_bridge
from tests.support.faults import FaultProxy
from tests.support.postgrest import ProjectKeys

DEADLINE_LINE = "did not answer within the deadline"


@pytest.fixture
def env(env_bootstrap: dict[str, str], proxy: FaultProxy, bridge_home: Path) -> dict[str, str]:
    (bridge_home / "config.toml").write_text('admin_deadline = "2s"\n')
    return {**env_bootstrap, "SUPABASE_URL": proxy.url}


@pytest.mark.parametrize("mode", ["drip", "trickle"])
@pytest.mark.parametrize(
    "args", [["secrets", "get", "A"], ["secrets", "ls"], ["audit"], ["tokens", "ls"], ["tenants", "ls"]],
    ids=lambda a: " ".join(a),
)
def test_admin_verbs_end_at_their_deadline_with_one_line(
    env: dict[str, str], proxy: FaultProxy, keys: ProjectKeys, mode: str, args: list[str]
) -> None:
    proxy.mode = mode
    result = run_bridge(args, env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and DEADLINE_LINE in lines[0], result.stderr
    assert keys.secret not in result.all_output()


def test_login_ends_at_its_deadline_and_stores_nothing(
    env: dict[str, str], proxy: FaultProxy, keys: ProjectKeys, bridge_home: Path
) -> None:
    proxy.mode = "trickle"
    result = run_bridge(["login", "--url", proxy.url, "--store", "file"], {"PATH": env["PATH"], "BRIDGE_HOME": env["BRIDGE_HOME"]},
                        (keys.secret + "\n").encode())
    assert result.returncode == 1 and DEADLINE_LINE in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (bridge_home / "credentials.sealed").exists()
    assert keys.secret not in result.all_output()


def test_doctor_reports_a_trickling_server_within_its_deadline(env: dict[str, str], proxy: FaultProxy, keys: ProjectKeys) -> None:
    proxy.mode = "trickle"
    result = run_bridge(["doctor", "--json"], env)
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert failed and any(DEADLINE_LINE in c["detail"] for c in failed), report
    assert keys.secret not in result.all_output()
