"""`bridge ui`'s pages at 10,000 secrets and 1,000,000 audit rows, with their usage charts: server time per page.

The project is the one benchmarks/secrets_status.py builds (the test stack's PostgreSQL with setup.sql, and
its PostgREST stand-in in front). The dashboard runs in process behind its own security middleware, logged
in as a browser would be; each page's server time is the `Server-Timing: app` the middleware stamps when the
answer starts (the listing call through PostgREST, the filtering and the template). In the same run, as the
baseline, the server time of `list_secrets_status`, the listing of every secret a page would cost if it cut
its page from all of them, and the database's own time for the page (`list_secrets_page`) and for its 50
sparklines and a secret's chart (`secret_usage_days`). Prints medians and p95s,
each page's ratio to the baseline, and a PASS/MISS line for the target (every page's median <= 300 ms).

    .venv/bin/python benchmarks/ui_secrets_page.py [--runs 10] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from starlette.testclient import TestClient  # noqa: E402

from benchmarks.secrets_status import SECRETS, populate_log, populate_secrets, timed  # noqa: E402
from bridge.app.context import Context  # noqa: E402
from bridge.web.app import create_app  # noqa: E402
from bridge.web.backend import AdminBackend  # noqa: E402
from bridge.web.security import Session  # noqa: E402
from tests.support.pg import PgCluster  # noqa: E402
from tests.support.postgrest import Endpoint, ProjectKeys  # noqa: E402

TARGET_MS = 300.0
PORT = 8765
"""Only the Host the middleware checks: nothing listens, the client calls the app in process."""
PAGES = {
    "first page": "/secrets",
    "page 100 of 200": "/secrets?page=100",
    "search 'NAME_09'": "/secrets?q=NAME_09",
    "type openai, overdue": "/secrets?type=openai&due=overdue",
    "one secret, with its chart": "/secrets/default/NAME_04242",
}


def page_times(client: TestClient, path: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        answer = client.get(path)
        assert answer.status_code == 200, answer.text[:200]
        times.append(float(answer.headers["server-timing"].split("dur=")[1]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    pg = PgCluster.create()
    keys = ProjectKeys()
    endpoint = Endpoint(pg.conninfo("authenticator"), keys).start()
    try:
        started = time.perf_counter()
        populate_secrets(pg)
        populate_log(pg, args.rows)
        print(f"populated {SECRETS:,} secrets and {args.rows:,} audit rows in {time.perf_counter() - started:.1f}s")
        baseline, listed = timed(pg, "service_role", "SELECT * FROM public.list_secrets_status()", (), args.runs)
        in_sql, _ = timed(pg, "service_role", "SELECT public.list_secrets_page(NULL, NULL, NULL, NULL, NULL, 50, 0)", (), args.runs)
        sparklines, _ = timed(pg, "service_role", "SELECT public.secret_usage_days(%s, 30)",
                              ([f"NAME_{i:05d}" for i in range(50)],), args.runs)
        with_usage, _ = timed(pg, "service_role", "SELECT public.list_secrets_page_usage(NULL, NULL, NULL, NULL, NULL, 50, 0, 30)",
                              (), args.runs)
        one_chart, _ = timed(pg, "service_role", "SELECT public.secret_usage_days(ARRAY['NAME_04242'], 30)", (), args.runs)
        with tempfile.TemporaryDirectory() as home:
            env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": home, "SUPABASE_URL": endpoint.url, "SUPABASE_SECRET_KEY": keys.secret}
            ctx = Context(env=env, stdin=None, stdout=io.StringIO(), stderr=io.StringIO(), started=time.monotonic())
            session = Session(port=PORT)
            with TestClient(create_app(AdminBackend(ctx, "supabase"), session), base_url=f"http://127.0.0.1:{PORT}") as client:
                assert client.get(f"/login?token={session.login_token}", follow_redirects=False).status_code == 200
                client.get(session.root + "/secrets")  # warm: imports, template compilation, the first connection
                results = {label: page_times(client, session.root + path, args.runs) for label, path in PAGES.items()}
    finally:
        endpoint.stop()
        pg.stop()
    base = statistics.median(baseline)
    figures: dict[str, object] = {"secrets": listed, "audit_rows": args.rows, "baseline_median_ms": round(base, 1)}
    print(f"baseline: list_secrets_status of {listed:,} secrets, server median {base:.1f} ms")
    figures["list_secrets_page_median_ms"] = round(statistics.median(in_sql), 1)
    figures["usage_50_sparklines_median_ms"] = round(statistics.median(sparklines), 1)
    figures["usage_one_chart_median_ms"] = round(statistics.median(one_chart), 1)
    figures["list_secrets_page_usage_median_ms"] = round(statistics.median(with_usage), 1)
    print(f"in the database, per page: list_secrets_page {figures['list_secrets_page_median_ms']} ms, "
          f"secret_usage_days for 50 sparklines {figures['usage_50_sparklines_median_ms']} ms, "
          f"for one chart {figures['usage_one_chart_median_ms']} ms; the page's one call, list_secrets_page_usage, "
          f"{figures['list_secrets_page_usage_median_ms']} ms")
    worst = 0.0
    for label, times in results.items():
        median, p95 = statistics.median(times), sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        worst = max(worst, median)
        figures[label] = {"median_ms": round(median, 1), "p95_ms": round(p95, 1), "x_baseline": round(median / base, 2)}
        print(f"{label:<24} median {median:6.1f} ms  p95 {p95:6.1f} ms  {median / base:.2f}x baseline")
    print(json.dumps(figures))
    print(f"{'PASS' if worst <= TARGET_MS and listed == SECRETS else 'MISS'}  every page's server median <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
