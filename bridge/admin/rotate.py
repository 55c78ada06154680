"""`bridge secrets rotate|rollback|history`: replace a leaked key everywhere in one command, with proof.

A rotation answers the operator's one question, "can I revoke the old key at
the provider now?": the new value is checked (its shape, then its provider)
before anything changes; it replaces the current value under the same Vault
id, so every ref keeps working; the previous value is kept in Vault, as a
secret of its own that no name reaches, for --keep-previous and then purged
by the database; and with --wait the command watches the audit log's
resolves (secret_rollout) until every gateway that used the secret in the 30
days before has resolved the new value. Only then is revoking safe, and the
output says so, with the provider's key page.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, NamedTuple, TextIO

from bridge.admin.secret_input import read_value, refuse_shape
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.app.verbs import add_action, add_json
from bridge.core.durations import format_age, parse_duration
from bridge.core.errors import BridgeError, ConfigError, UsageError
from bridge.core.names import check_name, vault_name
from bridge.core.secret_types import DEFAULT_TYPE, INVALID, UNREACHABLE
from bridge.core.text import cell, printable, utc_stamp
from bridge.vault.admin_api import AdminApi
from bridge.vault.errors import NotFound

DEFAULT_KEEP_PREVIOUS = "7d"
"""setup.sql's default_keep_previous(): long enough to roll back a bad rotation, short enough that a leaked key
does not linger in Vault."""
SHOWN_PENDING = 3
"""Pending gateways named in the progress line; the rest are counted ("and N more"), so the line stays one short
line at the fleet aim of 1,000 gateways. The final report and --json list every one."""
POLL_S = 2.0
"""How often --wait asks for the rollout: the query costs about a millisecond at the server (docs/benchmarks.md)."""


class Rollout(NamedTuple):
    """What --wait reports: who has resolved the new value, who not yet; `superseded` when the secret changed again
    after this rotation (another rotate, a rollback, a set), so this rotation's value may no longer be current."""

    name: str
    changed_at: str | None
    updated: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    superseded: bool = False

    def state(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Who has it and who not: what a new progress line is printed for (not the ages, which change every poll)."""
        return tuple(str(g.get("gateway")) for g in self.updated), tuple(str(g.get("gateway")) for g in self.pending)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "changed_at": self.changed_at,
            "updated": [{"gateway": g.get("gateway"), "resolved_at": g.get("resolved_at")} for g in self.updated],
            "pending": [{"gateway": g.get("gateway"), "last_resolved_at": g.get("resolved_at")} for g in self.pending],
            # The shape: a wait cut short by another admin's change is simply not complete (the text says why).
            "complete": not self.pending and not self.superseded,
        }


def duration_option(option: str, raw: str) -> float:
    try:
        return parse_duration(option, raw)
    except ConfigError as exc:
        raise UsageError(str(exc).replace("config: ", "")) from None


class Rotated(NamedTuple):
    """What a rotation did: the database's answer, the secret's type and the warning to show, if any."""

    answer: dict[str, Any]
    secret_type: str
    warning: str | None


def existing_type(ctx: Context, tenant: str, name: str) -> str:
    """The type of the secret to rotate, asked before its new value is read: a rotation never creates a secret, and a
    person should not type a key for nothing."""
    with open_client(ctx) as client:
        try:
            return current_type_of(client, vault_name(tenant, name), name)
        except NotFound:
            raise BridgeError(f"no secret named {name} in Vault; store it first: `bridge secrets set {name} < file`") from None


def rotate_secret(ctx: Context, tenant: str, name: str, secret_type: str, value: str, force: bool, keep_s: float) -> Rotated:
    """Check the new value (shape, then provider), then replace the current one keeping it as a version: the one way
    both `bridge secrets rotate` and `bridge ui` rotate. Raises, with nothing changed, when the shape is wrong or the
    provider refuses the value without `force`."""
    refuse_shape(name, secret_type, value)
    status, message, warning = provider_verdict(ctx, name, secret_type, value, force)
    with open_client(ctx) as client:
        answer = client.rotate_version(vault_name(tenant, name), value, keep_s, status, message)
    return Rotated(answer, secret_type, warning)


def handle_secrets_rotate(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    keep_s = duration_option("--keep-previous", args.keep_previous)
    wait_s = None if args.wait is None else duration_option("--wait", args.wait)
    secret_type = existing_type(ctx, args.tenant, name)
    value = read_value(ctx, name)
    done = rotate_secret(ctx, args.tenant, name, secret_type, value, args.force, keep_s)
    del value
    if done.warning:
        print(f"warning: {done.warning}", file=ctx.err, flush=True)
    answer = done.answer
    kept = (f"version {answer.get('previous')} is kept until {utc_stamp(answer.get('keep_until'))} for "
            f"`bridge secrets rollback {printable(name)}`") if keep_s > 0 else \
        f"version {answer.get('previous')} was not kept (--keep-previous 0s)"
    progress = ctx.err if args.json else ctx.out
    print(f"rotated {printable(name)} to version {answer.get('version')} (Vault id {answer.get('id')}); {kept}",
          file=progress, flush=True)
    report = wait_for_rollout(ctx, args.tenant, name, wait_s, progress, answer.get("changed_at"))
    if args.json:
        ctx.out.write(json.dumps(report.as_json(), indent=2) + "\n")
    print(next_step(name, done.secret_type, report), file=progress, flush=True)
    return 1 if wait_s is not None and (report.pending or report.superseded) else 0


def current_type_of(client: AdminApi, target: str, name: str) -> str:
    """The type of an existing secret; NotFound when there is none: a rotation never creates one."""
    rows = [row for row in client.list_status(target) if row.get("name") == target]
    if not rows:
        raise NotFound(name)
    return str(rows[0].get("type") or DEFAULT_TYPE)


def provider_verdict(ctx: Context, name: str, secret_type: str, value: str, force: bool) -> tuple[str | None, str | None, str | None]:
    """The provider's verdict on the new value before anything is stored, and a warning to show: invalid refuses
    unless --force, unreachable warns; (None, None, None) for a generic secret, which has no provider."""
    if secret_type == DEFAULT_TYPE:
        return None, None, None
    from bridge.providers.check import test_secret

    result = test_secret(secret_type, value, ctx.config.providers.get(secret_type), ctx.config.admin_deadline)
    warning = None
    if result.status == INVALID and not force:
        raise BridgeError(
            f"refusing to rotate {name}: the {secret_type} provider refused the new value ({result.message}); "
            "nothing was changed; --force stores it anyway"
        )
    if result.status == INVALID:
        warning = f"the {secret_type} provider refused the new value of {name} ({result.message}); storing it anyway (--force)"
    elif result.status == UNREACHABLE:
        warning = f"could not ask the {secret_type} provider about the new value of {name} ({result.message}); storing it untested"
    return result.status, result.message, warning


def wait_for_rollout(ctx: Context, tenant: str, name: str, wait_s: float | None, out: TextIO,
                     rotated_at: object = None) -> Rollout:
    """The rollout now (no --wait) or once no gateway is pending or --wait has passed; each change is shown, on a
    terminal as one line rewritten in place. One full report (secret_rollout: who was seen before the change), then
    every POLL_S only the resolves since the change (secret_rollout_progress), so a poll reads a few rows, not the
    30 days before. `rotated_at` is this rotation's changed_at: a secret changed again since is reported
    superseded at once, as is one changed again while polling."""
    deadline = None if wait_s is None else time.monotonic() + wait_s
    live = out.isatty()
    shown: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    target = vault_name(tenant, name)
    with open_client(ctx) as client:
        try:
            full = client.rollout(target)
            updated, pending = list(full["updated"]), list(full["pending"])
            if rotated_at is not None and not same_instant(rotated_at, full.get("changed_at")):
                return Rollout(name, utc_stamp(full.get("changed_at")), stamped(updated), stamped(pending), superseded=True)
            while True:
                report = Rollout(name, utc_stamp(full.get("changed_at")), stamped(updated), stamped(pending))
                state = report.state()
                if state != shown:
                    line = progress_line(report)
                    out.write(("\r\x1b[2K" + line) if live else line + "\n")
                    out.flush()
                    shown = state
                if deadline is None or not report.pending or time.monotonic() >= deadline:
                    if live:
                        out.write("\n")
                    return report
                time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
                since = client.rollout_progress(target, str(full.get("changed_at")))
                if since is None:
                    # Changed again meanwhile (another admin's rotate or rollback): the value this wait was for may
                    # not be current any more, so what the gateways hold now says nothing about the old key.
                    if live:
                        out.write("\n")
                    return report._replace(superseded=True)
                have = {g.get("gateway") for g in since}
                updated, pending = since, [g for g in full["pending"] if isinstance(g, dict) and g.get("gateway") not in have]
        except NotFound:
            raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them") from None


def same_instant(a: object, b: object) -> bool:
    """Whether two timestamps the database gave (JSON text) are the same moment, whatever their spelling."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(a).replace("Z", "+00:00")) == dt.datetime.fromisoformat(str(b).replace("Z", "+00:00"))
    except ValueError:
        return a == b


def stamped(gateways: list[Any]) -> list[dict[str, Any]]:
    return [{**g, "resolved_at": utc_stamp(g.get("resolved_at"))} for g in gateways if isinstance(g, dict)]


def progress_line(report: Rollout) -> str:
    total = len(report.updated) + len(report.pending)
    if total == 0:
        return "no gateway resolved it in the 30 days before the rotation"
    line = f"{len(report.updated)}/{total} {'gateway has' if total == 1 else 'gateways have'} the new value"
    if report.pending:
        waiting = ", ".join(f"{cell(g.get('gateway'))} (last resolve {ago(g.get('resolved_at'))})"
                            for g in report.pending[:SHOWN_PENDING])
        more = len(report.pending) - SHOWN_PENDING
        line += f"; waiting for {waiting}" + (f" and {more} more" if more > 0 else "")
    return line


def ago(stamp: object) -> str:
    import datetime as dt

    if not isinstance(stamp, str):
        return "never"
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return cell(stamp)
    seconds = max(0.0, (dt.datetime.now(dt.UTC) - when).total_seconds())
    return "under a minute ago" if seconds < 60 else format_age(seconds // 60 * 60) + " ago"


def next_step(name: str, secret_type: str, report: Rollout) -> str:
    """What the operator does next: revoke the old key at the provider once no gateway still uses it."""
    from bridge.providers.endpoints import KEY_PAGES

    page = KEY_PAGES.get(secret_type)
    where = f"at the provider's key page, {page}" if page else "wherever it was issued"
    if report.superseded:
        return (f"not yet: {printable(name)} was changed again while waiting (another rotate, rollback or set), so the "
                f"old key may be current again; `bridge secrets history {printable(name)}` shows which version is "
                f"current and `bridge secrets rollout {printable(name)}` who has it; revoke the old key only once "
                "neither uses it")
    if report.pending:
        gateways = ", ".join(f"{cell(g.get('gateway'))} (last resolve {utc_stamp(g.get('resolved_at'))}"
                             + ("; used since, past its audit budget, so what it resolved is not itemised" if g.get("unitemised") else "")
                             + ")" for g in report.pending)
        return (f"not yet: {len(report.pending)} gateway(s) still hold the old value of {printable(name)}: {gateways}; "
                f"make them reload (`bridge watch`, or restart them), check with `bridge secrets rollout {printable(name)}`, "
                f"then revoke the old key {where}")
    return f"next: revoke the old key of {printable(name)} {where}; no gateway that used it still holds it"


def handle_secrets_rollback(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    if not args.yes:
        if ctx.stdin is None or not ctx.stdin.isatty():
            raise UsageError(f"refusing to roll back {name} without confirmation: there is no terminal to ask; pass --yes")
        answer = input(f"make the previous value of {name} current again? Every gateway will be given it. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed", file=ctx.out)
            return 1
    with open_client(ctx) as client:
        try:
            done = client.rollback_version(vault_name(args.tenant, name), None)
        except NotFound as exc:
            raise BridgeError(f"cannot roll back {name}: {exc}; `bridge secrets history {name}` shows what is kept") from None
    print(f"rolled back {printable(name)}: version {done.get('version')} is version {done.get('restored_from')}'s value; "
          f"version {done.get('previous')} is kept until {utc_stamp(done.get('keep_until'))}; "
          f"`bridge secrets rollout {printable(name)}` shows which gateways have it", file=ctx.out)
    return 0


HISTORY_COLUMNS = ("version", "created_at", "by", "status", "current", "kept", "keep_until", "purged_at", "restored_from")
HISTORY_STAMPS = ("created_at", "keep_until", "purged_at", "superseded_at")


def history_rows(ctx: Context, tenant: str, name: str) -> list[dict[str, Any]]:
    """The versions of a secret, newest first, as people read them; never a value. What `history` and `bridge ui`
    show."""
    with open_client(ctx) as client:
        try:
            rows = client.history(vault_name(tenant, name))
        except NotFound:
            raise BridgeError(f"no secret named {name} in Vault; `bridge secrets ls` lists them") from None
    return [{**{c: row.get(c) for c in HISTORY_COLUMNS}, **{c: utc_stamp(row.get(c)) for c in HISTORY_STAMPS}} for row in rows]


def handle_secrets_history(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(args.name)
    rows = history_rows(ctx, args.tenant, name)
    if args.json:
        ctx.out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    header = ("VERSION", "CREATED", "BY", "TEST", "CURRENT", "PURGED")
    table = [
        (str(r["version"]) + (f" (= v{r['restored_from']})" if r["restored_from"] else ""), str(r["created_at"] or ""),
         cell(r["by"] or "-"), str(r["status"] or "-"),
         "yes" if r["current"] else (f"kept until {r['keep_until']}" if r["kept"] else "no"), str(r["purged_at"] or "-"))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=ctx.out)
    return 0


def add_rotate_actions(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> list[argparse.ArgumentParser]:
    rotate = add_action(
        actions, "rotate", "replace a secret's value after testing it, keep the previous one, and wait for every gateway",
        "bridge secrets rotate OPENAI_API_KEY --wait 60s < new-key.txt", handle_secrets_rotate,
    )
    rotate.add_argument("name", metavar="NAME")
    rotate.add_argument("--wait", metavar="DURATION", help='wait up to this long (e.g. "60s") until every gateway that '
                        "resolved it in the last 30 days has resolved the new value; exit 1 naming those that have not")
    rotate.add_argument("--force", action="store_true", help="store the new value even when its provider refuses it")
    rotate.add_argument("--keep-previous", default=DEFAULT_KEEP_PREVIOUS, metavar="DURATION",
                        help=f"how long the previous value is kept for rollback (default {DEFAULT_KEEP_PREVIOUS}; 0s keeps none)")
    add_json(rotate)
    rollback = add_action(
        actions, "rollback", "make the previous kept value current again (asks first on a terminal)",
        "bridge secrets rollback OPENAI_API_KEY --yes", handle_secrets_rollback,
    )
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    history = add_action(
        actions, "history", "the versions of a secret: when, by whom, its test, current, kept or purged (never a value)",
        "bridge secrets history OPENAI_API_KEY --json", handle_secrets_history,
    )
    history.add_argument("name", metavar="NAME")
    add_json(history)
    return [rotate, rollback, history]
