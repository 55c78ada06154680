"""install.sh --with-watch: the watcher's unit or agent (written by `bridge watch install`, which install.sh runs),
started only by a service manager that answers, and removed by --uninstall (`bridge watch uninstall`) only when it is
the one written for this launcher; doctor's watcher line from the watcher's state file.

The service managers are stand-ins on PATH (`systemctl`, `launchctl`, and `uname` saying Darwin) that log how they
were called: install.sh itself has no switch for tests, and a CI machine has no user manager to talk to.
"""

from __future__ import annotations

import json
import os
import plistlib
import time
from pathlib import Path

import pytest

from bridge.checks.base import PASS, SKIP, WARN
from bridge.checks.watcher import WATCH_BACKOFF_STALE_S, WATCH_ERROR_CHARS, WATCH_STALE_INTERVALS, judge_watcher
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.local.watch_facts import DEFAULT_INTERVAL_S
from bridge.openclaw.config import check_provider_name
from tests.support.bridge_proc import install, run_bridge
from tests.test_install_safety import MANIFEST, default_prefix, manifest_lines, one_line_error, steps, tree, user_env

UNIT = "openclaw-supabase-bridge-watch.service"
LABEL = "com.openclaw-supabase-bridge.watch"
START = f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT}"
NOW = 1_800_000_000.0
STALE = int(WATCH_STALE_INTERVALS * DEFAULT_INTERVAL_S)
"""When doctor calls a watcher that states no interval of its own stale."""


def stamp(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - seconds_ago))


