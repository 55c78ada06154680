"""`bridge migrate`: every plaintext credential of an OpenClaw install into Vault, and no plaintext copy left.

In order, each step only once every step before it has succeeded:
1. find (OpenClaw's audit, file-provider refs, `.env`), name, and check Vault for conflicts;
2. store each value in Vault and read every one back equal;
3. `openclaw secrets apply --dry-run --allow-exec`: OpenClaw resolves every new ref through the bridge;
4. apply for real, then audit: every ref resolves, else every file is restored from memory;
5. remove what apply leaves behind (backups, `.env` lines, the shared auth store, file-provider entries).
Values live only in memory; the plan file and the journal (what is left to clean up, for a run that is
killed midway) hold refs only. A value that also sits inside a longer string stops the run before
anything changes, unless --keep-embedded says to leave those strings as they are.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_dry_run, add_json, add_provider, checked
from bridge.core.errors import BridgeError, UsageError
from bridge.core.limits import MAX_IDS
from bridge.core.refs import SELECTOR_SEPARATOR
from bridge.core.run_env import VAR_NAME
from bridge.local.files import atomic_write
from bridge.migrate import journal
from bridge.migrate.cleanup import Cleanup, Embedded, embedded_in, plan_cleanup
from bridge.migrate.discover import discover, expand
from bridge.migrate.mcp import McpRequest, migrate_mcp, store_and_verify
from bridge.migrate.mcp_plan import McpPlan
from bridge.migrate.openclaw_mcp import OpenClawMcp, plan_openclaw_mcp, rewrite_servers, scrub_backups
from bridge.migrate.places import ENV, FILE_REF, Found, Move
from bridge.migrate.plan import MigrationPlan, build_plan
from bridge.migrate.snapshot import Snapshot
from bridge.openclaw.config import check_provider_name, config_path, env_names_used, providers, read_config, refs_to
from bridge.openclaw.runner import find_openclaw
from bridge.openclaw.secrets_cli import apply_plan, audit, unresolved

MAX_NAMES_PER_CALL = MAX_IDS
"""resolve_secrets takes as many names per call as a gateway may request."""
NEXT_STEP = "next: `openclaw secrets reload` for a running gateway, or restart it"


def fetch_values(ctx: Context, names: list[str]) -> dict[str, object]:
    """What Vault holds under these names, in calls of at most MAX_NAMES_PER_CALL."""
    found: dict[str, object] = {}
    if not names:
        return found
    with open_client(ctx) as client:
        for start in range(0, len(names), MAX_NAMES_PER_CALL):
            found.update(client.resolve(names[start : start + MAX_NAMES_PER_CALL]))
    return found


def store_all(ctx: Context, moves: list[Move], existing: Mapping[str, object]) -> None:
    """Each value not yet in Vault under its name, then every one read back and compared."""
    with open_client(ctx) as client:
        for move in moves:
            if existing.get(move.name) != move.value:
                client.set_secret(move.name, move.value, f"moved by bridge migrate from {move.places[0].label()}"[:500])
    back = fetch_values(ctx, [m.name for m in moves])
    wrong = [m.name for m in moves if back.get(m.name) != m.value]
    if wrong:
        raise BridgeError(
            f"Vault read back a different value for {', '.join(wrong)}; no OpenClaw file was changed. "
            "Check for a concurrent `bridge secrets set`, then run migrate again"
        )


def status_of(move: Move, existing: Mapping[str, object]) -> str:
    if move.name not in existing:
        return "new"
    return "in Vault" if existing[move.name] == move.value else "CONFLICT"


def confirm(ctx: Context, count: int) -> None:
    stdin = ctx.stdin
    if stdin is None or not stdin.isatty():
        raise UsageError("refusing to migrate without confirmation: there is no terminal to ask; check --dry-run, then pass --yes")
    answer = input(f"move {count} value(s) into Vault and rewrite the files above? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise BridgeError("nothing changed")


def apply_with_rollback(
    openclaw: str, env: Mapping[str, str], plan: MigrationPlan, config_file: Path, watched: list[Path]
) -> list[str]:
    """Dry run, then the real apply; if either fails, or OpenClaw cannot then resolve every ref, every watched
    file goes back to the bytes it had before the dry run."""
    snapshot = Snapshot.take(config_file, watched)
    with tempfile.TemporaryDirectory(prefix="bridge-migrate-") as scratch:
        plan_file = Path(scratch) / "plan.json"
        atomic_write(plan_file, json.dumps(plan.for_openclaw(), indent=2).encode())
        try:
            dry = apply_plan(openclaw, env, plan_file, dry_run=True)
            checks = dry.get("checks")
            if not isinstance(checks, dict) or not (checks.get("resolvability") and checks.get("resolvabilityComplete")):
                raise BridgeError("OpenClaw could not resolve every new ref through the bridge in a dry run (`bridge doctor` says why)")
            result = apply_plan(openclaw, env, plan_file, dry_run=False)
            missing = unresolved(audit(openclaw, env, allow_exec=True))
            if missing:
                raise BridgeError(f"after apply, OpenClaw cannot resolve {', '.join(missing[:5])}")
        except BaseException as exc:  # noqa: BLE001 - an interrupt too: the files go back whatever stopped the apply
            # Even a dry run writes OpenClaw's own bookkeeping into its state database: that goes back too.
            snapshot.restore()
            reason = str(exc) if isinstance(exc, BridgeError) else type(exc).__name__
            raise BridgeError(f"{reason}; every OpenClaw file was restored as it was (the values stay in Vault)") from None
    return [str(path) for path in result.get("changedFiles") or []]


def refuse_linked_config(config_file: Path) -> None:
    """OpenClaw's apply writes openclaw.json by renaming a new file over it: a symlink there becomes a regular
    file and the file it pointed at keeps every plaintext value. Refused before anything changes."""
    if config_file.is_symlink():
        target = config_file.resolve()
        raise BridgeError(
            f"{config_file} is a symlink to {target}; OpenClaw's apply would replace the link with a new file and leave "
            f"the plaintext in {target}: replace the link by its target (mv {target} {config_file}) and run migrate again"
        )


def resumable(recorded: journal.Journal | None, config_file: Path, provider: str, refs: set[str]) -> list[journal.Entry]:
    """The entries of an earlier, unfinished run whose names the config now refers to through the provider: OpenClaw
    no longer needs their plaintext, so what that run had planned to clean up is finished now."""
    if recorded is None:
        return []
    if (recorded.config, recorded.provider) != (str(config_file), provider):
        raise BridgeError(
            f"an unfinished migration of {recorded.config} (provider {recorded.provider!r}) is recorded; run migrate with "
            f"OPENCLAW_CONFIG_PATH={recorded.config} --provider {recorded.provider} to finish it first"
        )
    return [entry for entry in recorded.entries if entry.name in refs]


@dataclass(frozen=True)
class MigrateRequest:
    """What the command line asked for, checked once."""

    provider: str
    dry_run: bool
    yes: bool
    keep_embedded: bool
    as_json: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> MigrateRequest:
        return cls(check_provider_name(args.provider), args.dry_run, args.yes, args.keep_embedded, args.json)


@dataclass
class Migration:
    """Everything decided before any change: where each value is, its Vault name, what Vault holds, what the
    clean-up will edit, and what an unfinished earlier run left to do. Values live here in memory only."""

    openclaw: str
    env: Mapping[str, str]
    provider: str
    config_file: Path
    journal_file: Path
    plan: MigrationPlan
    existing: dict[str, object]
    refs: set[str]
    resumed: list[Move]
    env_files: list[Path]
    env_in_use: set[str] = field(default_factory=set)
    """Variables openclaw.json reads through `${NAME}` or an env ref: their `.env` lines stay."""
    embedded: list[Embedded] = field(default_factory=list)
    cleanup: Cleanup = field(default_factory=lambda: Cleanup([]))
    mcp: OpenClawMcp = field(default_factory=lambda: OpenClawMcp([], McpPlan([], {}, [], {}, [])))
    """OpenClaw's own MCP servers: acpx credentials are in `plan`; `mcp.servers` ones start through bridge run."""

    @property
    def cleanup_moves(self) -> list[Move]:
        return [*self.plan.moves, *self.resumed]

    @property
    def conflicts(self) -> list[str]:
        """Names Vault holds with another value, and names this run would give two different values."""
        moved = {m.name: m.value for m in self.plan.moves}
        servers = self.mcp.servers.values_by_name()
        held = [m.name for m in self.plan.moves if status_of(m, self.existing) == "CONFLICT"]
        held += [n for n, v in servers.items() if n in self.existing and self.existing[n] != v]
        held += [n for n, v in servers.items() if n in moved and moved[n] != v]
        return sorted(set(held))

    def cleanup_values(self) -> dict[str, str]:
        """Every value now in Vault that a file may still hold: this run's, and those of refs already in place."""
        values = {value: name for name, value in self.existing.items() if isinstance(value, str) and value and name in self.refs}
        values.update({m.value: m.name for m in self.cleanup_moves})
        return values

    def env_moved(self) -> dict[str, str]:
        """`.env` names whose value is in Vault now: this run's and an unfinished run's, and names the config refers
        to; each is removed only where the file still gives it that same value.

        A move's own name counts even when discovery did not place the value in `.env` (a bot token found as
        `channels.telegram.botToken`, with `TELEGRAM_BOT_TOKEN` beside it): once apply has run, the config refers
        to that name, and the line would otherwise survive until the next run."""
        names = {name: value for name, value in self.existing.items() if isinstance(value, str) and value and name in self.refs}
        names.update({m.name: m.value for m in self.cleanup_moves})
        names.update({p.path[0]: m.value for m in self.cleanup_moves for p in m.places if p.kind == ENV})
        return {name: value for name, value in names.items() if name not in self.env_in_use}

    def planned_cleanup(self) -> Cleanup:
        """Planned from the files as they are now: after apply, that includes the backups it has just written."""
        return plan_cleanup(
            self.config_file, self.env_files, self.cleanup_moves, self.cleanup_values(), self.env_moved(), self.provider,
        )


