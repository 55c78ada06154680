"""Rotation to the running gateway holding the new value, through `bridge watch`, at --interval 2s and the default.

The real stack: PostgreSQL shaped like a Supabase project, the PostgREST
stand-in, the real OpenClaw gateway (tests/support/gateway.py) whose own auth
token is an exec ref through the bridge. For each interval a watcher runs
beside it; each run rotates the gateway's token with `bridge secrets set` and
times until the watcher's `reload ok` line, which it writes only once the
gateway's own resolve had the new value from Supabase (delivery confirmed),
then checks that the gateway admits the new token. The reload's share: the
watcher's own timing of the `openclaw secrets reload` child, and the gateway's
log of the RPC (re-resolution and swap, without the CLI's start). Medians of
`--runs` (5).

    .venv/bin/python benchmarks/watch_rotation.py [--runs 5] [--intervals 2s,30s]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.bridge_proc import BRIDGE, run_bridge  # noqa: E402
from tests.support.gateway import TOKEN_ID, Gateway, running_gateway  # noqa: E402
from tests.support.openclaw import ensure_openclaw, openclaw_on_path  # noqa: E402
from tests.support.pg import PgCluster  # noqa: E402
from tests.support.postgrest import Endpoint, ProjectKeys  # noqa: E402

MODEL_KEY = "OPENAI_API_KEY"
RELOAD_OK = re.compile(r"reload ok in (\d+\.\d)s")
WAIT_S = 300.0
"""Only against a hang: one run at the default interval takes an interval, the settle and a reload."""


class Journal:
    """The watcher's stderr, line by line, each with the monotonic time it arrived."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with self._changed:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._changed.notify_all()

    def await_line(self, needle: str, after: int) -> int:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(needle in text for _, text in self.lines[after:]), timeout=WAIT_S)
            assert found, f"no {needle!r}; the watcher said {self.lines[-3:]}"
            return next(i for i in range(after, len(self.lines)) if needle in self.lines[i][1])


def put(pg: PgCluster, name: str, value: str) -> None:
    with pg.connect("postgres", autocommit=True) as conn:
        conn.execute("DELETE FROM vault.secrets WHERE name = %s", (name,))
        conn.execute("SELECT vault.create_secret(%s, %s)", (value, name))


def first_poll_done(state: Path, pid: int) -> bool:
    try:
        doc = json.loads(state.read_text())
    except (OSError, ValueError):
        return False
    return bool(doc.get("pid") == pid and doc.get("last_poll_ok") is True)


def measure(gw: Gateway, env: dict[str, str], bootstrap: dict[str, str], interval: str, runs: int) -> list[tuple[float, float, int]]:
    """(seconds from `secrets set` to the confirmed delivery, the reload child's seconds, the gateway's RPC ms)."""
    watcher = subprocess.Popen([str(BRIDGE), "watch", "--interval", interval], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal = Journal(watcher)
    state = Path(env["BRIDGE_HOME"]) / "watch-state.json"
    results: list[tuple[float, float, int]] = []
    try:
        ends = time.monotonic() + WAIT_S
        while not first_poll_done(state, watcher.pid):
            assert time.monotonic() < ends, "the watcher never polled"
            time.sleep(0.05)
        seen = len(journal.lines)
        for _ in range(runs):
            new = "gw-" + secrets.token_urlsafe(24)
            began = time.monotonic()
            assert run_bridge(["secrets", "set", TOKEN_ID], bootstrap, new.encode()).returncode == 0
            index = journal.await_line("reload ok", seen)
            arrived, line = journal.lines[index]
            match = RELOAD_OK.search(line)
            assert match is not None and gw.admits(new), line
            results.append((arrived - began, float(match.group(1)), gw.reload_rpc_ms()[-1]))
            print(f"  --interval {interval}: held after {arrived - began:.1f}s; reload {match.group(1)}s, "
                  f"in the gateway {gw.reload_rpc_ms()[-1]} ms", flush=True)
            seen = index + 1
    finally:
        watcher.terminate()
        watcher.wait(30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--intervals", default="2s,30s")
    args = parser.parse_args()
    openclaw = ensure_openclaw()
    pg = PgCluster.create()
    keys = ProjectKeys()
    endpoint = Endpoint(pg.conninfo("authenticator"), keys).start()
    try:
        with tempfile.TemporaryDirectory() as raw:
            tmp = Path(raw)
            home, bridge_home, trusted = tmp / "gw-home", tmp / "bridge-home", tmp / "provider"
            for directory in (home, bridge_home, trusted):
                directory.mkdir(mode=0o700)
            launcher = trusted / "bridge"
            launcher.write_text(f"#!{sys.executable} -I\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n")
            launcher.chmod(0o700)
            bootstrap = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home), "SUPABASE_URL": endpoint.url,
                         "SUPABASE_SECRET_KEY": keys.secret}
            put(pg, TOKEN_ID, "gw-" + secrets.token_urlsafe(24))
            put(pg, MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
            passed = {k: v for k, v in bootstrap.items() if k != "PATH"}
            with running_gateway(openclaw, home, launcher, passed, refs={"openai": MODEL_KEY}) as gw:
                wrapper = openclaw_on_path(openclaw, tmp / "bin")
                env = {**gw.env, **passed, "PATH": f"{wrapper.parent}:{gw.env['PATH']}"}
                figures = {}
                for interval in args.intervals.split(","):
                    figures[interval] = measure(gw, env, bootstrap, interval, args.runs)
        for interval, results in figures.items():
            held = statistics.median(r[0] for r in results)
            reload = statistics.median(r[1] for r in results)
            rpc = statistics.median(r[2] for r in results)
            print(f"--interval {interval}: rotation to the gateway holding it, median of {len(results)}: {held:.1f}s; "
                  f"the reload {reload:.1f}s of it ({100 * reload / held:.0f}%), {rpc:.0f} ms of that in the gateway")
    finally:
        endpoint.stop()
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
