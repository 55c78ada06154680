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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from bridge.errors import BridgeError, ConfigError, OutputClosed
from bridge.protocol import (
    MAX_REQUEST_BYTES,
    NOT_FOUND,
    IdError,
    Ref,
    Request,
    RequestError,
    Response,
    encode_response,
    is_unicode_text,
    parse_ref,
    parse_request,
    select_value,
)

if TYPE_CHECKING:
    from bridge.cache import CacheFile, Snapshot
    from bridge.config import Config
    from bridge.credentials import Credentials
    from bridge.paths import Paths

RESOLVE_FUNCTION = "resolve_secrets"
ANSWER_MARGIN_S = 0.3
"""Kept back from the deadline for reading the cache and writing the answer."""
WRITE_MARGIN_S = 0.1
"""Kept back from the deadline for encoding and writing an answer forced by the deadline."""


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


def split_answer(names: list[str], result: dict[object, object]) -> tuple[dict[str, str], dict[str, IdError]]:
    """resolve_secrets' answer per requested name: usable values, and values that fail only their own ids.
    Names the server did not return are absent (not found); names nobody asked for are ignored."""
    good: dict[str, str] = {}
    bad: dict[str, IdError] = {}
    for name in names:
        value = result.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            bad[name] = IdError(f"Supabase returned a {type(value).__name__} for {name}, not a string; re-run setup.sql")
        elif not is_unicode_text(value):
            bad[name] = IdError(f"Supabase returned {name} with an unpaired surrogate, which is not text")
        else:
            good[name] = value
    return good, bad


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


@dataclass
class Progress:
    """What the resolve is waiting on, so an answer forced by the deadline can say where the time went."""

    stage: str = "starting"


class VaultFetch:
    """Supabase first (or the cache first within cache_ttl), the cache when Supabase cannot answer."""

    def __init__(
        self, provider: str, env: Mapping[str, str], paths: Paths, config: Config, answer_by: float, progress: Progress
    ) -> None:
        self._provider = provider
        self._env = env
        self._paths = paths
        self._config = config
        self._answer_by = answer_by
        self._progress = progress

    def __call__(self, names: list[str]) -> Fetched:
        from bridge.credentials import find_credentials, lookup_order
        from bridge.deadline import Deadline, TimedOut, run_within
        from bridge.supabase import Rpc, SupabaseUnavailable

        config, paths = self._config, self._paths
        network_by = self._answer_by - ANSWER_MARGIN_S
        self._progress.stage = "looking up credentials"
        found = find_credentials(lookup_order(self._env, paths.sealed_file), Deadline(at=network_by))
        diagnostics = list(found.notes)
        self._progress.stage = "opening the cache"
        cache = self._open_cache(found.credentials, diagnostics)
        now = time.time()

        prefetched: list[tuple[Snapshot, str | None]] = []
        if cache is not None and config.cache_ttl > 0:
            prefetched.append(cache.load(now))
            snapshot = prefetched[0][0]
            ages = {n: now - snapshot.entries[n].fetched_at for n in names if n in snapshot.entries}
            if len(ages) == len(names) and all(age < config.cache_ttl for age in ages.values()):
                return Fetched({n: snapshot.entries[n].value for n in names}, diagnostics=diagnostics)

        rpc = Rpc(
            found.credentials, provider=self._provider, host=socket.gethostname(),
            connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
            deadline=Deadline(at=network_by),
        )

        def load_cache() -> None:
            # While the request is in flight: the cipher import and decryption cost nothing extra then.
            if cache is not None and not prefetched:
                prefetched.append(cache.load(now))

        self._progress.stage = "waiting for Supabase"
        try:
            try:
                result = run_within(
                    network_by - time.monotonic(), lambda: rpc.call(RESOLVE_FUNCTION, {"p_names": names}),
                    RESOLVE_FUNCTION, meanwhile=load_cache,
                )
            except TimedOut:
                raise SupabaseUnavailable(
                    f"Supabase did not answer within the deadline ({config.deadline:g}s, calling {RESOLVE_FUNCTION})"
                ) from None
            if not isinstance(result, dict):
                raise SupabaseUnavailable(f"unexpected answer from {RESOLVE_FUNCTION}; re-run setup.sql to update it")
        except SupabaseUnavailable as exc:
            if cache is None:
                raise
            # run_within ran load_cache before it could fail, so the snapshot is already here.
            fetched = self._from_cache(prefetched[0], names, str(exc), now, config.max_stale)
            fetched.diagnostics[:0] = diagnostics
            return fetched
        good, bad = split_answer(names, result)
        fetched = Fetched({**good, **bad}, diagnostics=diagnostics)
        if cache is not None:
            self._progress.stage = "updating the cache"
            self._remember(cache, prefetched[0], [n for n in names if n not in bad], good, now, fetched)
        return fetched

    def _open_cache(self, credentials: Credentials, diagnostics: list[str]) -> CacheFile | None:
        """The cache for these credentials, or None when it is off; the cache never stops live values."""
        from bridge.cache import CacheFile, remove_cache
        from bridge.errors import IdentityUnavailable
        from bridge.sealed import Identity

        if self._config.max_stale <= 0:
            # Turned off: what an earlier setting left on disk goes too.
            try:
                remove_cache(self._paths.cache_file, wait_until=self._answer_by - ANSWER_MARGIN_S)
            except (BridgeError, OSError) as exc:
                diagnostics.append(f"cache is off (max_stale = 0) but could not be removed: {exc}")
            return None
        try:
            return CacheFile(self._paths.cache_file, credentials, Identity.current())
        except IdentityUnavailable as exc:
            diagnostics.append(f"cache off, live values only: {exc}")
            return None

    def _remember(
        self, cache: CacheFile, seen: tuple[Snapshot, str | None], names: list[str], good: dict[str, str],
        now: float, fetched: Fetched,
    ) -> None:
        from bridge.cache import merge, needs_write

        snapshot, problem = seen
        max_stale = self._config.max_stale
        if problem is None and not needs_write(snapshot, merge(snapshot, names, good, now, max_stale), now):
            # Nothing new to record: skip the lock and a second decryption. Another bridge's newer
            # file is at least as current; at worst the cache misses an entry, never holds a wrong one.
            return
        try:
            diagnostic = cache.update(
                lambda s: merge(s, names, good, now, max_stale), wait_until=self._answer_by - ANSWER_MARGIN_S, now=now
            )
        except (BridgeError, OSError) as exc:
            diagnostic = f"cache not updated: {exc}"
        if diagnostic is not None:
            fetched.diagnostics.append(diagnostic)
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

    problems = check(targets(launcher, paths))
    if problems:
        raise BridgeError(f"refusing to run: {problems[0].line()}")


