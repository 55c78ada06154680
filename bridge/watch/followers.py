"""What else runs after each of the watcher's polls: the Edge sync and the notifications, when configured.

Kept apart from the loop so that the loop only calls one function, and each
follower is its own module (bridge.edge.follow, bridge.notify.follow)."""

from __future__ import annotations

from collections.abc import Callable

from bridge.app.context import Context
from bridge.edge.follow import EdgeFollower
from bridge.notify.follow import NotifyFollower


def after_poll(ctx: Context, log: Callable[[str], None]) -> Callable[[], None]:
    followers: list[Callable[[], None]] = []
    if EdgeFollower.configured(ctx):
        followers.append(EdgeFollower(ctx, log))
    if NotifyFollower.configured(ctx):
        followers.append(NotifyFollower(ctx, log))

    def run() -> None:
        for follower in followers:
            follower()

    return run
