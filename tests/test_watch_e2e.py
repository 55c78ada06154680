"""`bridge watch` against the real OpenClaw gateway: a rotation in Vault reaches the running gateway with no restart.

The gateway (`openclaw gateway run` on loopback, tests/support/gateway.py) resolves its own auth token and a model
key through the bridge; the watcher polls every 2 s, through a switchable proxy so Supabase can go away, with the publishable key and a gateway token only. Every wait
is for an event (a journal line, the gateway admitting a token, an audit row), bounded; every output is searched
for the values and tokens.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, run_bridge
from tests.support.faults import FaultProxy
from tests.support.gateway import TOKEN_ID, Gateway, running_gateway
from tests.support.openclaw import OpenClaw, openclaw_on_path
from tests.support.pg import PgCluster, audit_rows_dropped_after
from tests.support.postgrest import ProjectKeys
from tests.test_gateway_fixture import BOOTSTRAP, MODEL_KEY, REFS, resolves, since  # noqa: F401 - since is a fixture
from tests.test_tokens import created_token

WAIT_S = 60.0
"""Longest wait for one event: a few 2-second intervals, the 2-second settle and a reload, with room on a busy machine."""


def token() -> str:
    return "gw-" + secrets.token_urlsafe(24)


class Journal:
    """The watcher's stderr as it comes, line by line, so a test awaits a line instead of guessing a time."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def await_line(self, needle: str, after: int = 0, timeout: float = WAIT_S) -> int:
        """The index of the first line from `after` on holding `needle`."""
        ends = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if needle in self.lines[index]:
                        return index
                left = ends - time.monotonic()
                assert left > 0, f"no watcher line with {needle!r}; it said: {self.lines[-5:]}"
                self._changed.wait(left)

    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


