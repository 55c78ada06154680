"""The usage charts of `bridge ui`, drawn on the server as inline SVG: no script, no inline style (the CSP
forbids both), colours from app.css classes. Pure: from setup.sql's secret_usage_days answer to markup.

Each bar carries its day and counts as data attributes and a <title> (a tooltip without script), so a test
can compare the picture with the audit rows, and a person can read the number behind a bar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from bridge.core.text import minute, parse_stamp, plural, utc_stamp

DAYS = 30
"""The window of every chart: the usage window of `secrets ls` (vault_bridge.usage_window())."""


@dataclass(frozen=True)
class Usage:
    """One secret's days: resolves and failures per UTC day from `first_day`, and its rotations (ISO stamps)."""

    first_day: dt.date
    resolves: tuple[int, ...]
    failures: tuple[int, ...]
    rotations: tuple[str, ...]

    def day(self, index: int) -> dt.date:
        return self.first_day + dt.timedelta(days=index)

    @property
    def peak(self) -> int:
        return max((r + f for r, f in zip(self.resolves, self.failures, strict=True)), default=0)


def _counts(raw: object, days: int) -> tuple[int, ...]:
    values = [int(v) if isinstance(v, int) and v >= 0 else 0 for v in raw] if isinstance(raw, list) else []
    return tuple((values + [0] * days)[:days])


def usage_of(answer: object) -> dict[str, Usage]:
    """secret_usage_days' answer as Usage by Vault name; an answer of another shape is no usage at all."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("secrets"), Mapping):
        return {}
    try:
        first = dt.date.fromisoformat(str(answer.get("first_day")))
    except ValueError:
        return {}
    given = answer.get("days")
    days = given if isinstance(given, int) and 0 < given <= 366 else DAYS
    found = {}
    for name, one in answer["secrets"].items():
        if not isinstance(one, Mapping):
            continue
        rotations = tuple(r for r in one.get("rotations") or [] if parse_stamp(r) is not None)
        found[str(name)] = Usage(first, _counts(one.get("resolves"), days), _counts(one.get("failures"), days), rotations)
    return found


def empty_usage(today: dt.date) -> Usage:
    return Usage(today - dt.timedelta(days=DAYS - 1), (0,) * DAYS, (0,) * DAYS, ())


def summary(usage: Usage) -> str:
    """The chart in words, for its label and for a screen reader: `30 days: 412 resolves, 3 failures, 1 rotation`."""
    return (f"{len(usage.resolves)} days: {plural(sum(usage.resolves), 'resolve')}, "
            f"{plural(sum(usage.failures), 'failure')}, {plural(len(usage.rotations), 'rotation')}")


def _bars(usage: Usage, left: float, top: float, width: float, height: float, gap: float) -> list[str]:
    slot = width / max(1, len(usage.resolves))
    scale = height / usage.peak if usage.peak else 0.0
    parts = []
    for index, (resolves, failures) in enumerate(zip(usage.resolves, usage.failures, strict=True)):
        day = usage.day(index).isoformat()
        x = left + index * slot
        ok_h, bad_h = resolves * scale, failures * scale
        tip = escape(f"{day}: {plural(resolves, 'resolve')}, {plural(failures, 'failure')}")
        parts.append(
            f'<g class="day" data-day="{day}" data-resolves="{resolves}" data-failures="{failures}"><title>{tip}</title>'
            f'<rect class="slot" x="{x:.1f}" y="{top:.1f}" width="{slot:.1f}" height="{height:.1f}"/>'
            f'<rect class="bar-resolves" x="{x + gap / 2:.1f}" y="{top + height - ok_h:.1f}" width="{slot - gap:.1f}" height="{ok_h:.1f}"/>'
            f'<rect class="bar-failures" x="{x + gap / 2:.1f}" y="{top + height - ok_h - bad_h:.1f}" width="{slot - gap:.1f}" '
            f'height="{bad_h:.1f}"/></g>'
        )
    return parts


def _rotation_x(usage: Usage, stamp: str, left: float, width: float) -> float | None:
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return None
    start = dt.datetime.combine(usage.first_day, dt.time(), dt.UTC)
    fraction = (when - start).total_seconds() / (len(usage.resolves) * 86400)
    return left + width * fraction if 0 <= fraction <= 1 else None


def usage_chart(usage: Usage) -> Markup:
    """The secret page's chart: a bar per UTC day (resolves, with failures stacked in red), a dashed mark at each
    rotation, the first and last day under it and the peak beside it."""
    left, top, width, height, bottom = 40.0, 10.0, 720.0, 140.0, 22.0
    parts = [f'<svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 10:.0f} '
             f'{top + height + bottom:.0f}" role="img" aria-label="{escape(summary(usage))}">',
             f"<title>{escape(summary(usage))}</title>",
             f'<line class="axis" x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}"/>',
             f'<text class="label" x="{left - 6}" y="{top + 10}" text-anchor="end">{usage.peak}</text>',
             f'<text class="label" x="{left - 6}" y="{top + height}" text-anchor="end">0</text>',
             *_bars(usage, left, top, width, height, 2.0)]
    for stamp in usage.rotations:
        x = _rotation_x(usage, stamp, left, width)
        if x is not None:
            parts.append(f'<g class="rotation" data-at="{escape(utc_stamp(stamp) or "")}"><title>rotated {escape(minute(stamp))}</title>'
                         f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + height}"/>'
                         f'<text class="label" x="{x + 3:.1f}" y="{top + 4}">rotated</text></g>')
    last = usage.day(len(usage.resolves) - 1)
    parts += [f'<text class="label" x="{left}" y="{top + height + 16}">{usage.first_day:%b %d}</text>',
              f'<text class="label" x="{left + width}" y="{top + height + 16}" text-anchor="end">{last:%b %d} (today, UTC)</text>',
              "</svg>"]
    return Markup("".join(parts))


def _column_path(counts: Sequence[int], below: Sequence[int], scale: float, slot: float, gap: float, floor: float) -> str:
    """One path of a bar per non-zero day, standing on `below` (the stack under it): a sparkline is two paths,
    not 90 elements, so a page of 50 rows stays small."""
    steps = []
    for index, (count, under) in enumerate(zip(counts, below, strict=True)):
        if count:
            height = count * scale
            steps.append(f"M{index * slot + gap / 2:.1f} {floor - under * scale - height:.1f}h{slot - gap:.1f}v{height:.1f}"
                         f"h{gap - slot:.1f}z")
    return "".join(steps)


def sparkline(usage: Usage) -> Markup:
    """A row's 30 days in 120 by 24 pixels: resolves with failures stacked in red, no labels; its tooltip says
    the totals and its data attributes the counts per day, oldest first."""
    text = escape(summary(usage))
    slot = 120.0 / max(1, len(usage.resolves))
    scale = 22.0 / usage.peak if usage.peak else 0.0
    resolves = _column_path(usage.resolves, [0] * len(usage.resolves), scale, slot, 1.0, 23.0)
    failures = _column_path(usage.failures, usage.resolves, scale, slot, 1.0, 23.0)
    return Markup(
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 24" width="120" height="24" role="img" '
        f'aria-label="{text}" data-first-day="{usage.first_day.isoformat()}" data-resolves="{",".join(map(str, usage.resolves))}" '
        f'data-failures="{",".join(map(str, usage.failures))}"><title>{text}</title>'
        f'<line class="axis" x1="0" y1="23.5" x2="120" y2="23.5"/>'
        f'<path class="bar-resolves" d="{resolves}"/><path class="bar-failures" d="{failures}"/></svg>'
    )
