"""Edge Function secrets as the bridge keeps them in step with Vault: which names, and what each sync does.

Pure, so the whole decision (create, update, leave alone, refuse) is tested
without a network: the adapter lists the project's secrets with a digest of
each value, the use case reads Vault, and `plan` says what to send. Values
are compared by SHA-256 of their UTF-8 bytes, the digest the Management API
lists (docs/edge.md cites where that is stated), so nothing is ever read back.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from bridge.core.errors import ConfigError

EDGE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")
"""An environment variable name, which is what an Edge Function reads a secret as."""
RESERVED_PREFIX = "SUPABASE_"
"""Supabase sets these itself and its API refuses to create, change or delete them."""
GLOB_CHARS = frozenset("*?[")
PROJECT_REF = re.compile(r"[a-z0-9]{20}")
"""A Supabase project ref: 20 lowercase letters and digits, the first label of https://<ref>.supabase.co."""

CREATED, UPDATED, UNCHANGED, NOT_MANAGED = "created", "updated", "unchanged", "skipped (not managed)"
CHANGED_ELSEWHERE = "skipped (not managed: its value is not the one the bridge last wrote)"
"""A managed name whose value someone else set since (in the dashboard, or made anew after a deletion or after a
crash that left the bridge's write unsent): theirs from then on."""
IN_STEP, DIFFERS, MISSING, STATUS_NOT_MANAGED = "in step", "differs", "missing", "not managed"
STATUS_CHANGED_ELSEWHERE = "not managed (changed since the bridge wrote it)"


class Entry(NamedTuple):
    """One `[edge] names` entry or `--name`: an Edge name and the Vault name it copies, or a glob over Vault names."""

    edge: str
    vault: str
    glob: bool = False


def parse_entry(raw: str, where: str) -> Entry:
    text = raw.strip()
    edge, sep, vault = text.partition("=")
    edge, vault = edge.strip(), (vault.strip() if sep else edge.strip())
    if any(c in GLOB_CHARS for c in edge):
        if sep:
            raise ConfigError(f"{where}: {text!r}: a glob maps each Vault name to itself; give EDGE_NAME=VAULT_NAME without a glob")
        return Entry(edge, edge, glob=True)
    if not EDGE_NAME.fullmatch(edge):
        raise ConfigError(f"{where}: {edge!r} is not an environment variable name (letters, digits, _; not starting with a digit)")
    if edge.upper().startswith(RESERVED_PREFIX):
        raise ConfigError(f"{where}: {edge!r}: names starting with {RESERVED_PREFIX} are Supabase's own; map it to another name")
    if not vault:
        raise ConfigError(f"{where}: {text!r} has no Vault name after '='")
    return Entry(edge, vault)


def expand(entries: Iterable[Entry], vault_names: Iterable[str]) -> dict[str, str]:
    """Edge name -> Vault name. A glob takes every Vault name it matches that can be an Edge name (others, such
    as a tenant's `T#NAME`, are not environment variable names and are left out)."""
    names = sorted(set(vault_names))
    chosen: dict[str, str] = {}
    for entry in entries:
        if not entry.glob:
            chosen[entry.edge] = entry.vault
            continue
        for name in fnmatch.filter(names, entry.edge):
            if EDGE_NAME.fullmatch(name) and not name.upper().startswith(RESERVED_PREFIX):
                chosen.setdefault(name, name)
    return chosen


def digest(value: str) -> str:
    """What the Management API lists for a value: the lowercase hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_project_ref(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not PROJECT_REF.fullmatch(raw):
        raise ConfigError(f"{where}: a project ref is 20 lowercase letters and digits, as in https://<ref>.supabase.co")
    return raw


def project_ref(url: str) -> str | None:
    """The ref in https://<ref>.supabase.co, or None for any other URL (self-hosted, a test server)."""
    host = urlsplit(url).hostname or ""
    label, _, rest = host.partition(".")
    return label if rest == "supabase.co" and PROJECT_REF.fullmatch(label) else None


class Step(NamedTuple):
    edge: str
    outcome: str
    """created, updated, unchanged or skipped (not managed)."""


def plan(
    wanted: Mapping[str, str], remote: Mapping[str, str], managed: frozenset[str],
    written: Mapping[str, frozenset[str]] | None = None,
) -> list[Step]:
    """What a sync does for each Edge name, given the digest Vault's value has (`wanted`, edge name -> digest),
    the digests the project lists (`remote`), the names the bridge manages and, per managed name, the digests
    the bridge last wrote or took (`written`; a name recorded before digests were, has none and is trusted once).

    A name the project does not have is created. A managed name whose digest is one the bridge wrote is
    updated; with any other digest someone else set it since, and it is left alone. A name the project has with
    the same digest is unchanged (and managed from now on: no value of anyone's is overwritten by taking it).
    A name the project has with another value that the bridge does not manage is left alone."""
    written = written or {}
    steps: list[Step] = []
    for edge in sorted(wanted):
        have = remote.get(edge)
        if have is None:
            outcome = CREATED
        elif have == wanted[edge]:
            outcome = UNCHANGED
        elif edge in managed and (not written.get(edge) or have in written[edge]):
            outcome = UPDATED
        elif edge in managed:
            outcome = CHANGED_ELSEWHERE
        else:
            outcome = NOT_MANAGED
        steps.append(Step(edge, outcome))
    return steps


def status(
    wanted: Mapping[str, str], remote: Mapping[str, str], managed: frozenset[str],
    written: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, str]:
    """`bridge edge status`: each Edge name in step, differing, missing, or the project's own, in the words
    of what a sync would do with it (see plan)."""
    steps = dict(plan(wanted, remote, managed, written))
    words = {CREATED: MISSING, UNCHANGED: IN_STEP, UPDATED: DIFFERS, NOT_MANAGED: STATUS_NOT_MANAGED,
             CHANGED_ELSEWHERE: STATUS_CHANGED_ELSEWHERE}
    return {edge: words[outcome] for edge, outcome in steps.items()}
