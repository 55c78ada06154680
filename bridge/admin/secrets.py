"""`bridge secrets set|get|ls|due|rollout|rm`: manage the Vault secrets the gateway's refs name, without writing SQL.

Values travel only on stdin (or a hidden prompt) and stdout of `get`; never
argv, never stderr, never a listing. `set` on an existing name replaces its
value and keeps its Vault id (a rotation, logged as one); a typed value is
checked for its shape before anything is stored. `test` lives in
secret_checks.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, TextIO

from bridge.admin.rotate import add_rotate_actions
from bridge.admin.secret_input import read_value, refuse_shape
from bridge.admin.tenants import add_tenant
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_action, add_actions, add_json, run_action
from bridge.core.errors import BridgeError, UsageError
from bridge.core.names import check_name, split_vault_name, vault_name
from bridge.core.secret_types import DEFAULT_TYPE, SECRET_TYPES
from bridge.core.status import due_word, row_state
from bridge.core.text import cell, minute, minute_ago, printable, utc_stamp
from bridge.vault.admin_api import AdminApi, Row
from bridge.vault.errors import NotFound

LS_COLUMNS = (
    "name", "tenant", "type", "status", "checked_at", "check_message", "last_used_at", "uses", "failures", "gateways",
    "rotated_at", "rotate_every", "expires_at", "due", "due_at", "description", "created_at", "updated_at",
)
DEFAULT_DUE_WITHIN = "7d"
"""What `due` calls due unless told: setup.sql's due_window(), which `ls` and doctor use."""
STAMP_COLUMNS = ("checked_at", "last_used_at", "rotated_at", "expires_at", "due_at", "created_at", "updated_at")


