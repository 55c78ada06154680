"""`bridge doctor`: everything between the gateway and a secret, checked in order, each failure with its fix.

OpenClaw shows only error codes from exec providers, never their messages, so
this is where a person learns why a ref does not resolve. It never prints a
secret: keys appear as prefix...last4, values not at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO, TypeGuard

from bridge import SCHEMA_VERSION, __version__
from bridge.app.context import Context
from bridge.app.verbs import Verb, add_json, add_provider
from bridge.core.credentials import Credentials
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.limits import GATEWAY_TIMEOUT_MS, MAX_IDS
from bridge.core.text import cell, minute, minute_ago, printable
from bridge.local.watch_facts import (
    BACKOFF_CAP_S,
    DEFAULT_INTERVAL_S,
    LAUNCHD_LABEL,
    LAUNCHD_LOG,
    MAX_INTERVAL_S,
    SERVICE_UNIT,
    read_state,
)
from bridge.vault.client import VaultClient
from bridge.vault.errors import SETUP_FIX

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
CANARY = "bridge-doctor-canary"
ALERT_HOURS = 24
"""The period doctor's one alert line covers: a day, so a daily look sees each alert once."""
WATCH_STALE_INTERVALS = 3
"""A watcher that polled fine has polled again within three of its intervals."""
WATCH_BACKOFF_STALE_S = 2 * BACKOFF_CAP_S
"""After a failed poll the watcher backs off, up to BACKOFF_CAP_S (or one interval, if longer): it has tried again
within twice that."""
WATCH_ERROR_CHARS = 200
"""How much of the watcher's last error the one line shows."""
WATCH_FIX_CHARS = 400
"""How much of the fix the watcher advised the one line shows."""
WATCH_UNDELIVERED_SHOWN = 5
"""How many changes not yet held by the gateway the one line names (the state file has them all)."""



@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


