"""The gateway reload: `openclaw secrets reload --json`, run so that no wait on it is unbounded, and what its answer
means.

Credentials. When gateway.auth.token is a ref through our provider, the watcher
knows the token the running gateway holds (from before any rotation of it) and
passes it with `--url URL --token TOKEN`: without them the CLI would resolve the
token itself and, right after a rotation, send the new value the running gateway
refuses. In every other case (an `env` ref, a line in ~/.openclaw/.env, another
exec provider, password mode) the reload runs without `--url`, so the CLI
authenticates with what its own config gives it: with `--url` it demands
explicit credentials ("gateway url override requires explicit credentials").

Known exposure: a token passed with --token is in the child's argv, because that
is the OpenClaw CLI's interface. Anyone who can read this user's process list can
see it while the reload runs, for about 3 s. It is never logged: every line taken
from OpenClaw's output, or from a failure to run it, is scrubbed of it.

Bounds. The child runs in its own session (a process group of its own), so a
wrapper script or a launcher that respawns the CLI is one group: killed whole at
RELOAD_TIMEOUT_S, on cancel() (the watcher's SIGTERM), and once the CLI itself has
exited (anything it left behind holding the pipes is killed AFTER_EXIT_S later).
The output is read with a deadline, never until the pipes close, so a grandchild
holding them open cannot stall the loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from bridge.core.keys import scrub
from bridge.core.text import printable
from bridge.openclaw.runner import find_openclaw

RELOAD_TIMEOUT_S = 60.0
"""A reload takes about 3 s; one still running after this is killed with its group and counts as refused."""
AFTER_EXIT_S = 2.0
"""Once the CLI has exited, how long what it left behind may keep its output open before the group is killed."""
KILL_WAIT_S = 2.0
"""After SIGKILL to the group, how long the pipes and the leader's exit are awaited before they are let go."""
OUTPUT_MAX_BYTES = 64 * 1024
"""Of each of stdout and stderr: OpenClaw's answer is a few hundred bytes; more is read and dropped."""
EXIT_TICK_S = 0.1
"""Where there is no pidfd to await the CLI's exit on (macOS), how often it is looked at while its output is open."""
MAX_DETAIL_CHARS = 300


class Reloaded(NamedTuple):
    ok: bool
    seconds: float
    detail: str
    """Why it was refused, one line without the token; the warning count when it worked."""


class Finished(NamedTuple):
    """What a reload child left: its exit status (None: not known, it was let go), its output, and whether it ran
    past its limit."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool


def judge(returncode: int | None, stdout: str, stderr: str, token: str | None) -> tuple[bool, str]:
    """Pure: `{"ok": true, ...}` on stdout with exit 0 is a reload; anything else is a refusal, explained by
    OpenClaw's JSON error (its message, not the object), else its stderr, else its stdout, as one scrubbed line."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        doc = None
    if returncode == 0 and isinstance(doc, dict) and doc.get("ok") is True:
        # Only a count is shown as it is: anything else the CLI (or a wrapper) put there is scrubbed and one line.
        count = doc.get("warningCount", 0)
        if isinstance(count, int) and not isinstance(count, bool):
            return True, f"{count} warning(s)"
        return True, one_line(f"{count} warning(s)", token)
    said = error_text(doc.get("error") or doc.get("message")) if isinstance(doc, dict) else ""
    said = said or stderr.strip() or stdout.strip() or f"exit status {returncode}"
    return False, one_line(said, token)


def error_text(error: object) -> str:
    """OpenClaw's `error`, a string or `{"type", "message", "code", "details"}`: the message (and code), never
    the object's repr."""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        text = message if isinstance(message, str) else ""
        if isinstance(code, str) and code not in text:
            text = f"{text} ({code})" if text else code
        return text
    return ""


def one_line(text: str, token: str | None) -> str:
    """Each line of `text` kept, joined with "; ", scrubbed, cut at a word before MAX_DETAIL_CHARS."""
    lines = [" ".join(line.split()) for line in scrub(text, token or "", MAX_DETAIL_CHARS).splitlines()]
    joined = printable("; ".join(line for line in lines if line))
    if len(joined) <= MAX_DETAIL_CHARS:
        return joined
    return joined[:MAX_DETAIL_CHARS].rsplit(" ", 1)[0] + " …"


class Group:
    """A reload child in a session of its own, and the one way to kill it: the whole group, only while its leader
    is not yet reaped (a reaped leader's pid, hence the group id, could belong to another process by then)."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self._lock = threading.Lock()
        self._reaped = False

    def kill(self) -> None:
        with self._lock:
            if not self._reaped:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.child.pid, signal.SIGKILL)

    def leader_exited(self) -> bool:
        """Whether the leader has exited, without reaping it (it stays a zombie holding the group id)."""
        try:
            return os.waitid(os.P_PID, self.child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def reap(self, timeout: float) -> int | None:
        """The leader's exit status, once the group is killed; None when it could not be reaped in time."""
        self.kill()
        with self._lock:
            try:
                code = self.child.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
            self._reaped = True
            return code