def handle_secrets_set(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    if args.keep_value and args.type is None and args.rotate_every is None and args.expires is None and args.description is None:
        raise UsageError("--keep-value changes only what is given: add --type, --rotate-every, --expires or --description")
    value = None if args.keep_value else read_value(ctx, name)
    done, answer = store_secret(ctx, args.tenant, name, value, args.description, args.type, args.rotate_every, args.expires)
    print(f"{done} {name} (Vault id {answer.get('id')}): {describe_policy(answer)}", file=ctx.out)
    return 0


def store_secret(
    ctx: Context, tenant: str, name: str, value: str | None, description: str | None, secret_type: str | None,
    rotate_every: str | None, expires: str | None,
) -> tuple[str, Row]:
    """Store or rotate `name` (value None: change only its description and policy), its value checked against its
    type first; what was done ("stored", "rotated", "updated") and the policy now recorded. The one way both the
    CLI and `bridge ui` change a secret."""
    import datetime as dt

    from bridge.core.policy import policy_meta

    meta = policy_meta(secret_type, rotate_every, expires, dt.datetime.now(dt.UTC))
    target = vault_name(tenant, name)
    with open_client(ctx) as client:
        if value is None:
            if secret_type not in (None, DEFAULT_TYPE):
                # The stored value must fit the new type: read it (an audited read), never shown.
                refuse_shape(name, secret_type, stored_value(client, target, name))
        else:
            refuse_shape(name, secret_type or current_type(client, target), value)
        answer = client.set_secret(target, value, description, meta)
    return ("stored" if answer["created"] else "updated" if value is None else "rotated"), answer


def stored_value(client: AdminApi, target: str, name: str) -> str:
    try:
        return client.get_secret(target)
    except NotFound:
        raise BridgeError(f"no secret named {name} in Vault; store it first: `bridge secrets set {name} < file`") from None


def current_type(client: AdminApi, target: str) -> str:
    """The type recorded for an existing secret, so a new value is checked as what it is; generic when new."""
    rows = [row for row in client.list_status(target) if row.get("name") == target]
    return str(rows[0].get("type") or DEFAULT_TYPE) if rows else DEFAULT_TYPE


def describe_policy(answer: Row) -> str:
    """The type and schedule now recorded, in one line."""
    from bridge.core.durations import format_age

    every = answer.get("rotate_every")
    parts = [f"type {answer.get('type')}", f"rotate every {format_age(every)}" if isinstance(every, int) else "no rotation schedule"]
    if answer.get("expires_at"):
        parts.append(f"expires {minute(answer['expires_at'])}")
    return ", ".join(parts)


def handle_secrets_get(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    out = ctx.out
    with open_client(ctx) as client:
        try:
            value = client.get_secret(vault_name(args.tenant, name))
        except NotFound:
            raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them") from None
    out.write(value + "\n")
    return 0


def status_rows(rows: list[Row], tenant: str | None) -> list[dict[str, object]]:
    """The tenant's rows (every tenant's, with None) as people read them: names without the tenant prefix,
    timestamps in ISO 8601 UTC, and `state`, the word of core.status (`status` stays the recorded test outcome,
    as `--json` has always given it)."""
    secrets = []
    for row in rows:
        owner, name = split_vault_name(str(row.get("name")))
        if tenant is not None and owner != tenant:
            continue
        record: dict[str, object] = {column: row.get(column) for column in LS_COLUMNS}
        record.update({"name": name, "tenant": owner})
        record.update({column: utc_stamp(row.get(column)) for column in STAMP_COLUMNS})
        record["state"] = row_state(record)
        secrets.append(record)
    return secrets


def rollout_report(ctx: Context, tenant: str, name: str) -> dict[str, Any]:
    """{name, changed_at, updated, pending}: which gateways resolved `name` since its last change, and which of
    those seen before it have not. The one reading both `secrets rollout` and `bridge ui` use."""
    with open_client(ctx) as client:
        try:
            report = client.rollout(vault_name(tenant, name))
        except NotFound:
            raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them") from None
    sides = {
        side: [{**g, "resolved_at": utc_stamp(g.get("resolved_at"))} for g in report[side] if isinstance(g, dict)]
        for side in ("updated", "pending")
    }
    return {"name": name, "changed_at": utc_stamp(report.get("changed_at")), **sides}


def delete_secret(ctx: Context, tenant: str, name: str) -> None:
    with open_client(ctx) as client:
        deleted = client.delete_secret(vault_name(tenant, name))
    if not deleted:
        raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them")


def handle_secrets_ls(args: argparse.Namespace, ctx: Context) -> int:
    with open_client(ctx) as client:
        rows = client.list_status(vault_name(args.tenant, args.prefix or "") or None)
    secrets = status_rows(rows, args.tenant)
    if args.json:
        ctx.out.write(json.dumps(secrets, indent=2) + "\n")
        return 0
    render_table(secrets, ctx.out)
    return 0


def handle_secrets_due(args: argparse.Namespace, ctx: Context) -> int:
    from bridge.core.durations import format_age, option_seconds

    now = time.time()
    within = max(1, round(option_seconds("--within", args.within)))
    with open_client(ctx) as client:
        rows = client.list_status(vault_name(args.tenant, "") or None, due_within_s=within, due_only=True)
    secrets = status_rows(rows, args.tenant)
    if args.json:
        ctx.out.write(json.dumps(secrets, indent=2) + "\n")
        return 0
    if not secrets:
        print(f"nothing due within {format_age(within)}", file=ctx.out)
        return 0
    width = max(len(printable(str(s["name"]))) for s in secrets)
    for s in secrets:
        when = {"expired": "expired", "overdue": "overdue since", "due": "due"}[str(s["due"])]
        print(f"{printable(str(s['name'])):<{width}}  {when} {minute_ago(s['due_at'], now)}  ({s['type']}, {s['state']})", file=ctx.out)
    print("fix: give each a new value with `bridge secrets set NAME < file`", file=ctx.out)
    return 0


def handle_secrets_rollout(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    report = rollout_report(ctx, args.tenant, name)
    changed_at = report["changed_at"]
    sides: dict[str, list[dict[str, object]]] = {side: report[side] for side in ("updated", "pending")}
    if args.json:
        ctx.out.write(json.dumps(report, indent=2) + "\n")
        return 0
    now = time.time()
    print(f"{printable(name)} changed at {minute_ago(changed_at, now) or 'an unknown time'}", file=ctx.out)
    for side, said in (("updated", "has it since"), ("pending", "not since; last resolved")):
        for g in sides[side]:
            print(f"  {side:<8} {cell(g.get('via'))} {cell(g.get('gateway'))}  ({said} {minute_ago(g['resolved_at'], now)})", file=ctx.out)
    if not sides["updated"] and not sides["pending"]:
        print("  no gateway resolved it in the 30 days before its change or since", file=ctx.out)
    return 0


def render_table(secrets: list[dict[str, object]], out: TextIO) -> None:
    """The table `secrets ls` prints: the state and due words of core.status, times in the short form of
    core.text, the rotation schedule in days; a cell with nothing to say says so (`never`, `no schedule`)."""
    from bridge.core.durations import format_age

    if not secrets:
        print("no secrets", file=out)
        return
    now = time.time()
    header = ("NAME", "TYPE", "STATUS", "DUE", "LAST USE", "USES", "FAILS", "GW", "ROTATED", "EVERY", "DESCRIPTION")
    rows = [
        (
            printable(str(s["name"])), str(s["type"]), str(s["state"]),
            due_word(s["due"]) + (f" {minute(s['due_at'])}" if due_word(s["due"]) != "not due" and s["due_at"] else ""),
            minute_ago(s["last_used_at"], now) or "never", str(s["uses"] or 0), str(s["failures"] or 0), str(s["gateways"] or 0),
            minute(s["rotated_at"]) or "never",
            format_age(s["rotate_every"]) if isinstance(s["rotate_every"], int) else "no schedule",
            printable(str(s["description"] or "")),
        )
        for s in secrets
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1], file=out)


def handle_secrets_rm(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    if not args.yes:
        if ctx.stdin is None or not ctx.stdin.isatty():
            raise UsageError(f"refusing to delete {name} without confirmation: there is no terminal to ask; pass --yes")
        answer = input(f"delete {name} from Vault? Refs to it stop resolving. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=ctx.out)
            return 1
    delete_secret(ctx, args.tenant, name)
    print(f"deleted {name}", file=ctx.out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    set_parser = add_action(
        actions, "set", "store a secret, or rotate it keeping its Vault id (value on stdin or at a hidden prompt)",
        "bridge secrets set OPENAI_API_KEY --type openai --rotate-every 90d < key.txt", handle_secrets_set,
    )
    set_parser.add_argument("name", metavar="NAME")
    set_parser.add_argument("--description", help="what it is for (kept when omitted)")
    set_parser.add_argument("--type", choices=SECRET_TYPES, help="what the value is; its shape is checked before storing "
                            "(kept when omitted; new secrets are generic)")
    set_parser.add_argument("--rotate-every", metavar="DURATION", help='rotation interval, e.g. "90d", or "never" '
                            "(default by type: 90d for API keys, 180d for gcp-service-account, aws and azure)")
    set_parser.add_argument("--expires", metavar="DATE|DURATION", help='when the value stops working: "2027-03-31", '
                            '"30d" from now, or "never"')
    set_parser.add_argument("--keep-value", action="store_true", help="change type, schedule or description only; "
                            "reads no value")
    get_parser = add_action(actions, "get", "print a secret's value and one newline", "bridge secrets get OPENAI_API_KEY", handle_secrets_get)
    get_parser.add_argument("name", metavar="NAME")
    ls_parser = add_action(
        actions, "ls", "list secrets with type, last test, use in the last 30 days and rotation (never values)",
        "bridge secrets ls OPENAI --json",
        handle_secrets_ls,
    )
    ls_parser.add_argument("prefix", nargs="?", metavar="PREFIX", help="only names starting with this")
    add_json(ls_parser)
    due_parser = add_action(
        actions, "due", "secrets that are expired, overdue or due for rotation soon", "bridge secrets due --within 30d",
        handle_secrets_due,
    )
    due_parser.add_argument("--within", default=DEFAULT_DUE_WITHIN, metavar="DURATION",
                            help=f"how far ahead counts as due (default {DEFAULT_DUE_WITHIN}, as in `ls` and doctor)")
    add_json(due_parser)
    rollout_parser = add_action(
        actions, "rollout", "which gateways have resolved a secret since it last changed, and which not yet",
        "bridge secrets rollout OPENAI_API_KEY --json", handle_secrets_rollout,
    )
    rollout_parser.add_argument("name", metavar="NAME")
    add_json(rollout_parser)
    from bridge.admin.secret_checks import add_test_action

    test_parser = add_test_action(actions)
    rotate_parsers = add_rotate_actions(actions)
    rm_parser = add_action(
        actions, "rm", "delete a secret from Vault (asks first on a terminal)", "bridge secrets rm OLD_KEY --yes", handle_secrets_rm,
    )
    rm_parser.add_argument("name", metavar="NAME")
    rm_parser.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    for action_parser in (set_parser, get_parser, ls_parser, due_parser, rollout_parser, test_parser, rm_parser, *rotate_parsers):
        add_tenant(action_parser)


VERBS = {
    "secrets": Verb(
        "secrets", "store, read, list, test and delete Vault secrets, with their type and rotation (values only via stdin and `get`)",
        "bridge secrets set OPENAI_API_KEY < key.txt", run_action, add_arguments,
    ),
}
