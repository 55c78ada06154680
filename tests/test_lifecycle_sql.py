"""setup.sql's secret lifecycle: metadata beside Vault, rotation policy, recorded tests, status and alerts.

Calls are made as PostgREST makes them: inside one rolled-back transaction
for what depends on the rows only, and through the PostgREST stand-in (each
call its own committed transaction, with its own X-Bridge-Host) where the
order of real resolves in time is the point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from bridge.core.secret_types import CHECK_STATUSES, DEFAULT_ROTATE_EVERY_S, SECRET_TYPES
from tests.support.api_role import become, call, new_token
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget, one
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_setup_admin import headers_for, unique
from tests.test_setup_sql import PLAINTEXT, audit_rows, audit_watermark

DAY = 86400


def status_of(conn: psycopg.Connection, name: str, within: str | None = None) -> dict[str, Any]:
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM public.list_secrets_status(%s, %s::interval)", (name, within)).fetchall()
    (row,) = [r for r in rows if r["name"] == name]
    return row


# Calls made inside one test's transaction see one now(): the version (Vault's updated_at) of a value stored in it, which
# record_secret_check is given as the version tested.


def set_secret(conn: psycopg.Connection, name: str, value: str | None, meta: dict[str, Any] | None = None,
               description: str | None = None) -> dict[str, Any]:
    ((answer,),) = call(conn, "SELECT public.set_secret(%s, %s, %s, %s)",
                        (name, value, description, None if meta is None else json.dumps(meta)))
    result: dict[str, Any] = answer
    return result


@pytest.fixture(autouse=True)
def quiet_log(pg: PgCluster) -> Iterator[None]:
    """This module provokes alerts on purpose; they leave with each test, so no later doctor sees them."""
    with audit_rows_dropped_after(pg):
        yield


# --- metadata and rotation policy ---------------------------------------------------


@pytest.mark.parametrize("secret_type", SECRET_TYPES)
def test_a_type_brings_its_default_schedule_and_a_new_value_resets_rotated_at(db: psycopg.Connection, secret_type: str) -> None:
    become(db, "service_role")
    name = unique("TYPED")
    answer = set_secret(db, name, PLAINTEXT, {"type": secret_type})
    assert (answer["type"], answer["rotate_every"], answer["created"]) == (secret_type, DEFAULT_ROTATE_EVERY_S[secret_type], True)
    row = status_of(db, name)
    assert (row["type"], row["rotate_every"], row["due"], row["status"]) == (secret_type, DEFAULT_ROTATE_EVERY_S[secret_type], "ok", None)


def test_the_schedules_agree_with_python(owner: psycopg.Connection) -> None:
    for secret_type in SECRET_TYPES:
        ((seconds,),) = call(owner, "SELECT EXTRACT(epoch FROM vault_bridge.default_rotate_every(%s))::bigint", (secret_type,))
        assert seconds == DEFAULT_ROTATE_EVERY_S[secret_type], secret_type
    assert call(owner, "SELECT vault_bridge.secret_types(), vault_bridge.check_statuses()") == [
        (list(SECRET_TYPES), list(CHECK_STATUSES))
    ]


def test_policy_changes_keep_the_value_and_rotated_at_and_a_new_type_clears_the_test(owner: psycopg.Connection) -> None:
    become(owner, "service_role")
    name = unique("POLICY")
    first = set_secret(owner, name, PLAINTEXT, {"type": "openai"}, "prod key")
    call(owner, "SELECT public.record_secret_check(%s, 'ok', 'openai accepted the key (HTTP 200)', now())", (name,))
    # Only the schedule: value, type, rotated_at and the test result stay.
    kept = set_secret(owner, name, None, {"rotate_every_s": 3600, "expires_at": "2030-01-01T00:00:00Z"})
    assert (kept["created"], kept["type"], kept["rotate_every"], kept["rotated_at"]) == (False, "openai", 3600, first["rotated_at"])
    row = status_of(owner, name)
    assert (row["status"], row["description"], row["expires_at"]) == ("ok", "prod key", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert call(owner, "SELECT public.get_secret(%s)", (name,)) == [(PLAINTEXT,)]
    # A new type brings its schedule and voids the test; null clears the expiry.
    retyped = set_secret(owner, name, None, {"type": "gemini", "expires_at": None})
    assert (retyped["rotate_every"], retyped["expires_at"]) == (DEFAULT_ROTATE_EVERY_S["gemini"], None)
    assert status_of(owner, name)["status"] is None
    # The description alone may change too; the schedule stays.
    assert set_secret(owner, name, None, None, "renamed")["rotate_every"] == DEFAULT_ROTATE_EVERY_S["gemini"]
    assert status_of(owner, name)["description"] == "renamed"
    # rotate_every_s null: no schedule.
    assert set_secret(owner, name, None, {"rotate_every_s": None})["rotate_every"] is None


def test_due_overdue_and_expired_follow_the_clock(owner: psycopg.Connection) -> None:
    become(owner, "service_role")
    names = {state: unique(f"DUE_{state.upper()}") for state in ("ok", "due", "overdue", "expired", "never")}
    set_secret(owner, names["ok"], PLAINTEXT, {"rotate_every_s": 30 * DAY})
    set_secret(owner, names["due"], PLAINTEXT, {"rotate_every_s": 3 * DAY})
    set_secret(owner, names["overdue"], PLAINTEXT, {"rotate_every_s": 1})
    set_secret(owner, names["expired"], PLAINTEXT, {"expires_at": "2020-01-01T00:00:00Z", "rotate_every_s": 30 * DAY})
    set_secret(owner, names["never"], PLAINTEXT)
    # One second passes for the secret rotated every second: its rotation date is moved back by that much.
    owner.execute("RESET ROLE")
    owner.execute(
        "UPDATE vault_bridge.secret_meta SET rotated_at = rotated_at - interval '2 seconds' "
        "WHERE secret_id = (SELECT id FROM vault.secrets WHERE name = %s)", (names["overdue"],),
    )
    become(owner, "service_role")
    assert {state: status_of(owner, name)["due"] for state, name in names.items()} == {
        "ok": "ok", "due": "due", "overdue": "overdue", "expired": "expired", "never": "ok",
    }
    # A wider window makes the 30-day one due; a narrower one lets the 3-day one be.
    assert status_of(owner, names["ok"], "60 days")["due"] == "due"
    assert status_of(owner, names["due"], "1 day")["due"] == "ok"
    expired = status_of(owner, names["expired"])
    assert expired["due_at"] == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    due_only = {r[0] for r in call(owner, "SELECT name FROM public.list_secrets_status(p_due_only => true)")}
    assert {names["due"], names["overdue"], names["expired"]} <= due_only
    assert not {names["ok"], names["never"]} & due_only
    # A new value puts the overdue one back on schedule, and an expired one has no expiry until told its new one.
    set_secret(owner, names["overdue"], PLAINTEXT + "-new")
    assert status_of(owner, names["overdue"])["due"] in ("ok", "due")
    renewed = set_secret(owner, names["expired"], PLAINTEXT + "-new")
    assert (renewed["expires_at"], status_of(owner, names["expired"])["due"]) == (None, "ok")
    dated = set_secret(owner, names["expired"], PLAINTEXT + "-newer", {"expires_at": "2099-12-31T00:00:00+02:00"})
    assert dated["expires_at"] == "2099-12-30T22:00:00+00:00"


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        ({"type": "mystery"}, "not a secret type"),
        ({"type": 7}, "not a secret type"),
        ({"rotate_every_s": 0}, "whole number of seconds"),
        ({"rotate_every_s": 0.5}, "whole number of seconds"),
        ({"rotate_every_s": 1e-7}, "whole number of seconds"),
        ({"rotate_every_s": 10**12}, "whole number of seconds"),
        ({"rotate_every_s": "90d"}, "whole number of seconds"),
        ({"expires_at": "next tuesday"}, "not a timestamp"),
        ({"expires_at": "infinity"}, "not a timestamp"),
        ({"expires_at": "now"}, "not a timestamp"),
        ({"expires_at": "2027-03-01T10:00:00"}, "not a timestamp"),
        ({"expires_at": "2027-02-30T00:00:00Z"}, "not a timestamp"),
        ({"expires_at": "200000-01-01T00:00:00Z"}, "not a timestamp"),
        ({"expires_at": "2300-01-01T00:00:00Z"}, "not a timestamp"),
        ({"expires_at": 1767225600}, "not a timestamp"),
        ({"colour": "blue"}, "key 'colour' is not known"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_bad_metadata_is_refused_before_anything_changes(db: psycopg.Connection, meta: Any, problem: str) -> None:
    become(db, "service_role")
    name = unique("BADMETA")
    for value in (PLAINTEXT, None):
        if value is None:
            set_secret(db, name, PLAINTEXT)
        with pytest.raises(errors.InvalidParameterValue) as refused:
            call(db, "SELECT public.set_secret(%s, %s, NULL, %s)", (name, value, json.dumps(meta)))
        assert problem in str(refused.value) and PLAINTEXT not in str(refused.value)
    assert call(db, "SELECT public.get_secret(%s)", (name,)) == [(PLAINTEXT,)]


def test_a_policy_change_needs_an_existing_secret(db: psycopg.Connection) -> None:
    become(db, "service_role")
    with pytest.raises(psycopg.Error) as refused:
        call(db, "SELECT public.set_secret(%s, NULL, NULL, %s)", (unique("GHOST"), json.dumps({"type": "openai"})))
    assert refused.value.sqlstate == "PT404" and "store a value first" in (refused.value.diag.message_hint or "")


def test_each_change_is_audited_as_store_rotate_policy_test_and_delete_removes_the_metadata(owner: psycopg.Connection) -> None:
    become(owner, "service_role", headers=headers_for("gw-life"))
    name = unique("AUDITED")
    mark = audit_watermark(owner)
    secret_id = set_secret(owner, name, PLAINTEXT, {"type": "anthropic"})["id"]
    set_secret(owner, name, PLAINTEXT + "-2")
    set_secret(owner, name, None, {"rotate_every_s": DAY})
    call(owner, "SELECT public.record_secret_check(%s, 'invalid', %s, now())", (name, "anthropic refused the key\x1b[2J (HTTP 401)"))
    row = status_of(owner, name)
    assert (row["status"], row["check_message"]) == ("invalid", "anthropic refused the key\\x1b[2J (HTTP 401)")
    with pytest.raises(errors.InvalidParameterValue):
        call(owner, "SELECT public.record_secret_check(%s, 'great', '', now())", (name,))
    with pytest.raises(psycopg.Error) as missing:
        call(owner, "SELECT public.record_secret_check(%s, 'ok', '', now())", (unique("GONE"),))
    assert missing.value.sqlstate == "PT404"
    assert call(owner, "SELECT public.delete_secret(%s)", (name,)) == [(True,)]
    owner.execute("RESET ROLE")
    assert owner.execute("SELECT count(*) FROM vault_bridge.secret_meta WHERE secret_id = %s", (secret_id,)).fetchone() == (0,)
    rows = [(r["access_type"], r["success"], r["error_message"]) for r in audit_rows(owner, mark) if r["secret_name"] == name]
    assert rows == [
        ("store", True, None), ("rotate", True, None), ("policy", True, None), ("test", False, "provider test: invalid"),
        ("list", True, None), ("delete", True, None),
    ]


def test_a_long_check_message_is_cut_to_one_line(owner: psycopg.Connection) -> None:
    ((limit,),) = call(owner, "SELECT vault_bridge.max_check_message_chars()")
    become(owner, "service_role")
    name = unique("LONGMSG")
    set_secret(owner, name, PLAINTEXT, {"type": "openai"})
    call(owner, "SELECT public.record_secret_check(%s, 'unreachable', %s, now())", (name, "x" * 5000))
    assert len(status_of(owner, name)["check_message"]) == limit


def test_a_verdict_on_a_value_that_changed_while_it_was_tested_is_discarded(owner: psycopg.Connection) -> None:
    become(owner, "service_role", headers=headers_for("gw-race"))
    name = unique("RACE")
    set_secret(owner, name, PLAINTEXT, {"type": "openai"})
    ((read,),) = call(owner, "SELECT public.get_secret_version(%s)", (name,))
    assert read["secret"] == PLAINTEXT and status_of(owner, name)["updated_at"] == dt.datetime.fromisoformat(read["version"])
    assert call(owner, "SELECT public.record_secret_check(%s, 'invalid', 'refused', %s)", (name, read["version"])) != [(None,)]
    assert status_of(owner, name)["status"] == "invalid"
    # A verdict on a value read at another version (one transaction has one now(), so the earlier version is made up
    # here; test_lifecycle_cli has the rotation itself, while the provider answers).
    mark = audit_watermark(owner)
    older = dt.datetime.fromisoformat(read["version"]) - dt.timedelta(seconds=1)
    assert call(owner, "SELECT public.record_secret_check(%s, 'ok', 'accepted', %s)", (name, older)) == [(None,)]
    assert status_of(owner, name)["status"] == "invalid", "the discarded verdict changed nothing"
    logged = [(r["access_type"], r["success"], r["error_message"]) for r in audit_rows(owner, mark) if r["secret_name"] == name]
    assert logged[:1] == [("test", False, "provider test discarded: the value changed while it was tested")]
    with pytest.raises(errors.NullValueNotAllowed):
        call(owner, "SELECT public.record_secret_check(%s, 'ok', '', NULL)", (name,))


def test_a_value_changed_outside_the_bridge_counts_as_rotated_then(pg: PgCluster, http: Rpc) -> None:
    name = unique("STUDIO")
    http.store(name, meta={"type": "openai", "rotate_every_s": 30 * DAY, "expires_at": "2000-01-01T00:00:00Z"})
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("record_secret_check", {"p_name": name, "p_status": "ok", "p_message": "accepted", "p_version": version})
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE vault_bridge.secret_meta SET rotated_at = rotated_at - interval '3 days' "
                     "WHERE secret_id = (SELECT id FROM vault.secrets WHERE name = %s)", (name,))
    before = http.status(name)[name]
    assert (before["status"], before["due"]) == ("ok", "expired")
    since = before["updated_at"]
    # Studio's Vault page, or the SQL editor: Vault's own API, as postgres, never through the bridge.
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.update_secret(id, 'changed in studio') FROM vault.secrets WHERE name = %s", (name,))
    after = http.status(name)[name]
    assert after["updated_at"] > since and after["rotated_at"] == after["updated_at"]
    assert (after["status"], after["checked_at"], after["check_message"], after["expires_at"]) == (None, None, None, None)
    assert (after["type"], after["rotate_every"], after["due"]) == ("openai", 30 * DAY, "ok")
    # secrets due, the dashboard's page and the change feed say the same.
    assert http.admin("list_secrets_status", {"p_prefix": name, "p_due_only": True}) == []
    (shown,) = http.admin("list_secrets_page", {"p_search": name})["rows"]
    assert {key: shown[key] for key in ("status", "rotated_at", "expires_at", "due")} == {
        key: after[key] for key in ("status", "rotated_at", "expires_at", "due")}
    feed = http.admin("changed_secrets", {"p_names": [name], "p_since": since})
    assert [c["name"] for c in feed["changed"]] == [name] and feed["gone"] == []
    # The next write through the bridge records what was seen: a policy change keeps the new rotated_at, no expiry.
    kept = http.admin("set_secret", {"p_name": name, "p_secret": None, "p_meta": {"rotate_every_s": 60 * DAY}})
    assert (kept["rotated_at"], kept["expires_at"]) == (after["rotated_at"], None)
    assert http.status(name)[name]["rotated_at"] == after["rotated_at"]
    # A description set through the bridge moves updated_at too; that is no change of the value.
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("record_secret_check", {"p_name": name, "p_status": "invalid", "p_message": "refused", "p_version": version})
    http.admin("set_secret", {"p_name": name, "p_secret": None, "p_description": "from the bridge"})
    described = http.status(name)[name]
    assert (described["status"], described["rotated_at"]) == ("invalid", after["rotated_at"])


# --- status and use ------------------------------------------------------------------


@pytest.fixture
def http(endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster) -> Iterator[Rpc]:
    rpc = Rpc(endpoint, keys)
    try:
        yield rpc
    finally:
        forget(pg, *rpc.names)


class Rpc:
    """Calls through the PostgREST stand-in: each one its own committed transaction, from the host it names."""

    def __init__(self, endpoint: Endpoint, keys: ProjectKeys) -> None:
        self.endpoint, self.keys = endpoint, keys
        self.names: list[str] = []

    def admin(self, function: str, args: dict[str, Any], host: str = "gw-admin") -> Any:
        return self.post(function, args, {"apikey": self.keys.secret, "x-bridge-host": host})

    def gateway(self, token: str, names: list[str], host: str) -> httpx.Response:
        return httpx.post(f"{self.endpoint.url}/rest/v1/rpc/resolve_secrets_with_token",
                          json={"p_token": token, "p_names": names},
                          headers={"apikey": self.keys.publishable, "x-bridge-host": host}, timeout=10)

    def post(self, function: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
        answer = httpx.post(f"{self.endpoint.url}/rest/v1/rpc/{function}", json=args, headers=headers, timeout=10)
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.content else None

    def store(self, name: str, value: str = PLAINTEXT, meta: dict[str, Any] | None = None) -> None:
        self.names.append(name)
        self.admin("set_secret", {"p_name": name, "p_secret": value, "p_meta": meta})

    def token(self, tenant: str, name: str, allow: list[str]) -> str:
        token, digest = new_token()
        self.admin("create_gateway_token", {"p_tenant": tenant, "p_name": name, "p_token_sha256": digest, "p_allow": allow})
        return token

    def status(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {row["name"]: row for row in self.admin("list_secrets_status", {"p_prefix": prefix})}

    def alerts(self, **match: str) -> list[dict[str, Any]]:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
        rows: list[dict[str, Any]] = self.admin("read_access_alerts", {"p_since": since})
        return [r for r in rows if all(r[key] == value for key, value in match.items())]


def test_status_counts_uses_failures_and_gateways_from_the_resolves_themselves(http: Rpc) -> None:
    prefix = unique("GW")
    used, idle = f"{prefix}_USED", f"{prefix}_IDLE"
    http.store(used, meta={"type": "openai"})
    http.store(idle)
    token = http.token("default", unique("gw-status"), [used, f"{prefix}_MISSING"])
    for host in ("gw-one", "gw-two"):
        http.admin("resolve_secrets", {"p_names": [used]}, host=host)
    assert http.gateway(token, [used], "gw-three").json() == {used: PLAINTEXT}
    assert http.gateway(token, [f"{prefix}_MISSING"], "gw-three").json() == {}
    http.admin("get_secret", {"p_name": used})
    assert httpx.post(f"{http.endpoint.url}/rest/v1/rpc/get_secret", json={"p_name": f"{prefix}_IDLE_GONE"},
                      headers={"apikey": http.keys.secret}, timeout=10).status_code == 404
    status = http.status(prefix)
    # Three resolves: from two hosts, and by a token from a third (the token is the gateway). A person's own read by
    # name is no use.
    assert (status[used]["uses"], status[used]["failures"], status[used]["gateways"]) == (3, 0, 3)
    assert status[used]["last_used_at"] is not None and status[used]["type"] == "openai"
    assert (status[idle]["uses"], status[idle]["last_used_at"], status[idle]["gateways"]) == (0, None, 0)
    assert http.status(f"{prefix}_MISSING") == {}
    assert PLAINTEXT not in json.dumps(status)


# --- alerts ------------------------------------------------------------------------


def test_more_than_five_failures_in_an_hour_alert_per_name_and_per_token(http: Rpc) -> None:
    prefix = unique("FAIL")
    http.store(f"{prefix}_REAL")
    token_name = unique("gw-noisy")
    token = http.token("default", token_name, [f"{prefix}_*"])
    missing = f"{prefix}_NOPE"
    for _ in range(5):
        http.gateway(token, [missing], "gw-noisy")
    assert http.alerts(secret=missing) == []
    http.gateway(token, [missing], "gw-noisy")
    (by_name,) = http.alerts(kind="failures", secret=missing)
    assert by_name["count"] == 6 and by_name["token"] is None and "6 failed accesses" in by_name["message"]
    (by_token,) = http.alerts(kind="failures", token=f"default/{token_name}")
    assert by_token["count"] == 6 and by_token["first_at"] <= by_token["last_at"]
    # A call failing several names at once names none of them: it counts toward the token only.
    other = unique("gw-batch")
    batch = http.token("default", other, [f"{prefix}_*"])
    http.gateway(batch, [f"{prefix}_A", f"{prefix}_B", f"{prefix}_C", f"{prefix}_D", f"{prefix}_E", f"{prefix}_F"], "gw-batch")
    (batched,) = http.alerts(kind="failures", token=f"default/{other}")
    assert batched["count"] == 6
    assert http.alerts(secret=f"{prefix}_A") == []


def test_a_revoked_token_that_keeps_trying_is_recorded_and_alerts_but_an_unknown_one_writes_nothing(
    http: Rpc, pg: PgCluster
) -> None:
    prefix = unique("REVOKED")
    http.store(f"{prefix}_KEY")
    token_name = unique("gw-stolen")
    token = http.token("default", token_name, [f"{prefix}_KEY"])
    assert http.gateway(token, [f"{prefix}_KEY"], "gw-stolen").json() == {f"{prefix}_KEY": PLAINTEXT}
    assert http.admin("revoke_gateway_token", {"p_tenant": "default", "p_name": token_name}) is True
    for _ in range(6):
        refused = http.gateway(token, [f"{prefix}_KEY"], "gw-stolen")
        assert refused.status_code == 401 and refused.json()["code"] == "PT401"
        assert PLAINTEXT not in refused.text
    (alert,) = http.alerts(kind="failures", token=f"default/{token_name}")
    assert alert["count"] == 6
    with pg.connect("postgres") as conn:
        before = one(conn.execute("SELECT count(*) FROM public.vault_access_log"))[0]
    for _ in range(3):
        assert http.gateway("ocbt_" + uuid.uuid4().hex, [f"{prefix}_KEY"], "gw-anon").status_code == 401
    with pg.connect("postgres") as conn:
        assert one(conn.execute("SELECT count(*) FROM public.vault_access_log WHERE host = 'gw-anon'"))[0] == 0
        assert one(conn.execute("SELECT count(*) FROM public.vault_access_log"))[0] == before


def test_a_refused_known_token_is_bounded_by_its_audit_budget(pg: PgCluster, http: Rpc) -> None:
    token_name = unique("gw-flood")
    token = http.token("default", token_name, ["FLOOD_KEY"])
    http.admin("revoke_gateway_token", {"p_tenant": "default", "p_name": token_name})
    with pg.connect("postgres", autocommit=True) as conn:
        # The window is nearly spent: one row left of the budget.
        conn.execute("UPDATE vault_bridge.gateway_tokens SET log_window_start = now(), "
                     "log_window_rows = vault_bridge.token_log_rows() - 1 WHERE name = %s", (token_name,))
    for _ in range(4):
        assert http.gateway(token, ["FLOOD_KEY"] * 3, "gw-flood").status_code == 401
    with pg.connect("postgres") as conn:
        rows = conn.execute("SELECT count(*) FROM public.vault_access_log WHERE token_name = %s AND NOT success",
                            (token_name,)).fetchone()
        (version,) = conn.execute("SELECT xmin::text FROM vault_bridge.gateway_tokens WHERE name = %s", (token_name,)).fetchone() or ("",)
    # The last row of the budget is written; after it, a call changes nothing at all: no row, no count, no new
    # version of the token's row.
    assert rows == (1,)
    for _ in range(3):
        assert http.gateway(token, ["FLOOD_KEY"], "gw-flood").status_code == 401
    with pg.connect("postgres") as conn:
        assert conn.execute("SELECT xmin::text, unlogged_calls FROM vault_bridge.gateway_tokens WHERE name = %s",
                            (token_name,)).fetchone() == (version, 0)


def test_a_token_that_spends_its_budget_on_successes_still_alerts_on_its_failures(pg: PgCluster, http: Rpc) -> None:
    prefix = unique("SPENT")
    mine = [f"{prefix}_{i:03d}" for i in range(512)]
    http.names.extend(mine)
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT public.set_secret(n, 'v-' || n) FROM unnest(%s::text[]) AS n", (mine,))
    ((budget,),) = pg.connect("postgres").execute("SELECT vault_bridge.token_log_rows()").fetchall()
    hider, control = unique("gw-hider"), unique("gw-control")
    hiding, honest = (http.token("default", who, [f"{prefix}_*"]) for who in (hider, control))
    # Its whole hourly budget of itemised rows on successful resolves of its own names: 8 calls of 512.
    for _ in range(budget // len(mine)):
        assert len(http.gateway(hiding, mine, "gw-hider").json()) == len(mine)
    for _ in range(10):
        for token in (hiding, honest):
            assert http.gateway(token, [f"{prefix}_NOPE"], "gw-probe").json() == {}
    (hidden,) = http.alerts(kind="failures", token=f"default/{hider}")
    (seen,) = http.alerts(kind="failures", token=f"default/{control}")
    assert hidden["count"] == seen["count"] == 10
    # The successes over the budget are still counted, for the summary row.
    with pg.connect("postgres") as conn:
        assert one(conn.execute("SELECT unlogged_names FROM vault_bridge.gateway_tokens WHERE name = %s", (hider,)))[0] > 0


def test_new_host_alerts_cost_the_same_whatever_the_secret_s_history_holds(owner: psycopg.Connection) -> None:
    name, hosts, history = unique("BUSY"), 50, 5000
    since = "now() - interval '1 day'"

    def alerts_reading() -> tuple[int, int, list[tuple[Any, ...]]]:
        """The scans of the audit log and its indexes that reading every alert made, the rows and index entries they
        read, and the new_host alerts of `name`."""
        owner.execute("RESET ROLE")
        scans, reads = one(owner.execute(LOG_READS))
        become(owner, "service_role")
        found = [r for r in call(owner, f"SELECT kind, secret, host FROM public.read_access_alerts({since})") if r[1] == name]
        owner.execute("RESET ROLE")
        scans_after, reads_after = one(owner.execute(LOG_READS))
        return scans_after - scans, reads_after - reads, found

    scans_empty, _, _ = alerts_reading()
    # A busy secret: thousands of earlier resolves from its usual host, then first reads from made-up hosts.
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, client, access_type, success, accessed_at) "
        "SELECT %s, '{\"host\": \"gw-home\"}', 'resolve', true, now() - interval '2 days' + g * interval '1 ms' "
        "FROM generate_series(1, %s) AS g", (name, history))
    owner.execute(
        "INSERT INTO public.vault_access_log (secret_name, client, access_type, success, accessed_at) "
        "SELECT %s, jsonb_build_object('host', 'gw-made-up-' || g), 'resolve', true, now() - interval '1 hour' "
        "FROM generate_series(1, %s) AS g", (name, hosts))
    owner.execute("ANALYZE public.vault_access_log")
    scans_busy, reads_busy, found = alerts_reading()
    assert sorted(found) == sorted(("new_host", name, f"gw-made-up-{g}") for g in range(1, hosts + 1))
    # No probe of the log per new host, and at most a pass or two over it: never its history once per new host (which
    # was hosts x history entries, 250,000 here).
    (rows,) = one(owner.execute("SELECT count(*) FROM public.vault_access_log"))
    assert scans_busy - scans_empty < hosts // 5, (scans_empty, scans_busy)
    assert reads_busy <= 2 * rows < hosts * history, (reads_busy, rows)


LOG_READS = (
    "SELECT sum(pg_stat_get_xact_numscans(r.oid)), sum(pg_stat_get_xact_tuples_returned(r.oid)) FROM pg_class AS r "
    "WHERE r.oid = 'public.vault_access_log'::regclass "
    "   OR r.oid IN (SELECT i.indexrelid FROM pg_index AS i WHERE i.indrelid = 'public.vault_access_log'::regclass)"
)
"""Scans of the audit log and of its indexes so far in this transaction, and the rows and index entries they read."""


def test_a_first_read_from_a_new_host_alerts_when_others_read_before(http: Rpc) -> None:
    prefix = unique("HOST")
    name = f"{prefix}_KEY"
    http.store(name)
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-home")
    assert http.alerts(kind="new_host", secret=name) == [], "the first host of a secret is no surprise"
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-home")
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-elsewhere")
    http.admin("resolve_secrets", {"p_names": [name]}, host="gw-elsewhere")
    (alert,) = http.alerts(kind="new_host", secret=name)
    assert (alert["host"], alert["count"]) == ("gw-elsewhere", 2)
    assert "gw-elsewhere" in alert["message"] and PLAINTEXT not in json.dumps(alert)


def test_a_token_unused_for_90_days_alerts_until_it_is_used_or_revoked(http: Rpc, pg: PgCluster) -> None:
    prefix = unique("IDLE")
    http.store(f"{prefix}_KEY")
    token_name = unique("gw-forgotten")
    token = http.token("default", token_name, [f"{prefix}_KEY"])
    assert http.alerts(kind="unused_token", token=f"default/{token_name}") == []
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("UPDATE vault_bridge.gateway_tokens SET created_at = now() - interval '100 days' WHERE name = %s",
                     (token_name,))
    (alert,) = http.alerts(kind="unused_token", token=f"default/{token_name}")
    assert alert["count"] == 100 and alert["last_at"] is None and "since it was created" in alert["message"]
    http.gateway(token, [f"{prefix}_KEY"], "gw-forgotten")
    assert http.alerts(kind="unused_token", token=f"default/{token_name}") == []


def test_reading_alerts_is_audited_and_service_role_only(db: psycopg.Connection) -> None:
    become(db, "service_role")
    mark = audit_watermark(db)
    call(db, "SELECT * FROM public.read_access_alerts()")
    assert [r["access_type"] for r in audit_rows(db, mark)] == ["audit"]
    for role in ("anon", "authenticated"):
        become(db, role)
        for statement in ("SELECT * FROM public.read_access_alerts()", "SELECT public.record_secret_check('X', 'ok', '', now())",
                          "SELECT * FROM public.list_secrets_status()"):
            with pytest.raises(errors.InsufficientPrivilege):
                call(db, statement)


def test_a_gateway_token_reads_due_dates_of_its_own_names_only(db: psycopg.Connection) -> None:
    become(db, "service_role")
    mine, other = unique("MINE"), unique("OTHER")
    for name in (mine, other):
        set_secret(db, name, PLAINTEXT, {"expires_at": "2020-01-01T00:00:00Z"})
    token, digest = new_token()
    call(db, "SELECT public.create_gateway_token('default', %s, %s, %s)", (unique("gw-due"), digest, [mine]))
    become(db, "anon")
    rows = call(db, "SELECT * FROM public.secrets_due_with_token(%s, %s)", (token, [mine, other]))
    assert rows == [(mine, "expired", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))]
    with pytest.raises(psycopg.Error) as refused:
        call(db, "SELECT * FROM public.secrets_due_with_token(%s, %s)", ("ocbt_nope", [mine]))
    assert refused.value.sqlstate == "PT401"


# --- never a value --------------------------------------------------------------------


def test_no_value_or_part_of_one_reaches_the_metadata_or_a_dump(pg: PgCluster, http: Rpc) -> None:
    name = unique("NOLEAK")
    value = json.dumps({"access_key_id": "AKIA" + uuid.uuid4().hex[:16].upper(),
                        "secret_access_key": hashlib.sha1(uuid.uuid4().bytes).hexdigest()[:40]})
    http.store(name, value, {"type": "aws"})
    version = http.admin("get_secret_version", {"p_name": name})["version"]
    http.admin("record_secret_check", {"p_name": name, "p_status": "invalid", "p_message": "AWS STS refused [redacted]",
                                       "p_version": version})
    http.admin("set_secret", {"p_name": name, "p_secret": None, "p_meta": {"rotate_every_s": DAY}})
    parts = [value, *json.loads(value).values()]
    dump = subprocess.run(
        [str(pg.bindir / "pg_dump"), "--data-only", "-n", "public", "-n", "vault_bridge", "-n", "vault",
         "-d", pg.conninfo("supabase_admin")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert name in dump
    with pg.connect("postgres") as conn:
        meta = json.dumps(conn.execute("SELECT * FROM vault_bridge.secret_meta").fetchall(), default=str)
        log = json.dumps(conn.execute("SELECT * FROM public.vault_access_log").fetchall(), default=str)
    for part in parts:
        assert part not in dump and part not in meta and part not in log
