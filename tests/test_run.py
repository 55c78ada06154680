"""`bridge run -- CMD` as a user runs it: real Vault stand-in, real exec, children that report hashes, never values.

Each child is a small Python script that prints what it received as sha256 digests and variable names, so
no value ever reaches a test's output; every output is searched for the plaintext anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bridge.core.errors import UsageError
from bridge.core.run_env import (
    BRIDGE_CREDENTIALS,
    CLEAN_BASE,
    EnvMapping,
    check_mappings,
    child_environment,
    parse_env_file,
    parse_mapping,
)
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, run_bridge
from tests.support.faults import FaultProxy
from tests.test_tokens import created_token

GITHUB_PAT = "ghp_" + "R7x2" * 9
SERVICE_ROLE = "sb_secret_" + "Zq9" * 10
DB_URL = "postgres://app:s3cr3t-pw-771@db.internal:5432/app"
WAIT_S = 30.0

CHILD = """\
import hashlib, json, os, sys
names = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else []
print(json.dumps({
    "pid": os.getpid(),
    "digests": {n: hashlib.sha256(os.environ[n].encode()).hexdigest() for n in names if n in os.environ},
    "names": sorted(os.environ),
}))
sys.exit(int(os.environ.get("CHILD_EXIT", "0")))
"""

WAITER = """\
import os, signal, sys
def stop(signum, frame):
    sys.exit(40 + signum)
signal.signal(signal.SIGTERM, stop)
with open(sys.argv[1], "w") as out:
    out.write(str(os.getpid()))
signal.pause()
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.fixture
def child(tmp_path: Path) -> Path:
    path = tmp_path / "child.py"
    path.write_text(CHILD)
    return path


@pytest.fixture
def secrets_in_vault(vault: Vault) -> None:
    vault.put("GITHUB_PERSONAL_ACCESS_TOKEN", GITHUB_PAT)
    vault.put("SUPABASE_SERVICE_ROLE", SERVICE_ROLE)
    vault.put_json("APP_DB", {"url": DB_URL, "user": "app"})


def run(env: dict[str, str], *args: str, child: Path, report: str = "") -> tuple[Any, dict[str, Any] | None]:
    done = run_bridge(["run", *args, "--", sys.executable, str(child), report], env)
    report_doc = json.loads(done.stdout) if done.returncode == 0 and done.stdout else None
    return done, report_doc


def assert_clean(text: str) -> None:
    leaked = [i for i, secret in enumerate((GITHUB_PAT, SERVICE_ROLE, DB_URL, "s3cr3t-pw-771")) if secret in text]
    assert not leaked, f"secret #{leaked} appears in the output"


@pytest.mark.usefixtures("secrets_in_vault")
def test_every_id_resolves_in_one_call_and_the_child_gets_exactly_the_values(
    env_bootstrap: dict[str, str], child: Path,
) -> None:
    done, report = run(
        env_bootstrap, "--env", "GITHUB_TOKEN=GITHUB_PERSONAL_ACCESS_TOKEN", "--env", "DATABASE_URL=APP_DB#url",
        "--env", "SERVICE_KEY=SUPABASE_SERVICE_ROLE", child=child, report="GITHUB_TOKEN,DATABASE_URL,SERVICE_KEY",
    )
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {
        "GITHUB_TOKEN": digest(GITHUB_PAT), "DATABASE_URL": digest(DB_URL), "SERVICE_KEY": digest(SERVICE_ROLE),
    }
    assert done.stderr == ""
    audit = json.loads(run_bridge(["audit", "--name", "APP_DB", "--since", "1h", "--json"], env_bootstrap).stdout)
    assert audit and audit[0]["access_type"] == "resolve" and audit[0]["success"]
    assert_clean(done.stderr + json.dumps(audit))


