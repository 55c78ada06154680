"""The files a migration may change, held in memory so a failure can put every byte back.

Only in memory: a copy on disk would be one more plaintext copy of every
key. Files that appear meanwhile (OpenClaw's new backups, a new agent
store) are removed again on restore.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bridge.local.files import atomic_write

STATE_GLOBS = (".env", "state/*.sqlite*", "agents/*/agent/*.sqlite*")
"""What `openclaw secrets apply` writes besides openclaw.json and its backups, relative to the state directory."""


def watched(config_file: Path, extra: Iterable[Path]) -> set[Path]:
    state = config_file.parent
    found = {config_file, *extra, *config_file.parent.glob(config_file.name + ".bak*")}
    for pattern in STATE_GLOBS:
        found.update(state.glob(pattern))
    return {path for path in found if not path.is_symlink()}


class Snapshot:
    def __init__(self, config_file: Path, extra: list[Path], files: dict[Path, tuple[bytes, int] | None]) -> None:
        self._config_file = config_file
        self._extra = extra
        self._files = files

    @classmethod
    def take(cls, config_file: Path, extra: list[Path]) -> Snapshot:
        files: dict[Path, tuple[bytes, int] | None] = {}
        for path in watched(config_file, extra):
            try:
                files[path] = (path.read_bytes(), path.stat().st_mode & 0o777)
            except FileNotFoundError:
                files[path] = None
        return cls(config_file, extra, files)

    def restore(self) -> None:
        """Every watched file as it was: contents and mode back, new ones removed."""
        for path in watched(self._config_file, self._extra) - set(self._files):
            path.unlink(missing_ok=True)
        for path, saved in self._files.items():
            if saved is None:
                path.unlink(missing_ok=True)
                continue
            data, mode = saved
            try:
                if path.read_bytes() == data:
                    continue
            except FileNotFoundError:
                pass
            atomic_write(path, data)
            os.chmod(path, mode)
