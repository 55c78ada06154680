"""Exponential backoff after consecutive failures: how long to wait before trying a failing thing again.

Pure: the random draw is injected, so tests pick it. Supabase gets full jitter
(a fleet of watchers that lost the same project must not come back in step);
the gateway, which has one watcher, gets plain doubling.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_DOUBLINGS = 32
"""Past this the ceiling is the cap anyway; stops 2**n from growing without end over a long outage."""

Draw = Callable[[float, float], float]
"""A uniform draw in [low, high] (random.uniform), or a test's stand-in."""


class Backoff:
    """Delays that start at `first_s` (never shorter: a failure must not make anyone try faster than usual), double
    with each consecutive failure, and stop growing at `cap_s` (or `first_s`, if that is longer)."""

    def __init__(self, first_s: float, cap_s: float, draw: Draw | None = None) -> None:
        self.first_s = first_s
        self.cap_s = max(cap_s, first_s)
        self._draw = draw
        self.failures = 0

    def failed(self) -> float:
        """One more failure in a row: the delay before the next try. With `draw`, jitter over the whole range
        from `first_s` to the ceiling, so a fleet spreads out without anyone trying sooner than usual."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(self.failures, MAX_DOUBLINGS))
        self.failures += 1
        if self._draw is None:
            return ceiling
        return self._draw(self.first_s, ceiling)

    def succeeded(self) -> int:
        """Back to the first delay; returns how many failures in a row this ends (0: none), for a "recovered" line."""
        ended, self.failures = self.failures, 0
        return ended
