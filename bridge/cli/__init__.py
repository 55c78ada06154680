"""`bridge <verb>`: the command line the gateway, the installer and people use.

Verbs live with what they do and are found through bridge.cli.registry, which
imports only the chosen verb's module, so `bridge resolve` pays for nothing
else. Every failure ends as one line on stderr and an exit code (0 ok,
1 failure, 2 usage); a traceback only with BRIDGE_DEBUG=1, and even then with
known secrets replaced.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

from bridge import __version__
from bridge.core.errors import EXIT_FAILURE, EXIT_USAGE

if TYPE_CHECKING:
    import argparse

    from bridge.app.context import Context


def redact(text: str, env: dict[str, str] | os._Environ[str]) -> str:
    """Replace every credential this process could know of, from any store; used only on the debug path."""
    from bridge.core.credentials import ENV_SECRET_VALUES
    from bridge.core.keys import REDACTED, redact_shapes

    for name in ENV_SECRET_VALUES:
        value = env.get(name)
        if value:
            text = text.replace(value, REDACTED)
    # Keys from the keyring or the sealed file are not in the environment: match their shapes instead.
    return redact_shapes(text)


def dispatch(args: argparse.Namespace | SimpleNamespace, ctx: Context) -> int:
    code: int = args.handler(args, ctx)
    return code


def say(line: str) -> None:
    """One line on stderr, if there is a stderr: print() with a closed stderr would write to stdout instead."""
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


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
        from bridge.resolve.command import VERBS

        args: argparse.Namespace | SimpleNamespace = SimpleNamespace(verb="resolve", handler=VERBS["resolve"].run)
    else:
        from bridge.cli.registry import build_parser

        parser = build_parser(__version__, argv)
        args = parser.parse_args(argv)
        if args.verb is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
    from bridge.app.context import Context
    from bridge.core.errors import BridgeError, OutputClosed

    try:
        code = dispatch(args, Context.from_process(started))
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
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        if os.environ.get("BRIDGE_DEBUG") == "1":
            import traceback

            say(redact("".join(traceback.format_exception(exc)), os.environ))
        say(f"bridge: internal error ({type(exc).__name__}); rerun with BRIDGE_DEBUG=1 for details and report it")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
