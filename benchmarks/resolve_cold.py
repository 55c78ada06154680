"""Cold-start cost of `bridge resolve` against a stdlib-only baseline and the seed's Node peer, in one run.

Every resolver is spawned fresh for every request, as the gateway spawns
them, against one local endpoint that answers from memory so that the
database does not blur the comparison. Runs alternate between the resolvers
so that machine noise hits all alike; medians are reported, with the ratios
bridge/baseline and bridge/Node peer, and one PASS/MISS line per target.

    .venv/bin/python benchmarks/resolve_cold.py [--runs 15] [--ids 1,32,512] [--keyring] [--latency-ms 50] [--no-node]

The resolvers:
  baseline      benchmarks/baseline_resolver.py: stdlib only, one resolve_secrets RPC, no checks
  bridge        `bridge resolve` as install.sh installs it (a private venv and launcher)
  bridge (keyring)  the same with its credentials in a real GNOME Keyring (--keyring; needs
                dbus and gnome-keyring, which the test suite installs)
  Node peer     benchmarks/node_peer/: the seed's design, supabase-js and one get_secret RPC
                per id in turn, on the Node 24 the OpenClaw tests use (.test-tools/, installed
                on first use with npm; the peer's packages with `npm ci`). --no-node skips it.

--latency-ms N delays every answer by N ms, as a real project's round trip
does; the Node peer pays it once per id, the others once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
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
NODE_PEER = Path(__file__).with_name("node_peer")
NODE_PEER_ENTRY = NODE_PEER / "fetch-secrets.mjs"
SUPABASE_JS = Path("node_modules/@supabase/supabase-js/package.json")
SECRET_KEY = "sb_secret_BENCHMARK0123456789abcdef"
MAX_IDS = 512  # OpenClaw's maxRefsPerProvider, and resolve_secrets' limit
MAX_BODY = 1 << 20  # the endpoint reads no request body larger than this
RUN_TIMEOUT_S = 300  # one spawn; the Node peer at 512 ids and 50 ms takes ~26 s
BASELINE_NAME = "baseline (stdlib, env)"
BRIDGE_ENV = "bridge (env)"
BRIDGE_KEYRING = "bridge (keyring)"
NODE_NAME = "node peer (supabase-js)"
SLOW_TARGET = 1.6
SLOW_TARGET_IDS = (1, 512)
NODE_TARGET_IDS = (1, 32, 512)


def secret_id(i: int) -> str:
    return f"KEY_{i:03d}"


# Every second name exists, decided by the name alone so that both RPCs agree.
PRESENT = {secret_id(i): f"value-of-{secret_id(i)}" for i in range(0, MAX_IDS, 2)}


def postgrest_error(code: str, message: str) -> dict[str, object]:
    return {"code": code, "details": None, "hint": None, "message": message}


class Memory(BaseHTTPRequestHandler):
    """The three RPCs the resolvers make, answered from memory after `latency` seconds each.

    resolve_secrets(p_names) -> {name: value} for the names that exist;
    get_secret(p_name) -> the value as a JSON string, or 404 with PostgREST's PT404 body;
    vault_bridge_version() -> 1. Anything else gets PostgREST's 404 PGRST202.
    Each answer goes out in one write on a TCP_NODELAY socket, as from Supabase's
    gateway: headers and body in two writes would let Nagle's algorithm and the
    client's delayed ACK add ~40 ms to every request on a kept-alive connection.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60  # an idle kept-alive connection holds its thread no longer
    latency = 0.0

    def log_message(self, format: str, *args: object) -> None:
        return

    def answer(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} {self.responses[status][0]}", "Content-Type: application/json; charset=utf-8",
                f"Content-Length: {len(body)}"]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True  # the unread body would be taken for the next request
            self.answer(413, postgrest_error("PGRST413", "request body missing a length or larger than 1 MiB"))
            return
        raw = self.rfile.read(int(length))
        time.sleep(self.latency)
        if self.headers.get("apikey") != SECRET_KEY:
            self.answer(401, postgrest_error("PGRST301", "invalid api key"))
            return
        try:
            args = json.loads(raw or b"{}")
        except ValueError:
            self.answer(400, postgrest_error("PGRST102", "invalid JSON body"))
            return
        route = self.path.partition("?")[0]
        if not isinstance(args, dict):
            self.answer(400, postgrest_error("PGRST102", "arguments must be a JSON object"))
        elif route == "/rest/v1/rpc/vault_bridge_version":
            self.answer(200, 1)
        elif route == "/rest/v1/rpc/resolve_secrets":
            names = args.get("p_names")
            if not isinstance(names, list) or len(names) > MAX_IDS or not all(isinstance(n, str) for n in names):
                self.answer(400, postgrest_error("P0001", f"p_names must be a list of at most {MAX_IDS} names"))
            else:
                self.answer(200, {n: PRESENT[n] for n in names if n in PRESENT})
        elif route == "/rest/v1/rpc/get_secret":
            name = args.get("p_name")
            if isinstance(name, str) and name in PRESENT:
                self.answer(200, PRESENT[name])
            else:
                self.answer(404, postgrest_error("PT404", f"secret {str(name)[:256]} not found"))
        else:
            self.answer(404, postgrest_error("PGRST202", f"Could not find the function {route[:256]} in the schema cache"))


