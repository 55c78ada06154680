"""Text from the database made safe for the admin's terminal and spreadsheet.

Names, messages, hosts and user agents in the audit log come from whoever
called the API; a raw ESC, CR or bidi override in one would let them repaint
the screen or print a forged line, and a CSV cell starting with `=` would run
as a formula. Everything a table or CSV shows passes through here; JSON needs
nothing (json.dumps escapes every control character, DEL and non-ASCII).
"""

from __future__ import annotations

import datetime as dt
import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""C0 and C1 controls, DEL, bidi marks, overrides and isolates, line and paragraph separators, lone surrogates."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP's CSV injection list)."""
_CELL_STARTS = re.compile(r"""(^|[,;\t])([ "]*+)(?=[=+\-@])""")
"""Where a spreadsheet may start a cell: the start, and after each separator a locale splits on (`,`; `;` in
German, French or Dutch Excel; tab), past spaces and an opening quote; then a formula character. Possessive,
so a long run of spaces costs one pass."""


def printable(text: str) -> str:
    """The text with every unsafe character as \\xNN or \\uNNNN, the way setup.sql escapes what it logs."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def cell(value: object) -> str:
    """One table cell: a missing value as `-`, anything else printable."""
    return "-" if value is None or value == "" else printable(str(value))


def csv_cell(value: object) -> str:
    """One CSV cell: printable, and a single quote before every formula character a spreadsheet could read as
    the start of a cell, whichever separator its locale splits on: `x;=2+5;y` becomes `x;'=2+5;y`."""
    if value is None:
        return ""
    raw = str(value)
    shown = printable(raw)
    if raw.startswith(FORMULA_STARTS) and not shown.startswith(FORMULA_STARTS):
        shown = "'" + shown  # a leading tab or CR, escaped by printable(), still marks the cell as suspect
    return _CELL_STARTS.sub(r"\1\2'", shown)


def parse_stamp(stamp: object) -> dt.datetime | None:
    """A server timestamp (ISO 8601, any zone, `Z` or an offset, with or without microseconds) as an aware UTC
    datetime; None when there is none or it is not one."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when).astimezone(dt.UTC)


def minute(stamp: object) -> str:
    """A server timestamp as people read it, the one short form of every table and page: `2026-12-07 12:17 UTC`;
    empty when there is none."""
    when = parse_stamp(stamp)
    if when is None:
        return printable(str(stamp)) if stamp else ""
    return when.strftime("%Y-%m-%d %H:%M UTC")


def ago(stamp: object, now: float) -> str:
    """How long before `now` (epoch seconds) the timestamp was: `3 min ago`, `in 12 days`; empty when none."""
    from bridge.core.durations import format_ago

    when = parse_stamp(stamp)
    return "" if when is None else format_ago(now - when.timestamp())


def minute_ago(stamp: object, now: float) -> str:
    """The short form and how long ago, for a terminal: `2026-12-07 12:17 UTC (3 min ago)`; empty when none."""
    shown = minute(stamp)
    relative = ago(stamp, now)
    return f"{shown} ({relative})" if relative else shown


def utc_stamp(stamp: object) -> str | None:
    """A server timestamp as ISO 8601 UTC to the second (2026-12-03T07:26:57Z), whatever zone the server used:
    what `--json` gives and a page's `title` shows."""
    if not isinstance(stamp, str) or not stamp:
        return None
    when = parse_stamp(stamp)
    return printable(stamp) if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(count: object, word: str) -> str:
    """`1 use`, `3 uses`, `0 failures`: a count with its noun, the one home of singular and plural; a missing
    count is 0."""
    number = count if isinstance(count, int) and not isinstance(count, bool) else 0
    return f"{number} {word}" if number == 1 else f"{number} {word}s"
