"""`bridge migrate --mcp [PATH]`: the plaintext keys in MCP client configs into Vault, each server then started
through `bridge run`, and no plaintext copy left.

bridge migrate's discipline, step by step, each only once every step before it has succeeded: plan (every
file read, every name chosen, Vault checked for a name holding another value); store and read every value
back; rewrite each file in place (same inode, mode and owner; a symlink's target is edited); start each
rewritten server once, which must answer MCP's `initialize` or stay up for START_CHECK_S; any failure puts
every file back from memory. No backup is written: the copy in memory is the only other one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bridge import __version__
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.core.errors import BridgeError, UsageError
from bridge.core.keys import scrub
from bridge.core.text import printable
from bridge.local.files import rewrite_in_place
from bridge.migrate.mcp_plan import McpPlan, ServerChange, plan_mcp
from bridge.migrate.snapshot import Saved, put_back, save
from bridge.openclaw.documents import read_text

START_CHECK_S = 2.0
"""A rewritten server that answers `initialize`, or is still running after this, has started."""
STOP_WAIT_S = 3.0
MCP_PROTOCOL_VERSION = "2025-06-18"
MAX_DETAIL_CHARS = 300


def default_files(env: Mapping[str, str], platform: str = sys.platform) -> list[Path]:
    """Claude Desktop's config and Cursor's, where they are on this OS."""
    home = Path(env.get("HOME") or Path.home())
    if platform == "darwin":
        claude = home / "Library" / "Application Support" / "Claude"
    else:
        claude = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "Claude"
    return [claude / "claude_desktop_config.json", home / ".cursor" / "mcp.json"]


def read_document(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BridgeError(f"{path} is not valid JSON ({exc}); fix it by hand, it was left untouched") from None
    if not isinstance(doc, dict):
        raise BridgeError(f"{path} does not hold a JSON object; fix it by hand, it was left untouched")
    return doc


def encode(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class McpRequest:
    paths: list[Path]
    include: list[str]
    exclude: list[str]
    dry_run: bool
    yes: bool
    as_json: bool


def files_to_read(request: McpRequest, env: Mapping[str, str]) -> list[Path]:
    if request.paths:
        missing = [p for p in request.paths if not p.is_file()]
        if missing:
            raise UsageError(f"--mcp {missing[0]}: no such file; give an MCP client config such as ~/.cursor/mcp.json")
        return request.paths
    return [p for p in default_files(env) if p.is_file()]


def start_check(change: ServerChange, env: Mapping[str, str], values: list[str]) -> str | None:
    """Start the rewritten server once, as its client would: None when it answered `initialize` or stayed up
    for START_CHECK_S, else why not (one line, no value)."""
    entry = change.entry
    child_env = {**env, **{k: str(v) for k, v in dict(entry.get("env") or {}).items()}}
    try:
        proc = subprocess.Popen(
            [str(entry["command"]), *entry["args"]], env=child_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
    except OSError as exc:
        return f"could not start ({exc.strerror or type(exc).__name__})"
    answered = threading.Event()
    errors: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == 1 and "result" in message:
                answered.set()

    def read_stderr() -> None:
        assert proc.stderr is not None
        errors.extend(line for line in proc.stderr if line.strip())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": MCP_PROTOCOL_VERSION, "capabilities": {},
                   "clientInfo": {"name": "bridge-migrate-check", "version": __version__}},
    }
    with contextlib.suppress(OSError):
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(initialize) + "\n")
        proc.stdin.flush()
    ends = time.monotonic() + START_CHECK_S
    while not answered.is_set() and proc.poll() is None and time.monotonic() < ends:
        answered.wait(0.05)
    code = proc.poll()
    stop(proc)
    for reader in readers:
        reader.join(STOP_WAIT_S)
    if answered.is_set() or code is None:
        return None
    said = errors[-1] if errors else ""
    for value in values:
        said = scrub(said, value)
    detail = printable(" ".join(said.split()))[:MAX_DETAIL_CHARS]
    return f"exited with status {code} within {START_CHECK_S:g}s without answering initialize" + (f": {detail}" if detail else "")


def stop(proc: subprocess.Popen[str]) -> None:
    """The server and anything it started (its own session): closed stdin first, as a client quits."""
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(STOP_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def store_and_verify(ctx: Context, plan: McpPlan, existing: Mapping[str, object]) -> None:
    by_name = plan.values_by_name()
    labels = {plan.names[f.value]: f.label() for f in plan.findings}
    with open_client(ctx) as client:
        for name, value in by_name.items():
            if existing.get(name) != value:
                client.set_secret(name, value, f"moved by bridge migrate --mcp from {labels[name]}"[:500])
        back = client.resolve(list(by_name))
    wrong = [name for name, value in by_name.items() if back.get(name) != value]
    if wrong:
        raise BridgeError(f"Vault read back a different value for {', '.join(wrong)}; no file was changed")


def write_and_check(ctx: Context, plan: McpPlan) -> None:
    """Every file rewritten in place, then every rewritten server started once; on any failure (an interrupt
    too) every file is put back from memory."""
    saved: dict[Path, tuple[Path, Saved]] = {}
    try:
        for file, doc in plan.documents.items():
            target = Path(file).resolve()
            saved[Path(file)] = (target, save(target))
            rewrite_in_place(target, encode(doc))
        values = list(plan.names)
        for change in plan.changes:
            problem = start_check(change, ctx.env, values)
            if problem is not None:
                raise BridgeError(f"{change.file}: mcpServers.{change.server} did not start through bridge run: {problem}")
    except BaseException as exc:  # noqa: BLE001 - an interrupt too: the files go back whatever stopped the run
        for target, before in saved.values():
            put_back(target, before)
        reason = str(exc) if isinstance(exc, BridgeError | OSError) else type(exc).__name__
        raise BridgeError(f"{reason}; every file was put back as it was (the values stay in Vault)") from None


def report(plan: McpPlan, existing: Mapping[str, object], files: list[Path], out: TextIO) -> None:
    if not files:
        print("no MCP client config found (Claude Desktop, Cursor); give one: bridge migrate --mcp PATH", file=out)
        return
    print(f"read: {', '.join(str(f) for f in files)}", file=out)
    for change in plan.changes:
        print(f"{change.file}: mcpServers.{change.server} starts through bridge run:", file=out)
        for var, name in change.mappings:
            state = "new" if name not in existing else "in Vault" if existing[name] == plan.values_by_name()[name] else "CONFLICT"
            print(f"  {var} -> Vault {name} ({state})", file=out)
    for line in plan.skipped:
        print(f"left alone: {line}", file=out)
    if not plan.changes:
        print("nothing to migrate: no plaintext credential in those servers' env", file=out)


def as_json(plan: McpPlan, existing: Mapping[str, object], files: list[Path], outcome: str) -> dict[str, Any]:
    by_name = plan.values_by_name()
    return {
        "outcome": outcome, "files": [str(f) for f in files],
        "servers": [
            {"file": c.file, "server": c.server, "env": [
                {"var": var, "name": name, "status": "new" if name not in existing else "in Vault" if existing[name] == by_name[name] else "CONFLICT"}
                for var, name in c.mappings
            ]} for c in plan.changes
        ],
        "skipped": plan.skipped,
    }


def migrate_mcp(request: McpRequest, ctx: Context, confirm: Callable[[Context, int], None]) -> int:
    files = files_to_read(request, ctx.env)
    documents = {str(path): read_document(path) for path in files}
    plan = plan_mcp(documents, str(ctx.launcher), request.include, request.exclude)
    names = sorted(plan.values_by_name())
    existing: dict[str, object] = {}
    if names:
        with open_client(ctx) as client:
            existing = client.resolve(names)
    conflicts = [n for n in names if n in existing and existing[n] != plan.values_by_name()[n]]

    def finish(outcome: str) -> None:
        if request.as_json:
            ctx.out.write(json.dumps(as_json(plan, existing, files, outcome), indent=2) + "\n")

    if not request.as_json:
        report(plan, existing, files, ctx.out)
    if conflicts:
        finish("refused")
        raise BridgeError(
            f"Vault already holds a different value under {', '.join(conflicts)}; nothing was written: "
            "delete or rename that secret, or --exclude the variable"
        )
    if request.dry_run or not plan.changes:
        finish("dry-run" if request.dry_run else "nothing-to-migrate")
        return 0
    if not request.yes:
        confirm(ctx, len(names))
    store_and_verify(ctx, plan, existing)
    write_and_check(ctx, plan)
    finish("migrated")
    if not request.as_json:
        print(f"moved {len(names)} value(s) into Vault; {len(plan.changes)} server(s) now start through bridge run; "
              "restart the MCP client to use them", file=ctx.out)
    return 0