@dataclass(frozen=True)
class Outcome:
    """How the run ended, for the report: one of STATUSES, the files it changed, what OpenClaw's audit still says."""

    status: str
    changed: list[str] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)


STATUSES = ("dry-run", "refused", "nothing-to-migrate", "migrated")


def find_tools(request: MigrateRequest, env: Mapping[str, str]) -> tuple[str, Path, dict[str, Any]]:
    """OpenClaw's CLI, its config file and the config, with the provider registered; refused before any change."""
    openclaw = find_openclaw(env)
    if openclaw is None:
        raise BridgeError(
            "`openclaw` is not on PATH: migrate works through OpenClaw's own `secrets audit` and `secrets apply`; "
            "install it (npm install -g openclaw) or add its directory to PATH"
        )
    config_file = config_path(env)
    refuse_linked_config(config_file)
    config = read_config(config_file)
    if config is None:
        raise BridgeError(f"no OpenClaw config at {config_file}; run `openclaw setup` first, or set OPENCLAW_CONFIG_PATH")
    entry = providers(config).get(request.provider)
    if not isinstance(entry, dict) or entry.get("source") != "exec":
        raise BridgeError(
            f"provider {request.provider!r} is not registered in {config_file}; run ./install.sh (or `bridge register`) first"
        )
    return openclaw, config_file, config


