"""How long `bridge setup` takes, on a fresh database and on an upgrade from the previous release, against pasting
the same setup.sql as the SQL editor runs it (one script, one transaction), in one run.

`bridge setup` adds to the paste a process start, a connection over TCP, the version reads before and after,
and nothing else: the ratio shows that cost. Each run gets a new database in one throwaway cluster (the
tests' Supabase-shaped PostgreSQL); medians of --runs.

    .venv/bin/python benchmarks/setup_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.bridge_proc import BRIDGE  # noqa: E402
from tests.support.pg import SETUP_SQL, PgCluster  # noqa: E402
from tests.test_setup_upgrade import RELEASES, Database, create_database, drop_database, release_setup_sql  # noqa: E402


def timed_setup(database: Database) -> float:
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": "/nonexistent",
           "SUPABASE_DB_URL": f"postgresql://postgres@127.0.0.1:{database.pg.port}/{database.name}"}
    start = time.perf_counter()
    done = subprocess.run([str(BRIDGE), "setup"], env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bridge setup failed: {done.stderr.strip()}")
    return elapsed


def timed_paste(database: Database, script: str) -> float:
    start = time.perf_counter()
    database.paste(script)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    script = SETUP_SQL.read_text(encoding="utf-8")
    previous = release_setup_sql(RELEASES[-1])
    results: dict[str, list[float]] = {"fresh: bridge setup": [], "fresh: paste": [],
                                       "upgrade: bridge setup": [], "upgrade: paste": []}
    pg = PgCluster.create()
    try:
        for _ in range(args.runs):
            for kind in ("fresh", "upgrade"):
                for way in ("bridge setup", "paste"):
                    name = f"bench_{uuid.uuid4().hex[:8]}"
                    database = create_database(pg, name)
                    try:
                        if kind == "upgrade":
                            database.apply("postgres", previous)
                        took = timed_setup(database) if way == "bridge setup" else timed_paste(database, script)
                        results[f"{kind}: {way}"].append(took)
                    finally:
                        drop_database(pg, name)
    finally:
        pg.stop()
    medians = {key: statistics.median(values) for key, values in results.items()}
    for key, value in medians.items():
        print(f"{key:<24} median {value * 1000:7.0f} ms over {args.runs} runs")
    for kind in ("fresh", "upgrade"):
        ratio = medians[f"{kind}: bridge setup"] / medians[f"{kind}: paste"]
        print(f"{kind}: bridge setup / paste = {ratio:.2f}x (from schema version {RELEASES[-1].version if kind == 'upgrade' else 0})")


if __name__ == "__main__":
    main()
