"""bridge watch's pure core and its loop on a fake clock: backoff, debounce, dedupe, token rotation. No sleeps."""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Unpack

import pytest

from bridge.cache.live import live_path, read_live, stamp_live
from bridge.core.backoff import Backoff
from bridge.core.credentials import Credentials
from bridge.core.errors import UsageError
from bridge.local.identity import Identity
from bridge.vault.client import Changes
from bridge.vault.errors import CredentialsRefused, SupabaseUnavailable
from bridge.watch.held import HeldFile, held_path
from bridge.watch.loop import Watcher
from bridge.watch.reload import Finished, Reloaded, Reloader, judge, run_group
from bridge.watch.schedule import DEBOUNCE_S, SUPABASE_BACKOFF_CAP_S, Schedule
from bridge.watch.state import Progress, StateFile, WatchState, carried_since
from bridge.watch.target import ConfigFile, Targets, TokenSource, check_gateway_url, gateway_url, target_of, token_source
from bridge.watch.token import HeldToken
from tests.support.procs import dies

INTERVAL = 30.0
HANG_GUARD_S = 30.0
"""Only against a hang, never a measure: how long a reload takes is in benchmarks/."""
TOKEN_REF = {"source": "exec", "provider": "supabase", "id": "GW_TOKEN"}


def top(low: float, high: float) -> float:
    return high


def bottom(low: float, high: float) -> float:
    return low


# --- Backoff --------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_the_first_delay_and_stops_at_the_cap() -> None:
    backoff = Backoff(30.0, 300.0)
    assert [backoff.failed() for _ in range(6)] == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0]
    assert backoff.succeeded() == 6
    assert backoff.failed() == 30.0


def test_jitter_spreads_over_the_first_delay_to_the_ceiling() -> None:
    asked: list[tuple[float, float]] = []

    def draw(low: float, high: float) -> float:
        asked.append((low, high))
        return (low + high) / 2

    backoff = Backoff(10.0, 300.0, draw)
    delays = [backoff.failed() for _ in range(8)]
    assert asked == [(10.0, h) for h in (10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0)]
    assert delays[1] == 15.0 and delays[-1] == 155.0, "a draw anywhere in the range, not piled up on the first delay"
    assert Backoff(10.0, 300.0, bottom).failed() == 10.0


def test_a_long_outage_never_overflows() -> None:
    backoff = Backoff(1.0, 300.0, top)
    for _ in range(5000):
        assert backoff.failed() <= 300.0


def test_an_interval_longer_than_the_cap_is_kept() -> None:
    assert Backoff(600.0, 300.0, top).failed() == 600.0


# --- Schedule -------------------------------------------------------------------------------------------------


def test_first_poll_is_the_baseline_and_a_new_change_settles_then_reloads_once() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    assert schedule.poll_due(0.0)
    seen = schedule.polled(0.0, "t0", {"A": "1", "B": "1"}, [])
    assert seen.changed == [] and not schedule.pending and schedule.since == "t0"
    assert schedule.wake_at() == INTERVAL
    seen = schedule.polled(30.0, "t1", {"A": "2"}, [])
    assert seen.changed == ["A"]
    assert not schedule.reload_due(30.0) and schedule.wake_at() == 30.0 + DEBOUNCE_S
    seen = schedule.polled(32.0, "t2", {"A": "2", "B": "2"}, [])  # A repeated by the feed's look-back, B new
    assert seen.changed == ["B"]
    assert schedule.reload_due(32.0) and schedule.pending == {"A", "B"}
    schedule.reloaded(35.0, True, ["A", "B"])
    assert not schedule.pending and not schedule.reload_due(35.0) and schedule.wake_at() == 62.0


def test_a_repeated_change_is_not_seen_twice() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    schedule.polled(0.0, "t0", {"A": "1"}, [])
    assert schedule.polled(30.0, "t1", {"A": "1"}, []).changed == []
    assert not schedule.pending


def test_without_baseline_the_first_poll_lists_everything() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0, baseline=False)
    assert schedule.polled(0.0, "t0", {"B": "1", "A": "1"}, []).changed == ["A", "B"]


def test_carrying_on_from_a_server_time_lists_what_changed_meanwhile_as_changes() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0, since="2026-12-03T10:00:00+00:00")
    assert schedule.since == "2026-12-03T10:00:00+00:00"
    assert schedule.polled(0.0, "t1", {"A": "5"}, []).changed == ["A"]


def test_gone_is_told_once_and_a_recreated_secret_is_a_change() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    schedule.polled(0.0, "t0", {"A": "1"}, [])
    assert schedule.polled(30.0, "t1", {}, ["A"]).gone == ["A"]
    assert schedule.polled(60.0, "t2", {}, ["A"]).gone == []
    assert schedule.polled(90.0, "t3", {"A": "1"}, []).changed == ["A"]


def test_supabase_failures_back_off_with_jitter_up_to_five_minutes_and_recovery_is_counted() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    now, delays = 0.0, []
    for _ in range(6):
        delay = schedule.supabase_failed(now)
        delays.append(delay)
        now += delay
        assert not schedule.poll_due(now - 0.001) and schedule.poll_due(now)
    assert delays == [30.0, 60.0, 120.0, 240.0, SUPABASE_BACKOFF_CAP_S, SUPABASE_BACKOFF_CAP_S]
    assert schedule.polled(now, "t", {}, []).recovered == 6
    assert schedule.wake_at() == now + INTERVAL


