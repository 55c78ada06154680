"""install.sh never removes what it did not create, honours --dry-run everywhere, refuses unsafe prefixes, and --purge.

Real installs (a venv and pip each, ~10 s) are few: one shared install for the
checks that change nothing, and one per test only where uninstall is the point.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.bridge_proc import REPO, install

pytestmark = pytest.mark.install

MANIFEST = ".openclaw-supabase-bridge"
ADVICE = "to erase them too: "


def user_env(tmp_path: Path) -> dict[str, str]:
    """A fresh HOME with an empty openclaw.json, a private BRIDGE_HOME, no D-Bus session and no openclaw on PATH."""
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True, mode=0o700)
    (home / ".openclaw" / "openclaw.json").write_text("{}\n")
    bridge_home = tmp_path / "bridge-home"
    bridge_home.mkdir(mode=0o700)
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}


def default_prefix(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".openclaw" / "bridge"


def openclaw_providers(env: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((Path(env["HOME"]) / ".openclaw" / "openclaw.json").read_text())
    providers: dict[str, Any] = doc.get("secrets", {}).get("providers", {})
    return providers


def put_cache(env: dict[str, str]) -> Path:
    """A sealed cache as the bridge leaves it: private, in BRIDGE_HOME."""
    cache = Path(env["BRIDGE_HOME"]) / "cache.sealed"
    cache.write_bytes(os.urandom(96))
    cache.chmod(0o600)
    return cache


def tree(*roots: Path) -> dict[str, tuple[object, ...]]:
    """Every path under the roots with its type, mode and content hash: equal trees mean nothing changed."""
    found: dict[str, tuple[object, ...]] = {}
    for root in roots:
        for path in [root, *sorted(root.rglob("*"))]:
            st = path.lstat()
            if path.is_symlink():
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_dir():
                found[str(path)] = ("dir", st.st_mode)
            else:
                found[str(path)] = ("file", st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def manifest_lines(prefix: Path) -> list[str]:
    return [line for line in (prefix / MANIFEST).read_text().splitlines() if line and not line.startswith("#")]


def steps(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The steps install.sh printed (`==> ...` lines), in order, without the bridge's own output between them."""
    return [line for line in result.stdout.splitlines() if line.startswith("==> ")]


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.startswith("install.sh: ") and result.stderr.count("\n") == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One install into a directory the user had already made, empty: shared by the checks that change nothing."""
    env = user_env(tmp_path_factory.mktemp("shared"))
    prefix = Path(env["HOME"]) / "tools" / "bridge"
    prefix.mkdir(parents=True, mode=0o755)
    env["PREFIX"] = str(prefix)
    done = install(env, "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    yield env


# --- the shared install: nothing here changes it ------------------------------------------


def test_install_into_an_existing_empty_dir_records_only_what_it_made(installed: dict[str, str]) -> None:
    prefix = Path(installed["PREFIX"])
    assert manifest_lines(prefix) == ["venv", "bridge"]
    assert prefix.stat().st_mode & 0o777 == 0o700
    assert (prefix / MANIFEST).stat().st_mode & 0o777 == 0o600
    assert (prefix / "bridge").is_file() and (prefix / "venv" / "bin" / "python").exists()
    assert openclaw_providers(installed)["supabase"]["command"] == str(prefix / "bridge")


def test_install_again_keeps_the_manifest_record(installed: dict[str, str]) -> None:
    prefix = Path(installed["PREFIX"])
    before = (prefix / MANIFEST).read_bytes()
    dry = install(installed, "--prefix", str(prefix), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"==> update the install in {prefix} (mode 0700)\n" in dry.stdout
    again = install(installed, "--prefix", str(prefix))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (prefix / MANIFEST).read_bytes() == before
    assert "created-dir" not in manifest_lines(prefix)


def test_uninstall_dry_run_changes_nothing(installed: dict[str, str]) -> None:
    prefix = Path(installed["PREFIX"])
    home = Path(installed["HOME"])
    cache = put_cache(installed)
    before = tree(home / ".openclaw", prefix, Path(installed["BRIDGE_HOME"]))

    dry = install(installed, "--uninstall", "--prefix", str(prefix), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would remove provider 'supabase'" in dry.stdout
    for path in (prefix / "venv", prefix / "bridge", prefix / MANIFEST):
        assert f"==> remove {path}\n" in dry.stdout
    assert f"==> keep {prefix} (it existed before install.sh)\n" in dry.stdout
    assert dry.stdout.startswith("dry run: nothing is changed")
    assert "removed" not in dry.stdout

    purge = install(installed, "--uninstall", "--purge", "--prefix", str(prefix), "--dry-run")
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert f"==> run {prefix / 'bridge'} cache clear (erases the cache)\n" in purge.stdout
    assert f"==> run {prefix / 'bridge'} logout (erases the stored credentials)\n" in purge.stdout
    assert f"==> remove {prefix / 'venv'}\n" in purge.stdout

    assert tree(home / ".openclaw", prefix, Path(installed["BRIDGE_HOME"])) == before
    assert cache.exists()


# --- refusals: nothing is installed, so nothing may change -----------------------------------


@pytest.mark.parametrize("name", ["with space", "with\ttab", "with\nnewline", "it's", 'say"hi', "back\\slash", "cost$5"])
def test_a_prefix_that_breaks_the_shebang_or_quoting_is_refused(tmp_path: Path, name: str) -> None:
    env = user_env(tmp_path)
    before = tree(tmp_path)
    prefix = str(tmp_path / "opt" / name)
    for args in ([], ["--dry-run"], ["--uninstall"], ["--uninstall", "--dry-run"], ["--uninstall", "--purge"]):
        one_line_error(install(env, "--prefix", prefix, *args), 2, "--prefix must not contain", "choose a plain path")
    assert tree(tmp_path) == before


def test_a_non_empty_dir_without_a_manifest_is_refused_and_left_alone(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = tmp_path / "mine"
    (prefix / "venv").mkdir(parents=True)
    (prefix / "venv" / "notes.txt").write_text("my venv\n")
    ran = tmp_path / "my-bridge-ran"
    (prefix / "bridge").write_text(f"#!/bin/sh\ntouch {ran}\n")
    (prefix / "bridge").chmod(0o755)
    before = tree(tmp_path)

    for args in ([], ["--dry-run"]):
        one_line_error(install(env, "--prefix", str(prefix), *args), 1, "choose another --prefix or empty it")
    real = install(env, "--uninstall", "--prefix", str(prefix))
    dry = install(env, "--uninstall", "--prefix", str(prefix), "--dry-run")
    for result in (real, dry):
        one_line_error(result, 1, "not made by install.sh", "left it in place")
    assert steps(dry) == steps(real) == ["==> unregister provider 'supabase' from OpenClaw"]
    one_line_error(install(env, "--uninstall", "--purge", "--prefix", str(prefix)), 1, "nothing is installed at")

    assert tree(tmp_path) == before and not ran.exists()


def test_purge_without_an_install_says_how_and_changes_nothing(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    put_cache(env)
    before = tree(tmp_path)
    prefix = tmp_path / "never-installed"
    for args in ([], ["--dry-run"]):
        result = install(env, "--uninstall", "--purge", "--prefix", str(prefix), *args)
        script = REPO.resolve() / "install.sh"
        one_line_error(
            result, 1, f"nothing is installed at {prefix}",
            f"{script} --prefix {prefix} && {script} --uninstall --purge --prefix {prefix}",
        )
    assert tree(tmp_path) == before


def test_purge_needs_uninstall(tmp_path: Path) -> None:
    one_line_error(install(user_env(tmp_path), "--purge"), 2, "--uninstall --purge")


# --- legacy: the empty marker of earlier releases ------------------------------------------


def legacy_install(prefix: Path) -> Path:
    """What earlier releases left: an empty marker, a venv and a launcher (here running this checkout's bridge)."""
    (prefix / "venv" / "bin").mkdir(parents=True)
    (prefix / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (prefix / MANIFEST).write_bytes(b"")
    launcher = prefix / "bridge"
    launcher.write_text(f"#!{sys.executable} -I\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n")
    launcher.chmod(0o700)
    return launcher


def test_a_legacy_marker_uninstalls_venv_launcher_and_marker_only(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    alone = tmp_path / "alone"
    shared = tmp_path / "shared"
    for prefix in (alone, shared):
        launcher = legacy_install(prefix)
        registered = subprocess.run(
            [str(launcher), "register", "--provider", prefix.name], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )
        assert registered.returncode == 0, registered.stderr
    (shared / "notes.txt").write_text("mine\n")

    dry = install(env, "--prefix", str(shared), "--dry-run")
    assert dry.returncode == 0 and f"==> update the install in {shared} (mode 0700)\n" in dry.stdout, dry.stdout + dry.stderr

    for prefix in (alone, shared):
        done = install(env, "--uninstall", "--prefix", str(prefix), "--provider", prefix.name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"removed provider '{prefix.name}'" in done.stdout
        assert prefix.name not in openclaw_providers(env)
    assert not alone.exists()
    assert sorted(p.name for p in shared.iterdir()) == ["notes.txt"]
    assert (shared / "notes.txt").read_text() == "mine\n"


# --- real uninstalls ------------------------------------------------------------------------


def test_uninstall_keeps_a_dir_that_existed_before_install(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = tmp_path / "premade"
    prefix.mkdir()
    assert install(env, "--prefix", str(prefix)).returncode == 0
    done = install(env, "--uninstall", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert prefix.is_dir() and list(prefix.iterdir()) == []
    assert f"==> keep {prefix} (it existed before install.sh)\n" in done.stdout
    assert "supabase" not in openclaw_providers(env)


def test_a_file_added_after_install_survives_uninstall_and_keeps_the_dir(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = tmp_path / "opt" / "oc" / "bridge"
    installed = install(env, "--prefix", str(prefix))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert manifest_lines(prefix) == ["created-dir", "venv", "bridge"]
    (prefix / "notes.txt").write_text("my notes\n")

    done = install(env, "--uninstall", "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in prefix.iterdir()) == ["notes.txt"]
    assert (prefix / "notes.txt").read_text() == "my notes\n"
    kept = [line for line in done.stdout.splitlines() if line.startswith(f"==> keep {prefix}")]
    assert kept == [f"==> keep {prefix}: it also holds files install.sh did not put there (notes.txt)"]


def test_plain_uninstall_removes_the_dir_it_made_and_its_advice_runs_as_printed(tmp_path: Path) -> None:
    """The advice names a checkout path that needs quoting, and --purge erases the cache and reports no credentials."""
    checkout = tmp_path / "my checkout's copy"
    checkout.mkdir()
    for name in ("install.sh", "pyproject.toml", "README.md", "setup.sql"):
        shutil.copy2(REPO / name, checkout / name)
    shutil.copytree(REPO / "bridge", checkout / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    script = checkout / "install.sh"
    env = user_env(tmp_path)
    prefix = default_prefix(env)

    assert install(env, "--provider", "vault2", script=script).returncode == 0
    assert manifest_lines(prefix) == ["created-dir", "venv", "bridge"]
    done = install(env, "--uninstall", "--provider", "vault2", script=script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not prefix.exists() and prefix.parent.is_dir()
    assert f"==> remove {prefix} (then empty)\n" in done.stdout
    assert "vault2" not in openclaw_providers(env)

    advice = [line[len(ADVICE):] for line in done.stdout.splitlines() if line.startswith(ADVICE)]
    assert len(advice) == 1 and "--uninstall --purge" in advice[0] and "--provider vault2" in advice[0]
    cache = put_cache(env)
    purged = subprocess.run(
        ["sh", "-c", advice[0]], env={**env, "PYTHON": sys.executable}, capture_output=True, text=True,
        timeout=600, check=False,
    )
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not cache.exists()
    assert "no stored credentials to remove" in purged.stdout
    assert not prefix.exists() and "vault2" not in openclaw_providers(env)
    assert "to erase them too" not in purged.stdout


# --- one list of steps: a dry run prints the steps the real run takes, and changes nothing ------


def dry_then_real(env: dict[str, str], root: Path, *args: str) -> list[str]:
    """Runs install.sh with --dry-run, then without: the same steps, and the dry run left root as it was."""
    before = tree(root)
    dry = install(env, *args, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert tree(root) == before, "the dry run changed something"
    real = install(env, *args)
    assert real.returncode == 0, real.stdout + real.stderr
    assert steps(real), real.stdout
    assert steps(dry) == steps(real)
    return steps(real)


def test_the_dry_run_prints_the_steps_of_a_fresh_install_an_upgrade_and_a_purge(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = default_prefix(env)
    fresh = dry_then_real(env, tmp_path)
    assert fresh[:3] == [
        f"==> create {prefix} (mode 0700)",
        f"==> write the manifest {prefix / MANIFEST} (what install.sh made here)",
        f"==> create the venv {prefix / 'venv'}",
    ]
    upgrade = dry_then_real(env, tmp_path)
    # The same steps but the first, and the venv is there already.
    assert upgrade == [f"==> update the install in {prefix} (mode 0700)", fresh[1], *fresh[3:]]
    put_cache(env)
    purge = dry_then_real(env, tmp_path, "--uninstall", "--purge")
    assert purge[0].endswith(" cache clear (erases the cache)") and purge[-1] == f"==> remove {prefix} (then empty)"
    assert not prefix.exists() and not (Path(env["BRIDGE_HOME"]) / "cache.sealed").exists()


def test_the_dry_run_prints_the_steps_of_an_install_into_a_premade_dir_and_its_uninstall(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    prefix = tmp_path / "premade"
    prefix.mkdir()
    assert dry_then_real(env, tmp_path, "--prefix", str(prefix))[0] == f"==> install into the empty {prefix} (mode 0700 from then on)"
    (prefix / "notes.txt").write_text("mine\n")
    gone = dry_then_real(env, tmp_path, "--uninstall", "--prefix", str(prefix))
    assert gone[-1] == f"==> keep {prefix}: it also holds files install.sh did not put there (notes.txt)"
    assert sorted(p.name for p in prefix.iterdir()) == ["notes.txt"]


def test_a_dangling_launcher_link_is_a_step_of_the_dry_run_too(tmp_path: Path) -> None:
    """The real run always removed a listed `bridge` that is a dangling link; the dry run used to leave it out."""
    env = user_env(tmp_path)
    prefix = tmp_path / "linked"
    prefix.mkdir()
    (prefix / MANIFEST).write_text("venv\nbridge\n")
    (prefix / "bridge").symlink_to(tmp_path / "gone")
    assert dry_then_real(env, tmp_path, "--uninstall", "--prefix", str(prefix)) == [
        "==> unregister provider 'supabase' from OpenClaw",
        f"==> remove {prefix / 'bridge'}",
        f"==> remove {prefix / MANIFEST}",
        f"==> keep {prefix} (it existed before install.sh)",
    ]
    assert prefix.is_dir() and list(prefix.iterdir()) == []
