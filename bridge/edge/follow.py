"""The watcher's Edge sync: after each poll, the [edge] names whose Vault value changed are synced.

It keeps its own place in Vault's change feed (the gateway's names and the
Edge names are different sets), starting with a full sync when the watcher
starts. A failure is one line and a backoff, never the watcher's end.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.app.context import Context
from bridge.core.backoff import Backoff
from bridge.core.deadline import Deadline
from bridge.core.edge_names import CHANGED_ELSEWHERE, CREATED, NOT_MANAGED, UPDATED
from bridge.core.errors import reason
from bridge.credentials.access_token import find_access_token
from bridge.edge.sync import Managed, audit_recorder, choose_ref, entries, mapping, open_vault, read_values, sync
from bridge.remote.management import ManagementApi

RETRY_FIRST_S = 60.0
RETRY_CAP_S = 15 * 60.0


class EdgeFollower:
    def __init__(self, ctx: Context, log: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx = ctx
        self._log = log
        self._clock = clock
        self._since: str | None = None
        self._backoff = Backoff(RETRY_FIRST_S, RETRY_CAP_S)
        self._next_at = 0.0

    @staticmethod
    def configured(ctx: Context) -> bool:
        return bool(ctx.config.edge.names)

    def __call__(self) -> None:
        if self._clock() < self._next_at:
            return
        try:
            self._step()
        except Exception as exc:  # noqa: BLE001 - a follower's failure is logged and backed off, never the watcher's end
            delay = self._backoff.failed()
            self._next_at = self._clock() + delay
            self._log(f"edge sync failed: {reason(exc)}; next try in {delay:.0f}s")
        else:
            self._backoff.succeeded()

    def _step(self) -> None:
        ctx = self._ctx
        found = ctx.credentials()
        ref = choose_ref(None, ctx.config.edge.project_ref, found.credentials)
        deadline = Deadline.after(ctx.config.admin_deadline)
        is_token = bool(found.credentials.token)
        with open_vault(found.credentials, deadline) as vault:
            chosen = mapping(vault, entries(ctx, None), is_token)
            feed = vault.changes(sorted(set(chosen.values())), self._since)
            if self._since is not None:
                chosen = {edge: name for edge, name in chosen.items() if name in feed.changed}
            if not chosen:
                self._since = feed.now
                return
            values = read_values(vault, chosen.values(), is_token)
        token = find_access_token(ctx.env, ctx.paths.data_dir)
        outcomes = sync(ManagementApi(ctx.config.edge.api_url, token.token, deadline), ref, chosen, values, Managed(ctx.paths.data_dir),
                        False, audit_recorder(found.credentials, deadline, ref))
        del values
        self._since = feed.now
        sent = [o.edge for o in outcomes if o.outcome in (CREATED, UPDATED)]
        if sent:
            self._log(f"edge sync to project {ref}: {', '.join(sent)}")
        refused = [o.edge for o in outcomes if o.outcome in (NOT_MANAGED, CHANGED_ELSEWHERE)]
        if refused:
            self._log(f"edge sync left alone (not managed by the bridge): {', '.join(refused)}")
