"""`bridge audit --alerts` at 1,000,000 audit rows when one caller sends 10,000 made-up X-Bridge-Host values.

Runs against a real PostgreSQL shaped like a Supabase project (the test
stack's, with this checkout's setup.sql applied). The audit log is filled as
gateways fill it: resolves of 1,000 secrets from 20 hosts, evenly over 30
days, three rows in ten of them for one busy secret (300,000 earlier
resolves); then, within the last 24 hours, one resolve of that busy secret
from each of --new-hosts hosts never seen before (what a token holder who
makes up `X-Bridge-Host` values sends, well within its audit budget). Then
VACUUM ANALYZE, as autovacuum would have by then. Reports the server time of
read_access_alerts over the last 24 hours (what `bridge audit --alerts` and
doctor's alert line call): EXPLAIN ANALYZE's execution time as service_role,
median and p95 of --runs, with a PASS/MISS line against the aim (median <= 1 s).

A run longer than --timeout-s is cancelled and reported as such, so the
schema before version 9 (which walked the busy secret's history once per new
host) can be measured from an older checkout without waiting minutes a run.

    .venv/bin/python benchmarks/alerts_hosts.py [--runs 3] [--rows 1000000] [--new-hosts 10000] [--timeout-s 120]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.api_role import become  # noqa: E402
from tests.support.pg import PgCluster, one  # noqa: E402

SECRETS = 1_000
HOSTS = 20
DAYS = 30
BUSY = "NAME_0000"
AIM_MS = 1000.0
ALERTS = "SELECT * FROM public.read_access_alerts(now() - interval '24 hours')"


def populate_log(pg: PgCluster, rows: int, new_hosts: int) -> None:
    """`rows` audit rows in all: the usual resolves over DAYS (three in ten of BUSY), then one resolve of BUSY from
    each of `new_hosts` hosts never seen before, within the last day."""
    usual = rows - new_hosts
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, client) "
            "SELECT CASE WHEN i %% 10 < 3 THEN %s ELSE 'NAME_' || lpad((i %% %s)::text, 4, '0') END, "
            "       now() - random() * make_interval(days => %s), 'resolve', true, "
            "       jsonb_build_object('host', 'gw-host-' || (i %% %s), 'provider', 'supabase') "
            "FROM generate_series(1, %s) AS i",
            (BUSY, SECRETS, DAYS, HOSTS, usual),
        )
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, accessed_at, access_type, success, client) "
            "SELECT %s, now() - random() * interval '23 hours', 'resolve', true, "
            "       jsonb_build_object('host', 'made-up-' || i, 'provider', 'supabase') "
            "FROM generate_series(1, %s) AS i",
            (BUSY, new_hosts),
        )
    with pg.connect("supabase_admin", autocommit=True) as conn:
        # The test stack commits asynchronously; until the commits are flushed VACUUM may not mark a page all-visible,
        # which a production database (flushed long since) has.
        conn.execute("CHECKPOINT")
        conn.execute("VACUUM ANALYZE public.vault_access_log")
        conn.execute("VACUUM ANALYZE")


def timed(pg: PgCluster, runs: int, timeout_s: float) -> tuple[list[float | None], int]:
    """EXPLAIN ANALYZE execution times of read_access_alerts (None for a run cancelled at timeout_s), and how many
    new_host alerts a plain run returned (-1 when it was cancelled too)."""
    times: list[float | None] = []
    with pg.connect("authenticator", autocommit=True) as conn:
        for _ in range(runs):
            try:
                with conn.transaction():
                    become(conn, "service_role", headers={"x-bridge-host": "bench", "x-bridge-provider": "admin"})
                    conn.execute(f"SET LOCAL statement_timeout = '{int(timeout_s * 1000)}ms'")
                    (plan,) = one(conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {ALERTS}"))
                    times.append(float(plan[0]["Execution Time"]))
            except psycopg.errors.QueryCanceled:
                times.append(None)
        try:
            with conn.transaction():
                become(conn, "service_role")
                conn.execute(f"SET LOCAL statement_timeout = '{int(timeout_s * 1000)}ms'")
                answered = sum(1 for row in conn.execute(ALERTS).fetchall() if row[0] == "new_host")
        except psycopg.errors.QueryCanceled:
            answered = -1
    return times, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--new-hosts", type=int, default=10_000, help="hosts never seen before, one resolve each")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="a run longer than this is cancelled")
    args = parser.parse_args()
    pg = PgCluster.create()
    try:
        started = time.perf_counter()
        populate_log(pg, args.rows, args.new_hosts)
        with pg.connect("postgres") as conn:
            (version,) = one(conn.execute("SELECT public.vault_bridge_version()"))
            (busy,) = one(conn.execute("SELECT count(*) FROM public.vault_access_log WHERE secret_name = %s", (BUSY,)))
        print(f"schema version {version}: {args.rows:,} audit rows over {DAYS} days, {busy:,} of them resolves of {BUSY}, "
              f"{args.new_hosts:,} of those from new hosts in the last day; populated in {time.perf_counter() - started:.1f}s")
        times, alerted = timed(pg, args.runs, args.timeout_s)
    finally:
        pg.stop()
    done = [t for t in times if t is not None]
    median = statistics.median(done) if len(done) == len(times) else None
    figures = {
        "schema_version": version, "audit_rows": args.rows, "new_hosts": args.new_hosts, "new_host_alerts": alerted,
        "runs_ms": [None if t is None else round(t, 1) for t in times],
        "median_ms": None if median is None else round(median, 1),
        "p95_ms": None if median is None else round(sorted(done)[max(0, int(len(done) * 0.95) - 1)], 1),
    }
    print(json.dumps(figures))
    shown = f"median {figures['median_ms']} ms (p95 {figures['p95_ms']})" if median is not None else (
        f"{len(times) - len(done)} of {len(times)} runs cancelled after {args.timeout_s:g} s")
    print(f"read_access_alerts of 24 hours over {args.rows:,} audit rows with {args.new_hosts:,} new hosts: server {shown}, "
          f"{alerted} new_host alerts")
    ok = median is not None and median <= AIM_MS
    print(f"{'PASS' if ok else 'MISS'}  read_access_alerts server median <= {AIM_MS:g} ms")


if __name__ == "__main__":
    main()