def unit_path(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".config" / "systemd" / "user" / UNIT


def fake_tools(env: dict[str, str], root: Path, *, manager: bool, darwin: bool = False) -> Path:
    """systemctl and launchctl that log their arguments and answer as a running (or absent) manager; on darwin, a
    uname that says Darwin to `uname -s` and leaves the rest to the real one. Returns the log."""
    bin_dir = root / "fake-bin"
    bin_dir.mkdir()
    log = root / "manager.log"
    log.touch()
    answer = "exit 0" if manager else 'case "$*" in *show-environment*|"print gui/"*) exit 1 ;; esac; exit 0'
    for tool in ("systemctl", "launchctl"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\n{answer}\n')
        (bin_dir / tool).chmod(0o755)
    if darwin:
        (bin_dir / "uname").write_text('#!/bin/sh\n[ "$*" = -s ] && { echo Darwin; exit 0; }\nexec /usr/bin/uname "$@"\n')
        (bin_dir / "uname").chmod(0o755)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return log


def user_tree(env: dict[str, str]) -> dict[str, tuple[object, ...]]:
    """HOME and BRIDGE_HOME, not the stand-ins' log (which a dry run writes to)."""
    return tree(Path(env["HOME"]), Path(env["BRIDGE_HOME"]))


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


def asked(log: Path) -> list[str]:
    """The calls that act, without the questions (does a manager answer, is the watcher running)."""
    return [c for c in calls(log) if "show-environment" not in c and "is-active" not in c and "print gui/" not in c]


# --- Linux: a systemd user unit -----------------------------------------------------------------


@pytest.mark.install
def test_with_watch_and_no_user_manager_writes_the_unit_prints_the_command_and_uninstall_removes_only_it(
    tmp_path: Path,
) -> None:
    env = user_env(tmp_path)
    log = fake_tools(env, tmp_path, manager=False)
    prefix = default_prefix(env)
    launcher = prefix / "bridge"
    unit = unit_path(env)
    # A unit of the user's own, in the same directory: nothing install.sh does may touch it.
    unit.parent.mkdir(parents=True)
    mine = unit.parent / "mine.service"
    mine.write_text("[Service]\nExecStart=/bin/true\n")

    before = user_tree(env)
    dry = install(env, "--with-watch", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert user_tree(env) == before, "the dry run changed something"

    real = install(env, "--with-watch")
    assert real.returncode == 0, real.stdout + real.stderr
    assert steps(real) == steps(dry)
    assert steps(real)[-1] == f"==> set up the watcher: {launcher} watch install"
    for said in (dry, real):
        assert f"write {unit} (mode 0600): runs {launcher} watch, restarted on failure" in said.stdout.splitlines()
        assert f"leave the watcher stopped: no systemd user manager answers here; to start it: {START}" in said.stdout.splitlines()
    assert f"  3. {launcher} watch install --restart    (starts the watcher" in real.stdout
    assert f"  4. {launcher} doctor\n" in real.stdout
    assert set(calls(log)) == {"systemctl --user show-environment"}, "nothing but the question was asked"
    assert manifest_lines(prefix) == ["created-dir", "venv", "bridge", "watch"]

    text = unit.read_text()
    lines = text.splitlines()
    assert lines[0] == f"# made by openclaw-supabase-bridge's install.sh for {launcher}"
    assert f"ExecStart={launcher} watch" in lines
    for setting in ("Restart=on-failure", "RestartSec=5", "RestartSteps=6", "RestartMaxDelaySec=300",
                    "StartLimitIntervalSec=300", "StartLimitBurst=5",
                    "WantedBy=default.target", f"Environment=BRIDGE_HOME={env['BRIDGE_HOME']}"):
        assert setting in lines, text
    # The start limit is a [Unit] setting: systemd ignores it in [Service].
    assert lines.index("StartLimitBurst=5") < lines.index("[Service]")
    assert not [line for line in lines if "KEY" in line or "TOKEN" in line or "SUPABASE_" in line], text
    assert unit.stat().st_mode & 0o777 == 0o600

    # Again, without --with-watch: the watcher is part of the install now, and stays as it was.
    again = install(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert unit.read_text() == text and "watch" in manifest_lines(prefix)
    assert steps(again) == [
        f"==> update the install in {prefix} (mode 0700)", *steps(real)[1:2], *steps(real)[3:-1],
        f"==> set up the watcher: {launcher} watch install --restart",
    ]
    assert f"keep {unit}: it is up to date" in again.stdout.splitlines()

    # The link `systemctl --user enable` made, once the user ran the printed command: with no manager to disable
    # it at uninstall, it goes by hand.
    wants = unit.parent / "default.target.wants" / UNIT
    wants.parent.mkdir()
    wants.symlink_to(unit)
    before = user_tree(env)
    dry = install(env, "--uninstall", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert user_tree(env) == before, "the dry run changed something"
    gone = install(env, "--uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert steps(gone) == steps(dry)
    assert steps(gone)[0] == f"==> stop and remove the watcher: {launcher} watch uninstall"
    for said in (dry, gone):
        assert f"remove {unit}" in said.stdout.splitlines()
        assert f"remove {wants} (the link systemctl enable made)" in said.stdout.splitlines()
    assert not unit.exists() and not wants.is_symlink() and not prefix.exists()
    assert sorted(p.name for p in unit.parent.iterdir()) == ["default.target.wants", "mine.service"]
    assert mine.read_text() == "[Service]\nExecStart=/bin/true\n"
    assert set(calls(log)) == {"systemctl --user show-environment"}


@pytest.mark.install
def test_with_a_user_manager_the_watcher_is_enabled_restarted_on_update_and_stopped_before_uninstall(
    tmp_path: Path,
) -> None:
    env = user_env(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "data%h")
    log = fake_tools(env, tmp_path, manager=True)
    unit = unit_path(env)

    first = install(env, "--with-watch")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"start the watcher now and at each login: {START}" in first.stdout.splitlines()
    assert asked(log) == ["systemctl --user daemon-reload", f"systemctl --user enable --now {UNIT}"]
    # systemd would read %h as the home directory: a literal % is written %%.
    assert f"Environment=XDG_DATA_HOME={tmp_path}/data%%h" in unit.read_text().splitlines()
    text = unit.read_text()

    log.write_text("")
    again = install(env, "--with-watch")
    assert again.returncode == 0, again.stdout + again.stderr
    assert unit.read_text() == text
    assert steps(again)[-1].endswith("watch install --restart")
    assert asked(log) == [
        "systemctl --user daemon-reload", f"systemctl --user enable {UNIT}", f"systemctl --user reset-failed {UNIT}",
        f"systemctl --user restart {UNIT}",
    ]

    log.write_text("")
    # What the watcher it ran left in the data directory: it goes with the watcher.
    data = Path(env["BRIDGE_HOME"])
    (data / "watch-state.json").write_text("{}")
    (data / "watch-0123456789abcdef.lock").write_text("")
    (data / "cache.sealed").write_text("not the watcher's")
    gone = install(env, "--uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert steps(gone)[:3] == [
        f"==> stop and remove the watcher: {default_prefix(env) / 'bridge'} watch uninstall",
        f"==> run {default_prefix(env) / 'bridge'} watch --forget (removes the watcher's state file and locks)",
        "==> unregister provider 'supabase' from OpenClaw",
    ]
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("watch")) == []
    assert (data / "cache.sealed").read_text() == "not the watcher's", "the cache stays without --purge"
    assert f"stop the watcher: systemctl --user disable --now {UNIT}" in gone.stdout.splitlines()
    assert f"remove {unit}" in gone.stdout.splitlines()
    assert asked(log) == [f"systemctl --user disable --now {UNIT}", "systemctl --user daemon-reload"]
    assert not unit.exists()


@pytest.mark.install
def test_a_unit_install_sh_did_not_write_is_refused_and_left_alone(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    log = fake_tools(env, tmp_path, manager=True)
    unit = unit_path(env)
    unit.parent.mkdir(parents=True)
    for theirs in ("[Service]\nExecStart=/opt/mine/watch\n",
                   f"# made by openclaw-supabase-bridge's install.sh for {tmp_path}/other/bridge\n[Service]\n"):
        unit.write_text(theirs)
        before = user_tree(env)
        for args in ([], ["--dry-run"]):
            one_line_error(install(env, "--with-watch", *args), 1, f"{unit} is there already", "left it alone")
        assert user_tree(env) == before
    assert set(calls(log)) <= {"systemctl --user show-environment"}


@pytest.mark.install
def test_a_later_run_leaves_a_unit_that_became_someone_elses_and_a_broken_setting_is_refused(tmp_path: Path) -> None:
    """Without --with-watch, a listed watcher whose file is no longer the one written for this launcher stops being
    part of the install (never overwritten); a setting the file cannot hold is refused either way, before anything."""
    env = user_env(tmp_path)
    log = fake_tools(env, tmp_path, manager=False)
    prefix = default_prefix(env)
    unit = unit_path(env)
    first = install(env, "--with-watch")
    assert first.returncode == 0, first.stdout + first.stderr

    broken = {**env, "XDG_CONFIG_HOME": f"{tmp_path}/a b"}
    before = user_tree(env)
    one_line_error(install(broken), 2, "XDG_CONFIG_HOME", "absolute path")
    assert user_tree(env) == before and "watch" in manifest_lines(prefix)

    unit.write_text("[Service]\nExecStart=/opt/mine/watch\n")
    again = install(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not [line for line in steps(again) if "watcher" in line] and "watch" not in manifest_lines(prefix)
    assert unit.read_text() == "[Service]\nExecStart=/opt/mine/watch\n"
    assert set(calls(log)) <= {"systemctl --user show-environment"}


@pytest.mark.install
def test_uninstall_keeps_a_listed_unit_that_is_no_longer_install_shs(tmp_path: Path) -> None:
    """The manifest says `watch`, but the file now runs something else: not stopped, not removed."""
    env = user_env(tmp_path)
    log = fake_tools(env, tmp_path, manager=True)
    prefix = tmp_path / "made"
    prefix.mkdir()
    (prefix / MANIFEST).write_text("venv\nbridge\nwatch\n")
    unit = unit_path(env)
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/opt/mine/watch\n")
    done = install(env, "--uninstall", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert steps(done) == [
        f"==> stop and remove the watcher: {prefix / 'bridge'} watch uninstall",
        "==> unregister provider 'supabase' from OpenClaw",
        f"==> remove {prefix / MANIFEST}",
        f"==> keep {prefix} (it existed before install.sh)",
    ]
    assert f"keep {unit}: install.sh did not write it for {prefix / 'bridge'}" in done.stdout.splitlines()
    assert unit.read_text() == "[Service]\nExecStart=/opt/mine/watch\n"
    assert set(calls(log)) <= {"systemctl --user show-environment"}


@pytest.mark.install
@pytest.mark.parametrize("name", ["Supabase", "9lives", "a b", "a;rm -rf ~", "a\nb", "x" * 65, ""])
def test_a_provider_name_openclaw_would_refuse_is_refused_before_anything(tmp_path: Path, name: str) -> None:
    env = user_env(tmp_path)
    before = user_tree(env)
    done = install(env, "--with-watch", "--provider", name)
    one_line_error(done, 2, "--provider")
    assert user_tree(env) == before
    with pytest.raises(BridgeError):
        check_provider_name(name)
    assert check_provider_name("x" * 64) and check_provider_name("vault_2-b")


@pytest.mark.install
def test_with_watch_goes_with_an_install_only(tmp_path: Path) -> None:
    one_line_error(install(user_env(tmp_path), "--uninstall", "--with-watch"), 2, "--with-watch goes with an install")


# --- macOS: a launchd agent -----------------------------------------------------------------------


@pytest.mark.install
def test_on_macos_a_launchd_agent_is_written_bootstrapped_and_booted_out_on_uninstall(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    log = fake_tools(env, tmp_path, manager=True, darwin=True)
    prefix = tmp_path / "opt" / "b&r<idge>"
    launcher = prefix / "bridge"
    plist = Path(env["HOME"]) / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    uid = os.getuid()

    done = install(env, "--with-watch", "--prefix", str(prefix), "--provider", "vault2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert steps(done)[-1].startswith("==> set up the watcher: ") and steps(done)[-1].endswith(" watch install --provider vault2")
    assert f"start the watcher now and at each login: launchctl bootstrap gui/{uid} {plist}" in done.stdout.splitlines()
    assert f"launchctl bootstrap gui/{uid} {plist}" in calls(log)
    agent = plistlib.loads(plist.read_bytes())
    assert agent["Label"] == LABEL
    assert agent["ProgramArguments"] == [str(launcher), "watch", "--provider", "vault2"]
    assert agent["KeepAlive"] == {"SuccessfulExit": False} and agent["RunAtLoad"] is True
    assert agent["ThrottleInterval"] >= 5
    assert agent["EnvironmentVariables"]["BRIDGE_HOME"] == env["BRIDGE_HOME"]
    assert not [k for k in agent["EnvironmentVariables"] if "KEY" in k or "TOKEN" in k or k.startswith("SUPABASE_")]
    assert plist.stat().st_mode & 0o777 == 0o600

    log.write_text("")
    gone = install(env, "--uninstall", "--prefix", str(prefix), "--provider", "vault2")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert steps(gone)[0].startswith("==> stop and remove the watcher: ")
    assert f"stop the watcher: launchctl bootout gui/{uid}/{LABEL}" in gone.stdout.splitlines()
    assert f"launchctl bootout gui/{uid}/{LABEL}" in calls(log)
    assert not plist.exists() and not prefix.exists()


# --- doctor's watcher line --------------------------------------------------------------------------


def state(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "pid": 4242, "gateway_url": "ws://127.0.0.1:18789", "started_at": stamp(3600),
        "last_poll_at": stamp(10), "last_poll_ok": True, "last_reload_at": stamp(600), "last_reload_ok": True,
        "last_error": None,
    }
    return {**base, **changes}


@pytest.mark.unit
def test_a_running_watcher_that_polls_and_reloads_passes() -> None:
    assert judge_watcher(state(), NOW, True, "linux") == (PASS, "running (pid 4242), last poll 10 s ago, last reload 10 min ago ok", "")
    status, detail, _ = judge_watcher(state(last_reload_at=None, last_reload_ok=None), NOW, True, "linux")
    assert (status, detail) == (PASS, "running (pid 4242), last poll 10 s ago, no reload yet")
    status, detail, _ = judge_watcher(state(started_at=stamp(5), last_poll_at=None, last_poll_ok=None), NOW, True, "linux")
    assert (status, detail) == (PASS, "running (pid 4242), started 5 s ago, no poll yet")
    # A clock a little ahead of this one is no error.
    assert judge_watcher(state(last_poll_at=stamp(-3)), NOW, True, "linux")[0] == PASS


@pytest.mark.unit
def test_a_stopped_stale_or_failing_watcher_warns_with_where_to_look() -> None:
    linux_fix = f"systemctl --user status {UNIT.removesuffix('.service')}"
    cases = {
        "not running (pid 4242 has exited; its last poll was 10 s ago)": state(),
        f"its last poll was 2 min ago (stale after {format_age(STALE)})": state(last_poll_at=stamp(STALE + 30)),
        "has not polled since it started 60 min ago": state(last_poll_at=None, last_poll_ok=None),
        "its last poll 4 min ago failed, retrying with backoff: Supabase unreachable": state(
            last_poll_at=stamp(240), last_poll_ok=False, last_error="Supabase unreachable"),
        "its last poll was 11 min ago (stale after 10 min): Supabase unreachable": state(
            last_poll_at=stamp(WATCH_BACKOFF_STALE_S + 60), last_poll_ok=False, last_error="Supabase unreachable"),
        "but its last reload 10 min ago failed: gateway refused the token": state(
            last_reload_ok=False, last_error="gateway refused the token"),
    }
    for needle, given in cases.items():
        status, detail, fix = judge_watcher(given, NOW, needle.startswith("not running") is False, "linux")
        assert status == WARN and needle in detail, (needle, detail)
        assert linux_fix in fix and "journalctl --user -u" in fix
    _, _, fix = judge_watcher(state(), NOW, False, "darwin")
    assert f"launchctl print gui/{os.getuid()}/{LABEL}" in fix


@pytest.mark.unit
def test_staleness_follows_the_interval_the_watcher_says_it_polls_at() -> None:
    hourly = state(interval_s=3600, last_poll_at=stamp(2 * 3600))
    assert judge_watcher(hourly, NOW, True, "linux")[0] == PASS, "two hours is within three hourly polls"
    status, detail, _ = judge_watcher(state(interval_s=3600, last_poll_at=stamp(4 * 3600)), NOW, True, "linux")
    assert status == WARN and "(stale after 3 h)" in detail
    status, detail, _ = judge_watcher(state(interval_s=2, last_poll_at=stamp(30)), NOW, True, "linux")
    assert status == WARN and "(stale after 6 s)" in detail
    for nonsense in ("30", True, -5, 0, 10**9):
        assert judge_watcher(state(interval_s=nonsense), NOW, True, "linux")[0] == PASS, nonsense


@pytest.mark.unit
def test_a_state_file_that_is_not_the_watchers_warns_and_its_text_is_shown_one_line_and_capped() -> None:
    for bad in (state(pid="4242"), state(pid=True), state(pid=0), state(pid=-1), state(pid=1), state(started_at="yesterday"),
                state(last_poll_at=12), state(last_reload_at="soon"), {}):
        status, detail, _ = judge_watcher(bad, NOW, True, "linux")
        assert status == WARN and "not the watcher's" in detail, bad
    hostile = "refused\n\x1b[2Jfake PASS line\u202e" + "x" * 5000
    status, detail, _ = judge_watcher(state(last_reload_ok=False, last_error=hostile), NOW, True, "linux")
    assert status == WARN and "\n" not in detail and "\x1b" not in detail and "\u202e" not in detail
    assert detail.endswith("...") and len(detail) < WATCH_ERROR_CHARS + 120


def doctor_watcher(tmp_path: Path) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BRIDGE_HOME": str(tmp_path / "bridge-home")}
    result = run_bridge(["doctor", "--json"], env)
    assert "Traceback" not in result.stderr, result.stderr
    checks = json.loads(result.stdout)["checks"]
    names = [c["name"] for c in checks]
    assert names.index("cache") < names.index("watcher") < names.index("openclaw audit")
    found: dict[str, str] = checks[names.index("watcher")]
    return found


@pytest.mark.unit
def test_doctor_json_reports_the_watcher_from_its_state_file(tmp_path: Path) -> None:
    home = tmp_path / "bridge-home"
    home.mkdir(mode=0o700)
    assert doctor_watcher(tmp_path) == {"name": "watcher", "status": SKIP, "detail": "not set up (install.sh --with-watch)", "fix": ""}

    state_file = home / "watch-state.json"
    now = time.time()
    written = {
        "pid": os.getpid(), "gateway_url": "ws://127.0.0.1:18789",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 120)),
        "last_poll_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 5)), "last_poll_ok": True,
        "last_reload_at": None, "last_reload_ok": None, "last_error": None,
    }
    state_file.write_text(json.dumps(written))
    state_file.chmod(0o600)
    check = doctor_watcher(tmp_path)
    assert check["status"] == PASS and check["detail"].startswith(f"running (pid {os.getpid()}), last poll "), check

    state_file.write_text("{not json")
    check = doctor_watcher(tmp_path)
    assert check["status"] == WARN and "is not JSON" in check["detail"] and "systemctl --user status" in check["fix"]
    state_file.write_bytes(b" " * (1024 * 1024))
    check = doctor_watcher(tmp_path)
    assert check["status"] == WARN and "larger than" in check["detail"]


@pytest.mark.unit
def test_changes_the_gateway_does_not_hold_yet_warn_with_each_name_and_since_when() -> None:
    pending = {"OPENAI_API_KEY": stamp(90), "GATEWAY_TOKEN": stamp(600), "BAD": "not a time", 7: stamp(1)}
    status, detail, fix = judge_watcher(state(undelivered=pending), NOW, True, "linux")
    assert status == WARN
    assert "does not hold 2 change(s) yet: GATEWAY_TOKEN for 10 min, OPENAI_API_KEY for 90 s" in detail
    assert "retries on its own" in fix and "Supabase" in fix
    assert judge_watcher(state(undelivered={}), NOW, True, "linux")[0] == PASS


@pytest.mark.unit
def test_the_fix_the_watcher_advised_is_doctors_fix() -> None:
    advised = "the gateway token the watcher authenticates with is revoked or expired: mint a new one"
    status, _, fix = judge_watcher(
        state(last_poll_ok=False, last_error="Supabase refused the watcher's credentials", fix=advised), NOW, True, "linux")
    assert status == WARN and fix.startswith(advised) and "bridge login" not in fix


@pytest.mark.unit
def test_the_watchers_facts_have_one_home_that_watch_and_doctor_both_import() -> None:
    import inspect

    from bridge.checks import doctor
    from bridge.watch import command, schedule, service
    from bridge.watch import state as watch_state

    restated = ("watch-state.json", "64 * 1024", "openclaw-supabase-bridge-watch", "com.openclaw-supabase-bridge.watch",
                "300.0", "\"30s\"")
    for module in (doctor, command, schedule, watch_state, service):
        source = inspect.getsource(module)
        assert not [fact for fact in restated if fact in source], f"{module.__name__} restates a fact of bridge watch"
    assert "json.loads" not in inspect.getsource(doctor.Doctor.watcher), "doctor parses the state file itself"
