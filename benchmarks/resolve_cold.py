"""Cold-start cost of `bridge resolve` against a stdlib-only baseline, in one run.

Both resolvers are spawned fresh for every request, as the gateway spawns
them, and make the same single RPC to the same local endpoint, which answers
from memory so that the database does not blur the comparison. Runs alternate
between the two so that machine noise hits both alike; medians are reported.

    .venv/bin/python benchmarks/resolve_cold.py [--runs 25] [--keyring]

--latency-ms N delays every answer by N ms, as a real project's round trip does.
--keyring also measures the bridge with its credentials in a real GNOME
Keyring (needs dbus and gnome-keyring; the test suite installs them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BASELINE = Path(__file__).with_name("baseline_resolver.py")
SECRET_KEY = "sb_secret_BENCHMARK0123456789abcdef"
PRESENT_EVERY = 2


class Memory(BaseHTTPRequestHandler):
    """resolve_secrets answered from memory: every second name exists, after `latency` seconds."""

    protocol_version = "HTTP/1.1"
    latency = 0.0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_POST(self) -> None:  # noqa: N802
        args = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        time.sleep(self.latency)
        if self.path.endswith("/vault_bridge_version"):
            body = b"1"
        else:
            names = args["p_names"]
            body = json.dumps({n: f"value-of-{n}" for i, n in enumerate(names) if i % PRESENT_EVERY == 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def memory_endpoint(latency_ms: float = 0.0) -> Iterator[str]:
    handler = type("DelayedMemory", (Memory,), {"latency": latency_ms / 1000})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def install(home: Path) -> Path:
    """The launcher users run: install.sh's private venv, not this checkout's editable one."""
    prefix = home / "install"
    subprocess.run(
        [str(REPO / "install.sh"), "--prefix", str(prefix)], check=True, capture_output=True,
        env={**os.environ, "HOME": str(home), "PYTHON": sys.executable},
    )
    return prefix / "bridge"


def request(count: int) -> bytes:
    return json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": [f"KEY_{i:03d}" for i in range(count)]}).encode()


def timed(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or not json.loads(done.stdout)["values"]:
        raise SystemExit(f"{argv[0]} failed: {done.stderr.decode()[:300]}")
    return elapsed


def measure(runs: int, variants: dict[str, tuple[list[str], dict[str, str]]], count: int) -> dict[str, float]:
    stdin = request(count)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for name, (argv, env) in variants.items():
        timed(argv, env, stdin)  # warm the page cache, not the process
    for _ in range(runs):
        for name, (argv, env) in variants.items():
            samples[name].append(timed(argv, env, stdin))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--keyring", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay each answer, as a real project's round trip does (default 0: loopback)")
    args = parser.parse_args()

    with memory_endpoint(args.latency_ms) as url, contextlib.ExitStack() as stack:
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bridge-"))
        bridge = install(Path(home))
        base_env = {"PATH": "/usr/bin:/bin", "SUPABASE_URL": url, "SUPABASE_SECRET_KEY": SECRET_KEY}
        variants: dict[str, tuple[list[str], dict[str, str]]] = {
            "baseline (stdlib, env)": ([sys.executable, "-I", str(BASELINE)], base_env),
            "bridge (env)": ([str(bridge), "resolve"], {**base_env, "HOME": home}),
        }
        if args.keyring:
            from tests.support.keyring_session import keyring_session

            kr_env = stack.enter_context(keyring_session())
            kr_home = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bridge-kr-"))
            login_env = {**kr_env, "BRIDGE_HOME": kr_home}
            subprocess.run([str(bridge), "login", "--url", url, "--store", "keyring"], input=SECRET_KEY.encode(),
                           env=login_env, check=True, capture_output=True)
            gateway_env = {k: login_env[k] for k in ("PATH", "BRIDGE_HOME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")}
            variants["bridge (keyring)"] = ([str(bridge), "resolve"], gateway_env)

        print(f"cold resolve, median of {args.runs} runs each, endpoint latency {args.latency_ms:g} ms "
              f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
        print(f"{'ids':>5}  {'variant':<24} {'median ms':>10}  {'x baseline':>10}")
        for count in (1, 512):
            medians = measure(args.runs, variants, count)
            base = medians["baseline (stdlib, env)"]
            for name, value in medians.items():
                print(f"{count:>5}  {name:<24} {value * 1000:>10.1f}  {value / base:>10.2f}")


if __name__ == "__main__":
    main()
