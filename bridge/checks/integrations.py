"""Doctor's checks of what the bridge feeds beside the gateway: Edge Function secrets and notifications."""

from __future__ import annotations

import time

from bridge.checks.base import PASS, SKIP, WARN, DoctorBase
from bridge.core.errors import BridgeError
from bridge.core.text import cell, minute, minute_ago


class IntegrationChecks(DoctorBase):
    def edge(self) -> None:
        """Whether `bridge edge sync` (and the watcher's sync) can run: names configured and an access token
        found; no call to the Management API, whose rate limit a doctor run should not spend."""
        from bridge.credentials.access_token import find_access_token

        edge = self.ctx.config.edge
        if not edge.names:
            self.add("edge secrets", SKIP, "not configured ([edge] names in config.toml)")
            return
        try:
            found = find_access_token(self.env, self.paths.data_dir)
        except BridgeError as exc:
            self.add("edge secrets", WARN, str(exc), "bridge login --access-token")
            return
        self.add("edge secrets", PASS, f"{len(edge.names)} name(s) to {edge.api_url}; access token from {found.source}",
                 "bridge edge status")


    def notifications(self) -> None:
        """The last delivery to the [notify] webhook, from the notifier's state file: a failure stays visible here
        until a delivery works."""
        from bridge.notify.state import load_state

        webhook = self.ctx.config.notify.webhook
        if webhook is None:
            self.add("notifications", SKIP, "not configured ([notify] webhook in config.toml)")
            return
        state, problem = load_state(self.paths.data_dir)
        if problem:
            self.add("notifications", WARN, problem, "remove it; the next pass writes it anew (events may be posted again)")
            return
        last = state.get("last_delivery")
        if not isinstance(last, dict):
            self.add("notifications", PASS, f"webhook from Vault secret {webhook}; nothing delivered yet", "bridge notify test")
            return
        if last.get("ok"):
            self.add("notifications", PASS, f"webhook from Vault secret {webhook}; last delivery {minute_ago(last.get('at'), time.time())} ok")
            return
        retry = state.get("next_try_at")
        when = f"; retried after {minute(time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(retry)))}" if isinstance(retry, (int, float)) else ""
        self.add(
            "notifications", WARN,
            f"last delivery {minute_ago(last.get('at'), time.time())} failed: {cell(last.get('error'))}; "
            f"{int(state.get('failures') or 0)} failed in a row{when}",
            "bridge notify test; then bridge audit --alerts --notify",
        )

