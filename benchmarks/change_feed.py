"""The change feed `bridge watch` polls: 1,000 watchers of 20 names each over 10,000 secrets.

Runs against a real PostgreSQL shaped like a Supabase project (the test
stack's, with setup.sql applied): 10,000 secrets in ten tenants, 1,000
gateway tokens, and a million-row audit log is not needed (the feed reads
none of it). Each watcher's call is changed_secrets_with_token as role anon
with PostgREST's claims, 20 names of its tenant, since a minute ago; one call
per watcher, in turn, timed by EXPLAIN ANALYZE's execution time. Reports the
median and p99, what a fleet polling every 30 s costs the database in cores,
and a PASS/MISS line for the aim (median <= 2 ms).

    .venv/bin/python benchmarks/change_feed.py [--watchers 1000] [--interval 30]
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
TENANTS = 10
NAMES_PER_WATCHER = 20
TARGET_MS = 2.0


def populate(pg: PgCluster, watchers: int) -> list[tuple[str, list[str]]]:
    """The secrets, and per watcher a token of its tenant allowed the 20 names it watches."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT vault.create_secret('value-' || i, 't' || (i %% %s) || '#NAME_' || lpad(i::text, 5, '0')) "
            "FROM generate_series(0, %s - 1) AS i",
            (TENANTS, SECRETS),
        )
    per_tenant = SECRETS // TENANTS
    fleet: list[tuple[str, list[str]]] = []
    with pg.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role")
        for w in range(watchers):
            tenant = w % TENANTS
            first = (w * NAMES_PER_WATCHER) % per_tenant
            names = [f"NAME_{(tenant + TENANTS * ((first + k) % per_tenant)):05d}" for k in range(NAMES_PER_WATCHER)]
            token = "ocbt_" + secrets.token_urlsafe(32)
            conn.execute("SELECT public.create_gateway_token(%s, %s, %s, %s)",
                         (f"t{tenant}", f"gw-{w}", hashlib.sha256(token.encode()).hexdigest(), names))
            fleet.append((token, names))
    with pg.connect("supabase_admin", autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("VACUUM ANALYZE vault.secrets")
        conn.execute("VACUUM ANALYZE vault_bridge.gateway_tokens")
    return fleet


def poll_times(pg: PgCluster, fleet: list[tuple[str, list[str]]]) -> tuple[list[float], int]:
    times: list[float] = []
    changed = 0
    with pg.connect("authenticator", autocommit=True) as conn:
        for token, names in fleet:
            with conn.transaction():
                become(conn, "anon", headers={"x-bridge-host": "bench", "x-bridge-provider": "watch"})
                (plan,) = one(conn.execute(
                    "EXPLAIN (ANALYZE, FORMAT JSON) SELECT public.changed_secrets_with_token(%s, %s, now() - interval '1 minute')",
                    (token, names),
                ))
                times.append(float(plan[0]["Execution Time"]))
        with conn.transaction():
            become(conn, "anon")
            token, names = fleet[0]
            (answer,) = one(conn.execute("SELECT public.changed_secrets_with_token(%s, %s, NULL)", (token, names)))
            changed = len(answer["changed"])
    return times, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between a watcher's polls (default 30)")
    args = parser.parse_args()
    pg = PgCluster.create()
    try:
        started = time.perf_counter()
        fleet = populate(pg, args.watchers)
        print(f"populated {SECRETS:,} secrets in {TENANTS} tenants and {args.watchers:,} tokens in {time.perf_counter() - started:.1f}s")
        poll_times(pg, fleet[:50])
        times, changed = poll_times(pg, fleet)
    finally:
        pg.stop()
    median = statistics.median(times)
    p99 = sorted(times)[max(0, int(len(times) * 0.99) - 1)]
    cores = statistics.mean(times) / 1000 * args.watchers / args.interval
    print(json.dumps({"watchers": args.watchers, "names": NAMES_PER_WATCHER, "secrets": SECRETS, "median_ms": round(median, 3),
                      "p99_ms": round(p99, 3), "fleet_core_percent": round(cores * 100, 2), "first_poll_changed": changed}))
    print(f"change feed, {NAMES_PER_WATCHER} names per call over {SECRETS:,} secrets: server median {median:.3f} ms, "
          f"p99 {p99:.3f} ms over {len(times)} watchers; {args.watchers:,} watchers every {args.interval:g}s cost "
          f"{cores * 100:.2f}% of one core")
    print(f"{'PASS' if median <= TARGET_MS and changed == NAMES_PER_WATCHER else 'MISS'}  server median <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
