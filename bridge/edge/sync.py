"""One sync of chosen Vault secrets to a project's Edge Function secrets, shared by `bridge edge sync`, `bridge edge
status` and the watcher.

Values are read from Vault (each read audited, under client provider
`edge-sync`), compared with the project's list by digest, and only the names
whose value differs are sent, in one request. The names the bridge manages
per project are recorded in a 0600 file in the data directory before the
request goes out, so a crash after sending never leaves a name the bridge
wrote looking like someone else's; a request the API refuses takes back the
names it would have created. Values exist in memory only.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from bridge.app.context import Context
from bridge.core.credentials import Credentials
from bridge.core.deadline import Deadline
from bridge.core.edge_names import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Entry,
    Step,
    check_project_ref,
    digest,
    expand,
    parse_entry,
    plan,
    project_ref,
    status,
)
from bridge.core.errors import BridgeError, UsageError
from bridge.local.files import FileTooLarge, atomic_write, read_private
from bridge.local.locks import held
from bridge.remote.management import ManagementApi
from bridge.vault.admin_api import AdminApi
from bridge.vault.client import connect
from bridge.vault.errors import NotFound

EDGE_PROVIDER = "edge-sync"
"""client.provider of every Vault read a sync makes, beside the one `edge_sync` row of each write (docs/edge.md)."""
MANAGED_FILE = "edge-managed.json"
LOCK_FILE = "edge-sync.lock"
MAX_MANAGED_BYTES = 256 * 1024
NOT_IN_VAULT = "skipped (not in Vault)"
READ_WORKERS = 8
"""Vault reads in flight at once during a sync: PostgREST serves them side by side."""


Written = dict[str, dict[str, list[str]]]
"""Project ref -> Edge name -> the digests the bridge last wrote (or took as they were) under that name."""


class Managed:
    """Which Edge names the bridge manages, per project, and the digest of the value it last wrote under each.

    The digest is what tells a value the bridge wrote from one someone set since (changed in the dashboard,
    or made anew after a deletion or a crash that left the bridge's write unsent): only the first is ever
    overwritten. The file is 0600 like the credentials beside it; a digest is what the project's own list shows
    to any holder of the access token, and never a value. Version 1 files (names only) are read as names with
    no digest, trusted once and given one at their next sync."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MANAGED_FILE

    def _load(self) -> tuple[dict[str, list[str]], Written]:
        try:
            raw = read_private(self.path, MAX_MANAGED_BYTES)
        except FileTooLarge as exc:
            raise BridgeError(f"{exc}: not the bridge's record of managed Edge secrets; move it away") from None
        if raw is None:
            return {}, {}
        try:
            doc = json.loads(raw)
            projects = {str(ref): [str(n) for n in names] for ref, names in doc["projects"].items()}
            written = {
                str(ref): {str(name): [str(d) for d in digests] for name, digests in names.items()}
                for ref, names in doc.get("written", {}).items()
            }
            if any(isinstance(names, str) for names in doc["projects"].values()):
                raise TypeError
            return projects, written
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            # RecursionError: nested deeper than the parser goes; left in place for the person to look at.
            raise BridgeError(f"{self.path} is not the bridge's record of managed Edge secrets; move it away") from None

    def names(self, ref: str) -> frozenset[str]:
        return frozenset(self._load()[0].get(ref, []))

    def written(self, ref: str) -> dict[str, frozenset[str]]:
        return {name: frozenset(digests) for name, digests in self._load()[1].get(ref, {}).items()}

    def update(self, ref: str, add: Mapping[str, Iterable[str]] | None = None, remove: Iterable[str] = ()) -> None:
        """Each name in `add` managed with exactly those digests; each in `remove` forgotten."""
        projects, written = self._load()
        add = add or {}
        gone = set(remove) - set(add)
        names = (set(projects.get(ref, [])) | set(add)) - gone
        projects[ref] = sorted(names)
        mine = {name: digests for name, digests in written.get(ref, {}).items() if name in names}
        mine.update({name: sorted(set(digests)) for name, digests in add.items()})
        written[ref] = dict(sorted(mine.items()))
        doc = {"version": 2, "projects": projects, "written": written}
        atomic_write(self.path, json.dumps(doc, indent=2).encode() + b"\n")


class Outcome(NamedTuple):
    edge: str
    vault: str
    outcome: str


def choose_ref(given: str | None, configured: str | None, credentials: Credentials | None) -> str:
    """--project-ref, else [edge] project_ref, else the ref in the project URL the bridge is logged in to."""
    if given:
        try:
            return check_project_ref(given, "--project-ref")
        except BridgeError as exc:
            raise UsageError(str(exc)) from None
    ref = configured or (project_ref(credentials.url) if credentials is not None else None)
    if ref is None:
        raise UsageError("no project ref: give --project-ref REF or [edge] project_ref (the logged-in URL is not https://<ref>.supabase.co)")
    return ref


def entries(ctx: Context, names: list[str] | None) -> list[Entry]:
    """`--name` as given (checked here, as argv is), else `[edge] names` as the config already checked them."""
    if not names:
        if not ctx.config.edge.names:
            raise UsageError('no names to sync: give --name NAME, or set [edge] names = ["NAME", "EDGE_NAME=VAULT_NAME"] in config.toml')
        return list(ctx.config.edge.names)
    try:
        return [parse_entry(entry, "--name") for entry in names]
    except BridgeError as exc:
        raise UsageError(str(exc)) from None


def open_vault(credentials: Credentials, deadline: Deadline) -> AdminApi:
    return AdminApi(connect(
        credentials, provider=EDGE_PROVIDER, host=socket.gethostname(), connect_timeout=5.0, read_timeout=20.0,
        deadline=deadline,
    ))


def mapping(vault: AdminApi, chosen: list[Entry], token: bool) -> dict[str, str]:
    """Edge name -> Vault name, globs expanded against the names Vault holds (admin key only)."""
    if any(e.glob for e in chosen):
        if token:
            raise BridgeError("a glob in [edge] names needs the admin key to list Vault's names; list the names instead")
        return expand(chosen, (str(row.get("name")) for row in vault.list_status(None)))
    return expand(chosen, ())


def read_values(vault: AdminApi, names: Iterable[str], token: bool) -> dict[str, str]:
    """Vault name -> value for those that exist and hold text; with a gateway token, one resolve of its names.

    With the admin key each is a `get_secret`, audited as a person's read (`retrieve`): a `resolve` would count
    as a gateway's use of the secret and, from the admin's host, raise a new-host alert. READ_WORKERS run at
    once over the client's pooled connections, so a hundred names cost seconds, not a minute."""
    wanted = sorted(set(names))
    if token:
        return {k: v for k, v in vault.resolve(wanted).items() if isinstance(v, str)}

    def read(name: str) -> tuple[str, str | None]:
        try:
            return name, vault.get_secret(name)
        except NotFound:
            return name, None

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="edge-read") as pool:
        return {name: text for name, text in pool.map(read, wanted) if text is not None}