class Doctor:
    def __init__(self, ctx: Context, provider: str) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.launcher = ctx.launcher
        self.provider = provider
        self.paths = ctx.paths
        self.checks: list[Check] = []

    def add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def guarded(self, name: str, step: Callable[[], None]) -> None:
        """A check that raises still yields a line, never a traceback, and the checks after it still run."""
        try:
            step()
        except BridgeError as exc:
            self.add(name, FAIL, str(exc))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a native panic too: doctor reports every failure as a check
            self.add(name, FAIL, f"the check itself failed ({type(exc).__name__}); rerun with BRIDGE_DEBUG=1 and report it")

    def run(self) -> list[Check]:
        self.add("python", PASS, f"Python {platform.python_version()}, openclaw-supabase-bridge {__version__}")
        self.guarded("permissions", self.files)
        self.guarded("config", self.config)
        self.guarded("openclaw registration", self.registration)
        self.guarded("keyring", self.keyring)
        found: list[Credentials] = []
        self.guarded("credentials", lambda: self.credentials(found))
        if not found:
            for name in ("reachability", "setup.sql", "canary resolve", "rotation", "alerts", "cache"):
                self.add(name, SKIP, "needs credentials")
        else:
            self.guarded("reachability", lambda: self.server(found[0]))
            self.guarded("cache", lambda: self.cache(found[0]))
        self.guarded("watcher", self.watcher)
        self.guarded("edge secrets", self.edge)
        self.guarded("notifications", self.notifications)
        self.guarded("openclaw audit", self.openclaw_audit)
        return self.checks

    def files(self) -> None:
        from bridge.local.selfcheck import check, targets

        for target in targets(self.launcher, self.paths):
            problems = check([target])
            name = f"permissions: {target.what}"
            if problems:
                self.add(name, FAIL, "; ".join(p.message for p in problems), "; ".join(p.fix for p in problems))
            elif target.path.exists():
                self.add(name, PASS, f"{target.path}: yours, not writable by others" + (", private" if target.private else ""))

    def config(self) -> None:
        config = self.ctx.config
        where = self.paths.config_file if self.paths.config_file.exists() else f"defaults ({self.paths.config_file} absent)"
        self.add(
            "config", PASS,
            f"{where}: deadline {format_age(config.deadline)} (gateway_timeout {format_age(config.gateway_timeout)}), "
            f"max_stale {format_age(config.max_stale)}, cache_ttl {format_age(config.cache_ttl)}",
        )

    def registration(self) -> None:
        from bridge.openclaw.config import KEYRING_ENV, config_path, providers, read_config, system_name

        path = config_path(self.env)
        install_fix = f"./install.sh --provider {self.provider}"
        doc = read_config(path)
        if doc is None:
            self.add("openclaw registration", FAIL, f"no OpenClaw config at {path}", install_fix)
            return
        entry = providers(doc).get(self.provider)
        if not isinstance(entry, dict):
            self.add("openclaw registration", FAIL, f"{path} has no secrets.providers.{self.provider}", install_fix)
            return
        problems = []
        if entry.get("source") != "exec":
            problems.append(f"source is {entry.get('source')!r}, not 'exec'")
        command = str(entry.get("command", ""))
        if not os.path.isabs(command):
            problems.append(f"command {command!r} is not an absolute path")
        elif Path(command) != self.launcher:
            problems.append(f"command is {command}, but this bridge is {self.launcher}")
        if entry.get("args") != ["resolve"]:
            problems.append(f"args are {entry.get('args')!r}, not ['resolve']")
        trusted = entry.get("trustedDirs") or []
        if trusted and str(self.launcher.parent) not in trusted:
            problems.append(f"trustedDirs {trusted} do not contain {self.launcher.parent}")
        if problems:
            self.add("openclaw registration", FAIL, f"{path}: " + "; ".join(problems), install_fix)
        else:
            self.add("openclaw registration", PASS, f"provider {self.provider!r} in {path} runs {self.launcher} resolve")
        pass_env = set(entry.get("passEnv") or [])
        missing = [name for name in KEYRING_ENV.get(system_name(), []) if name not in pass_env]
        if missing:
            self.add(
                "openclaw passEnv", WARN,
                f"passEnv lacks {', '.join(missing)}: without them the bridge cannot reach the OS keyring from the gateway",
                install_fix,
            )
        else:
            self.add("openclaw passEnv", PASS, f"passEnv covers {', '.join(sorted(pass_env))}")
        timeout_ms = entry.get("timeoutMs", GATEWAY_TIMEOUT_MS)
        deadline = self.ctx.config.deadline
        if isinstance(timeout_ms, (int, float)) and deadline * 1000 >= timeout_ms:
            self.add(
                "deadline", WARN, f"bridge deadline {format_age(deadline)} is not below the gateway's timeoutMs {timeout_ms}",
                "lower `deadline` in config.toml, or raise timeoutMs",
            )

    def keyring(self) -> None:
        from bridge.core.deadline import TimedOut, run_within
        from bridge.credentials.base import STORE_BUDGET_S, StoreUnavailable
        from bridge.credentials.os_keyring import KeyringStore

        def probe() -> str:
            backend = KeyringStore(self.env).backend()
            backend.get("openclaw-supabase-bridge-doctor", "probe")
            return backend.name

        try:
            name = run_within(STORE_BUDGET_S, probe, "the keyring probe")
        except StoreUnavailable as exc:
            self.add("keyring", WARN, f"no usable OS keyring ({exc}); the sealed file is used instead")
            return
        except TimedOut:
            self.add(
                "keyring", WARN, f"the OS keyring did not answer within {format_age(STORE_BUDGET_S)}; resolves skip it",
                "check DBUS_SESSION_BUS_ADDRESS points at a live session bus, or `bridge login --store file`",
            )
            return
        self.add("keyring", PASS, name)

    def credentials(self, found_out: list[Credentials]) -> None:
        from bridge.core.keys import ADMIN_KINDS, LEGACY_JWT, classify_key

        try:
            found = self.ctx.credentials()
        except BridgeError as exc:
            self.add("credentials", FAIL, str(exc), "bridge login --url https://<project-ref>.supabase.co")
            return
        for note in found.notes:
            self.add("credential stores", WARN, note, "fix that store, or `bridge logout` to stop using it")
        credentials = found.credentials
        self.add("credentials", PASS, f"{credentials.url}, {credentials.shown()}, from the {found.source}")
        try:
            kind = classify_key(credentials.key, credentials.token)
        except BridgeError as exc:
            self.add("key type", FAIL, str(exc), "bridge login with the project's secret key, or as a gateway with a token")
            return
        if kind in ADMIN_KINDS and self.is_gateway():
            self.add(
                "key type", WARN,
                f"{kind}: this gateway resolves with a key that opens every secret and table of the project",
                "mint a token on the admin machine (bridge tokens create NAME --tenant default), then here: "
                "bridge login --url URL --publishable-key sb_publishable_... --gateway-token",
            )
        elif kind == LEGACY_JWT:
            self.add(
                "key type", WARN, "legacy service_role JWT: Supabase is retiring these by the end of 2026",
                "create a secret key (sb_secret_...) under Project Settings > API Keys, then bridge login again",
            )
        else:
            self.add("key type", PASS, kind)
        found_out.append(credentials)

    def is_gateway(self) -> bool:
        """This machine's OpenClaw config has the provider: gateways run here."""
        from bridge.openclaw.config import config_path, providers, read_config

        try:
            doc = read_config(config_path(self.env))
        except BridgeError:
            return False
        return doc is not None and self.provider in providers(doc)

    def client(self, credentials: Credentials) -> VaultClient:
        """The transport `bridge resolve` uses, so what doctor sees is what the gateway gets."""
        from bridge.vault.client import connect

        return connect(
            credentials, provider=self.provider, host=socket.gethostname(), connect_timeout=5.0, read_timeout=8.0,
            deadline=self.ctx.admin_deadline(), lean=True,
        )

    def server(self, credentials: Credentials) -> None:
        from bridge.vault.errors import SetupMissing, SupabaseError, SupabaseUnavailable

        transport = "TLS verified" if credentials.url.startswith("https://") else "plain http (allowed for localhost only)"
        rpc = self.client(credentials)
        try:
            started = time.monotonic()
            version: object = None
            if credentials.token:
                # A gateway token may only resolve: its call is the probe; the schema version is the admin's to read.
                rpc.resolve_secrets([CANARY])
            else:
                version = rpc.version()
            elapsed = (time.monotonic() - started) * 1000
        except SetupMissing as exc:
            self.add("reachability", PASS, f"{credentials.url} answered, {transport}")
            self.add("setup.sql", FAIL, str(exc), SETUP_FIX)
            self.add("canary resolve", SKIP, "needs setup.sql")
            return
        except SupabaseUnavailable as exc:
            self.add("reachability", FAIL, str(exc), "check the URL, the network and https://status.supabase.com")
            self.add("setup.sql", SKIP, "needs a reachable project")
            self.add("canary resolve", SKIP, "needs a reachable project")
            return
        except SupabaseError as exc:
            self.add("reachability", FAIL, str(exc))
            self.add("setup.sql", SKIP, "needs an accepted key")
            self.add("canary resolve", SKIP, "needs an accepted key")
            return
        finally:
            rpc.close()
        self.add("reachability", PASS, f"{credentials.url} answered in {elapsed:.0f} ms, {transport}")
        if credentials.token:
            self.add("setup.sql", SKIP, "its version is readable with the admin key only; the token's resolve function answered")
        elif version == SCHEMA_VERSION:
            self.add("setup.sql", PASS, f"schema version {version} installed")
        else:
            self.add("setup.sql", FAIL, f"schema version {version} installed, this bridge needs {SCHEMA_VERSION}",
                     SETUP_FIX)
        self.guarded("canary resolve", lambda: self.canary(credentials))
        self.guarded("rotation", lambda: self.rotation(credentials))
        self.guarded("alerts", lambda: self.alerts(credentials))

    def canary(self, credentials: Credentials) -> None:
        """One resolve_secrets call, as the gateway makes it; its failure is the canary's, not reachability's."""
        with self.client(credentials) as rpc:
            started = time.monotonic()
            rpc.resolve_secrets([CANARY])
            elapsed = (time.monotonic() - started) * 1000
        self.add("canary resolve", PASS, f"one resolve round trip ({elapsed:.0f} ms)")

    def referenced_names(self) -> list[str]:
        """The Vault names this machine's OpenClaw config refers to through the provider (selectors dropped)."""
        from bridge.openclaw.config import config_path, read_config, secret_names

        doc = read_config(config_path(self.env))
        return sorted(secret_names(doc or {}, self.provider))[:MAX_IDS]

    def rotation(self, credentials: Credentials) -> None:
        """Each referenced secret that is expired, overdue or due soon, by name and date, with the one fix."""
        names = self.referenced_names()
        if not names:
            self.add("rotation", SKIP, f"the OpenClaw config refers to no secret through {self.provider!r}")
            return
        with self.client(credentials) as rpc:
            if credentials.token:
                rows = rpc.call("secrets_due_with_token", {"p_token": credentials.token, "p_names": names})
            else:
                rows = [r for r in rpc.call("list_secrets_status", {"p_due_only": True}) if r.get("name") in names]
        if not isinstance(rows, list):
            raise BridgeError("unexpected answer about rotation: setup.sql is older than this bridge; re-run the current setup.sql")
        for row in rows:
            name, due, when = cell(row.get("name")), str(row.get("due")), minute(row.get("due_at")) or "an unknown date"
            said = {"expired": f"expired on {when}", "overdue": f"overdue for rotation since {when}"}.get(due, f"due on {when}")
            self.add("rotation", WARN, f"{name} is {said}", f"give it a new value: bridge secrets set {name} < file")
        if not rows:
            self.add("rotation", PASS, f"{len(names)} referenced secret(s), none expired, overdue or due within 7 days")

    def alerts(self, credentials: Credentials) -> None:
        if credentials.token:
            self.add("alerts", SKIP, "alerts are readable with the admin key only: run `bridge audit --alerts` there")
            return
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ALERT_HOURS * 3600))
        with self.client(credentials) as rpc:
            rows = rpc.call("read_access_alerts", {"p_since": since})
        if not isinstance(rows, list):
            raise BridgeError("unexpected answer from read_access_alerts: setup.sql is older than this bridge; re-run the current setup.sql")
        if rows:
            kinds = sorted({str(r.get("kind")) for r in rows if isinstance(r, dict)})
            self.add("alerts", WARN, f"{len(rows)} alert(s) in the last {format_age(ALERT_HOURS * 3600)} ({', '.join(kinds)})",
                     f"bridge audit --alerts --since {ALERT_HOURS}h")
        else:
            self.add("alerts", PASS, f"none in the last {format_age(ALERT_HOURS * 3600)}")

    def cache(self, credentials: Credentials) -> None:
        from bridge.cache.store import CacheFile
        from bridge.core.errors import IdentityUnavailable
        from bridge.local.identity import Identity

        config = self.ctx.config
        if config.max_stale <= 0:
            self.add("cache", WARN, "disabled (max_stale = 0): the gateway cannot start while Supabase is down")
            return
        try:
            identity = Identity.current()
        except IdentityUnavailable as exc:
            self.add("cache", WARN, f"off, live values only: {exc}", "give this machine an id: systemd-machine-id-setup")
            return
        snapshot, problem = CacheFile(self.paths.cache_file, credentials, identity).load()
        if problem:
            self.add("cache", WARN, problem, "nothing to do: the next successful resolve rebuilds it")
            return
        if not snapshot.entries:
            self.add("cache", PASS, "empty: filled by the next successful resolve")
            return
        oldest = time.time() - min(e.fetched_at for e in snapshot.entries.values())
        status = PASS if oldest <= config.max_stale else WARN
        self.add("cache", status, f"{len(snapshot.entries)} secrets, oldest {format_age(oldest)} (max_stale {format_age(config.max_stale)})")

    def watcher(self) -> None:
        fix = watcher_fix()
        state, problem = read_state(self.paths.data_dir)
        if state is None:
            if problem is None:
                self.add("watcher", SKIP, "not set up (install.sh --with-watch)")
            elif problem.startswith("cannot read"):
                self.add("watcher", WARN, problem, fix)
            else:
                self.add("watcher", WARN, problem, f"remove it, the watcher writes it anew; {fix}")
            return
        pid = state.get("pid")
        status, detail, fix = judge_watcher(state, time.time(), valid_pid(pid) and pid_alive(pid))
        self.add("watcher", status, detail, fix)

    def edge(self) -> None:
        """Whether `bridge edge sync` (and the watcher's sync) can run: names configured and an access token
        found; no call to the Management API, whose rate limit a doctor run should not spend."""
        from bridge.credentials.access_token import find_access_token

        edge = self.ctx.config.edge
        if not edge.names:
            self.add("edge secrets", SKIP, "not configured ([edge] names in config.toml)")
            return
        try:
            found = find_access_token(self.env, self.paths.data_dir)
        except BridgeError as exc:
            self.add("edge secrets", WARN, str(exc), "bridge login --access-token")
            return
        self.add("edge secrets", PASS, f"{len(edge.names)} name(s) to {edge.api_url}; access token from {found.source}",
                 "bridge edge status")

    def notifications(self) -> None:
        """The last delivery to the [notify] webhook, from the notifier's state file: a failure stays visible here
        until a delivery works."""
        from bridge.notify.state import load_state

        webhook = self.ctx.config.notify.webhook
        if webhook is None:
            self.add("notifications", SKIP, "not configured ([notify] webhook in config.toml)")
            return
        state, problem = load_state(self.paths.data_dir)
        if problem:
            self.add("notifications", WARN, problem, "remove it; the next pass writes it anew (events may be posted again)")
            return
        last = state.get("last_delivery")
        if not isinstance(last, dict):
            self.add("notifications", PASS, f"webhook from Vault secret {webhook}; nothing delivered yet", "bridge notify test")
            return
        if last.get("ok"):
            self.add("notifications", PASS, f"webhook from Vault secret {webhook}; last delivery {minute_ago(last.get('at'), time.time())} ok")
            return
        retry = state.get("next_try_at")
        when = f"; retried after {minute(time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(retry)))}" if isinstance(retry, (int, float)) else ""
        self.add(
            "notifications", WARN,
            f"last delivery {minute_ago(last.get('at'), time.time())} failed: {cell(last.get('error'))}; "
            f"{int(state.get('failures') or 0)} failed in a row{when}",
            "bridge notify test; then bridge audit --alerts --notify",
        )

    def openclaw_audit(self) -> None:
        from bridge.openclaw.runner import find_openclaw
        from bridge.openclaw.secrets_cli import audit, unresolved

        openclaw = find_openclaw(self.env)
        if openclaw is None:
            self.add("openclaw audit", SKIP, "openclaw is not on PATH")
            return
        try:
            report = audit(openclaw, self.env, allow_exec=True)
        except BridgeError as exc:
            self.add("openclaw audit", FAIL, f"`openclaw secrets audit` did not give a report ({type(exc).__name__})")
            return
        missing = unresolved(report, self.provider)
        checked = report.get("resolution", {}).get("refsChecked", 0)
        if missing:
            paths = ", ".join(missing[:5])
            self.add("openclaw audit", FAIL, f"{len(missing)} ref(s) through {self.provider!r} unresolved: {paths}",
                     "store the missing secrets under those names (`bridge secrets set NAME`) "
                     "or fix the ids; the checks above name other causes")
        else:
            self.add("openclaw audit", PASS, f"{checked} ref(s) checked, none through {self.provider!r} unresolved")


