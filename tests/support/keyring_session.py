"""A real GNOME Keyring in a private D-Bus session, started and stopped by the tests.

Both daemons stay direct children of the test process so they are reaped on
teardown. The keyring is created and unlocked with a password on stdin (an
empty one would need a prompt, and there is no display).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY_POLLS = 200
POLL_S = 0.05


@contextmanager
def keyring_session(password: str = "test-keyring-password") -> Iterator[dict[str, str]]:
    """Yields the environment a process needs to use this keyring: HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, PATH."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found: apt-get install dbus gnome-keyring")
    root = Path(tempfile.mkdtemp(prefix="bridge-keyring-"))
    home, run = root / "home", root / "run"
    home.mkdir(mode=0o700)
    run.mkdir(mode=0o700)
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(run), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--nosyslog",
         f"--address=unix:path={run}/bus", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )
    daemons = [bus]
    try:
        assert bus.stdout is not None
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, text=True,
        )
        daemons.insert(0, keyring_daemon)
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(password)
        keyring_daemon.stdin.close()
        _wait_for_secret_service(env)
        yield env
    finally:
        for daemon in daemons:
            daemon.terminate()
            try:
                daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_secret_service(env: dict[str, str]) -> None:
    """Wait until the daemon owns the name, or D-Bus activation would start a second, locked one."""
    for _ in range(READY_POLLS):
        probe = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
             "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"],
            env=env, capture_output=True, text=True, check=False,
        )
        if "boolean true" in probe.stdout:
            return
        time.sleep(POLL_S)
    raise RuntimeError("gnome-keyring-daemon never registered org.freedesktop.secrets")
