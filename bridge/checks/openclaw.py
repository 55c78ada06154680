"""Doctor's checks of OpenClaw: the provider registration in openclaw.json, and OpenClaw's own secrets audit."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.checks.base import FAIL, PASS, SKIP, WARN, DoctorBase
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.limits import GATEWAY_TIMEOUT_MS


class OpenClawChecks(DoctorBase):
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

