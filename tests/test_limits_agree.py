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


def test_setup_sql_states_the_same_lifecycle_rules(pg: PgCluster) -> None:
    from bridge.admin.audit import DEFAULT_ALERT_SINCE
    from bridge.admin.secrets import DEFAULT_DUE_WITHIN
    from bridge.checks.server import ALERT_HOURS
    from bridge.core.durations import parse_duration
    from bridge.core.policy import MAX_POLICY_S
    from bridge.core.secret_types import CHECK_STATUSES, ONE_LINE_CHARS, SECRET_TYPES

    with pg.connect("postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT vault_bridge.secret_types(), vault_bridge.check_statuses(), "
            "EXTRACT(epoch FROM vault_bridge.max_policy_interval())::bigint, EXTRACT(epoch FROM vault_bridge.due_window())::bigint, "
            "vault_bridge.max_check_message_chars()"
        )
        types, statuses, max_policy, due_window, message_chars = cur.fetchone() or ()
    assert (types, statuses, max_policy) == (list(SECRET_TYPES), list(CHECK_STATUSES), MAX_POLICY_S)
    # `bridge secrets due` and doctor warn over the window the database calls due.
    assert parse_duration("--within", DEFAULT_DUE_WITHIN) == due_window
    # A message the bridge makes is never cut by the database, which only bounds what any caller stores.
    assert message_chars >= ONE_LINE_CHARS
    assert parse_duration("--since", DEFAULT_ALERT_SINCE) == ALERT_HOURS * 3600
