"""install.sh --with-ui: the dashboard's libraries in the venv, kept by later runs, and the resolve path without them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.bridge_proc import install
from tests.test_install_safety import default_prefix, manifest_lines, one_line_error, steps, user_env


@pytest.mark.install
def test_with_ui_installs_the_dashboard_keeps_it_and_resolve_never_imports_it(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = default_prefix(env)
    dry = install(env, "--with-ui", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "==> install openclaw-supabase-bridge with its dashboard (bridge ui) from" in "\n".join(steps(dry))
    assert not prefix.exists()

    done = install(env, "--with-ui")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ui" in manifest_lines(prefix) and f"the dashboard: {prefix}/bridge ui" in done.stdout
    python = str(prefix / "venv" / "bin" / "python")
    helped = subprocess.run([str(prefix / "bridge"), "ui", "--help"], env=env, capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "--no-browser" in helped.stdout
    # The resolve path of the installed bridge imports none of the web stack.
    probe = ("import sys, bridge.resolve.command, bridge.resolve.run, bridge.cli; "
             "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules))")
    loaded = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"

    again = install(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "ui" in manifest_lines(prefix), "a later run without --with-ui keeps the dashboard"
    assert any("with its dashboard" in step for step in steps(again))

    one_line_error(install(env, "--uninstall", "--with-ui"), 2, "--with-ui goes with an install")