def test_a_due_reload_waits_for_supabase_when_a_poll_fails() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    schedule.polled(0.0, "t0", {}, [])
    schedule.polled(30.0, "t1", {"A": "1"}, [])
    schedule.polled(32.0, "t2", {}, [])
    assert schedule.reload_due(32.0)
    schedule.supabase_failed(32.0)
    assert not schedule.reload_due(32.0) and schedule.wake_at() == 62.0


def test_refused_reloads_retry_on_the_next_tick_then_less_often() -> None:
    schedule = Schedule(INTERVAL, top, now=0.0)
    schedule.polled(0.0, "t0", {}, [])
    schedule.polled(30.0, "t1", {"A": "1"}, [])
    schedule.polled(32.0, "t2", {}, [])
    retries = [schedule.reloaded(32.0, False, ["A"]) for _ in range(3)]
    assert retries == [30.0, 60.0, 120.0]
    assert schedule.pending == {"A"} and not schedule.reload_due(32.0 + 119.0) and schedule.reload_due(32.0 + 120.0)
    # A change that arrives meanwhile settles, then still waits for the refused reload's backoff: never a storm.
    schedule.polled(62.0, "t3", {"B": "1"}, [])
    schedule.polled(64.0, "t4", {}, [])
    assert not schedule.reload_due(64.0) and schedule.reload_due(152.0)


# --- target: openclaw.json -------------------------------------------------------------------------------------


def test_gateway_url_comes_from_the_port_or_the_default() -> None:
    assert gateway_url({}) == "ws://127.0.0.1:18789"
    assert gateway_url({"gateway": {"port": 19001}}) == "ws://127.0.0.1:19001"
    assert gateway_url({"gateway": {"port": "x"}}) == "ws://127.0.0.1:18789"


@pytest.mark.parametrize(("url", "spelled"), [
    ("ws://127.0.0.1:1", "ws://127.0.0.1:1"), ("ws://localhost:2/", "ws://127.0.0.1:2"), ("WS://LocalHost:2", "ws://127.0.0.1:2"),
    ("ws://[::1]:3", "ws://[::1]:3"), ("wss://GW.example.com", "wss://gw.example.com:443"),
    ("wss://gw.example.com:443/gw/", "wss://gw.example.com:443/gw"),
])
def test_gateway_urls_accepted_in_one_spelling_per_gateway(url: str, spelled: str) -> None:
    assert check_gateway_url(url) == spelled


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:1", "ws://10.0.0.2:1", "ws://gw.example.com", "wss://", "127.0.0.1:1", "ws://127.0.0.1:99999",
    "wss://u:p@gw.example.com", "ws://127.0.0.1:1/?token=x",
])
def test_gateway_urls_refused_in_one_line(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_gateway_url(url)
    assert "\n" not in str(caught.value) and "--gateway-url" in str(caught.value)


def test_token_sources() -> None:
    env = {"GW": "from-env"}

    def source(token: object) -> TokenSource:
        return token_source({"gateway": {"auth": {"token": token}}}, "supabase", env)

    assert source("plain") == TokenSource(value="plain")
    assert source("${GW}") == TokenSource(value="from-env")
    assert source("${MISSING}") == TokenSource()
    assert source({"source": "env", "provider": "default", "id": "GW"}) == TokenSource(value="from-env")
    assert source(TOKEN_REF) == TokenSource(ref_id="GW_TOKEN", name="GW_TOKEN")
    assert source({**TOKEN_REF, "id": "gw#token"}) == TokenSource(ref_id="gw#token", name="gw")
    assert source({**TOKEN_REF, "provider": "other"}) == TokenSource()
    assert source({"source": "file", "provider": "f", "id": "/gw"}) == TokenSource()
    assert token_source({}, "supabase", env) == TokenSource()


def test_watched_names_are_our_providers_vault_names_each_once() -> None:
    doc = {
        "gateway": {"port": 19002, "auth": {"token": TOKEN_REF}},
        "models": {"a": {"apiKey": {"source": "exec", "provider": "supabase", "id": "sa#key"}},
                   "b": {"apiKey": {"source": "exec", "provider": "supabase", "id": "sa#email"}},
                   "c": {"apiKey": {"source": "exec", "provider": "other", "id": "X"}}},
    }
    target = target_of(doc, "supabase", {}, None)
    assert target.names == ("GW_TOKEN", "sa") and target.url == "ws://127.0.0.1:19002"
    assert target_of(doc, "supabase", {}, "wss://gw:1").url == "wss://gw:1"


def test_config_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "openclaw.json"
    path.write_text('{"models": {"a": {"apiKey": {"source": "exec", "provider": "supabase", "id": "A"}}}}')
    targets = Targets(ConfigFile(path), "supabase", {}, None)
    assert targets.current.names == ("A",)
    assert targets.refresh() is None and targets.current.names == ("A",)
    path.write_text('{"models": {"b": {"apiKey": {"source": "exec", "provider": "supabase", "id": "BB"}}}}')
    assert targets.refresh() is None and targets.current.names == ("BB",)
    path.write_text("{not json5")
    problem = targets.refresh()
    assert problem is not None and "still watching" in problem and targets.current.names == ("BB",)


# --- reload ---------------------------------------------------------------------------------------------------


def test_judge_reads_openclaws_answer_and_never_repeats_the_token() -> None:
    assert judge(0, '{"ok": true, "warningCount": 0}', "", "tok") == (True, "0 warning(s)")
    ok, detail = judge(1, '{"ok": false, "error": "unauthorized: token tok-SECRET-123456789 rejected"}', "", "tok-SECRET-123456789")
    assert not ok and "tok-SECRET" not in detail and "unauthorized" in detail
    ok, detail = judge(1, "", "gateway closed\nconnection (1006)\n", None)
    assert (ok, detail) == (False, "gateway closed; connection (1006)")
    assert judge(0, "not json", "", None) == (False, "not json")
    assert judge(3, "", "", None) == (False, "exit status 3")


def test_reloader_passes_url_token_and_json_and_times_it(tmp_path: Path) -> None:
    fake = tmp_path / "openclaw"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o700)
    calls: list[list[str]] = []
    ticks = iter([10.0, 13.5, 20.0, 21.0])

    def run(argv: list[str], env: object, timeout: float, started: object) -> Finished:
        calls.append(argv[1:])
        return Finished(0, '{"ok": true, "warningCount": 2}', "", False)

    reloader = Reloader({"PATH": str(tmp_path)}, run=run, clock=lambda: next(ticks))
    assert reloader("ws://127.0.0.1:9", "T") == Reloaded(True, 3.5, "2 warning(s)")
    assert reloader(None, None) == Reloaded(True, 1.0, "2 warning(s)")
    assert calls == [
        ["secrets", "reload", "--url", "ws://127.0.0.1:9", "--token", "T", "--json"],
        ["secrets", "reload", "--json"],
    ], "without a token the CLI gets no --url: with one it demands explicit credentials"


