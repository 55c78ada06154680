"""Finding every plaintext credential of an OpenClaw install, and reading its value (into memory only).

What OpenClaw knows about comes from `openclaw secrets audit --json`: config
fields, auth profiles in its SQLite stores and well-known `.env` names. The
audit never reads values out, so each finding is read here from its file.
Values behind `file`-provider refs are read from the provider's file. Every
file is read bounded and never written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.migrate.places import AUTH_PROFILE, CONFIG, ENV, FILE_REF, Found, Place
from bridge.openclaw import dotenv, json5
from bridge.openclaw.auth_store import agent_of, read_profiles
from bridge.openclaw.config import iter_refs, providers
from bridge.openclaw.documents import at_path, pointer_parts, read_text
from bridge.openclaw.surface import AUTH_PROFILE_TYPES, target_type

PLAINTEXT = "PLAINTEXT_FOUND"
@dataclass(frozen=True)
class Discovery:
    found: list[Found]
    skipped: list[str]
    """Findings that are not moved, each with why: one line a person can act on."""


def from_finding(finding: Mapping[str, Any], config_file: Path, config: Mapping[str, object]) -> Found | str:
    """The place and value a PLAINTEXT_FOUND finding points at, or why it is not moved."""
    file = Path(str(finding.get("file", "")))
    json_path = str(finding.get("jsonPath", ""))
    where = f"{file}: {json_path}"
    if json_path.startswith("$env."):
        name = json_path[len("$env.") :]
        text = read_text(file)
        if len(text.encode()) > dotenv.MAX_BYTES:
            return f"{where}: OpenClaw does not load a .env larger than 1 MiB; left alone"
        env_value = dotenv.values(text).get(name)
        if not env_value:
            return f"{where}: no value for {name} as OpenClaw reads the file; left alone"
        return Found(Place(ENV, str(file), (name,)), env_value)
    if file.suffix == ".sqlite":
        profile_id = str(finding.get("profileId") or json_path.split(".")[1])
        profile = read_profiles(file).get(profile_id)
        kind = profile.get("type") if isinstance(profile, dict) else None
        if not isinstance(profile, dict) or kind not in AUTH_PROFILE_TYPES:
            return f"{where}: not an api_key or token profile; OpenClaw takes no ref there"
        field = AUTH_PROFILE_TYPES[str(kind)][1]
        value = profile.get(field)
        if not isinstance(value, str) or not value:
            return f"{where}: no plaintext left in that profile"
        provider = str(finding.get("provider") or profile.get("provider") or profile_id.partition(":")[0])
        return Found(Place(AUTH_PROFILE, str(file), ("profiles", profile_id, field), agent_of(file), provider), value)
    if file.resolve() == config_file.resolve():
        segments = tuple(part for part in json_path.split(".") if part)
        value = at_path(config, segments)
        if not isinstance(value, str) or not value:
            return f"{where}: not a plaintext string; left alone"
        if target_type(segments) is None:
            return f"{where}: OpenClaw takes no ref at this path; move it by hand"
        return Found(Place(CONFIG, str(file), segments), value)
    return f"{where}: generated or legacy file; OpenClaw rewrites it (`openclaw doctor --fix` for legacy files)"


def expand(path: str, env: Mapping[str, str]) -> Path:
    if path == "~" or path.startswith("~/"):
        return Path(env.get("HOME") or Path.home()) / path[2:]
    return Path(path)


def file_refs(config: Mapping[str, object], config_file: Path, env: Mapping[str, str]) -> tuple[list[Found], list[str]]:
    """The values behind every `file`-provider ref in the config."""
    found: list[Found] = []
    skipped: list[str] = []
    table = providers(config)
    for segments, ref in iter_refs(config):
        if ref["source"] != "file":
            continue
        alias, pointer = str(ref["provider"]), str(ref["id"])
        where = f"{config_file}: {'.'.join(segments)} (file provider {alias!r})"
        entry = table.get(alias)
        if not isinstance(entry, dict) or entry.get("source") != "file" or not isinstance(entry.get("path"), str):
            skipped.append(f"{where}: no file provider {alias!r} is configured; left alone")
            continue
        if target_type(segments) is None:
            skipped.append(f"{where}: OpenClaw takes no ref at this path; left alone")
            continue
        source = expand(str(entry["path"]), env)
        text = read_text(source)
        if entry.get("mode") == "singleValue":
            value: object = text[:-1] if text.endswith("\n") else text
        else:
            try:
                value = at_path(json5.loads(text), pointer_parts(pointer))
            except ValueError as exc:
                raise BridgeError(f"{source} (file provider {alias!r}) is not a JSON object OpenClaw can read: {exc}") from None
        if not isinstance(value, str) or not value:
            skipped.append(f"{where}: {pointer} holds no string in {source}; left alone")
            continue
        found.append(Found(Place(FILE_REF, str(config_file), segments, file_provider=alias, source_file=str(source), pointer=pointer), value))
    return found, skipped


def discover(
    report: Mapping[str, Any], config_file: Path, config: Mapping[str, object], env: Mapping[str, str]
) -> Discovery:
    found, skipped = file_refs(config, config_file, env)
    for finding in report.get("findings") or []:
        if not isinstance(finding, dict) or finding.get("code") != PLAINTEXT:
            continue
        result = from_finding(finding, config_file, config)
        if isinstance(result, str):
            skipped.append(result)
        else:
            found.append(result)
    return Discovery(found, skipped)
