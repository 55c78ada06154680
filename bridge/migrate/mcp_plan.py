"""What `bridge migrate --mcp` changes in MCP client configs: which env values are credentials, their Vault names,
and each server rewritten to start through `bridge run`. Pure: documents in, documents out; no file, no network.

Every client keeps `<name>: {command, args, env}` entries in one or more tables: `mcpServers` (Claude Desktop,
Cursor, Windsurf, Claude Code's user scope), `servers` (VS Code), `projects.<abs path>.mcpServers` (Claude Code's
local scope). A credential is an env value whose name ends in a credential suffix or whose value has a
well-known key shape (--include and --exclude decide otherwise); its Vault name is the variable's, so it reads
as what it is. One value used twice is stored once; two values under one variable name are told apart by their
server's name. A value holding a reference the client expands (`${VAR}`, `${env:VAR}`, `${VAR:-default}`,
`${input:id}`, `${userHome}`) is no secret: it is left exactly as it is. Keys the bridge cannot move (a remote
server's headers and URL, a key in args) are named by file, server and field, never by value.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bridge.core.errors import BridgeError
from bridge.core.keys import looks_like_key
from bridge.core.names import name_problem
from bridge.core.run_env import VAR_NAME, takes_over

CREDENTIAL_SUFFIXES = ("_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "_PAT")
RUN_VERB = "run"
END_OF_OPTIONS = "--"
ALLOW_VAR = "--allow-var"
NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
REFERENCE = re.compile(r"\$\{[^}$]*+\}")
"""What Claude Code (`${VAR}`, `${VAR:-default}`), Cursor and Windsurf (`${env:VAR}`, `${userHome}`,
`${workspaceFolder}`) and VS Code (`${input:id}`, `${env:VAR}`) expand when they start a server. No `$`
inside, so a run of `${${${…` is one pass, not one scan per start."""
TABLE_KEYS = ("mcpServers", "servers")
PROJECTS = "projects"
OPENCLAW_SERVERS = ("mcp", "servers")
"""OpenClaw's own MCP servers in openclaw.json: stdio (`command`, `args`, `env`) or remote (`url`, `headers`)."""
Tables = Callable[[Mapping[str, Any]], list[tuple[tuple[str, ...], dict[str, Any]]]]
CREDENTIAL_WORDS = ("token", "key", "secret", "password", "passwd", "auth", "credential", "signature")
"""A header, query parameter or option whose name holds one of these words carries a credential."""
URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://[^/\s:@]++:([^/\s@]++)@")
"""A URL with a password; the scheme starts a run of scheme characters and every part is possessive, so a
long run of letters is one pass (a scheme tried from each of its letters was quadratic)."""
SCHEME_TOKEN = re.compile(r"(?i)^(bearer|basic|token)\s+\S+")


@dataclass(frozen=True)
class Finding:
    """One credential in one server's env, in memory only."""

    file: str
    table: tuple[str, ...]
    server: str
    var: str
    value: str = field(repr=False)

    def label(self) -> str:
        return f"{self.file}: {where(self.table, self.server)}.env.{self.var}"


def where(table: tuple[str, ...], server: str) -> str:
    """`mcpServers.github`, `servers.github`, `projects./home/me/app.mcpServers.github`: the path a user searches for."""
    return ".".join((*table, server))


@dataclass(frozen=True)
class ServerChange:
    file: str
    table: tuple[str, ...]
    server: str
    mappings: list[tuple[str, str]]
    """(VAR, Vault name) in the order the env listed them."""
    entry: dict[str, Any]
    """The server's entry as it will be written."""
    disabled: bool = False
    """The client does not start it (`disabled: true`): rewritten, never started by the start check."""

    def label(self) -> str:
        return f"{self.file}: {where(self.table, self.server)}"


@dataclass
class McpPlan:
    findings: list[Finding]
    names: dict[str, str]
    """Value -> its Vault name (values in memory only)."""
    changes: list[ServerChange]
    documents: dict[str, dict[str, Any]]
    """File -> the whole document as it will be written, for each file with a change."""
    skipped: list[str]
    named: list[str] = field(default_factory=list)
    """Keys the bridge cannot move: file, server and field, never the value."""

    def values_by_name(self) -> dict[str, str]:
        return {name: value for value, name in self.names.items()}


CREDENTIAL_NAME = re.compile(r"(?:^|_)(?:API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|PAT)(?:_|\d|$)|PASSWORD$|APIKEY")
"""A variable named like a credential: *_TOKEN and *_KEY as before, and TOKEN, APIKEY, PGPASSWORD, API_TOKEN_V2,
AUTH_TOKEN_VALUE, CLIENT_SECRET_1..."""
NOT_SECRET = re.compile(r"(?i)^(?:true|false|yes|no|on|off|none|null|\d{1,6}|[~./][^\s]*|https?://[^@\s]*)$")
"""A value no key is: a boolean, a small number, a path, a URL with no password."""
MIN_LITERAL_CHARS = 8
ENV_OPTIONS = ("-e", "--env")
"""docker's (and podman's) option giving the container a variable: `-e VAR=value`, `--env=VAR=value`."""


