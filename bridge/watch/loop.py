"""The watcher's loop: poll, settle, refresh, reload, one stderr line per event; every wait is the stop Event's.

Everything outside the process is injected (Vault, the reload, the clocks,
the stop Event, the state file), so tests drive the loop on a fake clock
with no real waiting. Each step is bounded: a poll by the resolve deadline,
a reload by the reload timeout, and a refused reload is tried again at once
only with each other value the gateway's token might have, once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Unpack

from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.keys import scrub
from bridge.vault.client import Changes
from bridge.vault.errors import CredentialsRefused, SupabaseUnavailable
from bridge.watch.reload import Reloaded
from bridge.watch.schedule import Schedule
from bridge.watch.state import Progress, iso
from bridge.watch.target import Targets, TokenSource
from bridge.watch.token import HeldToken

EXIT_OK = 0
EXIT_FAILED = 1
AUTH_WORDS = ("unauthorized", "auth_token", "token_mismatch", "auth")
"""How OpenClaw says a token was refused, as opposed to a gateway that is down or slow."""


def refused_auth(outcome: Reloaded) -> bool:
    """The gateway refused the credentials, rather than being down or slow."""
    said = outcome.detail.lower()
    return not outcome.ok and any(word in said for word in AUTH_WORDS)


class Vault(Protocol):
    def changes(self, names: list[str], since: str | None) -> Changes: ...

    def prepare(self, names: list[str]) -> str | None: ...

    def undelivered(self, names: list[str], since: float) -> list[str] | None: ...

    def refused(self) -> None: ...

    def login_fix(self) -> str: ...


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
        self, *, schedule: Schedule, targets: Targets, vault: Vault, reload: Callable[[str | None, str | None], Reloaded],
        token: HeldToken, make_token: Callable[[TokenSource], HeldToken], state: Recorder, log: Callable[[str], None],
        clocks: Clocks, stop: Stop, after_poll: Callable[[], None] = lambda: None,
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
        self._after_poll = after_poll
        """Edge sync and notifications (bridge.watch.followers); each catches its own failures."""
        self._url = targets.current.url
        self._undelivered: dict[str, str] = {}
        """Each change seen and not yet held by the gateway, with when it was seen (ISO 8601 UTC)."""
        self._unconfirmed_told = False
        self._told: str | None = None

    def run(self) -> int:
        """Until the stop Event is set (then at once, since every wait here is that Event's), or until
        openclaw.json moves the gateway: the lock and state file are the old URL's, so the watcher exits 1 and
        its service manager starts it again for the new one."""
        while not self._stop.is_set():
            if not self.step():
                return EXIT_FAILED
            self._stop.wait(max(0.0, self._schedule.wake_at() - self._clocks.monotonic()))
        return EXIT_OK

    def once(self) -> int:
        """One pass for cron and tests: a poll, and when it lists anything, the refresh and the reload."""
        ok = self._poll(self._clocks.monotonic())
        if ok and self._schedule.pending:
            ok = self._reload(self._clocks.monotonic())
        return EXIT_OK if ok else EXIT_FAILED

    def step(self) -> bool:
        """Whatever is due now: a reload before a poll, at most one of them. False: the gateway moved."""
        if not self._follow_config():
            return False
        now = self._clocks.monotonic()
        if self._schedule.reload_due(now):
            self._reload(now)
        elif self._schedule.poll_due(now):
            self._poll(now)
        return True

    def _follow_config(self) -> bool:
        problem = self._targets.refresh()
        if problem is not None:
            self._log(problem)
        if self._targets.current.url != self._url:
            self._log(
                f"openclaw.json now puts the gateway at {self._targets.current.url}, not {self._url}; "
                "exiting so that the watcher starts again for it"
            )
            return False
        source = self._targets.current.token
        if source != self._token.source:
            # The gateway takes a changed openclaw.json by itself, and resolves the new token as it does.
            self._token = self._make_token(source)
            self._note(self._token.learn())
        return True

    def _poll(self, now: float) -> bool:
        names = list(self._targets.current.names)
        try:
            changes = self._vault.changes(names, self._schedule.since)
        except BridgeError as exc:
            line = self._failed(now, exc)
            fix = self._vault.login_fix() if isinstance(exc, CredentialsRefused) else None
            self._record(last_poll_at=iso(self._clocks.wall()), last_poll_ok=False, last_error=line, fix=fix)
            return False
        seen = self._schedule.polled(now, changes.now, changes.changed, changes.gone)
        progress: Progress = {"last_poll_at": iso(self._clocks.wall()), "last_poll_ok": True}
        if not self._schedule.pending:
            # Only with nothing left to reload: a watcher started after this one carries on from here.
            progress["since"] = changes.now
        if not self._schedule.reloads.failures:
            # A reload's error stands until a reload works.
            progress["last_error"] = None
            progress["fix"] = None
        self._record(**progress)
        if seen.recovered:
            self._log(f"Supabase reachable again after {seen.recovered} failed poll(s)")
        if seen.changed:
            self._log(f"change seen: {listed(seen.changed)}")
            for name in seen.changed:
                self._undelivered.setdefault(name, iso(self._clocks.wall()))
            self._record(undelivered=dict(self._undelivered))
        if seen.gone:
            self._log(
                f"not in Vault, or not readable with these credentials: {listed(seen.gone)}; "
                "the gateway keeps the value it holds"
            )
        self._after_poll()
        return True

    def _reload(self, now: float) -> bool:
        """The reload of the changed names, authenticated with the token the running gateway holds now (from
        before any rotation of it); the gateway's own resolves fetch the values."""
        names = self._still_used(sorted(self._schedule.pending))
        if not names:
            return True
        try:
            self._note(self._vault.prepare(names))
        except BridgeError as exc:
            retry = self._schedule.reloaded(self._clocks.monotonic(), False, names)
            self._log(f"{exc}; next try in {format_age(retry)}")
            self._record(last_error=str(exc), fix=None)
            return False
        url, token = self._credentials()
        began = self._clocks.wall()
        outcome = self._reload_scrubbed(url, token)
        if refused_auth(outcome) and url is not None:
            outcome = self._other_tokens(outcome)
        missing = self._missing(names, began) if outcome.ok else names
        delivered = [name for name in names if name not in missing]
        self._schedule.delivered(delivered)
        for name in delivered:
            self._undelivered.pop(name, None)
        retry = self._schedule.reloaded(self._clocks.monotonic(), not missing, names)
        if self._token_resolved_live(outcome, names, delivered, began):
            # The gateway now holds what its live resolve just got.
            self._note(self._token.delivered())
        if not missing:
            self._told = None
            self._log(f"reload ok in {outcome.seconds:.1f}s ({outcome.detail}): {listed(names)}")
            done: Progress = {
                "last_reload_at": iso(self._clocks.wall()), "last_reload_ok": True, "last_error": None, "fix": None,
                "undelivered": dict(self._undelivered),
            }
            if not self._schedule.pending:
                done["since"] = self._schedule.since
            self._record(**done)
            return True
        if outcome.ok:
            line = (
                f"reload answered in {outcome.seconds:.1f}s, but the gateway's resolve did not get "
                f"{listed(missing)} from Supabase (the cache answered, or nothing did): not delivered"
            )
        else:
            line = f"reload refused by {url or 'the gateway openclaw.json names'}: {outcome.detail}"
        fix = self._refusal_fix(outcome)
        if line != self._told:
            # Said once: the same refusal again only moves the retry, which the state file shows.
            self._told = line
            self._log(f"{line}; next try in {format_age(retry)}" + (f"; {fix}" if fix else ""))
        self._record(
            last_reload_at=iso(self._clocks.wall()), last_reload_ok=False, last_error=line, fix=fix,
            undelivered=dict(self._undelivered),
        )
        return False

    def _still_used(self, names: list[str]) -> list[str]:
        """`names` less those whose ref has left openclaw.json since the change was seen: the gateway's resolves
        never ask for them again, so no stamp could ever confirm them and the reload would be retried for ever
        (and `since` never move on). Dropped with one line."""
        used = set(self._targets.current.names)
        dropped = [name for name in names if name not in used]
        if dropped:
            self._schedule.delivered(dropped)
            for name in dropped:
                self._undelivered.pop(name, None)
            self._log(f"no longer in openclaw.json, so no longer reloaded for: {listed(dropped)}")
            self._record(undelivered=dict(self._undelivered))
        return [name for name in names if name in used]

    def _token_resolved_live(self, outcome: Reloaded, names: list[str], delivered: list[str], began: float) -> bool:
        """Whether this reload's resolves had gateway.auth.token from Supabase: a reload re-resolves every ref, so
        after any delivered one the gateway holds Vault's token, changed or not."""
        name = self._token.name
        if name is None or not outcome.ok:
            return False
        if name in names:
            return name in delivered
        return self._vault.undelivered([name], began) == []

    def _missing(self, names: list[str], began: float) -> list[str]:
        """The names the reload that began at `began` did not deliver; all of them when delivery cannot be
        confirmed here (said once): a bare {"ok": true} is what the issue's lost rotation looked like, so it is
        never taken alone as delivery, cache on or off (a resolve stamps either way, so with no stamp file the
        gateway's resolve did not run here, or never reached Supabase)."""
        missing = self._vault.undelivered(names, began)
        if missing is None:
            if not self._unconfirmed_told:
                self._unconfirmed_told = True
                self._log(
                    "no resolve has stamped a live answer in this data directory, so delivery cannot be confirmed "
                    "and the change stays pending: is the gateway's bridge using another BRIDGE_HOME?"
                )
            return names
        return missing

    def _credentials(self) -> tuple[str | None, str | None]:
        """What the reload authenticates with: (URL, token) when the watcher knows the token the gateway holds
        and the CLI could not (ours: its own resolve would get a rotated token's new value; or a gateway named by
        --gateway-url, which the CLI reaches only with explicit credentials); otherwise (None, None), and the CLI
        takes the gateway and the credentials its own config gives (env ref, ~/.openclaw/.env, another provider,
        password mode)."""
        value = self._token.value
        if value is None:
            return None, None
        if self._token.source.ref_id is not None or self._targets.pinned:
            return self._url, value
        return None, None

    def _other_tokens(self, refused: Reloaded) -> Reloaded:
        """The refused reload again with each other value the gateway's token might have, once each, then once the
        OpenClaw CLI's way (it resolves the token itself): the first that works is what the gateway holds."""
        for value in self._token.alternatives():
            outcome = self._reload_scrubbed(self._url, value)
            if outcome.ok:
                self._note(self._token.took(value))
                return outcome._replace(detail=f"{outcome.detail}, with another known value of gateway.auth.token")
        if self._token.source.ref_id is None or self._targets.pinned:
            return refused
        outcome = self._reload_scrubbed(None, None)
        if outcome.ok:
            self._note(self._token.took(None))
            return outcome._replace(detail=f"{outcome.detail}, with the token the OpenClaw CLI resolved itself")
        return refused

    def _reload_scrubbed(self, url: str | None, token: str | None) -> Reloaded:
        """The reload, its detail scrubbed of every gateway token value the watcher knows: the reload child is
        given only the one it authenticates with (none when the CLI resolves an env ref itself), and a refusal
        may quote another, which would otherwise reach the journal and the state file."""
        outcome = self._reload_gateway(url, token)
        detail = outcome.detail
        for value in {v for v in (token, self._token.value, self._token.source.value) if v}:
            detail = scrub(detail, value)
        return outcome if detail == outcome.detail else outcome._replace(detail=detail)

    def _refusal_fix(self, outcome: Reloaded) -> str | None:
        """What to do when the gateway refuses every token the watcher knows: only a person can give it one."""
        if outcome.ok or self._token.source.ref_id is None or not refused_auth(outcome):
            return None
        return (
            "the gateway refused every value of gateway.auth.token known here: if it rotated while no watcher ran "
            "and the cache is off, restart the gateway once (it resolves the new one), or reload it by hand with the "
            "token it holds"
        )

    def _failed(self, now: float, exc: BridgeError) -> str:
        """A poll that failed: one line saying which way, and the backoff either way (never a tight loop)."""
        delay = format_age(self._schedule.supabase_failed(now))
        if isinstance(exc, CredentialsRefused):
            try:
                self._vault.refused()
            except (BridgeError, OSError) as failure:
                self._log(f"the cache kept under refused credentials could not be dropped ({failure}); run: bridge cache clear")
            line = f"Supabase refused the watcher's credentials: {exc}"
            self._log(f"{line}; what was cached under them is dropped; {self._vault.login_fix()}; next poll in {delay}")
        elif isinstance(exc, SupabaseUnavailable):
            line = f"Supabase unreachable: {exc}"
            self._log(f"{line}; next poll in {delay}")
        else:
            line = f"Supabase answered with an error: {exc}"
            self._log(f"{line}; next poll in {delay}")
        return line

    def _note(self, problem: str | None) -> None:
        if problem is not None:
            self._log(problem)

    def _record(self, **changes: Unpack[Progress]) -> None:
        try:
            self._state.record(**changes)
        except OSError as exc:
            self._log(f"state file not written ({exc.strerror or type(exc).__name__}); bridge doctor will not see this watcher's progress")


LISTED_NAMES = 10
"""Names a journal or state line spells out; past this, how many more (512 long names make no readable line)."""


def listed(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED_NAMES])
    return shown if len(names) <= LISTED_NAMES else f"{shown} and {len(names) - LISTED_NAMES} more"
