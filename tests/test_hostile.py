"""The bridge under hostile conditions, as an attacker or a container would make them.

Every run goes through `run_as_gateway`: spawned like OpenClaw spawns it and
killed at OpenClaw's 5 s timeout. Each test checks what the gateway and its
operator would see: an answer before the kill, every id answered, no
traceback, and no key or value anywhere it must not be.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import GatewayRun, request, run_as_gateway, run_bridge
from tests.support.hostile import HostileServer, Seen, SilentBus, http_response
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.support.sockets import SocketServer, loopback_listener

FAST = 'deadline = "2.5s"\n'
OPENAI = "sk-proj-HOSTILE-51ab"
PLAIN = "plain-value-8c2e"
MAX_RSS_KIB = 200 * 1024
"""Far below what an unbounded body would cost (the bodies below are 64 MiB or endless)."""


def check(run: GatewayRun, ids: list[str], leaks: tuple[str, ...] = (), home: Path | None = None) -> dict[str, Any]:
    """What every hostile run must show: answered before the kill, every id, no traceback, nothing leaked."""
    assert not run.killed, "the gateway would have killed the bridge"
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert all(line.startswith("bridge: ") for line in run.stderr.splitlines()), run.stderr
    response: dict[str, Any] = json.loads(run.stdout)
    assert set(response["values"]) | set(response["errors"]) == set(ids)
    assert not set(response["values"]) & set(response["errors"])
    errors_text = json.dumps(response["errors"])
    for secret in leaks:
        assert secret not in run.stderr and secret not in errors_text
    if home is not None:
        for path in home.rglob("*"):
            if path.is_file():
                for secret in leaks:
                    assert secret.encode() not in path.read_bytes(), path
    return response


@pytest.fixture
def hostile(bridge_home: Path, keys: ProjectKeys) -> Iterator[tuple[HostileServer, dict[str, str]]]:
    """A server whose answer each test sets, and a gateway-like environment pointing at it."""
    server = HostileServer(lambda seen: [http_response(200, b"{}")])
    (bridge_home / "config.toml").write_text(FAST)
    env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home), "SUPABASE_URL": server.url, "SUPABASE_SECRET_KEY": keys.secret}
    try:
        yield server, env
    finally:
        server.stop()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("deeply nested 200 body", http_response(200, nested(200_000))),
        ("deeply nested error body", http_response(400, b'{"code":"P0001","message":' + nested(200_000) + b"}")),
        ("body that is not JSON", http_response(200, b"\xff\xfe{")),
        ("unknown encoding", http_response(200, b"{}", "Content-Encoding: br\r\n")),
        ("corrupt gzip", http_response(200, b"\x1f\x8bnot gzip", "Content-Encoding: gzip\r\n")),
    ],
)
def test_unreadable_answers_fail_every_id_cleanly(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path, name: str, answer: bytes
) -> None:
    server, env = hostile
    server.respond = lambda seen: [answer]
    run = run_as_gateway([str(launcher), "resolve"], env, request("A", "B#f"))
    response = check(run, ["A", "B#f"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {}, name


def test_a_bad_value_or_id_fails_only_its_own_ids(hostile: tuple[HostileServer, dict[str, str]], launcher: Path) -> None:
    server, env = hostile
    deep_secret = json.dumps("[" * 5000 + "]" * 5000)
    body = (
        '{"A": "' + PLAIN + '", "DEEP": ' + deep_secret + ', "SUR": "x\\ud800y", "NUM": 5, "NUL": null}'
    ).encode()
    server.respond = lambda seen: [http_response(200, body)]
    ids = ["A", "DEEP#field", "SUR", "NUM", "NUL", "\ud800"]
    run = run_as_gateway([str(launcher), "resolve"], env, request(*ids))
    response = check(run, ids, leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"A": PLAIN}
    assert "nested too deeply" in response["errors"]["DEEP#field"]["message"]
    assert "surrogate" in response["errors"]["SUR"]["message"]
    assert "not a string" in response["errors"]["NUM"]["message"]
    assert response["errors"]["NUL"]["code"] == "NOT_FOUND"
    assert "invalid id" in response["errors"]["\ud800"]["message"]


def test_many_large_values_are_trimmed_to_the_output_limit_in_time(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    server, env = hostile
    ids = [f"BIG{i:03d}" for i in range(300)]
    body = json.dumps({name: name + "v" * 50_000 for name in ids}).encode()
    server.respond = lambda seen: [http_response(200, body)]
    run = run_as_gateway([str(launcher), "resolve"], env, request(*ids))
    response = check(run, ids, leaks=(env["SUPABASE_SECRET_KEY"],))
    assert len(run.stdout) <= 1024 * 1024
    assert 0 < len(response["values"]) < len(ids)
    assert all("too large" in e["message"] for e in response["errors"].values())


def test_a_compression_bomb_is_refused_without_inflating(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    server, env = hostile
    bomb = gzip.compress(b'{"A": "' + b"0" * (64 * 1024 * 1024) + b'"}', 9)
    server.respond = lambda seen: [http_response(200, bomb, "Content-Encoding: gzip\r\n")]
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    response = check(run, ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert "larger than 16 MiB once decompressed" in response["errors"]["A"]["message"]
    assert run.max_rss_kib < MAX_RSS_KIB


def test_an_endless_body_is_cut_off(hostile: tuple[HostileServer, dict[str, str]], launcher: Path) -> None:
    server, env = hostile

    def endless(seen: Seen) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"a" * 65536
        while True:
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)

    server.respond = endless
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    response = check(run, ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert "larger than 16 MiB" in response["errors"]["A"]["message"]
    assert run.max_rss_kib < MAX_RSS_KIB


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_a_server_echoing_the_key_never_puts_it_in_any_output(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path, status: int
) -> None:
    server, env = hostile

    def echo(seen: Seen) -> list[bytes]:
        key = seen.headers["apikey"]
        error = {"code": key, "message": f"Invalid API key {key}; partial {key[:-3]}; tail {key[5:]}", "hint": key}
        return [http_response(status, json.dumps(error).encode())]

    server.respond = echo
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    key = env["SUPABASE_SECRET_KEY"]
    check(run, ["A"], leaks=(key, key[:-3], key[5:], key[10:26]))


@pytest.mark.parametrize(
    ("host", "sent_as"), [("'gâteway-ü'", "g%C3%A2teway-%C3%BC"), ("b'gw\\xff\\xfe'", "gw%FF%FE")],
    ids=["utf-8", "not-utf-8"],
)
def test_a_non_ascii_host_name_is_sent_percent_encoded(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path, host: str, sent_as: str
) -> None:
    server, env = hostile
    server.respond = lambda seen: [http_response(200, json.dumps({"A": PLAIN}).encode())]
    set_host = f"import os, socket, sys; socket.sethostname({host}); os.execv(sys.argv[1], sys.argv[1:])"
    command = ["unshare", "--uts", sys.executable, "-c", set_host, str(launcher), "resolve"]
    provider = json.dumps({"protocolVersion": 1, "provider": "sup\r\nx-evil: 1", "ids": ["A"]}).encode()
    response = check(run_as_gateway(command, env, provider), ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"A": PLAIN}
    sent = server.requests[-1].headers
    assert sent["x-bridge-host"] == sent_as and "x-evil" not in sent


def test_a_lone_surrogate_in_the_provider_name_fails_nothing(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    server, env = hostile
    server.respond = lambda seen: [http_response(200, json.dumps({"A": PLAIN}).encode())]
    body = b'{"protocolVersion": 1, "provider": "sup\\ud800", "ids": ["A"]}'
    response = check(run_as_gateway([str(launcher), "resolve"], env, body), ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"A": PLAIN}
    assert server.requests[-1].headers["x-bridge-provider"] == "sup%ED%A0%80"


def test_a_content_encoding_quoting_the_key_is_not_repeated(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    server, env = hostile
    server.respond = lambda seen: [http_response(200, b"{}", f"Content-Encoding: {seen.headers['apikey']}\r\n")]
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    response = check(run, ["A"], leaks=(env["SUPABASE_SECRET_KEY"], env["SUPABASE_SECRET_KEY"][:20].lower()))
    assert "unsupported Content-Encoding from Supabase" in json.dumps(response["errors"])


def test_a_writer_that_never_closes_stdin_gets_a_line_before_the_kill(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    """OpenClaw closes stdin after the request; a writer that does not must not hold the bridge past the kill."""
    _, env = hostile
    read_end, write_end = os.pipe()
    os.write(write_end, request("A")[:-1])
    try:
        run = run_as_gateway([str(launcher), "resolve"], env, b"", preexec_fn=lambda: os.dup2(read_end, 0))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert not run.killed and run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "close stdin" in run.stderr and "Traceback" not in run.stderr


PANIC_LAUNCHER = """#!{python} -I
import sys
from cryptography.hazmat.primitives.ciphers import aead


