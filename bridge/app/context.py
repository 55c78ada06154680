"""What every verb needs, each loaded once and only when asked for: the environment, paths, config, credentials.

A verb that never touches the config never reads it, and one that asks twice
reads it once; `bridge resolve` builds this too, so it stays import-light.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from bridge.core.deadline import Deadline
    from bridge.core.errors import ConfigError
    from bridge.credentials.stores import FoundCredentials
    from bridge.local.config import Config
    from bridge.local.paths import Paths


class Discard(io.StringIO):
    """A text stream that keeps nothing: no file descriptor to leak, no memory to grow."""

    def write(self, text: str) -> int:
        return len(text)


class Context:
    """Built on every run, `bridge resolve` included, so a plain class: dataclasses cost ~10 ms to import."""

    def __init__(
        self, env: Mapping[str, str], stdin: TextIO | None, stdout: TextIO | None, stderr: TextIO | None, started: float,
    ) -> None:
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.started = started
        self._paths: Paths | None = None
        self._config: Config | ConfigError | None = None
        self._found: FoundCredentials | None = None

    @classmethod
    def from_process(cls, started: float) -> Context:
        return cls(env=os.environ, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, started=started)

    @property
    def out(self) -> TextIO:
        """stdout for a verb's report; a closed stdout is an error the top level turns into one line."""
        if self.stdout is None:
            from bridge.core.errors import OutputClosed

            raise OutputClosed("stdout is closed: there is nowhere to write the output")
        return self.stdout

    @property
    def err(self) -> TextIO:
        """stderr for warnings; with stderr closed they go nowhere rather than fail the verb."""
        return self.stderr if self.stderr is not None else Discard()

    def binary_stdin(self) -> BinaryIO | None:
        return self.stdin.buffer if self.stdin is not None else None

    @property
    def paths(self) -> Paths:
        if self._paths is None:
            from bridge.local.paths import Paths

            self._paths = Paths.from_env(self.env)
        return self._paths

    @property
    def config(self) -> Config:
        """Read and checked once; an invalid config raises the same ConfigError every time it is asked for."""
        if self._config is None:
            from bridge.core.errors import ConfigError
            from bridge.local.config import load_config

            try:
                self._config = load_config(self.paths.config_file)
            except ConfigError as exc:
                self._config = exc
        if isinstance(self._config, Exception):
            raise self._config
        return self._config

    def admin_deadline(self) -> Deadline:
        """When a person's command must stop waiting for Supabase; the default when the config is broken, so
        doctor can still say why."""
        from bridge.core.deadline import Deadline
        from bridge.core.errors import ConfigError
        from bridge.local.config import Config

        try:
            seconds = self.config.admin_deadline
        except ConfigError:
            seconds = Config().admin_deadline
        return Deadline.after(seconds)

    def credentials(self, deadline: Deadline | None = None) -> FoundCredentials:
        """The first credential store that answers (keyring, sealed file, environment), looked up once."""
        if self._found is None:
            from bridge.credentials.stores import find_credentials, lookup_order

            self._found = find_credentials(lookup_order(self.env, self.paths.sealed_file), deadline)
        return self._found

    @property
    def launcher(self) -> Path:
        from bridge.local.selfcheck import running_launcher

        return running_launcher()
