"""``bridge <verb>``: the command line the gateway, the installer and people use."""

from __future__ import annotations

import argparse
import sys

from bridge import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

EPILOG = """example:
  echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY"]}' | bridge resolve
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bridge",
        description="OpenClaw exec secret provider backed by Supabase Vault.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bridge {__version__}")
    parser.add_subparsers(dest="verb", metavar="<verb>")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
