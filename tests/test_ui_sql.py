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
