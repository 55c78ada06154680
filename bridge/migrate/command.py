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
from pathlib import Path
from typing import Any, TextIO

from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import Verb, add_dry_run, add_json, add_provider
from bridge.core.errors import BridgeError, UsageError
from bridge.local.files import atomic_write
from bridge.migrate import journal
from bridge.migrate.cleanup import Cleanup, Edit, Embedded, embedded_in, plan_cleanup
from bridge.migrate.discover import discover
from bridge.migrate.places import ENV, FILE_REF, Found, Move
from bridge.migrate.plan import MigrationPlan, build_plan
from bridge.migrate.snapshot import Snapshot
from bridge.openclaw.config import check_provider_name, config_path, providers, read_config, refs_to
from bridge.openclaw.runner import find_openclaw
from bridge.openclaw.secrets_cli import apply_plan, audit, unresolved

MAX_NAMES_PER_CALL = 512
"""resolve_secrets' own limit per call."""
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


class HomeShortened:
    """Lines for people with the home directory as `~`: paths stay readable and copyable."""

    def __init__(self, out: TextIO, home: str | None) -> None:
        self._out = out
        self._home = home.rstrip("/") + "/" if home else None

    def line(self, text: str) -> None:
        print(text.replace(self._home, "~/") if self._home else text, file=self._out)


def report(
    plan: MigrationPlan, existing: Mapping[str, object], edits: list[Edit], embedded: list[Embedded], keep: bool,
    provider: str, out: HomeShortened,
) -> None:
    if plan.moves:
        out.line(f"into Vault, as exec refs through provider {provider!r}:")
        width = max(len(m.name) for m in plan.moves)
        for move in plan.moves:
            for i, place in enumerate(move.places):
                head = f"{move.name:<{width}}  {status_of(move, existing):<8}" if i == 0 else " " * (width + 10)
                out.line(f"  {head}  <- {place.label()}")
    else:
        out.line("no plaintext credential to move into Vault")
    if embedded and not keep:
        out.line("inside longer strings, which migrate cannot turn into refs (change these by hand):")
        for hit in embedded:
            out.line(f"  {hit.line()}")
    left_alone = [*plan.skipped, *([f"{hit.line()} (--keep-embedded)" for hit in embedded] if keep else [])]
    if left_alone:
        out.line("left alone:")
        for line in left_alone:
            out.line(f"  {line}")
    if edits:
        out.line("plaintext copies removed after OpenClaw has applied the refs:")
        for edit in edits:
            out.line(f"  {edit.describe}")


def as_json(
    plan: MigrationPlan, existing: Mapping[str, object], edits: list[Edit], embedded: list[Embedded], changed: list[str]
) -> dict[str, Any]:
    return {
        "moves": [
            {"name": m.name, "status": status_of(m, existing), "places": [p.label() for p in m.places]} for m in plan.moves
        ],
        "skipped": plan.skipped,
        "cleanup": [e.describe for e in edits],
        "embedded": [{"file": h.file, "where": h.where, "name": h.name} for h in embedded],
        "changed_files": changed,
    }


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


