"""What `bridge ui` can do, each through the same admin function its CLI verb uses: no second path to the
database. The one class the pages talk to, so a test can put a stand-in in its place.

No method returns a value of a secret: reads are of names, metadata, outcomes and the audit log. The one
secret a page shows is a gateway token, once, in the answer to the form that made it.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bridge.admin.audit import alert_records, audit_records
from bridge.admin.secret_checks import Tested, test_one
from bridge.admin.secrets import delete_secret, rollout_report, status_rows, store_secret
from bridge.admin.tokens import mint_token, revoke_token, token_records
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.checks.base import Check
from bridge.checks.doctor import Doctor
from bridge.core.errors import BridgeError
from bridge.core.names import DEFAULT_TENANT, check_tenant, vault_name
from bridge.core.secret_types import DEFAULT_TYPE
from bridge.web.chart import DAYS, Usage, empty_usage, usage_of
from bridge.web.listing import PAGE_SIZE, Filters, query_filters

RECENT_AUDIT_ROWS = 20


class AdminBackend:
    def __init__(self, ctx: Context, provider: str) -> None:
        self._ctx = ctx
        self._provider = provider

    def secrets_page(self, filters: Filters) -> tuple[int, list[dict[str, object]], list[str]]:
        """How many secrets match, the page of them (every tenant's, with their status), and the tenants for the
        filter: one call, whatever the number of secrets."""
        with open_client(self._ctx) as client:
            total, tenants, rows, answer = client.list_page(query_filters(filters), PAGE_SIZE, (filters.page - 1) * PAGE_SIZE, DAYS)
        names = [str(row.get("name")) for row in rows]
        usage = usage_of(answer)
        shown = status_rows(rows, None)
        for vault, row in zip(names, shown, strict=True):
            row["usage"] = usage.get(vault) or empty_usage(dt.datetime.now(dt.UTC).date())
        return total, shown, sorted({DEFAULT_TENANT, *tenants})

    def secret(self, tenant: str, name: str) -> dict[str, object] | None:
        target = vault_name(check_tenant(tenant), name)
        with open_client(self._ctx) as client:
            rows = client.list_status(target)
        found = [row for row in status_rows(rows, tenant) if row["name"] == name]
        return found[0] if found else None

    def store(self, tenant: str, name: str, value: str | None, description: str | None, secret_type: str | None,
              rotate_every: str | None, expires: str | None) -> str:
        done, _ = store_secret(self._ctx, check_tenant(tenant), name, value, description, secret_type, rotate_every, expires)
        return done

    def test(self, tenant: str, name: str) -> Tested:
        row = self.secret(tenant, name)
        if row is None:
            raise BridgeError(f"no secret named {name} in tenant {tenant}")
        secret_type = str(row.get("type") or DEFAULT_TYPE)
        if secret_type == DEFAULT_TYPE:
            raise BridgeError(f"{name} is a generic secret: there is nothing to test; give it a type in the policy form")
        config = self._ctx.config
        return test_one(
            self._ctx, vault_name(tenant, name), name, secret_type, config.providers.get(secret_type), config.admin_deadline,
        )

    def delete(self, tenant: str, name: str) -> None:
        delete_secret(self._ctx, check_tenant(tenant), name)

    def usage(self, tenant: str, name: str) -> Usage:
        """The secret page's chart: one call, its 30 days."""
        target = vault_name(check_tenant(tenant), name)
        with open_client(self._ctx) as client:
            found = usage_of(client.usage_days([target], DAYS))
        return found.get(target) or empty_usage(dt.datetime.now(dt.UTC).date())

    def recent_audit(self, tenant: str, name: str) -> list[dict[str, object]]:
        return audit_records(self._ctx, None, vault_name(tenant, name), False, RECENT_AUDIT_ROWS)

    def rotate(self, tenant: str, name: str, value: str) -> str:
        """The CLI's rotation (provider test first, previous value kept for the default time); what it did, in one line."""
        from bridge.admin.rotate import DEFAULT_KEEP_PREVIOUS, duration_option, existing_type, rotate_secret

        tenant = check_tenant(tenant)
        keep_s = duration_option("keep", DEFAULT_KEEP_PREVIOUS)
        done = rotate_secret(self._ctx, tenant, name, existing_type(self._ctx, tenant, name), value, False, keep_s)
        said = f"rotated {name} to version {done.answer.get('version')}; the previous value is kept for rollback"
        return f"{said}; warning: {done.warning}" if done.warning else said

    def history(self, tenant: str, name: str) -> list[dict[str, Any]]:
        from bridge.admin.rotate import history_rows

        return history_rows(self._ctx, check_tenant(tenant), name)

    def rollout(self, tenant: str, name: str) -> dict[str, Any]:
        return rollout_report(self._ctx, check_tenant(tenant), name)

    def audit(self, since: str | None, name: str | None, failures_only: bool, limit: int) -> list[dict[str, object]]:
        return audit_records(self._ctx, since, name, failures_only, limit)

    def alerts(self, since: str | None) -> list[dict[str, object]]:
        return alert_records(self._ctx, since)

    def tokens(self) -> list[dict[str, object]]:
        return token_records(self._ctx)

    def mint(self, tenant: str, name: str, allow: list[str], expires: str | None) -> tuple[str, list[str], str | None]:
        return mint_token(self._ctx, check_tenant(tenant), name, allow or None, expires)

    def revoke(self, tenant: str, name: str) -> None:
        revoke_token(self._ctx, check_tenant(tenant), name)

    def doctor(self) -> list[Check]:
        return Doctor(self._ctx, self._provider).run()

    def edge_panel(self) -> dict[str, object]:
        """`bridge edge status` for the [edge] names, read-only: the page never syncs."""
        from bridge.edge.command import EdgeRequest, outcomes_for

        edge = self._ctx.config.edge
        panel: dict[str, object] = {"configured": bool(edge.names), "api_url": edge.api_url, "rows": [], "error": None,
                                    "project_ref": edge.project_ref}
        if not edge.names:
            return panel
        try:
            ref, outcomes = outcomes_for(EdgeRequest(None, None, False, False), self._ctx, check_only=True)
        except BridgeError as exc:
            panel["error"] = str(exc)
            return panel
        panel["project_ref"] = ref
        panel["rows"] = [{"name": o.edge, "vault_name": o.vault, "status": o.outcome} for o in outcomes]
        return panel

    def notify_panel(self) -> dict[str, object]:
        """What [notify] names (the Vault secret, never the URL) and the last delivery, from the notifier's state."""
        from bridge.notify.state import load_state

        state, problem = load_state(self._ctx.paths.data_dir)
        retry = state.get("next_try_at")
        last = state.get("last_delivery")
        # The state file is read as doctor reads it, field by field: any field may be missing or of another type,
        # and the page still says what it knows (never `None`, never a 500).
        delivery = {"at": last.get("at"), "ok": bool(last.get("ok")), "error": last.get("error") or "no reason recorded"} \
            if isinstance(last, dict) else None
        return {
            "webhook_secret": self._ctx.config.notify.webhook, "last_delivery": delivery,
            "failures": failures if isinstance(failures := state.get("failures"), int) else 0, "problem": problem, "posted": len(state.get("sent") or {}),
            "next_try_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(retry)) if isinstance(retry, (int, float)) else None,
        }
