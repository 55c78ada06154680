"""`bridge audit`: the access log, newest first, as a table, CSV or JSON (seed 003's audit export). Never a value:
the log holds none, and reading it is itself logged."""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterable
from typing import Any, TextIO

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb
from bridge.core.durations import option_stamp
from bridge.core.errors import UsageError
from bridge.core.names import TENANT_SEPARATOR
from bridge.core.text import cell, csv_cell, minute, printable, utc_stamp

COLUMNS = (
    "accessed_at", "secret_name", "access_type", "success", "error_message", "host", "provider", "role",
    "session_user", "user_agent", "tenant", "token_name", "name_count", "id",
)
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000


def since_timestamp(raw: str | None, now: float) -> str | None:
    """`--since 7d` as the ISO timestamp that long ago."""
    return None if raw is None else option_stamp("--since", raw, now, -1)


ALERT_COLUMNS = ("kind", "secret", "token", "host", "count", "first_at", "last_at", "message")
DEFAULT_ALERT_SINCE = "24h"


def alert_records(ctx: Context, since: str | None) -> list[dict[str, object]]:
    with open_client(ctx) as client:
        rows = client.read_alerts(since)
    return [
        {**{column: row.get(column) for column in ALERT_COLUMNS},
         "first_at": utc_stamp(row.get("first_at")), "last_at": utc_stamp(row.get("last_at"))}
        for row in rows
    ]


def handle_alerts(args: argparse.Namespace, ctx: Context) -> int:
    """What the log says deserves a look, computed by the database in one call; --since bounds the events."""
    if args.name or args.failures or args.format == "csv" or args.limit != DEFAULT_LIMIT:
        raise UsageError("--alerts takes only --since, --json (or --format json) and --notify")
    if args.notify:
        return handle_notify(args, ctx)
    since = since_timestamp(args.since or DEFAULT_ALERT_SINCE, time.time())
    alerts = alert_records(ctx, since)
    if args.json or args.format == "json":
        ctx.out.write(json.dumps(alerts, indent=2) + "\n")
        return 0
    if not alerts:
        print(f"no alerts since {minute(since)}", file=ctx.out)
        return 0
    for a in alerts:
        print(f"{minute(a['last_at'] or a['first_at'])}  {cell(a['kind']):<12} {cell(a['message'])}", file=ctx.out)
    return 0


def handle_notify(args: argparse.Namespace, ctx: Context) -> int:
    """One notification pass, for cron: what is new is posted once, and the line says what happened."""
    from bridge.notify.command import notify_once

    if args.since:
        raise UsageError("--notify looks at the last 24h itself; drop --since")
    delivery = notify_once(ctx)
    if args.json or args.format == "json":
        ctx.out.write(json.dumps({"posted": delivery.posted, "waiting": delivery.waiting, "note": delivery.note}) + "\n")
    else:
        print(delivery.note + (f"; {delivery.waiting} more next pass" if delivery.waiting else ""), file=ctx.out)
    return 0


def handle_audit(args: argparse.Namespace, ctx: Context) -> int:
    if args.notify and not args.alerts:
        raise UsageError("--notify goes with --alerts: bridge audit --alerts --notify")
    if args.alerts:
        return handle_alerts(args, ctx)
    if args.all and args.limit != DEFAULT_LIMIT:
        raise UsageError("give --all or --limit, not both")
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, or --all for every row")
    out = ctx.out
    since = since_timestamp(args.since, time.time())
    fmt = "json" if args.json else args.format
    with open_client(ctx) as client:
        pages = (records_of(page) for page in client.log_pages(since, args.name, args.failures, None if args.all else args.limit))
        if fmt == "json":
            write_json(pages, out)
        elif fmt == "csv":
            write_csv(pages, out)
        elif not render_table(pages, out):
            print("no access recorded", file=out)
    return 0


SUBJECT_OF_KIND = {"list": "(all secrets)", "audit": "(the audit log)", "member": "(tenant members)", "token": "(a token)"}
"""What an audit row that names no secret concerns, by its kind: a listing, a read of the log, a membership."""