def watcher_fix(platform: str = sys.platform) -> str:
    """Where to look at the watcher install.sh --with-watch set up: its service manager and its log."""
    if platform == "darwin":
        return (f"launchctl print gui/{os.getuid()}/{LAUNCHD_LABEL}; its log: {LAUNCHD_LOG}")
    return f"systemctl --user status {SERVICE_UNIT}; its log: journalctl --user -u {SERVICE_UNIT}"


def valid_pid(pid: object) -> TypeGuard[int]:
    """A pid the file may name: 0 and negative numbers would signal a process group, and 1 is init."""
    return isinstance(pid, int) and not isinstance(pid, bool) and 1 < pid < 2**22


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def parse_stamp(value: object) -> float | None:
    """An ISO 8601 UTC timestamp as epoch seconds; None when it is not one."""
    import datetime as dt

    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _error_line(value: object, limit: int = WATCH_ERROR_CHARS) -> str:
    text = printable(value) if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _undelivered(raw: object) -> list[tuple[str, float]]:
    """The state file's `undelivered` ({name: ISO time seen}) oldest first; anything malformed in it is left out."""
    if not isinstance(raw, dict):
        return []
    from bridge.core.text import printable

    found = [(printable(name)[:128], parse_stamp(seen)) for name, seen in raw.items() if isinstance(name, str)]
    return sorted(((name, seen) for name, seen in found if seen is not None), key=lambda item: item[1])


