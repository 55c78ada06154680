"""`bridge doctor`: everything between the gateway and a secret, checked in order, each failure with its fix.

OpenClaw shows only error codes from exec providers, never their messages, so
this is where a person learns why a ref does not resolve. It never prints a
secret: keys appear as prefix...last4, values not at all.
"""

from __future__ import annotations

import argparse
import json
import platform
from dataclasses import asdict
from typing import TextIO

from bridge import __version__
from bridge.app.context import Context
from bridge.app.verbs import Verb, add_json, add_provider
from bridge.checks.base import FAIL, PASS, SKIP, WARN, Check
from bridge.checks.integrations import IntegrationChecks
from bridge.checks.local import LocalChecks
from bridge.checks.openclaw import OpenClawChecks
from bridge.checks.server import ServerChecks
from bridge.checks.watcher import WatcherChecks
from bridge.core.credentials import Credentials


class Doctor(LocalChecks, ServerChecks, OpenClawChecks, WatcherChecks, IntegrationChecks):
    """Every check, in the order a person reads them: this machine, OpenClaw, the project, the watcher."""

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
