"""The rollout query behind `bridge secrets rotate --wait`: 1,000 gateways, 10,000 secrets, 1,000,000 audit rows.

Runs against a real PostgreSQL shaped like a Supabase project (the test
stack's, with setup.sql applied): 10,000 secrets in ten tenants; the audit
log, written by 1,000 gateway tokens, holds a million successful resolves spread
over the last 30 days, of which every gateway's resolves of the rotated
secret (ten each). Then `rotate_secret_version` on that secret, and one
resolve each by half the gateways. --wait asks secret_rollout once (who was
seen in the 30 days before) and then polls secret_rollout_progress every 2 s
(who has resolved since); both are called as service_role with PostgREST's
claims, timed by EXPLAIN ANALYZE's execution time. Reports medians and p99s,
and a PASS/MISS line for the aim (the poll's median <= 20 ms at the server).

    .venv/bin/python benchmarks/rollout.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.api_role import become  # noqa: E402
from tests.support.pg import PgCluster, one  # noqa: E402

SECRETS = 10_000
TENANTS = 10
GATEWAYS = 1_000
AUDIT_ROWS = 1_000_000
RESOLVES_PER_GATEWAY = 10
"""Resolves of the rotated secret by each gateway in the 30 days before its rotation."""
TARGET = "t0#NAME_00000"
TARGET_MS = 20.0


def populate(pg: PgCluster) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT vault.create_secret('value-' || i, 't' || (i %% %s) || '#NAME_' || lpad(i::text, 5, '0')) "
            "FROM generate_series(0, %s - 1) AS i",
            (TENANTS, SECRETS),
        )
        conn.execute("SELECT public.set_secret(%s, 'value-0', NULL, NULL)", (TARGET,))
        background = AUDIT_ROWS - GATEWAYS * RESOLVES_PER_GATEWAY
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, accessed_at) "
            "SELECT 't' || (i %% %s) || '#NAME_' || lpad((1 + i %% (%s - 1))::text, 5, '0'), 'resolve', true, "
            "       't' || (i %% %s), 'gw-' || (i %% %s), now() - (i %% 2592000) * interval '1 second' "
            "FROM generate_series(1, %s) AS i",
            (TENANTS, SECRETS, TENANTS, GATEWAYS, background),
        )
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, accessed_at) "
            "SELECT %s, 'resolve', true, 't0', 'gw-' || g, now() - interval '1 day' * (1 + r) "
            "FROM generate_series(0, %s - 1) AS g, generate_series(0, %s - 1) AS r",
            (TARGET, GATEWAYS, RESOLVES_PER_GATEWAY),
        )
    with pg.connect("supabase_admin", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE public.vault_access_log")
        conn.execute("VACUUM ANALYZE vault.secrets")


def rotate_and_half_resolve(pg: PgCluster) -> None:
    with pg.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role", headers={"x-bridge-host": "bench"})
        conn.execute("SELECT public.rotate_secret_version(%s, 'value-0-rotated', NULL, NULL, NULL)", (TARGET,))
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.vault_access_log (secret_name, access_type, success, tenant, token_name, accessed_at) "
            "SELECT %s, 'resolve', true, 't0', 'gw-' || g, clock_timestamp() FROM generate_series(0, %s - 1, 2) AS g",
            (TARGET, GATEWAYS),
        )


def rollout_times(pg: PgCluster, calls: int) -> tuple[list[float], list[float], dict[str, int]]:
    """Server times of the full report (secret_rollout, once per --wait) and of the poll (secret_rollout_progress,
    every 2 s), and how many gateways each side of the full report has."""
    full: list[float] = []
    poll: list[float] = []
    with pg.connect("authenticator", autocommit=True) as conn:
        with conn.transaction():
            become(conn, "service_role")
            (answer,) = one(conn.execute("SELECT public.secret_rollout(%s)", (TARGET,)))
            (changed,) = one(conn.execute("SELECT updated_at FROM public.list_secrets(%s)", (TARGET,)))
        for query, args, times in (("SELECT public.secret_rollout(%s)", (TARGET,), full),
                                   ("SELECT public.secret_rollout_progress(%s, %s)", (TARGET, changed), poll)):
            for _ in range(calls):
                with conn.transaction():
                    become(conn, "service_role", headers={"x-bridge-host": "bench"})
                    (plan,) = one(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, args))
                    times.append(float(plan[0]["Execution Time"]))
    return full, poll, {side: len(answer[side]) for side in ("updated", "pending")}


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), sorted(times)[max(0, int(len(times) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    pg = PgCluster.create()
    try:
        started = time.perf_counter()
        populate(pg)
        rotate_and_half_resolve(pg)
        print(f"populated {SECRETS:,} secrets, {GATEWAYS:,} gateways' resolves and {AUDIT_ROWS:,} audit rows "
              f"in {time.perf_counter() - started:.1f}s")
        rollout_times(pg, 20)
        full, poll, sides = rollout_times(pg, args.calls)
    finally:
        pg.stop()
    full_median, full_p99 = summary(full)
    median, p99 = summary(poll)
    print(json.dumps({"gateways": GATEWAYS, "secrets": SECRETS, "audit_rows": AUDIT_ROWS, "poll_median_ms": round(median, 3),
                      "poll_p99_ms": round(p99, 3), "full_median_ms": round(full_median, 3), "full_p99_ms": round(full_p99, 3),
                      **sides}))
    print(f"a secret {GATEWAYS:,} gateways resolve, over {AUDIT_ROWS:,} audit rows: the poll (secret_rollout_progress) "
          f"server median {median:.3f} ms, p99 {p99:.3f} ms; the full report once per wait (secret_rollout) median "
          f"{full_median:.3f} ms, p99 {full_p99:.3f} ms; {len(poll)} calls each; polled every 2 s that is "
          f"{median / 2000 * 100:.2f}% of one core per waiting admin")
    ok = median <= TARGET_MS and sides == {"updated": GATEWAYS // 2, "pending": GATEWAYS // 2}
    print(f"{'PASS' if ok else 'MISS'}  server median <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
