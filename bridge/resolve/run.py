"""`bridge run -- CMD`: the same Vault secrets the gateway gets, for any other program, as environment variables.

Every id is resolved in one call, through the same stores, cache, deadline,
tokens and audit as `bridge resolve`; only when every one resolved does the
bridge replace itself with CMD (exec), so the exit status and the signals are
the child's own and no bridge process stays behind holding values. The child
never gets the bridge's own credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO

from bridge.app.verbs import Verb, checked
from bridge.core.errors import EXIT_FAILURE, BridgeError, UsageError
from bridge.core.names import DEFAULT_TENANT, check_tenant, vault_name
from bridge.core.protocol import Request
from bridge.core.refs import IdError
from bridge.core.run_env import (
    MAX_ENV_FILE_BYTES,
    VAR_NAME,
    EnvMapping,
    check_mappings,
    child_environment,
    parse_env_file,
    parse_mapping,
)
from bridge.resolve.command import answer_in_time, refuse_if_unsafe
from bridge.resolve.fetch import Progress, VaultFetch

if TYPE_CHECKING:
    from bridge.app.context import Context

AUDIT_PROVIDER = "run"
"""What the audit log shows as the caller's provider for `bridge run`'s resolves."""


def read_env_file(path: str) -> list[EnvMapping]:
    from pathlib import Path

    from bridge.local.files import FileTooLarge, read_capped

    try:
        raw = read_capped(Path(path), MAX_ENV_FILE_BYTES)
    except FileTooLarge:
        raise UsageError(f"--env-file {path}: larger than {MAX_ENV_FILE_BYTES // 1024} KiB; it should hold VAR=ID lines only") from None
    except OSError as exc:
        raise UsageError(f"--env-file {path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    if raw is None:
        raise UsageError(f"--env-file {path}: cannot read it (No such file or directory)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--env-file {path}: not UTF-8 text; it should hold VAR=ID lines only") from None
    return parse_env_file(text, path)


def check_var(raw: str) -> str:
    if not VAR_NAME.fullmatch(raw):
        raise UsageError(f"--allow-var {raw!r}: not a variable name; e.g. --allow-var PATH")
    return raw


def program(raw: list[str]) -> list[str]:
    command = raw[1:] if raw[:1] == ["--"] else raw
    if not command or not command[0]:
        raise UsageError("give the program to run after --, e.g. bridge run --env GITHUB_TOKEN=GITHUB_PAT -- gh repo list")
    return command


def handle_run(args: argparse.Namespace, ctx: Context) -> int:
    command = program(args.command)
    mappings = [parse_mapping(raw, "--env") for raw in args.env]
    for path in args.env_file:
        mappings.extend(read_env_file(path))
    check_mappings(mappings, args.allow_var)
    tenant = check_tenant(args.tenant)
    refuse_if_unsafe(ctx.paths, ctx.launcher)
    config = ctx.config
    answer_by = ctx.started + config.deadline
    if tenant != DEFAULT_TENANT:
        from bridge.core.deadline import Deadline

        if ctx.credentials(Deadline(at=answer_by)).credentials.token:
            raise UsageError("--tenant goes with the secret key: a gateway token reads only its own tenant, so leave --tenant out")
    request = Request(AUDIT_PROVIDER, tuple(dict.fromkeys(m.ref_id for m in mappings)))
    progress = Progress()
    fetch = VaultFetch(AUDIT_PROVIDER, ctx, config, answer_by, progress, stamps=False)
    response, notes = answer_in_time(request, fetch, progress, answer_by, lambda name: vault_name(tenant, name))
    err = ctx.stderr
    for note in notes:
        say(err, note)
    for mapping in mappings:
        value = response.values.get(mapping.ref_id)
        if value is not None and "\0" in value:
            response.errors[mapping.ref_id] = IdError(f"{mapping.ref_id} holds a NUL byte, which no environment variable can")
    failed = [m for m in mappings if m.ref_id in response.errors]
    if failed:
        for mapping in failed:
            say(err, f"{mapping.var} ({mapping.ref_id}): {response.errors[mapping.ref_id]}")
        say(err, f"{command[0]} was not started: {len(failed)} of {len(mappings)} variable(s) did not resolve")
        return EXIT_FAILURE
    env = child_environment(ctx.env, {m.var: response.values[m.ref_id] for m in mappings}, args.clean_env)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    try:
        os.execvpe(command[0], command, env)
    except OSError as exc:
        where = "" if os.sep in command[0] else " on the child's PATH"
        raise BridgeError(f"cannot run {command[0]}{where} ({exc.strerror or type(exc).__name__})") from None
    raise AssertionError("unreachable: exec returned")  # pragma: no cover - os.execvpe returns only by raising


def say(err: TextIO | None, line: str) -> None:
    if err is not None:
        print(f"bridge run: {line}", file=err, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env", action="append", default=[], metavar="VAR=ID",
        help="give the child VAR, resolved from the Vault id ID (name or name#field); repeatable",
    )
    parser.add_argument(
        "--env-file", action="append", default=[], metavar="FILE",
        help="VAR=ID lines (and # comments) to resolve too: references only, never values",
    )
    parser.add_argument("--clean-env", action="store_true", help="start the child from PATH, HOME, USER, LANG and TERM only")
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help=f"the tenant whose secrets to use (default: {DEFAULT_TENANT})")
    parser.add_argument(
        "--allow-var", action="append", default=[], type=checked(check_var), metavar="VAR",
        help="allow a variable that changes what the child runs or loads (PATH, HOME, LD_*, PYTHON*, NODE_OPTIONS, ...)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]", help="the program to run, after --")


VERBS = {
    "run": Verb(
        "run", "run a program with Vault secrets in its environment (no plaintext env file)",
        "bridge run --env GITHUB_PERSONAL_ACCESS_TOKEN=GITHUB_PAT -- npx -y @modelcontextprotocol/server-github",
        handle_run, add_arguments,
    ),
}
