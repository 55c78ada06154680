"""The watcher's notifications: a pass at most once a minute, after a poll; a failure is one line."""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.app.context import Context
from bridge.core.errors import reason
from bridge.notify.command import notify_once

MIN_PASS_GAP_S = 60.0


class NotifyFollower:
    def __init__(self, ctx: Context, log: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx = ctx
        self._log = log
        self._clock = clock
        self._last: float | None = None

    @staticmethod
    def configured(ctx: Context) -> bool:
        return ctx.config.notify.webhook is not None

    def __call__(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < MIN_PASS_GAP_S:
            return
        self._last = now
        try:
            delivery = notify_once(self._ctx)
        except Exception as exc:  # noqa: BLE001 - a follower's failure is logged and backed off, never the watcher's end
            self._log(f"notification not delivered: {reason(exc)}; retried after a backoff (bridge doctor shows it)")
            return
        if delivery.posted:
            self._log(f"notifications: {delivery.note}")
