"""Every verb, where it lives, and the one parser built from them.

Each verb is declared next to what it does (`VERBS` in its module, with
bridge.app.verbs), and this table only says which module to import, so
`bridge resolve` imports its own module and nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import argparse

    from bridge.app.verbs import Verb

MODULES = {
    "resolve": "bridge.resolve.command",
    "run": "bridge.resolve.run",
    "login": "bridge.admin.login",
    "setup": "bridge.admin.setup",
    "logout": "bridge.admin.login",
    "secrets": "bridge.admin.secrets",
    "audit": "bridge.admin.audit",
    "migrate": "bridge.migrate.command",
    "tokens": "bridge.admin.tokens",
    "tenants": "bridge.admin.tenants",
    "cache": "bridge.admin.cache",
    "doctor": "bridge.checks.doctor",
    "register": "bridge.admin.register",
    "unregister": "bridge.admin.register",
    "watch": "bridge.watch.command",
    "edge": "bridge.edge.command",
    "notify": "bridge.notify.command",
    "ui": "bridge.web.command",
}
"""Verb name -> the module whose VERBS holds it; the order is the order of --help."""

EPILOG = """examples:
  bridge login --url https://abcd.supabase.co < keyfile
  echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY"]}' | bridge resolve
"""


def load(name: str) -> Verb:
    verbs: dict[str, Verb] = importlib.import_module(MODULES[name]).VERBS
    return verbs[name]


def scrubbed(message: str) -> str:
    """An argparse error with anything key- or token-shaped replaced: argparse quotes the offending argument, and
    a token pasted where a flag takes none (`bridge login --access-token sbp_...`) would reach a CI log."""
    from bridge.core.keys import KEY_SHAPES, PROVIDER_KEY_SHAPES, REDACTED

    return KEY_SHAPES.sub(REDACTED, PROVIDER_KEY_SHAPES.sub(REDACTED, message))


def build_parser(version: str, argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for every verb, or, when `argv` starts with a verb, for that verb alone: each verb's module is
    imported to declare it, and a verb such as `bridge run`, which an MCP client spawns at every start, must
    not pay for importing all the others."""
    import argparse
    import sys

    class Parser(argparse.ArgumentParser):
        """Every verb's and action's parser (subparsers take their parent's class): usage errors are scrubbed."""

        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: error: {scrubbed(message)}\n")

    parser = Parser(
        prog="bridge", description="OpenClaw exec secret provider backed by Supabase Vault.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bridge {version}")
    subparsers = parser.add_subparsers(dest="verb", metavar="<verb>")
    chosen = argv[0] if argv and argv[0] in MODULES else None
    for name in [chosen] if chosen else MODULES:
        verb = load(name)
        sub = subparsers.add_parser(
            name, help=verb.help, description=verb.help, epilog=f"example:\n  {verb.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        verb.add_arguments(sub)
        sub.set_defaults(handler=verb.run)
    return parser
