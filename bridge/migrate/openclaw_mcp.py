"""OpenClaw's own MCP servers in `bridge migrate`: acpx's become exec refs, `mcp.servers` start through `bridge run`.

openclaw.json holds MCP servers in two tables (DESIGN.md, "OpenClaw's own MCP servers"):
- `plugins.entries.acpx.config.mcpServers.<name>.env` accepts SecretRefs, so each plaintext credential there
  joins the migration's plan as a config place and `openclaw secrets apply` writes an exec ref through our
  provider, like any other field;
- `mcp.servers.<name>.env` takes no ref, so a stdio server with credentials there is rewritten, as
  `bridge migrate --mcp` rewrites Claude Desktop's, to start as `bridge run --env VAR=NAME -- <command>`. The
  edit goes through OpenClaw's own `openclaw mcp set` (openclaw.json is JSON5 and OpenClaw's to write), is
  read back with `openclaw mcp show --json`, and each rewritten server is started once; any failure restores
  every OpenClaw file from memory.
A remote server's headers and URL, and keys in args, are only named, as with every other client. So are acpx's
env keys while the acpx plugin is not loaded: OpenClaw then neither knows that ref target (its `secrets apply`
calls the plan invalid) nor edits `plugins.entries.acpx.config` ("data/settings upgrade is unfinished").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.local.files import rewrite_in_place
from bridge.migrate.mcp import signals_held, signals_unwind, start_check
from bridge.migrate.mcp_plan import OPENCLAW_SERVERS, McpPlan, find, plan_mcp, table_at
from bridge.migrate.places import ACPX_MCP_SERVERS, CONFIG, Found, Place
from bridge.migrate.snapshot import Snapshot
from bridge.openclaw import json5
from bridge.openclaw.documents import read_text
from bridge.openclaw.runner import run_openclaw


@dataclass
class OpenClawMcp:
    """What the migration does with OpenClaw's MCP servers; values in memory only."""

    acpx: list[Found]
    """acpx env credentials: config places for the main plan (exec refs through `secrets apply`)."""
    servers: McpPlan
    """`mcp.servers` stdio servers rewritten to start through `bridge run`."""
    named: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


ACPX_PLUGIN = "acpx"
LOADED = "loaded"
PLUGINS_TIMEOUT_S = 120


def plugin_loaded(openclaw: str, env: Mapping[str, str], plugin: str) -> bool:
    """Whether `openclaw plugins list --json` shows `plugin` loaded (asked only when it matters: ~5 s)."""
    done = run_openclaw(openclaw, ["plugins", "list", "--json"], env, check=False, timeout=PLUGINS_TIMEOUT_S)
    try:
        listed = json.loads(done.stdout)
    except ValueError:
        return False
    plugins = listed.get("plugins") if isinstance(listed, dict) else None
    return isinstance(plugins, list) and any(
        isinstance(p, dict) and p.get("id") == plugin and p.get("status") == LOADED for p in plugins
    )


def plan_openclaw_mcp(openclaw: str, env: Mapping[str, str], config_file: Path, config: Mapping[str, Any], launcher: str) -> OpenClawMcp:
    file = str(config_file)
    acpx, acpx_skipped, acpx_named = find(file, config, [], [], table_at(ACPX_MCP_SERVERS))
    places = [Found(Place(CONFIG, file, (*f.table, f.server, "env", f.var)), f.value) for f in acpx]
    if places and not plugin_loaded(openclaw, env, ACPX_PLUGIN):
        acpx_named += [
            f"{f.label()} (OpenClaw takes a ref there only with the acpx plugin loaded: `openclaw plugins install acpx`)"
            for f in acpx
        ]
        places = []
    servers = plan_mcp({file: config}, launcher, [], [], table_at(OPENCLAW_SERVERS))
    return OpenClawMcp(places, servers, [*acpx_named, *servers.named], [*acpx_skipped, *servers.skipped])


def rewrite_servers(openclaw: str, env: Mapping[str, str], plan: McpPlan, config_file: Path) -> None:
    """Each server set through `openclaw mcp set`, read back through `openclaw mcp show --json`, then started
    once; on any failure, a signal too, every OpenClaw file goes back as it was."""
    snapshot = Snapshot.take(config_file, [])
    with signals_unwind():
        try:
            for change in plan.changes:
                run_openclaw(openclaw, ["mcp", "set", change.server, json.dumps(change.entry)], env)
                shown = run_openclaw(openclaw, ["mcp", "show", change.server, "--json"], env).stdout
                try:
                    read_back = json.loads(shown)
                except ValueError:
                    read_back = None
                if read_back != change.entry:
                    raise BridgeError(f"{change.label()}: `openclaw mcp show` does not give back what was set")
            values = list(plan.names)
            for change in plan.changes:
                if change.disabled:
                    continue
                problem = start_check(change, env, values)
                if problem is not None:
                    raise BridgeError(f"{change.label()} did not start through bridge run: {problem}")
        except BaseException as exc:  # noqa: BLE001 - a signal too: the files go back whatever stopped the run
            with signals_held():
                snapshot.restore()
            reason = str(exc) if isinstance(exc, BridgeError) else f"interrupted ({exc or type(exc).__name__})"
            raise BridgeError(f"{reason}; every OpenClaw file was restored as it was (the values stay in Vault)") from None


def scrub_backups(config_file: Path, plan: McpPlan) -> list[str]:
    """`openclaw mcp set` keeps the old openclaw.json, plaintext env included, in its rotated backups: in each,
    every rewritten server's entry becomes what openclaw.json now holds, in place. What still holds a moved
    value afterwards (unreadable, or the value elsewhere) is named, for the user to remove."""
    values = set(plan.names)
    entries = {change.server: change.entry for change in plan.changes}
    left: list[str] = []
    for backup in sorted(config_file.parent.glob(config_file.name + ".bak*")):
        if not backup.is_file():
            continue
        text = read_text(backup)
        if not any(value in text for value in values):
            continue
        try:
            doc = json5.loads(text)
        except json5.JSON5Error:
            doc = None
        servers = table_at(OPENCLAW_SERVERS)(doc) if isinstance(doc, dict) else []
        if isinstance(doc, dict) and servers:
            table = servers[0][1]
            for server, entry in entries.items():
                if server in table:
                    table[server] = entry
            text = json5.dumps(doc)
            rewrite_in_place(backup.resolve(), text.encode())
        if any(value in text for value in values):
            left.append(f"{backup}: still holds a moved MCP server key; delete that backup")
    return left
