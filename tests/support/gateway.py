"""A real OpenClaw gateway (`openclaw gateway run`) for tests, on 127.0.0.1 only, with the bridge as its exec provider.

The gateway runs in a private HOME (its state dir is `$HOME/.openclaw`) with an
openclaw.json whose `gateway.auth.token` is an exec SecretRef to `GATEWAY_TOKEN`
through provider `supabase` (the bridge's launcher), so the token the gateway
admits is whatever Vault held when it last resolved its refs. Model keys in
`refs` are exec refs through the same provider.

    with running_gateway(openclaw, home, launcher, bootstrap_env, refs={"openai": "OPENAI_API_KEY"}) as gw:
        gw.url                      # ws://127.0.0.1:PORT
        gw.env                      # the environment to run the openclaw CLI against it (gw.cli(...) uses it)
        gw.reload(token)            # `openclaw secrets reload --url URL --token TOKEN --json`, parsed
        gw.admits(token)            # `openclaw gateway call health --url URL --token TOKEN --json` succeeded?

What was found on OpenClaw 2026.9.6, and what this module relies on:

- Start: `openclaw gateway run --port PORT --bind loopback` in the foreground. It refuses to start without
  `gateway.mode: "local"` in the config. It listens on 127.0.0.1:PORT and [::1]:PORT, nothing else.
- Readiness: the line `[gateway] ready` on stdout (after `http server listening` and the channels and
  sidecars). The start waits for that line, or for the process to end, never for a fixed time; then the port
  must accept a connection.
- Stop: SIGTERM; it logs `[shutdown] completed cleanly` and exits 0 within about 2 s. After `STOP_GRACE_S`
  the whole process group is killed.
- Admission: `openclaw gateway call health` is a read-scope RPC over the authenticated WebSocket connect,
  and cheap (the gateway answers from its health snapshot). A token the gateway does not hold is refused
  at the connect with `AUTH_TOKEN_MISMATCH` and exit 1; with `--url` the CLI uses only the `--token`
  given, never one from the config or the environment.
- Reload: `openclaw secrets reload --url URL --token TOKEN --json` prints `{"ok": true, "warningCount": N}`
  (N > 0: an owner such as a model provider kept its last good value), or `{"ok": false, "error": {...}}` with
  exit 1 when a strict ref (the gateway's own token) cannot be resolved; the gateway logs each RPC with its
  duration (`reload_rpc_ms`).
- Offline: `update.checkOnStart: false` (and OPENCLAW_NO_AUTO_UPDATE), `models.catalogRefresh.enabled:
  false` (else it fetches the hosted model catalog at start), `discovery.mdns.mode: "off"` and
  OPENCLAW_DISABLE_BONJOUR=1; `logging.file` inside HOME (the default is the shared /tmp/openclaw/).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.openclaw import QUIET_ENV, OpenClaw, exec_ref, write_openclaw_json

TOKEN_ID = "GATEWAY_TOKEN"
"""The Vault name the gateway's own auth token is read from."""
READY_LINE = re.compile(r"\[gateway\] ready\s*$")
RELOAD_RPC_LINE = re.compile(r"\[ws\] \S+ res (\S+) secrets\.reload (\d+)ms")
"""The gateway's own log of each `secrets.reload` RPC: `[ws] ⇄ res ✓ secrets.reload 217ms conn=...` (✗ on failure)."""
START_TIMEOUT_S = 120.0
"""A cold start takes ~7 s here (4 s to `http server listening`); the bound is for a slow CI machine."""
STOP_GRACE_S = 15.0
"""SIGTERM first; a gateway still running after this is killed with its process group."""
CLI_TIMEOUT_S = 60.0
OFFLINE_ENV = {"OPENCLAW_DISABLE_BONJOUR": "1"}
AUTH_REFUSED = ("AUTH_TOKEN_MISMATCH", "token_mismatch", "unauthorized")
"""What a refused token looks like in `gateway call --json` output (error.details.code / authReason / message)."""


def exec_provider(launcher: Path, pass_env: list[str], timeout_ms: int = 5000) -> dict[str, Any]:
    """The bridge as OpenClaw's exec provider, as install.sh registers it (tests/test_openclaw_e2e.py's shape)."""
    return {
        "source": "exec",
        "command": str(launcher),
        "args": ["resolve"],
        "passEnv": pass_env,
        "trustedDirs": [str(launcher.parent)],
        "timeoutMs": timeout_ms,
        "jsonOnly": True,
    }


