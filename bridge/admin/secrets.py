"""`bridge secrets set|get|ls|rm`: manage the Vault secrets the gateway's refs name, without writing SQL.

Values travel only on stdin (or a hidden prompt) and stdout of `get`; never
argv, never stderr, never a listing. `set` on an existing name replaces its
value and keeps its Vault id (a rotation, logged as one).
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from bridge.admin.tenants import add_tenant
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_action, add_json, run_action
from bridge.core.errors import BridgeError, UsageError
from bridge.core.names import in_tenant, name_problem, vault_name
from bridge.core.text import minute, printable
from bridge.vault.errors import NotFound

MAX_VALUE_BYTES = 1024 * 1024
"""OpenClaw's output limit: a larger value could never be resolved."""
LS_COLUMNS = ("name", "description", "created_at", "updated_at", "last_accessed_at", "accesses_30d", "hosts")


def check_name(name: str) -> str:
    """A name a ref can use as its id as it stands (core.names)."""
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(f"secret name {name!r}: {problem}")
    return name


def read_value(ctx: Context, name: str) -> str:
    """The value from a pipe (one trailing newline dropped), or from a hidden prompt on a terminal: never argv."""
    stdin = ctx.stdin
    if stdin is None:
        raise BridgeError(f"stdin is closed: pipe the value of {name} on stdin, or run this in a terminal")
    if stdin.isatty():
        import getpass

        value = getpass.getpass(f"value for {name} (input hidden): ")
    else:
        raw = stdin.buffer.read(MAX_VALUE_BYTES + 2)
        if len(raw) > MAX_VALUE_BYTES + 1:
            raise BridgeError(f"the value on stdin is larger than {MAX_VALUE_BYTES // 1024} KiB; OpenClaw could never receive it")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BridgeError("the value on stdin is not UTF-8 text; Vault stores text") from None
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
    if not value:
        raise BridgeError(f"no value given for {name}: pipe it on stdin (e.g. `bridge secrets set {name} < file`)")
    return value


def handle_secrets_set(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    value = read_value(ctx, name)
    with open_client(ctx) as client:
        secret_id, created = client.set_secret(vault_name(args.tenant, name), value, args.description)
    print(f"{'stored' if created else 'rotated'} {name} (Vault id {secret_id})", file=ctx.out)
    return 0


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


def handle_secrets_ls(args: argparse.Namespace, ctx: Context) -> int:
    out = ctx.out
    with open_client(ctx) as client:
        prefix = vault_name(args.tenant, args.prefix or "")
        rows = client.list_usage(prefix or None)
    secrets = [
        {**{column: row.get(column) for column in LS_COLUMNS}, "name": name}
        for row in rows if (name := in_tenant(args.tenant, str(row.get("name")))) is not None
    ]
    if args.json:
        out.write(json.dumps(secrets, indent=2) + "\n")
        return 0
    render_table(secrets, out)
    return 0


def render_table(secrets: list[dict[str, object]], out: TextIO) -> None:
    if not secrets:
        print("no secrets", file=out)
        return
    header = ("NAME", "UPDATED", "LAST ACCESS", "30D", "HOSTS", "DESCRIPTION")
    rows = [
        (
            printable(str(s["name"])), minute(s["updated_at"]), minute(s["last_accessed_at"]) or "never",
            str(s["accesses_30d"] or 0),
            printable(",".join(str(h) for h in s["hosts"] or [])) if isinstance(s["hosts"], list) else "",
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
    with open_client(ctx) as client:
        deleted = client.delete_secret(vault_name(args.tenant, name))
    if not deleted:
        raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them")
    print(f"deleted {name}", file=ctx.out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="<set|get|ls|rm>", required=True)
    set_parser = add_action(
        actions, "set", "store a secret, or rotate it keeping its Vault id (value on stdin or at a hidden prompt)",
        "bridge secrets set OPENAI_API_KEY --description 'prod key' < key.txt", handle_secrets_set,
    )
    set_parser.add_argument("name", metavar="NAME")
    set_parser.add_argument("--description", help="what it is for (kept when omitted)")
    get_parser = add_action(actions, "get", "print a secret's value and one newline", "bridge secrets get OPENAI_API_KEY", handle_secrets_get)
    get_parser.add_argument("name", metavar="NAME")
    ls_parser = add_action(
        actions, "ls", "list secrets with their use in the last 30 days (never values)", "bridge secrets ls OPENAI --json",
        handle_secrets_ls,
    )
    ls_parser.add_argument("prefix", nargs="?", metavar="PREFIX", help="only names starting with this")
    add_json(ls_parser)
    rm_parser = add_action(
        actions, "rm", "delete a secret from Vault (asks first on a terminal)", "bridge secrets rm OLD_KEY --yes", handle_secrets_rm,
    )
    rm_parser.add_argument("name", metavar="NAME")
    rm_parser.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    for action_parser in (set_parser, get_parser, ls_parser, rm_parser):
        add_tenant(action_parser)


VERBS = {
    "secrets": Verb(
        "secrets", "store, read, list and delete Vault secrets (values only via stdin and `get`)",
        "bridge secrets set OPENAI_API_KEY < key.txt", run_action, add_arguments,
    ),
}