@contextlib.contextmanager
def memory_endpoint(latency_ms: float = 0.0) -> Iterator[str]:
    """The endpoint on 127.0.0.1 only, for the length of the block."""
    handler = type("DelayedMemory", (Memory,), {"latency": latency_ms / 1000})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def install(home: Path) -> Path:
    """The launcher users run: install.sh's private venv, not this checkout's editable one."""
    prefix = home / "install"
    subprocess.run(
        [str(REPO / "install.sh"), "--prefix", str(prefix)], check=True, capture_output=True,
        env={**os.environ, "HOME": str(home), "PYTHON": sys.executable},
    )
    return prefix / "bridge"


def node_peer() -> tuple[list[str], str]:
    """argv of the Node peer and Node's version: Node 24 as the OpenClaw tests install it, then `npm ci` here."""
    from tests.support.openclaw import NODE_BIN, NODE_PACKAGE, TOOLS, _npm_install

    _npm_install(NODE_PACKAGE, TOOLS / "node", NODE_BIN)  # reused when .test-tools/ has it
    node = TOOLS / "node" / NODE_BIN
    pinned = json.loads((NODE_PEER / "package.json").read_text())["dependencies"]["@supabase/supabase-js"]
    installed = NODE_PEER / SUPABASE_JS
    if not installed.is_file() or json.loads(installed.read_text())["version"] != pinned:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install the Node peer's packages; install Node.js/npm, or pass --no-node")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_PEER, capture_output=True, text=True,
            env={**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}, timeout=600, check=False,
        )
        if done.returncode != 0 or not installed.is_file():
            raise SystemExit(f"npm ci in {NODE_PEER} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return [str(node), str(NODE_PEER_ENTRY)], version


def request(count: int) -> bytes:
    return json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": [secret_id(i) for i in range(count)]}).encode()


def timed(name: str, argv: list[str], env: dict[str, str], stdin: bytes, count: int) -> float:
    """One cold spawn, checked: every id answered, and exactly the values that exist."""
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False, timeout=RUN_TIMEOUT_S)
    elapsed = time.perf_counter() - start
    try:
        answer = json.loads(done.stdout)
        ids = [secret_id(i) for i in range(count)]
        ok = (done.returncode == 0 and answer["values"] == {i: PRESENT[i] for i in ids if i in PRESENT}
              and all(i in answer["values"] or i in answer["errors"] for i in ids))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise SystemExit(f"{name} gave a wrong answer (exit {done.returncode}): {done.stderr.decode(errors='replace')[:300]}"
                         f"{done.stdout.decode(errors='replace')[:300]}")
    return elapsed


def measure(runs: int, variants: dict[str, tuple[list[str], dict[str, str]]], count: int) -> dict[str, float]:
    stdin = request(count)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for name, (argv, env) in variants.items():
        timed(name, argv, env, stdin, count)  # warm the page cache, not the process
    for _ in range(runs):
        for name, (argv, env) in variants.items():
            samples[name].append(timed(name, argv, env, stdin, count))
    return {name: statistics.median(values) for name, values in samples.items()}


def ratio(r: float) -> str:
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"


def ratios(results: dict[int, dict[str, float]], variant: str, other: str, sizes: tuple[int, ...]) -> dict[int, float] | None:
    if not all(n in results and other in results[n] for n in sizes):
        return None
    return {n: results[n][variant] / results[n][other] for n in sizes}


