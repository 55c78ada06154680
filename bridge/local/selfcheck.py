"""Hold the bridge to at least the bar OpenClaw sets for exec commands, for itself and its files.

Every path the bridge trusts (the launcher that runs, its directory, the
config, the data directory, the sealed credentials and the cache) must be
owned by the current user and not writable by group or others; files must be
regular files, not symlinks; the sealed file and the cache must not be
readable by group or others either. Pure over lstat results, so it is cheap
enough for every resolve; each problem carries the exact command that fixes it.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from bridge.local.paths import Paths

FILE = "file"
DIRECTORY = "directory"


class Target(NamedTuple):
    path: Path
    kind: str
    private: bool = False
    required: bool = False
    what: str = ""


class Problem(NamedTuple):
    path: Path
    message: str
    fix: str

    def line(self) -> str:
        return f"{self.message}; fix: {self.fix}"


def _fix_symlink(quoted: str, kind: str) -> str:
    """Replace the link by a private copy of what it points to: a pasteable POSIX command for files and directories."""
    if kind == DIRECTORY:
        return f't="$(readlink -f {quoted})" && rm {quoted} && cp -Rp "$t" {quoted} && chmod 700 {quoted}'
    return f't="$(readlink -f {quoted})" && rm {quoted} && cp -p "$t" {quoted}'


def inspect(target: Target, uid: int) -> list[Problem]:
    path, quoted = target.path, shlex.quote(str(target.path))
    label = f"{target.what} {path}".strip()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return [Problem(path, f"{label} does not exist", "run ./install.sh again")] if target.required else []
    if stat.S_ISLNK(info.st_mode):
        return [Problem(path, f"{label} is a symlink", _fix_symlink(quoted, target.kind))]
    expected = stat.S_ISDIR(info.st_mode) if target.kind == DIRECTORY else stat.S_ISREG(info.st_mode)
    if not expected:
        aside = shlex.quote(f"{path}.moved-aside")
        return [Problem(path, f"{label} is not a regular {target.kind}", f"mv {quoted} {aside}")]
    problems = []
    if info.st_uid != uid:
        sudo = "" if uid == 0 else "sudo "
        problems.append(Problem(path, f"{label} is owned by uid {info.st_uid}, not you (uid {uid})", f'{sudo}chown "$(id -un)" {quoted}'))
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problems.append(Problem(path, f"{label} is writable by group or others", f"chmod go-w {quoted}"))
    if target.private and info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        mode = "700" if target.kind == DIRECTORY else "600"
        problems.append(Problem(path, f"{label} is readable by group or others", f"chmod {mode} {quoted}"))
    return problems


def targets(launcher: Path, paths: Paths) -> list[Target]:
    """Everything the bridge trusts, each once (with BRIDGE_HOME the config and data directories are one)."""
    every = [
        Target(launcher, FILE, required=True, what="the bridge executable"),
        Target(launcher.parent, DIRECTORY, required=True, what="the bridge's directory"),
        Target(paths.config_dir, DIRECTORY, what="config directory"),
        Target(paths.config_file, FILE, what="config"),
        Target(paths.data_dir, DIRECTORY, what="data directory"),
        Target(paths.sealed_file, FILE, private=True, what="sealed credentials"),
        Target(paths.cache_file, FILE, private=True, what="cache"),
        Target(paths.access_token_file, FILE, private=True, what="sealed access token"),
    ]
    unique: dict[Path, Target] = {}
    for target in every:
        unique.setdefault(target.path, target)
    return list(unique.values())


def check(all_targets: list[Target]) -> list[Problem]:
    """Every problem found; none on Windows, whose ACLs these POSIX rules do not describe."""
    if sys.platform == "win32":
        return []
    uid = os.getuid()
    return [problem for target in all_targets for problem in inspect(target, uid)]


def running_launcher() -> Path:
    """The file the gateway ran: argv[0] made absolute, not resolved (a symlink must be seen as one)."""
    return Path(os.path.abspath(sys.argv[0]))
