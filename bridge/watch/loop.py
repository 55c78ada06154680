"""The watcher's loop: poll, settle, refresh, reload, one stderr line per event; every wait is the stop Event's.

Everything outside the process is injected (Vault, the reload, the clocks,
the stop Event, the state file), so tests drive the loop on a fake clock
with no real waiting. Each step is bounded: a poll or a refresh by the
resolve deadline, a reload by the reload timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Unpack

from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.vault.client import Changes
from bridge.watch.reload import Reloaded
from bridge.watch.schedule import Schedule
from bridge.watch.state import Progress, iso
from bridge.watch.target import Targets, TokenSource
from bridge.watch.token import HeldToken

EXIT_OK = 0
EXIT_FAILED = 1


class Vault(Protocol):
    def changes(self, names: list[str], since: str | None) -> Changes: ...

    def fetch(self, names: list[str]) -> dict[str, str]: ...


class Stop(Protocol):
    """threading.Event, which the signal handlers set."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Recorder(Protocol):
    def record(self, **changes: Unpack[Progress]) -> None: ...


class Clocks(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class Watcher:
    def __init__(
        self, *, schedule: Schedule, targets: Targets, vault: Vault, reload: Callable[[str, str | None], Reloaded],
        token: HeldToken, make_token: Callable[[TokenSource], HeldToken], state: Recorder, log: Callable[[str], None],
        clocks: Clocks, stop: Stop,
    ) -> None:
        self._schedule = schedule
        self._targets = targets
        self._vault = vault
        self._reload_gateway = reload
        self._token = token
        self._make_token = make_token
        self._state = state
        self._log = log
        self._clocks = clocks
        self._stop = stop

    def run(self) -> int:
        """Until the stop Event is set; then at once, since every wait here is that Event's."""
        while not self._stop.is_set():
            self.step()
            self._stop.wait(max(0.0, self._schedule.wake_at() - self._clocks.monotonic()))
        return EXIT_OK

    def once(self) -> int:
        """One pass for cron and tests: a poll, and when it lists anything, the refresh and the reload."""
        ok = self._poll(self._clocks.monotonic())
        if ok and self._schedule.pending:
            ok = self._reload(self._clocks.monotonic())
        return EXIT_OK if ok else EXIT_FAILED

    def step(self) -> None:
        """Whatever is due now: a reload before a poll, at most one of them."""
        self._follow_config()
        now = self._clocks.monotonic()
        if self._schedule.reload_due(now):
            self._reload(now)
        elif self._schedule.poll_due(now):
            self._poll(now)

    def _follow_config(self) -> None:
        problem = self._targets.refresh()
        if problem is not None:
            self._log(problem)
        source = self._targets.current.token
        if source != self._token.source:
            # The gateway takes a changed openclaw.json by itself, and resolves the new token as it does.
            self._token = self._make_token(source)
            self._note(self._token.learn())

    def _poll(self, now: float) -> bool:
        names = list(self._targets.current.names)
        try:
            changes = self._vault.changes(names, self._schedule.since)
        except BridgeError as exc:
            self._unreachable(now, exc, "poll")
            self._record(last_poll_at=iso(self._clocks.wall()), last_poll_ok=False, last_error=str(exc))
            return False
        seen = self._schedule.polled(now, changes.now, changes.changed, changes.gone)
        if self._schedule.reloads.failures:
            # The reload's error stands until a reload works.
            self._record(last_poll_at=iso(self._clocks.wall()), last_poll_ok=True)
        else:
            self._record(last_poll_at=iso(self._clocks.wall()), last_poll_ok=True, last_error=None)
        if seen.recovered:
            self._log(f"Supabase reachable again after {seen.recovered} failed poll(s)")
        if seen.changed:
            self._log(f"change seen: {', '.join(seen.changed)}")
        if seen.gone:
            self._log(f"no longer in Vault: {', '.join(seen.gone)}; the gateway keeps the value it holds")
        return True

    def _reload(self, now: float) -> bool:
        """Refresh the cache for the changed names, then the reload, authenticated with the token the running
        gateway holds now (from before any rotation of it)."""
        names = sorted(self._schedule.pending)
        try:
            fresh = self._vault.fetch(names)
        except BridgeError as exc:
            self._unreachable(now, exc, "refresh before the reload")
            self._record(last_error=str(exc))
            return False
        token_rotated = self._token.name in names
        if self._token.value is None and not token_rotated:
            self._note(self._token.learn())
        outcome = self._reload_gateway(self._targets.current.url, self._token.value)
        done = self._clocks.monotonic()
        retry = self._schedule.reloaded(done, outcome.ok, names)
        if outcome.ok:
            self._log(f"reload ok in {outcome.seconds:.1f}s ({outcome.detail}): {', '.join(names)}")
            self._record(last_reload_at=iso(self._clocks.wall()), last_reload_ok=True, last_error=None)
            if token_rotated:
                self._note(self._token.learn(fallback=fresh.get(self._token.name or "")))
            return True
        line = f"reload refused by {self._targets.current.url}: {outcome.detail}"
        self._log(f"{line}; next try in {format_age(retry)}")
        self._record(last_reload_at=iso(self._clocks.wall()), last_reload_ok=False, last_error=line)
        return False

    def _unreachable(self, now: float, exc: BridgeError, during: str) -> None:
        delay = self._schedule.supabase_failed(now)
        self._log(f"Supabase unreachable ({during}): {exc}; next poll in {format_age(delay)}")

    def _note(self, problem: str | None) -> None:
        if problem is not None:
            self._log(problem)

    def _record(self, **changes: Unpack[Progress]) -> None:
        try:
            self._state.record(**changes)
        except OSError as exc:
            self._log(f"state file not written ({exc.strerror or type(exc).__name__}); bridge doctor will not see this watcher's progress")

