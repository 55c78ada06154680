"""The error tree: every failure a user, the environment or a server can cause, as one line and an exit code.

The command line prints `bridge: <message>` and exits with `exit_code`;
anything outside this tree is a bug, reported as one line too (cli.main).
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class BridgeError(Exception):
    """A failure a person can act on. The message is one line, names what went wrong and the fix, and never holds a secret."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        # Server text and OS messages can carry newlines; the contract is one line on stderr.
        super().__init__(" ".join(message.split()))


class UsageError(BridgeError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


class ConfigError(BridgeError):
    """config.toml is unreadable or holds a value out of range."""


class IdentityUnavailable(BridgeError):
    """This machine has no id to bind the sealed file and the cache to (containers without /etc/machine-id)."""


class OutputClosed(BridgeError):
    """stdout is closed or the reader went away: the answer cannot be delivered."""


def reason(exc: BaseException) -> str:
    """One line for a long-running loop's log: the bridge's own message, an OS error as it is, and for anything
    else its type only, since its text may quote what failed to parse (a webhook URL, a token)."""
    if isinstance(exc, (BridgeError, OSError)):
        return str(exc)
    return f"unexpected {type(exc).__name__} (a bug or a hostile answer; the details are not logged as they may hold a credential)"
