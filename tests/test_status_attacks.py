"""Attacks on issue 29's status: alerts a token cannot hide or stall, Studio edits, encoded echoes, durations, help, input size.

Each test is one attack, written as the property the issue promises: a test that fails is an attack that worked,
a test that passes is one that was blocked and stays as a regression test. Database attacks go through the
PostgREST stand-in (each call its own committed transaction, with the X-Bridge-Host it names) or, where only rows
matter, through the API roles inside one rolled-back transaction. Where an attack needs time to pass (the next hour
of a token's audit budget), the token row's window is moved back as the database owner, which is what an hour does.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import gzip
import importlib
import io
import json
import random
import shlex
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge import __version__
from bridge.cli.registry import build_parser
from bridge.core.durations import option_seconds, option_stamp, parse_duration
from bridge.core.errors import ConfigError, UsageError
from bridge.core.keys import scrub
from bridge.core.policy import expires_stamp, rotate_every_seconds
from bridge.core.secret_types import hidden_parts, one_line, secret_parts
from bridge.local.config import Config
from tests.support.api_role import become, call, mint
from tests.support.bridge_proc import Result, run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_lifecycle_sql import Rpc
from tests.test_regex_bounds import DONE, outcome_within
from tests.test_setup_admin import unique


@pytest.fixture(autouse=True)
def quiet_log(pg: PgCluster) -> Iterator[None]:
    """These attacks provoke alerts on purpose; they leave with each test, so no later doctor sees them."""
    with audit_rows_dropped_after(pg):
        yield


@pytest.fixture
def http(endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster) -> Iterator[Rpc]:
    rpc = Rpc(endpoint, keys)
    try:
        yield rpc
    finally:
        forget(pg, *rpc.names)


def alerts_since(http: Rpc, minutes: int = 60) -> list[dict[str, Any]]:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()
    rows: list[dict[str, Any]] = http.admin("read_access_alerts", {"p_since": since})
    return rows


# --- hiding failures --------------------------------------------------------------------------------------------


def test_new_host_flood_pushes_failure_alerts_out_of_the_capped_alert_list(pg: PgCluster, http: Rpc) -> None:
    """read_access_alerts returns at most max_log_rows() (10,000) alerts, newest first, and says nothing of the rest.
    A token allowed 512 names that the usual gateway resolves invents 20 hosts and resolves all 512 from each:
    10,240 new_host alerts, every one newer than the failures before it. Its own failures, and another token's,
    are no longer in the list `bridge audit --alerts` and doctor read."""
    prefix = unique("FLOOD")
    names = [f"{prefix}_{i:03d}" for i in range(512)]
    http.names.extend(names)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT public.set_secret(n, 'v-' || n) FROM unnest(%s::text[]) AS n", (names,))
        ((cap,),) = conn.execute("SELECT vault_bridge.max_log_rows()").fetchall()
    # The usual gateway resolves them all first: every later host is a new one.
    http.admin("resolve_secrets", {"p_names": names}, host="gw-home")
    attacker, victim = unique("gw-attacker"), unique("gw-victim")
    flooding = http.token("default", attacker, [f"{prefix}_*"])
    honest = http.token("default", victim, [f"{prefix}_*"])
    for _ in range(10):
        for token in (flooding, honest):
            assert http.gateway(token, [f"{prefix}_NOPE"], "gw-probe").json() == {}
    before = alerts_since(http)
    assert {a["token"] for a in before if a["kind"] == "failures"} >= {f"default/{attacker}", f"default/{victim}"}
    hosts = cap // len(names) + 1
    for h in range(hosts):
        with pg.connect("postgres", autocommit=True) as conn:
            # The next hour of its budget (what waiting does; 7 calls of 512 fit in one): 3 hours for 20 calls.
            conn.execute("UPDATE vault_bridge.gateway_tokens SET log_window_rows = 0 WHERE name = %s", (attacker,))
        assert len(http.gateway(flooding, names, f"made-up-{h}").json()) == len(names)
    after = alerts_since(http)
    failures = {a["token"] for a in after if a["kind"] == "failures"}
    assert {f"default/{attacker}", f"default/{victim}"} <= failures, (
        f"{len(after)} alerts returned, the failure alerts of both tokens among them: "
        f"{sorted(failures)}; kinds {sorted({a['kind'] for a in after})}")


def test_failures_spread_over_many_names_still_alert_on_the_token(http: Rpc) -> None:
    """One failed name per call, a different name each time (and names past the length limit): the name alerts
    never fire, the token's must."""
    prefix = unique("SPREAD")
    http.store(f"{prefix}_REAL")
    who = unique("gw-spread")
    token = http.token("default", who, [f"{prefix}_*"])
    for i in range(6):
        assert http.gateway(token, [f"{prefix}_MISS_{i}"], "gw-spread").json() == {}
    for i in range(6):
        assert http.gateway(token, [f"{prefix}_{'L' * 300}{i}"], "gw-spread").json() == {}
    (alert,) = [a for a in alerts_since(http) if a["kind"] == "failures" and a["token"] == f"default/{who}"]
    assert alert["count"] == 12


