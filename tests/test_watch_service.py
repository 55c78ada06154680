"""`bridge watch install` and `bridge watch uninstall`: the watcher's systemd unit or launchd agent, written atomically
(0600), driven with bounded, checked calls, idempotent, and removed only when it is the one written for this launcher.

The service managers are stand-ins on PATH (`systemctl`, `launchctl`) that log how they were called and answer as
told: a CI machine has no user manager to talk to. The files are real.
"""

from __future__ import annotations

import json
import os
import plistlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from bridge.core.errors import BridgeError
from bridge.watch.service import (
    CALL_TIMEOUT_S,
    LAUNCHD,
    SYSTEMD,
    Call,
    ServiceManager,
    run_command,
    service_for,
)
from tests.support.bridge_proc import Result, run_bridge

pytestmark = pytest.mark.unit

UNIT = "openclaw-supabase-bridge-watch.service"
LABEL = "com.openclaw-supabase-bridge.watch"
LAUNCHER = "/opt/bridge/bridge"


def user(tmp_path: Path, *, manager: bool = True, fail: str = "") -> tuple[dict[str, str], Path]:
    """A HOME and BRIDGE_HOME, and stand-in systemctl/launchctl on PATH that log their argv. With manager False,
    the question "does a manager answer" is answered no; a call whose words contain `fail` exits 1 saying why."""
    home = tmp_path / "home"
    home.mkdir()
    bridge_home = tmp_path / "bridge-home"
    bridge_home.mkdir(mode=0o700)
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    log = tmp_path / "manager.log"
    log.touch()
    answer = "" if manager else 'case "$*" in *show-environment*|"print gui/"*) exit 1 ;; esac\n'
    failing = f'case "$*" in *"{fail}"*) echo "Failed to {fail}: Unit is masked." >&2; exit 1 ;; esac\n' if fail else ""
    for tool in ("systemctl", "launchctl"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\n{answer}{failing}exit 0\n')
        (bin_dir / tool).chmod(0o755)
    env = {"HOME": str(home), "BRIDGE_HOME": str(bridge_home), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    return env, log


def unit_of(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".config" / "systemd" / "user" / UNIT


def acted(log: Path) -> list[str]:
    """The calls that change something, without the questions."""
    return [c for c in log.read_text().splitlines() if not any(q in c for q in ("show-environment", "is-active", "print gui/"))]


def watch(env: dict[str, str], *args: str) -> Result:
    done = run_bridge(["watch", *args, "--command", LAUNCHER], env)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def one_line(done: Result, code: int, *needles: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("bridge: ") and done.stderr.count("\n") == 1, done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


def test_install_writes_a_private_unit_enables_it_and_a_second_install_changes_nothing_and_says_so(tmp_path: Path) -> None:
    env, log = user(tmp_path)
    unit = unit_of(env)
    dry = watch(env, "install", "--manager", SYSTEMD, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert not unit.parent.exists() and acted(log) == [], "the dry run changed something"

    first = watch(env, "install", "--manager", SYSTEMD)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().splitlines()[:2] == dry.stdout.decode().splitlines()[1:3]
    assert acted(log) == ["systemctl --user daemon-reload", f"systemctl --user enable --now {UNIT}"]
    assert unit.stat().st_mode & 0o777 == 0o600
    lines = unit.read_text().splitlines()
    assert f"ExecStart={LAUNCHER} watch" in lines and "Restart=on-failure" in lines and "RestartMaxDelaySec=300" in lines
    assert f"Environment=BRIDGE_HOME={env['BRIDGE_HOME']}" in lines
    assert [p.name for p in unit.parent.iterdir()] == [UNIT], "no temporary file left beside it"
    inode = unit.stat().st_ino

    log.write_text("")
    again = watch(env, "install", "--manager", SYSTEMD)
    assert again.returncode == 0, again.stderr
    said = again.stdout.decode().splitlines()
    assert f"keep {unit}: it is up to date" in said and "the watcher runs: nothing to change" in said
    assert acted(log) == [] and unit.stat().st_ino == inode, "a second install changed something"


def test_install_json_says_what_it_did(tmp_path: Path) -> None:
    env, _ = user(tmp_path, manager=False)
    done = watch(env, "install", "--manager", SYSTEMD, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["manager"] == SYSTEMD and doc["state"] == "new" and doc["manager_answers"] is False
    assert doc["file"] == str(unit_of(env)) and doc["commands"] == [] and doc["dry_run"] is False
    assert doc["start"] == f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT}"
    again = json.loads(watch(env, "install", "--manager", SYSTEMD, "--json").stdout)
    assert again["state"] == "unchanged"


def test_the_options_given_go_into_the_unit_and_a_changed_one_restarts_the_running_watcher(tmp_path: Path) -> None:
    env, log = user(tmp_path)
    unit = unit_of(env)
    assert watch(env, "install", "--manager", SYSTEMD).returncode == 0
    log.write_text("")
    done = watch(env, "install", "--manager", SYSTEMD, "--interval", "2s", "--gateway-url", "ws://127.0.0.1:18790",
                 "--provider", "vault2")
    assert done.returncode == 0, done.stderr
    assert f"ExecStart={LAUNCHER} watch --provider vault2 --interval 2s --gateway-url ws://127.0.0.1:18790" in unit.read_text().splitlines()
    assert json.loads(watch(env, "install", "--manager", SYSTEMD, "--interval", "2s", "--gateway-url",
                            "ws://127.0.0.1:18790", "--provider", "vault2", "--json", "--dry-run").stdout)["state"] == "unchanged"
    assert acted(log) == [
        "systemctl --user daemon-reload", f"systemctl --user enable {UNIT}", f"systemctl --user reset-failed {UNIT}",
        f"systemctl --user restart {UNIT}",
    ]


def test_a_failing_manager_is_one_line_naming_the_command_and_the_file_stays_to_retry(tmp_path: Path) -> None:
    env, _ = user(tmp_path, fail="enable")
    done = watch(env, "install", "--manager", SYSTEMD)
    one_line(done, 1, f"`systemctl --user enable --now {UNIT}` failed (exit 1: Failed to enable: Unit is masked.)",
             "is in place")
    assert unit_of(env).exists()


def test_a_manager_that_hangs_or_is_missing_is_one_line() -> None:
    service = service_for(SYSTEMD, Path(LAUNCHER), ["watch"], [], {"HOME": "/nonexistent-home"})
    asked: list[tuple[list[str], float]] = []

    def hangs(argv: Sequence[str], timeout: float) -> Call:
        asked.append((list(argv), timeout))
        return Call(None, f"no answer within {timeout:g} s")

    with pytest.raises(BridgeError) as failed:
        ServiceManager(service, hangs).call(["systemctl", "--user", "daemon-reload"], "retry")
    assert str(failed.value) == "`systemctl --user daemon-reload` failed (did not run: no answer within 30 s); retry"
    assert asked == [(["systemctl", "--user", "daemon-reload"], CALL_TIMEOUT_S)]
    assert run_command(["/nonexistent/systemctl"], 1.0) == Call(None, "No such file or directory")


def test_uninstall_stops_and_removes_exactly_what_install_wrote(tmp_path: Path) -> None:
    env, log = user(tmp_path)
    unit = unit_of(env)
    unit.parent.mkdir(parents=True)
    mine = unit.parent / "mine.service"
    mine.write_text("[Service]\nExecStart=/bin/true\n")
    assert watch(env, "install", "--manager", SYSTEMD).returncode == 0
    log.write_text("")
    dry = watch(env, "uninstall", "--manager", SYSTEMD, "--dry-run")
    assert dry.returncode == 0 and unit.exists() and acted(log) == []
    gone = watch(env, "uninstall", "--manager", SYSTEMD)
    assert gone.returncode == 0, gone.stderr
    assert acted(log) == [f"systemctl --user disable --now {UNIT}", "systemctl --user daemon-reload"]
    assert sorted(p.name for p in unit.parent.iterdir()) == ["mine.service"]
    again = watch(env, "uninstall", "--manager", SYSTEMD)
    assert again.returncode == 0 and f"no watcher to remove: {unit} is not there" in again.stdout.decode()


def test_a_failed_stop_removes_nothing(tmp_path: Path) -> None:
    env, _ = user(tmp_path, fail="disable")
    assert watch(env, "install", "--manager", SYSTEMD).returncode == 0
    one_line(watch(env, "uninstall", "--manager", SYSTEMD), 1, "disable --now", "nothing was removed")
    assert unit_of(env).exists()


@pytest.mark.parametrize("theirs", ["[Service]\nExecStart=/opt/mine/watch\n",
                                    "# made by openclaw-supabase-bridge's install.sh for /other/bridge\n[Service]\n"])
def test_a_unit_written_for_another_launcher_is_refused_and_kept(tmp_path: Path, theirs: str) -> None:
    env, log = user(tmp_path)
    unit = unit_of(env)
    unit.parent.mkdir(parents=True)
    unit.write_text(theirs)
    one_line(watch(env, "install", "--manager", SYSTEMD), 1, f"{unit} is there already", "left it alone")
    kept = watch(env, "uninstall", "--manager", SYSTEMD)
    assert kept.returncode == 0 and f"keep {unit}: install.sh did not write it for {LAUNCHER}" in kept.stdout.decode()
    assert unit.read_text() == theirs and acted(log) == []


def test_without_a_manager_uninstall_removes_the_enable_link_by_hand(tmp_path: Path) -> None:
    env, log = user(tmp_path, manager=False)
    unit = unit_of(env)
    assert watch(env, "install", "--manager", SYSTEMD).returncode == 0
    wants = unit.parent / "default.target.wants" / UNIT
    wants.parent.mkdir()
    wants.symlink_to(unit)
    gone = watch(env, "uninstall", "--manager", SYSTEMD)
    assert gone.returncode == 0, gone.stderr
    assert not unit.exists() and not wants.is_symlink() and acted(log) == []


@pytest.mark.parametrize("name", ["BRIDGE_HOME", "XDG_CONFIG_HOME", "HOME"])
def test_a_setting_that_would_break_the_file_is_refused_before_anything(tmp_path: Path, name: str) -> None:
    env, log = user(tmp_path)
    env[name] = f"{env['HOME']}/a b\nExecStartPre=/bin/evil"
    done = watch(env, "install", "--manager", SYSTEMD)
    one_line(done, 2, name, "absolute path")
    assert not (tmp_path / "home" / ".config").exists() and acted(log) == []


def test_on_macos_the_agent_is_bootstrapped_and_booted_out(tmp_path: Path) -> None:
    env, log = user(tmp_path)
    plist = Path(env["HOME"]) / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    uid = os.getuid()
    done = watch(env, "install", "--manager", LAUNCHD, "--provider", "vault2")
    assert done.returncode == 0, done.stderr
    agent = plistlib.loads(plist.read_bytes())
    assert agent["ProgramArguments"] == [LAUNCHER, "watch", "--provider", "vault2"]
    assert agent["StandardErrorPath"] == f"{env['HOME']}/Library/Logs/openclaw-supabase-bridge-watch.log"
    assert plist.stat().st_mode & 0o777 == 0o600
    assert acted(log) == [f"launchctl bootstrap gui/{uid} {plist}"]
    log.write_text("")
    assert watch(env, "uninstall", "--manager", LAUNCHD).returncode == 0
    assert acted(log) == [f"launchctl bootout gui/{uid}/{LABEL}"] and not plist.exists()


def test_running_the_watcher_keeps_its_options() -> None:
    """`bridge watch --interval` still runs the watcher: the actions are optional, and refuse what the verb refuses."""
    import argparse

    from bridge.cli.registry import build_parser

    parser = build_parser("0", ["watch"])
    args = parser.parse_args(["watch", "--interval", "5s", "--once"])
    assert isinstance(args, argparse.Namespace) and args.action is None and args.interval == "5s" and args.once
    args = parser.parse_args(["watch", "install", "--interval", "5s", "--dry-run"])
    assert args.action == "install" and args.interval == "5s" and args.dry_run


def test_install_sh_asks_before_it_makes_anything_with_the_standard_library_only(tmp_path: Path) -> None:
    """install.sh runs this with the checkout's Python before any venv exists: no site-packages (-S), no bridge
    module that needs one."""
    import subprocess
    import sys

    from tests.support.bridge_proc import REPO

    env, _ = user(tmp_path)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from bridge.watch.service import precheck; code = precheck(sys.argv[2:]); "
              "third = sorted(m for m in sys.modules if m.split('.')[0] in ('json5', 'httpx', 'keyring', 'cryptography')); "
              "sys.exit(code or (f'imported {third}' if third else 0))")

    def ask() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-S", "-I", "-c", script, str(REPO), SYSTEMD, LAUNCHER], env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    assert (ask().returncode, ask().stdout) == (0, "new\n")
    assert watch(env, "install", "--manager", SYSTEMD).returncode == 0
    assert (ask().returncode, ask().stdout) == (0, "ours\n")
    unit_of(env).write_text("[Service]\nExecStart=/opt/mine/watch\n")
    refused = ask()
    assert refused.returncode == 1 and refused.stdout == "" and refused.stderr.count("\n") == 1
    assert "is there already" in refused.stderr


def test_an_option_that_would_split_or_add_a_line_to_the_unit_is_written_plain_or_refused(tmp_path: Path) -> None:
    env, log = user(tmp_path)
    unit = unit_of(env)
    done = watch(env, "install", "--manager", SYSTEMD, "--interval", "0.5m\nExecStartPre=/bin/evil")
    assert done.returncode == 2 and not unit.parent.exists()
    assert watch(env, "install", "--manager", SYSTEMD, "--interval", "0.5m\n").returncode == 0
    assert [line for line in unit.read_text().splitlines() if line.startswith("ExecStart")] == [f"ExecStart={LAUNCHER} watch --interval 30s"]
    unit.unlink()
    one_line(watch(env, "install", "--manager", SYSTEMD, "--interval", "30 s", "--gateway-url", "wss://gw.example/ x"), 2,
             "cannot go into the watcher's service file")
    assert not unit.exists() and acted(log) == ["systemctl --user daemon-reload", f"systemctl --user enable --now {UNIT}"]
