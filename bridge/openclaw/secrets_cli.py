"""OpenClaw's own secrets machinery, as the bridge drives it: `openclaw secrets audit` and `secrets apply`.

Both speak JSON with `--json`; anything else on stdout is a failure named in
one line. Exec refs are resolved (so the bridge itself is run by OpenClaw)
only with `allow_exec`, as OpenClaw requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bridge.core.errors import BridgeError
from bridge.openclaw.runner import MAX_DETAIL_CHARS, run_openclaw

AUDIT_TIMEOUT_S = 120


def _json(command: str, args: list[str], env: Mapping[str, str], *, check: bool) -> dict[str, Any]:
    """The JSON object a `--json` command prints; with `check`, a non-zero exit is an error quoting OpenClaw."""
    done = run_openclaw(command, args, env, check=check, timeout=AUDIT_TIMEOUT_S)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        detail = " ".join((done.stderr or done.stdout).split())[:MAX_DETAIL_CHARS]
        raise BridgeError(f"`openclaw {' '.join(args[:2])}` gave no JSON report (exit {done.returncode}): {detail}")
    return result


def audit(command: str, env: Mapping[str, str], *, allow_exec: bool) -> dict[str, Any]:
    """`openclaw secrets audit --json`: findings and, with `allow_exec`, whether every exec ref resolves. Its exit
    code speaks of findings, not of failure, so only a missing report is an error."""
    return _json(command, ["secrets", "audit", "--json", *(["--allow-exec"] if allow_exec else [])], env, check=False)


def apply_plan(command: str, env: Mapping[str, str], plan_file: Path, *, dry_run: bool) -> dict[str, Any]:
    """`openclaw secrets apply --from PLAN --allow-exec --json`; a refused plan is an error quoting OpenClaw."""
    args = ["secrets", "apply", "--from", str(plan_file), "--allow-exec", "--json", *(["--dry-run"] if dry_run else [])]
    return _json(command, args, env, check=True)


UNRESOLVED = "REF_UNRESOLVED"


def unresolved(report: Mapping[str, Any], provider: str | None = None) -> list[str]:
    """The config paths of refs the audit could not resolve; with `provider`, only refs through that exec provider
    (OpenClaw names them `exec:<provider>:<id>` in the finding's message)."""
    prefix = None if provider is None else f"exec:{provider}:"
    return [
        str(f.get("jsonPath")) for f in report.get("findings") or []
        if isinstance(f, dict) and f.get("code") == UNRESOLVED and (prefix is None or prefix in str(f.get("message", "")))
    ]