def test_interleaved_successes_cannot_spend_the_failure_share(pg: PgCluster, http: Rpc) -> None:
    """Each call asks for 511 of its names and one that does not exist, so successes and failures share every
    call, until the budget is gone; the failures must still be itemised and alert."""
    prefix = unique("MIXED")
    mine = [f"{prefix}_{i:03d}" for i in range(511)]
    http.names.extend(mine)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT public.set_secret(n, 'v-' || n) FROM unnest(%s::text[]) AS n", (mine,))
    who = unique("gw-mixed")
    token = http.token("default", who, [f"{prefix}_*"])
    for i in range(12):
        assert len(http.gateway(token, [*mine, f"{prefix}_NOPE_{i}"], "gw-mixed").json()) == len(mine)
    (alert,) = [a for a in alerts_since(http) if a["kind"] == "failures" and a["token"] == f"default/{who}"]
    assert alert["count"] == 12


def test_a_revoked_token_s_retries_alert_even_after_its_successes_spent_the_budget(pg: PgCluster, http: Rpc) -> None:
    """Spend the itemised successes of the window, be revoked, keep trying: the refused calls use the failure
    share and alert."""
    prefix = unique("REVOKED")
    http.store(f"{prefix}_KEY")
    who = unique("gw-revoked")
    token = http.token("default", who, [f"{prefix}_*"])
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now(), "
                     "log_window_rows = vault_bridge.token_log_rows() - vault_bridge.token_failure_rows() WHERE name = %s",
                     (who,))
    http.admin("revoke_gateway_token", {"p_tenant": "default", "p_name": who})
    for _ in range(6):
        assert http.gateway(token, [f"{prefix}_KEY"], "gw-revoked").status_code == 401
    (alert,) = [a for a in alerts_since(http) if a["kind"] == "failures" and a["token"] == f"default/{who}"]
    assert alert["count"] == 6


# --- stalling and forging alerts ----------------------------------------------------------------------------------


def test_a_host_with_control_characters_reaches_no_alert_raw(owner: psycopg.Connection) -> None:
    """X-Bridge-Host is the caller's: escape sequences, newlines and bidi overrides must not reach the alert's host
    or message, where a terminal would obey them."""
    become(owner, "service_role")
    name = unique("CTRL")
    call(owner, "SELECT public.set_secret(%s, 'v', NULL, NULL)", (name,))
    token = mint(owner, "default", unique("gw-ctrl"), [name])
    become(owner, "anon", headers={"x-bridge-host": "gw-home"})
    call(owner, "SELECT public.resolve_secrets_with_token(%s, %s)", (token, [name]))
    # One transaction has one now(): the usual host's first resolve is made earlier, as an hour would.
    owner.execute("RESET ROLE")
    owner.execute("UPDATE vault_bridge.secret_hosts SET first_at = first_at - interval '1 hour' WHERE secret_name = %s",
                  (name,))
    evil = "gw\x1b[2J\x1b[31mowned\r\nfailures: none\u202egnp.exe\x07"
    become(owner, "anon", headers={"x-bridge-host": evil})
    call(owner, "SELECT public.resolve_secrets_with_token(%s, %s)", (token, [name]))
    become(owner, "service_role")
    rows = [r for r in call(owner, "SELECT kind, secret, host, message FROM public.read_access_alerts(now() - interval '2 hours')")
            if r[1] == name]
    assert [r[0] for r in rows] == ["new_host"]
    for _kind, _secret, host, message in rows:
        for text in (host or "", message or ""):
            assert not any(ch in text for ch in "\x1b\r\n\u202e\x07"), repr(text)


def test_case_variants_of_one_host_are_one_host_or_at_least_bounded(owner: psycopg.Connection) -> None:
    """secret_hosts keeps the host as sent, cut to max_header_chars(): 300-character hosts that differ only after
    the cut are one row, so a long host cannot add more rows than a short one."""
    become(owner, "service_role")
    name = unique("LONGHOST")
    call(owner, "SELECT public.set_secret(%s, 'v', NULL, NULL)", (name,))
    token = mint(owner, "default", unique("gw-long"), [name])
    for i in range(5):
        become(owner, "anon", headers={"x-bridge-host": "h" * 300 + str(i)})
        call(owner, "SELECT public.resolve_secrets_with_token(%s, %s)", (token, [name]))
    owner.execute("RESET ROLE")
    ((rows, longest),) = owner.execute("SELECT count(*), max(length(host)) FROM vault_bridge.secret_hosts WHERE secret_name = %s",
                                       (name,)).fetchall()
    assert (rows, longest) == (1, 200)


