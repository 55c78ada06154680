"""Time limits for steps the bridge does not control: a server, a D-Bus session, another bridge's lock.

The gateway kills `bridge resolve` after timeoutMs, so every step that waits
on something outside the process runs on a worker thread that the caller
stops waiting for when its time is up. Worker threads are daemons: one stuck
in a socket read cannot keep the process alive after the answer is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

T = TypeVar("T")


class TimedOut(Exception):
    """The step was still running when its time was up; it is abandoned, not cancelled."""


class Deadline(NamedTuple):
    """A point in time every step must fit before."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(at=clock() + seconds, clock=clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())


def run_within(seconds: float, call: Callable[[], T], what: str, meanwhile: Callable[[], None] = lambda: None) -> T:
    """`call()` on a worker thread, waited for at most `seconds`; its exception is re-raised here.

    `meanwhile` runs on this thread while the worker waits, so local work overlaps the wait.
    """
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as is
            box["error"] = exc

    ends = time.monotonic() + max(0.0, seconds)
    worker = threading.Thread(target=work, name=what, daemon=True)
    worker.start()
    meanwhile()
    worker.join(max(0.0, ends - time.monotonic()))
    if worker.is_alive():
        raise TimedOut(f"{what} took longer than {max(0.0, seconds):.1f}s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
