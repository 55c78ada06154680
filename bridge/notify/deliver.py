"""One notification pass: read what deserves a message, post what is new in one message, remember it.

Shared by `bridge audit --alerts --notify` (one pass, for cron), `bridge
watch` (a pass at most once a minute) and `bridge notify test`. The webhook
URL is read from Vault for each delivery and kept in memory only. A failed
delivery posts nothing as sent: the same events go out with the next pass
after a backoff (1 min doubling to 1 h), which doctor shows.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from bridge.core.errors import BridgeError
from bridge.core.text import minute_ago
from bridge.local.locks import held
from bridge.notify.events import Event, alert_events, is_new, status_events
from bridge.notify.state import load_state, save_state
from bridge.remote.webhook import post
from bridge.vault.admin_api import AdminApi

ALERT_WINDOW_S = 24 * 3600.0
"""How far back each pass asks read_access_alerts to look: what doctor and `bridge audit --alerts` show."""
MAX_EVENTS_PER_MESSAGE = 50
"""A storm of events becomes several messages, a pass apart, not one message no one reads."""
FIRST_BACKOFF_S = 60.0
MAX_BACKOFF_S = 3600.0
MAX_DOUBLINGS = 6
"""FIRST_BACKOFF_S doubled this often is past MAX_BACKOFF_S."""
LOCK_FILE = "notify.lock"
POST_SECONDS = 10.0
"""Longest a webhook POST may take, within what is left of the caller's deadline."""


class Delivery(NamedTuple):
    posted: int
    """Events posted by this pass (0: nothing new, or backing off)."""
    waiting: int
    """New events not posted yet (a failure, a backoff, or more than one message holds)."""
    note: str


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def webhook_url(vault: AdminApi, name: str, token: bool) -> str:
    """The webhook URL from Vault, never from a file; with a gateway token, only if the token may read it."""
    value = vault.resolve([name]).get(name) if token else vault.get_secret(name)
    if not isinstance(value, str) or not value.strip():
        raise BridgeError(f"the Vault secret {name} ([notify] webhook) holds no URL; store it with `bridge secrets set {name}`")
    return value.strip()


def collect(vault: AdminApi, now: float) -> list[Event]:
    return alert_events(vault.read_alerts(iso(now - ALERT_WINDOW_S))) + status_events(vault.list_status(None), now)


