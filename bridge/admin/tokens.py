"""`bridge tokens create|ls|revoke`: one scoped, revocable token per gateway, instead of the project's secret key.

The token is made here, shown once, and only its SHA-256 goes to the
database, so neither the database nor a dump of it ever holds a token.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_action, add_actions, add_json, checked, run_action
from bridge.core.durations import option_stamp
from bridge.core.errors import BridgeError, UsageError
from bridge.core.keys import TOKEN_PREFIX
from bridge.core.names import DEFAULT_TENANT, check_tenant
from bridge.core.text import minute, parse_stamp, printable

TOKEN_BYTES = 32
"""256 random bits, twice the 128 a token must at least carry."""
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
GLOB = re.compile(r"[A-Za-z0-9._:/*?-]{1,256}")
"""The characters of a ref id, plus * and ?."""
LS_COLUMNS = ("name", "tenant", "allow", "created_at", "expires_at", "last_used_at", "revoked_at")
NO_ALLOW = "(none: create a new token with --allow)"
WILDCARD_ONLY = re.compile(r"[*?]+")
"""A glob of only * and ?, which in tenant default would reach every Vault secret, the bridge's or not."""


def new_token() -> tuple[str, str]:
    """A token and its SHA-256 in hex, which is all the database gets."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token, hashlib.sha256(token.encode()).hexdigest()


def check_token_name(name: str) -> str:
    if not TOKEN_NAME.fullmatch(name):
        raise UsageError(f"token name {name!r}: use a letter or digit, then up to 62 of A-Z a-z 0-9 . _ -")
    return name


def check_glob(glob: str) -> str:
    if not GLOB.fullmatch(glob):
        raise UsageError(f"--allow {glob!r}: a secret name, or a pattern of one with * and ?")
    return glob


def expires_at(raw: str | None, now: float) -> str | None:
    return None if raw is None else option_stamp("--expires", raw, now, 1)


def allow_list(tenant: str, allow: list[str] | None) -> list[str]:
    """The allow-list a new token gets: `*` by default, but tenant default must name its secrets.

    Tenant default holds every plain Vault name, also secrets the bridge never
    stored (a service_role key kept for pg_net), so `*` there would turn a
    gateway token into the project key.
    """
    if tenant != DEFAULT_TENANT:
        return allow or ["*"]
    if not allow or any(WILDCARD_ONLY.fullmatch(glob) for glob in allow):
        raise UsageError(
            f"a token of tenant {DEFAULT_TENANT} must name its secrets (a glob of only * and ? would reach every Vault secret): "
            "pass e.g. --allow OPENAI_API_KEY --allow 'TELEGRAM_*', or use a tenant of its own (--tenant acme)"
        )
    return allow


def mint_token(ctx: Context, tenant: str, name: str, allow: list[str] | None, expires: str | None) -> tuple[str, list[str], str | None]:
    """A new gateway token (only its hash reaches the database), its allow-list and expiry: the one way both
    `tokens create` and `bridge ui` make one. The token is the caller's to show, once."""
    globs = allow_list(tenant, allow)
    token, digest = new_token()
    until_stamp = expires_at(expires, time.time())
    with open_client(ctx) as client:
        client.create_token(tenant, name, digest, globs, until_stamp)
    return token, globs, until_stamp


def token_records(ctx: Context) -> list[dict[str, object]]:
    with open_client(ctx) as client:
        rows = client.list_tokens()
    return [{column: row.get(column) for column in LS_COLUMNS} for row in rows]


def revoke_token(ctx: Context, tenant: str, name: str) -> None:
    with open_client(ctx) as client:
        revoked = client.revoke_token(tenant, name)
    if not revoked:
        raise BridgeError(f"tenant {tenant} has no active token named {name}; `bridge tokens ls` lists them")


