"""`bridge <verb>`: the command line the gateway, the installer and people use.

Each verb imports its module only when chosen, so `bridge resolve` pays for
nothing else. Every failure ends as one line on stderr and an exit code
(0 ok, 1 failure, 2 usage); a traceback only with BRIDGE_DEBUG=1, and even
then with known secrets replaced.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

from bridge import __version__
from bridge.errors import EXIT_FAILURE, EXIT_USAGE

if TYPE_CHECKING:
    import argparse


EPILOG = """examples:
  bridge login --url https://abcd.supabase.co < keyfile
  echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY"]}' | bridge resolve
"""


def build_parser() -> "argparse.ArgumentParser":
    import argparse

    parser = argparse.ArgumentParser(
        prog="bridge",
        description="OpenClaw exec secret provider backed by Supabase Vault.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bridge {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="<verb>")

    def verb(name: str, help_text: str, example: str) -> "argparse.ArgumentParser":
        return verbs.add_parser(
            name, help=help_text, description=help_text, epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    verb(
        "resolve", "answer one OpenClaw exec provider request (stdin -> stdout)",
        """echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY","gcp#private_key"]}' | bridge resolve""",
    )
    login = verb(
        "login", "check a Supabase URL and key and store them (keyring, else sealed file)",
        "bridge login --url https://abcd.supabase.co   # then paste the key at the hidden prompt",
    )
    login.add_argument("--url", required=True, help="project URL, https://<project-ref>.supabase.co")
    login.add_argument("--store", choices=("keyring", "file"), help="force where the credentials go")
    verb("logout", "erase stored credentials from the keyring and the sealed file", "bridge logout")
    cache = verb(
        "cache", "show or empty the last-known-good cache (never shows values)",
        "bridge cache status --json",
    )
    cache_verbs = cache.add_subparsers(dest="cache_verb", metavar="<status|clear>", required=True)
    cache_status = cache_verbs.add_parser(
        "status", help="cached ids with their age and source", epilog="example:\n  bridge cache status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache_status.add_argument("--json", action="store_true", help="machine-readable output")
    cache_clear = cache_verbs.add_parser(
        "clear", help="forget the given ids, or everything", epilog="example:\n  bridge cache clear OPENAI_API_KEY",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache_clear.add_argument("ids", nargs="*", metavar="ID", help="ids to forget (default: all)")
    doctor = verb("doctor", "check install, permissions, OpenClaw registration, credentials, Supabase and cache", "bridge doctor --json")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.add_argument("--provider", default="supabase", help="OpenClaw provider name (default: supabase)")
    register = verb(
        "register", "register this bridge as an OpenClaw exec secret provider (install.sh runs this)",
        "bridge register --provider supabase --dry-run",
    )
    register.add_argument("--provider", default="supabase", help="OpenClaw provider name (default: supabase)")
    register.add_argument("--command", help="absolute launcher path to register (default: this executable)")
    register.add_argument("--dry-run", action="store_true", help="print the change, make none")
    unregister = verb(
        "unregister", "remove the provider entry from OpenClaw's config (refs and secrets stay)",
        "bridge unregister --provider supabase",
    )
    unregister.add_argument("--provider", default="supabase", help="OpenClaw provider name (default: supabase)")
    unregister.add_argument("--dry-run", action="store_true", help="print the change, make none")
    return parser


def redact(text: str, env: dict[str, str] | os._Environ[str]) -> str:
    """Replace every credential this process could know of, from any store; used only on the debug path."""
    import re

    for name in ("SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY"):
        value = env.get(name)
        if value:
            text = text.replace(value, "[REDACTED]")
    # Keys from the keyring or the sealed file are not in the environment: match their formats instead.
    return re.sub(r"sb_secret_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", "[REDACTED]", text)


def dispatch(args: "argparse.Namespace | SimpleNamespace", started: float) -> int:
    if args.verb == "resolve":
        from bridge.resolve import main as resolve_main

        return resolve_main(started)
    if args.verb == "login":
        from bridge.login import main_login

        return main_login(args.url, args.store)
    if args.verb == "logout":
        from bridge.login import main_logout

        return main_logout()
    if args.verb == "doctor":
        from bridge.doctor import main as doctor_main

        return doctor_main(args.json, args.provider)
    if args.verb == "register":
        from bridge.openclaw_config import main_register

        return main_register(args.provider, args.command, args.dry_run)
    if args.verb == "unregister":
        from bridge.openclaw_config import main_unregister

        return main_unregister(args.provider, args.dry_run)
    if args.verb == "cache":
        from bridge import cache_admin

        return cache_admin.main_status(args.json) if args.cache_verb == "status" else cache_admin.main_clear(args.ids)
    raise AssertionError(args.verb)


def say(line: str) -> None:
    """One line on stderr, if there is a stderr: print() with a closed stderr would write to stdout instead."""
    if sys.stderr is None:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def silence_stdout() -> None:
    """Point fd 1 at /dev/null once its reader is gone, so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["resolve"]:
        # The gateway's call, at every start and reload: it takes no options, so skip argparse (~6 ms).
        args: argparse.Namespace | SimpleNamespace = SimpleNamespace(verb="resolve")
    else:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.verb is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
    from bridge.errors import BridgeError, OutputClosed

    try:
        code = dispatch(args, started)
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except BridgeError as exc:
        if isinstance(exc, OutputClosed):
            silence_stdout()
        say(f"bridge: {exc}")
        return exc.exit_code
    except BrokenPipeError:
        silence_stdout()
        say("bridge: stdout closed before the output was written")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        say("bridge: interrupted")
        return 130
    except OSError as exc:
        # The environment, not the bridge: a file or directory it may not use. Name it and what the OS said.
        where = f" ({exc.filename})" if exc.filename else ""
        say(f"bridge: {exc.strerror or type(exc).__name__}{where}; check that path's owner and permissions")
        return EXIT_FAILURE
    except BaseException as exc:  # noqa: BLE001 - the last line of defence, native (pyo3) panics included
        if isinstance(exc, SystemExit):
            raise
        if os.environ.get("BRIDGE_DEBUG") == "1":
            import traceback

            say(redact("".join(traceback.format_exception(exc)), os.environ))
        say(f"bridge: internal error ({type(exc).__name__}); rerun with BRIDGE_DEBUG=1 for details and report it")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
