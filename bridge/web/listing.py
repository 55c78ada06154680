"""The secrets table of `bridge ui`: search, filters and pages over the rows `secrets ls` shows. Pure.

One `list_secrets_status` call gives every row (it is one query however many secrets there are, see
benchmarks/ui_secrets_page.py); what a page shows is cut from it here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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


def matches(row: Mapping[str, object], filters: Filters) -> bool:
    if filters.search and filters.search.lower() not in (str(row.get("name", "")) + " " + str(row.get("description") or "")).lower():
        return False
    if filters.tenant and row.get("tenant") != filters.tenant:
        return False
    if filters.type and str(row.get("type") or DEFAULT_TYPE) != filters.type:
        return False
    if filters.status and badge(row) != filters.status:
        return False
    if filters.due == "any":
        return bool(due_state(row))
    return not filters.due or due_state(row) == filters.due


@dataclass(frozen=True)
class Page:
    rows: list[Mapping[str, object]]
    number: int
    pages: int
    total: int


def page_of(rows: Iterable[Mapping[str, object]], filters: Filters, size: int = PAGE_SIZE) -> Page:
    kept = [row for row in rows if matches(row, filters)]
    pages = max(1, math.ceil(len(kept) / size))
    number = min(filters.page, pages)
    return Page(kept[(number - 1) * size : number * size], number, pages, len(kept))
