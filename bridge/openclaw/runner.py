"""The one way the bridge runs the `openclaw` CLI: found on the caller's PATH, bounded in time, errors as one line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping

from bridge.core.errors import BridgeError

CLI_TIMEOUT_S = 120
MAX_DETAIL_CHARS = 300


def find_openclaw(env: Mapping[str, str]) -> str | None:
    return shutil.which("openclaw", path=env.get("PATH"))


def run_openclaw(
    command: str, args: list[str], env: Mapping[str, str], stdin: str | None = None, *, check: bool = True,
    timeout: float = CLI_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run `openclaw ARGS`; with `check`, a non-zero exit is a BridgeError quoting the start of what it said."""
    shown = " ".join(args)
    try:
        done = subprocess.run(
            [command, *args], input=stdin, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BridgeError(f"`openclaw {shown}` could not run ({type(exc).__name__})") from None
    if check and done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[:MAX_DETAIL_CHARS]
        raise BridgeError(f"`openclaw {shown}` failed: {detail}")
    return done
