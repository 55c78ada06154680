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
import shlex
import subprocess
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
from bridge.core.secret_types import one_line, secret_parts
from bridge.local.config import Config
from tests.support.api_role import become, call, mint
from tests.support.bridge_proc import run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_lifecycle_sql import Rpc
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


def test_a_mebibyte_openclaw_json_is_read_within_admin_deadline(tmp_path: Path) -> None:
    """openclaw.json is read whole (up to 16 MiB) by the pure-Python json5 package, outside any deadline: a valid
    1 MiB config (a long list, as a big agents or models section grows) must still be answered, or refused in one
    line, within admin_deadline. `register` (no OpenClaw on PATH: it edits the file itself) needs no database."""
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True)
    (home / ".openclaw" / "openclaw.json").write_text('{"agents": {"list": [' + "1," * (512 * 1024) + "1]}}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "BRIDGE_HOME": str(tmp_path / "bridge-home")}
    deadline = Config().admin_deadline
    try:
        result = run_bridge(["register", "--provider", "supabase"], env, timeout=deadline)
    except subprocess.TimeoutExpired:
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
    home = tmp_path / "home"
    (home / ".openclaw").mkdir(parents=True)
    config = home / ".openclaw" / "openclaw.json"
    config.write_text('// my gateway\n{"agents": {"list": [' + "1," * (512 * 1024) + "1]}}\n")
    before = config.read_bytes()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "BRIDGE_HOME": str(tmp_path / "bridge-home")}
    deadline = Config().admin_deadline
    try:
        result = run_bridge(["register", "--provider", "supabase"], env, timeout=deadline)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`bridge register` on 1 MiB of JSON5 was still running after {deadline:g}s")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "KiB of JSON5" in result.stderr and "plain JSON" in result.stderr
    assert config.read_bytes() == before


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