def slack_text(text: str) -> str:
    """Text as Slack reads it literally: &, < and > are its markup and are escaped (its formatting reference)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """`text` as one Slack code span, its own backticks and line breaks removed: the hosts, names and messages
    in an event are chosen by whoever can reach the database (a gateway token holder sets its host), and
    outside a code span Slack makes a bare URL a link and reads *bold*, _italic_ and ~strike~."""
    plain = " ".join(text.replace("`", "'").split())
    return f"`{slack_text(plain)}`" if plain else ""


def message(events: list[Event], host: str) -> dict[str, object]:
    """Slack's incoming-webhook JSON, with the same events for machines beside it; every event's text is a code
    span (see code)."""
    lines = [f"openclaw-supabase-bridge on {code(host)}:"] + [f"• {code(e.text)}" for e in events]
    return {"text": "\n".join(lines), "bridge": {"host": host, "events": [e.data for e in events]}}


def backoff(failures: int) -> float:
    """1 min doubling to MAX_BACKOFF_S; the exponent is capped first, so a webhook dead for weeks (a thousand
    failures) cannot overflow the float."""
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0 ** min(max(failures - 1, 0), MAX_DOUBLINGS))


def fair_batch(events: list[Event], limit: int) -> list[Event]:
    """At most `limit` events, taken in turn from each kind (each alert kind, due, invalid), in order within a
    kind: a flood of one kind (a token holder's decoy new-host alerts) cannot keep the others out of every
    message."""
    kinds: dict[str, list[Event]] = {}
    for event in events:
        kinds.setdefault(event.key.split("|", 2)[1] if event.key.startswith("alert|") else event.key.split("|", 1)[0], []).append(event)
    queues = list(kinds.values())
    batch: list[Event] = []
    depth = 0
    while len(batch) < limit and any(depth < len(q) for q in queues):
        batch += [q[depth] for q in queues if depth < len(q)][: limit - len(batch)]
        depth += 1
    return batch


def failed(state: dict[str, Any], now: float, error: str) -> None:
    failures = int(state.get("failures") or 0) + 1
    state["failures"] = failures
    state["next_try_at"] = now + backoff(failures)
    state["last_delivery"] = {"at": iso(now), "ok": False, "error": error}


def delivered(state: dict[str, Any], now: float, status: int, count: int) -> None:
    state["failures"] = 0
    state["next_try_at"] = None
    state["last_delivery"] = {"at": iso(now), "ok": True, "status": status, "events": count}


def run_pass(
    vault: AdminApi, webhook: str, token: bool, data_dir: Path, seconds: float,
    now: Callable[[], float] = time.time,
) -> Delivery:
    """One pass, unless another process is running one (cron beside the watcher): that one posts, this one
    skips, so no event goes out twice."""
    with held(data_dir / LOCK_FILE) as mine:
        if not mine:
            return Delivery(0, 0, "another notification pass is running; skipped")
        return _locked_pass(vault, webhook, token, data_dir, seconds, now)


def _locked_pass(
    vault: AdminApi, webhook: str, token: bool, data_dir: Path, seconds: float, now: Callable[[], float],
) -> Delivery:
    """Raises only for what stops a pass before a delivery is tried (Vault unreadable, a broken URL)."""
    state, _ = load_state(data_dir)
    started = now()
    next_try = state.get("next_try_at")
    if isinstance(next_try, float) and started < next_try <= started + MAX_BACKOFF_S:
        # A next try further away than the longest backoff is not one a pass set (a planted file, or a failure
        # recorded while the clock was wrong): it is ignored rather than silencing every notification until then.
        return Delivery(0, 0, f"backing off after {state.get('failures')} failed deliveries; next try at {minute_ago(iso(next_try), started)}")
    events = collect(vault, started)
    sent: dict[str, dict[str, object]] = state.setdefault("sent", {})
    new = [e for e in events if is_new(e, sent)]
    for event in events:
        if event.key in sent and event not in new:
            # Still active, already posted: remembered for as long as it lasts, and its mark moves with it.
            sent[event.key]["seen"] = started
            if event.mark:
                sent[event.key]["mark"] = event.mark
    batch = fair_batch(new, MAX_EVENTS_PER_MESSAGE)
    if not batch:
        save_state(data_dir, state, started)
        return Delivery(0, 0, "nothing new to post")
    try:
        url = webhook_url(vault, webhook, token)
        status = post(url, message(batch, socket.gethostname()), min(POST_SECONDS, seconds))
    except BridgeError as exc:
        failed(state, started, str(exc))
        save_state(data_dir, state, started)
        raise
    for event in batch:
        sent[event.key] = {"seen": started, "mark": event.mark, "posted_at": iso(started)}
    delivered(state, started, status, len(batch))
    save_state(data_dir, state, started)
    return Delivery(len(batch), len(new) - len(batch), f"posted {len(batch)} event(s) (HTTP {status})")


def send_test(vault: AdminApi, webhook: str, token: bool, data_dir: Path, seconds: float, now: float) -> int:
    """`bridge notify test`: one message saying only that it is a test; recorded as the last delivery. Under
    the passes' lock: a pass saving its record while the test posts would otherwise be undone by this save."""
    with held(data_dir / LOCK_FILE) as mine:
        if not mine:
            raise BridgeError("a notification pass is running (bridge watch or cron); try `bridge notify test` again in a minute")
        return _locked_test(vault, webhook, token, data_dir, seconds, now)


def _locked_test(vault: AdminApi, webhook: str, token: bool, data_dir: Path, seconds: float, now: float) -> int:
    state, _ = load_state(data_dir)
    host = socket.gethostname()
    try:
        url = webhook_url(vault, webhook, token)
        status = post(url, {"text": f"openclaw-supabase-bridge on {host}: test message", "bridge": {"host": host, "events": [{"kind": "test_message"}]}},
                      min(POST_SECONDS, seconds))
    except BridgeError as exc:
        # Shown as the last delivery, without delaying the next real pass.
        state["last_delivery"] = {"at": iso(now), "ok": False, "error": str(exc)}
        save_state(data_dir, state, now)
        raise
    delivered(state, now, status, 0)
    save_state(data_dir, state, now)
    return status
