"""The secrets table of `bridge ui`: its filters, badges and pages. Pure.

The database filters, counts and cuts the page (list_secrets_page), reading the audit log for the page's
rows only, so a page costs the same at ten or ten thousand secrets (benchmarks/ui_secrets_page.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from bridge.core.durations import format_age
from bridge.core.secret_types import DEFAULT_TYPE
from bridge.core.status import DUE_WORDS, NOT_TESTABLE, STATES, TEST_OUTCOME_OF, UNTESTED, due_word, row_state
from bridge.core.text import ago, minute, utc_stamp

PAGE_SIZE = 50
MAX_PAGE = (2**31 - 1) // PAGE_SIZE
"""The last page a link may ask for: its offset still fits the SQL integer list_secrets_page takes, so `?page=`
far past the end is an empty page with a way back, never a database error about integers."""
MAX_SEARCH_CHARS = 200
BADGES = STATES
"""The status filter's choices and the badges: core.status's words, the ones `secrets ls` prints."""
DUE_STATES = DUE_WORDS


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
            page = min(max(1, int(query.get("page", "1"))), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            search=query.get("q", "")[:MAX_SEARCH_CHARS].strip(), tenant=query.get("tenant", ""), type=query.get("type", ""),
            status=query.get("status", ""), due=query.get("due", ""), page=page,
        )


def badge(row: Mapping[str, object]) -> str:
    """The state word of a row, as `secrets ls` prints it."""
    return row_state(row)


def badge_class(word: str) -> str:
    """The CSS class of a badge: the word with its space as a dash (`not testable` -> `badge-not-testable`)."""
    return "badge-" + word.replace(" ", "-")


def due_state(row: Mapping[str, object]) -> str:
    """`overdue`/`due`/`expired` as `secrets ls` reports it, else empty (the page shows nothing then)."""
    word = due_word(row.get("due"))
    return word if word in DUE_WORDS else ""


def when(stamp: object, now: float, empty: str = "never") -> Markup:
    """A time on a page: the short form to the minute in UTC and how long ago, the exact ISO 8601 time in `title`
    (a tooltip without script); `empty` when there is none."""
    iso = utc_stamp(stamp)
    if not iso:
        return Markup.escape(empty)
    return Markup('<time datetime="{0}" title="{0}">{1}</time> <span class="ago">{2}</span>').format(
        iso, minute(stamp), ago(stamp, now))


def duration(seconds: object, empty: str) -> str:
    """A number of seconds as people read it (`90 days`); `empty` when there is none."""
    return format_age(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else empty


def query_filters(filters: Filters) -> dict[str, str | None]:
    """The filters as list_secrets_page takes them: a state is a recorded test outcome (or `untested`), and
    `not testable` is the generic type."""
    status = TEST_OUTCOME_OF.get(filters.status)
    if filters.status == UNTESTED:
        status = UNTESTED
    secret_type = DEFAULT_TYPE if filters.status == NOT_TESTABLE else filters.type or None
    if filters.status == NOT_TESTABLE and filters.type and filters.type != DEFAULT_TYPE:
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