def test_openclaws_error_object_is_one_readable_line_not_a_dict() -> None:
    said = json.dumps({"ok": False, "error": {"type": "cli_error", "message": (
        "gateway url override requires explicit credentials\nFix: pass --token or --password *** --url (or gatewayToken "
        "in tools).\nFor the default local or SSH-tunneled Gateway, remove --url to use the configured target.\n"
        "Config: /home/someone/.openclaw/openclaw.json")}})
    ok, detail = judge(1, said, "", None)
    assert not ok and "{" not in detail and "\n" not in detail
    assert detail.startswith("gateway url override requires explicit credentials; Fix: pass --token")
    assert detail.endswith(" …") or detail.endswith("openclaw.json"), "cut at a word, never mid-URL"
    assert judge(1, json.dumps({"ok": False, "error": {"code": "AUTH_TOKEN_MISMATCH", "message": "unauthorized"}}), "", None) == (
        False, "unauthorized (AUTH_TOKEN_MISMATCH)")


LINGERING_CLI = """#!{python}
import os, subprocess, sys
# A wrapper, or a launcher that respawns the CLI: its child inherits the pipes and outlives it.
child = subprocess.Popen([{python!r}, "-c", "import time; time.sleep(600)", "secrets", "reload", "--token", "T"])
with open({pids!r}, "w") as out:
    out.write(str(child.pid))
print('{{"ok": true, "warningCount": 0}}', flush=True)
if {hang}:
    child.wait()
"""


def lingering(tmp_path: Path, hang: bool) -> tuple[dict[str, str], Path]:
    pids = tmp_path / "grandchild.pid"
    fake = tmp_path / "openclaw"
    fake.write_text(LINGERING_CLI.format(python=sys.executable, pids=str(pids), hang=hang))
    fake.chmod(0o700)
    return {"PATH": str(tmp_path)}, pids


def reload_in_thread(reloader: Reloader, url: str | None, token: str | None) -> Reloaded:
    """The reload on a thread, joined with a bound only against a hang (the old code waited for the grandchild)."""
    done: list[Reloaded] = []
    worker = threading.Thread(target=lambda: done.append(reloader(url, token)), daemon=True)
    worker.start()
    worker.join(HANG_GUARD_S)
    assert done, "the reload waited for a child that holds its output open"
    return done[0]


def test_a_cli_that_exits_while_its_child_holds_the_output_is_judged_and_the_child_killed(tmp_path: Path) -> None:
    env, pids = lingering(tmp_path, hang=False)
    reloaded = reload_in_thread(Reloader(env), None, None)
    assert reloaded.ok, reloaded.detail
    assert dies(int(pids.read_text())), "what the CLI left behind is killed with its group"


def test_a_reload_past_its_limit_is_killed_with_its_whole_group(tmp_path: Path) -> None:
    env, pids = lingering(tmp_path, hang=True)

    def clock() -> float:
        """The limit passes once the CLI has started its child and answered (an event, not a guessed time)."""
        return 1e9 if pids.exists() and pids.read_text() else 0.0

    done = run_group([str(tmp_path / "openclaw")], env, 60.0, lambda group: None, clock=clock)
    assert done.timed_out and done.returncode == -signal.SIGKILL
    assert dies(int(pids.read_text()))
    reloaded = Reloader(env, run=lambda *args: done)("ws://127.0.0.1:9", "T")
    assert not reloaded.ok and "killed with its process group" in reloaded.detail


