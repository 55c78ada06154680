"""`bridge migrate --mcp` on every client's config, in the layout each client writes, where it keeps it.

Claude Desktop, Claude Code (`~/.claude.json` top level and `projects.<abs path>`, a project's `.mcp.json`),
Cursor, VS Code (`servers`, `inputs`, `${input:…}`, `envFile`) and Windsurf, each with a stand-in server that
checks the digests of what it receives. References the client expands are never stored; keys the bridge cannot
move (headers, URL, args) are named by file, server and field, never by value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.migrate.mcp_plan import plan_mcp
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, resolve, run_bridge
from tests.test_migrate_mcp import digest, expects, files_holding, initialize

DESKTOP_KEY = "sk-ant-api03-" + "Dk4q" * 10
CODE_USER_KEY = "xoxb-" + "9182" * 6
CODE_LOCAL_KEY = "ghp_" + "Lc7w" * 9
PROJECT_KEY = "sb_secret_" + "Pj2" * 10
VSCODE_KEY = "ghp_" + "Vs5e" * 9
WINDSURF_KEY = "sk-" + "Ws3r" * 12
DISABLED_KEY = "sk-" + "Dz8x" * 12
MOVED = (DESKTOP_KEY, CODE_USER_KEY, CODE_LOCAL_KEY, PROJECT_KEY, VSCODE_KEY, WINDSURF_KEY, DISABLED_KEY)
REFERENCES = ("${env:GITHUB_PERSONAL_ACCESS_TOKEN}", "${LINEAR_API_KEY}", "${OPENAI_API_KEY:-sk-dev}", "${input:github_token}",
              "${userHome}/.keys/token", "Bearer ${env:API_TOKEN}")
BEARER = "Bearer " + "rm1t" * 10
HEADER_KEY = "hk_" + "Hx6y" * 8
URL_KEY = "uk" + "Qz3" * 10
ARGS_KEY = "sk-" + "Ag9z" * 12
PG_PASSWORD = "pg-pw-" + "Pw4" * 6
UNMOVABLE = (BEARER, HEADER_KEY, URL_KEY, ARGS_KEY, PG_PASSWORD)


def stdio(server: Path, **env: str) -> dict[str, Any]:
    """A stdio server as the clients write it, expecting exactly these values (digests in its args)."""
    return {"command": sys.executable, "args": [str(server), *expects(**env)], "env": dict(env)}


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture
def home(tmp_path: Path, env_bootstrap: dict[str, str]) -> tuple[Path, dict[str, str]]:
    from tests.test_migrate_mcp import SERVER

    home = tmp_path / "home"
    home.mkdir()
    (home / "mcp-server.py").write_text(SERVER)
    env = {**env_bootstrap, "HOME": str(home)}
    return home, env


def test_a_reference_the_client_expands_is_never_a_secret() -> None:
    """Cursor's `${env:…}`, Claude Code's `${VAR}` and `${VAR:-default}`, VS Code's `${input:…}`, Cursor's
    `${userHome}`: under credential names, and left exactly as they are."""
    env = {f"REF_{i}_TOKEN": ref for i, ref in enumerate(REFERENCES)}
    docs = {"f.json": {"mcpServers": {"a": {"command": "x", "env": env}}, "servers": {"b": {"command": "y", "env": env}}}}
    plan = plan_mcp(docs, "/opt/bridge", [], [])
    assert plan.findings == [] and plan.changes == [] and plan.documents == {} and plan.named == []
    included = plan_mcp(docs, "/opt/bridge", include=list(env), exclude=[])
    assert included.findings == [], "--include names a variable, it never makes a reference a value"


def test_the_layouts_each_client_uses_are_read_and_keys_elsewhere_are_named() -> None:
    docs: dict[str, dict[str, Any]] = {
        "claude.json": {"numStartups": 3, "mcpServers": {"u": {"command": "x", "env": {"A_KEY": "k-1"}}},
                        "projects": {"/p": {"allowedTools": [], "mcpServers": {"l": {"command": "y", "env": {"B_TOKEN": "t-2"}}}}}},
        "vscode.json": {"inputs": [{"type": "promptString", "id": "gh", "password": True}],
                        "servers": {"gh": {"type": "stdio", "command": "z", "env": {"GH": "${input:gh}", "C_PAT": "p-3"},
                                           "envFile": "${workspaceFolder}/.env"}}},
        "remote.json": {"mcpServers": {"r": {"type": "http", "url": "https://h.example/mcp?api_key=abc&region=eu",
                                             "headers": {"Authorization": "Bearer abc", "X-Trace": "1", "X-Api-Key": "${env:K}"}},
                                       "s": {"command": "npx", "args": ["-y", "srv", "--api-key", "abc", "postgres://u:pw@db/x",
                                                                       "--token=abc", "--port", "1"]}}},
    }
    plan = plan_mcp(docs, "/opt/bridge", [], [])
    assert [c.label() for c in plan.changes] == [
        "claude.json: mcpServers.u", "claude.json: projects./p.mcpServers.l", "vscode.json: servers.gh",
    ]
    written = plan.documents["claude.json"]
    assert written["numStartups"] == 3 and written["projects"]["/p"]["allowedTools"] == []
    assert written["projects"]["/p"]["mcpServers"]["l"]["args"] == ["run", "--env", "B_TOKEN=B_TOKEN", "--", "y"]
    vscode = plan.documents["vscode.json"]
    assert vscode["inputs"] == docs["vscode.json"]["inputs"]
    assert vscode["servers"]["gh"]["env"] == {"GH": "${input:gh}"} and vscode["servers"]["gh"]["envFile"] == "${workspaceFolder}/.env"
    assert plan.named == [
        "remote.json: mcpServers.r.headers.Authorization", "remote.json: mcpServers.r.url (?api_key=)",
        "remote.json: mcpServers.s.args[3]", "remote.json: mcpServers.s.args[4]", "remote.json: mcpServers.s.args[5]",
    ]
    runs_perl = plan_mcp({"f": {"mcpServers": {"p": {"command": "perl", "env": {"PERL5LIB": "/opt/lib", "X_KEY": "k"}}}}},
                         "/opt/bridge", ["PERL5LIB"], [])
    assert runs_perl.changes[0].entry["args"][:3] == ["run", "--allow-var", "PERL5LIB"], "the config already gave it"


def test_every_client_is_read_where_it_keeps_its_config_and_references_stay_as_they_are(
    home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    server = root / "mcp-server.py"
    project = root / "src" / "app"
    project.mkdir(parents=True)
    desktop = write(root / ".config" / "Claude" / "claude_desktop_config.json",
                    {"mcpServers": {"anthropic": stdio(server, ANTHROPIC_API_KEY=DESKTOP_KEY)}})
    claude_code = write(root / ".claude.json", {
        "numStartups": 12, "mcpServers": {"slack": stdio(server, SLACK_BOT_TOKEN=CODE_USER_KEY)},
        "projects": {str(project): {"allowedTools": [], "mcpServers": {"github": stdio(server, GITHUB_TOKEN=CODE_LOCAL_KEY)}}},
    })
    linear = {"command": sys.executable, "args": [str(server)], "env": {"LINEAR_API_KEY": "${LINEAR_API_KEY}"}}
    dot_mcp = write(project / ".mcp.json", {"mcpServers": {"supabase": stdio(server, SUPABASE_SERVICE_ROLE_KEY=PROJECT_KEY),
                                                            "linear": linear}})
    cursor_doc = {"mcpServers": {"github": {"command": sys.executable, "args": [str(server)],
                                            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"}}}}
    cursor = write(root / ".cursor" / "mcp.json", cursor_doc)
    vscode_doc: dict[str, Any] = {
        "inputs": [{"type": "promptString", "id": "github_token", "description": "GitHub PAT", "password": True}],
        "servers": {
            "github": {"type": "stdio", **stdio(server, GITHUB_PAT=VSCODE_KEY)},
            "prompted": {"type": "stdio", "command": sys.executable, "args": [str(server)],
                         "env": {"GITHUB_TOKEN": "${input:github_token}"}, "envFile": "${workspaceFolder}/.env"},
        },
    }
    vscode = write(root / ".config" / "Code" / "User" / "mcp.json", vscode_doc)
    windsurf = write(root / ".codeium" / "windsurf" / "mcp_config.json", {"mcpServers": {
        "openai": stdio(server, OPENAI_API_KEY=WINDSURF_KEY),
        # Disabled: the client never starts it, so the check must not either (it would fail: no such program).
        "old": {"command": str(root / "no-such-server"), "env": {"OLD_API_KEY": DISABLED_KEY}, "disabled": True},
    }})
    vault.names += ["ANTHROPIC_API_KEY", "SLACK_BOT_TOKEN", "GITHUB_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "GITHUB_PAT",
                    "OPENAI_API_KEY", "OLD_API_KEY"]

    dry = run_bridge(["migrate", "--mcp", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout.decode()
    for path in (desktop, claude_code, dot_mcp, vscode, windsurf, cursor):
        assert str(path) in out.splitlines()[0], f"{path} not read"
    assert f"{claude_code}: projects.{project}.mcpServers.github starts through bridge run:" in out
    assert f"{vscode}: servers.github starts through bridge run:" in out
    assert "(disabled: not started to check it)" in out

    done = run_bridge(["migrate", "--mcp", "--yes"], env)
    assert done.returncode == 0, done.stderr
    assert "moved 7 value(s) into Vault; 7 server(s) now start through bridge run" in done.stdout.decode()
    for text in (dry.all_output(), done.all_output()):
        assert not [s for s in MOVED if s in text]
    assert files_holding(root, *MOVED) == []

    # References are exactly as they were, and none of them was stored.
    assert json.loads(cursor.read_text()) == cursor_doc
    assert json.loads(dot_mcp.read_text())["mcpServers"]["linear"] == linear
    written_vscode = json.loads(vscode.read_text())
    assert written_vscode["inputs"] == vscode_doc["inputs"] and written_vscode["servers"]["prompted"] == vscode_doc["servers"]["prompted"]
    response, _ = resolve(env, "LINEAR_API_KEY", "GITHUB_PERSONAL_ACCESS_TOKEN")
    assert response["values"] == {}

    # Each moved server starts as its client starts it, and gets exactly its key.
    code_doc = json.loads(claude_code.read_text())
    assert code_doc["numStartups"] == 12 and code_doc["projects"][str(project)]["allowedTools"] == []
    started = [
        json.loads(desktop.read_text())["mcpServers"]["anthropic"], code_doc["mcpServers"]["slack"],
        code_doc["projects"][str(project)]["mcpServers"]["github"], json.loads(dot_mcp.read_text())["mcpServers"]["supabase"],
        written_vscode["servers"]["github"], json.loads(windsurf.read_text())["mcpServers"]["openai"],
    ]
    for entry in started:
        assert entry["command"] == str(BRIDGE)
        assert initialize(entry, env)["result"]["serverInfo"]["name"] == "stand-in"
    old = json.loads(windsurf.read_text())["mcpServers"]["old"]
    assert old["disabled"] is True and old["args"][-2:] == ["--", str(root / "no-such-server")]
    response, _ = resolve(env, "OLD_API_KEY", "GITHUB_TOKEN")
    assert response["values"] == {"OLD_API_KEY": DISABLED_KEY, "GITHUB_TOKEN": CODE_LOCAL_KEY}
    assert digest(CODE_LOCAL_KEY) in " ".join(code_doc["projects"][str(project)]["mcpServers"]["github"]["args"])


def unmovable_config(server: Path) -> dict[str, Any]:
    return {"mcpServers": {
        "remote": {"type": "http", "url": f"https://mcp.example.com/mcp?api_key={URL_KEY}&region=eu",
                   "headers": {"Authorization": BEARER, "X-API-Key": HEADER_KEY, "X-Ref": "${env:OTHER_TOKEN}"}},
        "cli": {"command": sys.executable, "args": [str(server), "--api-key", ARGS_KEY, f"postgres://app:{PG_PASSWORD}@db:5432/app"]},
    }}


def test_keys_the_bridge_cannot_move_are_named_never_shown_and_stop_the_run(
    home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    server = root / "mcp-server.py"
    only_unmovable = write(root / "remote.json", unmovable_config(server))
    before = only_unmovable.read_bytes()
    done = run_bridge(["migrate", "--mcp", str(only_unmovable), "--dry-run"], env)
    out = done.stdout.decode()
    assert done.returncode == 1 and "nothing to migrate" not in out
    assert "--keep-embedded" in done.stderr
    for field in ("mcpServers.remote.headers.Authorization", "mcpServers.remote.headers.X-API-Key",
                  "mcpServers.remote.url (?api_key=)", "mcpServers.cli.args[2]", "mcpServers.cli.args[3]"):
        assert f"key not moved: {only_unmovable}: {field}" in out, field
    assert "X-Ref" not in out
    assert not [s for s in UNMOVABLE if s in done.all_output()]

    mixed_doc = unmovable_config(server)
    mixed_doc["mcpServers"]["local"] = stdio(server, GITHUB_TOKEN=CODE_LOCAL_KEY)
    mixed = write(root / "mixed.json", mixed_doc)
    mixed_before = mixed.read_bytes()
    vault.names += ["GITHUB_TOKEN"]
    refused = run_bridge(["migrate", "--mcp", str(mixed), "--yes"], env)
    assert refused.returncode == 1 and mixed.read_bytes() == mixed_before
    response, _ = resolve(env, "GITHUB_TOKEN")
    assert response["values"] == {}, "nothing was stored"
    kept = run_bridge(["migrate", "--mcp", str(mixed), "--yes", "--keep-embedded"], env)
    assert kept.returncode == 0, kept.stderr
    assert "moved 1 value(s)" in kept.stdout.decode() and "key not moved:" in kept.stdout.decode()
    for text in (refused.all_output(), kept.all_output()):
        assert not [s for s in (*UNMOVABLE, CODE_LOCAL_KEY) if s in text]
    after = json.loads(mixed.read_text())
    assert after["mcpServers"]["remote"] == mixed_doc["mcpServers"]["remote"]
    assert after["mcpServers"]["cli"] == mixed_doc["mcpServers"]["cli"]
    assert only_unmovable.read_bytes() == before