def read_request(stdin: BinaryIO | None) -> Request:
    if stdin is None:
        raise BridgeError("stdin is closed: OpenClaw writes the request there; run `bridge resolve` as an exec provider")
    try:
        raw = stdin.read(MAX_REQUEST_BYTES + 1)
    except OSError as exc:
        raise BridgeError(f"cannot read the request on stdin ({exc.strerror or type(exc).__name__})") from None
    try:
        return parse_request(raw or b"")
    except RequestError as exc:
        raise BridgeError(str(exc)) from None


def answer_in_time(request: Request, fetch: VaultFetch, progress: Progress, answer_by: float) -> tuple[Response, list[str]]:
    """`answer`, or, if anything at all is still running at the deadline, an error for every id: the gateway
    gets a well-formed answer before it kills the bridge, whatever a store, the server or the disk does."""
    from bridge.deadline import TimedOut, run_within

    try:
        return run_within(answer_by - WRITE_MARGIN_S - time.monotonic(), lambda: answer(request, fetch), "resolve")
    except TimedOut:
        reason = f"no answer within the bridge's deadline while {progress.stage}; run `bridge doctor` to see why"
        return Response(errors={ref_id: IdError(reason) for ref_id in request.ids}), [reason]


def run(
    stdin: BinaryIO | None, stdout: BinaryIO, stderr: TextIO | None, env: Mapping[str, str], launcher: Path,
    started: float,
) -> int:
    from bridge.config import load_config
    from bridge.paths import Paths

    request = read_request(stdin)
    paths = Paths.from_env(env)
    refuse_if_unsafe(paths, launcher)
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        # Every id hears why, as with any failure that concerns the whole batch.
        response, notes = Response(errors={ref_id: IdError(str(exc)) for ref_id in request.ids}), [str(exc)]
    else:
        answer_by = started + config.deadline
        progress = Progress()
        fetch = VaultFetch(request.provider or "exec", env, paths, config, answer_by, progress)
        response, notes = answer_in_time(request, fetch, progress, answer_by)
    body = encode_response(response)
    try:
        stdout.write(body)
        stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        raise OutputClosed("stdout closed before the answer could be written; the gateway stopped reading") from None
    if stderr is not None:
        for note in notes:
            print(f"bridge: {note}", file=stderr)
    return 0


def main(started: float) -> int:
    from bridge.selfcheck import running_launcher

    if sys.stdout is None:
        raise OutputClosed("stdout is closed: there is nowhere to write the answer; run `bridge resolve` as an exec provider")
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    return run(stdin, sys.stdout.buffer, sys.stderr, os.environ, running_launcher(), started)
