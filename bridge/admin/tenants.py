"""Tenants: whose secrets a gateway token reaches, and which Supabase Auth users may see their metadata.

A secret of tenant T lives in Vault as `T#NAME` (`#` never appears in a
name: in a ref it starts a field selector); tenant `default` keeps plain
names, so every secret stored before tenants existed is in it, unchanged.
`bridge tenants add-member|remove-member|ls` manage members.
"""

from __future__ import annotations

import argparse
import json
import uuid

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_action, add_actions, add_json, checked, run_action
from bridge.core.errors import BridgeError, UsageError
from bridge.core.names import DEFAULT_TENANT, check_tenant
from bridge.core.text import cell, printable


def add_tenant(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", default=DEFAULT_TENANT, type=checked(check_tenant),
                        help=f"the tenant the secret belongs to (default: {DEFAULT_TENANT})")


def user_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise UsageError(f"{raw!r} is not a Supabase Auth user id (a UUID, as Authentication > Users shows it)") from None


def handle_tenants_add_member(args: argparse.Namespace, ctx: Context) -> int:
    with open_client(ctx) as client:
        added = client.add_member(args.tenant, args.user_id)
    print(f"{'added' if added else 'already a member:'} {args.user_id} to tenant {args.tenant}", file=ctx.out)
    return 0


def handle_tenants_remove_member(args: argparse.Namespace, ctx: Context) -> int:
    with open_client(ctx) as client:
        removed = client.remove_member(args.tenant, args.user_id)
    if not removed:
        raise BridgeError(f"{args.user_id} is not a member of tenant {args.tenant}; `bridge tenants ls` lists members")
    print(f"removed {args.user_id} from tenant {args.tenant}", file=ctx.out)
    return 0


def handle_tenants_ls(args: argparse.Namespace, ctx: Context) -> int:
    with open_client(ctx) as client:
        rows = client.list_tenants()
    tenants = [{key: row.get(key) for key in ("tenant", "members", "secrets", "tokens", "created_at")} for row in rows]
    if args.json:
        ctx.out.write(json.dumps(tenants, indent=2) + "\n")
        return 0
    names = [printable(str(t["tenant"])) for t in tenants]
    width = max([len("TENANT"), *map(len, names)])
    print(f"{'TENANT':<{width}}  SECRETS  TOKENS  MEMBERS", file=ctx.out)
    for name, t in zip(names, tenants, strict=True):
        members = t["members"] if isinstance(t["members"], list) else []
        print(f"{name:<{width}}  {cell(t['secrets']):>7}  {cell(t['tokens']):>6}  {cell(', '.join(map(str, members)))}", file=ctx.out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    example_user = "3f2c9a4e-1b7d-4c55-9e0a-2d6f8b1c7e90"
    for name, run, help_text in (
        ("add-member", handle_tenants_add_member, "let a Supabase Auth user see the tenant's secret names (never values)"),
        ("remove-member", handle_tenants_remove_member, "take that away again"),
    ):
        sub = add_action(actions, name, help_text, f"bridge tenants {name} acme {example_user}", run)
        sub.add_argument("tenant", metavar="TENANT", type=checked(check_tenant))
        sub.add_argument("user_id", metavar="USER_ID", type=checked(user_id))
    ls_parser = add_action(actions, "ls", "tenants with their members, secrets and active tokens", "bridge tenants ls --json", handle_tenants_ls)
    add_json(ls_parser)


VERBS = {
    "tenants": Verb(
        "tenants", "tenant members: Supabase Auth users who may read their tenant's secret metadata",
        "bridge tenants add-member acme 3f2c9a4e-1b7d-4c55-9e0a-2d6f8b1c7e90", run_action, add_arguments,
    ),
}
