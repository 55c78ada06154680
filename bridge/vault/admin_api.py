"""The admin side of setup.sql as typed calls: one method per function, each answer checked for its shape here.

The verbs get Python values or one error naming the fix (re-run the current
setup.sql) when an answer is not what this bridge's setup.sql returns, so no
verb checks an answer's shape itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

from bridge.core.errors import BridgeError
from bridge.vault.client import Changes, VaultClient
from bridge.vault.errors import SupabaseUnavailable

Row = dict[str, Any]
LOG_PAGE_ROWS = 250
"""Audit rows per read_access_log call: setup.sql bounds each row's text, so a page stays a few MiB at most."""


class AdminApi:
    def __init__(self, client: VaultClient) -> None:
        self._client = client

    def __enter__(self) -> AdminApi:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._client.close()

    def _rows(self, function: str, args: dict[str, Any]) -> list[Row]:
        answer = self._client.call(function, args)
        if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
            raise unexpected(function)
        return answer

    def _flag(self, function: str, args: dict[str, Any]) -> bool:
        answer = self._client.call(function, args)
        if not isinstance(answer, bool):
            raise unexpected(function)
        return answer

    def changes(self, names: list[str], since: str | None) -> Changes:
        """Which of `names` changed since the server time `since` (None: all that exist); no value."""
        return self._client.changes(names, since)

    def resolve(self, names: list[str]) -> dict[str, object]:
        return self._client.resolve_secrets(names)

    def set_secret(self, name: str, value: str | None, description: str | None, meta: dict[str, Any] | None = None) -> Row:
        """{id, created, type, rotate_every, expires_at, rotated_at}: a new secret, a rotation of the existing one that
        keeps its id, or (value None) a change of its description and metadata only."""
        answer = self._client.call(
            "set_secret", {"p_name": name, "p_secret": value, "p_description": description, "p_meta": meta},
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("created"), bool) or not isinstance(answer.get("type"), str):
            raise unexpected("set_secret")
        return answer

    def get_secret(self, name: str) -> str:
        answer = self._client.call("get_secret", {"p_name": name})
        if not isinstance(answer, str):
            raise unexpected("get_secret")
        return answer

    def get_secret_version(self, name: str) -> tuple[str, str]:
        """(value, version): the value and Vault's updated_at of that same value, the version record_check is given."""
        answer = self._client.call("get_secret_version", {"p_name": name})
        if not isinstance(answer, dict) or not isinstance(answer.get("secret"), str) or not isinstance(answer.get("version"), str):
            raise unexpected("get_secret_version")
        return answer["secret"], answer["version"]

    def delete_secret(self, name: str) -> bool:
        return self._flag("delete_secret", {"p_name": name})

    def list_status(self, prefix: str | None, due_within_s: float | None = None, due_only: bool = False) -> list[Row]:
        within = None if due_within_s is None else f"{due_within_s:.0f} seconds"
        return self._rows("list_secrets_status", {"p_prefix": prefix, "p_due_within": within, "p_due_only": due_only})

    def list_page(
        self, filters: dict[str, str | None], limit: int, offset: int, days: int,
    ) -> tuple[int, list[str], list[Row], object]:
        """How many rows match in all, every tenant with a secret, one page of the secrets table, and the page's
        usage by day over `days` (secret_usage_days' answer): one call; `filters` are list_secrets_page's
        p_search, p_tenant, p_type, p_status and p_due, without the prefix."""
        answer = self._client.call("list_secrets_page_usage", {
            **{f"p_{k}": v for k, v in filters.items()}, "p_limit": limit, "p_offset": offset, "p_days": days,
        })
        if not isinstance(answer, dict) or not isinstance(answer.get("rows"), list):
            raise SupabaseUnavailable("unexpected answer from list_secrets_page_usage; re-run setup.sql")
        tenants = [str(t) for t in answer.get("tenants") or [] if isinstance(t, str)]
        rows = [row for row in answer["rows"] if isinstance(row, dict)]
        return int(answer.get("total") or 0), tenants, rows, answer.get("usage")

    def usage_days(self, names: list[str], days: int) -> object:
        """secret_usage_days for these Vault names: resolves and failures per day and rotations (bridge.web.chart
        reads the answer)."""
        return self._client.call("secret_usage_days", {"p_names": names, "p_days": days})

    def record_edge_sync(self, project_ref: str, names: list[str], error: str | None) -> None:
        """One `edge_sync` audit row: the project and the Edge names sent, never a value."""
        self._client.call("record_edge_sync", {"p_project_ref": project_ref, "p_names": names, "p_error": error})

    def record_check(self, name: str, status: str, message: str, version: str) -> str | None:
        """checked_at, as the database stamped it; None when the value is no longer the `version` tested (discarded)."""
        answer = self._client.call(
            "record_secret_check", {"p_name": name, "p_status": status, "p_message": message, "p_version": version},
        )
        if answer is not None and not isinstance(answer, str):
            raise unexpected("record_secret_check")
        return answer

    def rollout(self, name: str) -> Row:
        """{name, changed_at, updated: [...], pending: [...]}: which gateways resolved the secret since it changed."""
        answer = self._client.call("secret_rollout", {"p_name": name})
        if not isinstance(answer, dict) or not isinstance(answer.get("updated"), list) or not isinstance(answer.get("pending"), list):
            raise unexpected("secret_rollout")
        return answer

    def rollout_progress(self, name: str, changed_at: str) -> list[Row] | None:
        """The gateways that resolved the secret since `changed_at` (secret_rollout's), reading only the audit rows
        since then; None when it has changed again since."""
        answer = self._client.call("secret_rollout_progress", {"p_name": name, "p_changed_at": changed_at})
        if not isinstance(answer, dict):
            raise unexpected("secret_rollout_progress")
        updated = answer.get("updated")
        return None if updated is None else [row for row in updated if isinstance(row, dict)] if isinstance(updated, list) else []

    def rotate_version(self, name: str, value: str, keep_s: float, status: str | None, message: str | None) -> Row:
        """{id, version, previous, changed_at, keep_until}: the value replaced in place, the previous one kept."""
        answer = self._client.call("rotate_secret_version", {
            "p_name": name, "p_secret": value, "p_keep": f"{keep_s:.0f} seconds", "p_status": status, "p_message": message,
        })
        if not isinstance(answer, dict) or not isinstance(answer.get("version"), int):
            raise unexpected("rotate_secret_version")
        return answer

    def rollback_version(self, name: str, keep_s: float | None) -> Row:
        """{id, version, restored_from, previous, changed_at, keep_until}."""
        keep = None if keep_s is None else f"{keep_s:.0f} seconds"
        answer = self._client.call("rollback_secret_version", {"p_name": name, "p_keep": keep})
        if not isinstance(answer, dict) or not isinstance(answer.get("restored_from"), int):
            raise unexpected("rollback_secret_version")
        return answer

    def history(self, name: str) -> list[Row]:
        """The secret's versions, newest first; never a value."""
        answer = self._client.call("history_secret_versions", {"p_name": name})
        if not isinstance(answer, dict) or not isinstance(answer.get("versions"), list):
            raise unexpected("history_secret_versions")
        return [row for row in answer["versions"] if isinstance(row, dict)]

    def read_alerts(self, since: str | None) -> list[Row]:
        return self._rows("read_access_alerts", {"p_since": since})

    def read_log(self, since: str | None, name: str | None, failures_only: bool, limit: int) -> list[Row]:
        """Newest first, up to `limit` rows."""
        return [row for page in self.log_pages(since, name, failures_only, limit) for row in page]

    def log_pages(self, since: str | None, name: str | None, failures_only: bool, limit: int | None) -> Iterator[list[Row]]:
        """Newest first, page by page, up to `limit` rows or (None) every row: one answer of the whole log could
        pass the client's size limit, and a caller that streams holds one page at a time."""
        taken = 0
        before: int | None = None
        while limit is None or taken < limit:
            wanted = LOG_PAGE_ROWS if limit is None else min(LOG_PAGE_ROWS, limit - taken)
            page = self._rows("read_access_log", {
                "p_since": since, "p_name": name, "p_failures_only": failures_only, "p_limit": wanted, "p_before_id": before,
            })
            if page:
                yield page
            taken += len(page)
            if len(page) < wanted:
                return
            last = page[-1].get("id")
            if not isinstance(last, int):
                raise unexpected("read_access_log")
            before = last

    def create_token(self, tenant: str, name: str, sha256_hex: str, allow: list[str], expires_at: str | None) -> None:
        self._client.call("create_gateway_token", {
            "p_tenant": tenant, "p_name": name, "p_token_sha256": sha256_hex, "p_allow": allow, "p_expires_at": expires_at,
        })

    def list_tokens(self) -> list[Row]:
        return self._rows("list_gateway_tokens", {})

    def revoke_token(self, tenant: str, name: str) -> bool:
        return self._flag("revoke_gateway_token", {"p_tenant": tenant, "p_name": name})

    def add_member(self, tenant: str, user_id: str) -> bool:
        return self._flag("add_tenant_member", {"p_tenant": tenant, "p_user_id": user_id})

    def remove_member(self, tenant: str, user_id: str) -> bool:
        return self._flag("remove_tenant_member", {"p_tenant": tenant, "p_user_id": user_id})

    def list_tenants(self) -> list[Row]:
        return self._rows("list_tenants", {})


def unexpected(function: str) -> BridgeError:
    return BridgeError(f"unexpected answer from {function}: setup.sql is older than this bridge; re-run the current setup.sql")
