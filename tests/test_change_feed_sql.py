"""setup.sql's change feed (what `bridge watch` polls) and rollout report, called as PostgREST calls them.

Rotations are committed through the PostgREST stand-in, each in its own
transaction, so `updated_at` moves as it does on Supabase; the feed is asked
with the server time it handed out the call before.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import errors

from tests.support.api_role import become, call, new_token
from tests.support.bridge_proc import request, run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_setup_sql import PLAINTEXT


class Api:
    """Calls through the stand-in, as the watcher (publishable key and token, or the secret key) and the admin make them."""

    def __init__(self, endpoint: Endpoint, keys: ProjectKeys) -> None:
        self.endpoint, self.keys = endpoint, keys
        self.names: list[str] = []
        self.tenants: list[str] = []

    def post(self, function: str, args: dict[str, Any], apikey: str | None = None, host: str = "gw-feed") -> httpx.Response:
        return httpx.post(f"{self.endpoint.url}/rest/v1/rpc/{function}", json=args,
                          headers={"apikey": apikey or self.keys.secret, "x-bridge-host": host}, timeout=10)

    def ok(self, function: str, args: dict[str, Any], apikey: str | None = None, host: str = "gw-feed") -> Any:
        answer = self.post(function, args, apikey, host)
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.content else None

    def store(self, name: str, value: str = PLAINTEXT, meta: dict[str, Any] | None = None) -> None:
        self.names.append(name)
        self.ok("set_secret", {"p_name": name, "p_secret": value, "p_meta": meta})

    def token(self, tenant: str, allow: list[str]) -> str:
        self.tenants.append(tenant)
        token, digest = new_token()
        self.ok("create_gateway_token", {"p_tenant": tenant, "p_name": "gw-" + uuid.uuid4().hex[:8], "p_token_sha256": digest,
                                         "p_allow": allow})
        return token

    def feed(self, names: list[str], since: str | None, token: str | None = None) -> dict[str, Any]:
        if token is None:
            answer: dict[str, Any] = self.ok("changed_secrets", {"p_names": names, "p_since": since})
        else:
            answer = self.ok("changed_secrets_with_token", {"p_token": token, "p_names": names, "p_since": since},
                             apikey=self.keys.publishable)
        return answer


@pytest.fixture
def api(endpoint: Endpoint, keys: ProjectKeys, pg: PgCluster) -> Iterator[Api]:
    made = Api(endpoint, keys)
    with audit_rows_dropped_after(pg):
        try:
            yield made
        finally:
            forget(pg, *made.names, tenants=tuple(made.tenants))


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10].upper()}"


def changed(answer: dict[str, Any]) -> set[str]:
    return {c["name"] for c in answer["changed"]}


def test_the_feed_reports_each_rotation_once_its_caller_passes_the_time_back(api: Api, pg: PgCluster) -> None:
    a, b, missing = unique("FEED_A"), unique("FEED_B"), unique("FEED_GONE")
    api.store(a)
    api.store(b)
    first = api.feed([a, b, missing], None)
    assert changed(first) == {a, b} and first["gone"] == [missing] and first["now"]
    # Pretend the stored values are old, as they are on a real project by the time a watcher starts.
    with pg.connect("supabase_admin", autocommit=True) as conn:
        conn.execute("UPDATE vault.secrets SET updated_at = now() - interval '1 day' WHERE name = ANY(%s)", ([a, b],))
    quiet = api.feed([a, b], first["now"])
    assert quiet["changed"] == [] and quiet["gone"] == []
    api.ok("rotate_secret", {"p_name": a, "p_new_secret": PLAINTEXT + "-2"})
    after = api.feed([a, b], quiet["now"])
    assert changed(after) == {a} and PLAINTEXT not in str(after)
    (change,) = after["changed"]
    # Still reported a little later (a late commit must not be missed): the caller knows it by its time.
    again = api.feed([a, b], after["now"])
    assert again["changed"] == [change]
    api.ok("delete_secret", {"p_name": b})
    assert api.feed([a, b], again["now"])["gone"] == [b]


def test_an_expired_secret_is_gone_from_the_feed(api: Api) -> None:
    name = unique("FEED_EXPIRED")
    api.store(name, meta={"expires_at": "2020-01-01T00:00:00Z"})
    answer = api.feed([name], None)
    assert (answer["changed"], answer["gone"]) == ([], [name])


def test_a_token_sees_only_its_own_tenant_and_allow_list(api: Api) -> None:
    tenant = "feed" + uuid.uuid4().hex[:6]
    mine, other = "OPENAI_API_KEY", "OTHER_KEY"
    api.store(f"{tenant}#{mine}")
    api.store(f"{tenant}#{other}")
    api.store(mine)
    token = api.token(tenant, [mine])
    answer = api.feed([mine, other, f"{tenant}#{mine}"], None, token)
    assert changed(answer) == {mine} and sorted(answer["gone"]) == sorted([other, f"{tenant}#{mine}"])
    for refused in ("ocbt_" + uuid.uuid4().hex, ""):
        reply = api.post("changed_secrets_with_token", {"p_token": refused, "p_names": [mine], "p_since": None},
                         apikey=api.keys.publishable)
        assert reply.status_code == 401 and reply.json()["code"] == "PT401"
    assert api.post("changed_secrets", {"p_names": [mine]}, apikey=api.keys.publishable).status_code == 401


def test_the_feed_reads_no_value_writes_no_row_and_bounds_its_names(db: psycopg.Connection) -> None:
    become(db, "service_role")
    ((before,),) = call(db, "SELECT count(*) FROM public.vault_access_log")
    # Without the root key nothing can be decrypted: the feed does not need to.
    db.execute("SELECT set_config('vault_standin.root_key', '', true)")
    call(db, "SELECT public.changed_secrets(%s, now())", (["ANY_NAME"],))
    assert call(db, "SELECT count(*) FROM public.vault_access_log") == [(before,)]
    with pytest.raises(errors.InvalidParameterValue):
        call(db, "SELECT public.changed_secrets(%s)", ([f"N{i}" for i in range(513)],))
    with pytest.raises(errors.InvalidParameterValue):
        call(db, "SELECT public.changed_secrets(NULL)")


def test_rollout_lists_the_gateways_that_resolved_since_the_change_and_those_still_pending(api: Api) -> None:
    tenant = "roll" + uuid.uuid4().hex[:6]
    name = "MODEL_KEY"
    vault_name = f"{tenant}#{name}"
    api.store(vault_name)
    fresh, stale = api.token(tenant, [name]), api.token(tenant, [name])
    for token in (fresh, stale):
        assert api.post("resolve_secrets_with_token", {"p_token": token, "p_names": [name]}, apikey=api.keys.publishable,
                        host="gw-x").json() == {name: PLAINTEXT}
    api.ok("resolve_secrets", {"p_names": [vault_name]}, host="admin-box")
    api.ok("rotate_secret", {"p_name": vault_name, "p_new_secret": PLAINTEXT + "-new"})
    # The first look after the change (what `rotate --wait` does at once) marks it seen committed: a resolve
    # begun before that cannot be told from one that read the old value, so only the resolve after it counts.
    api.ok("secret_rollout", {"p_name": vault_name})
    assert api.post("resolve_secrets_with_token", {"p_token": fresh, "p_names": [name]}, apikey=api.keys.publishable,
                    host="gw-x").json() == {name: PLAINTEXT + "-new"}
    report = api.ok("secret_rollout", {"p_name": vault_name})
    assert report["name"] == vault_name and report["changed_at"]
    assert [(g["via"], g["resolved_at"] is not None) for g in report["updated"]] == [("token", True)]
    assert sorted(g["via"] for g in report["pending"]) == ["host", "token"]
    assert {g["gateway"] for g in report["pending"]} >= {"admin-box"}
    missing = api.post("secret_rollout", {"p_name": unique("NO_SUCH")})
    assert missing.status_code == 404


def test_secrets_rollout_shows_this_host_pending_until_it_resolves_the_new_value(
    env_bootstrap: dict[str, str], pg: PgCluster
) -> None:
    name = unique("ROLLOUT")
    try:
        with audit_rows_dropped_after(pg):
            assert run_bridge(["secrets", "set", name], env_bootstrap, b"old-value").returncode == 0
            assert run_bridge(["resolve"], env_bootstrap, request(name)).returncode == 0
            assert run_bridge(["secrets", "set", name], env_bootstrap, b"new-value").returncode == 0
            before = json.loads(run_bridge(["secrets", "rollout", name, "--json"], env_bootstrap).stdout)
            assert set(before) == {"name", "changed_at", "updated", "pending"} and before["changed_at"].endswith("Z")
            assert (before["updated"], [g["gateway"] for g in before["pending"]]) == ([], [socket.gethostname()])
            assert run_bridge(["resolve"], env_bootstrap, request(name)).returncode == 0
            after = run_bridge(["secrets", "rollout", name], env_bootstrap)
            shown = after.stdout.decode()
            assert after.returncode == 0 and "updated" in shown and socket.gethostname() in shown and "pending" not in shown
            assert "value" not in shown
            missing = run_bridge(["secrets", "rollout", unique("NOPE")], env_bootstrap)
            assert missing.returncode == 1 and "bridge secrets ls" in missing.stderr
    finally:
        forget(pg, name)
