"""Where the bridge keeps its files.

BRIDGE_HOME, when set, holds everything (config, sealed credentials, cache) in
one directory: for tests and for several profiles side by side. Otherwise the
platform's conventional directories are used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from bridge.core.credentials import ENV_HOME

APP_NAME = "openclaw-supabase-bridge"

ACCESS_TOKEN_FILE = "access-token.sealed"
"""Here, not in bridge.credentials.access_token, so the self-checks of this layer name the same file."""


class Paths(NamedTuple):
    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def sealed_file(self) -> Path:
        return self.data_dir / "credentials.sealed"

    @property
    def access_token_file(self) -> Path:
        """The sealed Supabase personal access token (`bridge login --access-token --store file`)."""
        return self.data_dir / ACCESS_TOKEN_FILE

    @property
    def cache_file(self) -> Path:
        return self.data_dir / "cache.sealed"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Paths:
        home = env.get(ENV_HOME)
        if home:
            root = Path(home).expanduser().absolute()
            return cls(config_dir=root, data_dir=root)
        if sys.platform.startswith("linux"):
            # platformdirs' own rule for Linux, without its ~2 ms import on every resolve.
            return cls(
                config_dir=_xdg(env, "XDG_CONFIG_HOME", ".config") / APP_NAME,
                data_dir=_xdg(env, "XDG_DATA_HOME", ".local/share") / APP_NAME,
            )
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        )


def _xdg(env: Mapping[str, str], variable: str, default: str) -> Path:
    value = env.get(variable, "").strip()
    if value:
        return Path(value)
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / default