def plan_migration(request: MigrateRequest, ctx: Context) -> Migration:
    """Step 1: find every plaintext value, name it, and read what Vault holds under those names. Changes nothing."""
    env = ctx.env
    openclaw, config_file, config = find_tools(request, env)
    journal_file = journal.journal_path(env)
    refs = {ref for ref in refs_to(config, request.provider) if SELECTOR_SEPARATOR not in ref}
    resumed_entries = resumable(journal.read(journal_file), config_file, request.provider, refs)
    existing = fetch_values(ctx, sorted(refs))

    def already_moved(item: Found) -> bool:
        """A `.env` line whose name the config already refers to with this very value: clean-up, not a move."""
        return item.place.kind == ENV and item.place.path[0] in refs and existing.get(item.place.path[0]) == item.value

    discovery = discover(audit(openclaw, env, allow_exec=False), config_file, config, env)
    mcp = plan_openclaw_mcp(openclaw, env, config_file, config, str(ctx.launcher))
    seen = {f.place for f in discovery.found}
    candidates = [*discovery.found, *(f for f in mcp.acpx if f.place not in seen)]
    found = build_plan([f for f in candidates if not already_moved(f)], config, request.provider)
    plan = MigrationPlan(found.moves, found.targets, found.provider_deletes, [*discovery.skipped, *found.skipped, *mcp.skipped])
    wanted = {m.name for m in plan.moves} | set(mcp.servers.values_by_name())
    existing.update(fetch_values(ctx, sorted(wanted - set(existing))))
    planned = {m.name for m in plan.moves}
    resumed = [
        Move(e.name, value, e.places) for e in resumed_entries
        if e.name not in planned and isinstance(value := existing.get(e.name), str) and value
    ]
    env_files = sorted({
        config_file.parent / ".env", *(Path(p.file) for m in [*plan.moves, *resumed] for p in m.places if p.kind == ENV),
    })
    in_use = env_names_used(config)
    kept = sorted({p.path[0] for m in [*plan.moves, *resumed] for p in m.places if p.kind == ENV} & in_use)
    plan.skipped.extend(
        f"{config_file.parent / '.env'}: {name} stays: openclaw.json reads it through ${{{name}}} or an env ref" for name in kept
    )
    migration = Migration(
        openclaw, env, request.provider, config_file, journal_file, plan, existing, refs, resumed, env_files, in_use,
    )
    migration.mcp = mcp
    migration.cleanup = migration.planned_cleanup()
    values = {m.value: m.name for m in migration.cleanup_moves}
    migration.embedded = [*embedded_in(str(config_file), config, values), *migration.cleanup.embedded]
    return migration


