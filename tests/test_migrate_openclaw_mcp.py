"""`bridge migrate` covers OpenClaw's own MCP servers, with the real OpenClaw CLI.

`mcp.servers` stdio servers start through `bridge run` (checked with `openclaw mcp show` and a stand-in server
that checks the digests of what it receives). A remote server's headers, and acpx's `mcpServers.*.env` while
the acpx plugin is not loaded (OpenClaw then takes no ref there, and the plugin is not on the registry this
machine reaches), are named, never shown, and stop the run unless --keep-embedded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bridge.migrate.mcp_plan import find, table_at
from bridge.migrate.places import ACPX_MCP_SERVERS, CONFIG, Place, name_for
from bridge.openclaw import json5
from bridge.openclaw.surface import target_type
from tests.support.openclaw import OpenClaw
from tests.support.pg import PgCluster
from tests.test_migrate import run, vault_values
from tests.test_migrate_edges import MakeInstall, assert_silent
from tests.test_migrate_edges import make_install as make_install  # the fixture
from tests.test_migrate_mcp import SERVER, expects, files_holding, initialize

GITHUB = "ghp_" + "Oc5m" * 9
LINEAR = "lin_api_" + "Ac7x" * 8
BEARER = "Bearer " + "Rm2h" * 10
VALUES = (GITHUB, LINEAR, BEARER)


def config(server: Path, remote: bool) -> str:
    """openclaw.json with a stdio server; with `remote`, a remote one with a bearer header and acpx's servers too."""
    github = {"command": sys.executable, "args": [str(server), *expects(GITHUB_TOKEN=GITHUB, GITHUB_HOST="github.com")],
              "env": {"GITHUB_TOKEN": GITHUB, "GITHUB_HOST": "github.com"}}
    servers = {"github": github}
    if remote:
        servers["remote"] = {"url": "https://mcp.example.com/mcp", "transport": "streamable-http",
                             "headers": {"Authorization": BEARER}}
    acpx = {"enabled": True, "config": {"mcpServers": {"linear": {"command": "node", "args": ["linear.js"],
                                                                   "env": {"LINEAR_API_KEY": LINEAR, "REGION": "eu"}}}}}
    plugins = f"  plugins: {{ entries: {{ acpx: {json.dumps(acpx)} }} }},\n" if remote else ""
    return ("{\n  // OpenClaw's own MCP servers, keys in plaintext\n  gateway: { mode: \"local\" },\n"
            f"  mcp: {{ servers: {json.dumps(servers)} }},\n{plugins}}}\n")


def test_openclaws_mcp_servers_start_through_bridge_run(
    make_install: MakeInstall, openclaw: OpenClaw, pg: PgCluster, tmp_path: Path,
) -> None:
    server = tmp_path / "mcp-server.py"
    server.write_text(SERVER)
    install = make_install(config(server, remote=False), None, {}, ["GITHUB_TOKEN"])
    dry = install.bridge("migrate", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "mcp.servers.github starts through bridge run:" in dry.stdout

    done = install.bridge("migrate", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_silent(dry, VALUES)
    assert_silent(done, VALUES)
    assert files_holding(install.home, *VALUES) == []
    assert vault_values(pg, ["GITHUB_TOKEN"]) == {"GITHUB_TOKEN": GITHUB}

    shown = run(["openclaw", "mcp", "show", "github", "--json"], install.env)
    assert shown.returncode == 0, shown.stderr
    github = json.loads(shown.stdout)
    assert Path(github["command"]).name == "bridge"
    assert github["args"][:4] == ["run", "--env", "GITHUB_TOKEN=GITHUB_TOKEN", "--"]
    assert github["env"] == {"GITHUB_HOST": "github.com"}
    assert initialize(github, install.env)["result"]["serverInfo"]["name"] == "stand-in"
    again = install.bridge("migrate", "--yes")
    assert again.returncode == 0 and "nothing to migrate" in again.stdout, again.stdout + again.stderr


def test_a_remote_servers_headers_and_acpx_keys_are_named_and_stop_the_run_unless_keep_embedded(
    make_install: MakeInstall, openclaw: OpenClaw, pg: PgCluster, tmp_path: Path,
) -> None:
    server = tmp_path / "mcp-server.py"
    server.write_text(SERVER)
    install = make_install(config(server, remote=True), None, {}, ["GITHUB_TOKEN", "LINEAR_API_KEY"])
    # With acpx configured but not installed, each OpenClaw command tries to install it from npm, retrying for
    # minutes; a closed loopback port as the registry and no retries make that fail at once.
    install.env.update({"npm_config_registry": "http://127.0.0.1:9/", "npm_config_fetch_retries": "0"})
    before = (install.state / "openclaw.json").read_bytes()
    refused = install.bridge("migrate", "--yes")
    assert refused.returncode == 1
    assert "mcp.servers.remote.headers.Authorization" in refused.stdout and "--keep-embedded" in refused.stderr
    assert "plugins.entries.acpx.config.mcpServers.linear.env.LINEAR_API_KEY (OpenClaw takes a ref there only" in refused.stdout
    assert (install.state / "openclaw.json").read_bytes() == before
    assert vault_values(pg, ["GITHUB_TOKEN", "LINEAR_API_KEY"]) == {}
    kept = install.bridge("migrate", "--yes", "--keep-embedded")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    for result in (refused, kept):
        assert_silent(result, VALUES)
    shown = json.loads(run(["openclaw", "mcp", "show", "remote", "--json"], install.env).stdout)
    assert shown["headers"] == {"Authorization": BEARER}, "named, left as it is"
    assert files_holding(install.home, GITHUB) == []
    written = json5.loads((install.state / "openclaw.json").read_text())
    assert isinstance(written, dict)
    assert written["plugins"]["entries"]["acpx"]["config"]["mcpServers"]["linear"]["env"]["LINEAR_API_KEY"] == LINEAR


def test_an_acpx_env_key_is_a_ref_target_named_as_its_variable() -> None:
    """With the acpx plugin loaded, each acpx env credential joins the plan as a config place OpenClaw takes a
    ref at, named in Vault as its variable; references and plain settings stay."""
    doc = {"plugins": {"entries": {"acpx": {"config": {"mcpServers": {"linear": {
        "command": "node", "env": {"LINEAR_API_KEY": LINEAR, "REGION": "eu", "OTHER_TOKEN": "${OTHER_TOKEN}"}}}}}}}}
    found, skipped, named = find("openclaw.json", doc, [], [], table_at(ACPX_MCP_SERVERS))
    assert [(f.server, f.var) for f in found] == [("linear", "LINEAR_API_KEY")] and skipped == [] and named == []
    place = Place(CONFIG, "openclaw.json", (*found[0].table, "linear", "env", "LINEAR_API_KEY"))
    assert target_type(place.path) is not None
    assert name_for(place) == "LINEAR_API_KEY"
