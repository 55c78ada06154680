"""Run a command on a pseudo-terminal as a person would: wait for its prompt, then type the answer.

Typing before the prompt is shown loses the input: getpass flushes what was
typed ahead when it turns echo off (TCSAFLUSH), and only then shows its prompt.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from collections.abc import Callable

TERMINAL_TIMEOUT_S = 60.0


def on_a_terminal(
    argv: list[str], env: dict[str, str], prompt: bytes, typed: bytes, meanwhile: Callable[[], None] | None = None,
) -> tuple[int, str]:
    """Exit code and everything the screen showed; `typed` goes in once `prompt` is on the screen, after
    `meanwhile` has run (what someone else does while the prompt waits)."""
    pid, master = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    output = b""
    sent = False
    ends = time.monotonic() + TERMINAL_TIMEOUT_S
    try:
        while time.monotonic() < ends:
            ready, _, _ = select.select([master], [], [], max(0.0, ends - time.monotonic()))
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not sent and prompt in output:
                if meanwhile is not None:
                    meanwhile()
                os.write(master, typed)
                sent = True
    finally:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(master)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")