def is_credential(var: str, value: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    if var in set(exclude):
        return False
    if var in set(include):
        return True
    stripped = value.strip()
    if looks_like_key(stripped) or URL_PASSWORD.search(stripped):
        return True
    named = var.upper().endswith(CREDENTIAL_SUFFIXES) or CREDENTIAL_NAME.search(var.upper()) is not None
    return named and NOT_SECRET.match(stripped) is None


def is_reference(value: str) -> bool:
    return REFERENCE.search(value) is not None


def literal(value: str) -> str:
    """What of a value the client does not expand: its text with every `${…}` reference cut out."""
    return REFERENCE.sub(" ", value)


def literal_key(var: str, value: str) -> bool:
    """A value holding a reference whose literal part may still be a key: never stored (the client expands the
    reference), but named."""
    rest = literal(value).strip()
    if holds_key(rest) or any(holds_key(part) for part in rest.split()):
        return True
    return credential_name(var) and len(rest.replace(" ", "")) >= MIN_LITERAL_CHARS and NOT_SECRET.match(rest) is None


def tables_of(doc: Mapping[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every table of servers in a document, with its path: top-level `mcpServers` and `servers`, and Claude
    Code's `projects.<abs path>.mcpServers`."""
    found: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        ((key,), doc[key]) for key in TABLE_KEYS if isinstance(doc.get(key), dict)
    ]
    projects = doc.get(PROJECTS)
    if isinstance(projects, dict):
        for project, settings in projects.items():
            if isinstance(settings, dict) and isinstance(settings.get("mcpServers"), dict):
                found.append(((PROJECTS, str(project), "mcpServers"), settings["mcpServers"]))
    return found


def table_at(path: tuple[str, ...]) -> Tables:
    """The one table at `path` (OpenClaw's `mcp.servers`, acpx's `mcpServers`), for a document read elsewhere."""

    def tables(doc: Mapping[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        node: object = doc
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return [(path, node)] if isinstance(node, dict) else []

    return tables


def credential_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in CREDENTIAL_WORDS)


def holds_key(value: str) -> bool:
    """A literal that is a key: a key shape, `Bearer …`, or a URL with a password; the `${…}` references in it
    are cut out first (the client expands them), the literal rest still counts."""
    value = literal(value).strip()
    if not value:
        return False
    return looks_like_key(value) or SCHEME_TOKEN.match(value) is not None or URL_PASSWORD.search(value) is not None


def url_fields(url: str) -> list[str]:
    """The parts of a URL that carry a credential: its password, query parameters named like one, and a path
    segment shaped like a key (Zapier's /mcp/sk-ak-…/sse)."""
    text = literal(url)
    fields = ["url (password)"] if URL_PASSWORD.search(text) else []
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        fields += [f"url (?{name}=)" for name, value in parse_qsl(parts.query, keep_blank_values=True)
                   if value and not is_reference(value) and credential_name(name)]
        if any(looks_like_key(segment) for segment in parts.path.split("/") if segment and not is_reference(segment)):
            fields.append("url (path)")
    return fields


def assigns_key(arg: str, env_option: bool) -> bool:
    """`VAR=value` anywhere in an argument (docker's `-e VAR=key`, `--env=VAR=key`) or `Header: value`
    (mcp-remote's `--header "Authorization: Bearer …"`) with a credential's name or a key's shape."""
    pieces = arg.split("=")
    for name, value in itertools.pairwise(pieces):
        # bridge run's own `--env VAR=NAME` gives a Vault name, never a value.
        if env_option and value and (holds_key(value) or (credential_name(name) and not VAR_NAME.fullmatch(value) and literal(value).strip())):
            return True
    header, colon, value = arg.partition(":")
    return bool(colon and not value.startswith("//") and credential_name(header) and literal(value).strip())


def args_fields(args: list[Any]) -> list[str]:
    """Arguments that carry a key: one with a key's shape or a URL password, `--api-key=…`, or the word after
    `--api-key`, `--token`, `--password`..."""
    fields: list[str] = []
    for index, arg in enumerate(args):
        if not isinstance(arg, str):
            continue
        option, eq, rest = arg.partition("=")
        before = args[index - 1] if index else None
        after_option = isinstance(before, str) and before.startswith("-") and "=" not in before and credential_name(before)
        env_option = before in ENV_OPTIONS or arg.startswith(tuple(f"{o}=" for o in ENV_OPTIONS))
        if holds_key(arg) or assigns_key(arg, env_option) or (eq and option.startswith("-") and credential_name(option) and rest) or after_option:
            fields.append(f"args[{index}]")
    return fields


def unmovable(file: str, table: tuple[str, ...], server: str, entry: Mapping[str, Any]) -> list[str]:
    """Keys left where they are, named by field: headers, URL, args, and the env of a server with no command."""
    place = f"{file}: {where(table, server)}"
    fields: list[str] = []
    headers = entry.get("headers")
    if isinstance(headers, dict):
        fields += [f"headers.{name}" for name, value in headers.items()
                   if isinstance(value, str) and value and not is_reference(value) and (credential_name(str(name)) or holds_key(value))]
    for key in ("url", "serverUrl"):
        if isinstance(entry.get(key), str):
            fields += [field_.replace("url", key, 1) for field_ in url_fields(entry[key])]
    args = entry.get("args")
    if isinstance(args, list):
        fields += args_fields(args)
    return [f"{place}.{field_}" for field_ in fields]


def runs_through(entry: Mapping[str, Any], launcher: str) -> bool:
    """Whether the server already starts as `<launcher> run ... -- CMD` (a second migration adds to it)."""
    args = entry.get("args")
    return entry.get("command") == launcher and isinstance(args, list) and args[:1] == [RUN_VERB] and END_OF_OPTIONS in args


def find(
    file: str, doc: Mapping[str, Any], include: Iterable[str], exclude: Iterable[str], tables: Tables = tables_of,
) -> tuple[list[Finding], list[str], list[str]]:
    """The credentials in one document, the servers left alone with why, and the keys only named."""
    found: list[Finding] = []
    skipped: list[str] = []
    named: list[str] = []
    for table, servers in tables(doc):
        for server, entry in servers.items():
            place = f"{file}: {where(table, str(server))}"
            if not isinstance(entry, dict):
                continue
            named.extend(unmovable(file, table, str(server), entry))
            env = entry.get("env")
            if not isinstance(env, dict):
                continue
            secrets = [
                Finding(file, table, str(server), str(var), value) for var, value in env.items()
                if isinstance(value, str) and value and not is_reference(value) and is_credential(str(var), value, include, exclude)
            ]
            named.extend(
                f"{place}.env.{var} (holds a ${{…}} reference, so it is never stored; its literal part may hold a key)"
                for var, value in env.items()
                if isinstance(value, str) and is_reference(value) and str(var) not in set(exclude) and literal_key(str(var), value)
            )
            if not secrets:
                continue
            command, args = entry.get("command"), entry.get("args", [])
            if not isinstance(command, str) or not command:
                named.extend(f"{place}.env.{s.var} (no command to start: a remote server)" for s in secrets)
                continue
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                skipped.append(f"{place}: args is not a list of strings; left as it is")
                continue
            bad = [s.var for s in secrets if not VAR_NAME.fullmatch(s.var)]
            if bad:
                skipped.append(f"{place}: {', '.join(bad)} is not a variable name bridge run can set; left as it is")
                continue
            found.extend(secrets)
    return found, skipped, named


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
    # The config already gave the server this variable: keep giving it, as `bridge run` does only when told.
    allowed = [part for var, _ in mappings if takes_over(var) for part in (ALLOW_VAR, var)]
    pairs = [*allowed, *(part for var, name in mappings for part in ("--env", f"{var}={name}"))]
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


def set_table(doc: Mapping[str, Any], table: tuple[str, ...], servers: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` with the table at `table` replaced, every other byte of meaning kept."""
    new = dict(doc)
    if len(table) == 1:
        new[table[0]] = servers
        return new
    head, *rest = table
    new[head] = set_table(doc[head], tuple(rest), servers)
    return new


def plan_mcp(
    documents: Mapping[str, Mapping[str, Any]], launcher: str, include: Iterable[str], exclude: Iterable[str],
    tables: Tables = tables_of,
) -> McpPlan:
    findings: list[Finding] = []
    skipped: list[str] = []
    named: list[str] = []
    for file, doc in documents.items():
        found, left, only_named = find(file, doc, include, exclude, tables)
        findings.extend(found)
        skipped.extend(left)
        named.extend(only_named)
    names = vault_names(findings)
    changes: list[ServerChange] = []
    written: dict[str, dict[str, Any]] = {}
    for file, doc in documents.items():
        new_doc: dict[str, Any] = dict(doc)
        for table, servers in tables(doc):
            new_servers = dict(servers)
            for server, entry in servers.items():
                mappings = [(f.var, names[f.value]) for f in findings if (f.file, f.table, f.server) == (file, table, server)]
                if not mappings:
                    continue
                new_servers[server] = rewritten(entry, mappings, launcher)
                changes.append(ServerChange(file, table, str(server), mappings, new_servers[server], entry.get("disabled") is True))
            if new_servers != servers:
                new_doc = set_table(new_doc, table, new_servers)
        if any(c.file == file for c in changes):
            written[file] = new_doc
    return McpPlan(findings, names, changes, written, skipped, named)
