"""The gateway reload: `openclaw secrets reload --url URL --token TOKEN --json`, and what its answer means.

Known exposure: the token travels in the child's argv, because that is the
OpenClaw CLI's interface (without --token it would resolve gateway.auth.token
itself and, right after a rotation of that token, send the new value the
running gateway refuses). Anyone who can read this user's process list can
see it while the reload runs, for about 3 s. It is never logged: every line
taken from OpenClaw's output, or from a failure to run it, is scrubbed of it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from bridge.core.errors import BridgeError
from bridge.core.keys import scrub
from bridge.core.text import printable
from bridge.openclaw.runner import find_openclaw, run_openclaw

RELOAD_TIMEOUT_S = 60.0
"""A reload takes about 3 s; one still running after this is killed and counts as refused."""
MAX_DETAIL_CHARS = 200


class Reloaded(NamedTuple):
    ok: bool
    seconds: float
    detail: str
    """Why it was refused, one line without the token; the warning count when it worked."""


def judge(returncode: int, stdout: str, stderr: str, token: str | None) -> tuple[bool, str]:
    """Pure: `{"ok": true, ...}` on stdout with exit 0 is a reload; anything else is a refusal, explained by
    OpenClaw's JSON error, else its stderr, else its stdout, as one scrubbed line."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        doc = None
    if returncode == 0 and isinstance(doc, dict) and doc.get("ok") is True:
        return True, f"{doc.get('warningCount', 0)} warning(s)"
    said = ""
    if isinstance(doc, dict):
        said = next((str(doc[k]) for k in ("error", "message") if doc.get(k)), "")
    said = said or stderr.strip() or stdout.strip() or f"exit status {returncode}"
    return False, one_line(said, token)


def one_line(text: str, token: str | None) -> str:
    return printable(" ".join(scrub(text, token or "").split()))[:MAX_DETAIL_CHARS]


Run = Callable[..., "subprocess.CompletedProcess[str]"]


class Reloader:
    """Runs the reload with the watcher's environment; `run` and `clock` are swapped by tests. cancel() stops a
    reload still running when the watcher is told to stop, so no child outlives it."""

    def __init__(self, env: Mapping[str, str], run: Run = run_openclaw, clock: Callable[[], float] = time.monotonic) -> None:
        self._env = env
        self._run = run
        self._clock = clock
        self._child: subprocess.Popen[str] | None = None
        self._cancelled = False

    def _started(self, child: subprocess.Popen[str]) -> None:
        self._child = child
        if self._cancelled:
            child.terminate()

    def cancel(self) -> None:
        """From another thread: terminate the running reload, if any, and any that would start after this."""
        self._cancelled = True
        child = self._child
        if child is not None and child.poll() is None:
            with contextlib.suppress(OSError):
                child.terminate()

    def __call__(self, url: str, token: str | None) -> Reloaded:
        command = find_openclaw(self._env)
        if command is None:
            return Reloaded(False, 0.0, "openclaw is not on PATH; run bridge watch where the gateway's `openclaw` command is")
        args = ["secrets", "reload", "--url", url, *(["--token", token] if token else []), "--json"]
        started = self._clock()
        try:
            done = self._run(command, args, self._env, check=False, timeout=RELOAD_TIMEOUT_S, started=self._started)
        except BridgeError as exc:
            return Reloaded(False, self._clock() - started, one_line(str(exc), token))
        ok, detail = judge(done.returncode, done.stdout or "", done.stderr or "", token)
        return Reloaded(ok, self._clock() - started, detail)
