"""`bridge migrate --mcp`: an MCP client config's keys into Vault, its servers then started through `bridge run`.

The servers are a stand-in MCP server script: it checks the digests of the env it was given (never the values)
and answers `initialize` on stdio, as a real stdio server does. Every file under HOME is searched for the
plaintext afterwards, and every output too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.migrate.mcp_plan import plan_mcp
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, resolve, run_bridge

GITHUB_PAT = "ghp_" + "M9c4" * 9
SERVICE_ROLE = "sb_secret_" + "Kp7" * 10
SLACK = "xoxb-" + "4711" * 6
VALUES = (GITHUB_PAT, SERVICE_ROLE, SLACK)

SERVER = """\
import hashlib, json, os, sys
for spec in sys.argv[1:]:
    var, _, want = spec.partition("=")
    got = os.environ.get(var)
    if got is None or hashlib.sha256(got.encode()).hexdigest() != want:
        print(f"env check failed for {var}", file=sys.stderr)
        sys.exit(3)
for line in sys.stdin:
    message = json.loads(line)
    if message.get("method") == "initialize":
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
            "protocolVersion": message["params"]["protocolVersion"], "capabilities": {},
            "serverInfo": {"name": "stand-in", "version": "1"}}}), flush=True)
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def expects(**env: str) -> list[str]:
    return [f"{var}={digest(value)}" for var, value in env.items()]


@pytest.fixture
def home(tmp_path: Path, env_bootstrap: dict[str, str]) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    server = home / "mcp-server.py"
    server.write_text(SERVER)
    env = {**env_bootstrap, "HOME": str(home)}
    env.pop("XDG_CONFIG_HOME", None)
    return home, env


def claude_config(home: Path, server: Path) -> dict[str, Any]:
    py = sys.executable
    return {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "github": {
                "command": py, "args": [str(server), *expects(GITHUB_PERSONAL_ACCESS_TOKEN=GITHUB_PAT, GITHUB_HOST="github.com")],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GITHUB_PAT, "GITHUB_HOST": "github.com"},
            },
            "supabase": {
                "command": py,
                "args": [str(server), *expects(SUPABASE_SERVICE_ROLE_KEY=SERVICE_ROLE, SLACK_HOOK=SLACK, GITHUB_PAT=GITHUB_PAT)],
                "env": {"SUPABASE_SERVICE_ROLE_KEY": SERVICE_ROLE, "SLACK_HOOK": SLACK, "GITHUB_PAT": GITHUB_PAT},
            },
            "filesystem": {"command": py, "args": [str(server), *expects(ROOT="/srv")], "env": {"ROOT": "/srv"}},
        },
    }


def files_holding(root: Path, *secrets: str) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits += [f"{path} holds secret #{i}" for i, s in enumerate(secrets) if s.encode() in data]
    return hits


