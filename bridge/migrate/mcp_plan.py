"""What `bridge migrate --mcp` changes in MCP client configs: which env values are credentials, their Vault names,
and each server rewritten to start through `bridge run`. Pure: documents in, documents out; no file, no network.

Claude Desktop, Cursor and the others share `mcpServers.<name>.{command, args, env}`. A credential is an env
value whose name ends in a credential suffix or whose value has a well-known key shape (--include and
--exclude decide otherwise); its Vault name is the variable's, so it reads as what it is. One value used
twice is stored once; two values under one variable name are told apart by their server's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.core.errors import BridgeError
from bridge.core.keys import looks_like_key
from bridge.core.names import name_problem
from bridge.core.run_env import VAR_NAME

CREDENTIAL_SUFFIXES = ("_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "_PAT")
RUN_VERB = "run"
END_OF_OPTIONS = "--"
NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Finding:
    """One credential in one server's env, in memory only."""

    file: str
    server: str
    var: str
    value: str = field(repr=False)

    def label(self) -> str:
        return f"{self.file}: mcpServers.{self.server}.env.{self.var}"


@dataclass(frozen=True)
class ServerChange:
    file: str
    server: str
    mappings: list[tuple[str, str]]
    """(VAR, Vault name) in the order the env listed them."""
    entry: dict[str, Any]
    """The server's entry as it will be written."""


@dataclass
class McpPlan:
    findings: list[Finding]
    names: dict[str, str]
    """Value -> its Vault name (values in memory only)."""
    changes: list[ServerChange]
    documents: dict[str, dict[str, Any]]
    """File -> the whole document as it will be written, for each file with a change."""
    skipped: list[str]

    def values_by_name(self) -> dict[str, str]:
        return {name: value for value, name in self.names.items()}


def is_credential(var: str, value: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    if var in set(exclude):
        return False
    if var in set(include):
        return True
    return var.upper().endswith(CREDENTIAL_SUFFIXES) or looks_like_key(value.strip())


def servers_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    servers = doc.get("mcpServers")
    return servers if isinstance(servers, dict) else {}


def runs_through(entry: Mapping[str, Any], launcher: str) -> bool:
    """Whether the server already starts as `<launcher> run ... -- CMD` (a second migration adds to it)."""
    args = entry.get("args")
    return entry.get("command") == launcher and isinstance(args, list) and args[:1] == [RUN_VERB] and END_OF_OPTIONS in args


def find(
    file: str, doc: Mapping[str, Any], include: Iterable[str], exclude: Iterable[str]
) -> tuple[list[Finding], list[str]]:
    """The credentials in one document, and the servers left alone with why."""
    found: list[Finding] = []
    skipped: list[str] = []
    for server, entry in servers_of(doc).items():
        where = f"{file}: mcpServers.{server}"
        if not isinstance(entry, dict):
            continue
        env = entry.get("env")
        if not isinstance(env, dict):
            continue
        secrets = [
            Finding(file, str(server), str(var), value) for var, value in env.items()
            if isinstance(value, str) and value and is_credential(str(var), value, include, exclude)
        ]
        if not secrets:
            continue
        command, args = entry.get("command"), entry.get("args", [])
        if not isinstance(command, str) or not command:
            skipped.append(f"{where}: no command to start (a remote server?); its env is left as it is")
            continue
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            skipped.append(f"{where}: args is not a list of strings; left as it is")
            continue
        bad = [s.var for s in secrets if not VAR_NAME.fullmatch(s.var)]
        if bad:
            skipped.append(f"{where}: {', '.join(bad)} is not a variable name bridge run can set; left as it is")
            continue
        found.extend(secrets)
    return found, skipped


def vault_names(findings: list[Finding]) -> dict[str, str]:
    """Value -> Vault name: the variable's name, or SERVER_VAR where one variable name holds different values."""
    values_of_var: dict[str, set[str]] = {}
    for finding in findings:
        values_of_var.setdefault(finding.var, set()).add(finding.value)
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    for finding in sorted(findings, key=lambda f: (f.var, f.file, f.server)):
        if finding.value in names:
            continue
        name = finding.var if len(values_of_var[finding.var]) == 1 else f"{NAME_UNSAFE.sub('_', finding.server).upper().strip('_')}_{finding.var}"
        problem = name_problem(name)
        if problem is not None:
            raise BridgeError(f"{finding.label()}: cannot name it in Vault ({problem}); rename the variable, or --exclude {finding.var}")
        if name in taken:
            raise BridgeError(
                f"{finding.label()} and {taken[name]} would both be stored as {name} with different values; "
                f"rename one server, or --exclude {finding.var}"
            )
        names[finding.value] = name
        taken[name] = finding.label()
    return names


def rewritten(entry: Mapping[str, Any], mappings: list[tuple[str, str]], launcher: str) -> dict[str, Any]:
    """The entry started as `<launcher> run --env VAR=NAME ... -- <command> <args>`, its credentials gone from env."""
    moved = {var for var, _ in mappings}
    pairs = [part for var, name in mappings for part in ("--env", f"{var}={name}")]
    new = dict(entry)
    if runs_through(entry, launcher):
        args = list(entry["args"])
        cut = args.index(END_OF_OPTIONS)
        new["args"] = [*args[:cut], *pairs, *args[cut:]]
    else:
        new["command"] = launcher
        new["args"] = [RUN_VERB, *pairs, END_OF_OPTIONS, str(entry["command"]), *entry.get("args", [])]
    env = {var: value for var, value in dict(entry.get("env") or {}).items() if var not in moved}
    if env:
        new["env"] = env
    else:
        new.pop("env", None)
    return new


def plan_mcp(
    documents: Mapping[str, Mapping[str, Any]], launcher: str, include: Iterable[str], exclude: Iterable[str]
) -> McpPlan:
    findings: list[Finding] = []
    skipped: list[str] = []
    for file, doc in documents.items():
        found, left = find(file, doc, include, exclude)
        findings.extend(found)
        skipped.extend(left)
    names = vault_names(findings)
    changes: list[ServerChange] = []
    written: dict[str, dict[str, Any]] = {}
    for file, doc in documents.items():
        servers = dict(servers_of(doc))
        for server, entry in servers_of(doc).items():
            mappings = [(f.var, names[f.value]) for f in findings if f.file == file and f.server == server]
            if not mappings:
                continue
            servers[server] = rewritten(entry, mappings, launcher)
            changes.append(ServerChange(file, str(server), mappings, servers[server]))
        if any(c.file == file for c in changes):
            written[file] = {**doc, "mcpServers": servers}
    return McpPlan(findings, names, changes, written, skipped)