def test_cancel_kills_the_running_reloads_group(tmp_path: Path) -> None:
    env, pids = lingering(tmp_path, hang=True)
    reloader = Reloader(env)
    done: list[Reloaded] = []
    worker = threading.Thread(target=lambda: done.append(reloader("ws://127.0.0.1:9", "T")), daemon=True)
    worker.start()
    deadline = time.monotonic() + HANG_GUARD_S
    while not (pids.exists() and pids.read_text()):
        assert time.monotonic() < deadline, "the reload never started"
        time.sleep(0.01)
    reloader.cancel()
    worker.join(HANG_GUARD_S)
    assert done and not done[0].ok
    assert dies(int(pids.read_text())), "no orphan carrying --token outlives the watcher"


def test_reloader_without_openclaw_says_so(tmp_path: Path) -> None:
    reloaded = Reloader({"PATH": str(tmp_path)})("ws://127.0.0.1:9", None)
    assert not reloaded.ok and "openclaw is not on PATH" in reloaded.detail


# --- the loop on a fake clock ---------------------------------------------------------------------------------


class FakeClock:
    """Time moves only when the loop waits; after `until` the stop is set, so run() returns."""

    def __init__(self, until: float) -> None:
        self.now = 0.0
        self.until = until
        self.waits: list[float] = []
        self._set = False

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        self.now += timeout
        self._set = self.now >= self.until
        return self._set


class FakeVault:
    """Vault and the bridge's cache as the loop sees them: values by name with a change counter, a switch to make
    Supabase unreachable or refuse the credentials, and the cache that only the gateway's resolves write."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)
        self.stamps = dict.fromkeys(values, "1")
        self.cache = dict(values)
        self.down = False
        self.refusing = False
        self.polls = 0
        self.prepared: list[list[str]] = []
        self.live_reads: list[str] = []
        self.refusals = 0
        self.cache_off = False
        """max_stale = 0: no cache, so nothing but the watcher's own record says which token the gateway holds."""
        self.answered_live: dict[str, float] | None = {}
        """When a resolve last had each name from Supabase (None: no resolve ever stamped, nothing confirmable)."""

    def rotate(self, name: str, value: str) -> None:
        self.values[name] = value
        self.stamps[name] = str(int(self.stamps.get(name, "0")) + 1)

    def changes(self, names: list[str], since: str | None) -> Changes:
        self.polls += 1
        if self.refusing:
            raise CredentialsRefused("Supabase refused the credentials (HTTP 401): the gateway token is revoked")
        if self.down:
            raise SupabaseUnavailable("Supabase is unavailable (connection refused)")
        # Like the server, it repeats what it said before (its look-back): the loop must dedupe.
        return Changes(now=str(self.polls), changed={n: self.stamps[n] for n in names if n in self.stamps}, gone=[])

    def prepare(self, names: list[str]) -> str | None:
        self.prepared.append(names)
        return None

    def undelivered(self, names: list[str], since: float) -> list[str] | None:
        if self.answered_live is None:
            return None
        return [n for n in names if self.answered_live.get(n, -math.inf) < since]

    def login_fix(self) -> str:
        return "log in again (bridge login)"

    def refused(self) -> None:
        self.refusals += 1
        self.cache.clear()

    def live(self, name: str) -> str | None:
        if self.down:
            raise SupabaseUnavailable("Supabase is unavailable (connection refused)")
        self.live_reads.append(name)
        return self.values.get(name)

    def cached(self, name: str) -> str | None:
        return None if self.cache_off else self.cache.get(name)


class FakeGateway:
    """Accepts a reload only with the token it holds; a good reload resolves every ref, as the real one does: it
    takes the values in Vault, and its resolve writes them into the cache."""

    def __init__(self, vault: FakeVault, token: str, wall: Callable[[], float] = lambda: math.inf) -> None:
        self.vault = vault
        self.token = token
        self.wall = wall
        self.calls: list[tuple[str | None, str | None]] = []
        self.up = True
        self.supabase_away = False
        """The gateway's own resolve cannot reach Supabase: the cache answers with what it held, and the reload
        "works" all the same."""

    def __call__(self, url: str | None, token: str | None) -> Reloaded:
        self.calls.append((url, token))
        if not self.up:
            return Reloaded(False, 0.1, "gateway closed (1006)")
        if url is None and token is None:
            # The OpenClaw CLI's own way: it resolves gateway.auth.token itself, so it sends what Vault holds now.
            token = self.vault.values["GW_TOKEN"]
        if token != self.token:
            return Reloaded(False, 0.1, "unauthorized")
        if self.supabase_away:
            self.token = self.vault.cache["GW_TOKEN"]
            return Reloaded(True, 3.0, "0 warning(s)")
        self.token = self.vault.values["GW_TOKEN"]
        self.vault.cache.update(self.vault.values)
        if self.vault.answered_live is not None:
            self.vault.answered_live.update(dict.fromkeys(self.vault.values, self.wall()))
        return Reloaded(True, 3.0, "0 warning(s)")


