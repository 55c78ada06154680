"""`bridge migrate` at its edges, on real files with the real OpenClaw: files that are not OpenClaw's own
(a symlinked `.env` owned by another user, a provider file in a shared setgid directory) edited in place,
`.env` read as dotenv reads it, values inside longer strings, a symlinked config, a config too deep to
walk, and a run killed after apply or midway through its clean-up, then finished by the next run."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.openclaw import OpenClaw, openclaw_on_path
from tests.support.pg import PgCluster, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_migrate import CONFIG, ENV_FILE, NAMES, NEWS, REPO, VALUES, files_holding, private, run, vault_values

pytestmark = pytest.mark.install

KILL_AFTER_APPLY = """# With $HOME/kill-after-apply present, a real (not --dry-run) `secrets apply` runs to its end and then kills
# the migrate that started it, as a user's Ctrl-C or an OOM kill would.
if [ -e "$HOME/kill-after-apply" ] && [ "$1" = secrets ] && [ "$2" = apply ]; then
  case " $* " in
    *" --dry-run "*) ;;
    *) real_openclaw "$@"; rc=$?; kill -9 "$PPID"; exit $rc;;
  esac
fi
"""
KILL_AFTER_FIRST_EDIT = """
import os, signal, sys
import bridge.migrate.cleanup as cleanup
real = cleanup.rewrite_in_place
def first_edit_then_killed(path, data):
    real(path, data)
    os.kill(os.getpid(), signal.SIGKILL)
cleanup.rewrite_in_place = first_edit_then_killed
from bridge.cli import main
sys.exit(main(["migrate", "--yes"]))
"""


@dataclass
class Install:
    home: Path
    env: dict[str, str]

    @property
    def state(self) -> Path:
        return self.home / ".openclaw"

    def bridge(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.state / "bridge" / "bridge"), *args], self.env)

    def audit_check(self) -> subprocess.CompletedProcess[str]:
        return run(["openclaw", "secrets", "audit", "--check", "--allow-exec", "--json"], self.env)


MakeInstall = Callable[[str, str | None, dict[str, str], list[str]], Install]
"""make_install's builder: (openclaw.json, .env or None, other files by path under HOME, the Vault names it will use)."""


@pytest.fixture
def make_install(
    openclaw: OpenClaw, tmp_path: Path, endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster
) -> Iterator[MakeInstall]:
    names: list[str] = []

    def build(config: str, env_file: str | None, files: dict[str, str], names_used: list[str]) -> Install:
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        bin_dir = home / "bin"
        openclaw_on_path(openclaw, bin_dir, KILL_AFTER_APPLY)
        state = home / ".openclaw"
        state.mkdir(mode=0o700)
        (home / "bridge-home").mkdir(mode=0o700)
        env = {
            "HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "SUPABASE_URL": endpoint.url,
            "SUPABASE_SECRET_KEY": keys.secret, "BRIDGE_HOME": str(home / "bridge-home"),
        }
        private(state / "openclaw.json", config)
        if env_file is not None:
            private(state / ".env", env_file)
        for relative, text in files.items():
            private(home / relative, text)
        installed = run([str(REPO / "install.sh")], {**env, "PYTHON": sys.executable})
        assert installed.returncode == 0, installed.stdout + installed.stderr
        names.extend(names_used)
        forget(pg, *names_used)
        return Install(home, env)

    yield build
    forget(pg, *names)


def assert_silent(result: subprocess.CompletedProcess[str], values: tuple[str, ...]) -> None:
    for value in values:
        assert value not in result.stdout and value not in result.stderr, "a secret reached the output"


# --- in place, symlinks, owners, dotenv, same-valued settings, embedded values --------------------------------

OPENAI = "sk-EDGE-real-123"
GEMINI = "gem-EDGE-esc\nline"
ANTHROPIC = "ant-EDGE-multi\nline-2"
SHARED = "pw-EDGE-shared-77"
NEWS2 = "news-EDGE-shared-dir-5"
EDGE_ENV = (
    f"# dotfiles\nOPENAI_API_KEY={OPENAI} # personal key\n"
    'export GEMINI_API_KEY="gem-EDGE-esc\\nline"\r\n'
    "ANTHROPIC_API_KEY='ant-EDGE-multi\nline-2' # two lines\n"
    f"OPENCLAW_PROFILE={SHARED}\nDB_USER={SHARED}\n"
    f"AUTH_HEADER=Bearer {OPENAI}\n"
)
EDGE_ENV_KEPT = f"# dotfiles\nOPENCLAW_PROFILE={SHARED}\nDB_USER={SHARED}\nAUTH_HEADER=Bearer {OPENAI}\n"
EDGE_CONFIG = f"""{{
  gateway: {{ mode: "local" }},
  skills: {{ entries: {{
    weather: {{ apiKey: "{SHARED}" }},
    news: {{ apiKey: {{ source: "file", provider: "shared", id: "/news" }} }},
  }} }},
  secrets: {{ providers: {{ shared: {{ source: "file", path: "~/shared/secrets.json", mode: "json" }} }} }},
}}
"""
EDGE_NAMES = ["OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY", "WEATHER_SKILL_API_KEY", "NEWS_SKILL_API_KEY"]
RAW_MARKERS = ("sk-EDGE", "gem-EDGE", "ant-EDGE", "news-EDGE")
"""The start of each value as the files spell it (escapes and line breaks differ from the value itself)."""