def verdicts(results: dict[int, dict[str, float]], bridges: list[str]) -> list[str]:
    lines = []
    for bridge in bridges:
        slow = ratios(results, bridge, BASELINE_NAME, SLOW_TARGET_IDS)
        node = ratios(results, bridge, NODE_NAME, NODE_TARGET_IDS)
        for label, got, passed in (
            (f"bridge <= {SLOW_TARGET}x baseline at 1 and 512 ids", slow,
             slow is not None and all(r <= SLOW_TARGET for r in slow.values())),
            ("bridge faster than the Node peer at 1, 32, 512 ids", node,
             node is not None and all(r < 1 for r in node.values())),
        ):
            verdict = "SKIP" if got is None else "PASS" if passed else "MISS"
            detail = "not measured" if got is None else ", ".join(f"{n} ids {ratio(r)}x" for n, r in got.items())
            lines.append(f"{verdict}  {label:<52} [{bridge}: {detail}]")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="cold spawns of each resolver per batch size (default 15)")
    parser.add_argument("--ids", default="1,32,512", help="batch sizes, comma-separated, each 1..512 (default 1,32,512)")
    parser.add_argument("--keyring", action="store_true", help="also the bridge with its key in a GNOME Keyring")
    parser.add_argument("--node", action=argparse.BooleanOptionalAction, default=True,
                        help="also the seed's Node peer (default on; --no-node skips it and its install)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay each answer, as a real project's round trip does (default 0: loopback)")
    args = parser.parse_args()
    try:
        sizes = tuple(int(n) for n in args.ids.split(","))
    except ValueError:
        parser.error("--ids takes comma-separated numbers, e.g. 1,32,512")
    if not all(1 <= n <= MAX_IDS for n in sizes) or args.runs < 1:
        parser.error(f"--ids must be 1..{MAX_IDS} and --runs at least 1")

    with memory_endpoint(args.latency_ms) as url, contextlib.ExitStack() as stack:
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bridge-"))
        bridge = install(Path(home))
        base_env = {"PATH": "/usr/bin:/bin", "SUPABASE_URL": url, "SUPABASE_SECRET_KEY": SECRET_KEY}
        variants: dict[str, tuple[list[str], dict[str, str]]] = {
            BASELINE_NAME: ([sys.executable, "-I", str(BASELINE)], base_env),
            BRIDGE_ENV: ([str(bridge), "resolve"], {**base_env, "HOME": home}),
        }
        if args.keyring:
            from tests.support.keyring_session import keyring_session

            kr_env = stack.enter_context(keyring_session())
            kr_home = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bridge-kr-"))
            login_env = {**kr_env, "BRIDGE_HOME": kr_home}
            subprocess.run([str(bridge), "login", "--url", url, "--store", "keyring"], input=SECRET_KEY.encode(),
                           env=login_env, check=True, capture_output=True)
            gateway_env = {k: login_env[k] for k in ("PATH", "BRIDGE_HOME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")}
            variants[BRIDGE_KEYRING] = ([str(bridge), "resolve"], gateway_env)
        node_version = "no node peer"
        if args.node:
            peer, node_version = node_peer()
            variants[NODE_NAME] = (peer, base_env)

        print(f"cold resolve, median of {args.runs} runs each, endpoint latency {args.latency_ms:g} ms per request "
              f"(python {sys.version.split()[0]}, node {node_version}, {os.cpu_count()} cpus)")
        print(f"{'ids':>5}  {'variant':<24} {'median ms':>10}  {'x baseline':>10}  {'x node peer':>11}")
        results: dict[int, dict[str, float]] = {}
        for count in sizes:
            medians = results[count] = measure(args.runs, variants, count)
            for name, value in medians.items():
                vs_node = ratio(value / medians[NODE_NAME]) if NODE_NAME in medians else "-"
                print(f"{count:>5}  {name:<24} {value * 1000:>10.1f}  {ratio(value / medians[BASELINE_NAME]):>10}  {vs_node:>11}",
                      flush=True)
        print()
        for line in verdicts(results, [name for name in variants if name.startswith("bridge")]):
            print(line)


if __name__ == "__main__":
    main()