def initialize(entry: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Start a server as its client would and ask it `initialize`; its answer."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    done = subprocess.run([entry["command"], *entry["args"]], input=json.dumps(request) + "\n", env={**env, **entry.get("env", {})},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[0])
    return answer


def test_three_servers_are_migrated_start_through_bridge_run_and_no_value_is_left_under_home(
    home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    server = root / "mcp-server.py"
    # The config is a link into the user's dotfiles: the file it points at is the one edited, in place.
    dotfiles = root / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "claude_desktop_config.json"
    real.write_text(json.dumps(claude_config(root, server), indent=4))
    real.chmod(0o640)
    link = root / ".config" / "Claude" / "claude_desktop_config.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    inode = real.stat().st_ino
    before = real.read_bytes()
    vault.names += ["GITHUB_PAT", "GITHUB_PERSONAL_ACCESS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "SLACK_HOOK"]

    dry = run_bridge(["migrate", "--mcp", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert real.read_bytes() == before
    assert "mcpServers.github starts through bridge run:" in dry.stdout.decode()
    assert "filesystem" not in dry.stdout.decode()

    done = run_bridge(["migrate", "--mcp", "--yes"], env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "moved 3 value(s) into Vault; 2 server(s) now start through bridge run" in out
    for text in (dry.all_output(), done.all_output()):
        assert not [s for s in VALUES if s in text]

    assert link.is_symlink() and real.stat().st_ino == inode and real.stat().st_mode & 0o777 == 0o640
    doc = json.loads(real.read_text())
    assert doc["globalShortcut"] == "Ctrl+Space"
    servers = doc["mcpServers"]
    github = servers["github"]
    assert github["command"] == str(BRIDGE)
    assert github["args"][:3] == ["run", "--env", "GITHUB_PERSONAL_ACCESS_TOKEN=GITHUB_PAT"]
    assert github["args"][3:5] == ["--", sys.executable] and github["env"] == {"GITHUB_HOST": "github.com"}
    supabase = servers["supabase"]
    assert "env" not in supabase
    assert supabase["args"][:7] == ["run", "--env", "SUPABASE_SERVICE_ROLE_KEY=SUPABASE_SERVICE_ROLE_KEY",
                                    "--env", "SLACK_HOOK=SLACK_HOOK", "--env", "GITHUB_PAT=GITHUB_PAT"]
    assert servers["filesystem"] == claude_config(root, server)["mcpServers"]["filesystem"]
    assert files_holding(root, *VALUES) == []

    # The same value twice is stored once, under the first variable's name in sorted order.
    response, _ = resolve(env, "GITHUB_PAT", "SUPABASE_SERVICE_ROLE_KEY", "SLACK_HOOK", "GITHUB_PERSONAL_ACCESS_TOKEN")
    assert response["values"] == {"GITHUB_PAT": GITHUB_PAT, "SUPABASE_SERVICE_ROLE_KEY": SERVICE_ROLE, "SLACK_HOOK": SLACK}
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in response["errors"]

    # The rewritten servers start as the client starts them, and answer.
    for name in ("github", "supabase"):
        assert initialize(servers[name], env)["result"]["serverInfo"]["name"] == "stand-in"

    again = run_bridge(["migrate", "--mcp", "--yes"], env)
    assert again.returncode == 0 and "nothing to migrate" in again.stdout.decode()
    assert json.loads(real.read_text()) == doc


def test_a_name_that_holds_another_value_in_vault_stops_everything_before_a_write(
    home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    config = root / "mcp.json"
    config.write_text(json.dumps(claude_config(root, root / "mcp-server.py")))
    before = config.read_bytes()
    vault.put("SLACK_HOOK", "xoxb-someone-elses-000000000")
    done = run_bridge(["migrate", "--mcp", str(config), "--yes"], env)
    assert done.returncode == 1 and "Vault already holds a different value under SLACK_HOOK" in done.stderr
    assert "SLACK_HOOK -> Vault SLACK_HOOK (CONFLICT)" in done.stdout.decode()
    assert config.read_bytes() == before
    response, _ = resolve(env, "GITHUB_PAT")
    assert "GITHUB_PAT" in response["errors"], "nothing was stored"
    assert not [s for s in VALUES if s in done.all_output()]


def test_a_server_that_does_not_start_puts_every_file_back(home: tuple[Path, dict[str, str]], vault: Vault) -> None:
    root, env = home
    config = root / "mcp.json"
    doc = claude_config(root, root / "mcp-server.py")
    # This server expects a variable nobody gives it: it exits at once, so the migration must undo itself.
    doc["mcpServers"]["github"]["args"].append(f"MISSING={digest('x')}")
    config.write_text(json.dumps(doc))
    before = config.read_bytes()
    vault.names += ["GITHUB_PAT", "GITHUB_PERSONAL_ACCESS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "SLACK_HOOK"]
    done = run_bridge(["migrate", "--mcp", str(config), "--yes", "--json"], env)
    assert done.returncode == 1
    assert "mcpServers.github did not start through bridge run: exited with status 3" in done.stderr
    assert "every file was put back as it was (the values stay in Vault)" in done.stderr
    assert config.read_bytes() == before
    assert not [s for s in VALUES if s in done.all_output()]


def test_include_and_exclude_decide_and_the_plan_is_pure() -> None:
    docs = {"f.json": {"mcpServers": {"a": {"command": "x", "env": {
        "API_KEY": "k-1", "WEBHOOK": "plain-looking", "SESSION": "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "MODE": "dev",
    }}}}}
    plan = plan_mcp(docs, "/opt/bridge", include=["WEBHOOK"], exclude=["API_KEY"])
    assert [(c.server, c.mappings) for c in plan.changes] == [("a", [("WEBHOOK", "WEBHOOK"), ("SESSION", "SESSION")])]
    assert plan.documents["f.json"]["mcpServers"]["a"]["env"] == {"API_KEY": "k-1", "MODE": "dev"}
    assert plan.documents["f.json"]["mcpServers"]["a"]["args"] == [
        "run", "--env", "WEBHOOK=WEBHOOK", "--env", "SESSION=SESSION", "--", "x",
    ]
    clash = {"f.json": {"mcpServers": {
        "one": {"command": "x", "env": {"API_KEY": "k-1"}}, "two-b": {"command": "y", "env": {"API_KEY": "k-2"}},
    }}}
    names = plan_mcp(clash, "/opt/bridge", [], []).values_by_name()
    assert names == {"ONE_API_KEY": "k-1", "TWO_B_API_KEY": "k-2"}
    remote = {"f.json": {"mcpServers": {"r": {"url": "https://mcp.example.com", "env": {"X_TOKEN": "t-1"}}}}}
    assert plan_mcp(remote, "/opt/bridge", [], []).named == ["f.json: mcpServers.r.env.X_TOKEN (no command to start: a remote server)"]


def test_usage_errors(home: tuple[Path, dict[str, str]]) -> None:
    _, env = home
    missing = run_bridge(["migrate", "--mcp", "/nonexistent/mcp.json", "--dry-run"], env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    alone = run_bridge(["migrate", "--include", "X", "--dry-run"], env)
    assert alone.returncode == 2 and "go with --mcp" in alone.stderr
    none = run_bridge(["migrate", "--mcp", "--dry-run"], env)
    assert none.returncode == 0 and "no MCP client config found" in none.stdout.decode()
    assert os.environ.get("HOME") != env["HOME"]
