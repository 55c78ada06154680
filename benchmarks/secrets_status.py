"""`bridge secrets ls` and `bridge audit --alerts` at 10,000 secrets and 1,000,000 audit rows.

Runs against a real PostgreSQL shaped like a Supabase project (the test
stack's, with setup.sql applied). The audit log is filled as gateways fill
it: resolves of every secret from 20 hosts and 50 tokens, evenly over 90
days, one row in 50 a failure; then VACUUM ANALYZE, as autovacuum would have
by then. --days 30 puts every row in the 30 days the listing counts. Reports, in one run:
  * server time of list_secrets_status over all 10,000 secrets: EXPLAIN
    ANALYZE's execution time as service_role, median and p95 of --runs;
  * the same for read_access_alerts over the last 24 hours;
  * the same for resolve_secrets_with_token of 32 names before and after the
    audit log is filled, so the log's size is seen not to reach the resolve;
and a PASS/MISS line for the target (each listing's median <= 200 ms).

    .venv/bin/python benchmarks/secrets_status.py [--runs 10] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.api_role import become  # noqa: E402
from tests.support.pg import PgCluster, one  # noqa: E402

SECRETS = 10_000
HOSTS = 20
TOKENS = 50
DAYS = 90
TARGET_MS = 200.0
RESOLVED = 32


def populate_secrets(pg: PgCluster) -> str:
    """10,000 typed secrets with schedules, and TOKENS tokens; returns one token allowed every name."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("SELECT vault.create_secret('value-' || i, 'NAME_' || lpad(i::text, 5, '0')) "
                     "FROM generate_series(0, %s - 1) AS i", (SECRETS,))
        conn.execute(
            "INSERT INTO vault_bridge.secret_meta (secret_id, type, rotate_every, rotated_at) "
            "SELECT s.id, (ARRAY['openai', 'anthropic', 'aws', 'generic'])[1 + (row_number() OVER (ORDER BY s.name)) % 4], "
            "interval '90 days', now() - (random() * interval '120 days') FROM vault.secrets AS s "
            "ON CONFLICT (secret_id) DO UPDATE SET type = EXCLUDED.type, rotate_every = EXCLUDED.rotate_every, "
            "rotated_at = EXCLUDED.rotated_at"
        )
    chosen = ""
    with pg.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role")
        for i in range(TOKENS):
            token = "ocbt_" + secrets.token_urlsafe(32)
            conn.execute("SELECT public.create_gateway_token('bench', %s, %s, ARRAY['NAME_*'])",
                         (f"gw-{i}", hashlib.sha256(token.encode()).hexdigest()))
            chosen = chosen or token
    return chosen


def populate_log(pg: PgCluster, rows: int, days: int = DAYS) -> None:
    """`rows` audit rows as resolves write them, spread evenly over DAYS (a log kept that long): every fourth by a
    token, one in 50 a failure."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.vault_access_log "
            "(secret_name, accessed_at, access_type, success, error_message, client, tenant, token_name) "
            "SELECT 'NAME_' || lpad((i %% %s)::text, 5, '0'), "
            "       now() - random() * make_interval(days => %s), "
            "       'resolve', i %% 50 <> 0, CASE WHEN i %% 50 = 0 THEN 'not found' END, "
            "       jsonb_build_object('host', 'gw-host-' || (i %% %s), 'provider', 'supabase'), "
            "       CASE WHEN i %% 4 = 0 THEN 'bench' END, CASE WHEN i %% 4 = 0 THEN 'gw-' || (i %% %s) END "
            "FROM generate_series(1, %s) AS i",
            (SECRETS, days, HOSTS, TOKENS, rows),
        )
    with pg.connect("supabase_admin", autocommit=True) as conn:
        # The test stack commits asynchronously; until the commits are flushed VACUUM may not mark a page all-visible,
        # which a production database (flushed long since) has.
        conn.execute("CHECKPOINT")
        conn.execute("VACUUM ANALYZE public.vault_access_log")
        conn.execute("VACUUM ANALYZE vault_bridge.secret_meta")


def timed(pg: PgCluster, role: str, query: str, params: tuple[object, ...], runs: int) -> tuple[list[float], int]:
    """EXPLAIN ANALYZE execution times of `query` as `role`, and the rows its last plain run returned."""
    times: list[float] = []
    with pg.connect("authenticator", autocommit=True) as conn:
        for _ in range(runs):
            with conn.transaction():
                become(conn, role, headers={"x-bridge-host": "bench", "x-bridge-provider": "admin"})
                (plan,) = one(conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", params))
                times.append(float(plan[0]["Execution Time"]))
        with conn.transaction():
            become(conn, role)
            answered = len(conn.execute(query, params).fetchall())
    return times, answered


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), sorted(times)[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=DAYS, help=f"the days the audit rows span (default {DAYS})")
    args = parser.parse_args()
    names = [f"NAME_{i:05d}" for i in range(RESOLVED)]
    resolve = "SELECT public.resolve_secrets_with_token(%s, %s)"
    pg = PgCluster.create()
    try:
        started = time.perf_counter()
        token = populate_secrets(pg)
        resolve_empty, _ = timed(pg, "anon", resolve, (token, names), args.runs)
        populate_log(pg, args.rows, args.days)
        print(f"populated {SECRETS:,} secrets and {args.rows:,} audit rows over {args.days} days in {time.perf_counter() - started:.1f}s")
        listing, listed = timed(pg, "service_role", "SELECT * FROM public.list_secrets_status()", (), args.runs)
        alerts, alerted = timed(pg, "service_role", "SELECT * FROM public.read_access_alerts(now() - interval '24 hours')",
                                (), args.runs)
        resolve_full, _ = timed(pg, "anon", resolve, (token, names), args.runs)
    finally:
        pg.stop()
    figures = {
        "secrets": SECRETS, "audit_rows": args.rows, "days": args.days, "listed": listed, "alerts": alerted,
        "status_median_ms": round(summary(listing)[0], 1), "status_p95_ms": round(summary(listing)[1], 1),
        "alerts_median_ms": round(summary(alerts)[0], 1), "alerts_p95_ms": round(summary(alerts)[1], 1),
        "resolve_median_ms_empty_log": round(summary(resolve_empty)[0], 2),
        "resolve_median_ms_full_log": round(summary(resolve_full)[0], 2),
    }
    print(json.dumps(figures))
    print(f"list_secrets_status of {listed:,} secrets over {args.rows:,} audit rows: server median "
          f"{figures['status_median_ms']} ms (p95 {figures['status_p95_ms']}); read_access_alerts of 24 hours: median "
          f"{figures['alerts_median_ms']} ms, {alerted} alerts; a {RESOLVED}-name token resolve: "
          f"{figures['resolve_median_ms_empty_log']} ms on an empty log, {figures['resolve_median_ms_full_log']} ms on the full one")
    ok = max(figures["status_median_ms"], figures["alerts_median_ms"]) <= TARGET_MS and listed == SECRETS
    print(f"{'PASS' if ok else 'MISS'}  list_secrets_status and read_access_alerts server median <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
