"""`bridge watch` as a process: against the PostgREST stand-in, with a fake `openclaw` that records its argv.

Readiness is awaited through the state file or the journal lines, never by
sleeping a guessed time. Tokens and values are compared, never printed.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, run_bridge
from tests.support.faults import FaultProxy
from tests.support.pg import PgCluster
from tests.support.postgrest import ProjectKeys
from tests.test_tokens import created_token

PORT = 19555
URL = f"ws://127.0.0.1:{PORT}"
OLD_TOKEN = "gw-old-token-4f9c2a7e1b"
NEW_TOKEN = "gw-new-token-8d3e6b0c5a"
OLD_KEY = "sk-watch-old-1c2d3e4f5a"
NEW_KEY = "sk-watch-new-9a8b7c6d5e"
TOKEN_NAME = "WATCH_GW_TOKEN"
KEY_NAME = "WATCH_MODEL_KEY"
RESOLVE_REQUEST = json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": [TOKEN_NAME, KEY_NAME]})
WAIT_S = 30.0
STOP_WAIT_S = 30.0
"""Only against a hang: how soon the watcher exits is measured in benchmarks/, never asserted here."""

FAKE_OPENCLAW = """#!{python}
import json, os, subprocess, sys, time
with open({record!r}, "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
if os.path.exists({linger!r}) or os.path.exists({slow!r}):
    # A launcher that respawns the CLI: a child with the same argv, holding the same pipes.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", *sys.argv[1:]])
    with open({linger!r} if os.path.exists({linger!r}) else {slow!r}, "w") as out:
        out.write(str(os.getpid()) + " " + str(child.pid))
if os.path.exists({slow!r}):
    time.sleep(120)
if os.path.exists({refuse!r}):
    print("gateway refused: unauthorized", file=sys.stderr)
    sys.exit(1)
# What the gateway does on a reload: resolve every ref through the bridge (which writes the cache and the stamps
# of its live answers).
subprocess.run([{bridge!r}, "resolve"], input={request!r}, text=True, capture_output=True, check=True)
print(json.dumps({{"ok": True, "warningCount": 0}}))
"""


class Rig:
    """A HOME with openclaw.json, a fake openclaw on PATH and the bridge's environment."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.record = tmp_path / "openclaw-argv.jsonl"
        self.refuse = tmp_path / "refuse"
        self.slow = tmp_path / "slow"
        self.linger = tmp_path / "linger"
        fake = self.bin / "openclaw"
        fake.write_text(FAKE_OPENCLAW.format(
            python=sys.executable, record=str(self.record), refuse=str(self.refuse), slow=str(self.slow), linger=str(self.linger), bridge=str(BRIDGE), request=RESOLVE_REQUEST,
        ))
        fake.chmod(0o700)
        config = tmp_path / "openclaw.json"
        config.write_text(json.dumps({
            "gateway": {"port": PORT, "auth": {"token": {"source": "exec", "provider": "supabase", "id": TOKEN_NAME}}},
            "models": {"providers": {"openai": {"apiKey": {"source": "exec", "provider": "supabase", "id": KEY_NAME}}}},
        }))
        self.env = {**env, "PATH": f"{self.bin}:{env['PATH']}", "HOME": str(tmp_path), "OPENCLAW_CONFIG_PATH": str(config)}
        self.state = Path(env["BRIDGE_HOME"]) / "watch-state.json"
        self.stderr = tmp_path / "watch.stderr"

    def calls(self) -> list[list[str]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def ready(self, proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
        """True once `proc` itself (not a watcher before it) has recorded a good poll."""

        def polled() -> bool:
            try:
                state = json.loads(self.state.read_text())
            except (OSError, ValueError):
                return False
            return bool(state.get("pid") == proc.pid and state.get("last_poll_ok") is True)

        return polled

    def journal(self) -> str:
        return self.stderr.read_text() if self.stderr.exists() else ""

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with self.stderr.open("ab") as err:
            return subprocess.Popen([str(BRIDGE), "watch", *args], env=self.env, stdout=subprocess.PIPE, stderr=err)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, f"timed out waiting for {what}"
        time.sleep(0.05)


def token_after(args: list[str]) -> str | None:
    return args[args.index("--token") + 1] if "--token" in args else None


def assert_clean(text: str, *secrets: str) -> None:
    leaked = [index for index, secret in enumerate(secrets) if secret in text]
    assert not leaked, f"secret #{leaked} appears in the output"


@pytest.fixture
def rig(tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault) -> Rig:
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    return gateway_started(Rig(tmp_path, env_bootstrap))


def gateway_started(rig: Rig) -> Rig:
    """What a gateway's start leaves: its resolve of every ref, which wrote the cache the watcher learns from."""
    assert run_bridge(["resolve"], rig.env, RESOLVE_REQUEST.encode()).returncode == 0
    return rig


@pytest.fixture
def watcher(rig: Rig) -> Iterator[subprocess.Popen[bytes]]:
    proc = rig.start("--interval", "1s")
    try:
        wait_for(rig.ready(proc), "the first poll")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=STOP_WAIT_S)


def test_a_rotation_reloads_once_with_the_url_and_the_token_the_gateway_holds(
    rig: Rig, watcher: subprocess.Popen[bytes], env_bootstrap: dict[str, str],
) -> None:
    assert rig.calls() == []
    assert run_bridge(["secrets", "set", TOKEN_NAME], env_bootstrap, NEW_TOKEN.encode()).returncode == 0
    wait_for(lambda: len(rig.calls()) == 1, "the reload")
    args = rig.calls()[0]
    assert args[:4] == ["secrets", "reload", "--url", URL] and args[-1] == "--json"
    carried_old = token_after(args) == OLD_TOKEN
    assert carried_old, "the reload after the token's own rotation must carry the value the gateway still holds"
    wait_for(lambda: "reload ok in" in rig.journal(), "the reload line")

    # The next change is reloaded with the new token, which the gateway took on the first reload; and once only.
    assert run_bridge(["secrets", "set", KEY_NAME], env_bootstrap, NEW_KEY.encode()).returncode == 0
    wait_for(lambda: len(rig.calls()) == 2, "the second reload")
    carried_new = token_after(rig.calls()[1]) == NEW_TOKEN
    assert carried_new, "after a good reload the watcher keeps the rotated token"
    assert rig.journal().count("change seen") == 2
    assert stop(watcher) == 0
    assert len(rig.calls()) == 2
    journal = rig.journal()
    assert f"change seen: {TOKEN_NAME}" in journal and f"change seen: {KEY_NAME}" in journal
    assert watcher.stdout is not None
    assert_clean(journal + watcher.stdout.read().decode() + rig.state.read_text(),
                 OLD_TOKEN, NEW_TOKEN, OLD_KEY, NEW_KEY, env_bootstrap["SUPABASE_SECRET_KEY"])


def test_a_second_watcher_for_the_same_gateway_refuses_in_one_line(rig: Rig, watcher: subprocess.Popen[bytes]) -> None:
    second = run_bridge(["watch", "--interval", "1s"], rig.env, timeout=20)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "already running" in lines[0] and URL in lines[0]
    assert watcher.poll() is None
    state = json.loads(rig.state.read_text())
    assert state["pid"] == watcher.pid and state["gateway_url"] == URL
    assert rig.state.stat().st_mode & 0o777 == 0o600


def test_sigterm_and_sigint_exit_0_promptly(rig: Rig, watcher: subprocess.Popen[bytes]) -> None:
    assert stop(watcher) == 0
    again = rig.start("--interval", "30s")
    try:
        wait_for(rig.ready(again), "the restarted watcher's poll")
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=STOP_WAIT_S) == 0
    finally:
        if again.poll() is None:
            again.kill()


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_a_reload_still_running_is_stopped_with_the_watcher(
    rig: Rig, watcher: subprocess.Popen[bytes], env_bootstrap: dict[str, str],
) -> None:
    rig.slow.touch()
    assert run_bridge(["secrets", "set", KEY_NAME], env_bootstrap, NEW_KEY.encode()).returncode == 0
    wait_for(lambda: len(rig.slow.read_text().split()) == 2, "the reload to start")
    child, grandchild = (int(pid) for pid in rig.slow.read_text().split())
    assert running(child) and running(grandchild)
    assert stop(watcher) == 0
    wait_for(lambda: not running(child), "the reload to be stopped with the watcher")
    wait_for(lambda: not running(grandchild), "the reload's own child, which carries --token, to be stopped too")


def test_a_cli_whose_child_holds_its_output_never_stalls_the_loop(
    rig: Rig, watcher: subprocess.Popen[bytes], env_bootstrap: dict[str, str],
) -> None:
    rig.linger.touch()
    assert run_bridge(["secrets", "set", KEY_NAME], env_bootstrap, NEW_KEY.encode()).returncode == 0
    wait_for(lambda: "reload ok" in rig.journal(), "the first reload to be judged")
    grandchild = int(rig.linger.read_text().split()[1])
    wait_for(lambda: not running(grandchild), "what the CLI left behind to be killed with its group")
    assert run_bridge(["secrets", "set", KEY_NAME], env_bootstrap, OLD_KEY.encode()).returncode == 0
    wait_for(lambda: rig.journal().count("reload ok") == 2, "a second rotation, polled and reloaded on time")
    assert stop(watcher) == 0


def test_sighup_ends_the_watcher_cleanly(rig: Rig, watcher: subprocess.Popen[bytes]) -> None:
    watcher.send_signal(signal.SIGHUP)
    assert watcher.wait(timeout=STOP_WAIT_S) == 0


def test_an_interval_too_long_for_any_wait_is_refused_in_one_line(rig: Rig) -> None:
    done = run_bridge(["watch", "--interval", "99999999999d"], rig.env)
    said = [line for line in done.stderr.splitlines() if "error" in line]
    assert done.returncode == 2 and len(said) == 1, done.stderr
    assert "--interval" in said[0] and "99999999999d" in said[0] and "longer than" in said[0], done.stderr
    too_long = run_bridge(["watch", "--interval", "2d"], rig.env)
    said = [line for line in too_long.stderr.splitlines() if "error" in line or "--interval" in line]
    assert too_long.returncode == 2 and said and said[-1].endswith("--interval 2d: use at most 24 h, e.g. 30s"), too_long.stderr


def test_once_exit_codes(rig: Rig, env_bootstrap: dict[str, str]) -> None:
    done = run_bridge(["watch", "--once"], rig.env)
    assert done.returncode == 0, done.stderr
    assert len(rig.calls()) == 1 and token_after(rig.calls()[0]) == OLD_TOKEN
    rig.refuse.touch()
    refused = run_bridge(["watch", "--once"], rig.env)
    assert refused.returncode == 1 and "reload refused" in refused.stderr and "unauthorized" in refused.stderr
    assert "restart the gateway once" in refused.stderr, "refused every way: what only a person can do"
    assert rig.calls()[2] == ["secrets", "reload", "--json"], "refused with the token known: then the CLI's own way"
    down = run_bridge(["watch", "--once"], {**rig.env, "SUPABASE_URL": "http://127.0.0.1:9"})
    assert down.returncode == 1 and "Supabase unreachable" in down.stderr
    assert len(rig.calls()) == 3
    for result in (done, refused, down):
        assert_clean(result.all_output(), OLD_TOKEN, NEW_TOKEN, OLD_KEY, env_bootstrap["SUPABASE_SECRET_KEY"])


def test_supabase_down_keeps_the_watcher_up_and_a_later_rotation_still_arrives(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault, proxy: FaultProxy,
) -> None:
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    rig = gateway_started(Rig(tmp_path, {**env_bootstrap, "SUPABASE_URL": proxy.url}))
    proc = rig.start("--interval", "1s")
    try:
        wait_for(rig.ready(proc), "the first poll")
        proxy.mode = 503
        wait_for(lambda: rig.journal().count("Supabase unreachable") >= 2, "two failed polls")
        assert proc.poll() is None
        proxy.mode = "pass"
        wait_for(lambda: "Supabase reachable again" in rig.journal(), "the recovery")
        assert run_bridge(["secrets", "set", KEY_NAME], env_bootstrap, NEW_KEY.encode()).returncode == 0
        # The reload's end, not its start (the fake records its argv first): a SIGTERM mid-reload kills it.
        wait_for(lambda: "reload ok" in rig.journal(), "the reload after recovery")
        assert len(rig.calls()) == 1
        assert stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    state = json.loads(rig.state.read_text())
    assert state["last_reload_ok"] is True and state["last_poll_ok"] is True
    assert_clean(rig.journal() + rig.state.read_text(), OLD_TOKEN, OLD_KEY, NEW_KEY, env_bootstrap["SUPABASE_SECRET_KEY"])


def test_forget_refuses_while_a_watcher_runs_then_removes_only_the_watchers_files(
    rig: Rig, watcher: subprocess.Popen[bytes],
) -> None:
    busy = run_bridge(["watch", "--forget"], rig.env)
    assert busy.returncode == 1 and busy.stderr.count("\n") == 1 and "still running" in busy.stderr
    assert rig.state.exists()
    assert stop(watcher) == 0
    done = run_bridge(["watch", "--forget"], rig.env)
    assert done.returncode == 0, done.stderr
    data = rig.state.parent
    assert not rig.state.exists() and not list(data.glob("watch-*.lock")) and not list(data.glob("watch-token-*.sealed"))


def test_removing_the_data_directory_under_a_watcher_never_lets_a_second_one_start(
    tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    vault.put(TOKEN_NAME, OLD_TOKEN)
    vault.put(KEY_NAME, OLD_KEY)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    rig = gateway_started(Rig(tmp_path, {**env_bootstrap, "XDG_RUNTIME_DIR": str(runtime)}))
    proc = rig.start("--interval", "1s")
    try:
        wait_for(rig.ready(proc), "the first poll")
        shutil.rmtree(rig.env["BRIDGE_HOME"])
        second = run_bridge(["watch", "--once"], rig.env)
        assert second.returncode == 1 and second.stderr.count("\n") == 1, second.stderr
        assert "already running" in second.stderr and str(runtime) in second.stderr
        assert rig.calls() == [], "the second watcher reloaded nothing"
        assert stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_watcher_on_a_revoked_gateway_token_is_told_to_mint_a_new_one_not_to_log_in(
    rig: Rig, env_bootstrap: dict[str, str], keys: ProjectKeys, pg: PgCluster,
) -> None:
    name = "watch-revoked-" + secrets.token_hex(4)
    minted = run_bridge(["tokens", "create", name, "--tenant", "default", "--allow", TOKEN_NAME, "--allow", KEY_NAME],
                        env_bootstrap)
    token = created_token(minted)
    try:
        assert run_bridge(["tokens", "revoke", name, "--tenant", "default"], env_bootstrap).returncode == 0
        env = {k: v for k, v in rig.env.items() if k != "SUPABASE_SECRET_KEY"}
        env.update(SUPABASE_PUBLISHABLE_KEY=keys.publishable, BRIDGE_GATEWAY_TOKEN=token)
        done = run_bridge(["watch", "--once"], env)
        assert done.returncode == 1 and "Supabase refused the watcher's credentials" in done.stderr, done.stderr
        assert "mint a new one" in done.stderr and "log in again (bridge login)" not in done.stderr
        assert_clean(done.all_output(), token, OLD_TOKEN, OLD_KEY)
        state = json.loads(rig.state.read_text())
        assert "mint a new one" in state["fix"], "doctor shows the watcher's fix"
    finally:
        with pg.connect("postgres", autocommit=True) as conn:
            conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = 'default' AND name = %s", (name,))


def test_a_state_file_the_watcher_cannot_read_refuses_the_start_rather_than_dropping_since(rig: Rig) -> None:
    """Issue 28 (review, part 4): an unreadable state file used to read as "no since", so the first poll took every
    rotation since the last watcher as what the gateway holds. Now the start is refused with one line."""
    rig.state.parent.mkdir(parents=True, exist_ok=True)
    rig.state.write_text("not json")
    done = run_bridge(["watch", "--once"], rig.env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "is not JSON" in lines[0] and "carry on" in lines[0], done.stderr
    assert rig.calls() == [] and rig.state.read_text() == "not json", "nothing reloaded, the file left as it was"