def await_true(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> float:
    """Seconds until `condition` held; each try is itself a round trip to the gateway or the database."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
    return time.monotonic() - started


@pytest.fixture
def rig(
    openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault, proxy: FaultProxy,
    keys: ProjectKeys, pg: PgCluster, since: datetime,  # noqa: F811 - the fixture imported above
) -> Iterator[tuple[Gateway, dict[str, str], str, str]]:
    """A running gateway whose token is in Vault, and the environment a watcher beside it runs with (Supabase
    through the proxy, the real openclaw on PATH)."""
    old = token()
    vault.put(TOKEN_ID, old)
    vault.put(MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
    home = tmp_path / "gw-home"
    home.mkdir(mode=0o700)
    bootstrap = {k: v for k, v in env_bootstrap.items() if k in BOOTSTRAP}
    # The watcher needs no secret key: the publishable key and a token allowed the names it watches.
    name = "gw-watch-" + secrets.token_hex(4)
    minted = run_bridge(["tokens", "create", name, "--tenant", "default", "--allow", TOKEN_ID, "--allow", MODEL_KEY],
                        env_bootstrap)
    gateway_token = created_token(minted)
    try:
        with running_gateway(openclaw, home, launcher, bootstrap, refs=REFS) as gw:
            wrapper = openclaw_on_path(openclaw, tmp_path / "bin")
            env = {
                **gw.env, "BRIDGE_HOME": bootstrap["BRIDGE_HOME"], "SUPABASE_URL": proxy.url,
                "SUPABASE_PUBLISHABLE_KEY": keys.publishable, "BRIDGE_GATEWAY_TOKEN": gateway_token,
                "PATH": f"{wrapper.parent}:{gw.env['PATH']}",
            }
            env.pop("SUPABASE_SECRET_KEY", None)
            yield gw, env, old, name
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = 'default' AND name = %s", (name,))


def first_poll_done(state: Path, pid: int) -> bool:
    """This watcher has its baseline: a rotation from now on is one it reports."""
    try:
        doc = json.loads(state.read_text())
    except (OSError, ValueError):
        return False
    return bool(doc.get("pid") == pid and doc.get("last_poll_ok") is True)


def start_watch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BRIDGE), "watch", "--interval", "2s", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def gateway_resolves(env_bootstrap: dict[str, str], name: str, after: datetime) -> list[dict[str, Any]]:
    """The gateway's own resolves of `name` (it holds the secret key, so its rows carry no token): the watcher,
    which holds a gateway token, must never add to them."""
    return [r for r in resolves(env_bootstrap, name, after) if not r["token_name"]]


def test_rotations_reach_the_running_gateway_without_a_restart(
    rig: tuple[Gateway, dict[str, str], str, str], env_bootstrap: dict[str, str], proxy: FaultProxy, pg: PgCluster,
    since: datetime,  # noqa: F811
) -> None:
    with audit_rows_dropped_after(pg):
        rotations_reach_the_gateway(rig, env_bootstrap, proxy, since)


def rotations_reach_the_gateway(
    rig: tuple[Gateway, dict[str, str], str, str], env_bootstrap: dict[str, str], proxy: FaultProxy, since: datetime,  # noqa: F811
) -> None:
    gw, env, old, watcher_token = rig
    pid = gw.pid
    watcher = start_watch(env)
    journal = Journal(watcher)
    values = [old, env["BRIDGE_GATEWAY_TOKEN"]]
    try:
        state = Path(env["BRIDGE_HOME"]) / "watch-state.json"
        await_true(lambda: first_poll_done(state, watcher.pid), "the watcher's first poll")
        second = subprocess.run([str(BRIDGE), "watch", "--interval", "2s"], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1 and second.stderr.count("\n") == 1, second.stderr

        # The gateway's own auth token: the reload is authenticated with the token it holds, the old one.
        new = token()
        values.append(new)
        rotated_at = time.monotonic()
        assert run_bridge(["secrets", "set", TOKEN_ID], env_bootstrap, new.encode()).returncode == 0
        await_true(lambda: gw.admits(new), "the new gateway token to be admitted")
        arrived = time.monotonic() - rotated_at
        print(f"rotation of the gateway token reached the running gateway in {arrived:.1f}s")
        assert not gw.admits(old) and gw.pid == pid and gw.running()
        reloaded = journal.await_line("reload ok")

        # A model key: resolved again by the gateway, which rollout then lists as updated.
        key = "sk-proj-" + secrets.token_urlsafe(24)
        values.append(key)
        before = len(gateway_resolves(env_bootstrap, MODEL_KEY, since))
        assert run_bridge(["secrets", "set", MODEL_KEY], env_bootstrap, key.encode()).returncode == 0
        reloaded = journal.await_line("reload ok", after=reloaded + 1)
        await_true(lambda: len(gateway_resolves(env_bootstrap, MODEL_KEY, since)) > before, "the gateway to resolve the new key")
        rollout = json.loads(run_bridge(["secrets", "rollout", MODEL_KEY, "--json"], env_bootstrap).stdout)
        assert socket.gethostname() in {g["gateway"] for g in rollout["updated"]}
        assert watcher_token not in {g["gateway"] for g in rollout["updated"] + rollout["pending"]}, "the watcher read a value"

        # Supabase away for longer than the backoff's start: the watcher stays up; the rotation made meanwhile
        # arrives once it is back.
        proxy.mode = 503
        down = journal.await_line("Supabase unreachable", after=reloaded + 1)
        journal.await_line("Supabase unreachable", after=down + 1)
        again = "sk-proj-" + secrets.token_urlsafe(24)
        values.append(again)
        before = len(gateway_resolves(env_bootstrap, MODEL_KEY, since))
        assert run_bridge(["secrets", "set", MODEL_KEY], env_bootstrap, again.encode()).returncode == 0
        assert watcher.poll() is None
        proxy.mode = "pass"
        back = journal.await_line("reachable again", after=down + 1)
        journal.await_line("reload ok", after=back)
        await_true(lambda: len(gateway_resolves(env_bootstrap, MODEL_KEY, since)) > before, "the key rotated while Supabase was away")
        assert gw.pid == pid and gw.admits(new)
        by_watcher = [r for r in resolves(env_bootstrap, MODEL_KEY, since) if r["token_name"] == watcher_token]
        assert by_watcher == [], "only the gateway's resolves may read its values: rollout counts their rows"

        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=10) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    out = watcher.stdout.read() if watcher.stdout else ""
    for text in (journal.text(), out, Path(env["BRIDGE_HOME"], "watch-state.json").read_text()):
        assert not [v for v in values if v in text], "a value or token appears in the watcher's output"


def test_a_supabase_outage_during_the_reload_keeps_the_rotation_pending_until_the_gateway_holds_it(
    openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault, proxy: FaultProxy,
) -> None:
    """The gateway's own resolve goes through the proxy, the watcher's polls do not: Supabase is away from the
    gateway exactly while it reloads, so the cache answers with the old token and the reload "works". The watcher
    must not count that: the change stays pending (state file, doctor) and is retried until the gateway holds it."""
    old, new = token(), token()
    vault.put(TOKEN_ID, old)
    vault.put(MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
    home = tmp_path / "gw-home"
    home.mkdir(mode=0o700)
    bootstrap = {k: v for k, v in env_bootstrap.items() if k in BOOTSTRAP}
    with running_gateway(openclaw, home, launcher, {**bootstrap, "SUPABASE_URL": proxy.url}, refs=REFS) as gw:
        wrapper = openclaw_on_path(openclaw, tmp_path / "bin")
        env = {**gw.env, **bootstrap, "PATH": f"{wrapper.parent}:{gw.env['PATH']}"}
        watcher = start_watch(env)
        journal = Journal(watcher)
        try:
            state = Path(env["BRIDGE_HOME"]) / "watch-state.json"
            await_true(lambda: first_poll_done(state, watcher.pid), "the watcher's first poll")
            proxy.mode = 503
            assert run_bridge(["secrets", "set", TOKEN_ID], env_bootstrap, new.encode()).returncode == 0
            missed = journal.await_line("not delivered")
            assert "reload ok" not in journal.text()
            assert gw.admits(old) and not gw.admits(new), "the cache answered the gateway's resolve with the old token"
            assert TOKEN_ID in json.loads(state.read_text())["undelivered"]
            doctor = json.loads(run_bridge(["doctor", "--json"], env).stdout)
            line = next(c for c in doctor["checks"] if c["name"] == "watcher")
            assert line["status"] == "warn" and TOKEN_ID in line["detail"] and " for " in line["detail"], line
            proxy.mode = "pass"
            journal.await_line("reload ok", after=missed + 1)
            assert gw.admits(new) and not gw.admits(old)
            assert json.loads(state.read_text())["undelivered"] == {}
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=10) == 0
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
    for text in (journal.text(), state.read_text()):
        assert old not in text and new not in text


def test_the_watchers_own_reads_never_count_as_the_gateways_in_rollout(
    openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    """The watcher runs with the gateway's own credentials on the gateway's host, so any value it read would be
    audited exactly as the gateway's resolve. With the gateway down, a rotation of its token cannot reach it: rollout
    must list this host as pending, never as updated."""
    vault.put(TOKEN_ID, token())
    vault.put(MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
    home = tmp_path / "gw-home"
    home.mkdir(mode=0o700)
    bootstrap = {k: v for k, v in env_bootstrap.items() if k in BOOTSTRAP}
    with running_gateway(openclaw, home, launcher, bootstrap, refs=REFS) as gw:
        wrapper = openclaw_on_path(openclaw, tmp_path / "bin")
        env = {**gw.env, **bootstrap, "PATH": f"{wrapper.parent}:{gw.env['PATH']}"}
        watcher = start_watch(env)
        journal = Journal(watcher)
        try:
            state = Path(env["BRIDGE_HOME"]) / "watch-state.json"
            await_true(lambda: first_poll_done(state, watcher.pid), "the watcher's first poll")
            gw.stop()
            assert run_bridge(["secrets", "set", TOKEN_ID], env_bootstrap, token().encode()).returncode == 0
            journal.await_line("reload refused")
            rollout = json.loads(run_bridge(["secrets", "rollout", TOKEN_ID, "--json"], env_bootstrap).stdout)
            host = socket.gethostname()
            assert host not in {g["gateway"] for g in rollout["updated"]}, "the watcher's read counted as the gateway's"
            assert host in {g["gateway"] for g in rollout["pending"]}
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=10) == 0
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
