"""The one exception type the command line turns into a one-line message and an exit code."""

from __future__ import annotations


class BridgeError(Exception):
    """A failure a person can act on. The message is one line, names what went wrong and the fix, and never holds a secret."""

    exit_code = 1
