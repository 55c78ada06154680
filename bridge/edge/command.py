"""`bridge edge sync` and `bridge edge status`: chosen Vault secrets copied to a project's Edge Function secrets."""

from __future__ import annotations

import argparse
import json
from typing import NamedTuple

from bridge.app.context import Context
from bridge.app.verbs import Verb, add_action, add_actions, add_dry_run, add_json, run_action
from bridge.core.errors import BridgeError
from bridge.core.text import cell
from bridge.credentials.access_token import find_access_token
from bridge.edge.sync import (
    Managed,
    Outcome,
    audit_recorder,
    choose_ref,
    edge_status,
    entries,
    mapping,
    open_vault,
    read_values,
    sync,
)
from bridge.remote.management import ManagementApi


class EdgeRequest(NamedTuple):
    """What `bridge edge sync|status` was asked, checked once."""

    project_ref: str | None
    names: list[str] | None
    dry_run: bool
    json: bool


def outcomes_for(request: EdgeRequest, ctx: Context, check_only: bool) -> tuple[str, list[Outcome]]:
    """The project and one outcome per chosen name: what the CLI prints and the dashboard's panel shows."""
    found = ctx.credentials()
    ref = choose_ref(request.project_ref, ctx.config.edge.project_ref, found.credentials)
    chosen_entries = entries(ctx, request.names)
    token = find_access_token(ctx.env, ctx.paths.data_dir)
    deadline = ctx.admin_deadline()
    is_token = bool(found.credentials.token)
    with open_vault(found.credentials, deadline) as vault:
        chosen = mapping(vault, chosen_entries, is_token)
        if not chosen:
            raise BridgeError("no Vault secret matches the names given; `bridge secrets ls` lists what Vault holds")
        values = read_values(vault, chosen.values(), is_token)
    api = ManagementApi(ctx.config.edge.api_url, token.token, deadline)
    managed = Managed(ctx.paths.data_dir)
    if check_only:
        return ref, edge_status(api, ref, chosen, values, managed)
    return ref, sync(api, ref, chosen, values, managed, request.dry_run, audit_recorder(found.credentials, deadline, ref))


def run_edge(request: EdgeRequest, ctx: Context, check_only: bool) -> int:
    ref, outcomes = outcomes_for(request, ctx, check_only)
    report(outcomes, ref, request, ctx, check_only)
    return 0


def report(outcomes: list[Outcome], ref: str, request: EdgeRequest, ctx: Context, check_only: bool) -> None:
    key = "status" if check_only else "outcome"
    if request.json:
        doc = {"project_ref": ref, "dry_run": request.dry_run,
               "names": [{"name": o.edge, "vault_name": o.vault, key: o.outcome} for o in outcomes]}
        ctx.out.write(json.dumps(doc, indent=2) + "\n")
        return
    prefix = "would be " if request.dry_run else ""
    for o in outcomes:
        source = "" if o.vault == o.edge else f" (from {cell(o.vault)})"
        shown = f"{prefix}{o.outcome}" if o.outcome in ("created", "updated") else o.outcome
        print(f"{cell(o.edge)}{source}: {shown}", file=ctx.out)


def request_of(args: argparse.Namespace) -> EdgeRequest:
    return EdgeRequest(args.project_ref, args.name or None, bool(getattr(args, "dry_run", False)), args.json)


def handle_sync(args: argparse.Namespace, ctx: Context) -> int:
    return run_edge(request_of(args), ctx, check_only=False)


def handle_status(args: argparse.Namespace, ctx: Context) -> int:
    return run_edge(request_of(args), ctx, check_only=True)


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-ref", metavar="REF", help="the project (default: from SUPABASE_URL or the login, https://<ref>.supabase.co)")
    parser.add_argument("--name", action="append", metavar="NAME_OR_GLOB",
                        help="an Edge name, EDGE_NAME=VAULT_NAME, or a glob over Vault names; repeatable (default: [edge] names)")
    add_json(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    sync_parser = add_action(actions, "sync", "copy the chosen Vault secrets whose value differs to the project's Edge Function secrets",
                             "bridge edge sync --name OPENAI_API_KEY --dry-run", handle_sync)
    add_common(sync_parser)
    add_dry_run(sync_parser)
    status_parser = add_action(actions, "status", "each chosen name: in step, differs, missing or not managed",
                               "bridge edge status --json", handle_status)
    add_common(status_parser)


VERBS = {
    "edge": Verb(
        "edge", "keep the project's Edge Function secrets in step with Vault (sync, status)",
        "bridge edge sync --dry-run\n  bridge edge status --json", run_action, add_arguments,
    ),
}
