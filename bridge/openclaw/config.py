"""Registering the bridge as an OpenClaw exec secret provider, and reading that registration back.

Writes go through `openclaw config patch --stdin` and `openclaw config validate`
when the `openclaw` command is on PATH, because OpenClaw then checks the result
itself. Without it, openclaw.json is edited directly: parsed as JSON5 (a file
that cannot be parsed is refused, never overwritten), backed up with a
timestamp, and replaced atomically. Refs and secrets are never touched.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from bridge.core.credentials import ENV_NAMES
from bridge.core.errors import BridgeError
from bridge.core.limits import GATEWAY_TIMEOUT_MS
from bridge.core.refs import IdError, parse_ref
from bridge.local.files import ensure_private_dir, replace_file
from bridge.openclaw import json5
from bridge.openclaw.documents import read_text_if_exists
from bridge.openclaw.runner import find_openclaw, run_openclaw

DEFAULT_PROVIDER = "supabase"
PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
"""OpenClaw's provider alias rule."""
KEYRING_ENV = {
    "linux": ["HOME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"],
    "darwin": ["HOME"],
    "win32": ["USERPROFILE", "APPDATA", "LOCALAPPDATA"],
}
"""What the OS keyring needs from the gateway's environment; the gateway passes nothing it is not told to."""
OVERRIDE_ENV = list(ENV_NAMES)
"""The bridge's own settings and credentials, passed through when the gateway's environment sets them."""


def system_name(platform: str = sys.platform) -> str:
    return "linux" if platform.startswith("linux") else platform


def pass_env_for(platform: str = sys.platform) -> list[str]:
    """What the bridge needs from the gateway's environment on this OS: the keyring's session, the XDG dirs on
    Linux (where the bridge's files live), and the optional overrides."""
    system = system_name(platform)
    xdg = ["XDG_CONFIG_HOME", "XDG_DATA_HOME"] if system == "linux" else []
    return [*KEYRING_ENV.get(system, ["HOME"]), *xdg, *OVERRIDE_ENV]


def provider_entry(launcher: Path) -> dict[str, object]:
    return {
        "source": "exec",
        "command": str(launcher),
        "args": ["resolve"],
        "trustedDirs": [str(launcher.parent)],
        "passEnv": pass_env_for(),
        "timeoutMs": GATEWAY_TIMEOUT_MS,
        "jsonOnly": True,
    }


def check_provider_name(name: str) -> str:
    if not PROVIDER_NAME.fullmatch(name):
        raise BridgeError(f"invalid provider name {name!r}: use a lowercase letter, then up to 63 of a-z 0-9 _ -")
    return name


def config_path(env: Mapping[str, str]) -> Path:
    override = env.get("OPENCLAW_CONFIG_PATH")
    if override:
        return Path(override).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".openclaw" / "openclaw.json"


def read_config(path: Path) -> dict[str, object] | None:
    """The parsed config, None when there is none; a file that cannot be parsed, or is larger or deeper than
    any real config, is an error naming where. Read bounded and parsed depth-bounded, so the recursive walks
    over the result (refs, providers) never meet an unchecked document."""
    text = read_text_if_exists(path)
    if text is None:
        return None
    try:
        doc = json5.loads(text)
    except json5.JSON5Error as exc:
        raise BridgeError(f"{path} is not valid JSON5 ({exc}); fix it by hand, it was left untouched") from None
    if not isinstance(doc, dict):
        raise BridgeError(f"{path} does not hold a JSON5 object; fix it by hand, it was left untouched")
    return doc


def providers(doc: Mapping[str, object]) -> dict[str, object]:
    secrets = doc.get("secrets")
    found = secrets.get("providers") if isinstance(secrets, dict) else None
    return found if isinstance(found, dict) else {}


