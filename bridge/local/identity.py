"""Who and where the bridge runs: what the sealed file and the cache are bound to.

The inputs (machine id, user name) are readable by local users: binding to
them makes a copied file useless on another machine or account, and protects
nothing against a local attacker, whom the files' 0600 mode keeps out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

from bridge.core.errors import IdentityUnavailable

MACHINE_ID_PATHS = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
MAX_MACHINE_ID_BYTES = 4096


class Identity(NamedTuple):
    """What a sealed file and the cache are bound to."""

    machine_id: str
    user: str

    @classmethod
    def current(cls, machine_id_paths: tuple[Path, ...] = MACHINE_ID_PATHS) -> Identity:
        """Raises IdentityUnavailable when this machine has no id; callers turn their store or cache off."""
        return cls(machine_id=_machine_id(machine_id_paths), user=_user_name())


def _user_name() -> str:
    """The account name, or `uid-<n>` for a uid with no passwd entry (`docker run --user 54321`).

    The gateway spawns the bridge with a minimal environment, so $USER is not trusted or needed.
    """
    if sys.platform == "win32":
        import getpass

        return getpass.getuser()
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid-{os.getuid()}"


def _machine_id(paths: tuple[Path, ...]) -> str:
    try:
        if sys.platform == "darwin":
            return _mac_platform_uuid()
        if sys.platform == "win32":
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0])
    except Exception as exc:  # noqa: BLE001 - ioreg or the registry failing in any way means no id, not a crash
        raise IdentityUnavailable(f"cannot read this machine's id ({type(exc).__name__})") from None
    for candidate in paths:
        try:
            with candidate.open("rb") as handle:
                value = handle.read(MAX_MACHINE_ID_BYTES).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return value
    raise IdentityUnavailable(
        f"no machine id in {' or '.join(map(str, paths))}; run systemd-machine-id-setup "
        "(in a container: mount the host's /etc/machine-id read-only)"
    )


def _mac_platform_uuid() -> str:
    import subprocess

    out = subprocess.run(
        ["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
        capture_output=True, text=True, timeout=2, check=True,
    ).stdout
    for line in out.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=", 1)[1].strip().strip('"')
    raise ValueError("no IOPlatformUUID")
