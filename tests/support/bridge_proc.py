"""Run the installed `bridge` command the way the gateway does: no shell, a minimal environment, stdin in, stdout out."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BRIDGE = Path(sys.executable).parent / "bridge"
REPO = Path(__file__).resolve().parents[2]


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


def request(*ids: str, provider: str = "supabase") -> bytes:
    """An exec-protocol request, as the gateway writes it to the provider's stdin."""
    return json.dumps({"protocolVersion": 1, "provider": provider, "ids": list(ids)}).encode()


def resolve(env: dict[str, str], *ids: str) -> tuple[dict[str, Any], str]:
    """`bridge resolve` for `ids`, which must exit 0: the parsed response and what went to stderr."""
    result = run_bridge(["resolve"], env, request(*ids))
    assert result.returncode == 0, result.stderr
    response: dict[str, Any] = json.loads(result.stdout)
    return response, result.stderr


def install(env: dict[str, str], *args: str, script: Path = REPO / "install.sh") -> subprocess.CompletedProcess[str]:
    """install.sh as a user runs it, with this interpreter as PYTHON so that it installs the code under test."""
    return subprocess.run(
        [str(script), *args], env={**env, "PYTHON": sys.executable}, capture_output=True, text=True,
        timeout=600, check=False,
    )


GATEWAY_KILL_S = 5.0
"""OpenClaw's default timeoutMs: a bridge still running then is killed and the resolution fails."""


@dataclass(frozen=True)
class GatewayRun:
    returncode: int
    stdout: bytes
    stderr: str
    killed: bool
    max_rss_kib: int
    """Peak resident memory of the bridge process itself (wait4), not of the test."""

    def all_output(self) -> str:
        return self.stdout.decode(errors="replace") + self.stderr


_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""A small parent between the test and the bridge: a process forked from pytest inherits pytest's peak memory in
ru_maxrss (it survives exec), so the bridge is forked from this small one instead."""


def run_as_gateway(
    command: list[str], env: dict[str, str], stdin: bytes, preexec_fn: Callable[[], object] | None = None,
) -> GatewayRun:
    """Spawn as OpenClaw does and kill at its timeout, measuring the bridge's own peak memory."""
    command = [shutil.which(command[0]) or command[0], *command[1:]]
    with tempfile.NamedTemporaryFile("r", prefix="rss-") as rss:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, rss.name, *command], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec_fn, start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(GATEWAY_KILL_S, kill)
        timer.start()
        try:
            stdout, stderr = proc.communicate(stdin)
        finally:
            timer.cancel()
        peak = rss.read().strip()
    return GatewayRun(proc.returncode, stdout, stderr.decode(errors="replace"), killed.is_set(), int(peak or 0))
