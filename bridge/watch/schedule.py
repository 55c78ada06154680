"""When `bridge watch` polls and reloads, from what the polls and reloads said: pure, times are passed in.

One poll per interval. A change not seen before (a name with a new
changed_at; the feed repeats recent ones on purpose) starts a settle: one
more poll DEBOUNCE_S later, so rotations made together cost one reload. Then
the reload is due. Supabase failures push the next poll back (Backoff with
jitter, capped at 5 minutes); reload failures push the next reload back,
separately, starting at the next tick.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from bridge.core.backoff import Backoff, Draw
from bridge.local.watch_facts import BACKOFF_CAP_S

DEBOUNCE_S = 2.0
"""After the first change is seen, wait this long and poll once more before reloading: rotations that arrive
together cost the gateway one reload."""
SUPABASE_BACKOFF_CAP_S = RELOAD_BACKOFF_CAP_S = BACKOFF_CAP_S


class Seen(NamedTuple):
    """What one poll brought that was not known before."""

    changed: list[str]
    gone: list[str]
    recovered: int
    """How many failed polls in a row this one ends (0: none)."""


class Schedule:
    """The watcher's timing and its memory of changes. With `since` (the server time a watcher before this one
    polled at), the first poll lists what changed while no watcher ran, to reload. Without it, the first poll
    lists every secret that exists: with `baseline` that is what the gateway already holds, otherwise (--once)
    it is what to reload."""

    def __init__(self, interval_s: float, draw: Draw, now: float, baseline: bool = True, since: str | None = None) -> None:
        self.interval_s = interval_s
        self.polls = Backoff(interval_s, SUPABASE_BACKOFF_CAP_S, draw)
        self.reloads = Backoff(interval_s, RELOAD_BACKOFF_CAP_S)
        self.since = since
        self.pending: set[str] = set()
        self._seen: dict[str, str] | None = None if baseline and since is None else {}
        self._gone: set[str] = set()
        self._settling = False
        self._next_poll = now
        self._next_reload = math.inf

    def polled(self, now: float, server_now: str, changed: Mapping[str, str], gone: Iterable[str]) -> Seen:
        """A poll answered: new changes join `pending`; the first one starts the settle, the settle poll makes
        the reload due (not before a failed one's backoff)."""
        recovered = self.polls.succeeded()
        self.since = server_now
        known = self._seen
        fresh = [] if known is None else sorted(n for n, at in changed.items() if known.get(n) != at)
        self._seen = {**(known or {}), **changed}
        gone_now = set(gone)
        newly_gone = sorted(gone_now - self._gone)
        self._gone = gone_now
        for name in gone_now:
            # A secret created again under the same name is a change, whatever time it carries.
            self._seen.pop(name, None)
        self.pending.update(fresh)
        if self._settling:
            self._settling = False
            if self.reloads.failures == 0:
                self._next_reload = now
        elif fresh:
            self._settling = True
        self._next_poll = now + (DEBOUNCE_S if self._settling else self.interval_s)
        return Seen(fresh, newly_gone, recovered)

    def supabase_failed(self, now: float) -> float:
        """A poll failed: the delay before the next poll. A reload that was due waits for it too, so an outage
        never turns into a tight loop."""
        delay = self.polls.failed()
        self._next_poll = now + delay
        if self._next_reload < self._next_poll:
            self._next_reload = self._next_poll
        return delay

    def reloaded(self, now: float, ok: bool, names: Iterable[str]) -> float:
        """The reload of `names` answered; a refused one is tried again at the next tick, then less and less
        often. Returns the delay before that retry (0 after a success)."""
        if ok:
            self.reloads.succeeded()
            self.pending.difference_update(names)
            self._next_reload = math.inf
            return 0.0
        delay = self.reloads.failed()
        self._next_reload = now + delay
        return delay

    def delivered(self, names: Iterable[str]) -> None:
        """These names reached the gateway, although the reload as a whole must be tried again for others."""
        self.pending.difference_update(names)

    def reload_due(self, now: float) -> bool:
        return bool(self.pending) and not self._settling and now >= self._next_reload

    def poll_due(self, now: float) -> bool:
        return now >= self._next_poll

    def wake_at(self) -> float:
        """When there is next something to do."""
        return min(self._next_poll, self._next_reload if self.pending and not self._settling else math.inf)
