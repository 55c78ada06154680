"""What `bridge run` adds to a program's start, against `bridge resolve` of the same ids, in one run.

An MCP client starts its servers through `bridge run` at every launch, so its cost is the time from spawn to
the program running. Both are spawned fresh, as installed by install.sh, against benchmarks/resolve_cold.py's
in-memory endpoint (so the database does not blur the comparison), alternating so that noise hits both. The
program is /bin/true, so the measured time is the bridge's own: credentials, one RPC for every id, the
environment, exec. Prints medians, the ratio run/resolve, and a PASS/MISS line for the aim (at most 1.25x).

    .venv/bin/python benchmarks/run_cold.py [--runs 15] [--ids 1,8,32]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.resolve_cold import PRESENT, SECRET_KEY, install, memory_endpoint  # noqa: E402

TARGET = 1.25


def spawn(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False, timeout=60)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[1]} failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--ids", default="1,8,32")
    args = parser.parse_args()
    counts = [int(n) for n in args.ids.split(",")]
    names = sorted(PRESENT)
    with tempfile.TemporaryDirectory() as home, contextlib.ExitStack() as stack:
        bridge = install(Path(home))
        url = stack.enter_context(memory_endpoint())
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "SUPABASE_URL": url, "SUPABASE_SECRET_KEY": SECRET_KEY}
        worst = 0.0
        for count in counts:
            chosen = names[:count]
            resolve = ([str(bridge), "resolve"], json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": chosen}).encode())
            run_argv = [str(bridge), "run", *[part for i, n in enumerate(chosen) for part in ("--env", f"V{i}={n}")], "--", "/bin/true"]
            spawn(resolve[0], env, resolve[1])
            spawn(run_argv, env, b"")
            times: dict[str, list[float]] = {"resolve": [], "run": []}
            for _ in range(args.runs):
                times["resolve"].append(spawn(resolve[0], env, resolve[1]))
                times["run"].append(spawn(run_argv, env, b""))
            resolved, ran = statistics.median(times["resolve"]), statistics.median(times["run"])
            worst = max(worst, ran / resolved)
            print(f"{count:>3} ids: bridge resolve {resolved * 1000:6.1f} ms, bridge run -- /bin/true {ran * 1000:6.1f} ms, "
                  f"{ran / resolved:.2f}x")
    print(f"{'PASS' if worst <= TARGET else 'MISS'}  bridge run <= {TARGET}x bridge resolve at every size")


if __name__ == "__main__":
    main()