def judge_watcher(state: Mapping[str, object], now: float, alive: bool, platform: str = sys.platform) -> tuple[str, str, str]:
    """Doctor's watcher line from the watcher's state file, the time and whether its pid runs: (status, detail, fix).

    PASS when it runs, polled within three of its intervals and its last poll and last reload (if any) went well; WARN with
    where to look otherwise. Nothing in the file is trusted: wrong types read as a state that is not the watcher's.
    """
    from bridge.core.durations import format_age

    fix = watcher_fix(platform)
    pid = state.get("pid")
    started = parse_stamp(state.get("started_at"))
    rewrite = f"the watcher rewrites its state file at each poll; is it running? {fix}"
    if not valid_pid(pid) or started is None:
        return WARN, "its state file is not the watcher's (no valid pid or started_at)", rewrite

    def ago(stamp: float) -> str:
        return f"{format_age(max(0.0, now - stamp))} ago"

    def stamp_or_none(key: str) -> tuple[bool, float | None]:
        raw = state.get(key)
        if raw is None:
            return True, None
        parsed = parse_stamp(raw)
        return parsed is not None, parsed

    def flag(key: str) -> bool | None:
        raw = state.get(key)
        return raw if isinstance(raw, bool) else None

    interval = state.get("interval_s")
    if not isinstance(interval, int | float) or isinstance(interval, bool) or not 0 < interval <= MAX_INTERVAL_S:
        interval = DEFAULT_INTERVAL_S
    stale_after = WATCH_STALE_INTERVALS * interval
    polled_ok, polled = stamp_or_none("last_poll_at")
    reloaded_ok, reloaded = stamp_or_none("last_reload_at")
    if not (polled_ok and reloaded_ok):
        return WARN, "its state file is not the watcher's (a timestamp is not ISO 8601)", rewrite
    poll_good, reload_good = flag("last_poll_ok"), flag("last_reload_ok")
    error = _error_line(state.get("last_error"))
    because = f": {error}" if error else ""
    advised = state.get("fix")
    if error and isinstance(advised, str) and advised:
        # Only a person can do this (a new gateway token, a gateway restart); the watcher said which.
        fix = f"{_error_line(advised, WATCH_FIX_CHARS)}; {fix}"

    if not alive:
        last = f"; its last poll was {ago(polled)}" if polled is not None else ""
        return WARN, f"not running (pid {pid} has exited{last}): rotations do not reach the gateway", fix
    if polled is None:
        if now - started <= stale_after:
            return PASS, f"running (pid {pid}), started {ago(started)}, no poll yet", ""
        return WARN, f"running (pid {pid}) but has not polled since it started {ago(started)}{because}", fix
    limit = stale_after if poll_good else max(WATCH_BACKOFF_STALE_S, 2 * interval)
    if now - polled > limit:
        return WARN, f"running (pid {pid}) but its last poll was {ago(polled)} (stale after {format_age(limit)}){because}", fix
    if poll_good is False:
        return WARN, f"running (pid {pid}), its last poll {ago(polled)} failed, retrying with backoff{because}", fix
    pending = _undelivered(state.get("undelivered"))
    if pending:
        shown = ", ".join(f"{name} since {ago(seen)}" for name, seen in pending[:WATCH_UNDELIVERED_SHOWN])
        more = f" and {len(pending) - WATCH_UNDELIVERED_SHOWN} more" if len(pending) > WATCH_UNDELIVERED_SHOWN else ""
        return WARN, f"running (pid {pid}), but the gateway does not hold {len(pending)} change(s) yet: {shown}{more}{because}", (
            "the watcher retries on its own; until the gateway's own resolve reaches Supabase (not the cache) they "
            f"stay pending: check that host's Supabase access (bridge doctor there); {fix}"
        )
    if reloaded is None:
        reload = "no reload yet"
    elif reload_good is False:
        return WARN, f"running (pid {pid}), last poll {ago(polled)}, but its last reload {ago(reloaded)} failed{because}", fix
    else:
        reload = f"last reload {ago(reloaded)}" + (" ok" if reload_good else "")
    return PASS, f"running (pid {pid}), last poll {ago(polled)}, {reload}", ""


def render(checks: list[Check], out: TextIO) -> None:
    for check in checks:
        print(f"{check.status.upper():<5} {check.name}: {check.detail}", file=out)
        if check.fix and check.status in (FAIL, WARN):
            print(f"      fix: {check.fix}", file=out)


def handle_doctor(args: argparse.Namespace, ctx: Context) -> int:
    from bridge.openclaw.config import check_provider_name

    checks = Doctor(ctx, check_provider_name(args.provider)).run()
    ok = all(c.status != FAIL for c in checks)
    if args.json:
        ctx.out.write(json.dumps({"ok": ok, "version": __version__, "checks": [asdict(c) for c in checks]}, indent=2) + "\n")
    else:
        render(checks, ctx.out)
    return 0 if ok else 1


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    add_json(parser)
    add_provider(parser)


VERBS = {
    "doctor": Verb(
        "doctor", "check install, permissions, OpenClaw registration, credentials, Supabase and cache",
        "bridge doctor --json", handle_doctor, add_doctor_arguments,
    ),
}