def run_group(
    argv: list[str], env: Mapping[str, str], timeout: float, started: Callable[[Group], None],
    clock: Callable[[], float] = time.monotonic,
) -> Finished:
    """Run `argv` in its own session and read its output until it has exited and its output closed, with every
    wait bounded: `timeout` for the whole, AFTER_EXIT_S past the leader's exit, KILL_WAIT_S past a kill. The group
    is always killed before this returns, so nothing it started outlives the reload."""
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env),
        start_new_session=True,
    )
    group = Group(child)
    started(group)
    assert child.stdout is not None and child.stderr is not None
    out, err = bytearray(), bytearray()
    buffers = {child.stdout.fileno(): out, child.stderr.fileno(): err}
    exited = _exit_watch(child.pid)
    ends = clock() + timeout
    timed_out = killed = leader_gone = False
    with selectors.DefaultSelector() as selector:
        for fd in buffers:
            selector.register(fd, selectors.EVENT_READ)
        if exited is not None:
            selector.register(exited, selectors.EVENT_READ)
        open_pipes = len(buffers)
        while True:
            now = clock()
            if not leader_gone and group.leader_exited():
                leader_gone = True
                ends = min(ends, now + AFTER_EXIT_S)
                if exited is not None:
                    selector.unregister(exited)
            if leader_gone and not open_pipes:
                break
            if now >= ends:
                if killed:
                    break
                # Past the limit, or past the CLI's exit with its output still held: the group goes, and the pipes
                # close as its members die.
                killed = True
                timed_out = not leader_gone
                group.kill()
                ends = now + KILL_WAIT_S
                continue
            wait = ends - now if leader_gone or exited is not None else min(ends - now, EXIT_TICK_S)
            for key, _ in selector.select(wait):
                if key.fd == exited:
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fd)
                    open_pipes -= 1
                    continue
                buffer = buffers[key.fd]
                buffer += chunk[: max(0, OUTPUT_MAX_BYTES - len(buffer))]
    if exited is not None:
        os.close(exited)
    code = group.reap(KILL_WAIT_S)
    for stream in (child.stdout, child.stderr):
        stream.close()
    return Finished(code, out.decode(errors="replace"), err.decode(errors="replace"), timed_out)


def _exit_watch(pid: int) -> int | None:
    """A pidfd that becomes readable when `pid` exits (Linux), or None: then the exit is looked at every tick."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(pid))
    except OSError:
        return None


Run = Callable[[list[str], Mapping[str, str], float, Callable[[Group], None]], Finished]


class Reloader:
    """Runs the reload with the watcher's environment; `run`, `clock` and `timeout` are swapped by tests. cancel()
    kills the running reload's whole group when the watcher is told to stop, and any that would start after it,
    so no child (and none of its children) outlives the watcher."""

    def __init__(
        self, env: Mapping[str, str], run: Run = run_group, clock: Callable[[], float] = time.monotonic,
        timeout: float = RELOAD_TIMEOUT_S,
    ) -> None:
        self._env = env
        self._run = run
        self._clock = clock
        self._timeout = timeout
        self._group: Group | None = None
        self._cancelled = False

    def _started(self, group: Group) -> None:
        self._group = group
        if self._cancelled:
            group.kill()

    def cancel(self) -> None:
        """From another thread: kill the running reload's group, if any, and any that would start after this."""
        self._cancelled = True
        group = self._group
        if group is not None:
            group.kill()

    def __call__(self, url: str | None, token: str | None) -> Reloaded:
        """With `url` and `token`, that gateway with that token; with neither, the gateway the CLI's own config
        names, with the credentials it gives."""
        command = find_openclaw(self._env)
        if command is None:
            return Reloaded(False, 0.0, "openclaw is not on PATH; run bridge watch where the gateway's `openclaw` command is")
        target = ["--url", url, "--token", token] if url is not None and token else []
        started = self._clock()
        try:
            done = self._run([command, "secrets", "reload", *target, "--json"], self._env, self._timeout, self._started)
        except OSError as exc:
            return Reloaded(False, self._clock() - started, one_line(f"`openclaw secrets reload` could not run ({exc.strerror or type(exc).__name__})", token))
        finally:
            self._group = None
        if done.timed_out:
            return Reloaded(False, self._clock() - started, f"`openclaw secrets reload` still running after {self._timeout:g}s; killed with its process group")
        ok, detail = judge(done.returncode, done.stdout, done.stderr, token)
        return Reloaded(ok, self._clock() - started, detail)
