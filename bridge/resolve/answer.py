"""The answer to one request, as a pure function of the request and a `fetch` (names -> per-name outcome).

No network, files or clock here: `fetch` is the I/O edge (resolve.fetch), and
tests pass a dict-backed one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.protocol import Request, Response
from bridge.core.refs import NOT_FOUND, IdError, Ref, is_unicode_text, parse_ref, select_value


class Fetched:
    """Per name: the secret, or why there is none. A name that is absent was not found in Vault.

    `reason`: why Supabase was not used (it was unavailable), when it was not. `cached_ages`: names served from
    the cache, with their age in seconds. A plain class, as are the resolve path's other values: importing and
    building dataclasses cost ~20 ms of every cold start.
    """

    __slots__ = ("cached_ages", "diagnostics", "outcomes", "reason")

    def __init__(
        self, outcomes: dict[str, str | IdError], reason: str | None = None,
        cached_ages: dict[str, float] | None = None, diagnostics: list[str] | None = None,
    ) -> None:
        self.outcomes = outcomes
        self.reason = reason
        self.cached_ages = {} if cached_ages is None else cached_ages
        self.diagnostics = [] if diagnostics is None else diagnostics


Fetch = Callable[[list[str]], Fetched]


def split_answer(names: list[str], result: Mapping[str, object]) -> tuple[dict[str, str], dict[str, IdError]]:
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


def answer(request: Request, fetch: Fetch, vault_name: Callable[[str], str] = str) -> tuple[Response, list[str]]:
    """The response for every requested id, and the one-line notes for stderr. `vault_name`: the name in Vault
    of a ref's name (a tenant's, for `bridge run --tenant`); the gateway's names are Vault's as they stand."""
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
        fetched = fetch(list(dict.fromkeys(vault_name(ref.name) for ref in refs)))
    except BridgeError as exc:
        for ref in refs:
            response.errors[ref.id] = IdError(str(exc))
        return response, [str(exc)]
    for ref in refs:
        outcome = fetched.outcomes.get(vault_name(ref.name))
        if outcome is None:
            response.errors[ref.id] = IdError(
                f"no secret named {ref.name} in Vault; add it: bridge secrets set {ref.name}",
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
        served = [ref for ref in refs if vault_name(ref.name) in fetched.cached_ages and ref.id in response.values]
        if served:
            oldest = max(fetched.cached_ages[vault_name(ref.name)] for ref in served)
            notes.append(f"{fetched.reason}; served {len(served)} of {len(refs)} ids from the cache, oldest {format_age(oldest)} old")
        else:
            notes.append(f"{fetched.reason}; no usable cached values")
    return response, notes