def migrate_verb(args: argparse.Namespace, ctx: Context) -> int:
    provider = check_provider_name(args.provider)
    env = ctx.env
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
    entry = providers(config).get(provider)
    if not isinstance(entry, dict) or entry.get("source") != "exec":
        raise BridgeError(f"provider {provider!r} is not registered in {config_file}; run ./install.sh (or `bridge register`) first")

    journal_file = journal.journal_path(env)
    refs = {ref for ref in refs_to(config, provider) if "#" not in ref}
    resumed_entries = resumable(journal.read(journal_file), config_file, provider, refs)
    existing = fetch_values(ctx, sorted(refs))

    def already_moved(item: Found) -> bool:
        """A `.env` line whose name the config already refers to with this very value: clean-up, not a move."""
        return item.place.kind == ENV and item.place.path[0] in refs and existing.get(item.place.path[0]) == item.value

    discovery = discover(audit(openclaw, env, allow_exec=False), config_file, config, env)
    plan = build_plan([f for f in discovery.found if not already_moved(f)], config, provider)
    plan = MigrationPlan(plan.moves, plan.targets, plan.provider_deletes, [*discovery.skipped, *plan.skipped])
    new_names = sorted({m.name for m in plan.moves} - set(existing))
    existing = {**existing, **fetch_values(ctx, new_names)}
    planned = {m.name for m in plan.moves}
    resumed = [
        Move(e.name, value, e.places) for e in resumed_entries
        if e.name not in planned and isinstance(value := existing.get(e.name), str) and value
    ]
    cleanup_moves = [*plan.moves, *resumed]
    env_files = sorted({config_file.parent / ".env", *(Path(p.file) for m in cleanup_moves for p in m.places if p.kind == ENV)})

    def cleanup_values() -> dict[str, str]:
        """Every value now in Vault that a file may still hold: this run's, and those of refs already in place."""
        values = {value: name for name, value in existing.items() if isinstance(value, str) and value and name in refs}
        values.update({m.value: m.name for m in cleanup_moves})
        return values

    def env_moved() -> dict[str, str]:
        """`.env` names whose value is in Vault now: this run's and an unfinished run's, and names the config refers
        to; each is removed only where the file still gives it that same value."""
        names = {name: value for name, value in existing.items() if isinstance(value, str) and value and name in refs}
        names.update({p.path[0]: m.value for m in cleanup_moves for p in m.places if p.kind == ENV})
        return names

    def planned_cleanup() -> Cleanup:
        return plan_cleanup(config_file, env_files, cleanup_moves, cleanup_values(), env_moved(), provider)

    cleanup = planned_cleanup()
    embedded = [*embedded_in(str(config_file), config, {m.value: m.name for m in cleanup_moves}), *cleanup.embedded]
    conflicts = [m.name for m in plan.moves if status_of(m, existing) == "CONFLICT"]
    out = HomeShortened(ctx.out, env.get("HOME"))
    if not args.json or args.dry_run:
        if args.json:
            ctx.out.write(json.dumps(as_json(plan, existing, cleanup.edits, embedded, []), indent=2) + "\n")
        else:
            report(plan, existing, cleanup.edits, embedded, args.keep_embedded, provider, out)
    if conflicts:
        raise BridgeError(
            f"Vault already holds a different value under {', '.join(conflicts)}; nothing was changed. "
            "Remove or rename that secret (`bridge secrets rm NAME`), or store the value you want there, then run migrate again"
        )
    if embedded and not args.keep_embedded:
        raise BridgeError(
            f"{len(embedded)} string(s) hold a moved value inside them (listed above); nothing was changed. Replace that "
            "part by hand (a ref, or a setting without the value), or pass --keep-embedded to migrate the rest and leave them"
        )
    if args.dry_run:
        if not args.json:
            print("dry run: nothing was changed", file=ctx.out)
        return 0
    if not plan.moves and not cleanup.edits:
        journal.remove(journal_file)
        if not args.json:
            print("nothing to migrate: every credential OpenClaw knows about is a ref already", file=ctx.out)
        else:
            ctx.out.write(json.dumps(as_json(plan, existing, [], embedded, []), indent=2) + "\n")
        return 0
    if not args.yes:
        confirm(ctx, len(plan.moves))

    journal.write(journal_file, journal.Journal(
        str(config_file), provider, tuple(journal.Entry(m.name, m.places) for m in cleanup_moves),
    ))
    changed: list[str] = []
    if plan.moves:
        store_all(ctx, plan.moves, existing)
        sources = [Path(p.source_file) for m in plan.moves for p in m.places if p.kind == FILE_REF]
        try:
            changed = apply_with_rollback(openclaw, env, plan, config_file, [*env_files, *sources])
        except BridgeError:
            # Every file is as it was; only an earlier run's unfinished clean-up is still to do.
            unfinished = tuple(journal.Entry(m.name, m.places) for m in resumed)
            if unfinished:
                journal.write(journal_file, journal.Journal(str(config_file), provider, unfinished))
            else:
                journal.remove(journal_file)
            raise
    # Planned again: apply has just written new backups of the old config.
    for edit in planned_cleanup().edits:
        edit.apply()
        changed.append(str(edit.path))
    left = planned_cleanup().edits
    if left:
        raise BridgeError(
            f"{left[0].path} still holds a moved value after the clean-up; run migrate again to finish it "
            f"(what is left is recorded in {journal_file})"
        )
    journal.remove(journal_file)
    remaining = [f for f in audit(openclaw, env, allow_exec=True).get("findings") or [] if isinstance(f, dict)]
    changed = sorted(set(changed))
    if args.json:
        result = {**as_json(plan, existing, cleanup.edits, embedded, changed), "remaining_findings": remaining}
        ctx.out.write(json.dumps(result, indent=2) + "\n")
        return 0
    out.line(f"moved {len(plan.moves)} value(s) into Vault; changed {len(changed)} file(s):")
    for path in changed:
        out.line(f"  {path}")
    if remaining:
        out.line(f"`openclaw secrets audit` still reports {len(remaining)} finding(s):")
        for finding in remaining[:20]:
            out.line(f"  {finding.get('code')} {finding.get('file')}: {finding.get('jsonPath')}")
    out.line(NEXT_STEP)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dry_run(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    parser.add_argument(
        "--keep-embedded", action="store_true",
        help="go ahead when a moved value also sits inside a longer string, and list those strings under 'left alone'",
    )
    add_provider(parser)
    add_json(parser)


VERBS = {
    "migrate": Verb(
        "migrate", "move an OpenClaw install's plaintext credentials into Vault and leave no plaintext copy",
        "bridge migrate --dry-run && bridge migrate --yes", migrate_verb, add_arguments,
    ),
}