class MemoryKept:
    """The watcher's sealed record of the token the gateway holds, in memory: shared by a watcher and the next."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}

    def load(self, ref_id: str) -> list[str]:
        return list(self.values.get(ref_id, []))

    def save(self, ref_id: str, values: list[str]) -> None:
        self.values[ref_id] = list(values)


class MemoryState:
    def __init__(self) -> None:
        self.records: list[Progress] = []

    def record(self, **changes: Unpack[Progress]) -> None:
        self.records.append(changes)

    def last(self, key: str) -> object:
        return next((r[key] for r in reversed(self.records) if key in r), None)  # type: ignore[literal-required]


def config_with_token(tmp_path: Path, port: int = 19003) -> Path:
    path = tmp_path / "openclaw.json"
    path.write_text(
        f'{{"gateway": {{"port": {port}, "auth": {{"token": {{"source": "exec", "provider": "supabase", "id": "GW_TOKEN"}}}}}},'
        ' "models": {"a": {"apiKey": {"source": "exec", "provider": "supabase", "id": "OPENAI"}}}}'
    )
    return path


class Rig:
    def __init__(
        self, tmp_path: Path, until: float, baseline: bool = True, vault: FakeVault | None = None,
        gateway: FakeGateway | None = None, since: str | None = None, kept: MemoryKept | None = None,
    ) -> None:
        self.clock = FakeClock(until)
        self.vault = vault or FakeVault({"GW_TOKEN": "old-token", "OPENAI": "sk-1"})
        self.gateway = gateway or FakeGateway(self.vault, "old-token", self.clock.wall)
        self.lines: list[str] = []
        self.state = MemoryState()
        self.config = config_with_token(tmp_path)
        targets = Targets(ConfigFile(self.config), "supabase", {}, None)

        self.kept = MemoryKept() if kept is None else kept

        def make_token(source: TokenSource) -> HeldToken:
            return HeldToken(source, self.vault.cached, self.vault.live, self.kept)

        token = make_token(targets.current.token)
        problem = token.learn()
        if problem is not None:
            self.lines.append(problem)
        self.schedule = Schedule(INTERVAL, top, now=0.0, baseline=baseline, since=since)
        self.watcher = Watcher(
            schedule=self.schedule, targets=targets, vault=self.vault, reload=self.gateway, token=token,
            make_token=make_token, state=self.state, log=self.lines.append, clocks=self.clock, stop=self.clock,
        )

    def run_until(self, at: float) -> None:
        """Drive the loop's steps by hand up to `at`, waiting as run() does."""
        while self.clock.now < at:
            assert self.watcher.step()
            self.clock.wait(max(0.0, min(self.schedule.wake_at(), at) - self.clock.now))


def test_rotations_together_cost_one_reload_after_the_settle_poll_and_no_value_is_read_for_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.run_until(1.0)
    assert rig.gateway.calls == [] and rig.vault.polls == 1
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(31.0)
    assert rig.lines[-1] == "change seen: OPENAI" and rig.gateway.calls == []
    rig.vault.rotate("OPENAI", "sk-3")  # within the debounce: same reload
    rig.run_until(40.0)
    assert rig.gateway.calls == [("ws://127.0.0.1:19003", "old-token")]
    assert rig.vault.prepared == [["OPENAI"]]
    assert rig.vault.live_reads == [], "only the gateway's own resolves read values: rollout counts their rows"
    assert any(line.startswith("reload ok in 3.0s") for line in rig.lines)
    rig.run_until(200.0)
    assert len(rig.gateway.calls) == 1, "a change the feed repeats is not reloaded again"
    assert not [line for line in rig.lines if "sk-" in line or "old-token" in line], "a value in the journal"