# --- verdicts and changes made outside the bridge ---------------------------------------------------------------------


def studio(pg: PgCluster, name: str, sql: str) -> None:
    """Vault's own API as Studio's Vault page calls it, as postgres, never through the bridge."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(f"SELECT vault.update_secret(id, {sql}) FROM vault.secrets WHERE name = %s", (name,))


@pytest.mark.parametrize("edit", ["new_description => 'who owns this key'", "new_name => %s || '_RENAMED'"])
def test_a_studio_edit_that_keeps_the_value_keeps_its_expiry_and_verdict(pg: PgCluster, http: Rpc, edit: str) -> None:
    """Studio's description or name field calls vault.update_secret without a new value; Vault's updated_at moves
    all the same. An expired key whose description is edited must not turn `ok`, and its test still speaks of the
    value, which did not change."""
    name = unique("DESCRIBED")
    http.store(name, meta={"type": "openai", "rotate_every_s": 30 * 86400, "expires_at": "2000-01-01T00:00:00Z"})
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("record_secret_check", {"p_name": name, "p_status": "invalid", "p_message": "refused", "p_version": version})
    before = http.status(name)[name]
    assert (before["status"], before["due"]) == ("invalid", "expired")
    shown = name
    if "new_name" in edit:
        studio(pg, name, edit.replace("%s", "name"))
        shown = f"{name}_RENAMED"
        http.names.append(shown)
    else:
        studio(pg, name, edit)
    after = http.status(shown)[shown]
    assert (after["status"], after["due"], after["expires_at"], after["rotated_at"]) == (
        "invalid", "expired", before["expires_at"], before["rotated_at"])


def test_a_rotation_between_reading_the_version_and_recording_voids_the_verdict(http: Rpc) -> None:
    name = unique("RACED")
    http.store(name, "old-value", meta={"type": "openai"})
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("rotate_secret", {"p_name": name, "p_new_secret": "new-value"})
    assert http.admin("record_secret_check", {"p_name": name, "p_status": "ok", "p_message": "", "p_version": version}) is None
    assert http.status(name)[name]["status"] is None


def test_a_version_in_another_spelling_is_the_same_version(http: Rpc) -> None:
    """The version goes through JSON as text; the same instant in another offset must still be this value's."""
    name = unique("SPELLED")
    http.store(name, "value", meta={"type": "openai"})
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    moved = dt.datetime.fromisoformat(version).astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat()
    assert http.admin("record_secret_check", {"p_name": name, "p_status": "ok", "p_message": "", "p_version": moved}) is not None
    assert http.status(name)[name]["status"] == "ok"


