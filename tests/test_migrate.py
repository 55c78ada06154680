"""`bridge migrate` on a real OpenClaw install: plaintext everywhere OpenClaw keeps it, then none anywhere.

The install is made as a user makes one: a hand-written openclaw.json with
plaintext keys, an API-key auth profile from `openclaw models auth
paste-api-key`, a `.env`, a file-provider secrets.json, then ./install.sh.
Every check reads the files as bytes: a migrated value must not survive in
any file under HOME, backups and SQLite included.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openclaw import OpenClaw, openclaw_on_path
from tests.support.pg import PgCluster, forget
from tests.support.postgrest import Endpoint, ProjectKeys

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[1]
OPENAI = "sk-proj-MIGRATE-openai-7c1d"
GATEWAY = "gw-MIGRATE-token-41e9"
TELEGRAM = "123456:MIGRATE-telegram-b2"
WEATHER = "wx-MIGRATE-skill-90aa"
NEWS = "news-MIGRATE-fileprov-3f"
ANTHROPIC = "sk-ant-MIGRATE-profile-d7"
GEMINI = "gem-MIGRATE-dotenv-55"
VALUES = (OPENAI, GATEWAY, TELEGRAM, WEATHER, NEWS, ANTHROPIC, GEMINI)
NAMES = {
    "OPENAI_API_KEY": OPENAI, "OPENCLAW_GATEWAY_TOKEN": GATEWAY, "TELEGRAM_BOT_TOKEN": TELEGRAM,
    "WEATHER_SKILL_API_KEY": WEATHER, "NEWS_SKILL_API_KEY": NEWS, "ANTHROPIC_API_KEY": ANTHROPIC, "GEMINI_API_KEY": GEMINI,
}
CONFIG = f"""{{
  // as people write it: every key in plaintext
  gateway: {{ mode: "local", auth: {{ token: "{GATEWAY}" }} }},
  models: {{ providers: {{ openai: {{ baseUrl: "https://api.openai.com/v1", apiKey: "{OPENAI}", models: [] }} }} }},
  channels: {{ telegram: {{ botToken: "{TELEGRAM}" }} }},
  skills: {{ entries: {{
    weather: {{ apiKey: "{WEATHER}" }},
    news: {{ apiKey: {{ source: "file", provider: "filemain", id: "/skills/news" }} }},
  }} }},
  secrets: {{ providers: {{ filemain: {{ source: "file", path: "~/.openclaw/secrets.json", mode: "json" }} }} }},
}}
"""
ENV_FILE = f"# my keys\nOPENAI_API_KEY={OPENAI}\r\nGEMINI_API_KEY=\"{GEMINI}\"\nexport UNRELATED_SETTING=hello\n"
ENV_KEPT = "# my keys\nexport UNRELATED_SETTING=hello\n"
FAIL_EXEC_AUDIT = """# With $HOME/fail-exec-audit present, an audit that resolves exec refs fails, as it would if the gateway's
# environment lost the bridge's credentials between apply and audit.
if [ -e "$HOME/fail-exec-audit" ] && [ "$1" = secrets ] && [ "$2" = audit ]; then
  case " $* " in *" --allow-exec "*) echo "simulated failure" >&2; exit 1;; esac
fi
"""


def run(command: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=600, check=False)


def private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def vault_values(pg: PgCluster, names: list[str]) -> dict[str, str]:
    with pg.connect("postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT name, decrypted_secret FROM vault.decrypted_secrets WHERE name = ANY(%s)", (names,)).fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def plaintext_install(
    openclaw: OpenClaw, tmp_path_factory: pytest.TempPathFactory, endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster
) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("migrate-home")
    home.chmod(0o700)
    bin_dir = home / "bin"
    openclaw_on_path(openclaw, bin_dir, FAIL_EXEC_AUDIT)
    state = home / ".openclaw"
    state.mkdir(mode=0o700)
    bridge_home = home / "bridge-home"
    bridge_home.mkdir(mode=0o700)
    env = {
        "HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "SUPABASE_URL": endpoint.url,
        "SUPABASE_SECRET_KEY": keys.secret, "BRIDGE_HOME": str(bridge_home),
    }
    private(state / "openclaw.json", CONFIG)
    private(state / ".env", ENV_FILE)
    private(state / "secrets.json", json.dumps({"skills": {"news": NEWS}, "unrelated": "stays"}))
    pasted = run(["openclaw", "models", "auth", "paste-api-key", "--provider", "anthropic"], env, ANTHROPIC + "\n")
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    installed = run([str(REPO / "install.sh")], {**env, "PYTHON": sys.executable})
    assert installed.returncode == 0, installed.stdout + installed.stderr
    forget(pg, *NAMES)
    try:
        yield env
    finally:
        forget(pg, *NAMES)


def bridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(Path(env["HOME"]) / ".openclaw" / "bridge" / "bridge"), *args], env)


HEALTH_ROWS = 'INSERT INTO "config_health_entries"'
"""OpenClaw's note of openclaw.json's inode and mtime, refreshed whenever it sees the file was replaced: a
restored config is a new file with the same bytes."""


def digest(path: Path) -> str:
    """A file's bytes; for an SQLite database its rows (OpenClaw merely opening its database can checkpoint and
    renumber pages without changing a row), less OpenClaw's file-health notes."""
    if path.suffix != ".sqlite":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = [line for line in conn.iterdump() if not line.startswith(HEALTH_ROWS)]
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        conn.close()


