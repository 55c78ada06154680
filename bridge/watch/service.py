"""`bridge watch install` and `bridge watch uninstall`: the watcher as a service of the user's own service manager, a
systemd user unit on Linux or a launchd agent on macOS (install.sh --with-watch and --uninstall run these).

The file names the launcher it was written for (its mark), so a unit or agent of the user's own, or another
install's, is told apart and never overwritten, stopped or removed. It holds no secret: the watcher reads its
credentials from the same stores as `bridge resolve`; what the file passes on are this shell's non-secret settings
(where the bridge's and OpenClaw's files are, and where openclaw is), as a gateway started from this shell has them.

Every call of systemctl or launchctl is bounded (CALL_TIMEOUT_S) and its exit status checked; the file is written
atomically (0600), so a kill at any step leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape as xml_escape

from bridge.core.errors import BridgeError, UsageError
from bridge.core.text import printable
from bridge.local.files import FileTooLarge, read_capped, replace_file
from bridge.local.watch_facts import BACKOFF_CAP_S, LAUNCHD_LABEL, LAUNCHD_LOG, SERVICE_UNIT

SYSTEMD = "systemd"
LAUNCHD = "launchd"
MANAGERS = (SYSTEMD, LAUNCHD)
CALL_TIMEOUT_S = 30.0
"""How long one systemctl or launchctl call may take: `enable --now` waits for the start job, which for a simple
service is the fork; far longer means the manager is stuck, and the user is told which command hung."""
PROBE_TIMEOUT_S = 5.0
"""How long the question "does a manager answer here?" may take before the answer counts as no."""
MAX_FILE_BYTES = 16 * 1024
"""Far more than the unit or plist this writes: a larger file is not ours, and is not read whole."""
SETTINGS = ("BRIDGE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "OPENCLAW_CONFIG_PATH")
"""The environment the watcher is given, when this shell sets it: where the bridge's and OpenClaw's files are."""
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
RESTART_SEC = 5
"""systemd: the first restart after a failure waits this long; later ones back off up to BACKOFF_CAP_S."""
RESTART_STEPS = 6
THROTTLE_S = 10
"""launchd: the least time between two starts of the agent."""
UNIT_MARK = "# made by openclaw-supabase-bridge's install.sh for {launcher}"
PLIST_MARK = "<!-- made by openclaw-supabase-bridge's install.sh; its uninstall removes it -->"
UNSAFE_IN_PATH = set(" \t\n\r\v\f\"'\\`$")


class Call(NamedTuple):
    """What a service-manager command did: its exit status and what it said (or None when it did not run)."""

    returncode: int | None
    output: str


Runner = Callable[[Sequence[str], float], Call]


def run_command(argv: Sequence[str], timeout: float) -> Call:
    """argv with no input, bounded by `timeout`; a command that is missing, hangs or cannot start is a Call with no
    status and a word on why."""
    try:
        done = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Call(None, f"no answer within {timeout:g} s")
    except OSError as exc:
        return Call(None, exc.strerror or type(exc).__name__)
    said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
    return Call(done.returncode, printable(said[-1][:200]) if said else "")


def shown(argv: Sequence[str]) -> str:
    return " ".join(argv)


class Service(NamedTuple):
    """The watcher's unit or agent for one launcher: where it goes, what it says, and how it is driven."""

    manager: str
    path: Path
    launcher: Path
    argv: tuple[str, ...]
    """The words after the launcher: `watch` and its options."""
    text: str
    uid: int

    @property
    def name(self) -> str:
        return f"{SERVICE_UNIT}.service" if self.manager == SYSTEMD else LAUNCHD_LABEL

    @property
    def wants_link(self) -> Path:
        """The link `systemctl --user enable` makes (systemd only)."""
        return self.path.parent / "default.target.wants" / self.path.name

    def probe(self) -> list[str]:
        if self.manager == SYSTEMD:
            return ["systemctl", "--user", "show-environment"]
        return ["launchctl", "print", f"gui/{self.uid}"]

    def loaded(self) -> list[str]:
        if self.manager == SYSTEMD:
            return ["systemctl", "--user", "is-active", "--quiet", self.name]
        return ["launchctl", "print", f"gui/{self.uid}/{LAUNCHD_LABEL}"]

    def start(self) -> list[list[str]]:
        if self.manager == SYSTEMD:
            return [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", self.name]]
        return [["launchctl", "bootstrap", f"gui/{self.uid}", str(self.path)]]

    def restart(self, loaded: bool) -> list[list[str]]:
        if self.manager == SYSTEMD:
            return [
                ["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", self.name],
                ["systemctl", "--user", "reset-failed", self.name], ["systemctl", "--user", "restart", self.name],
            ]
        return [*([["launchctl", "bootout", f"gui/{self.uid}/{LAUNCHD_LABEL}"]] if loaded else []), *self.start()]

    def stop(self) -> list[str]:
        if self.manager == SYSTEMD:
            return ["systemctl", "--user", "disable", "--now", self.name]
        return ["launchctl", "bootout", f"gui/{self.uid}/{LAUNCHD_LABEL}"]

    def status(self) -> str:
        if self.manager == SYSTEMD:
            return f"systemctl --user status {self.name}; its log: journalctl --user -u {self.name}"
        return f"launchctl print gui/{self.uid}/{LAUNCHD_LABEL}; its log: {log_path(self.path)}"

    def start_line(self) -> str:
        return " && ".join(shown(argv) for argv in self.start())

    def current(self) -> str | None:
        """The file there now when it is a regular file no larger than ours could be; else None."""
        if self.path.is_symlink() or not self.path.is_file():
            return None
        try:
            raw = read_capped(self.path, MAX_FILE_BYTES)
        except (FileTooLarge, OSError):
            return None
        return None if raw is None else raw.decode(errors="replace")

    def is_ours(self) -> bool:
        """The file is a regular file with the mark this launcher's install writes."""
        text = self.current()
        if text is None:
            return False
        lines = text.splitlines()
        if self.manager == SYSTEMD:
            return UNIT_MARK.format(launcher=self.launcher) in lines
        return PLIST_MARK in lines and f"    <string>{xml_escape(str(self.launcher))}</string>" in lines


def file_state(service: Service) -> str:
    """`new` (nothing there) or `ours` (this launcher's); a file of anyone else's is refused in one line."""
    if not (service.path.exists() or service.path.is_symlink()):
        return "new"
    if service.is_ours():
        return "ours"
    raise BridgeError(
        f"{service.path} is there already and install.sh did not write it for {service.launcher} "
        "(it is yours, or another install's); left it alone: remove it yourself, or install without --with-watch",
    )


def precheck(argv: Sequence[str]) -> int:
    """install.sh's question before it makes anything: may the watcher's file for this launcher go here (`new`, or
    `ours` to update), with this shell's settings? Run by the checkout's Python, which may have the standard library
    only, so this module imports nothing else. A refusal is one line on stderr and exit 1 (2 for a setting)."""
    manager, launcher = argv
    try:
        settings, _ = environment(os.environ)
        print(file_state(service_for(manager, Path(launcher), ["watch"], settings, os.environ)))
    except BridgeError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    return 0


def log_path(plist: Path) -> Path:
    """The agent's log, under the same home as its plist."""
    return plist.parents[2] / LAUNCHD_LOG.removeprefix("~/")


def plain_path(name: str, value: str) -> str:
    """An absolute path with nothing that would break a unit's line, a plist or a printed command; else one line."""
    if not value.startswith("/") or any(c in UNSAFE_IN_PATH or not c.isprintable() for c in value):
        raise UsageError(
            f"{name} must be an absolute path without whitespace, quotes, backslash, $, ` or control characters "
            f"for the watcher's service file (got {printable(value)!r})",
        )
    return value


def this_manager() -> str:
    if sys.platform == "darwin":
        return LAUNCHD
    if sys.platform.startswith("linux"):
        return SYSTEMD
    raise UsageError("bridge watch install knows systemd (Linux) and launchd (macOS); elsewhere run `bridge watch` under your own service manager")


def environment(env: Mapping[str, str]) -> tuple[list[tuple[str, str]], str | None]:
    """The settings the watcher is given, those of SETTINGS this shell sets, then a PATH that finds openclaw (the
    watcher runs `openclaw secrets reload`); and where openclaw was found (None: not on PATH here)."""
    settings = [(name, plain_path(name, env[name])) for name in SETTINGS if env.get(name)]
    found = shutil.which("openclaw", path=env.get("PATH", ""))
    path = DEFAULT_PATH
    if found and found.startswith("/"):
        folder = plain_path("openclaw's directory", str(Path(found).parent))
        if folder not in DEFAULT_PATH.split(":"):
            path = f"{folder}:{DEFAULT_PATH}"
    return [*settings, ("PATH", path)], found


def unit_escape(text: str) -> str:
    """systemd expands % specifiers in ExecStart= and Environment=: a literal % is written %%."""
    return text.replace("%", "%%")


def unit_text(launcher: Path, argv: Sequence[str], settings: Sequence[tuple[str, str]]) -> str:
    """The systemd user unit: restarted on failure after RESTART_SEC, backing off to BACKOFF_CAP_S (systemd 254 and
    later; older ones keep RESTART_SEC and log the two keys as unknown), at most 5 starts in 5 minutes."""
    lines = [
        UNIT_MARK.format(launcher=launcher),
        "# `bridge watch uninstall` (or ./install.sh --uninstall) stops and removes it. No secret here: the watcher",
        "# reads its credentials from the same stores as `bridge resolve`.",
        "[Unit]",
        "Description=openclaw-supabase-bridge watch: rotations in Supabase Vault reach the running OpenClaw gateway",
        "StartLimitIntervalSec=300",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={unit_escape(shown([str(launcher), *argv]))}",
        *(f"Environment={unit_escape(f'{name}={value}')}" for name, value in settings),
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        f"RestartSteps={RESTART_STEPS}",
        f"RestartMaxDelaySec={BACKOFF_CAP_S:g}",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def plist_text(launcher: Path, argv: Sequence[str], settings: Sequence[tuple[str, str]], log: Path) -> str:
    """The launchd agent: KeepAlive with SuccessfulExit false starts it again when it exits with an error, not after
    a clean exit; ThrottleInterval spaces those starts."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
        PLIST_MARK,
        "<!-- No secret here: the watcher reads its credentials from the same stores as bridge resolve. -->",
        '<plist version="1.0">',
        "<dict>",
        "  <key>Label</key>",
        f"  <string>{LAUNCHD_LABEL}</string>",
        "  <key>ProgramArguments</key>",
        "  <array>",
        *(f"    <string>{xml_escape(word)}</string>" for word in [str(launcher), *argv]),
        "  </array>",
        "  <key>EnvironmentVariables</key>",
        "  <dict>",
        *(f"    <key>{name}</key>\n    <string>{xml_escape(value)}</string>" for name, value in settings),
        "  </dict>",
        "  <key>RunAtLoad</key>",
        "  <true/>",
        "  <key>KeepAlive</key>",
        "  <dict>",
        "    <key>SuccessfulExit</key>",
        "    <false/>",
        "  </dict>",
        "  <key>ThrottleInterval</key>",
        f"  <integer>{THROTTLE_S}</integer>",
        "  <key>StandardErrorPath</key>",
        f"  <string>{xml_escape(str(log))}</string>",
        "</dict>",
        "</plist>",
    ]
    return "\n".join(lines) + "\n"


def service_path(manager: str, home: Path) -> Path:
    if manager == SYSTEMD:
        return home / ".config" / "systemd" / "user" / f"{SERVICE_UNIT}.service"
    return home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"


def home_of(env: Mapping[str, str]) -> Path:
    return Path(plain_path("HOME", env.get("HOME") or str(Path.home())))


def plain_word(word: str) -> str:
    """One word of the service's command line: whitespace would split it, a control character start a new line."""
    if not word or any(c.isspace() or not c.isprintable() for c in word):
        raise UsageError(f"{printable(word)!r} cannot go into the watcher's service file: no whitespace or control characters")
    return word


def service_for(manager: str, launcher: Path, argv: Sequence[str], settings: Sequence[tuple[str, str]], env: Mapping[str, str]) -> Service:
    plain_path("the launcher", str(launcher))
    for word in argv:
        plain_word(word)
    path = service_path(manager, home_of(env))
    text = unit_text(launcher, argv, settings) if manager == SYSTEMD else plist_text(launcher, argv, settings, log_path(path))
    return Service(manager, path, launcher, tuple(argv), text, os.getuid())


class Outcome(NamedTuple):
    """What install or uninstall did (or, in a dry run, would do), for the person and for --json."""

    manager: str
    file: str
    state: str
    """install: new, changed, unchanged; uninstall: removed, absent, kept (not ours)."""
    manager_answers: bool
    commands: list[str]
    lines: list[str]
    start: str
    status: str

    def as_json(self) -> dict[str, object]:
        return {
            "manager": self.manager, "file": self.file, "state": self.state, "manager_answers": self.manager_answers,
            "commands": self.commands, "start": self.start, "status": self.status,
        }


class ServiceManager:
    """Drives one Service through `run`, every call bounded and checked."""

    def __init__(self, service: Service, run: Runner = run_command) -> None:
        self.service = service
        self._run = run

    def answers(self) -> bool:
        return self._run(self.service.probe(), PROBE_TIMEOUT_S).returncode == 0

    def is_loaded(self) -> bool:
        return self._run(self.service.loaded(), PROBE_TIMEOUT_S).returncode == 0

    def call(self, argv: Sequence[str], fix: str) -> None:
        done = self._run(argv, CALL_TIMEOUT_S)
        if done.returncode != 0:
            how = f"exit {done.returncode}" if done.returncode is not None else "did not run"
            said = f": {done.output}" if done.output else ""
            raise BridgeError(f"`{shown(argv)}` failed ({how}{said}); {fix}")

    def install(self, dry_run: bool, restart: bool) -> Outcome:
        service = self.service
        exists = file_state(service) == "ours"
        same = exists and service.current() == service.text
        state = "unchanged" if same else ("changed" if exists else "new")
        answers = self.answers()
        lines: list[str] = []
        commands: list[list[str]] = []
        if same:
            lines.append(f"keep {service.path}: it is up to date")
        else:
            lines.append(f"write {service.path} (mode 0600): runs {shown([str(service.launcher), *service.argv])}, restarted on failure")
        if not answers:
            what = "no systemd user manager answers here" if service.manager == SYSTEMD else f"no launchd session for user {service.uid} here (not logged in?)"
            lines.append(f"leave the watcher stopped: {what}; to start it: {service.start_line()}")
        else:
            loaded = self.is_loaded()
            if restart or (state == "changed" and loaded):
                commands = service.restart(loaded)
                lines.append(f"restart the watcher: {' && '.join(shown(c) for c in commands)}")
            elif not loaded or state == "new":
                commands = service.start()
                lines.append(f"start the watcher now and at each login: {service.start_line()}")
            elif same:
                lines.append("the watcher runs: nothing to change")
        if not dry_run:
            if not same:
                service.path.parent.mkdir(parents=True, exist_ok=True)
                replace_file(service.path, service.text.encode())
            for argv in commands:
                self.call(argv, f"{service.path} is in place: fix that, then run: {service.start_line()}")
        return Outcome(service.manager, str(service.path), state, answers, [shown(c) for c in commands], lines,
                       service.start_line(), service.status())

    def uninstall(self, dry_run: bool) -> Outcome:
        service = self.service
        answers = self.answers()
        commands: list[list[str]] = []
        lines: list[str] = []
        remove_link = False
        if not (service.path.exists() or service.path.is_symlink()):
            state = "absent"
            lines.append(f"no watcher to remove: {service.path} is not there")
        elif not service.is_ours():
            state = "kept"
            lines.append(f"keep {service.path}: install.sh did not write it for {service.launcher}")
        else:
            state = "removed"
            if answers and (service.manager == SYSTEMD or self.is_loaded()):
                commands.append(service.stop())
                lines.append(f"stop the watcher: {shown(service.stop())}")
            lines.append(f"remove {service.path}")
            link = service.wants_link
            if service.manager == SYSTEMD and not answers and link.is_symlink() and os.readlink(link) == str(service.path):
                remove_link = True
                lines.append(f"remove {link} (the link systemctl enable made)")
            if service.manager == SYSTEMD and answers:
                lines.append("then systemctl --user daemon-reload")
        if not dry_run and state == "removed":
            for argv in commands:
                self.call(argv, "nothing was removed: fix that and run this again")
            service.path.unlink(missing_ok=True)
            if remove_link:
                service.wants_link.unlink(missing_ok=True)
            if service.manager == SYSTEMD and answers:
                reload = ["systemctl", "--user", "daemon-reload"]
                done = self._run(reload, CALL_TIMEOUT_S)
                if done.returncode != 0:
                    lines.append(f"`{shown(reload)}` failed ({done.output or 'no answer'}); systemd forgets the unit at its next reload")
                commands.append(reload)
        return Outcome(service.manager, str(service.path), state, answers, [shown(c) for c in commands], lines,
                       service.start_line(), service.status())

