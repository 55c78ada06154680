"""How a new value reaches the bridge, shared by `secrets set` and `secrets rotate`: from stdin or a hidden prompt,
never argv, and checked against its type's shape before anything is stored."""

from __future__ import annotations

from bridge.app.context import Context
from bridge.core.errors import BridgeError

MAX_VALUE_BYTES = 1024 * 1024
"""OpenClaw's output limit: a larger value could never be resolved."""


def read_value(ctx: Context, name: str) -> str:
    """The value from a pipe (one trailing newline dropped), or from a hidden prompt on a terminal: never argv."""
    stdin = ctx.stdin
    if stdin is None:
        raise BridgeError(f"stdin is closed: pipe the value of {name} on stdin, or run this in a terminal")
    if stdin.isatty():
        import getpass

        value = getpass.getpass(f"value for {name} (input hidden): ")
    else:
        raw = stdin.buffer.read(MAX_VALUE_BYTES + 2)
        if len(raw) > MAX_VALUE_BYTES + 1:
            raise BridgeError(f"the value on stdin is larger than {MAX_VALUE_BYTES // 1024} KiB; OpenClaw could never receive it")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BridgeError("the value on stdin is not UTF-8 text; Vault stores text") from None
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
    if not value:
        raise BridgeError(f"no value given for {name}: pipe it on stdin (e.g. `bridge secrets set {name} < file`)")
    return value


def refuse_shape(name: str, secret_type: str, value: str) -> None:
    from bridge.providers.shapes import check_shape

    problem = check_shape(secret_type, value)
    if problem is not None:
        raise BridgeError(f"refusing to store {name}: {problem}; nothing was changed")
