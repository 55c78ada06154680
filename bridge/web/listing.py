"""The secrets table of `bridge ui`: its filters, badges and pages. Pure.

The database filters, counts and cuts the page (list_secrets_page), reading the audit log for the page's
rows only, so a page costs the same at ten or ten thousand secrets (benchmarks/ui_secrets_page.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bridge.core.secret_types import DEFAULT_TYPE, INVALID, OK, UNREACHABLE

PAGE_SIZE = 50
MAX_SEARCH_CHARS = 200
STATUS_BADGES = {OK: "connected", INVALID: "error", UNREACHABLE: "checking"}
"""Recorded test outcome -> the badge the page shows: `checking` until a provider answers either way, `untested`
before any test, and `disabled` for a generic secret (there is nothing to test)."""
BADGES = ("connected", "error", "checking", "untested", "disabled")
DUE_STATES = ("overdue", "due", "expired")


@dataclass(frozen=True)
class Filters:
    search: str = ""
    tenant: str = ""
    type: str = ""
    status: str = ""
    due: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            search=query.get("q", "")[:MAX_SEARCH_CHARS].strip(), tenant=query.get("tenant", ""), type=query.get("type", ""),
            status=query.get("status", ""), due=query.get("due", ""), page=page,
        )


def badge(row: Mapping[str, object]) -> str:
    if str(row.get("type") or DEFAULT_TYPE) == DEFAULT_TYPE:
        return "disabled"
    return STATUS_BADGES.get(str(row.get("status") or ""), "untested")


def due_state(row: Mapping[str, object]) -> str:
    """`overdue`/`due`/`expired` as `secrets ls` reports it, else empty."""
    due = row.get("due")
    return str(due) if isinstance(due, str) and due in DUE_STATES else ""


def query_filters(filters: Filters) -> dict[str, str | None]:
    """The filters as list_secrets_page takes them: a badge is a test outcome, `disabled` the generic type."""
    status = {badge_name: outcome for outcome, badge_name in STATUS_BADGES.items()}.get(filters.status)
    if filters.status == "untested":
        status = "untested"
    secret_type = DEFAULT_TYPE if filters.status == "disabled" else filters.type or None
    if filters.status == "disabled" and filters.type and filters.type != DEFAULT_TYPE:
        secret_type = "-"  # no secret is both: an empty page, as the two filters say
    return {
        "search": filters.search or None, "tenant": filters.tenant or None, "type": secret_type, "status": status,
        "due": filters.due or None,
    }


@dataclass(frozen=True)
class Page:
    rows: Sequence[Mapping[str, object]]
    number: int
    pages: int
    total: int


def page_of(total: int, rows: Sequence[Mapping[str, object]], filters: Filters, size: int = PAGE_SIZE) -> Page:
    return Page(rows, filters.page, max(1, math.ceil(total / size)), total)