class PanicException(BaseException):
    \"\"\"What pyo3 raises when Rust code panics: not an Exception.\"\"\"


class Panicking:
    def __init__(self, key):
        pass

    def encrypt(self, *args, **kwargs):
        raise PanicException("rust panic in aead")

    decrypt = encrypt


aead.AESGCM = Panicking
from bridge.cli import main
sys.exit(main())
"""


def test_a_cipher_that_panics_costs_the_cache_never_the_live_values(
    hostile: tuple[HostileServer, dict[str, str]], tmp_path: Path, bridge_home: Path
) -> None:
    server, env = hostile
    trusted = tmp_path / "panicking"
    trusted.mkdir(mode=0o700)
    launcher = trusted / "bridge"
    launcher.write_text(PANIC_LAUNCHER.format(python=sys.executable))
    launcher.chmod(0o700)
    cache = bridge_home / "cache.sealed"
    cache.write_bytes(b"OCSC\x01" + os.urandom(80))
    cache.chmod(0o600)
    server.respond = lambda seen: [http_response(200, json.dumps({"A": PLAIN}).encode())]
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    response = check(run, ["A"], leaks=(env["SUPABASE_SECRET_KEY"],), home=bridge_home)
    assert response["values"] == {"A": PLAIN}
    assert "PanicException" in run.stderr
    doctor = subprocess.run([str(launcher), "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in doctor.stderr and env["SUPABASE_SECRET_KEY"] not in doctor.stdout + doctor.stderr
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["credentials"]["status"] == "pass" and "cache" in checks


def test_closed_stdin_or_stdout_is_one_line_not_a_crash(env_bootstrap: dict[str, str], launcher: Path) -> None:
    for fd, text in ((0, "stdin is closed"), (1, "stdout is closed")):
        run = run_as_gateway([str(launcher), "resolve"], env_bootstrap, b"", preexec_fn=lambda fd=fd: os.close(fd))  # type: ignore[misc]
        assert run.returncode == 1 and not run.killed
        assert run.stderr.strip().count("\n") == 0 and text in run.stderr and "Traceback" not in run.stderr


def test_a_reader_that_goes_away_is_one_line(env_bootstrap: dict[str, str], launcher: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    run = run_as_gateway(
        [str(launcher), "resolve"], env_bootstrap, request("NOPE"), preexec_fn=lambda: os.dup2(write_end, 1),
    )
    os.close(write_end)
    assert run.returncode == 1 and "stdout closed" in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "Traceback" not in run.stderr


@pytest.mark.parametrize("setting", ["deadline = inf", "deadline = nan", 'deadline = "9s"', "read_timeout = -inf"])
def test_out_of_range_settings_reach_every_id(env_bootstrap: dict[str, str], launcher: Path, bridge_home: Path, setting: str) -> None:
    (bridge_home / "config.toml").write_text(setting + "\n")
    run = run_as_gateway([str(launcher), "resolve"], env_bootstrap, request("A", "B"))
    response = check(run, ["A", "B"], leaks=(env_bootstrap["SUPABASE_SECRET_KEY"],))
    assert all("config" in e["message"] for e in response["errors"].values())


# Containers and broken desktop sessions: live values must still come through.


def test_no_machine_id_serves_live_values_with_the_cache_off(
    vault: Vault, env_bootstrap: dict[str, str], launcher: Path, bridge_home: Path
) -> None:
    vault.put("OPENAI_API_KEY", OPENAI)
    hide = (
        'for f in /etc/machine-id /var/lib/dbus/machine-id; do [ -e "$f" ] && mount --bind /dev/null "$f"; done; '
        'exec "$0" resolve'
    )
    command = ["unshare", "--mount", "sh", "-c", hide, str(launcher)]
    run = run_as_gateway(command, env_bootstrap, request("OPENAI_API_KEY"))
    response = check(run, ["OPENAI_API_KEY"], leaks=(env_bootstrap["SUPABASE_SECRET_KEY"], OPENAI), home=bridge_home)
    assert response["values"] == {"OPENAI_API_KEY": OPENAI}
    assert "cache off, live values only: no machine id" in run.stderr and run.stderr.count("\n") == 1
    assert not (bridge_home / "cache.sealed").exists()
    doctor = run_bridge(["doctor", "--json"], env_bootstrap)
    assert "Traceback" not in doctor.stderr and json.loads(doctor.stdout)["checks"]


def test_a_uid_without_a_passwd_entry_resolves_and_caches(vault: Vault, endpoint: Endpoint, keys: ProjectKeys) -> None:
    uid = 54321
    vault.put("OPENAI_API_KEY", OPENAI)
    root = Path(tempfile.mkdtemp(prefix="bridge-nouser-"))
    try:
        trusted, home = root / "provider", root / "home"
        for directory in (trusted, home):
            directory.mkdir(mode=0o700)
        script = trusted / "bridge"
        script.write_text(f"#!{sys.executable} -I\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n")
        script.chmod(0o700)
        for path in (root, trusted, home, script):
            os.chown(path, uid, uid)
        env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(home), "SUPABASE_URL": endpoint.url, "SUPABASE_SECRET_KEY": keys.secret}
        # The test's Python lives under /root (0700): searching it is the one privilege the nameless uid keeps.
        become = [
            "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
        ]
        run = run_as_gateway([*become, str(script), "resolve"], env, request("OPENAI_API_KEY"))
        response = check(run, ["OPENAI_API_KEY"], leaks=(keys.secret, OPENAI), home=home)
        assert response["values"] == {"OPENAI_API_KEY": OPENAI} and run.stderr == ""
        assert (home / "cache.sealed").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_stale_session_bus_is_skipped_with_one_line(vault: Vault, env_bootstrap: dict[str, str], launcher: Path, tmp_path: Path) -> None:
    vault.put("OPENAI_API_KEY", OPENAI)
    env = {**env_bootstrap, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/gone/bus"}
    run = run_as_gateway([str(launcher), "resolve"], env, request("OPENAI_API_KEY"))
    response = check(run, ["OPENAI_API_KEY"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"OPENAI_API_KEY": OPENAI}
    assert run.stderr.count("\n") == 1 and "credential store keyring skipped" in run.stderr


@pytest.mark.parametrize("authenticate", [False, True], ids=["silent", "silent-after-auth"])
def test_a_session_bus_that_never_answers_cannot_hold_the_gateway(
    vault: Vault, endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path, launcher: Path, authenticate: bool
) -> None:
    """The keyring hangs; the sealed file behind it still answers, before the gateway's kill."""
    vault.put("OPENAI_API_KEY", OPENAI)
    base = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home)}
    login = run_bridge(["login", "--url", endpoint.url, "--store", "file"], base, stdin=keys.secret.encode())
    assert login.returncode == 0, login.stderr
    short = Path(tempfile.mkdtemp(prefix="bus-"))
    bus = SilentBus(short / "bus", authenticate)
    try:
        env = {**base, "DBUS_SESSION_BUS_ADDRESS": bus.address}
        run = run_as_gateway([str(launcher), "resolve"], env, request("OPENAI_API_KEY"))
        response = check(run, ["OPENAI_API_KEY"], leaks=(keys.secret,), home=bridge_home)
        assert response["values"] == {"OPENAI_API_KEY": OPENAI}
        assert run.stderr.count("\n") == 1 and "credential store keyring skipped" in run.stderr
        doctor = run_bridge(["doctor"], env)
        assert "Traceback" not in doctor.stderr and "WARN  keyring" in doctor.stdout.decode()
    finally:
        bus.stop()
        shutil.rmtree(short, ignore_errors=True)