def stat_of(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_mode, info.st_uid, info.st_gid


def test_foreign_files_are_edited_in_place_and_env_values_are_what_dotenv_reads(make_install: MakeInstall, pg: PgCluster) -> None:
    nobody = pwd.getpwnam("nobody")
    shared_gid = nobody.pw_gid
    install: Install = make_install(EDGE_CONFIG, None, {}, EDGE_NAMES)
    home = install.home
    dotfiles, shared = home / "dotfiles", home / "shared"
    for directory in (dotfiles, shared):
        directory.mkdir()
        os.chown(directory, 0, shared_gid)
        directory.chmod(0o2775)
    (dotfiles / "openclaw.env").write_bytes(EDGE_ENV.encode())
    os.chown(dotfiles / "openclaw.env", nobody.pw_uid, shared_gid)
    (dotfiles / "openclaw.env").chmod(0o640)
    (install.state / ".env").symlink_to(dotfiles / "openclaw.env")
    (shared / "secrets.json").write_text(json.dumps({"news": NEWS2, "other": "stays"}))
    (shared / "secrets.json").chmod(0o600)
    watched = [dotfiles, shared, dotfiles / "openclaw.env", shared / "secrets.json"]
    before = {path: stat_of(path) for path in watched}
    values = (OPENAI, GEMINI, ANTHROPIC, SHARED, NEWS2, *RAW_MARKERS)

    stopped = install.bridge("migrate", "--yes")
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "~/.openclaw/.env: AUTH_HEADER holds the value of OPENAI_API_KEY inside a longer string" in stopped.stdout, stopped.stdout
    assert "--keep-embedded" in stopped.stderr and stopped.stderr.count("\n") == 1
    assert (dotfiles / "openclaw.env").read_bytes() == EDGE_ENV.encode() and vault_values(pg, EDGE_NAMES) == {}

    moved = install.bridge("migrate", "--yes", "--keep-embedded")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "~/.openclaw/.env (-> ~/dotfiles/openclaw.env): removed" in moved.stdout, moved.stdout
    assert "left alone:" in moved.stdout and "AUTH_HEADER holds the value of OPENAI_API_KEY" in moved.stdout
    for result in (stopped, moved):
        assert_silent(result, values)
    assert vault_values(pg, EDGE_NAMES) == {
        "OPENAI_API_KEY": OPENAI, "GEMINI_API_KEY": GEMINI, "ANTHROPIC_API_KEY": ANTHROPIC,
        "WEATHER_SKILL_API_KEY": SHARED, "NEWS_SKILL_API_KEY": NEWS2,
    }, "Vault holds the values OpenClaw reads, not the lines' tails"
    got = install.bridge("secrets", "get", "OPENAI_API_KEY")
    assert got.returncode == 0 and got.stdout == OPENAI + "\n"

    assert (install.state / ".env").is_symlink() and (install.state / ".env").resolve() == dotfiles / "openclaw.env"
    assert (dotfiles / "openclaw.env").read_bytes() == EDGE_ENV_KEPT.encode(), "only the moved names went, every other byte stayed"
    assert json.loads((shared / "secrets.json").read_text()) == {"other": "stays"}
    assert {path: stat_of(path) for path in watched} == before, "same inode, mode, owner, group; directories untouched"
    audit = install.audit_check()
    assert audit.returncode == 0, audit.stdout
    holding = files_holding(home, (*RAW_MARKERS, SHARED))
    assert holding == {str(dotfiles / "openclaw.env"): ["sk-EDGE", SHARED]}, holding


def test_a_symlinked_config_is_refused_before_anything_changes(openclaw: OpenClaw, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "dotfiles").mkdir(parents=True)
    (home / ".openclaw").mkdir()
    target = home / "dotfiles" / "openclaw.json"
    target.write_text(CONFIG)
    (home / ".openclaw" / "openclaw.json").symlink_to(target)
    openclaw_on_path(openclaw, home / "bin")
    env = {"HOME": str(home), "PATH": f"{home / 'bin'}:/usr/bin:/bin", "BRIDGE_HOME": str(home / "bridge-home")}
    for args in (["--dry-run"], ["--yes"]):
        done = run([sys.executable, "-m", "bridge", "migrate", *args], env)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert f"is a symlink to {target}" in done.stderr and "leave the plaintext in" in done.stderr and "mv " in done.stderr
        assert_silent(done, VALUES)
    assert (home / ".openclaw" / "openclaw.json").is_symlink() and target.read_text() == CONFIG


def test_a_config_too_deep_to_walk_is_one_line_naming_the_file(openclaw: OpenClaw, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True)
    config = home / ".openclaw" / "openclaw.json"
    config.write_text('{"a":' + "[" * 50_000 + "]" * 50_000 + "}")
    openclaw_on_path(openclaw, home / "bin")
    env = {"HOME": str(home), "PATH": f"{home / 'bin'}:/usr/bin:/bin", "BRIDGE_HOME": str(home / "bridge-home")}
    for args in (["migrate", "--dry-run"], ["unregister"], ["unregister", "--dry-run"]):
        done = run([sys.executable, "-m", "bridge", *args], env)
        assert done.returncode == 1, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and str(config) in done.stderr and "nested deeper than 100" in done.stderr
        assert "internal error" not in done.stderr and "Recursion" not in done.stderr


# --- killed, then finished by the next run ---------------------------------------------------------------------


def assert_finished(install: Install, pg: PgCluster) -> None:
    again = install.bridge("migrate", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_silent(again, VALUES)
    audit = install.audit_check()
    assert audit.returncode == 0, audit.stdout
    assert files_holding(install.home, VALUES) == {}, "no moved value in any file, the old provider file included"
    assert json.loads((install.state / "secrets.json").read_text()) == {"unrelated": "stays"}
    assert not (install.home / "bridge-home" / "migrate-journal.json").exists(), "the journal goes once all is done"
    assert vault_values(pg, list(NAMES)) == NAMES
    assert "nothing to migrate" in install.bridge("migrate", "--yes").stdout


def standard_install(make_install: MakeInstall, openclaw: OpenClaw) -> Install:
    install: Install = make_install(CONFIG, ENV_FILE, {".openclaw/secrets.json": json.dumps({"skills": {"news": NEWS}, "unrelated": "stays"})}, list(NAMES))
    pasted = run(["openclaw", "models", "auth", "paste-api-key", "--provider", "anthropic"], install.env, NAMES["ANTHROPIC_API_KEY"] + "\n")
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    return install


def test_killed_right_after_apply_the_next_run_finishes_the_clean_up(make_install: MakeInstall, openclaw: OpenClaw, pg: PgCluster) -> None:
    install = standard_install(make_install, openclaw)
    (install.home / "kill-after-apply").write_text("")
    killed = install.bridge("migrate", "--yes")
    (install.home / "kill-after-apply").unlink()
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = install.home / "bridge-home" / "migrate-journal.json"
    assert journal.stat().st_mode & 0o777 == 0o600
    assert not any(value.encode() in journal.read_bytes() for value in VALUES), "the journal holds refs only"
    assert NEWS.encode() in (install.state / "secrets.json").read_bytes(), "apply left the provider file as it was"
    assert_finished(install, pg)


def test_killed_midway_through_the_clean_up_the_next_run_finishes_it(make_install: MakeInstall, openclaw: OpenClaw, pg: PgCluster) -> None:
    install = standard_install(make_install, openclaw)
    killed = run([sys.executable, "-c", KILL_AFTER_FIRST_EDIT], {**install.env, "PYTHONPATH": str(REPO)})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert files_holding(install.home, VALUES), "killed with plaintext still to remove"
    assert (install.home / "bridge-home" / "migrate-journal.json").is_file()
    assert_finished(install, pg)


# --- one value in openclaw.json and in .env -------------------------------------------------------------------

TELEGRAM_BOTH = "123456:EDGE-telegram-both-c4"
TELEGRAM_CONFIG = f"""{{
  gateway: {{ mode: "local" }},
  channels: {{ telegram: {{ botToken: "{TELEGRAM_BOTH}" }} }},
}}
"""


def test_a_bot_token_in_the_config_and_in_env_leaves_no_copy_after_one_run(make_install: MakeInstall, pg: PgCluster) -> None:
    """The same token as `channels.telegram.botToken` and as `TELEGRAM_BOT_TOKEN` in `.env`: one `migrate --yes`
    must remove the `.env` line as well as rewrite the config (the line used to survive until a second run)."""
    install = make_install(TELEGRAM_CONFIG, f"# bots\nTELEGRAM_BOT_TOKEN={TELEGRAM_BOTH}\nKEEP=me\n", {}, ["TELEGRAM_BOT_TOKEN"])
    moved = install.bridge("migrate", "--yes")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert_silent(moved, (TELEGRAM_BOTH,))
    assert vault_values(pg, ["TELEGRAM_BOT_TOKEN"]) == {"TELEGRAM_BOT_TOKEN": TELEGRAM_BOTH}
    assert files_holding(install.home, (TELEGRAM_BOTH,)) == {}, "one run leaves no plaintext copy under HOME"
    assert (install.state / ".env").read_text() == "# bots\nKEEP=me\n"
    again = install.bridge("migrate", "--yes")
    assert again.returncode == 0 and "nothing to migrate" in again.stdout, again.stdout + again.stderr
