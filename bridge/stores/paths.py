"""Where the bridge keeps its files.

BRIDGE_HOME, when set, holds everything (config, sealed credentials, cache) in
one directory: for tests and for several profiles side by side. Otherwise the
platform's conventional directories are used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "openclaw-supabase-bridge"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def sealed_file(self) -> Path:
        return self.data_dir / "credentials.sealed"

    @property
    def cache_file(self) -> Path:
        return self.data_dir / "cache.sealed"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Paths:
        home = env.get("BRIDGE_HOME")
        if home:
            root = Path(home).expanduser().absolute()
            return cls(config_dir=root, data_dir=root)
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        )
