"""`bridge migrate --mcp` never loses, half-writes or silently overwrites a user's MCP config.

Two names for one file, an edit while the [y/N] prompt waits, a signal during the start check, and a kill at
every system call of the rewrite (strace's fault injection delivers SIGKILL on entry to the chosen call).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.migrate.rewrites import PREFIX, recover
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, resolve, run_bridge
from tests.support.procs import gone
from tests.support.terminal import on_a_terminal
from tests.test_migrate_mcp import GITHUB_PAT, SERVER, claude_config, digest, files_holding

SIGNALLER = """\
import os, signal, subprocess, sys
# Started by the start check: note this process and a child of its own, then signal the migrating bridge.
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
with open(sys.argv[1], "w") as out:
    out.write(f"{os.getpid()} {child.pid}")
os.kill(os.getppid(), int(sys.argv[2]))
for line in sys.stdin:
    pass
child.wait()
"""


@pytest.fixture
def home(tmp_path: Path, env_bootstrap: dict[str, str]) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mcp-server.py").write_text(SERVER)
    env = {**env_bootstrap, "HOME": str(home)}
    return home, env


def copies_in(env: dict[str, str]) -> list[Path]:
    return list(Path(env["BRIDGE_HOME"]).glob(f"{PREFIX}*"))


def test_two_names_for_one_file_are_read_once_and_put_back_on_failure(home: tuple[Path, dict[str, str]], vault: Vault) -> None:
    root, env = home
    doc = claude_config(root, root / "mcp-server.py")
    doc["mcpServers"]["github"]["args"].append(f"MISSING={digest('x')}")
    desktop = root / ".config" / "Claude" / "claude_desktop_config.json"
    desktop.parent.mkdir(parents=True)
    desktop.write_text(json.dumps(doc, indent=4))
    desktop.chmod(0o640)
    cursor = root / ".cursor" / "mcp.json"
    cursor.parent.mkdir()
    cursor.symlink_to(desktop)
    before, inode = desktop.read_bytes(), desktop.stat().st_ino
    vault.names += ["GITHUB_PAT", "GITHUB_PERSONAL_ACCESS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "SLACK_HOOK"]
    done = run_bridge(["migrate", "--mcp", "--yes"], env)
    assert done.returncode == 1 and "every file was put back as it was" in done.stderr
    assert desktop.read_bytes() == before and desktop.stat().st_ino == inode and desktop.stat().st_mode & 0o777 == 0o640
    assert f"{cursor} is the same file as {desktop}; read once" in done.stdout.decode()
    assert cursor.is_symlink() and copies_in(env) == []


def test_a_change_made_while_the_prompt_waits_stops_the_run_with_nothing_changed(
    home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    config = root / "mcp.json"
    config.write_text(json.dumps(claude_config(root, root / "mcp-server.py"), indent=2))
    edited = claude_config(root, root / "mcp-server.py")
    edited["mcpServers"]["added-meanwhile"] = {"command": "true"}
    vault.names += ["GITHUB_PAT", "GITHUB_PERSONAL_ACCESS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "SLACK_HOOK"]

    def someone_edits() -> None:
        config.write_text(json.dumps(edited, indent=2))

    code, screen = on_a_terminal([str(BRIDGE), "migrate", "--mcp", str(config)], env, b"[y/N]", b"y\n", someone_edits)
    assert code == 1, screen
    assert "changed since it was read" in screen
    assert json.loads(config.read_text()) == edited, "the edit made meanwhile is kept"
    response, _ = resolve(env, "GITHUB_PAT")
    assert response["values"] == {}, "nothing was stored either"
    assert GITHUB_PAT not in screen


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_the_start_check_rolls_back_and_stops_the_server_and_its_children(
    home: tuple[Path, dict[str, str]], vault: Vault, signum: int,
) -> None:
    root, env = home
    signaller = root / "signaller.py"
    signaller.write_text(SIGNALLER)
    pids = root / "pids"
    config = root / "mcp.json"
    doc: dict[str, Any] = {"mcpServers": {
        "signaller": {"command": sys.executable, "args": [str(signaller), str(pids), str(int(signum))],
                      "env": {"SIGNAL_TEST_TOKEN": GITHUB_PAT}},
    }}
    config.write_text(json.dumps(doc))
    config.chmod(0o600)
    before = config.read_bytes()
    vault.names += ["SIGNAL_TEST_TOKEN"]
    done = run_bridge(["migrate", "--mcp", str(config), "--yes"], env)
    assert done.returncode == 1, done.stderr
    assert "every file was put back as it was" in done.stderr and "interrupted" in done.stderr
    assert config.read_bytes() == before and copies_in(env) == []
    server, child = (int(p) for p in pids.read_text().split())
    assert gone(server) and gone(child), "the checked server and what it started were stopped"
    assert GITHUB_PAT not in done.all_output()


def test_a_disabled_server_is_never_started_and_never_blocks(home: tuple[Path, dict[str, str]], vault: Vault) -> None:
    root, env = home
    config = root / "mcp.json"
    started = root / "started"
    doc = {"mcpServers": {"off": {"command": "/bin/sh", "args": ["-c", f"touch {started}; exit 3"],
                                  "env": {"OFF_API_KEY": GITHUB_PAT}, "disabled": True}}}
    config.write_text(json.dumps(doc))
    vault.names += ["OFF_API_KEY"]
    done = run_bridge(["migrate", "--mcp", str(config), "--yes"], env)
    assert done.returncode == 0, done.stderr
    assert not started.exists()
    assert json.loads(config.read_text())["mcpServers"]["off"]["disabled"] is True
    assert files_holding(root, GITHUB_PAT) == []


REWRITER = """\
import sys
from pathlib import Path
from bridge.migrate.rewrites import remove_copies, rewrite_with_copy
data_dir, target, new = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]).read_bytes()
old = target.read_bytes()
print("ready", flush=True)
sys.stdin.readline()
copies: list[Path] = []
rewrite_with_copy(data_dir, target, old, new, copies)
remove_copies(copies)
"""
SYSCALLS = ("mkdir", "openat", "newfstatat", "write", "fsync", "close", "rename", "ftruncate", "unlink")
"""Every call the rewrite makes (checked with strace), each killed at its 1st, 2nd, ... call until it finishes."""


def killed_at(syscall: int | str, nth: int, data_dir: Path, target: Path, new: Path, script: Path) -> bool:
    """Run the rewrite with SIGKILL delivered on entry to the nth call of `syscall` after it starts; whether it was
    killed (False: it finished first)."""
    proc = subprocess.Popen([sys.executable, str(script), str(data_dir), str(target), str(new)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline() == "ready\n"
    tracer = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-p", str(proc.pid), "-e", f"trace={syscall}",
                               "-e", f"inject={syscall}:signal=SIGKILL:when={nth}"], stderr=subprocess.PIPE, text=True)
    assert tracer.stderr is not None
    assert "attached" in tracer.stderr.readline(), "strace is attached before the rewrite starts"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    code = proc.wait()
    tracer.wait()
    return code == -signal.SIGKILL


def test_a_kill_at_every_system_call_of_the_rewrite_leaves_the_file_whole_or_restored_by_the_next_run(
    tmp_path: Path, home: tuple[Path, dict[str, str]], vault: Vault,
) -> None:
    root, env = home
    data_dir = tmp_path / "data"
    script = tmp_path / "rewriter.py"
    script.write_text(REWRITER)
    old_doc = claude_config(root, root / "mcp-server.py")
    old = (json.dumps(old_doc, indent=4) + "\n" + " " * 512).encode()
    new_doc = {"mcpServers": {"github": {"command": "bridge", "args": ["run"]}}}
    new_file = tmp_path / "new.json"
    new_file.write_bytes(json.dumps(new_doc).encode())
    target = root / "mcp.json"
    target.write_bytes(old)
    target.chmod(0o644)
    inode = target.stat().st_ino
    kills = 0
    for syscall in SYSCALLS:
        nth = 1
        while killed_at(syscall, nth, data_dir, target, new_file, script):
            kills += 1
            now = target.read_bytes()
            copies = list(data_dir.glob(f"{PREFIX}*"))
            whole = now in (old, new_file.read_bytes())
            assert whole or copies, f"killed at {syscall} #{nth}: a half-written file and no copy to restore it from"
            for copy in copies:
                assert copy.stat().st_mode & 0o777 == 0o600 and data_dir.stat().st_mode & 0o777 == 0o700
            recover(data_dir)
            assert target.read_bytes() in (old, new_file.read_bytes()), f"killed at {syscall} #{nth}"
            assert not data_dir.is_dir() or list(data_dir.iterdir()) == [], "no copy, no temporary file left"
            assert target.stat().st_ino == inode and target.stat().st_mode & 0o777 == 0o644
            target.write_bytes(old)
            nth += 1
        assert target.read_bytes() == new_file.read_bytes(), f"{syscall}: the rewrite finished"
        target.write_bytes(old)
    assert kills >= len(SYSCALLS)

    # The next `bridge migrate --mcp` restores a copy before it reads anything.
    assert killed_at("ftruncate", 1, Path(env["BRIDGE_HOME"]), target, new_file, script)
    assert not _parses(target.read_bytes()), "new JSON followed by the old file's tail"
    done = run_bridge(["migrate", "--mcp", str(target), "--dry-run"], env)
    assert done.returncode == 0, done.stderr
    assert f"{target} was put back as it was before an interrupted bridge migrate --mcp" in done.stderr
    assert target.read_bytes() == old and copies_in(env) == [] and target.stat().st_ino == inode
    assert "mcpServers.github starts through bridge run" in done.stdout.decode()
    assert GITHUB_PAT not in done.all_output()


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True