@pytest.mark.usefixtures("secrets_in_vault")
def test_the_child_replaces_the_bridge_and_its_exit_status_and_signals_are_its_own(
    env_bootstrap: dict[str, str], child: Path, tmp_path: Path,
) -> None:
    done = run_bridge(["run", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", "--", sys.executable, str(child), "T"],
                      {**env_bootstrap, "CHILD_EXIT": "7"})
    assert done.returncode == 7, done.stderr

    waiter = tmp_path / "waiter.py"
    waiter.write_text(WAITER)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [str(BRIDGE), "run", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", "--", sys.executable, str(waiter), str(ready)],
        env=env_bootstrap, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        ends = time.monotonic() + WAIT_S
        while not (ready.exists() and ready.read_text()):
            assert proc.poll() is None and time.monotonic() < ends, "the program never started"
            time.sleep(0.05)
        assert int(ready.read_text()) == proc.pid, "exec: the program is the process bridge run was, no bridge behind it"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT_S) == 40 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.usefixtures("secrets_in_vault")
def test_none_of_the_bridges_credentials_reach_the_child_with_or_without_clean_env(
    env_bootstrap: dict[str, str], child: Path, keys: Any,
) -> None:
    env = {**env_bootstrap, "SUPABASE_PUBLISHABLE_KEY": keys.publishable, "SUPABASE_ANON_KEY": keys.publishable,
           "SUPABASE_SERVICE_ROLE_KEY": keys.secret, "LANG": "C.UTF-8", "MY_SETTING": "kept", "HOME": "/nonexistent-home"}
    _, inherited = run(env, "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
    assert inherited is not None
    assert not set(BRIDGE_CREDENTIALS) & set(inherited["names"]), inherited["names"]
    assert {"MY_SETTING", "PATH", "BRIDGE_HOME", "SUPABASE_URL", "T"} <= set(inherited["names"])
    _, clean = run(env, "--clean-env", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
    assert clean is not None
    assert set(clean["names"]) - {"T"} <= set(CLEAN_BASE) | {"LC_CTYPE", "PWD", "PYTHONHASHSEED"} - set(BRIDGE_CREDENTIALS)
    assert "MY_SETTING" not in clean["names"] and clean["digests"] == {"T": digest(GITHUB_PAT)}


@pytest.mark.parametrize("var", ["PATH", "HOME", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "PYTHONPATH", "NODE_OPTIONS",
                                 "BASH_ENV", "ENV", "PERL5OPT", "RUBYOPT", "GIT_SSH_COMMAND"])
def test_variables_that_would_take_over_the_child_are_refused_unless_allowed(
    env_bootstrap: dict[str, str], child: Path, var: str, tmp_path: Path,
) -> None:
    marker = tmp_path / "started"
    done = run_bridge(["run", "--env", f"{var}=GITHUB_PERSONAL_ACCESS_TOKEN", "--", "touch", str(marker)], env_bootstrap)
    assert done.returncode == 2 and f"--allow-var {var}" in done.stderr and done.stderr.count("\n") == 1
    assert not marker.exists()


@pytest.mark.usefixtures("secrets_in_vault")
def test_a_child_that_needs_a_supabase_key_gets_vaults_never_the_bridges(env_bootstrap: dict[str, str], child: Path) -> None:
    done, report = run(env_bootstrap, "--env", "SUPABASE_SECRET_KEY=SUPABASE_SERVICE_ROLE", child=child, report="SUPABASE_SECRET_KEY")
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {"SUPABASE_SECRET_KEY": digest(SERVICE_ROLE)}


@pytest.mark.usefixtures("secrets_in_vault")
def test_an_allowed_takeover_variable_is_given(env_bootstrap: dict[str, str], child: Path) -> None:
    done, report = run(env_bootstrap, "--allow-var", "GIT_ASKPASS_TOKEN", "--env", "GIT_ASKPASS_TOKEN=GITHUB_PERSONAL_ACCESS_TOKEN",
                       child=child, report="GIT_ASKPASS_TOKEN")
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {"GIT_ASKPASS_TOKEN": digest(GITHUB_PAT)}


@pytest.mark.usefixtures("secrets_in_vault")
def test_a_failing_id_means_the_program_never_starts(env_bootstrap: dict[str, str], tmp_path: Path) -> None:
    marker = tmp_path / "started"
    done = run_bridge(
        ["run", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", "--env", "MISSING=NOT_IN_VAULT", "--env", "F=APP_DB#nofield",
         "--", "touch", str(marker)], env_bootstrap,
    )
    assert done.returncode == 1 and not marker.exists()
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("bridge run: MISSING (NOT_IN_VAULT): no secret named NOT_IN_VAULT")
    assert lines[1].startswith("bridge run: F (APP_DB#nofield): ")
    assert lines[2] == "bridge run: touch was not started: 2 of 3 variable(s) did not resolve"
    assert_clean(done.all_output())


@pytest.mark.usefixtures("secrets_in_vault")
def test_supabase_down_serves_the_cache_under_the_resolve_rules(
    env_bootstrap: dict[str, str], proxy: FaultProxy, child: Path, bridge_home: Path,
) -> None:
    (bridge_home / "config.toml").write_text('deadline = "2.5s"\n')
    env = {**env_bootstrap, "SUPABASE_URL": proxy.url}
    warm, _ = run(env, "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
    assert warm.returncode == 0, warm.stderr
    proxy.mode = 503
    done, report = run(env, "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {"T": digest(GITHUB_PAT)}
    assert "served 1 of 1 ids from the cache" in done.stderr
    cold = run_bridge(["run", "--env", "S=SUPABASE_SERVICE_ROLE", "--", "true"], env)
    assert cold.returncode == 1 and "no cached value for SUPABASE_SERVICE_ROLE" in cold.stderr
    assert_clean(done.all_output() + cold.all_output())


@pytest.mark.usefixtures("secrets_in_vault")
def test_an_env_file_holds_references_and_a_value_in_it_is_refused(
    env_bootstrap: dict[str, str], child: Path, tmp_path: Path,
) -> None:
    refs = tmp_path / "mcp.env"
    refs.write_text("# the GitHub server's token\nGITHUB_TOKEN=GITHUB_PERSONAL_ACCESS_TOKEN\n\n  DATABASE_URL = APP_DB#url\n")
    done, report = run(env_bootstrap, "--env-file", str(refs), child=child, report="GITHUB_TOKEN,DATABASE_URL")
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {"GITHUB_TOKEN": digest(GITHUB_PAT), "DATABASE_URL": digest(DB_URL)}
    values = tmp_path / "values.env"
    values.write_text(f"GITHUB_TOKEN={GITHUB_PAT}\n")
    refused = run_bridge(["run", "--env-file", str(values), "--", "true"], env_bootstrap)
    assert refused.returncode == 2 and f"{values}:1: GITHUB_TOKEN= holds what looks like a key" in refused.stderr
    assert_clean(refused.all_output())


@pytest.mark.usefixtures("secrets_in_vault")
def test_a_tenants_secrets_with_the_secret_key_and_not_with_a_token(
    env_bootstrap: dict[str, str], child: Path, vault: Vault, keys: Any,
) -> None:
    vault.put("acme#GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_" + "acme" * 9)
    done, report = run(env_bootstrap, "--tenant", "acme", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
    assert done.returncode == 0, done.stderr
    assert report is not None and report["digests"] == {"T": digest("ghp_" + "acme" * 9)}
    minted = run_bridge(["tokens", "create", "run-test", "--tenant", "default", "--allow", "GITHUB_PERSONAL_ACCESS_TOKEN"],
                        env_bootstrap)
    token_env = {k: v for k, v in env_bootstrap.items() if k != "SUPABASE_SECRET_KEY"}
    token_env |= {"SUPABASE_PUBLISHABLE_KEY": keys.publishable, "BRIDGE_GATEWAY_TOKEN": created_token(minted)}
    try:
        with_token, report = run(token_env, "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", child=child, report="T")
        assert with_token.returncode == 0, with_token.stderr
        assert report is not None and report["digests"] == {"T": digest(GITHUB_PAT)}
        assert not set(BRIDGE_CREDENTIALS) & set(report["names"]), "the token and key stay with the bridge"
        refused = run_bridge(["run", "--tenant", "acme", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", "--", "true"], token_env)
        assert refused.returncode == 2 and "--tenant goes with the secret key" in refused.stderr
    finally:
        run_bridge(["tokens", "revoke", "run-test", "--tenant", "default"], env_bootstrap)


def test_usage_errors_are_one_line_each(env_bootstrap: dict[str, str]) -> None:
    cases = {
        ("run", "--env", "T=X"): "give the program to run after --",
        ("run", "--", "true"): "nothing to resolve",
        ("run", "--env", "1X=Y", "--", "true"): "is not a variable name",
        ("run", "--env", "X", "--", "true"): "write VAR=ID",
        ("run", "--env", "X=../etc", "--", "true"): "invalid id",
        ("run", "--env", "X=A", "--env", "X=B", "--", "true"): "X is already given",
        ("run", "--env-file", "/nonexistent/refs.env", "--", "true"): "cannot read it",
        ("run", "--tenant", "Bad Tenant", "--env", "X=A", "--", "true"): "tenant 'Bad Tenant'",
    }
    for args, needle in cases.items():
        done = run_bridge(list(args), env_bootstrap)
        assert done.returncode == 2 and needle in done.stderr and done.stderr.count("\n") == 1, (args, done.stderr)


def test_mapping_rules_are_pure() -> None:
    assert parse_mapping(" GH = GITHUB_PAT#token ", "--env") == EnvMapping("GH", "GITHUB_PAT#token", "--env")
    assert parse_env_file("# c\n\nA=B\n", "f") == [EnvMapping("A", "B", "f:3")]
    with pytest.raises(UsageError, match="looks like a key"):
        parse_mapping("K=sk-ant-api03-abcdefghijkl", "--env")
    with pytest.raises(UsageError, match="--allow-var PYTHONSTARTUP"):
        check_mappings([EnvMapping("PYTHONSTARTUP", "X", "--env")], [])
    check_mappings([EnvMapping("PYTHONSTARTUP", "X", "--env")], ["PYTHONSTARTUP"])
    parent = {"PATH": "/bin", "SUPABASE_SECRET_KEY": "k", "SUPABASE_URL": "u", "OTHER": "o", "TERM": "xterm"}
    assert child_environment(parent, {"A": "1"}, clean=False) == {"PATH": "/bin", "SUPABASE_URL": "u", "OTHER": "o", "TERM": "xterm", "A": "1"}
    assert child_environment(parent, {"A": "1"}, clean=True) == {"PATH": "/bin", "TERM": "xterm", "A": "1"}
    assert child_environment(parent, {"SUPABASE_SECRET_KEY": "from-vault"}, clean=False)["SUPABASE_SECRET_KEY"] == "from-vault"


def test_bridge_run_imports_no_other_verb_on_its_way_to_the_program() -> None:
    """An MCP client spawns `bridge run` at every start: its parser is built from its own verb alone."""
    probe = (
        "import sys; from bridge.cli.registry import MODULES, build_parser; "
        "build_parser('x', ['run', '--', 'true']); "
        "print(sorted({m for m in MODULES.values() if m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['bridge.resolve.command', 'bridge.resolve.run']"


def test_an_env_file_that_is_a_fifo_with_no_writer_never_blocks(env_bootstrap: dict[str, str], tmp_path: Path) -> None:
    """An attacker's (or a mistaken) FIFO in place of the env file: read as empty at once, one line, exit 2."""
    fifo = tmp_path / "refs.env"
    os.mkfifo(fifo)
    done = run_bridge(["run", "--env-file", str(fifo), "--", "true"], env_bootstrap, timeout=30)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "nothing to resolve" in done.stderr


CODE_VARIABLES = [
    # Interpreter search paths and option variables.
    "PERL5LIB", "PERLLIB", "PERL5OPT", "PERL5DB", "RUBYLIB", "RUBYOPT", "GEM_PATH", "GEM_HOME", "PYTHONPATH",
    "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS", "CLASSPATH",
    # The dynamic loader and glibc's own list of variables it drops for setuid programs.
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH",
    # Package registries, in each spelling the tool reads: npm any case, pip's PIP_*, uv's UV_*.
    "npm_config_registry", "NPM_CONFIG_REGISTRY", "Npm_Config_Registry", "npm_config_userconfig",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE",
    "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_PYTHON",
    # A lower-case spelling is the same variable on Windows, and some tools read it there.
    "ld_preload", "pythonpath",
]


@pytest.mark.parametrize("var", CODE_VARIABLES)
def test_every_variable_that_changes_what_code_runs_is_refused_unless_allowed(var: str) -> None:
    mapping = [EnvMapping(var, "SOME_NAME", "--env")]
    with pytest.raises(UsageError, match=f"--allow-var {var}"):
        check_mappings(mapping, [])
    check_mappings(mapping, [var])
    check_mappings([EnvMapping("GITHUB_TOKEN", "SOME_NAME", "--env"), EnvMapping("NPM_TOKEN", "X", "--env")], [])


def test_a_vault_value_given_as_perl5lib_is_refused_and_with_allow_var_perl_loads_it(
    env_bootstrap: dict[str, str], vault: Vault, tmp_path: Path,
) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    ran = tmp_path / "foreign-code-ran"
    (foreign / "strict.pm").write_text(f"package strict; open(my $f, '>', '{ran}'); close $f; sub import {{}} 1;\n")
    vault.put("PERL_LIBS", str(foreign))
    refused = run_bridge(["run", "--env", "PERL5LIB=PERL_LIBS", "--", "perl", "-e", "use strict; print 1"], env_bootstrap)
    assert refused.returncode == 2 and "--allow-var PERL5LIB" in refused.stderr and not ran.exists()
    allowed = run_bridge(["run", "--allow-var", "PERL5LIB", "--env", "PERL5LIB=PERL_LIBS", "--", "perl", "-e", "use strict; print 1"],
                         env_bootstrap)
    assert allowed.returncode == 0, allowed.stderr
    assert ran.exists(), "the value reached perl: this is the power --allow-var hands over"


def test_bridge_run_never_stamps_a_live_answer_for_bridge_watch(env_bootstrap: dict[str, str], secrets_in_vault: None) -> None:
    """Issue 28 (review, part 2): a live stamp confirms the gateway's delivery to bridge watch, so only the
    gateway's `bridge resolve` writes one, under its provider name; `bridge run`'s answers are another program's."""
    from bridge.cache.live import LIVE_FILE, read_all

    home = Path(env_bootstrap["BRIDGE_HOME"])
    done = run_bridge(["run", "--env", "T=GITHUB_PERSONAL_ACCESS_TOKEN", "--", "true"], env_bootstrap)
    assert done.returncode == 0, done.stderr
    assert list(home.rglob(LIVE_FILE)) == [], "bridge run stamped"
    request = json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": ["GITHUB_PERSONAL_ACCESS_TOKEN"]})
    assert run_bridge(["resolve"], env_bootstrap, request.encode()).returncode == 0
    stamped = [read_all(path) for path in home.rglob(LIVE_FILE)]
    assert len(stamped) == 1 and set(stamped[0] or {}) == {"supabase"}
    assert set((stamped[0] or {})["supabase"]) == {"GITHUB_PERSONAL_ACCESS_TOKEN"}