def refusal(migration: Migration, keep_embedded: bool) -> BridgeError | None:
    """Why nothing may change, or None: a name Vault holds with another value, or a value inside a longer string."""
    if migration.conflicts:
        return BridgeError(
            f"Vault already holds a different value under {', '.join(migration.conflicts)}; nothing was changed. "
            "Remove or rename that secret (`bridge secrets rm NAME`), or store the value you want there, then run migrate again"
        )
    if migration.mcp.named and not keep_embedded:
        return BridgeError(
            f"{len(migration.mcp.named)} MCP server key(s) sit where neither a ref nor bridge run can reach them (listed "
            "above); nothing was changed. Move each by hand (a header or URL as OpenClaw's ${VAR}, an args key into env), "
            "or pass --keep-embedded to migrate the rest and leave them"
        )
    if migration.embedded and not keep_embedded:
        return BridgeError(
            f"{len(migration.embedded)} string(s) hold a moved value inside them (listed above); nothing was changed. "
            "Replace that part by hand (a ref, or a setting without the value), or pass --keep-embedded to migrate the "
            "rest and leave them"
        )
    return None


def act(migration: Migration, ctx: Context) -> Outcome:
    """Steps 2-5, each only after the one before succeeded: store and read back, apply through OpenClaw (rolled back
    on any failure), then remove the plaintext apply leaves behind. The journal is written before the first change
    and removed once nothing planned is left, so a run killed anywhere is finished by the next."""
    journal_file, plan = migration.journal_file, migration.plan
    journal.write(journal_file, journal.Journal(
        str(migration.config_file), migration.provider, tuple(journal.Entry(m.name, m.places) for m in migration.cleanup_moves),
    ))
    changed: list[str] = []
    if plan.moves:
        store_all(ctx, plan.moves, migration.existing)
        sources = [Path(p.source_file) for m in plan.moves for p in m.places if p.kind == FILE_REF]
        try:
            changed = apply_with_rollback(migration.openclaw, migration.env, plan, migration.config_file,
                                          [*migration.env_files, *sources])
        except BridgeError:
            # Every file is as it was; only an earlier run's unfinished clean-up is still to do.
            unfinished = tuple(journal.Entry(m.name, m.places) for m in migration.resumed)
            if unfinished:
                journal.write(journal_file, journal.Journal(str(migration.config_file), migration.provider, unfinished))
            else:
                journal.remove(journal_file)
            raise
    for edit in migration.planned_cleanup().edits:
        edit.apply()
        changed.append(str(edit.path))
    left = migration.planned_cleanup().edits
    if left:
        raise BridgeError(
            f"{left[0].path} still holds a moved value after the clean-up; run migrate again to finish it "
            f"(what is left is recorded in {journal_file})"
        )
    journal.remove(journal_file)
    servers = migration.mcp.servers
    if servers.changes:
        store_and_verify(ctx, servers, migration.existing)
        rewrite_servers(migration.openclaw, migration.env, servers, migration.config_file)
        changed.append(str(migration.config_file))
        for line in scrub_backups(migration.config_file, servers):
            print(f"left alone: {line}", file=ctx.err)
    remaining = [f for f in audit(migration.openclaw, migration.env, allow_exec=True).get("findings") or [] if isinstance(f, dict)]
    return Outcome("migrated", sorted(set(changed)), remaining)


