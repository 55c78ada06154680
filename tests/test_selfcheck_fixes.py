"""Every fix the self-checks suggest works when pasted into a shell, for every kind of path they check."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.local.paths import Paths
from bridge.local.selfcheck import check, targets

Breaker = Callable[[Paths], None]


def lay_out(root: Path) -> tuple[Path, Paths]:
    """A launcher and separate config and data directories, as on a machine without BRIDGE_HOME."""
    provider, config_dir, data_dir = root / "provider", root / "config", root / "data"
    for directory in (provider, config_dir, data_dir):
        directory.mkdir(mode=0o700)
    launcher = provider / "bridge"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o700)
    paths = Paths(config_dir=config_dir, data_dir=data_dir)
    paths.config_file.write_text("deadline = 3\n")
    for private in (paths.sealed_file, paths.cache_file):
        private.write_bytes(b"sealed")
        private.chmod(0o600)
    return launcher, paths


def replace_with_dir(path: Path) -> None:
    path.unlink()
    path.mkdir()


def symlink_dir(path: Path) -> None:
    real = path.with_name(path.name + "-real")
    path.rename(real)
    path.symlink_to(real)


def symlink_file(path: Path) -> None:
    real = path.with_name(path.name + ".real")
    path.rename(real)
    real.chmod(0o600)
    path.symlink_to(real)


BREAKERS: dict[str, Breaker] = {
    "group-writable config dir": lambda p: p.config_dir.chmod(0o770),
    "world-writable config": lambda p: p.config_file.chmod(0o666),
    "config is a directory": lambda p: replace_with_dir(p.config_file),
    "symlinked data dir": lambda p: symlink_dir(p.data_dir),
    "symlinked sealed file": lambda p: symlink_file(p.sealed_file),
    "world-readable cache": lambda p: p.cache_file.chmod(0o644),
    "cache owned by someone else": lambda p: os.chown(p.cache_file, 54321, 54321),
    "config dir owned by someone else": lambda p: os.chown(p.config_dir, 54321, 54321),
}


@pytest.mark.parametrize("breaker", list(BREAKERS), ids=list(BREAKERS))
def test_the_suggested_fix_works_when_pasted(tmp_path: Path, breaker: str) -> None:
    launcher, paths = lay_out(tmp_path)
    assert check(targets(launcher, paths)) == []
    BREAKERS[breaker](paths)
    problems = check(targets(launcher, paths))
    assert problems, breaker
    for problem in problems:
        pasted = subprocess.run(["sh", "-c", problem.fix], capture_output=True, text=True, check=False)
        assert pasted.returncode == 0, (problem.fix, pasted.stderr)
    assert check(targets(launcher, paths)) == []


def test_the_config_directory_is_checked_without_bridge_home(tmp_path: Path) -> None:
    launcher, paths = lay_out(tmp_path)
    paths.config_dir.chmod(0o777)
    (problem,) = check(targets(launcher, paths))
    assert problem.path == paths.config_dir and "config directory" in problem.message