# The cache: an optimisation, never a single point of failure.


def test_an_oversized_cache_file_is_ignored_and_rebuilt(
    vault: Vault, env_bootstrap: dict[str, str], launcher: Path, bridge_home: Path
) -> None:
    vault.put("OPENAI_API_KEY", OPENAI)
    cache = bridge_home / "cache.sealed"
    with cache.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    cache.chmod(0o600)
    run = run_as_gateway([str(launcher), "resolve"], env_bootstrap, request("OPENAI_API_KEY"))
    response = check(run, ["OPENAI_API_KEY"], leaks=(env_bootstrap["SUPABASE_SECRET_KEY"], OPENAI), home=bridge_home)
    assert response["values"] == {"OPENAI_API_KEY": OPENAI}
    assert "more than the bridge ever writes" in run.stderr and run.max_rss_kib < MAX_RSS_KIB
    assert cache.stat().st_size < 4096


def test_max_stale_zero_removes_the_cache_file(
    vault: Vault, env_bootstrap: dict[str, str], launcher: Path, bridge_home: Path
) -> None:
    vault.put("OPENAI_API_KEY", OPENAI)
    check(run_as_gateway([str(launcher), "resolve"], env_bootstrap, request("OPENAI_API_KEY")), ["OPENAI_API_KEY"],
          leaks=(env_bootstrap["SUPABASE_SECRET_KEY"],), home=bridge_home)
    assert (bridge_home / "cache.sealed").exists()
    (bridge_home / "config.toml").write_text("max_stale = 0\n")
    run = run_as_gateway([str(launcher), "resolve"], env_bootstrap, request("OPENAI_API_KEY"))
    assert check(run, ["OPENAI_API_KEY"])["values"] == {"OPENAI_API_KEY": OPENAI} and run.stderr == ""
    assert not (bridge_home / "cache.sealed").exists()


