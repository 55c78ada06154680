"""setup.sql's kept versions: rotate_secret_version, rollback_secret_version, history_secret_versions.

The previous value of a rotated secret lives in Vault as an unnamed secret of
its own: these tests read vault.secrets as postgres to see it there, gone when
purged, and out of every listing, resolve and change feed. Each test runs in
one rolled-back transaction; a time past keep_until is made by moving
keep_until back, never by waiting.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.support.api_role import become, call
from tests.test_setup_admin import unique
from tests.test_setup_sql import audit_rows, audit_watermark

OLD = "sk-proj-OLDVALUE-3b1f0c9e2d7a-never-shown"
NEW = "sk-proj-NEWVALUE-8e4d2a6c1f9b-never-shown"


def rotate(conn: psycopg.Connection, name: str, value: str, keep: str | None = None, status: str | None = None) -> dict[str, Any]:
    ((answer,),) = call(conn, "SELECT public.rotate_secret_version(%s, %s, %s::interval, %s, %s)",
                        (name, value, keep, status, None if status is None else "checked"))
    result: dict[str, Any] = answer
    return result


def history(conn: psycopg.Connection, name: str) -> list[dict[str, Any]]:
    ((answer,),) = call(conn, "SELECT public.history_secret_versions(%s)", (name,))
    versions: list[dict[str, Any]] = answer["versions"]
    return versions


def value_of(conn: psycopg.Connection, name: str) -> str:
    ((value,),) = call(conn, "SELECT public.get_secret(%s)", (name,))
    return str(value)


def vault_values(owner: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every Vault secret as postgres sees it, with its decrypted value (the test's view, never the API's)."""
    owner.execute("RESET ROLE")
    rows = owner.execute("SELECT id, name, decrypted_secret FROM vault.decrypted_secrets").fetchall()
    become(owner, "service_role")
    return rows


@pytest.fixture
def stored(owner: psycopg.Connection) -> str:
    become(owner, "service_role", headers={"x-bridge-host": "admin-laptop"})
    name = unique("ROTATED")
    call(owner, "SELECT public.set_secret(%s, %s, NULL, %s)", (name, OLD, json.dumps({"type": "openai"})))
    return name


def test_rotate_replaces_in_place_and_keeps_the_previous_value_as_an_unnamed_vault_secret(owner: psycopg.Connection, stored: str) -> None:
    ((before,),) = call(owner, "SELECT id FROM public.list_secrets(%s)", (stored,))
    answer = rotate(owner, stored, NEW, status="ok")
    assert (answer["id"], answer["version"], answer["previous"]) == (str(before), 2, 1)
    assert value_of(owner, stored) == NEW
    kept = [row for row in vault_values(owner) if row[2] == OLD]
    assert len(kept) == 1 and kept[0][1] is None, "the previous value is one unnamed Vault secret"
    # No listing, status, resolve or change feed shows it.
    assert [r[1] for r in call(owner, "SELECT id, name FROM public.list_secrets(NULL)")].count(None) == 0
    assert all(r[0] != kept[0][0] for r in call(owner, "SELECT id FROM public.list_secrets(NULL)"))
    assert all(r[0] is not None for r in call(owner, "SELECT name FROM public.list_secrets_status(NULL)"))
    ((feed,),) = call(owner, "SELECT public.changed_secrets(ARRAY[%s], NULL)", (stored,))
    assert [c["name"] for c in feed["changed"]] == [stored]
    versions = history(owner, stored)
    assert [(v["version"], v["current"], v["kept"], v["status"], v["by"]) for v in versions] == [
        (2, True, False, "ok", "admin-laptop"), (1, False, True, None, None),
    ]
    assert OLD not in json.dumps(versions) and NEW not in json.dumps(versions)


def test_rollback_restores_the_previous_value_and_keeps_the_one_it_replaces(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW)
    ((done,),) = call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    assert (done["version"], done["restored_from"], done["previous"]) == (3, 1, 2)
    assert value_of(owner, stored) == OLD
    values = [row[2] for row in vault_values(owner)]
    assert values.count(OLD) == 1 and values.count(NEW) == 1, "the restored copy is gone; the replaced value is kept"
    assert [(v["version"], v["current"], v["kept"], v["restored_from"]) for v in history(owner, stored)] == [
        (3, True, False, 1), (2, False, True, None), (1, False, False, None),
    ]
    ((again,),) = call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    assert again["restored_from"] == 2 and value_of(owner, stored) == NEW


def test_rollback_without_a_kept_version_is_refused_with_nothing_changed(owner: psycopg.Connection, stored: str) -> None:
    with pytest.raises(psycopg.Error, match="no previous version") as caught:
        call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    assert caught.value.sqlstate == "PT404"
    assert value_of(owner, stored) == OLD


