"""A gateway token resolving 512 names out of a vault of 10,000 secrets, with 1,000 tokens in the table.

Runs against a real PostgreSQL shaped like a Supabase project (the test
stack's, with setup.sql applied), and reports, in one run:
  * server time of resolve_secrets_with_token: EXPLAIN ANALYZE's execution
    time, as role anon with PostgREST's claims, median and p95 of --runs;
  * one `bridge`-side resolve through the PostgREST-shaped endpoint: the
    number of RPCs it took (must be 1) and its wall time on loopback;
and a PASS/MISS line for the target (server median <= 50 ms).

    .venv/bin/python benchmarks/token_resolve.py [--runs 20]
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

from bridge.core.credentials import Credentials  # noqa: E402
from bridge.core.deadline import Deadline  # noqa: E402
from bridge.vault.client import connect  # noqa: E402
from tests.support.api_role import become  # noqa: E402
from tests.support.pg import PgCluster, one  # noqa: E402
from tests.support.postgrest import Endpoint, ProjectKeys  # noqa: E402

SECRETS = 10_000
TOKENS = 1_000
NAMES = 512
TENANTS = 10
TARGET_MS = 50.0


def populate(pg: PgCluster) -> str:
    """10,000 secrets over ten tenants, 1,000 tokens over the same tenants; returns one token of tenant t0."""
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT vault.create_secret('value-' || i, 't' || (i %% %s) || '#NAME_' || lpad(i::text, 5, '0')) "
            "FROM generate_series(0, %s - 1) AS i",
            (TENANTS, SECRETS),
        )
    chosen = ""
    with pg.connect("authenticator", autocommit=True) as conn, conn.transaction():
        become(conn, "service_role")
        for i in range(TOKENS):
            token = "ocbt_" + secrets.token_urlsafe(32)
            conn.execute(
                "SELECT public.create_gateway_token(%s, %s, %s, ARRAY['NAME_*'])",
                (f"t{i % TENANTS}", f"gw-{i}", hashlib.sha256(token.encode()).hexdigest()),
            )
            chosen = chosen or token
    return chosen


def requested() -> list[str]:
    """512 names of tenant t0: every one exists (NAME_00000, NAME_00010, ...)."""
    return [f"NAME_{i:05d}" for i in range(0, NAMES * TENANTS, TENANTS)]


def server_times(pg: PgCluster, token: str, runs: int) -> tuple[list[float], int]:
    names = requested()
    times: list[float] = []
    found = 0
    with pg.connect("authenticator", autocommit=True) as conn:
        for _ in range(runs):
            with conn.transaction():
                become(conn, "anon", headers={"x-bridge-host": "bench", "x-bridge-provider": "supabase"})
                (plan,) = one(conn.execute(
                    "EXPLAIN (ANALYZE, FORMAT JSON) SELECT public.resolve_secrets_with_token(%s, %s)", (token, names)
                ))
                times.append(float(plan[0]["Execution Time"]))
        with conn.transaction():
            become(conn, "anon")
            (values,) = one(conn.execute("SELECT public.resolve_secrets_with_token(%s, %s)", (token, names)))
            found = len(values)
    return times, found


def one_rpc(pg: PgCluster, keys: ProjectKeys, token: str) -> tuple[int, float, int]:
    endpoint = Endpoint(pg.conninfo("authenticator"), keys).start()
    try:
        credentials = Credentials(url=endpoint.url, key=keys.publishable, token=token)
        before = endpoint.calls
        started = time.perf_counter()
        with connect(credentials, provider="bench", host="bench", connect_timeout=5, read_timeout=30,
                     deadline=Deadline.after(60), lean=True) as client:
            values = client.resolve_secrets(requested())
        return endpoint.calls - before, (time.perf_counter() - started) * 1000, len(values)
    finally:
        endpoint.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    pg = PgCluster.create()
    try:
        started = time.perf_counter()
        token = populate(pg)
        print(f"populated {SECRETS:,} secrets in {TENANTS} tenants and {TOKENS:,} tokens in {time.perf_counter() - started:.1f}s")
        times, found = server_times(pg, token, args.runs)
        calls, wall, answered = one_rpc(pg, ProjectKeys(), token)
    finally:
        pg.stop()
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(json.dumps({"names": NAMES, "found": found, "server_median_ms": round(median, 2), "server_p95_ms": round(p95, 2),
                      "rpc_calls": calls, "rpc_wall_ms": round(wall, 1), "rpc_values": answered}))
    print(f"token resolve of {NAMES} names ({found} found) from {SECRETS:,} secrets with {TOKENS:,} tokens: "
          f"server median {median:.1f} ms, p95 {p95:.1f} ms over {len(times)} runs; "
          f"through the endpoint {calls} RPC, {wall:.0f} ms on loopback")
    print(f"{'PASS' if median <= TARGET_MS and calls == 1 and found == NAMES else 'MISS'}  "
          f"one RPC and server median <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
