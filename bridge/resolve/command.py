"""`bridge resolve`: one request on stdin, one response on stdout, one RPC for every id.

The gateway spawns this at every start and reload and kills it after
timeoutMs, so it imports only what a resolve needs and answers, whatever
happens, before its deadline.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from bridge.app.verbs import Verb
from bridge.core.errors import BridgeError, ConfigError, OutputClosed
from bridge.core.limits import MAX_REQUEST_BYTES
from bridge.core.protocol import Request, RequestError, Response, encode_response, parse_request
from bridge.core.refs import IdError
from bridge.resolve.answer import answer
from bridge.resolve.fetch import Progress, VaultFetch

if TYPE_CHECKING:
    from collections.abc import Callable

    from bridge.app.context import Context
    from bridge.local.paths import Paths

WRITE_MARGIN_S = 0.1
"""Kept back from the deadline for encoding and writing an answer forced by the deadline."""


def refuse_if_unsafe(paths: Paths, launcher: Path) -> None:
    """Fail closed: a bridge whose own files others could change must not hand out secrets."""
    from bridge.local.selfcheck import check, targets

    problems = check(targets(launcher, paths))
    if problems:
        raise BridgeError(f"refusing to run: {problems[0].line()}")


def read_request(stdin: BinaryIO | None, answer_by: float) -> Request:
    """The request, read before the deadline: a gateway (or a person) that never closes stdin cannot hold the
    bridge past its kill."""
    from bridge.core.deadline import TimedOut, run_within

    if stdin is None:
        raise BridgeError("stdin is closed: OpenClaw writes the request there; run `bridge resolve` as an exec provider")
    try:
        raw = run_within(answer_by - WRITE_MARGIN_S - time.monotonic(), lambda: read_stdin_capped(stdin), "stdin")
    except TimedOut:
        raise BridgeError("no complete request on stdin before the deadline: the writer must close stdin after the request") from None
    except OSError as exc:
        raise BridgeError(f"cannot read the request on stdin ({exc.strerror or type(exc).__name__})") from None
    try:
        return parse_request(raw or b"")
    except RequestError as exc:
        raise BridgeError(str(exc)) from None


def read_stdin_capped(stdin: BinaryIO) -> bytes:
    """Up to MAX_REQUEST_BYTES + 1 from the file descriptor itself: a reader left blocked at the deadline must not
    hold the buffered stdin's lock, which the interpreter takes again at exit (a fatal error, not a line)."""
    import io

    try:
        fd = stdin.fileno()
    except (io.UnsupportedOperation, AttributeError):
        return stdin.read(MAX_REQUEST_BYTES + 1)
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_REQUEST_BYTES:
        chunk = os.read(fd, MAX_REQUEST_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def answer_in_time(
    request: Request, fetch: VaultFetch, progress: Progress, answer_by: float, vault_name: Callable[[str], str] = str,
) -> tuple[Response, list[str]]:
    """`answer`, or, if anything at all is still running at the deadline, an error for every id: the gateway
    gets a well-formed answer before it kills the bridge, whatever a store, the server or the disk does."""
    from bridge.core.deadline import TimedOut, run_within

    try:
        return run_within(answer_by - WRITE_MARGIN_S - time.monotonic(), lambda: answer(request, fetch, vault_name), "resolve")
    except TimedOut:
        reason = f"no answer within the bridge's deadline while {progress.stage}; run `bridge doctor` to see why"
        return Response(errors={ref_id: IdError(reason) for ref_id in request.ids}), [reason]


def run(ctx: Context, stdout: BinaryIO) -> int:
    """Paths, config and credentials come from the context, each loaded once; an invalid config is still answered
    per id, so the gateway's log says why, and the request is read within the default deadline then."""
    from bridge.local.config import Config

    refuse_if_unsafe(ctx.paths, ctx.launcher)
    try:
        config: Config | None = ctx.config
    except ConfigError as exc:
        config, problem = None, str(exc)
    answer_by = ctx.started + (config or Config()).deadline
    request = read_request(ctx.binary_stdin(), answer_by)
    if config is None:
        response, notes = Response(errors={ref_id: IdError(problem) for ref_id in request.ids}), [problem]
    else:
        progress = Progress()
        fetch = VaultFetch(request.provider or "exec", ctx, config, answer_by, progress, stamps=True)
        response, notes = answer_in_time(request, fetch, progress, answer_by)
    body = encode_response(response)
    try:
        stdout.write(body)
        stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        raise OutputClosed("stdout closed before the answer could be written; the gateway stopped reading") from None
    if ctx.stderr is not None:
        for note in notes:
            print(f"bridge: {note}", file=ctx.stderr)
    return 0


def handle_resolve(args: object, ctx: Context) -> int:
    if ctx.stdout is None:
        raise OutputClosed("stdout is closed: there is nowhere to write the answer; run `bridge resolve` as an exec provider")
    return run(ctx, ctx.stdout.buffer)


VERBS = {
    "resolve": Verb(
        "resolve", "answer one OpenClaw exec provider request (stdin -> stdout)",
        """echo '{"protocolVersion":1,"provider":"supabase","ids":["OPENAI_API_KEY","gcp#private_key"]}' | bridge resolve""",
        handle_resolve,
    ),
}
