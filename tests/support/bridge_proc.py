"""Run the installed `bridge` command the way the gateway does: no shell, a minimal environment, stdin in, stdout out."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BRIDGE = Path(sys.executable).parent / "bridge"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: str

    def all_output(self) -> str:
        return self.stdout.decode(errors="replace") + self.stderr


def run_bridge(args: list[str], env: dict[str, str], stdin: bytes = b"", timeout: float = 60) -> Result:
    done = subprocess.run(
        [str(BRIDGE), *args], input=stdin, env=env, capture_output=True, timeout=timeout, check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr.decode(errors="replace"))
