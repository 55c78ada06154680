"""`bridge resolve`: one request on stdin, one response on stdout, one RPC for every id.

The core, `answer`, is pure: it takes the request and a `fetch` function
(names -> values) and never touches the network, files or the clock.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping
from typing import BinaryIO, TextIO

from bridge.errors import BridgeError
from bridge.protocol import (
    MAX_REQUEST_BYTES,
    NOT_FOUND,
    IdError,
    Ref,
    Request,
    RequestError,
    Response,
    encode_response,
    parse_ref,
    parse_request,
    select_value,
)

RESOLVE_FUNCTION = "resolve_secrets"

Fetch = Callable[[list[str]], Mapping[str, str]]


def answer(request: Request, fetch: Fetch) -> tuple[Response, str | None]:
    """The response for every requested id, and a one-line note when the fetch itself failed."""
    response = Response()
    refs: list[Ref] = []
    for ref_id in request.ids:
        try:
            refs.append(parse_ref(ref_id))
        except IdError as exc:
            response.errors[ref_id] = exc
    if not refs:
        return response, None
    try:
        found = fetch(list(dict.fromkeys(ref.name for ref in refs)))
    except BridgeError as exc:
        for ref in refs:
            response.errors[ref.id] = IdError(str(exc))
        return response, str(exc)
    for ref in refs:
        secret = found.get(ref.name)
        if secret is None:
            response.errors[ref.id] = IdError(
                f"no secret named {ref.name} in Vault; add it with `bridge store {ref.name}`", NOT_FOUND
            )
            continue
        try:
            response.values[ref.id] = select_value(ref, secret)
        except IdError as exc:
            response.errors[ref.id] = exc
    return response, None


def supabase_fetch(provider: str, env: Mapping[str, str]) -> Fetch:
    """Fetch names from Supabase with the credentials and settings found for this user."""

    def fetch(names: list[str]) -> Mapping[str, str]:
        from bridge.config import load_config
        from bridge.credentials import find_credentials, lookup_order
        from bridge.paths import Paths
        from bridge.supabase import Deadline, Rpc, SupabaseUnavailable

        paths = Paths.from_env(env)
        config = load_config(paths.config_file)
        deadline = Deadline.after(config.deadline)
        found = find_credentials(lookup_order(env, paths.sealed_file))
        rpc = Rpc(
            found.credentials, provider=provider, host=socket.gethostname(),
            connect_timeout=config.connect_timeout, read_timeout=config.read_timeout, deadline=deadline,
        )
        try:
            result = rpc.call(RESOLVE_FUNCTION, {"p_names": names})
        finally:
            rpc.close()
        if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
            raise SupabaseUnavailable(f"unexpected answer from {RESOLVE_FUNCTION}; re-run setup.sql to update it")
        return result

    return fetch


def run(stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO, env: Mapping[str, str]) -> int:
    try:
        request = parse_request(stdin.read(MAX_REQUEST_BYTES + 1))
    except RequestError as exc:
        raise BridgeError(str(exc)) from None
    response, note = answer(request, supabase_fetch(request.provider or "exec", env))
    if note is not None:
        print(f"bridge: {note}", file=stderr)
    stdout.write(encode_response(response))
    stdout.flush()
    return 0


def main() -> int:
    return run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr, os.environ)