def test_the_gateways_own_token_rotation_reloads_with_the_old_value_then_keeps_the_new(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.run_until(1.0)
    rig.vault.rotate("GW_TOKEN", "new-token")
    rig.run_until(40.0)
    assert rig.gateway.calls == [("ws://127.0.0.1:19003", "old-token")]
    assert rig.gateway.token == "new-token"
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(100.0)
    assert rig.gateway.calls[-1] == ("ws://127.0.0.1:19003", "new-token")
    assert rig.vault.live_reads == [], "the new token came from the cache the gateway's resolve wrote"
    assert not any("refused" in line for line in rig.lines)


def test_a_watcher_restarted_between_a_token_rotation_and_its_reload_still_holds_the_old_token(tmp_path: Path) -> None:
    first = Rig(tmp_path, until=10_000)
    first.run_until(1.0)
    first.gateway.up = False
    first.vault.rotate("GW_TOKEN", "new-token")
    first.run_until(40.0)
    assert first.gateway.token == "old-token" and first.state.last("since") == "1", "since stops before the pending change"
    second = Rig(tmp_path, until=10_000, vault=first.vault, gateway=first.gateway, since="1")
    second.gateway.up = True
    second.run_until(5.0)
    assert second.gateway.calls[-1] == ("ws://127.0.0.1:19003", "old-token") and second.gateway.token == "new-token"
    assert second.state.last("since") == "5", "the poll the reload followed"


def test_a_refused_reload_tries_each_other_known_token_once(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.run_until(1.0)
    # The gateway took a new token the watcher never saw change (a restart with a new config, say).
    rig.vault.values["GW_TOKEN"] = rig.gateway.token = rig.vault.cache["GW_TOKEN"] = "other-token"
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(40.0)
    assert rig.gateway.calls == [("ws://127.0.0.1:19003", "old-token"), ("ws://127.0.0.1:19003", "other-token")]
    assert rig.lines[-1].endswith("with another known value of gateway.auth.token): OPENAI")
    assert rig.vault.live_reads == [], "a refused reload never reads Vault: rollout would count the read as the gateway's"
    rig.gateway.up = False
    rig.vault.rotate("OPENAI", "sk-3")
    rig.run_until(100.0)
    assert rig.gateway.calls[-1] == ("ws://127.0.0.1:19003", "other-token")
    assert rig.vault.live_reads == [], "a gateway that is down costs one attempt and no read"


@pytest.mark.parametrize("token", [
    {"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"},
    {"source": "exec", "provider": "onepassword", "id": "gateway-token"},
    None,
])
def test_a_token_not_through_our_provider_is_left_to_the_cli_without_url(tmp_path: Path, token: object) -> None:
    """An env ref (the value in ~/.openclaw/.env, which the watcher never sees), another provider's ref, password
    mode (no token): the CLI's own config has the credentials, and with --url it would demand them explicitly."""
    config = tmp_path / "openclaw.json"
    auth: dict[str, object] = {"mode": "password"} if token is None else {"mode": "token", "token": token}
    config.write_text(json.dumps({"gateway": {"port": 19003, "auth": auth},
                                  "models": {"a": {"apiKey": {"source": "exec", "provider": "supabase", "id": "OPENAI"}}}}))
    vault = FakeVault({"OPENAI": "sk-1"})
    vault.answered_live = {"OPENAI": math.inf}
    calls: list[tuple[str | None, str | None]] = []

    def reload(url: str | None, token: str | None) -> Reloaded:
        calls.append((url, token))
        return Reloaded(True, 1.0, "0 warning(s)")

    targets = Targets(ConfigFile(config), "supabase", {}, None)
    clock = FakeClock(10_000)
    held = HeldToken(targets.current.token, vault.cached, vault.live, None)
    schedule = Schedule(INTERVAL, top, now=0.0)
    watcher = Watcher(
        schedule=schedule, targets=targets, vault=vault, reload=reload, token=held,
        make_token=lambda source: HeldToken(source, vault.cached, vault.live, None), state=MemoryState(), log=lambda line: None,
        clocks=clock, stop=clock,
    )
    assert watcher.step()
    vault.rotate("OPENAI", "sk-2")
    for _ in range(3):
        clock.wait(max(0.0, schedule.wake_at() - clock.now))
        assert watcher.step()
    assert calls == [(None, None)]


def test_a_reload_the_cache_answered_is_not_delivered_stays_pending_and_is_retried(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.run_until(1.0)
    rig.gateway.supabase_away = True
    rig.vault.rotate("GW_TOKEN", "new-token")
    rig.run_until(40.0)
    assert len(rig.gateway.calls) == 1 and rig.gateway.token == "old-token", "the cache answered the old token"
    assert not any(line.startswith("reload ok") for line in rig.lines)
    assert any("did not get GW_TOKEN from Supabase" in line and "not delivered" in line for line in rig.lines)
    assert rig.state.last("undelivered") == {"GW_TOKEN": "2023-11-14T22:13:50Z"}, "the change, and when it was seen"
    assert rig.state.last("last_reload_ok") is False and rig.state.last("since") == "1", "since stops before it"
    rig.gateway.supabase_away = False
    rig.run_until(200.0)
    assert rig.gateway.token == "new-token", "retried on the usual schedule until the gateway resolved it live"
    assert rig.gateway.calls[-1] == ("ws://127.0.0.1:19003", "old-token")
    assert rig.state.last("undelivered") == {} and rig.state.last("last_reload_ok") is True
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(300.0)
    assert rig.gateway.calls[-1] == ("ws://127.0.0.1:19003", "new-token"), "the token learnt once it was delivered"


def test_delivery_that_cannot_be_confirmed_is_said_once_and_stays_pending(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.vault.answered_live = None
    rig.run_until(1.0)
    for n, value in enumerate(("sk-2", "sk-3")):
        rig.vault.rotate("OPENAI", value)
        rig.run_until(40.0 + 100 * n)
    assert sum("delivery cannot be confirmed" in line for line in rig.lines) == 1
    assert not any(line.startswith("reload ok") for line in rig.lines), "a bare ok is not delivery (issue 28)"
    assert "OPENAI" in rig.watcher._undelivered


def test_with_the_cache_off_a_restart_after_the_token_rotated_reloads_with_the_token_kept_at_delivery(tmp_path: Path) -> None:
    vault = FakeVault({"GW_TOKEN": "old-token", "OPENAI": "sk-1"})
    vault.cache_off = True
    first = Rig(tmp_path, until=10_000, vault=vault)
    first.run_until(1.0)
    assert first.kept.values == {}, "nothing confirmed yet: nothing kept"
    assert vault.live_reads == ["GW_TOKEN"], "the first start here: Vault's value is the baseline"
    first.vault.rotate("OPENAI", "sk-2")
    first.run_until(40.0)
    assert first.gateway.calls == [("ws://127.0.0.1:19003", "old-token")]
    assert first.kept.values == {"GW_TOKEN": ["old-token"]}, "the reload's live resolve had the token: kept"
    assert vault.live_reads == ["GW_TOKEN", "GW_TOKEN"], "read again only after the gateway's own live resolve of it"
    # Stopped; the token rotates in Vault; the gateway still holds the old one.
    vault.rotate("GW_TOKEN", "new-token")
    second = Rig(tmp_path, until=10_000, vault=vault, gateway=first.gateway, since="1", kept=first.kept)
    second.run_until(10.0)
    assert second.gateway.calls[-1] == ("ws://127.0.0.1:19003", "old-token") and second.gateway.token == "new-token"
    assert second.kept.values == {"GW_TOKEN": ["new-token", "old-token"]}
    assert not any("refused" in line for line in second.lines)


def test_a_kept_token_the_gateway_refuses_is_never_stuck_the_cli_resolves_it(tmp_path: Path) -> None:
    vault = FakeVault({"GW_TOKEN": "current", "OPENAI": "sk-1"})
    vault.cache_off = True
    kept = MemoryKept()
    kept.save("GW_TOKEN", ["stale", "older"])
    rig = Rig(tmp_path, until=10_000, vault=vault, gateway=FakeGateway(vault, "current"), kept=kept)
    rig.gateway.wall = rig.clock.wall
    rig.run_until(1.0)
    vault.rotate("OPENAI", "sk-2")
    rig.run_until(40.0)
    url = "ws://127.0.0.1:19003"
    assert rig.gateway.calls == [(url, "stale"), (url, "older"), (None, None)]
    assert any(line.endswith("with the token the OpenClaw CLI resolved itself): OPENAI") for line in rig.lines)
    assert kept.values == {"GW_TOKEN": ["current", "stale"]}, "what the gateway's live resolve had, kept"
    vault.rotate("OPENAI", "sk-3")
    rig.run_until(100.0)
    assert rig.gateway.calls[-1] == (url, "current"), "the next reload starts from the value that worked"


def test_a_token_no_known_value_opens_is_said_once_with_what_to_do(tmp_path: Path) -> None:
    vault = FakeVault({"GW_TOKEN": "in-vault", "OPENAI": "sk-1"})
    vault.cache_off = True
    rig = Rig(tmp_path, until=100_000, vault=vault, gateway=FakeGateway(vault, "only-the-gateway-knows"))
    rig.run_until(1.0)
    vault.rotate("OPENAI", "sk-2")
    rig.run_until(2000.0)
    refusals = [line for line in rig.lines if line.startswith("reload refused")]
    assert len(refusals) == 1 and "restart the gateway once" in refusals[0]
    assert sum(r.get("last_reload_ok") is False for r in rig.state.records) > 3, "still retried, with backoff"
    assert "restart the gateway once" in str(rig.state.last("fix"))
    assert vault.live_reads == ["GW_TOKEN"], "read once at the first start, never for a refused reload"


def test_supabase_down_backs_off_never_crashes_and_recovers(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=100_000)
    rig.run_until(1.0)
    rig.vault.down = True
    rig.run_until(1000.0)
    failed = rig.vault.polls - 1
    assert 3 <= failed <= 6, "backing off, not polling every interval"
    assert sum(line.startswith("Supabase unreachable: ") for line in rig.lines) == failed
    rig.vault.down = False
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(2000.0)
    assert any(line.startswith("Supabase reachable again after") for line in rig.lines)
    assert len(rig.gateway.calls) == 1 and rig.gateway.calls[0][1] == "old-token"
    assert any(record.get("last_poll_ok") is False for record in rig.state.records)


def test_refused_credentials_drop_the_cache_say_so_and_back_off(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=100_000)
    rig.run_until(1.0)
    rig.vault.refusing = True
    rig.run_until(200.0)
    refused = [line for line in rig.lines if line.startswith("Supabase refused the watcher's credentials")]
    assert refused and len(refused) == rig.vault.refusals <= 3
    assert "bridge login" in refused[0] and "unreachable" not in refused[0]
    assert rig.vault.cache == {}
    assert str(rig.state.last("last_error")).startswith("Supabase refused")


def test_a_refusing_gateway_is_retried_at_growing_intervals_not_stormed(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=100_000)
    rig.run_until(1.0)
    rig.gateway.up = False
    rig.vault.rotate("OPENAI", "sk-2")
    rig.run_until(32.0 + 30 + 60 + 120 + 1)
    assert len(rig.gateway.calls) == 4, "a gateway that is down is not tried with other credentials"
    assert sum(line.startswith("reload refused by ws://127.0.0.1:19003: gateway closed (1006)") for line in rig.lines) == 1, (
        "the same refusal is said once; the state file has each")
    assert sum(r.get("last_reload_ok") is False for r in rig.state.records) == 4
    rig.gateway.up = True
    rig.run_until(32.0 + 30 + 60 + 120 + 240 + 1)
    assert len(rig.gateway.calls) == 5 and rig.lines[-1].startswith("reload ok")
    assert rig.state.records[-1].get("last_error", "") is None


def test_a_gateway_moved_in_openclaw_json_ends_the_watcher_with_a_failure_for_its_service_to_restart(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=10_000)
    rig.run_until(1.0)
    config_with_token(tmp_path, port=19004)
    assert rig.watcher.run() == 1
    assert "now puts the gateway at ws://127.0.0.1:19004, not ws://127.0.0.1:19003" in rig.lines[-1]


def test_run_returns_when_the_stop_is_set(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=95.0)
    assert rig.watcher.run() == 0
    assert rig.vault.polls == 4 and all(wait <= INTERVAL for wait in rig.clock.waits)


def test_once_reloads_what_it_finds_and_fails_when_anything_fails(tmp_path: Path) -> None:
    rig = Rig(tmp_path, until=1.0, baseline=False)
    assert rig.watcher.once() == 0
    assert rig.gateway.calls == [("ws://127.0.0.1:19003", "old-token")]
    assert rig.clock.waits == []
    refused = Rig(tmp_path, until=1.0, baseline=False)
    refused.gateway.up = False
    assert refused.watcher.once() == 1
    down = Rig(tmp_path, until=1.0, baseline=False)
    down.vault.down = True
    assert down.watcher.once() == 1 and down.gateway.calls == []


def test_state_file_is_private_and_has_exactly_the_contracts_keys(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "data", WatchState(pid=7, gateway_url="ws://127.0.0.1:1", interval_s=30.0, started_at="2026-01-01T00:00:00Z"))
    state.record(last_poll_at="2026-01-01T00:00:30Z", last_poll_ok=True, since="2026-01-01T00:00:29.5+00:00")
    doc = json.loads(state.path.read_text())
    assert list(doc) == [
        "pid", "gateway_url", "interval_s", "started_at", "last_poll_at", "last_poll_ok", "last_reload_at", "last_reload_ok",
        "last_error", "since", "undelivered", "fix",
    ]
    assert doc["last_poll_ok"] is True and doc["last_reload_at"] is None and doc["interval_s"] == 30.0
    assert state.path.stat().st_mode & 0o777 == 0o600


def test_the_next_watcher_carries_on_only_from_its_own_gateways_well_formed_since(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert carried_since(data, "ws://127.0.0.1:1") is None
    state = StateFile(data, WatchState(pid=7, gateway_url="ws://127.0.0.1:1", interval_s=30.0, started_at="2026-01-01T00:00:00Z"))
    state.record(since="2026-12-03T10:00:00.123456+00:00")
    assert carried_since(data, "ws://127.0.0.1:1") == "2026-12-03T10:00:00.123456+00:00"
    assert carried_since(data, "ws://127.0.0.1:2") is None, "another gateway's"
    for bad in ("yesterday", "2026-12-03T10:00:00+00:00'); drop table x; --", 5):
        doc = json.loads(state.path.read_text())
        state.path.write_text(json.dumps({**doc, "since": bad}))
        assert carried_since(data, "ws://127.0.0.1:1") is None, bad
    state.path.write_text("not json")
    assert carried_since(data, "ws://127.0.0.1:1") is None


# --- the live stamps and the kept token -------------------------------------------------------------------


def test_live_stamps_are_names_and_times_only_private_and_kept_newest_first(tmp_path: Path) -> None:
    path = live_path(tmp_path / "data" / "cache.sealed")
    assert read_live(path, "supabase") is None, "no resolve ever stamped here: nothing can be confirmed"
    stamp_live(path, ["A", "B"], 100.0, wait_until=time.monotonic() + 5, provider="supabase")
    stamp_live(path, ["B"], 50.0, wait_until=time.monotonic() + 5, provider="supabase")
    assert read_live(path, "supabase") == {"A": 100.0, "B": 100.0}, "an older answer never moves a stamp back"
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text('{"by": {"supabase": {"A": "soon", "B": 1e999, "C": 5}, "run": {"D": 1}}}')
    assert read_live(path, "supabase") == {"C": 5.0}
    path.write_text("not json")
    assert read_live(path, "supabase") == {}


def test_the_kept_token_opens_only_for_its_gateway_ref_and_credentials(tmp_path: Path) -> None:
    identity = Identity(machine_id="m" * 32, user="someone")
    mine = Credentials(url="https://p.supabase.co", key="sb_secret_x")
    path = held_path(tmp_path / "data", "ws://127.0.0.1:1")
    kept = HeldFile(path, "ws://127.0.0.1:1", mine, identity)
    assert kept.load("GW") == []
    kept.save("GW", ["new", "old", "older"])
    assert kept.load("GW") == ["new", "old"] and path.stat().st_mode & 0o777 == 0o600
    assert b"new" not in path.read_bytes(), "sealed, never plaintext"
    assert kept.load("OTHER") == []
    assert HeldFile(path, "ws://127.0.0.1:2", mine, identity).load("GW") == []
    assert HeldFile(path, "ws://127.0.0.1:1", Credentials(url=mine.url, key="sb_secret_y"), identity).load("GW") == []