def test_a_cache_lock_held_past_the_deadline_costs_no_values(
    vault: Vault, env_bootstrap: dict[str, str], launcher: Path, bridge_home: Path
) -> None:
    import fcntl

    vault.put("OPENAI_API_KEY", OPENAI)
    (bridge_home / "config.toml").write_text(FAST)
    lock = os.open(bridge_home / "cache.sealed.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = run_as_gateway([str(launcher), "resolve"], env_bootstrap, request("OPENAI_API_KEY"))
    finally:
        os.close(lock)
    response = check(run, ["OPENAI_API_KEY"], leaks=(env_bootstrap["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"OPENAI_API_KEY": OPENAI}
    assert "cache not updated: cache lock" in run.stderr and run.stderr.count("\n") == 1


def test_login_with_a_hung_session_bus_falls_back_to_the_sealed_file(
    endpoint: Endpoint, keys: ProjectKeys, bridge_home: Path
) -> None:
    short = Path(tempfile.mkdtemp(prefix="bus-"))
    bus = SilentBus(short / "bus", authenticate=True)
    try:
        env = {"PATH": "/usr/bin:/bin", "BRIDGE_HOME": str(bridge_home), "DBUS_SESSION_BUS_ADDRESS": bus.address}
        login = run_bridge(["login", "--url", endpoint.url], env, stdin=keys.secret.encode())
    finally:
        bus.stop()
        shutil.rmtree(short, ignore_errors=True)
    assert login.returncode == 0, login.stderr
    assert "did not answer within" in login.stderr and "using the sealed file instead" in login.stderr
    assert (bridge_home / "credentials.sealed").exists() and keys.secret not in login.all_output()


def test_doctor_blames_the_canary_not_reachability_when_only_resolve_fails(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    from bridge import SCHEMA_VERSION

    server, env = hostile

    def by_function(seen: Seen) -> list[bytes]:
        if seen.path.endswith("/vault_bridge_version"):
            return [http_response(200, str(SCHEMA_VERSION).encode())]
        return [http_response(503, b'{"code":"PGRST000","message":"down"}')]

    server.respond = by_function
    doctor = subprocess.run([str(launcher), "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in doctor.stderr
    checks = json.loads(doctor.stdout)["checks"]
    assert [c["status"] for c in checks if c["name"] == "reachability"] == ["pass"]
    assert [c["status"] for c in checks if c["name"] == "canary resolve"] == ["fail"]


def test_the_resolve_transport_retries_a_5xx_then_serves_the_live_answer(
    hostile: tuple[HostileServer, dict[str, str]], launcher: Path
) -> None:
    """The stdlib transport `bridge resolve` uses retries like the httpx one: 5xx once, then the real answer."""
    server, env = hostile
    answers = iter([http_response(503, b'{"code":"PGRST000"}'), http_response(200, json.dumps({"A": PLAIN}).encode())])
    server.respond = lambda seen: [next(answers)]
    run = run_as_gateway([str(launcher), "resolve"], env, request("A"))
    response = check(run, ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    assert response["values"] == {"A": PLAIN} and len(server.requests) == 2


class PlainSpeaker(SocketServer):
    """Answers every connection in plain HTTP at once, as a port without TLS does to a TLS client."""

    def handle(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(http_response(400, b"plain http"))


def test_the_resolve_transport_names_a_tls_failure(hostile: tuple[HostileServer, dict[str, str]], launcher: Path) -> None:
    _, env = hostile
    listener, port = loopback_listener()
    server = PlainSpeaker(listener)
    try:
        env = {**env, "SUPABASE_URL": f"https://127.0.0.1:{port}"}
        response = check(run_as_gateway([str(launcher), "resolve"], env, request("A")), ["A"], leaks=(env["SUPABASE_SECRET_KEY"],))
    finally:
        server.stop()
    assert "TLS verification failed" in response["errors"]["A"]["message"]