class HomeShortened:
    """Lines for people with the home directory as `~`: paths stay readable and copyable."""

    def __init__(self, out: TextIO, home: str | None) -> None:
        self._out = out
        self._home = home.rstrip("/") + "/" if home else None

    def line(self, text: str) -> None:
        print(text.replace(self._home, "~/") if self._home else text, file=self._out)


def report_plan(migration: Migration, keep_embedded: bool, out: HomeShortened) -> None:
    """The plan for people: where each value is and its Vault name, what stays, and what the clean-up edits."""
    plan, existing = migration.plan, migration.existing
    if plan.moves:
        out.line(f"into Vault, as exec refs through provider {migration.provider!r}:")
        width = max(len(m.name) for m in plan.moves)
        for move in plan.moves:
            for i, place in enumerate(move.places):
                head = f"{move.name:<{width}}  {status_of(move, existing):<8}" if i == 0 else " " * (width + 10)
                out.line(f"  {head}  <- {place.label()}")
    else:
        out.line("no plaintext credential to move into Vault")
    for change in migration.mcp.servers.changes:
        out.line(f"{change.label()} starts through bridge run:")
        for var, name in change.mappings:
            out.line(f"  {var} -> Vault {name}")
    if migration.mcp.named:
        out.line("MCP server keys not moved (headers, URL, args: move them by hand):")
        for line in migration.mcp.named:
            out.line(f"  {line}")
    embedded = migration.embedded
    if embedded and not keep_embedded:
        out.line("inside longer strings, which migrate cannot turn into refs (change these by hand):")
        for hit in embedded:
            out.line(f"  {hit.line()}")
    left_alone = [*plan.skipped, *([f"{hit.line()} (--keep-embedded)" for hit in embedded] if keep_embedded else [])]
    if left_alone:
        out.line("left alone:")
        for line in left_alone:
            out.line(f"  {line}")
    if migration.cleanup.edits:
        out.line("plaintext copies removed after OpenClaw has applied the refs:")
        for edit in migration.cleanup.edits:
            out.line(f"  {edit.describe}")


def report_outcome(outcome: Outcome, moved: int, out: HomeShortened) -> None:
    if outcome.status == "dry-run":
        out.line("dry run: nothing was changed")
    elif outcome.status == "nothing-to-migrate":
        out.line("nothing to migrate: every credential OpenClaw knows about is a ref already")
    elif outcome.status == "migrated":
        out.line(f"moved {moved} value(s) into Vault; changed {len(outcome.changed)} file(s):")
        for path in outcome.changed:
            out.line(f"  {path}")
        if outcome.remaining:
            out.line(f"`openclaw secrets audit` still reports {len(outcome.remaining)} finding(s):")
            for finding in outcome.remaining[:20]:
                out.line(f"  {finding.get('code')} {finding.get('file')}: {finding.get('jsonPath')}")
        out.line(NEXT_STEP)


