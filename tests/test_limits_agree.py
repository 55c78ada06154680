"""The facts stated both in Python and in setup.sql are the same facts: one test instead of a comment asking for it."""

from __future__ import annotations

from bridge.core.limits import MAX_ID_CHARS, MAX_IDS
from bridge.core.names import DEFAULT_TENANT, TENANT_NAME, TENANT_SEPARATOR
from tests.support.pg import PgCluster


def test_setup_sql_states_the_same_limits_and_names(pg: PgCluster) -> None:
    with pg.connect("postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT vault_bridge.max_names_per_call(), vault_bridge.max_name_chars(), "
            "vault_bridge.tenant_separator(), vault_bridge.default_tenant(), vault_bridge.tenant_name_pattern()"
        )
        assert cur.fetchone() == (MAX_IDS, MAX_ID_CHARS, TENANT_SEPARATOR, DEFAULT_TENANT, f"^{TENANT_NAME.pattern}$")
