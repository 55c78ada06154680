"""Doctor's checks of the Supabase project: reachable, the key accepted, setup.sql's version, a canary resolve, rotation due dates, alerts, the cache."""

from __future__ import annotations

import socket
import time

from bridge import SCHEMA_VERSION
from bridge.checks.base import FAIL, PASS, SKIP, WARN, DoctorBase
from bridge.core.credentials import Credentials
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.limits import MAX_IDS
from bridge.core.text import cell, minute
from bridge.vault.client import VaultClient
from bridge.vault.errors import SETUP_FIX

CANARY = "bridge-doctor-canary"
ALERT_HOURS = 24
"""The period doctor's one alert line covers: a day, so a daily look sees each alert once."""


class ServerChecks(DoctorBase):
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