def iter_refs(doc: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, object]]]:
    """Every SecretRef object in a config, with the path of keys that leads to it (list items by index)."""
    if isinstance(doc, dict):
        if isinstance(doc.get("source"), str) and isinstance(doc.get("provider"), str) and isinstance(doc.get("id"), str):
            yield path, doc
            return
        for key, value in doc.items():
            yield from iter_refs(value, (*path, str(key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from iter_refs(value, (*path, str(index)))


def refs_to(doc: object, provider: str, source: str = "exec") -> Iterator[str]:
    """Ids of the refs anywhere in the config that use this provider."""
    for _, ref in iter_refs(doc):
        if ref["source"] == source and ref["provider"] == provider:
            yield str(ref["id"])


def secret_names(doc: object, provider: str) -> set[str]:
    """The Vault names the refs through this provider read: each id without its `#field` selector. An id OpenClaw
    itself would refuse reads nothing, so it names nothing."""
    names: set[str] = set()
    for ref_id in refs_to(doc, provider):
        try:
            names.add(parse_ref(ref_id).name)
        except IdError:
            continue
    return names


def _edit_file(path: Path, change: Callable[[dict[str, object]], object], out: TextIO) -> bool:
    """Apply `change` to the parsed file; back up and replace it only if something changed."""
    original = read_config(path)
    doc = json.loads(json.dumps(original or {}))
    change(doc)
    if original is not None and doc == original:
        return False
    if original is not None:
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        replace_file(backup, path.read_bytes())
        print(f"backed up {path} to {backup} (comments are not kept in the rewritten file)", file=out)
    if not path.parent.is_dir():
        # A directory the bridge makes is made as OpenClaw makes it; an existing one is left as it is.
        ensure_private_dir(path.parent)
    replace_file(path, json5.dumps(doc).encode())
    return True


def register(name: str, launcher: Path, env: Mapping[str, str], dry_run: bool, out: TextIO) -> int:
    check_provider_name(name)
    if not launcher.is_absolute():
        raise BridgeError(f"the launcher path must be absolute, got {launcher}")
    entry = provider_entry(launcher)
    patch = {"secrets": {"providers": {name: entry}}}
    openclaw = find_openclaw(env)
    path = config_path(env)
    target = "`openclaw config patch`" if openclaw else str(path)
    if dry_run:
        print(f"would register provider {name!r} via {target}:\n{json.dumps(patch, indent=2)}", file=out)
        return 0
    if openclaw:
        run_openclaw(openclaw, ["config", "patch", "--stdin"], env, json.dumps(patch))
        run_openclaw(openclaw, ["config", "validate"], env)
        print(f"registered provider {name!r} with OpenClaw (config validated)", file=out)
        return 0

    def apply(doc: dict[str, object]) -> None:
        secrets = doc.setdefault("secrets", {})
        if not isinstance(secrets, dict):
            raise BridgeError(f"{path}: `secrets` is not an object; fix it by hand, it was left untouched")
        table = secrets.setdefault("providers", {})
        if not isinstance(table, dict):
            raise BridgeError(f"{path}: `secrets.providers` is not an object; fix it by hand, it was left untouched")
        existing = table.get(name)
        table[name] = {**existing, **entry} if isinstance(existing, dict) else entry

    changed = _edit_file(path, apply, out)
    print(f"registered provider {name!r} in {path}" if changed else f"provider {name!r} already registered in {path}", file=out)
    return 0


def unregister(name: str, env: Mapping[str, str], dry_run: bool, out: TextIO) -> int:
    check_provider_name(name)
    path = config_path(env)
    doc = read_config(path)
    if doc is None or name not in providers(doc):
        print(f"provider {name!r} is not registered in {path}", file=out)
        return 0
    refs = sorted(set(refs_to(doc, name)))
    openclaw = find_openclaw(env)

    def drop(config: dict[str, object]) -> None:
        providers(config).pop(name, None)

    if dry_run:
        print(f"would remove provider {name!r} via {'`openclaw config patch`' if openclaw else path}", file=out)
    elif openclaw:
        try:
            run_openclaw(openclaw, ["config", "patch", "--stdin"], env, json.dumps({"secrets": {"providers": {name: None}}}))
        except BridgeError as exc:
            # OpenClaw refuses a write that more than halves a config of 512+ bytes; in a small config our
            # entry is that half. Only that refusal falls back to the backed-up direct edit.
            if "size-drop" not in str(exc):
                raise
            print(f"openclaw refused the shrinking write (its size-drop guard); editing {path} directly", file=out)
            _edit_file(path, drop, out)
        run_openclaw(openclaw, ["config", "validate"], env)
        print(f"removed provider {name!r} from OpenClaw (config validated)", file=out)
    else:
        _edit_file(path, drop, out)
        print(f"removed provider {name!r} from {path}", file=out)
    if refs:
        print(
            f"left alone: {len(refs)} ref(s) to {name!r} ({', '.join(refs[:5])}{', ...' if len(refs) > 5 else ''}) "
            "and every secret in Vault; OpenClaw reports those refs unresolved until a provider named "
            f"{name!r} exists again",
            file=out,
        )
    return 0


ENV_SUBSTITUTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""OpenClaw replaces `${NAME}` in any string of openclaw.json with the variable, and fails when it is unset."""


def env_names_used(doc: object) -> set[str]:
    """Every environment variable the config reads: through `${NAME}` in a string, or an env-source ref. Such a
    variable must stay wherever the gateway gets it from (`~/.openclaw/.env`). Walked without recursion."""
    used = {str(ref["id"]) for _, ref in iter_refs(doc) if ref["source"] == "env"}
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            used.update(ENV_SUBSTITUTION.findall(node))
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return used