def write_gateway_config(
    home: Path, provider: dict[str, Any], port: int, refs: dict[str, str], token_id: str = TOKEN_ID,
    auth: dict[str, Any] | None = None, providers: dict[str, Any] | None = None,
) -> Path:
    """$home/.openclaw/openclaw.json for a local, loopback gateway whose model keys are exec refs through provider
    `supabase`, and whose auth is a token that is an exec ref through it too, unless `auth` says otherwise (an env
    ref, another provider's ref, password mode). `providers` are more secret providers beside `supabase`."""
    state = home / ".openclaw"
    config = {
        "gateway": {
            "mode": "local",
            "port": port,
            "bind": "loopback",
            "auth": auth or {"mode": "token", "token": exec_ref(token_id)},
        },
        "secrets": {"providers": {"supabase": provider, **(providers or {})}},
        "models": {
            "catalogRefresh": {"enabled": False},
            "providers": {pid: {"apiKey": exec_ref(ref_id)} for pid, ref_id in refs.items()},
        },
        "update": {"checkOnStart": False},
        "discovery": {"mdns": {"mode": "off"}},
        "logging": {"file": str(state / "logs" / "gateway.log")},
    }
    return write_openclaw_json(home, config)


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayError(RuntimeError):
    """The gateway did not start, or a CLI call against it gave an answer that is neither yes nor no."""


