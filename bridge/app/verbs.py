"""How a verb declares itself: its name, help, example, arguments and handler, and the options verbs share.

Each use case declares its verbs (`VERBS` in its module) with these, so the
command line (bridge.cli.registry) can build one parser from them while the
use cases never import the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import argparse

    from bridge.app.context import Context


class Verb(NamedTuple):
    name: str
    help: str
    example: str
    run: Callable[[argparse.Namespace, Context], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def add_provider(parser: argparse.ArgumentParser) -> None:
    from bridge.openclaw.config import DEFAULT_PROVIDER

    parser.add_argument("--provider", default=DEFAULT_PROVIDER, help=f"OpenClaw provider name (default: {DEFAULT_PROVIDER})")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse `type` from a check that raises UsageError: argparse then prints its usage line and exits 2."""

    def convert(raw: str) -> str:
        import argparse

        from bridge.core.errors import UsageError

        try:
            return check(raw)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__
    return convert


def add_actions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Where a verb's actions go; add_action names each in the usage line as people type it."""
    return parser.add_subparsers(dest="action", metavar="<action>", required=True)


def add_action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, example: str,
    run: Callable[[argparse.Namespace, Context], int],
) -> argparse.ArgumentParser:
    """One action of a verb (`bridge tokens create`), with its help, an example, and the handler run_action calls.
    The usage line (`<create|ls|revoke>`) is made from the actions' own names, so it cannot drift from them."""
    import argparse

    parser = actions.add_parser(
        name, help=help_text, description=help_text, epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    actions.metavar = f"<{'|'.join(actions.choices)}>"
    return parser


def run_action(args: argparse.Namespace, ctx: Context) -> int:
    """The handler of a verb with actions (`bridge secrets set`): each action's parser sets its own `run`."""
    code: int = args.run(args, ctx)
    return code


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the change, make none")