def as_json(migration: Migration, outcome: Outcome) -> dict[str, Any]:
    """The one JSON shape of `migrate --json`, whatever the run did: the same keys every time, never a value."""
    plan, existing = migration.plan, migration.existing
    cleanup = [] if outcome.status == "nothing-to-migrate" else [e.describe for e in migration.cleanup.edits]
    return {
        "status": outcome.status,
        "moves": [
            {"name": m.name, "status": status_of(m, existing), "places": [p.label() for p in m.places]} for m in plan.moves
        ],
        "skipped": plan.skipped,
        "cleanup": cleanup,
        "embedded": [{"file": h.file, "where": h.where, "name": h.name} for h in migration.embedded],
        "mcp_servers": [
            {"server": c.label(), "env": [{"var": var, "name": name} for var, name in c.mappings]}
            for c in migration.mcp.servers.changes
        ],
        "not_moved": migration.mcp.named,
        "changed_files": outcome.changed,
        "remaining_findings": outcome.remaining,
    }


def handle_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Plan, show, refuse or confirm, act, report: each a function of its own, so none can skip another."""
    if args.mcp is not None:
        return migrate_mcp(McpRequest(
            [expand(args.mcp, ctx.env)] if args.mcp else [], args.include, args.exclude, args.dry_run, args.yes, args.json,
            args.keep_embedded, Path.cwd(),
        ), ctx, confirm)
    if args.include or args.exclude:
        raise UsageError("--include and --exclude go with --mcp: bridge migrate --mcp --include VAR")
    request = MigrateRequest.from_args(args)
    migration = plan_migration(request, ctx)
    out = HomeShortened(ctx.out, ctx.env.get("HOME"))

    def finish(outcome: Outcome) -> None:
        if request.as_json:
            ctx.out.write(json.dumps(as_json(migration, outcome), indent=2) + "\n")
        else:
            report_outcome(outcome, len({m.name for m in migration.plan.moves} | set(migration.mcp.servers.values_by_name())), out)

    if not request.as_json:
        report_plan(migration, request.keep_embedded, out)
    problem = refusal(migration, request.keep_embedded)
    if problem is not None:
        if request.as_json:
            finish(Outcome("refused"))
        raise problem
    if request.dry_run:
        finish(Outcome("dry-run"))
        return 0
    if not migration.plan.moves and not migration.cleanup.edits and not migration.mcp.servers.changes:
        journal.remove(migration.journal_file)
        finish(Outcome("nothing-to-migrate"))
        return 0
    if not request.yes:
        confirm(ctx, len(migration.plan.moves))
    finish(act(migration, ctx))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    parser.add_argument(
        "--keep-embedded", action="store_true",
        help="go ahead when a moved value also sits inside a longer string, and list those strings under 'left alone'",
    )
    parser.add_argument(
        "--mcp", nargs="?", const="", metavar="PATH",
        help="move the keys in MCP client configs instead (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, or PATH); "
        "servers then start through bridge run",
    )
    for flag, what in (("--include", "a credential"), ("--exclude", "not a credential")):
        parser.add_argument(flag, action="append", default=[], type=checked(check_var), metavar="VAR",
                            help=f"with --mcp: treat env variable VAR as {what}, whatever its name or value")
    add_provider(parser)
    add_json(parser)


def check_var(raw: str) -> str:
    if not VAR_NAME.fullmatch(raw):
        raise UsageError(f"{raw!r} is not an environment variable name")
    return raw


VERBS = {
    "migrate": Verb(
        "migrate", "move an OpenClaw install's plaintext credentials into Vault and leave no plaintext copy",
        "bridge migrate --dry-run && bridge migrate --yes; bridge migrate --mcp --dry-run", handle_migrate, add_arguments,
    ),
}
