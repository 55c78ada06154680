"""From what was found to what changes: the moves into Vault and the plan `openclaw secrets apply` carries out.

Pure: no files, no network. A `.env` value that no config field or profile
also holds needs a field to be read from once the line is gone; only the
well-known names below have one, and only where the config does not already
set that field, so a migration never shadows or replaces what is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.migrate.places import AUTH_PROFILE, CONFIG, ENV, FILE_REF, Found, Move, Place, group
from bridge.openclaw.config import iter_refs
from bridge.openclaw.documents import at_path
from bridge.openclaw.surface import AUTH_PROFILE_TYPES, provider_id, target_type

ENV_FIELDS = {
    "OPENAI_API_KEY": "models.providers.openai.apiKey",
    "ANTHROPIC_API_KEY": "models.providers.anthropic.apiKey",
    "GEMINI_API_KEY": "plugins.entries.google.config.webSearch.apiKey",
    "OPENCLAW_GATEWAY_TOKEN": "gateway.auth.token",
    "OPENCLAW_GATEWAY_PASSWORD": "gateway.auth.password",
    "TELEGRAM_BOT_TOKEN": "channels.telegram.botToken",
    "DISCORD_BOT_TOKEN": "channels.discord.token",
    "SLACK_BOT_TOKEN": "channels.slack.botToken",
    "SLACK_APP_TOKEN": "channels.slack.appToken",
}
"""The openclaw.json field OpenClaw reads each of these `.env` names for, when the field is unset."""
PLAN_OPTIONS = {"scrubEnv": False, "scrubAuthProfilesForProviderTargets": True, "scrubLegacyAuthJson": False}
"""`.env` lines are removed by the bridge itself, after verification and byte for byte; OpenClaw's own scrub of
auth stores for migrated providers stays on."""
_FIELD_OF_TYPE = {field: kind for kind, (_, field) in AUTH_PROFILE_TYPES.items()}


@dataclass(frozen=True)
class MigrationPlan:
    moves: list[Move]
    targets: list[dict[str, Any]]
    provider_deletes: list[str]
    skipped: list[str]

    def for_openclaw(self) -> dict[str, Any]:
        """The plan file: refs only, never a value."""
        return {
            "version": 1, "protocolVersion": 1, "providerDeletes": self.provider_deletes, "targets": self.targets,
            "options": PLAN_OPTIONS,
        }


def ref(provider: str, name: str) -> dict[str, str]:
    return {"source": "exec", "provider": provider, "id": name}


def config_target(segments: tuple[str, ...], provider: str, name: str) -> dict[str, Any]:
    target: dict[str, Any] = {
        "type": target_type(segments), "path": ".".join(segments), "pathSegments": list(segments), "ref": ref(provider, name),
    }
    pid = provider_id(segments)
    if pid is not None:
        target["providerId"] = pid
    return target


def profile_target(place: Place, provider: str, name: str) -> dict[str, Any]:
    kind = _FIELD_OF_TYPE[place.path[2]]
    return {
        "type": AUTH_PROFILE_TYPES[kind][0], "path": ".".join(place.path), "pathSegments": list(place.path),
        "agentId": place.agent_id, "authProfileProvider": place.auth_provider, "ref": ref(provider, name),
    }


def env_field(move: Move, config: Mapping[str, object], profile_providers: set[str]) -> tuple[str, ...] | str:
    """The config field a `.env`-only value is read from after the move, or why it stays in `.env`."""
    name = move.places[0].path[0]
    where = ", ".join(p.label() for p in move.places)
    path = ENV_FIELDS.get(name)
    if path is None:
        return f"{where}: no openclaw.json field is known to read {name}; left in .env (add a ref for it by hand)"
    segments = tuple(path.split("."))
    if at_path(config, segments) is not None:
        return f"{where}: openclaw.json already sets {path}; the .env line is left as it is"
    pid = provider_id(segments)
    if pid is not None and pid in profile_providers:
        return f"{where}: an auth profile for {pid} takes precedence over {path}; left in .env"
    return segments


def build_plan(found: list[Found], config: Mapping[str, object], provider: str) -> MigrationPlan:
    skipped: list[str] = []
    profile_providers = {f.place.auth_provider for f in found if f.place.kind == AUTH_PROFILE}
    auth = config.get("auth")
    profiles = auth.get("profiles") if isinstance(auth, dict) else None
    if isinstance(profiles, dict):
        profile_providers |= {str(p.get("provider")) for p in profiles.values() if isinstance(p, dict)}
    moves: list[Move] = []
    targets: list[dict[str, Any]] = []
    for move in group(found):
        kinds = {place.kind for place in move.places}
        if kinds == {ENV}:
            field = env_field(move, config, profile_providers)
            if isinstance(field, str):
                skipped.append(field)
                continue
            targets.append(config_target(field, provider, move.name))
        for place in move.places:
            if place.kind in (CONFIG, FILE_REF):
                targets.append(config_target(place.path, provider, move.name))
            elif place.kind == AUTH_PROFILE:
                targets.append(profile_target(place, provider, move.name))
        moves.append(move)
    moved_paths = {tuple(t["pathSegments"]) for t in targets}
    file_providers = {p.file_provider for m in moves for p in m.places if p.kind == FILE_REF}
    deletes = sorted(
        alias for alias in file_providers
        if all(path in moved_paths for path, r in iter_refs(config) if r["source"] == "file" and r["provider"] == alias)
    )
    return MigrationPlan(moves, targets, deletes, skipped)
