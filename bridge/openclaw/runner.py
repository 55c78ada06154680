"""The one way the bridge runs the `openclaw` CLI: found on the caller's PATH, bounded in time, errors as one line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping

from bridge.core.errors import BridgeError

CLI_TIMEOUT_S = 120
MAX_DETAIL_CHARS = 300


def find_openclaw(env: Mapping[str, str]) -> str | None:
    return shutil.which("openclaw", path=env.get("PATH"))


def run_openclaw(
    command: str, args: list[str], env: Mapping[str, str], stdin: str | None = None, *, check: bool = True,
    timeout: float = CLI_TIMEOUT_S, started: Callable[[subprocess.Popen[str]], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `openclaw ARGS`; with `check`, a non-zero exit is a BridgeError quoting the start of what it said.
    `started` is given the child as soon as it runs, for a caller that may have to stop it early."""
    shown = " ".join(args)
    try:
        with subprocess.Popen(
            [command, *args], stdin=None if stdin is None else subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=dict(env), text=True,
        ) as child:
            if started is not None:
                started(child)
            try:
                stdout, stderr = child.communicate(stdin, timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                raise
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BridgeError(f"`openclaw {shown}` could not run ({type(exc).__name__})") from None
    done = subprocess.CompletedProcess([command, *args], child.returncode, stdout, stderr)
    if check and done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[:MAX_DETAIL_CHARS]
        raise BridgeError(f"`openclaw {shown}` failed: {detail}")
    return done
