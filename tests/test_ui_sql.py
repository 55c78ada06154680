"""setup.sql's list_secrets_page, the one call behind a page of `bridge ui`'s secrets table: filters, count, pages,
tenants, and who may call it. Inside one rolled-back transaction, as service_role (PostgREST's role for the key)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.support.api_role import become, call
from tests.test_lifecycle_sql import set_secret
from tests.test_setup_admin import unique
from tests.test_setup_sql import PLAINTEXT


def page(conn: psycopg.Connection, **filters: Any) -> dict[str, Any]:
    args = {"search": None, "tenant": None, "type": None, "status": None, "due": None, "limit": 50, "offset": 0, **filters}
    ((answer,),) = call(conn, "SELECT public.list_secrets_page(%s, %s, %s, %s, %s, %s, %s)", tuple(args.values()))
    result: dict[str, Any] = answer
    return result


def names(answer: dict[str, Any]) -> list[str]:
    return [row["name"] for row in answer["rows"]]


def test_filters_count_and_pages_over_the_metadata(db: psycopg.Connection) -> None:
    become(db, "service_role")
    tag = unique("PAGE").lower()
    made = [f"{tag}_{i:02d}".upper() for i in range(7)]
    for i, name in enumerate(made):
        set_secret(db, name, PLAINTEXT, {"type": "openai" if i % 2 else "generic"}, description="team key" if i == 3 else None)
    call(db, "SELECT public.record_secret_check(%s, 'ok', 'fine', now())", (made[1],))
    call(db, "SELECT public.record_secret_check(%s, 'invalid', 'refused', now())", (made[3],))
    call(db, "SELECT public.set_secret(%s, NULL, NULL, %s)", (made[5], json.dumps({"expires_at": "2000-01-01T00:00:00Z"})))

    everything = page(db, search=tag)
    assert everything["total"] == 7 and names(everything) == made, "case-insensitive search, ordered by name"
    assert "default" in everything["tenants"]
    assert set(everything["rows"][0]) >= {"name", "type", "status", "last_used_at", "uses", "failures", "gateways", "due", "due_at"}
    second = page(db, search=tag, limit=3, offset=3)
    assert second["total"] == 7 and names(second) == made[3:6]
    assert names(page(db, search=tag, type="openai")) == made[1::2]
    assert names(page(db, search=tag, status="ok")) == [made[1]]
    assert names(page(db, search=tag, status="invalid")) == [made[3]]
    assert names(page(db, search=tag, status="untested")) == [made[5]], "generic secrets are never untested: nothing to test"
    assert names(page(db, search=tag, due="expired")) == names(page(db, search=tag, due="any")) == [made[5]]
    assert names(page(db, search="TEAM KEY", tenant="default")) == [made[3]], "the description is searched too"
    assert page(db, search=tag, tenant="acme")["total"] == 0
    assert page(db, search="no-such-secret-anywhere")["rows"] == []


def test_a_tenants_page_holds_its_names_only(owner: psycopg.Connection) -> None:
    become(owner, "service_role")
    tag = unique("TEN").upper()
    set_secret(owner, tag, PLAINTEXT)
    call(owner, "SELECT public.set_secret(%s, %s, NULL, NULL)", (f"acme#{tag}", PLAINTEXT))
    assert names(page(owner, search=tag, tenant="acme")) == [f"acme#{tag}"]
    assert names(page(owner, search=tag, tenant="default")) == [tag]
    assert {"acme", "default"} <= set(page(owner, search=tag)["tenants"])


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_only_service_role_may_call_it(db: psycopg.Connection, role: str) -> None:
    become(db, role)
    with pytest.raises(errors.InsufficientPrivilege):
        page(db)


def usage(conn: psycopg.Connection, names: list[str], days: int = 30) -> dict[str, Any]:
    ((answer,),) = call(conn, "SELECT public.secret_usage_days(%s, %s)", (names, days))
    result: dict[str, Any] = answer
    return result


def test_usage_by_day_counts_what_the_audit_rows_say(owner: psycopg.Connection) -> None:
    """The chart's one call: resolves and failures per UTC day over the window, and the rotations, as rows inserted
    at known days say; a row before the window and another secret's rows are not counted."""
    name, other = unique("CHART").upper(), unique("CHART").upper()
    rows = [(name, 0, "resolve", True, 1)] * 3 + [(name, 0, "resolve", False, 2), (name, 2, "retrieve", False, 1),
                                                   (name, 5, "resolve", True, 1), (name, 29, "resolve", True, 1),
                                                   (name, 30, "resolve", True, 1), (name, 4, "rotate", True, 1),
                                                   (name, 3, "list", True, 1), (other, 0, "resolve", True, 1)]
    with owner.cursor() as cur:
        for secret, days_ago, kind, ok, count in rows:
            cur.execute(
                "INSERT INTO public.vault_access_log (secret_name, access_type, success, name_count, accessed_at) "
                "VALUES (%s, %s, %s, %s, date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
                "- %s * interval '1 day' + interval '1 hour')", (secret, kind, ok, count, days_ago))
    become(owner, "service_role")
    answer = usage(owner, [name, "NO_SUCH_" + name])
    assert answer["days"] == 30 and len(answer["secrets"]) == 2
    chart = answer["secrets"][name]
    resolves, failures = chart["resolves"], chart["failures"]
    assert len(resolves) == len(failures) == 30
    assert resolves[29] == 3 and resolves[24] == 1 and resolves[0] == 1 and sum(resolves) == 5, resolves
    assert failures[29] == 2 and failures[27] == 1 and sum(failures) == 3, failures
    assert len(chart["rotations"]) == 1 and chart["rotations"][0].startswith(str(answer["first_day"])[:4])
    assert answer["secrets"]["NO_SUCH_" + name] == {"resolves": [0] * 30, "failures": [0] * 30, "rotations": []}
    assert usage(owner, [])["secrets"] == {}
    with pytest.raises(errors.InvalidParameterValue):
        usage(owner, [name] * 513)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_only_service_role_may_read_usage(db: psycopg.Connection, role: str) -> None:
    become(db, role)
    with pytest.raises(errors.InsufficientPrivilege):
        usage(db, ["X"])


def test_the_list_page_and_its_sparklines_are_one_call(db: psycopg.Connection) -> None:
    become(db, "service_role")
    tag = unique("SPARK").upper()
    for i in range(3):
        set_secret(db, f"{tag}_{i}", PLAINTEXT)
    args = (tag, None, None, None, None, 2, 0, 30)
    ((answer,),) = call(db, "SELECT public.list_secrets_page_usage(%s, %s, %s, %s, %s, %s, %s, %s)", args)
    assert answer["total"] == 3 and names(answer) == [f"{tag}_0", f"{tag}_1"]
    assert set(answer["usage"]["secrets"]) == {f"{tag}_0", f"{tag}_1"}, "usage of the page's rows, no others"
    assert answer["usage"]["days"] == 30 and answer["usage"]["secrets"][f"{tag}_0"]["resolves"] == [0] * 30
    ((empty,),) = call(db, "SELECT public.list_secrets_page_usage(%s)", ("no-such-secret-anywhere",))
    assert empty["rows"] == [] and empty["usage"]["secrets"] == {}