@dataclass
class Gateway:
    """One running `openclaw gateway run`; start with `start_gateway` or `running_gateway`."""

    openclaw: OpenClaw = field(repr=False)
    home: Path
    port: int
    env: dict[str, str] = field(repr=False)
    """The environment the gateway runs with and the CLI is run with (gw.cli): PATH with OpenClaw's Node first,
    HOME, the quiet and offline switches, and the bridge's bootstrap variables the provider's passEnv forwards."""
    process: subprocess.Popen[str] = field(repr=False)
    _lines: list[str] = field(default_factory=list, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _ended: bool = field(default=False, repr=False)
    reload_seconds: list[float] = field(default_factory=list)
    """The wall-clock time of every `reload`, CLI start included, in order."""

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def config_path(self) -> Path:
        return self.home / ".openclaw" / "openclaw.json"

    def output(self) -> str:
        """Everything the gateway wrote to stdout and stderr so far."""
        with self._changed:
            return "".join(self._lines)

    def await_output(self, seen: Callable[[str], bool], timeout: float = CLI_TIMEOUT_S) -> bool:
        """Whether the gateway's output came to satisfy `seen` (awaited line by line; `timeout` only against a hang)."""
        with self._changed:
            return self._changed.wait_for(lambda: seen("".join(self._lines)), timeout=timeout)

    def reload_rpc_ms(self) -> list[int]:
        """The server-side duration of every `secrets.reload` the gateway answered, from its log, in order: the
        re-resolution (the bridge spawned, Vault asked) and the swap, without the CLI's own start."""
        return [int(m.group(2)) for m in RELOAD_RPC_LINE.finditer(self.output())]

    def running(self) -> bool:
        return self.process.poll() is None

    def cli(self, args: list[str], timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        """`openclaw <args>` in the gateway's HOME and environment: what an operator on this host runs."""
        return self.openclaw.run(args, self.home, timeout=timeout, extra_env=self._cli_env())

    def reload(self, token: str) -> dict[str, Any]:
        """`openclaw secrets reload --url URL --token TOKEN --json`: the gateway re-resolves every ref (spawning the
        bridge) and swaps its snapshot. Returns the CLI's JSON (`{"ok": true, "warningCount": 0}` on success), and
        records the wall-clock time in `reload_seconds`."""
        began = time.monotonic()
        done = self.cli(["secrets", "reload", "--url", self.url, "--token", token, "--json"])
        self.reload_seconds.append(time.monotonic() - began)
        return self._json(done, "secrets reload")

    def admits(self, token: str) -> bool:
        """Whether the running gateway accepts `token` now: `openclaw gateway call health --url URL --token TOKEN
        --json`. True on an ok answer, False when the connect is refused for the token; anything else (the gateway
        down, a timeout) raises, so that an unreachable gateway never reads as a refused token."""
        if not self.running():
            raise GatewayError(f"the gateway has exited ({self.process.returncode}):\n{self.output()[-4000:]}")
        done = self.cli(["gateway", "call", "health", "--url", self.url, "--token", token, "--json", "--timeout", "10000"])
        answer = self._json(done, "gateway call health")
        if done.returncode == 0 and answer.get("ok") is True:
            return True
        error = answer.get("error")
        if done.returncode != 0 and any(word in json.dumps(error) for word in AUTH_REFUSED):
            return False
        raise GatewayError(f"gateway call health neither admitted nor refused (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")

    def stop(self, grace: float = STOP_GRACE_S) -> int:
        """SIGTERM, then SIGKILL to the whole process group after `grace`. Returns the exit status (negative: the
        signal that ended it). Idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # workers it left behind, if any
            os.killpg(self.process.pid, signal.SIGKILL)
        with self._changed:
            self._changed.wait_for(lambda: self._ended, timeout=grace)
        return self.process.returncode

    def listening(self) -> set[tuple[str, int]]:
        """(address, port) of every TCP socket the gateway process listens on and every UDP socket it has bound,
        from /proc: the proof that it is on loopback only."""
        inodes = set()
        fd_dir = Path(f"/proc/{self.pid}/fd")
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
        found: set[tuple[str, int]] = set()
        for table, listen_only in (("tcp", True), ("tcp6", True), ("udp", False), ("udp6", False)):
            path = Path(f"/proc/{self.pid}/net/{table}")
            if not path.exists():
                continue
            for row in path.read_text().splitlines()[1:]:
                cols = row.split()
                local, state, inode = cols[1], cols[3], cols[9]
                if inode in inodes and (state == "0A" or not listen_only):
                    found.add(_proc_address(local))
        return found

    def _cli_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k not in ("PATH", "HOME")}

    def _json(self, done: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise GatewayError(f"{what} printed no JSON object (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        return answer

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _wait_ready(self, timeout: float) -> None:
        def seen() -> bool:
            return self._ended or any(READY_LINE.search(line) for line in self._lines)

        with self._changed:
            settled = self._changed.wait_for(seen, timeout=timeout)
            ended = self._ended
        if not settled or ended:
            self.stop()
            why = f"no `[gateway] ready` within {timeout:.0f} s" if not settled else f"it exited ({self.process.returncode})"
            raise GatewayError(f"the gateway did not start: {why}:\n{self.output()[-6000:]}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass


def _proc_address(hex_address: str) -> tuple[str, int]:
    """/proc/net/{tcp,udp}[6]'s `0100007F:1F90` as ("127.0.0.1", 8080); IPv6 as its compressed text."""
    addr, port = hex_address.split(":")
    raw = bytes.fromhex(addr)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is in host order
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words), int(port, 16)


def start_gateway(
    openclaw: OpenClaw,
    home: Path,
    launcher: Path,
    bootstrap_env: dict[str, str],
    refs: dict[str, str] | None = None,
    timeout: float = START_TIMEOUT_S,
    *,
    auth: dict[str, Any] | None = None,
    providers: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    token_id: str = TOKEN_ID,
) -> Gateway:
    """Write the config and start `openclaw gateway run` on a free loopback port; returns once it logged ready.

    `bootstrap_env` (the bridge's SUPABASE_URL, SUPABASE_SECRET_KEY, BRIDGE_HOME...) is set on the gateway and
    forwarded to the bridge by passEnv, so the config never holds a key. Its PATH, if any, is not used: OpenClaw's
    Node must come first on the gateway's PATH. `auth`, `providers`: see write_gateway_config; `extra_env` is set
    on the gateway (and the CLI run with gw.cli) but not forwarded to the bridge.
    """
    passed = {k: v for k, v in bootstrap_env.items() if k not in ("PATH", "HOME")}
    port = free_loopback_port()
    write_gateway_config(home, exec_provider(launcher, sorted(passed)), port, refs or {}, token_id, auth=auth, providers=providers)
    env = {"PATH": f"{openclaw.node.parent}:/usr/bin:/bin", "HOME": str(home), **QUIET_ENV, **OFFLINE_ENV, **passed,
           **(extra_env or {})}
    process = subprocess.Popen(
        [str(openclaw.node), str(openclaw.entry), "gateway", "run", "--port", str(port), "--bind", "loopback"],
        env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace", start_new_session=True,
    )
    gateway = Gateway(openclaw=openclaw, home=home, port=port, env=env, process=process)
    threading.Thread(target=gateway._read, daemon=True).start()
    gateway._wait_ready(timeout)
    return gateway


@contextlib.contextmanager
def running_gateway(
    openclaw: OpenClaw,
    home: Path,
    launcher: Path,
    bootstrap_env: dict[str, str],
    refs: dict[str, str] | None = None,
    *,
    auth: dict[str, Any] | None = None,
    providers: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    token_id: str = TOKEN_ID,
) -> Iterator[Gateway]:
    """`start_gateway`, stopped (SIGTERM, then kill) when the block ends; `token_id` names the Vault secret that is
    its own auth token."""
    gateway = start_gateway(openclaw, home, launcher, bootstrap_env, refs, auth=auth, providers=providers, extra_env=extra_env,
                            token_id=token_id)
    try:
        yield gateway
    finally:
        gateway.stop()
