"""`bridge secrets test`: ask each secret's provider whether the stored value still works, and record the answer.

The value is read from Vault (an audited read), sent only to its provider's
endpoint (the public one, or `[providers.<type>] base_url`), and forgotten;
what is shown and stored is the outcome and one redacted line. Several
secrets are tested at once, a few at a time: providers rate-limit, and a
person waits for the slowest one only. Each call to Supabase gets a whole
admin_deadline of its own, and so does each provider: a slow provider can
neither starve the recording of its own result nor the other secrets, and a
secret that cannot be read or recorded is one line of the report, not the
end of it.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import add_action, add_json
from bridge.core.errors import BridgeError, UsageError
from bridge.core.names import check_name, in_tenant, vault_name
from bridge.core.secret_types import DEFAULT_TYPE, OK
from bridge.core.status import state
from bridge.core.text import cell, utc_stamp
from bridge.vault.errors import NotFound

if TYPE_CHECKING:
    from bridge.vault.admin_api import AdminApi, Row

ERROR = "error"
"""Shown, never recorded: the bridge could not read the secret to test it."""
CHANGED = "changed"
"""Shown, never recorded: the value changed while its provider was answering, so the verdict was of the old one."""
MAX_PARALLEL_TESTS = 8
"""Providers tested at once by --all: enough to finish quickly, few enough not to trip a provider's rate limit."""


@dataclass(frozen=True)
class Tested:
    """One secret's outcome, as shown and as --json prints it."""

    name: str
    type: str
    status: str
    checked_at: str | None
    message: str


def handle_secrets_test(args: argparse.Namespace, ctx: Context) -> int:
    if args.all == (args.name is not None):
        raise UsageError("name one secret to test, or pass --all for every typed secret of the tenant")
    # Config and credentials are loaded here, once, before the workers share the context.
    providers, deadline_s = ctx.config.providers, ctx.config.admin_deadline
    with open_client(ctx) as client:
        targets = typed_secrets(client, args.tenant, None if args.all else check_name(args.name))
    progress = ctx.err if (args.json and ctx.err.isatty()) else None
    results: list[Tested] = []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_TESTS, max(1, len(targets)))) as pool:
        futures = [
            pool.submit(test_one, ctx, vault_name(args.tenant, name), name, secret_type, providers.get(secret_type), deadline_s)
            for name, secret_type in targets
        ]
        for done, future in enumerate(as_completed(futures), 1):
            tested = future.result()
            results.append(tested)
            line = f"{cell(tested.name)}  {tested.type}  {state(tested.type, tested.status)}  {cell(tested.message)}"
            if progress is not None:
                print(f"[{done}/{len(targets)}] {line}", file=progress, flush=True)
            elif not args.json:
                print(line, file=ctx.out, flush=True)
    results.sort(key=lambda t: t.name)
    if args.json:
        shown = [asdict(t) for t in results]
        ctx.out.write(json.dumps(shown if args.all else shown[0], indent=2) + "\n")
    elif args.all and not results:
        print("no typed secrets to test: give one a type with `bridge secrets set NAME --type TYPE --keep-value`", file=ctx.out)
    return 0 if all(t.status == OK for t in results) else 1


def test_one(ctx: Context, target: str, name: str, secret_type: str, base_url: str | None, deadline_s: float) -> Tested:
    """Read, test, record: each step within its own deadline; a step that fails is reported, not raised.

    The value is read with its version, and the verdict recorded against that version: a value changed while its
    provider was answering (a rotation meanwhile) gets no verdict of the old one, and the caller is told so.
    """
    from bridge.providers.check import test_secret

    try:
        with open_client(ctx) as client:
            value, version = client.get_secret_version(target)
    except NotFound:
        return Tested(name, secret_type, ERROR, None, f"{name} is no longer in Vault; nothing was tested")
    except BridgeError as exc:
        return Tested(name, secret_type, ERROR, None, f"cannot read it from Supabase: {exc}")
    result = test_secret(secret_type, value, base_url, deadline_s)
    del value
    try:
        with open_client(ctx) as client:
            checked_at = client.record_check(target, result.status, result.message, version)
    except BridgeError as exc:
        return Tested(name, secret_type, result.status, None, f"{result.message}; not recorded: {exc}")
    if checked_at is None:
        return Tested(
            name, secret_type, CHANGED, None,
            f"the value changed while it was being tested, so this {result.status} verdict was of the old value and "
            f"was discarded; the new value is untested: run `bridge secrets test {name}` again",
        )
    return Tested(name, secret_type, result.status, utc_stamp(checked_at), result.message)


def typed_secrets(client: AdminApi, tenant: str, name: str | None) -> list[tuple[str, str]]:
    """(name, type) of the one secret asked for, or of every typed secret of the tenant, from one listing."""
    target = vault_name(tenant, name or "")
    rows: list[Row] = client.list_status(target or None)
    found = [
        (shown, str(row.get("type") or DEFAULT_TYPE))
        for row in rows if (shown := in_tenant(tenant, str(row.get("name")))) is not None
    ]
    if name is None:
        return [(n, t) for n, t in found if t != DEFAULT_TYPE]
    match = [(n, t) for n, t in found if n == name]
    if not match:
        raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them")
    if match[0][1] == DEFAULT_TYPE:
        raise BridgeError(
            f"{name} is a generic secret: there is nothing to test; give it a type with "
            f"`bridge secrets set {name} --type TYPE --keep-value`"
        )
    return match


def add_test_action(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = add_action(
        actions, "test", "make the provider's cheapest authenticated call with the stored value and record the outcome",
        "bridge secrets test OPENAI_API_KEY --json", handle_secrets_test,
    )
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("--all", action="store_true", help="test every typed secret of the tenant")
    add_json(parser)
    return parser