def test_a_version_past_keep_previous_is_purged_from_vault_at_the_next_admin_call(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW, keep="1 hour")
    owner.execute("RESET ROLE")
    owner.execute("UPDATE vault_bridge.secret_versions SET keep_until = now() - interval '1 second', "
                  "superseded_at = now() - interval '2 hours' WHERE value_id IS NOT NULL")
    become(owner, "service_role")
    assert OLD in [row[2] for row in vault_values(owner)]
    versions = history(owner, stored)
    assert OLD not in [row[2] for row in vault_values(owner)], "purged from vault.secrets"
    assert versions[1]["kept"] is False and versions[1]["purged_at"] is not None


def test_keep_previous_zero_purges_in_the_same_call(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW, keep="0 seconds")
    assert OLD not in [row[2] for row in vault_values(owner)]
    with pytest.raises(psycopg.Error, match="no previous version"):
        call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))


def test_delete_takes_the_kept_versions_with_it(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW)
    call(owner, "SELECT public.delete_secret(%s)", (stored,))
    values = [row[2] for row in vault_values(owner)]
    assert OLD not in values and NEW not in values


@pytest.mark.parametrize(("keep", "status", "problem"), [
    ("-1 second", None, "p_keep"), ("36601 days", None, "p_keep"), (None, "fine", "p_status"),
])
def test_bad_arguments_are_refused_before_anything_changes(owner: psycopg.Connection, stored: str, keep: str | None,
                                                           status: str | None, problem: str) -> None:
    with pytest.raises(psycopg.Error, match=problem):
        call(owner, "SELECT public.rotate_secret_version(%s, %s, %s::interval, %s, NULL)", (stored, NEW, keep, status))
    assert value_of(owner, stored) == OLD
    assert NEW not in [row[2] for row in vault_values(owner)]


def test_no_value_in_any_audit_row_and_every_step_audited(owner: psycopg.Connection, stored: str) -> None:
    mark = audit_watermark(owner)
    rotate(owner, stored, NEW, status="invalid")
    call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    history(owner, stored)
    rows = audit_rows(owner, mark)
    assert [r["access_type"] for r in rows if r["secret_name"] == stored] == ["rotate", "test", "rollback", "audit"]
    assert OLD not in repr(rows) and NEW not in repr(rows)


def test_a_value_changed_by_set_secret_since_is_a_version_that_was_not_kept(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW)
    owner.execute("RESET ROLE")
    owner.execute("UPDATE vault_bridge.secret_versions SET created_at = created_at - interval '1 minute'")
    become(owner, "service_role")
    call(owner, "SELECT public.set_secret(%s, %s)", (stored, "sk-proj-THIRDVALUE-0a9b8c7d6e5f"))
    versions = history(owner, stored)
    assert [(v["version"], v["current"], v["kept"]) for v in versions][:2] == [(3, True, False), (2, False, False)]


def test_rollout_progress_reads_the_resolves_since_the_change_and_says_when_it_changed_again(
    owner: psycopg.Connection, stored: str,
) -> None:
    owner.execute("RESET ROLE")
    owner.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, accessed_at) "
                  "VALUES (%s, 'resolve', true, 'default', 'gw-old', now() - interval '1 day')", (stored,))
    become(owner, "service_role")
    rotate(owner, stored, NEW)
    ((full,),) = call(owner, "SELECT public.secret_rollout(%s)", (stored,))
    assert [g["gateway"] for g in full["pending"]] == ["default/gw-old"]
    owner.execute("RESET ROLE")
    owner.execute("INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name) "
                  "VALUES (%s, 'resolve', true, 'default', 'gw-old')", (stored,))
    become(owner, "service_role")
    ((since,),) = call(owner, "SELECT public.secret_rollout_progress(%s, %s::timestamptz)", (stored, full["changed_at"]))
    assert [g["gateway"] for g in since["updated"]] == ["default/gw-old"]
    ((stale,),) = call(owner, "SELECT public.secret_rollout_progress(%s, now() - interval '1 hour')", (stored,))
    assert stale["updated"] is None and stale["changed_at"] == full["changed_at"]


def test_rollback_to_a_kept_value_deleted_behind_the_bridges_back_is_refused(owner: psycopg.Connection, stored: str) -> None:
    rotate(owner, stored, NEW)
    owner.execute("RESET ROLE")
    owner.execute("DELETE FROM vault.secrets WHERE id IN (SELECT value_id FROM vault_bridge.secret_versions WHERE value_id IS NOT NULL)")
    become(owner, "service_role")
    with pytest.raises(psycopg.Error, match="no longer in Vault"):
        call(owner, "SELECT public.rollback_secret_version(%s, NULL)", (stored,))
    assert value_of(owner, stored) == NEW