def every_file(home: Path) -> dict[str, str]:
    """Each file's digest; SQLite's shared-memory index and an empty write-ahead log are left out: OpenClaw
    creates them whenever it opens its database, and they hold no data."""
    return {
        str(path.relative_to(home)): digest(path)
        for path in sorted(home.rglob("*"))
        if path.is_file() and not path.is_symlink() and not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


def files_holding(home: Path, values: tuple[str, ...]) -> dict[str, list[str]]:
    holding: dict[str, list[str]] = {}
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits = [v for v in values if v.encode() in data]
            if hits:
                holding[str(path)] = hits
    return holding


def assert_no_value(result: subprocess.CompletedProcess[str]) -> None:
    for value in VALUES:
        assert value not in result.stdout and value not in result.stderr


def test_without_openclaw_on_path_it_says_how_to_get_it(env_bootstrap: dict[str, str]) -> None:
    from tests.support.bridge_proc import run_bridge

    done = run_bridge(["migrate", "--dry-run"], {**env_bootstrap, "HOME": env_bootstrap["BRIDGE_HOME"]})
    assert done.returncode == 1 and "`openclaw` is not on PATH" in done.stderr and "npm install -g openclaw" in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_conflict_a_failed_apply_and_a_dry_run_each_leave_every_file_as_it_was(
    plaintext_install: dict[str, str], pg: PgCluster
) -> None:
    env = plaintext_install
    home = Path(env["HOME"])
    before = every_file(home)

    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.create_secret('sk-someone-else', 'OPENAI_API_KEY')")
    conflict = bridge(env, "migrate", "--yes")
    assert conflict.returncode == 1 and "different value under OPENAI_API_KEY" in conflict.stderr
    assert every_file(home) == before and set(vault_values(pg, list(NAMES))) == {"OPENAI_API_KEY"}
    forget(pg, "OPENAI_API_KEY")

    (home / "fail-exec-audit").write_text("")
    failed = bridge(env, "migrate", "--yes")
    (home / "fail-exec-audit").unlink()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "every OpenClaw file was restored as it was" in failed.stderr
    # OpenClaw ran the bridge in the dry run before the failure: its encrypted cache is the only new file.
    assert {k: v for k, v in every_file(home).items() if not k.startswith("bridge-home/")} == before
    assert vault_values(pg, list(NAMES)) == NAMES, "the values are in Vault before any file changes"
    forget(pg, *NAMES)

    before = every_file(home)
    unasked = bridge(env, "migrate")
    assert unasked.returncode == 2 and "no terminal to ask" in unasked.stderr and "--yes" in unasked.stderr
    dry = bridge(env, "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for name in NAMES:
        assert name in dry.stdout
    assert "dry run: nothing was changed" in dry.stdout and "openclaw.json.bak" in dry.stdout
    as_json = json.loads(bridge(env, "migrate", "--dry-run", "--json").stdout)
    assert {m["name"] for m in as_json["moves"]} == set(NAMES) and all(m["status"] == "new" for m in as_json["moves"])
    assert every_file(home) == before and vault_values(pg, list(NAMES)) == {}
    for result in (conflict, failed, unasked, dry):
        assert_no_value(result)


def test_migrate_leaves_refs_only_and_no_plaintext_anywhere_and_a_second_run_changes_nothing(
    plaintext_install: dict[str, str], pg: PgCluster
) -> None:
    env = plaintext_install
    home = Path(env["HOME"])
    assert files_holding(home, VALUES), "the fixture must start with plaintext on disk"
    moved = bridge(env, "migrate", "--yes")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert_no_value(moved)
    assert "moved 7 value(s) into Vault" in moved.stdout and "openclaw secrets reload" in moved.stdout
    assert vault_values(pg, list(NAMES)) == NAMES

    check = run(["openclaw", "secrets", "audit", "--check", "--allow-exec", "--json"], env)
    report = json.loads(check.stdout)
    assert check.returncode == 0, json.dumps(report["findings"], indent=1)
    assert report["summary"]["plaintextCount"] == 0 and report["summary"]["unresolvedRefCount"] == 0
    assert report["resolution"]["refsChecked"] >= 6 and report["resolution"]["resolvabilityComplete"]

    assert files_holding(home, VALUES) == {}
    assert (home / ".openclaw" / ".env").read_text() == ENV_KEPT
    assert json.loads((home / ".openclaw" / "secrets.json").read_text()) == {"unrelated": "stays"}
    config = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert "filemain" not in config["secrets"]["providers"], "no ref uses the file provider any more"
    assert config["skills"]["entries"]["news"]["apiKey"] == {"source": "exec", "provider": "supabase", "id": "NEWS_SKILL_API_KEY"}
    command = config["secrets"]["providers"]["supabase"]["command"]
    assert command == str(home / ".openclaw" / "bridge" / "bridge"), "refs resolve through the installed launcher"
    assert all(
        p.stat().st_mode & 0o077 == 0 for p in (home / ".openclaw").glob("openclaw.json*")
    ), "rewritten files stay private"

    after = every_file(home)
    again = bridge(env, "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to migrate" in again.stdout
    assert every_file(home) == after
    assert os.environ.get("BRIDGE_DEBUG") != "1"
