"""What every doctor check is and how it is recorded: a check that raises still yields a line, never a traceback.

The checks themselves live by what they look at (local, server, openclaw, watcher, integrations), each a mixin
over DoctorBase; bridge.checks.doctor puts them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.app.context import Context
from bridge.core.errors import BridgeError

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


class DoctorBase:
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

    def is_gateway(self) -> bool:
        """This machine's OpenClaw config has the provider: gateways run here."""
        from bridge.openclaw.config import config_path, providers, read_config

        try:
            doc = read_config(config_path(self.env))
        except BridgeError:
            return False
        return doc is not None and self.provider in providers(doc)