def handle_tokens_create(args: argparse.Namespace, ctx: Context) -> int:
    token, allow, until_stamp = mint_token(ctx, args.tenant, args.name, args.allow, args.expires)
    until = f", expires {minute(until_stamp)}" if until_stamp else ""
    print(f"created token {args.name} for tenant {args.tenant} (allow {', '.join(allow)}{until}); it is shown once, here:", file=ctx.out)
    print("on the gateway: bridge login --url URL --publishable-key sb_publishable_... --gateway-token  (paste it there)", file=ctx.out)
    ctx.out.write(token + "\n")
    return 0


def token_state(token: Mapping[str, object], now: float) -> str:
    """`revoked`, `expired` (past expires_at: its next resolve is refused) or `active`: the one word `tokens ls` and
    the dashboard print, so a token the database refuses never reads `active`."""
    if token.get("revoked_at"):
        return "revoked"
    expires = parse_stamp(token.get("expires_at"))
    return "expired" if expires is not None and expires.timestamp() <= now else "active"


def handle_tokens_ls(args: argparse.Namespace, ctx: Context) -> int:
    tokens = token_records(ctx)
    if args.json:
        ctx.out.write(json.dumps(tokens, indent=2) + "\n")
        return 0
    if not tokens:
        print("no gateway tokens; `bridge tokens create NAME --tenant T` makes one", file=ctx.out)
        return 0
    now = time.time()
    print(f"{'TENANT / NAME':<32} {'STATE':<9} {'LAST USED':<20} {'EXPIRES':<20} ALLOW", file=ctx.out)
    for t in tokens:
        state = token_state(t, now)
        who = printable(f"{t['tenant']}/{t['name']}")
        print(
            f"{who:<32} {state:<9} {minute(t['last_used_at']) or 'never':<20} "
            f"{minute(t['expires_at']) or 'never':<20} {allow_shown(t['allow'])}",
            file=ctx.out,
        )
    return 0


def allow_shown(allow: object) -> str:
    """The allow-list as tokens ls prints it; an empty one (a v5 upgrade of a `*` token that never resolved) says so."""
    globs = allow if isinstance(allow, list) else []
    return printable(",".join(map(str, globs))) if globs else NO_ALLOW


def handle_tokens_revoke(args: argparse.Namespace, ctx: Context) -> int:
    revoke_token(ctx, args.tenant, args.name)
    print(f"revoked token {args.name} of tenant {args.tenant}: its next resolve is refused", file=ctx.out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    created = add_action(
        actions, "create", "mint a token for one gateway; printed once, as the last line",
        "bridge tokens create gw-berlin --tenant acme --allow 'OPENAI_*' --expires 90d", handle_tokens_create,
    )
    created.add_argument("name", metavar="NAME", type=checked(check_token_name))
    created.add_argument("--tenant", required=True, type=checked(check_tenant), help=f"whose secrets it resolves (e.g. {DEFAULT_TENANT})")
    created.add_argument("--allow", action="append", metavar="GLOB", type=checked(check_glob),
                         help="a name or pattern (* and ?) it may resolve; repeat for more (default: every name of the tenant; "
                              f"required in tenant {DEFAULT_TENANT}, where * alone is refused)")
    created.add_argument("--expires", metavar="DURATION", help='refused after this long, e.g. "90d"')
    listed = add_action(actions, "ls", "every token: tenant, allow-list, times (never the token)", "bridge tokens ls --json", handle_tokens_ls)
    add_json(listed)
    revoked = add_action(
        actions, "revoke", "refuse a token from its next resolve on", "bridge tokens revoke gw-berlin --tenant acme", handle_tokens_revoke,
    )
    revoked.add_argument("name", metavar="NAME", type=checked(check_token_name))
    revoked.add_argument("--tenant", required=True, type=checked(check_tenant))


VERBS = {
    "tokens": Verb(
        "tokens", "scoped, revocable gateway tokens: a gateway needs no secret key",
        "bridge tokens create gw-berlin --tenant acme --allow 'OPENAI_*' --expires 90d", run_action, add_arguments,
    ),
}
