"""What `bridge watch` learns from openclaw.json: the ids this gateway resolves through our provider, the gateway's
URL, and where its auth token comes from. Pure but for ConfigFile, which notices when the file changes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from bridge.core.errors import BridgeError, UsageError
from bridge.core.limits import MAX_IDS
from bridge.core.refs import IdError, parse_ref
from bridge.openclaw.config import ENV_SUBSTITUTION, read_config, secret_names

DEFAULT_PORT = 18789
"""OpenClaw's gateway port when openclaw.json sets none."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""A plain ws:// URL goes only to these: the operator token must not cross a network unencrypted."""
DEFAULT_WS_PORTS = {"ws": 80, "wss": 443}


class TokenSource(NamedTuple):
    """gateway.auth.token as configured: `value` when it is written out (plaintext, or an env ref read here),
    `name`/`ref_id` when it is an exec ref through our provider (it can change in Vault), neither otherwise."""

    value: str | None = None
    ref_id: str | None = None
    name: str | None = None


class Target(NamedTuple):
    url: str
    names: tuple[str, ...]
    """The Vault names this gateway's refs through our provider use, sorted, each once."""
    token: TokenSource


def check_gateway_url(raw: str) -> str:
    """--gateway-url: ws:// to a loopback address, or wss:// to anywhere; returned in one spelling per gateway
    (see normal_url), so the lock that allows one watcher per gateway sees through aliases."""
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme.lower() not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"--gateway-url {raw!r}: use ws://127.0.0.1:PORT, or wss://HOST:PORT for a remote gateway")
    if parts.scheme.lower() == "ws" and parts.hostname not in LOOPBACK_HOSTS:
        raise UsageError(f"--gateway-url {raw!r}: plain ws:// only to a loopback address; use wss:// for {parts.hostname}")
    if parts.username is not None or parts.query or parts.fragment:
        raise UsageError(f"--gateway-url {raw!r}: give only scheme, host and port; the token is found by itself")
    return normal_url(parts.scheme.lower(), parts.hostname, port, parts.path)


def normal_url(scheme: str, host: str, port: int | None, path: str = "") -> str:
    """One spelling per gateway: host lowercased, `localhost` as 127.0.0.1, the scheme's port written out, no
    trailing slash."""
    host = "127.0.0.1" if host == "localhost" else host
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port or DEFAULT_WS_PORTS[scheme]}{path.rstrip('/')}"


def gateway_url(doc: Mapping[str, object]) -> str:
    """ws://127.0.0.1:<gateway.port>, the port OpenClaw's own CLI would use."""
    gateway = doc.get("gateway")
    port = gateway.get("port") if isinstance(gateway, dict) else None
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        port = DEFAULT_PORT
    return f"ws://127.0.0.1:{port}"


def token_source(doc: Mapping[str, object], provider: str, env: Mapping[str, str]) -> TokenSource:
    gateway = doc.get("gateway")
    auth = gateway.get("auth") if isinstance(gateway, dict) else None
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str):
        try:
            return TokenSource(value=ENV_SUBSTITUTION.sub(lambda m: env[m.group(1)], token) or None)
        except KeyError:
            return TokenSource()
    if not isinstance(token, dict) or not isinstance(token.get("id"), str):
        return TokenSource()
    ref_id = str(token["id"])
    if token.get("source") == "env":
        return TokenSource(value=env.get(ref_id) or None)
    if token.get("source") == "exec" and token.get("provider") == provider:
        try:
            return TokenSource(ref_id=ref_id, name=parse_ref(ref_id).name)
        except IdError:
            return TokenSource()
    return TokenSource()


def watched_names(doc: Mapping[str, object], provider: str) -> tuple[str, ...]:
    names = secret_names(doc, provider)
    if len(names) > MAX_IDS:
        raise BridgeError(f"openclaw.json refers to {len(names)} Vault secrets through {provider!r}; bridge watch follows at most {MAX_IDS}")
    return tuple(sorted(names))


def target_of(doc: Mapping[str, object], provider: str, env: Mapping[str, str], url: str | None) -> Target:
    return Target(url or gateway_url(doc), watched_names(doc, provider), token_source(doc, provider, env))


class ConfigFile:
    """openclaw.json, read again only when its inode, size or mtime changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None

    def changed(self) -> bool:
        try:
            info = os.stat(self.path)
            stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        except OSError:
            # Gone or unreadable: read() then says which, and the watcher keeps what it held.
            stamp = (0, 0, 0)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def read(self) -> dict[str, object]:
        """The parsed file ({} when there is none); raises BridgeError naming the file when it cannot be parsed."""
        return read_config(self.path) or {}


class Targets:
    """The current Target, taken again from openclaw.json whenever the file changes."""

    def __init__(self, file: ConfigFile, provider: str, env: Mapping[str, str], url: str | None) -> None:
        self._file = file
        self._provider = provider
        self._env = env
        self._url = url
        self.pinned = url is not None
        """--gateway-url was given: the CLI reaches that gateway only with explicit credentials."""
        file.changed()
        self.current = target_of(file.read(), provider, env, url)

    def refresh(self) -> str | None:
        """Read the file again if it changed; a file that no longer parses keeps the last target, and says why."""
        if not self._file.changed():
            return None
        try:
            self.current = target_of(self._file.read(), self._provider, self._env, self._url)
        except BridgeError as exc:
            return f"{exc}; still watching what it held before"
        return None
