"""`bridge register` and `bridge unregister`: the provider entry in OpenClaw's config (install.sh runs these)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bridge.app.context import Context
from bridge.app.verbs import Verb, add_dry_run, add_provider
from bridge.openclaw.config import register, unregister


def add_register_arguments(parser: argparse.ArgumentParser) -> None:
    add_provider(parser)
    parser.add_argument("--command", help="absolute launcher path to register (default: this executable)")
    add_dry_run(parser)


def add_unregister_arguments(parser: argparse.ArgumentParser) -> None:
    add_provider(parser)
    add_dry_run(parser)


def handle_register(args: argparse.Namespace, ctx: Context) -> int:
    command = Path(args.command) if args.command else ctx.launcher
    return register(args.provider, command, ctx.env, args.dry_run, ctx.out)


def handle_unregister(args: argparse.Namespace, ctx: Context) -> int:
    return unregister(args.provider, ctx.env, args.dry_run, ctx.out)


VERBS = {
    "register": Verb(
        "register", "register this bridge as an OpenClaw exec secret provider (install.sh runs this)",
        "bridge register --provider supabase --dry-run", handle_register, add_register_arguments,
    ),
    "unregister": Verb(
        "unregister", "remove the provider entry from OpenClaw's config (refs and secrets stay)",
        "bridge unregister --provider supabase",
        handle_unregister, add_unregister_arguments,
    ),
}