class Planned(NamedTuple):
    steps: list[Step]
    outcomes: list[Outcome]
    wanted: dict[str, str]
    """Edge name -> digest of Vault's value."""
    remote: dict[str, str]
    """Edge name -> digest the project lists."""


def _planned(
    api: ManagementApi, ref: str, chosen: Mapping[str, str], values: Mapping[str, str], managed: Managed,
) -> Planned:
    present = {edge: vault for edge, vault in chosen.items() if vault in values}
    wanted = {edge: digest(values[vault]) for edge, vault in present.items()}
    remote = api.list_secrets(ref)
    steps = plan(wanted, remote, managed.names(ref), managed.written(ref))
    outcomes = [Outcome(s.edge, chosen[s.edge], s.outcome) for s in steps]
    outcomes += [Outcome(edge, vault, NOT_IN_VAULT) for edge, vault in sorted(chosen.items()) if edge not in present]
    return Planned(steps, sorted(outcomes), wanted, remote)


def sync(
    api: ManagementApi, ref: str, chosen: Mapping[str, str], values: Mapping[str, str], managed: Managed, dry_run: bool,
    record: Callable[[list[str], str | None], None],
) -> list[Outcome]:
    """Send what differs; one Outcome per Edge name in `chosen` (edge -> Vault name). The list, the decision and
    the write happen under one lock, so two syncs (the watcher and a command) never both create a name. Each write
    is one `edge_sync` audit row (`record`: the names sent, and the API's refusal if it refused)."""
    if dry_run:
        return _planned(api, ref, chosen, values, managed).outcomes
    with held(managed.path.with_name(LOCK_FILE)) as mine:
        if not mine:
            raise BridgeError("another edge sync is running (bridge watch or a second command); try again when it ends")
        steps, outcomes, wanted, remote = _planned(api, ref, chosen, values, managed)
        send = {s.edge: values[chosen[s.edge]] for s in steps if s.outcome in (CREATED, UPDATED)}
        created = [s.edge for s in steps if s.outcome == CREATED]
        updated = [s.edge for s in steps if s.outcome == UPDATED]
        # Before the request: a name the project no longer lists is forgotten (deleted in the dashboard, or never
        # created because a crash came mid-request), so whoever makes it next owns it; an update accepts the
        # old digest and the new one, so a crash mid-request leaves the name the bridge's whichever landed.
        gone = [name for name in managed.names(ref) if name not in remote]
        managed.update(ref, add={s.edge: {wanted[s.edge]} | ({remote[s.edge]} if s.outcome == UPDATED else set())
                                 for s in steps if s.outcome in (CREATED, UPDATED, UNCHANGED)}, remove=gone)
        if send:
            try:
                api.set_secrets(ref, send)
            except BridgeError as exc:
                managed.update(ref, add={edge: {remote[edge]} for edge in updated}, remove=created)
                record(sorted(send), str(exc))
                raise
            managed.update(ref, add={edge: {wanted[edge]} for edge in send})
            record(sorted(send), None)
        return outcomes


def audit_recorder(credentials: Credentials, deadline: Deadline, ref: str) -> Callable[[list[str], str | None], None]:
    """How a sync writes its `edge_sync` row: with the project's key; a gateway token may only resolve, so its
    syncs are left to the `retrieve` rows of the values they read."""

    def record(names: list[str], error: str | None) -> None:
        if credentials.token:
            return
        with open_vault(credentials, deadline) as vault:
            vault.record_edge_sync(ref, names, error)

    return record


def edge_status(api: ManagementApi, ref: str, chosen: Mapping[str, str], values: Mapping[str, str], managed: Managed) -> list[Outcome]:
    present = {edge: vault for edge, vault in chosen.items() if vault in values}
    wanted = {edge: digest(values[vault]) for edge, vault in present.items()}
    judged = status(wanted, api.list_secrets(ref), managed.names(ref), managed.written(ref))
    outcomes = [Outcome(edge, chosen[edge], word) for edge, word in judged.items()]
    outcomes += [Outcome(edge, vault, "not in Vault") for edge, vault in chosen.items() if edge not in present]
    return sorted(outcomes)