def subject(record: dict[str, object]) -> str:
    """What an audit row concerns, for a table or page: its secret, else the token it is about, else what its kind
    says (`(all secrets)` for a listing); never an empty cell or `None`. JSON and CSV keep the raw column."""
    name = str(record.get("secret_name") or "")
    if record.get("access_type") == "list" and name:
        # A listing logs the prefix or search it was given, never a secret of that name.
        tenant = name.removesuffix(TENANT_SEPARATOR)
        whole_tenant = name.endswith(TENANT_SEPARATOR) and TENANT_SEPARATOR not in tenant
        return printable(f"(all secrets of tenant {tenant})" if whole_tenant else f"(secrets matching {name!r})")
    if name:
        return printable(name)
    if record.get("token_name") and record.get("access_type") == "token":
        return printable(f"token {record.get('tenant') or 'default'}/{record['token_name']}")
    kind = str(record.get("access_type") or "")
    return SUBJECT_OF_KIND.get(kind, f"({printable(kind)})")


def records_of(rows: list[dict[str, Any]]) -> list[dict[str, object]]:
    return [{column: row.get(column) for column in COLUMNS} for row in rows]


def audit_records(ctx: Context, since: str | None, name: str | None, failures_only: bool, limit: int) -> list[dict[str, object]]:
    """The log rows people see, newest first: the one reading both `bridge audit` and `bridge ui` use."""
    with open_client(ctx) as client:
        return records_of(client.read_log(since, name, failures_only, limit))


def write_json(pages: Iterable[list[dict[str, object]]], out: TextIO) -> None:
    """One JSON array, written a page at a time, so `--all` holds one page in memory whatever the period."""
    out.write("[")
    first = True
    for page in pages:
        for record in page:
            out.write(("\n  " if first else ",\n  ") + json.dumps(record))
            first = False
    out.write("\n]\n" if not first else "]\n")


def write_csv(pages: Iterable[list[dict[str, object]]], out: TextIO, note: str | None = None) -> None:
    """CSV that is safe to open in a spreadsheet in any locale (bridge.core.text.csv_cell). A cut export says so
    in its first line, a single cell, before the header."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    if note:
        csv.writer(out, lineterminator="\n").writerow([csv_cell(note)])
    writer.writeheader()
    for page in pages:
        writer.writerows({column: csv_cell(value) for column, value in record.items()} for record in page)


def render_table(pages: Iterable[list[dict[str, object]]], out: TextIO) -> bool:
    """The rows as lines; false when there was none."""
    shown = False
    for r in (record for page in pages for record in page):
        shown = True
        outcome = "ok" if r["success"] else f"FAILED: {cell(r['error_message'])}"
        if isinstance(r["name_count"], int) and r["name_count"] > 1:
            outcome += f"  ({r['name_count']} names)"
        if r["token_name"]:
            outcome += f"  (token {cell(r['tenant'])}/{cell(r['token_name'])})"
        print(
            f"{minute(r['accessed_at'])}  {cell(r['access_type']):<8} {subject(r):<32} "
            f"{cell(r['host']):<20} {cell(r['provider']):<10} {outcome}",
            file=out,
        )
    return shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DURATION", help='only the last DURATION, e.g. "24h" or "7d"')
    parser.add_argument("--name", metavar="NAME", help="only accesses to this secret")
    parser.add_argument("--failures", action="store_true", help="only failed accesses")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many rows (default {DEFAULT_LIMIT})")
    parser.add_argument("--all", action="store_true", help="every row of the period, read and written a page at a time")
    parser.add_argument(
        "--alerts", action="store_true",
        help="alerts instead of rows: repeated failures per name or token, first reads from a new host, unused tokens "
             f"(since {DEFAULT_ALERT_SINCE} unless --since)",
    )
    parser.add_argument(
        "--notify", action="store_true",
        help="with --alerts: post what is new (alerts, due rotations, invalid provider tests) to the [notify] webhook, once each; for cron",
    )


VERBS = {
    "audit": Verb(
        "audit", "the access log, newest first, or its alerts (never a value)",
        "bridge audit --since 7d --failures --format csv\n  bridge audit --since 30d --all --format csv\n  bridge audit --alerts --since 24h --json\n"
        "  bridge audit --alerts --notify",
        handle_audit, add_arguments,
    ),
}
