"""Whether a process a test started (or watched being started) is still running."""

from __future__ import annotations

import os
import select
from pathlib import Path

EXIT_WAIT_S = 30.0
"""Only a guard against a hang: an exit the kernel has already decided on takes milliseconds."""


def gone(pid: int) -> bool:
    """No such process now, or only its zombie left for its parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def dies(pid: int, within: float = EXIT_WAIT_S) -> bool:
    """True once `pid` has exited. For a kill the kernel delivers on its own time (PR_SET_PDEATHSIG, a SIGKILL
    just sent): the signal is queued when the parent dies, but the child acts on it a moment later. Awaited on a
    pidfd, which becomes readable when the process exits, so no polling."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], within)
        return bool(ready) or gone(pid)
    finally:
        os.close(fd)
