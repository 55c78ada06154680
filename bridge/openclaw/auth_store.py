"""Where OpenClaw 2026.9 keeps auth profiles: a row of JSON in the shared state database and in each agent's own.

`openclaw models auth paste-api-key` writes API keys there; `auth-profiles.json`
is retired. This module knows the tables and how to read them read-only; the
clean-up that rewrites a row is migrate's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.openclaw import json5

SHARED_STORE = ("config_machine_state", "state_key", "value_json", "authProfiles.store")
AGENT_STORE = ("auth_profile_store", "store_key", "store_json", "primary")
"""Where OpenClaw 2026.9 keeps auth profiles: the shared state database and each agent's own."""
DEFAULT_AGENT = "main"


def store_table(path: Path) -> tuple[str, str, str, str]:
    return AGENT_STORE if path.name == "openclaw-agent.sqlite" else SHARED_STORE


def read_profiles(path: Path) -> dict[str, Any]:
    """The auth-profile store in one of OpenClaw's SQLite databases, opened read-only."""
    table, key_column, value_column, key = store_table(path)
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(f"SELECT {value_column} FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
    except sqlite3.Error as exc:
        raise BridgeError(f"cannot read the auth profiles in {path}: {exc}") from None
    try:
        doc: object = json5.loads(row[0]) if row else {}
    except json5.JSON5Error as exc:
        raise BridgeError(f"the auth profiles in {path} are not JSON OpenClaw wrote ({exc}); left untouched") from None
    profiles = doc.get("profiles") if isinstance(doc, dict) else None
    return profiles if isinstance(profiles, dict) else {}


def agent_of(path: Path) -> str:
    """agents/<id>/agent/openclaw-agent.sqlite belongs to <id>; the shared store is the default agent's."""
    parts = path.parts
    return parts[-3] if path.name == "openclaw-agent.sqlite" and len(parts) >= 4 and parts[-4] == "agents" else DEFAULT_AGENT


def auth_store_files(state_dir: Path) -> list[Path]:
    return [state_dir / "state" / "openclaw.sqlite", *sorted(state_dir.glob("agents/*/agent/openclaw-agent.sqlite"))]
