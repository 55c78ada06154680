"""`bridge resolve`: one request on stdin, one response on stdout, one RPC for every id.

The core, `answer`, is pure: it takes the request and a `fetch` function
(names -> per-name value or error) and never touches the network, files or
the clock. `VaultFetch` is the I/O edge: credentials, the RPC under a hard
deadline, and the last-known-good cache.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

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

if TYPE_CHECKING:
    from bridge.cache import Snapshot
    from bridge.paths import Paths

RESOLVE_FUNCTION = "resolve_secrets"
ANSWER_MARGIN_S = 0.3
"""Kept back from the deadline for reading the cache and writing the answer."""


@dataclass
class Fetched:
    """Per name: the secret, or why there is none. A name that is absent was not found in Vault."""

    outcomes: dict[str, str | IdError]
    reason: str | None = None
    """Why Supabase was not used (it was unavailable), when it was not."""
    cached_ages: dict[str, float] = field(default_factory=dict)
    """Names served from the cache, with their age in seconds."""
    diagnostics: list[str] = field(default_factory=list)


Fetch = Callable[[list[str]], Fetched]


def format_age(seconds: float) -> str:
    """An age in its two largest units: 3d4h, 2h5m, 7m12s, 40s."""
    whole = int(seconds)
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for (unit, size), (small, small_size) in zip(units, units[1:]):
        if whole >= size:
            rest = (whole % size) // small_size
            return f"{whole // size}{unit}{rest}{small}" if rest else f"{whole // size}{unit}"
    return f"{whole}s"


def answer(request: Request, fetch: Fetch) -> tuple[Response, list[str]]:
    """The response for every requested id, and the one-line notes for stderr."""
    response = Response()
    refs: list[Ref] = []
    for ref_id in request.ids:
        try:
            refs.append(parse_ref(ref_id))
        except IdError as exc:
            response.errors[ref_id] = exc
    if not refs:
        return response, []
    try:
        fetched = fetch(list(dict.fromkeys(ref.name for ref in refs)))
    except BridgeError as exc:
        for ref in refs:
            response.errors[ref.id] = IdError(str(exc))
        return response, [str(exc)]
    for ref in refs:
        outcome = fetched.outcomes.get(ref.name)
        if outcome is None:
            response.errors[ref.id] = IdError(
                f"no secret named {ref.name} in Vault; add one under that name "
                f"(Supabase dashboard > Vault, or select public.store_secret('{ref.name}', '<value>'))",
                NOT_FOUND,
            )
        elif isinstance(outcome, IdError):
            response.errors[ref.id] = outcome
        else:
            try:
                response.values[ref.id] = select_value(ref, outcome)
            except IdError as exc:
                response.errors[ref.id] = exc
    notes = list(fetched.diagnostics)
    if fetched.reason is not None:
        served = [ref for ref in refs if ref.name in fetched.cached_ages and ref.id in response.values]
        if served:
            oldest = max(fetched.cached_ages[ref.name] for ref in served)
            notes.append(f"{fetched.reason}; served {len(served)} of {len(refs)} ids from the cache, oldest {format_age(oldest)} old")
        else:
            notes.append(f"{fetched.reason}; no usable cached values")
    return response, notes


def within(seconds: float, call: Callable[[], object], what: str, meanwhile: Callable[[], None] = lambda: None) -> object:
    """Run `call` in a worker thread and stop waiting after `seconds`: a server that accepts and never
    answers, or drips a byte a second past every read timeout, cannot hold the answer back.
    `meanwhile` runs on this thread while the worker waits on the network."""
    from bridge.supabase import SupabaseUnavailable

    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as is
            box["error"] = exc

    ends = time.monotonic() + max(0.0, seconds)
    worker = threading.Thread(target=work, name=what, daemon=True)
    worker.start()
    meanwhile()
    worker.join(max(0.0, ends - time.monotonic()))
    if worker.is_alive():
        raise SupabaseUnavailable(f"Supabase did not answer within the deadline ({seconds:.1f}s left for {what})")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


class VaultFetch:
    """Supabase first (or the cache first within cache_ttl), the cache when Supabase cannot answer."""

    def __init__(self, provider: str, env: Mapping[str, str], paths: Paths, started: float) -> None:
        self._provider = provider
        self._env = env
        self._paths = paths
        self._started = started

    def __call__(self, names: list[str]) -> Fetched:
        from bridge.cache import CacheFile, LockTimeout, merge, needs_write
        from bridge.config import load_config
        from bridge.credentials import find_credentials, lookup_order
        from bridge.sealed import Identity
        from bridge.supabase import Deadline, Rpc, SupabaseUnavailable

        paths = self._paths
        config = load_config(paths.config_file)
        answer_by = self._started + config.deadline
        found = find_credentials(lookup_order(self._env, paths.sealed_file))
        cache = CacheFile(paths.cache_file, found.credentials, Identity.current()) if config.max_stale > 0 else None
        now = time.time()

        prefetched: list[tuple[Snapshot, str | None]] = []
        if cache is not None and config.cache_ttl > 0:
            prefetched.append(cache.load())
            snapshot = prefetched[0][0]
            ages = {n: now - snapshot.entries[n].fetched_at for n in names if n in snapshot.entries}
            if len(ages) == len(names) and all(age < config.cache_ttl for age in ages.values()):
                return Fetched({n: snapshot.entries[n].value for n in names})

        network_by = answer_by - ANSWER_MARGIN_S
        rpc = Rpc(
            found.credentials, provider=self._provider, host=socket.gethostname(),
            connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
            deadline=Deadline(at=network_by),
        )

        def load_cache() -> None:
            # While the request is in flight: the cipher import and decryption cost nothing extra then.
            if cache is not None and not prefetched:
                prefetched.append(cache.load())

        try:
            result = within(
                network_by - time.monotonic(), lambda: rpc.call(RESOLVE_FUNCTION, {"p_names": names}),
                RESOLVE_FUNCTION, meanwhile=load_cache,
            )
            if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
                raise SupabaseUnavailable(f"unexpected answer from {RESOLVE_FUNCTION}; re-run setup.sql to update it")
        except SupabaseUnavailable as exc:
            if cache is None:
                raise
            # within() ran load_cache before it could fail, so the snapshot is already here.
            return self._from_cache(prefetched[0], names, str(exc), now, config.max_stale)
        fetched = Fetched(dict(result))
        if cache is None:
            return fetched
        seen, problem = prefetched[0]
        if problem is None and not needs_write(seen, merge(seen, names, result, now), now):
            # Nothing new to record: skip the lock and a second decryption. Another bridge's newer
            # file is at least as current; at worst the cache misses an entry, never holds a wrong one.
            return fetched
        try:
            diagnostic = cache.update(lambda s: merge(s, names, result, now), wait_until=answer_by - 0.1, now=now)
        except (LockTimeout, OSError) as exc:
            diagnostic = f"cache not updated: {exc}"
        if diagnostic is not None:
            fetched.diagnostics.append(diagnostic)
        return fetched

    @staticmethod
    def _from_cache(
        loaded: tuple[Snapshot, str | None], names: list[str], reason: str, now: float, max_stale: float
    ) -> Fetched:
        snapshot, diagnostic = loaded
        fetched = Fetched({}, reason=reason, diagnostics=[diagnostic] if diagnostic else [])
        for name in names:
            entry = snapshot.entries.get(name)
            if entry is None:
                fetched.outcomes[name] = IdError(f"{reason}; no cached value for {name}")
                continue
            age = max(0.0, now - entry.fetched_at)
            if age > max_stale:
                fetched.outcomes[name] = IdError(
                    f"{reason}; the cached value of {name} is {format_age(age)} old, past max_stale ({format_age(max_stale)})"
                )
                continue
            fetched.outcomes[name] = entry.value
            fetched.cached_ages[name] = age
        return fetched


def refuse_if_unsafe(paths: Paths, launcher: Path) -> None:
    """Fail closed: a bridge whose own files others could change must not hand out secrets."""
    from bridge.selfcheck import check, targets

    problems = check(targets(launcher, paths.config_file, paths.data_dir, paths.sealed_file, paths.cache_file))
    if problems:
        raise BridgeError(f"refusing to run: {problems[0].line()}")


def run(
    stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO, env: Mapping[str, str], launcher: Path, started: float
) -> int:
    from bridge.paths import Paths

    try:
        request = parse_request(stdin.read(MAX_REQUEST_BYTES + 1))
    except RequestError as exc:
        raise BridgeError(str(exc)) from None
    paths = Paths.from_env(env)
    refuse_if_unsafe(paths, launcher)
    response, notes = answer(request, VaultFetch(request.provider or "exec", env, paths, started))
    stdout.write(encode_response(response))
    stdout.flush()
    for note in notes:
        print(f"bridge: {note}", file=stderr)
    return 0


def main(started: float) -> int:
    from bridge.selfcheck import running_launcher

    return run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr, os.environ, running_launcher(), started)
