"""Every verb, where it lives, and the one parser built from them.

Each verb is declared next to what it does (`VERBS` in its module: name,
help, example, arguments, handler), and this table only says which module to
import, so `bridge resolve` imports its own module and nothing else. Options
shared by several verbs are declared once here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import argparse

    from bridge.cli.context import Context

MODULES = {
    "resolve": "bridge.resolve.command",
    "login": "bridge.admin.login",
    "logout": "bridge.admin.login",
    "secrets": "bridge.admin.secrets",
    "audit": "bridge.admin.audit",
    "migrate": "bridge.migrate.command",
    "tokens": "bridge.admin.tokens",
    "tenants": "bridge.admin.tenants",
    "cache": "bridge.admin.cache",
    "doctor": "bridge.checks.doctor",
    "register": "bridge.openclaw.register",
    "unregister": "bridge.openclaw.register",
}
"""Verb name -> the module whose VERBS holds it; the order is the order of --help."""

EPILOG = """examples:
  bridge login --url https://abcd.supabase.co < keyfile
  echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY"]}' | bridge resolve
"""


class Verb(NamedTuple):
    name: str
    help: str
    example: str
    run: Callable[[argparse.Namespace, Context], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def load(name: str) -> Verb:
    verbs: dict[str, Verb] = importlib.import_module(MODULES[name]).VERBS
    return verbs[name]


def add_provider(parser: argparse.ArgumentParser) -> None:
    from bridge.openclaw.config import DEFAULT_PROVIDER

    parser.add_argument("--provider", default=DEFAULT_PROVIDER, help=f"OpenClaw provider name (default: {DEFAULT_PROVIDER})")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse `type` from a check that raises UsageError: argparse then prints its usage line and exits 2."""

    def convert(raw: str) -> str:
        import argparse

        from bridge.errors import UsageError

        try:
            return check(raw)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__
    return convert


def add_action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, example: str,
    run: Callable[[argparse.Namespace, Context], int],
) -> argparse.ArgumentParser:
    """One action of a verb (`bridge tokens create`), with its help, an example, and the handler run_action calls."""
    import argparse

    parser = actions.add_parser(
        name, help=help_text, description=help_text, epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def run_action(args: argparse.Namespace, ctx: Context) -> int:
    """The handler of a verb with actions (`bridge secrets set`): each action's parser sets its own `run`."""
    code: int = args.run(args, ctx)
    return code


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the change, make none")


def build_parser(version: str) -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="bridge", description="OpenClaw exec secret provider backed by Supabase Vault.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bridge {version}")
    subparsers = parser.add_subparsers(dest="verb", metavar="<verb>")
    for name in MODULES:
        verb = load(name)
        sub = subparsers.add_parser(
            name, help=verb.help, description=verb.help, epilog=f"example:\n  {verb.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        verb.add_arguments(sub)
        sub.set_defaults(handler=verb.run)
    return parser