def test_a_value_changed_outside_without_moving_updated_at_is_out_of_reach(pg: PgCluster, http: Rpc) -> None:
    """A change that keeps updated_at (or sets it in the future, hiding overdue) needs a raw UPDATE of vault.secrets;
    postgres, the most Studio's SQL editor has, may only read and delete there (as on Supabase), so every change of a
    value goes through vault.update_secret, which moves updated_at."""
    name = unique("RAW")
    http.store(name, meta={"type": "openai"})
    with pg.connect("postgres", autocommit=True) as conn:
        for change in ("secret = secret", "updated_at = now() + interval '10 years'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"UPDATE vault.secrets SET {change} WHERE name = %s", (name,))


# --- redaction of encoded forms ---------------------------------------------------------------------------------------

OPENAI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _pct(key: str, every: int) -> str:
    return "".join(f"%{ord(c):02X}" if i % every == 0 else c for i, c in enumerate(key))


ENCODINGS: dict[str, Any] = {
    # Blocked: the forms and their near relatives.
    "html entities of / and +": lambda k: k.replace("/", "&#x2F;").replace("+", "&#43;"),
    "hex in mixed case": lambda k: "".join(c.upper() if i % 2 else c for i, c in enumerate(k.encode().hex())),
    "split across two JSON fields": lambda k: json.dumps({"a": k[: len(k) // 2], "b": k[len(k) // 2 :]}),
    # Outside the list.
    "MIME base64, a line break every 76": lambda k: base64.encodebytes(("token=" + k * 2).encode()).decode(),
    "percent-encoding of every byte": lambda k: _pct(k, 1),
    "percent-encoding of every third character": lambda k: _pct(k, 3),
    "HTML decimal entities": lambda k: "".join(f"&#{ord(c)};" for c in k),
    "\\u escapes of every character": lambda k: "".join(f"\\u{ord(c):04x}" for c in k),
    "hex with colons": lambda k: ":".join(f"{b:02x}" for b in k.encode()),
    "base32": lambda k: base64.b32encode(k.encode()).decode(),
    "UTF-16LE as hex": lambda k: k.encode("utf-16-le").hex(),
    "UTF-16LE as base64": lambda k: base64.b64encode(k.encode("utf-16-le")).decode(),
    "gzip then base64": lambda k: base64.b64encode(gzip.compress(k.encode(), mtime=0)).decode(),
    "reversed": lambda k: k[::-1],
}


def _shown_encoded(out: str, encoded: str) -> bool:
    """Whether `out` still holds the encoded key, or a run of 16 of its characters (whitespace aside)."""
    flat, shown = "".join(encoded.split()), "".join(out.split())
    return any(flat[i : i + 16] in shown for i in range(max(1, len(flat) - 15)))


@pytest.mark.parametrize("secret_type", ["openai", "aws"])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_provider_echo_in_an_encoded_form_is_redacted(secret_type: str, encoding: str) -> None:
    """What `secrets test` shows and stores (one_line over the value's parts) and what a Supabase or gateway error
    shows (keys.scrub): neither may hold the key in any form a server or a proxy writes it in."""
    key = OPENAI_KEY if secret_type == "openai" else AWS_SECRET
    value = key if secret_type == "openai" else json.dumps(
        {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": key, "region": "us-east-1"})
    encoded = ENCODINGS[encoding](key)
    said = f"upstream refused the request: {encoded} is not valid"
    checked = one_line(said, secret_parts(secret_type, value), 4000)
    scrubbed = scrub(said, key)
    assert not _shown_encoded(checked, encoded), checked
    assert not _shown_encoded(scrubbed, encoded), scrubbed


@pytest.mark.parametrize("shown", ["prefix", "suffix"])
def test_scrub_leaves_no_recognisable_part_of_a_key(shown: str) -> None:
    """A proxy that masks the middle of a key still prints its ends. one_line redacts any run of six of the value's
    characters; keys.scrub (Supabase keys, gateway tokens, MCP values) lets through up to 15 in a row, a third of a
    secret key's random part or nearly all of a short value."""
    for key in ("sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz", "sk-proj-ab12CD34"):
        part = key[:15] if shown == "prefix" else key[-12:]
        said = f"invalid api key: {part}..." if shown == "prefix" else f"invalid api key: ...{part}"
        out = scrub(said, key)
        random_part = part.removeprefix("sb_secret_").removeprefix("sk-proj-")
        assert random_part not in out, out


# --- durations and help -----------------------------------------------------------------------------------------------

NOT_DURATIONS = ["1e309s", "NaN", "-0", "0x10d", "1_0d", "\u0661\u0660d", "\uff11\uff10d", "\U0001d7d7d", "inf", "10y"]
"""Overflowing, not a number, negative zero, hex, Python's digit groups, Arabic-Indic, full-width and mathematical
digits (which Python's int() and float() read, and `\\d` matches without re.ASCII), and units there are none of."""


@pytest.mark.parametrize("raw", NOT_DURATIONS)
def test_every_duration_option_refuses_what_is_not_an_ascii_duration(raw: str) -> None:
    """A duration is ASCII digits and a unit, as every example and message shows: Arabic-Indic `10d` is read as ten
    days today (the regex's `\\d` and float() take any Unicode digit). Each option must refuse it in one usage line."""
    now = dt.datetime.now(dt.UTC)
    for parse in (lambda r: option_seconds("--within", r), rotate_every_seconds, lambda r: expires_stamp(r, now),
                  lambda r: option_stamp("--since", r, now.timestamp(), -1)):
        with pytest.raises(UsageError):
            parse(raw)
    with pytest.raises(ConfigError):
        parse_duration("admin_deadline", raw)


def test_the_help_example_test_collects() -> None:
    """tests/test_cli_help.py reads every `example:` line at import; one example that starts with an environment
    assignment (`SUPABASE_DB_URL=... bridge setup --dry-run`) makes the import fail, so none of its checks run."""
    importlib.import_module("tests.test_cli_help")


def test_every_help_example_parses_as_written() -> None:
    """Every `bridge ...` command of every `example:` epilog, environment assignments and redirects aside, is
    accepted by the parser itself (not only up to an appended --help)."""
    failures = []
    for path, parser in _parsers(build_parser(__version__)):
        for line in (parser.epilog or "").splitlines()[1:]:
            for argv in _commands(line):
                stderr = io.StringIO()
                try:
                    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                        build_parser(__version__).parse_args(argv)
                except SystemExit as exc:
                    failures.append((" ".join(path), argv, exc.code, stderr.getvalue()[-200:]))
    assert failures == []


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def _commands(line: str) -> Iterator[list[str]]:
    lexer = shlex.shlex(line.strip(), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    command: list[str] = []
    for word in [*lexer, ";"]:
        if word in {"|", "||", "&&", ";"}:
            while command and command[0] != "bridge" and "=" in command[0]:
                command.pop(0)
            if command and command[0] == "bridge":
                argv, words = [], iter(command[1:])
                for w in words:
                    if w in ("<", ">"):
                        next(words, None)
                    else:
                        argv.append(w)
                yield argv
            command = []
        else:
            command.append(word)


# --- time bounds over user input ----------------------------------------------------------------------------------------


def register_on(tmp_path: Path, config_text: str) -> tuple[Result | None, Path, float]:
    """`bridge register` (no OpenClaw on PATH: it edits the file itself, no database needed) on an openclaw.json
    holding `config_text`, given admin_deadline to answer: its result (None if it was still running), the file."""
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True)
    config = home / ".openclaw" / "openclaw.json"
    config.write_text(config_text)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "BRIDGE_HOME": str(tmp_path / "bridge-home")}
    deadline = Config().admin_deadline
    try:
        return run_bridge(["register", "--provider", "supabase"], env, timeout=deadline), config, deadline
    except subprocess.TimeoutExpired:
        return None, config, deadline


MIB_OF_JSON = '{"agents": {"list": [' + "1," * (512 * 1024) + "1]}}\n"
"""A valid 1 MiB config: a long list, as a big agents or models section grows."""


def test_a_mebibyte_openclaw_json_is_read_within_admin_deadline(tmp_path: Path) -> None:
    """openclaw.json is read whole (up to 16 MiB) by the pure-Python json5 package, outside any deadline: a valid
    1 MiB config must still be answered, or refused in one line, within admin_deadline."""
    result, _config, deadline = register_on(tmp_path, MIB_OF_JSON)
    if result is None:
        pytest.fail(f"`bridge register` on a 1 MiB openclaw.json was still running after {deadline:g}s")
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr


@pytest.fixture
def log_vacuumed_after(pg: PgCluster) -> Iterator[None]:
    """Requested before `owner`, so it runs after that transaction rolls back: its half a million dead rows would
    otherwise be read by every later test's scans of the log (and counted by those that count reads)."""
    yield
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) public.vault_access_log, vault_bridge.secret_hosts")


def test_a_day_of_made_up_hosts_from_a_few_tokens_leaves_alerts_readable(log_vacuumed_after: None, owner: psycopg.Connection) -> None:
    """Each token may itemise 3,968 successful resolves an hour, each a new (secret, host) pair when it makes the host
    up. A day of that from one token over four secrets, then from four more that reuse the first one's hosts (the
    rows written as the resolves write them, the statistics refreshed in between as autovacuum would), must still
    leave `--alerts` answering within admin_deadline, which the server enforces here."""
    names = [unique("MADEUP") for _ in range(4)]
    owner.execute("INSERT INTO vault_bridge.secret_hosts (secret_name, host, first_at) "
                  "SELECT n, 'gw-home', now() - interval '30 days' FROM unnest(%s::text[]) AS n", (names,))
    for tokens in (1, 4):
        owner.execute(
            "INSERT INTO public.vault_access_log (secret_name, client, access_type, success, accessed_at, tenant, token_name) "
            "SELECT n, jsonb_build_object('host', 'made-up-' || g), 'resolve', true, "
            "       now() - interval '23 hours' + g * interval '1 ms', 'default', 'gw-flood' "
            "FROM unnest(%s::text[]) AS n, generate_series(1, %s) AS g", (names, 3968 * 24 * tokens // len(names)))
        owner.execute("ANALYZE public.vault_access_log")
        owner.execute("ANALYZE vault_bridge.secret_hosts")
        become(owner, "service_role")
        owner.execute(f"SET LOCAL statement_timeout = '{Config().admin_deadline:g}s'")
        try:
            ((count,),) = call(owner, "SELECT count(*) FROM public.read_access_alerts()")
        except psycopg.errors.QueryCanceled:
            pytest.fail(f"read_access_alerts did not answer within {Config().admin_deadline:g}s after {tokens} token-days")
        assert count == 10000
        owner.execute("RESET ROLE")
        owner.execute("SET LOCAL statement_timeout = 0")


def test_a_mebibyte_of_json5_is_refused_in_one_line_within_admin_deadline(tmp_path: Path) -> None:
    """The same size with one comment is JSON5, which only the slow parser reads: refused in one line that says how
    to make it readable, the file untouched, within admin_deadline."""
    text = "// my gateway\n" + MIB_OF_JSON
    result, config, deadline = register_on(tmp_path, text)
    if result is None:
        pytest.fail(f"`bridge register` on 1 MiB of JSON5 was still running after {deadline:g}s")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "KiB of JSON5" in result.stderr and "plain JSON" in result.stderr
    assert config.read_bytes() == text.encode()


def test_a_description_edit_after_an_outside_value_change_does_not_move_rotated_at(pg: PgCluster, http: Rpc) -> None:
    """A value changed in Studio counts as rotated then. A description edit afterwards is no rotation, and must not
    carry the rotation date (and the due date) along to the edit's time, for a listing or for the next write."""
    name = unique("EDITED_AFTER")
    http.store(name, meta={"type": "openai", "rotate_every_s": 30 * 86400})
    studio(pg, name, "'changed in studio'")
    rotated = http.status(name)[name]
    assert rotated["rotated_at"] == rotated["updated_at"]
    studio(pg, name, "new_description => 'who owns this key'")
    described = http.status(name)[name]
    assert described["updated_at"] > rotated["updated_at"]
    assert described["rotated_at"] == rotated["rotated_at"], "a description edit moved rotated_at"
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("record_secret_check", {"p_name": name, "p_status": "ok", "p_message": "accepted", "p_version": version})
    assert http.status(name)[name]["rotated_at"] == rotated["rotated_at"], "the recorded rotation is the edit's"


def test_a_description_edit_of_a_secret_made_outside_the_bridge_is_no_rotation(pg: PgCluster, http: Rpc) -> None:
    """A secret created in Studio has no record of the bridge's: its first listing gives it one, so a description
    edit afterwards does not count as a rotation either."""
    name = unique("MADE_OUTSIDE")
    http.names.append(name)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.create_secret('made in studio', %s)", (name,))
    before = http.status(name)[name]
    studio(pg, name, "new_description => 'who owns this key'")
    after = http.status(name)[name]
    assert after["updated_at"] > before["updated_at"]
    assert after["rotated_at"] == before["rotated_at"], "a description edit counted as a rotation"
    studio(pg, name, "'a new value'")
    assert http.status(name)[name]["rotated_at"] > before["rotated_at"], "a value changed in Studio is a rotation"


# --- encoded echoes found in review: forms, a run longer than a chunk, public fields, cost ------------------------------

_NOISE = random.Random(29).randbytes(400)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


MISSED: dict[str, Any] = {
    # A proxy that quotes an already-quoted URL (a redirect_uri or a callback inside a query string).
    "double percent-encoding": lambda k: "".join(f"%25{b:02X}" for b in k.encode()),
    # A raw JSON body holding MIME/PEM-style base64: the line breaks are JSON escapes, not whitespace.
    "base64 lines joined by JSON \\n escapes": lambda k: "\\n".join(
        _b64(b"token=" + k.encode())[i : i + 8] for i in range(0, len(_b64(b"token=" + k.encode())), 8)),
    # Base64 of base64 (a Kubernetes Secret manifest quoted in a base64 field, a Basic header logged as base64).
    "base64 of base64": lambda k: _b64(_b64(k.encode()).encode()),
    # Base64 of hex, of percent-encoding: one decoding layer only.
    "base64 of hex": lambda k: _b64(k.encode().hex().encode()),
    "base64 of percent-encoding": lambda k: _b64("".join(f"%{b:02X}" for b in k.encode()).encode()),
    # zlib and raw deflate then base64 (SAML-style redirect binding), not gzip.
    "zlib then base64": lambda k: _b64(zlib.compress(k.encode())),
    "raw deflate then base64": lambda k: _b64(zlib.compress(k.encode())[2:-4]),
    # Two gzip members: only the first 1f 8b in a decoded run is inflated.
    "second gzip member": lambda k: _b64(gzip.compress(b"hello", mtime=0) + gzip.compress(k.encode(), mtime=0)),
    # Base32 is only read in upper case and at offset 0 of a run.
    "base32 lower case": lambda k: base64.b32encode(k.encode()).decode().lower(),
    "base32 glued after a capital": lambda k: "X" + base64.b32encode(k.encode()).decode(),
    # Characters a terminal does not show, between every character of the key.
    "zero-width spaces": lambda k: "\u200b".join(k),
    "soft hyphens": lambda k: "\u00ad".join(k),
    # Byte lists of SDK debug output.
    "0x byte list": lambda k: ", ".join(f"0x{b:02x}" for b in k.encode()),
    "decimal byte array": lambda k: "[" + ",".join(str(b) for b in k.encode()) + "]",
    "octal escapes": lambda k: "".join(f"\\{b:03o}" for b in k.encode()),
    "quoted-printable of every byte": lambda k: "".join(f"={b:02X}" for b in k.encode()),
    "UTF-32LE as base64": lambda k: _b64(k.encode("utf-32-le")),
    "full-width characters": lambda k: "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in k),
    "one character per space": lambda k: " ".join(k),
    # A gzip member whose key comes after GZIP_MAX_BYTES of inflated output: 64 KiB of zeros is 216 characters.
    "gzip with the key after 64 KiB": lambda k: _b64(gzip.compress(b"\0" * 65536 + k.encode(), 9, mtime=0)),
    # UTF-16 is only tried when a third of the whole run's odd (or even) bytes are zero: a UTF-16 string inside a
    # larger binary record (a .NET or Windows structure) is not.
    "UTF-16LE inside a larger binary record, base64": lambda k: _b64(_NOISE + k.encode("utf-16-le")),
    "UTF-16LE inside a larger binary record, hex": lambda k: (_NOISE + k.encode("utf-16-le")).hex(),
    # Each view undoes one kind of escape: two kinds mixed leave no view with twelve plain characters.
    "percent-encoding and HTML entities alternating": lambda k: "".join(
        f"%{ord(c):02X}" if i % 2 else f"&#{ord(c)};" for i, c in enumerate(k)),
    "percent-encoding and \\u escapes alternating": lambda k: "".join(
        f"%{ord(c):02X}" if i % 2 else f"\\u{ord(c):04x}" for i, c in enumerate(k)),
}




@pytest.mark.parametrize("encoding", list(MISSED))
def test_an_echo_in_a_form_found_in_review_is_withheld(encoding: str) -> None:
    """Each of these decodes to the whole key in one or two steps any reader can take: one_line (secrets test) and
    keys.scrub (Supabase, gateway and MCP errors) must withhold it or redact it."""
    encoded = MISSED[encoding](OPENAI_KEY)
    said = f"upstream refused the request: {encoded} is not valid"
    checked = one_line(said, secret_parts("openai", OPENAI_KEY), 4000)
    scrubbed = scrub(said, OPENAI_KEY)
    assert "withheld" in checked or "[redacted]" in checked, checked
    assert "withheld" in scrubbed or "[REDACTED]" in scrubbed, scrubbed


def test_a_gzip_run_of_20_kib_is_read_whole() -> None:
    """A base64 gzip run longer than a reading chunk (16 KiB) was cut, its header in one chunk and its end in the next:
    the key at the end of the stream was never seen."""
    blob = _b64(gzip.compress(random.Random(29).randbytes(15000) + OPENAI_KEY.encode(), mtime=0))
    assert "withheld" in scrub("x " * 4000 + blob, OPENAI_KEY)


GCP_SERVICE_ACCOUNT = json.dumps({
    "type": "service_account", "project_id": "acme-prod-4821",
    "private_key_id": "3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
    "client_email": "bridge@acme-prod-4821.iam.gserviceaccount.com", "client_id": "109876543210987654321",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
    "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/bridge%40acme-prod-4821.iam.gserviceaccount.com",
    "universe_domain": "googleapis.com",
}, indent=2)


@pytest.mark.parametrize("said", [
    "Error 400: redirect_uri_mismatch. redirect_uri=https%3A%2F%2Fwww.example.com%2Foauth%2Fcallback",
    "Access blocked: continue at https:&#x2F;&#x2F;www.example.com/login",
])
def test_a_message_quoting_an_unrelated_url_is_not_withheld(said: str) -> None:
    """A service account's public fields (Google's URLs, its domain) are not sought in decoded text: `https://www.`
    of its cert URL withheld every message holding an encoded URL, as `secrets test` shows it."""
    parts = secret_parts("gcp-service-account", GCP_SERVICE_ACCOUNT)
    out = one_line(said, parts, 4000, hidden_parts("gcp-service-account", GCP_SERVICE_ACCOUNT))
    assert "withheld" not in out and "example.com" in out, out
    key_line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    leaked = one_line(f"bad key {_b64(key_line.encode())}", parts, 4000, hidden_parts("gcp-service-account", GCP_SERVICE_ACCOUNT))
    assert "withheld" in leaked or "[redacted]" in leaked, leaked


def _gzip_bombs(size: int, distinct: bool) -> str:
    """Runs of base64 gzip each inflating to 64 KiB of UTF-16-looking bytes (all different, or one repeated), with a
    %, an entity and a \\u escape so that every unescaped view differs from the text."""
    rng = random.Random(0)

    def bomb() -> str:
        half = rng.randbytes(16)
        return _b64(gzip.compress(bytes(b for c in half for b in (c, 0)) * 2048, 9, mtime=0))

    one = bomb()
    runs = [bomb() if distinct else one for _ in range(size // (len(one) + 1) - 1)]
    return "%41 &amp; \\u0041 " + " ".join(runs)


@pytest.mark.parametrize(("size", "distinct"), [(64 * 1024, True), (1024 * 1024, False)])
def test_decoding_a_text_of_gzip_bombs_is_bounded_and_fails_closed(size: int, distinct: bool) -> None:
    """The reload's 64 KiB of CLI output, scrubbed once per token the watcher knows, and an MCP server's stderr line of
    any length: decoding stops at its budget (or at the length it reads), within admin_deadline, and what it could
    not vouch for is withheld."""
    text = _gzip_bombs(size, distinct)
    key = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"
    assert outcome_within(Config().admin_deadline, lambda: scrub(text, key)) == DONE
    assert "withheld" in scrub(text, key)


def test_one_bomb_repeated_is_decoded_once_and_shown() -> None:
    """The same run many times is decoded once: within budget, holding no key, the text is not withheld."""
    text = _gzip_bombs(64 * 1024, False)
    assert scrub(text, "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz") == text


# --- second review of the decoder: false positives, cost, NULs ----------------------------------------------------------


@pytest.mark.parametrize(("said", "value"), [
    ('error: password authentication failed for user "postgres"', "mysecretpassword"),
    ('FATAL: database "postgres" does not exist', "postgres123"),
    ("Error: connect ECONNREFUSED ::1:5432 (is postgres running on localhost?)", "postgresql://app:S3cr3tPw@localhost:5432/appdb"),
    ("Error: Redis connection to cache:6379 failed - getaddrinfo ENOTFOUND cache", "redis://default:pa55w0rd@cache:6379"),
    ('401 Unauthorized: Basic realm="api"', "Basic dXNlcjpwYXNz"),
    ("posting to https://hooks.slack.com failed: 404 no_service", "https://hooks.slack.com/services/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"),
    ("Invalid pass word 1 given", "password1"),
    ("Please provide the correct horse battery details", "correcthorse"),
])
def test_an_mcp_server_s_diagnostic_sharing_words_with_its_value_is_shown(said: str, value: str) -> None:
    """An MCP server's last stderr line, scrubbed of each of its env values: a password, a URL's host and user, an
    Authorization scheme or a word-like value share words with the message that explains the failure, which the
    start check must still show. Only the credential's own part counts: the URL's password (or its path, for a
    webhook), what follows the scheme, and for a value that is not a generated key, twelve characters in a row."""
    assert scrub(said, value) == said


def test_a_truncated_anon_key_in_a_debug_line_is_not_withheld_for_the_service_role_jwt() -> None:
    """Every Supabase JWT starts with the same header and issuer claim: only the signature is the key's own."""
    header = _b64(b'{"alg":"HS256","typ":"JWT"}').rstrip("=")
    claims = _b64(b'{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"service_role"}').rstrip("=")
    service_role = f"{header}.{claims}.Q8nXk2Lm3Np4Qr5St6Uv7Wx9Yz0Ab1Cd2Ef3Gh4Ij5K"
    said = f"debug: headers apikey={header[:20]}..."
    assert scrub(said, service_role) == said
    assert "withheld" in scrub(f"bad signature {service_role.split('.')[2][:12]}", service_role)


@pytest.mark.parametrize(("secret_type", "value", "said", "kept"), [
    ("azure", json.dumps({"tenant_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "client_id": "11112222-3333-4444-5555-666677778888",
                          "client_secret": "Xy8Q~abcDEFghiJKLmnoPQRstuVWXyz0123456789"}),
     '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}', "invalid_client"),
    ("aws", json.dumps({"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": AWS_SECRET, "region": "us-east-1"}),
     "not authorized to perform: secretsmanager:GetSecretValue; region_mismatch", "region_mismatch"),
])
def test_a_json_value_s_field_names_do_not_redact_the_provider_s_error_code(secret_type: str, value: str, said: str, kept: str) -> None:
    """The JSON text of a service value is no source of fragments: `client_id` took `invalid_client` with it, and
    `region` took `region_mismatch`, the very words `secrets test` has to show."""
    assert kept in one_line(said, secret_parts(secret_type, value), 4000, hidden_parts(secret_type, value))


def test_scrub_of_a_mebibyte_value_over_a_cut_text_is_linear() -> None:
    """scrub looked each of a 1 MiB value's windows up in the text with `in`: a million searches of the text, 38 s
    over 64 KiB. The text's windows go in a set once."""
    value = "".join(random.Random(1).choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(1 << 20))
    assert outcome_within(Config().admin_deadline, lambda: scrub("." * 65536, value)) == DONE


def test_utf16_output_read_as_utf8_is_withheld() -> None:
    """wsl.exe, PowerShell and .NET tools write UTF-16 to a pipe read as UTF-8: the key stands with a NUL between
    each of its characters, readable by anyone who looks."""
    said = ("Error: invalid token " + OPENAI_KEY + "\r\n").encode("utf-16-le").decode("utf-8", "replace")
    assert "withheld" in scrub(said, OPENAI_KEY)
    assert "withheld" in one_line(said, secret_parts("openai", OPENAI_KEY), 300)
