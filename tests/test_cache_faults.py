"""The last-known-good cache under real faults: real processes, real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bridge.cache.store import CacheContents, CacheFile, Entry, derive_key, seal_snapshot
from bridge.core.credentials import Credentials
from bridge.local.identity import Identity
from tests.conftest import Vault
from tests.support.bridge_proc import BRIDGE, request, resolve, run_bridge
from tests.support.faults import FaultProxy

OPENAI = "sk-proj-CACHE-7c1d"
SA = {"client_email": "svc@example.iam", "private_key": "-----PK-CACHE-99-----"}
FAST_DEADLINE = 'deadline = "2.5s"\n'


@pytest.fixture
def env(env_bootstrap: dict[str, str], proxy: FaultProxy, bridge_home: Path) -> dict[str, str]:
    (bridge_home / "config.toml").write_text(FAST_DEADLINE)
    return {**env_bootstrap, "SUPABASE_URL": proxy.url}


def warm(vault: Vault, env: dict[str, str]) -> None:
    vault.put("A", OPENAI)
    vault.put_json("SA", SA)
    response, stderr = resolve(env, "A", "SA#private_key")
    assert response["values"] == {"A": OPENAI, "SA#private_key": SA["private_key"]}
    assert stderr == ""


def cache_status(env: dict[str, str]) -> dict[str, Any]:
    result = run_bridge(["cache", "status", "--json"], env)
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = json.loads(result.stdout)
    return status


def assert_no_plaintext_on_disk(home: Path, *secrets: str) -> None:
    for path in home.iterdir():
        if path.is_file():
            raw = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in raw, path


@pytest.mark.parametrize("fault", ["refused", "hang", "drip", 500, 503, "garbage"])
def test_supabase_down_serves_the_cache_within_the_deadline(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path, fault: str | int
) -> None:
    warm(vault, env)
    if fault == "refused":
        proxy.stop()
    else:
        proxy.mode = fault
    response, stderr = resolve(env, "A", "SA#client_email", "NEVER_CACHED")
    assert response["values"] == {"A": OPENAI, "SA#client_email": SA["client_email"]}
    assert "no cached value for NEVER_CACHED" in response["errors"]["NEVER_CACHED"]["message"]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "served 2 of 3 ids from the cache, oldest" in lines[0]
    for secret in (OPENAI, SA["client_email"], SA["private_key"]):
        assert secret not in stderr
    assert_no_plaintext_on_disk(bridge_home, OPENAI, SA["private_key"])


def test_cache_older_than_max_stale_is_refused_per_id(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path
) -> None:
    warm(vault, env)
    (bridge_home / "config.toml").write_text(FAST_DEADLINE + 'max_stale = "1ms"\n')
    proxy.mode = 503
    response, stderr = resolve(env, "A")
    assert response["values"] == {}
    assert "past max_stale (1 ms)" in response["errors"]["A"]["message"]
    assert "no usable cached values" in stderr


def test_max_stale_zero_disables_the_cache(vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path) -> None:
    (bridge_home / "config.toml").write_text(FAST_DEADLINE + "max_stale = 0\n")
    vault.put("A", OPENAI)
    assert resolve(env, "A")[0]["values"] == {"A": OPENAI}
    assert not (bridge_home / "cache.sealed").exists()
    proxy.mode = 503
    response, _ = resolve(env, "A")
    assert "unavailable (HTTP 503" in response["errors"]["A"]["message"]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_real_answers_never_serve_the_cache(vault: Vault, env: dict[str, str], proxy: FaultProxy, status: int) -> None:
    warm(vault, env)
    proxy.mode = status
    response, _ = resolve(env, "A")
    assert response["values"] == {}
    assert "cache" not in response["errors"]["A"]["message"]


@pytest.mark.parametrize("fault", ["refused", "hang", 403, 404, 500, 503, "garbage"])
def test_faults_and_final_answers_other_than_401_never_purge_the_cache(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, fault: str | int
) -> None:
    """What an attacker on the network can cause (no answer, a broken one) or a misconfigured project answers
    (403, 404) leaves the cache as it was: only Supabase refusing the credentials themselves purges it."""
    warm(vault, env)
    if fault == "refused":
        proxy.stop()
    else:
        proxy.mode = fault
    resolve(env, "A")
    if fault != "refused":
        proxy.mode = 503
    response, _ = resolve(env, "A")
    assert response["values"] == {"A": OPENAI}


def test_credentials_supabase_refused_are_never_served_from_the_cache_offline(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path
) -> None:
    warm(vault, env)
    proxy.mode = 401
    refused, _ = resolve(env, "A")
    assert "rejected the key" in refused["errors"]["A"]["message"]
    assert cache_status(env)["entries"] == [] and cache_status(env)["refused_at"]
    assert_no_plaintext_on_disk(bridge_home, OPENAI)
    for outage in (503, "hang", "refused"):
        if outage == "refused":
            proxy.stop()
        else:
            proxy.mode = outage
        response, stderr = resolve(env, "A", "SA#private_key")
        assert response["values"] == {}
        assert "Supabase refused these credentials" in response["errors"]["A"]["message"]
        assert OPENAI not in stderr + json.dumps(response)


def test_a_key_accepted_again_lifts_the_refusal(vault: Vault, env: dict[str, str], proxy: FaultProxy) -> None:
    warm(vault, env)
    proxy.mode = 401
    resolve(env, "A")
    proxy.mode = "pass"
    assert resolve(env, "A")[0]["values"] == {"A": OPENAI}
    assert cache_status(env)["refused_at"] is None
    proxy.mode = 503
    assert resolve(env, "A")[0]["values"] == {"A": OPENAI}, "a live answer after the refusal is cached again"


def test_deleted_secret_is_dropped_and_rotated_one_replaced(
    vault: Vault, env: dict[str, str], proxy: FaultProxy
) -> None:
    warm(vault, env)
    vault.delete("A")
    vault.put_json("SA", {**SA, "private_key": "ROTATED-PK"})
    response, _ = resolve(env, "A", "SA#private_key")
    assert response["errors"]["A"]["code"] == "NOT_FOUND"
    assert response["values"] == {"SA#private_key": "ROTATED-PK"}
    assert [e["id"] for e in cache_status(env)["entries"]] == ["SA"]
    proxy.mode = "hang"
    response, _ = resolve(env, "A", "SA#private_key")
    assert response["values"] == {"SA#private_key": "ROTATED-PK"}
    assert "no cached value for A" in response["errors"]["A"]["message"]


def test_cache_ttl_answers_fresh_hits_without_asking_supabase(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path
) -> None:
    (bridge_home / "config.toml").write_text(FAST_DEADLINE + 'cache_ttl = "5m"\n')
    warm(vault, env)
    before = proxy.requests
    response, stderr = resolve(env, "A", "SA#client_email")
    assert response["values"] == {"A": OPENAI, "SA#client_email": SA["client_email"]}
    assert proxy.requests == before and stderr == ""
    resolve(env, "A", "NOT_CACHED_YET")
    assert proxy.requests == before + 1


def test_status_and_clear(vault: Vault, env: dict[str, str], proxy: FaultProxy) -> None:
    warm(vault, env)
    report = cache_status(env)
    assert [e["id"] for e in report["entries"]] == ["A", "SA"]
    assert all(e["source"] == proxy.url and e["usable_when_offline"] for e in report["entries"])
    assert report["enabled"] and report["max_stale_seconds"] == 7 * 86400 and report["problem"] is None
    human = run_bridge(["cache", "status"], env)
    for secret in (OPENAI, SA["private_key"]):
        assert secret not in human.all_output() and secret not in json.dumps(report)
    cleared = run_bridge(["cache", "clear", "SA#private_key"], env)
    assert "removed 1 cached secret" in cleared.stdout.decode()
    assert [e["id"] for e in cache_status(env)["entries"]] == ["A"]
    no_credentials = {k: v for k, v in env.items() if not k.startswith("SUPABASE_")}
    assert "needs the credentials" in run_bridge(["cache", "clear", "A"], no_credentials).stderr
    cleared_all = run_bridge(["cache", "clear"], no_credentials)
    assert cleared_all.returncode == 0 and "removed the cache" in cleared_all.stdout.decode()
    assert not (Path(env["BRIDGE_HOME"]) / "cache.sealed").exists()
    assert "no cache to remove" in run_bridge(["cache", "clear"], no_credentials).stdout.decode()
    assert cache_status(env)["entries"] == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corrupt_cache_is_ignored_with_one_line_and_rebuilt(
    vault: Vault, env: dict[str, str], proxy: FaultProxy, bridge_home: Path, damage: str
) -> None:
    warm(vault, env)
    path = bridge_home / "cache.sealed"
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x01
    elif damage == "truncate":
        del blob[len(blob) // 3 :]
    else:
        blob[:] = os.urandom(len(blob))
    path.write_bytes(bytes(blob))
    proxy.mode = 503
    response, stderr = resolve(env, "A")
    assert response["values"] == {}
    assert "ignored" in stderr and "rebuilt" in stderr
    proxy.mode = "pass"
    response, stderr = resolve(env, "A")
    assert response["values"] == {"A": OPENAI}
    assert stderr.count("\n") == 1 and "rebuilt" in stderr
    assert cache_status(env)["problem"] is None


def test_cache_copied_to_another_machine_or_user_cannot_be_read(tmp_path: Path) -> None:
    credentials = Credentials("https://abcd.supabase.co", "sb_secret_COPYKEY000000000000")
    here = Identity("1" * 32, "alice")
    path = tmp_path / "cache.sealed"
    path.write_bytes(seal_snapshot(CacheContents(credentials.url, {"A": Entry(OPENAI, time.time())}), derive_key(credentials, here)))
    assert CacheFile(path, credentials, here).load()[0].entries["A"].value == OPENAI
    for elsewhere in (Identity("2" * 32, "alice"), Identity("1" * 32, "mallory")):
        snapshot, diagnostic = CacheFile(path, credentials, elsewhere).load()
        assert snapshot.entries == {} and "another machine or by another user" in (diagnostic or "")
    assert OPENAI.encode() not in path.read_bytes()


def test_cache_file_is_private(vault: Vault, env: dict[str, str], bridge_home: Path) -> None:
    warm(vault, env)
    for name in ("cache.sealed", "cache.sealed.lock"):
        assert (bridge_home / name).stat().st_mode & 0o777 == 0o600
    assert bridge_home.stat().st_mode & 0o777 == 0o700


def test_fifty_concurrent_resolves_lose_no_update(vault: Vault, env: dict[str, str], bridge_home: Path) -> None:
    # 50 cold starts on a small machine take longer than the fast test deadline; this test is about lost updates.
    (bridge_home / "config.toml").write_text('gateway_timeout = "120s"\ndeadline = "60s"\n')
    names = [f"C{i:03d}" for i in range(100)]
    for name in names:
        vault.put(name, f"value-{name}")
    procs = []
    for i in range(50):
        stdin = request(*names[2 * i : 2 * i + 2])
        proc = subprocess.Popen([str(BRIDGE), "resolve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.wait(timeout=120)
        assert proc.returncode == 0, err
        assert len(json.loads(out)["values"]) == 2, err
    report = cache_status(env)
    assert report["problem"] is None
    assert [e["id"] for e in report["entries"]] == names


def test_kill_9_mid_write_never_corrupts_the_cache(vault: Vault, env: dict[str, str], bridge_home: Path) -> None:
    """Watch for the writer's temp file and SIGKILL the moment it appears: the kill lands mid-write by construction."""
    (bridge_home / "config.toml").write_text('gateway_timeout = "120s"\ndeadline = "60s"\n')
    big = "k" * 40_000
    names = [f"BIG{i:02d}" for i in range(60)]
    for name in names:
        vault.put(name, f"{name}-{big}")
    stdin = request(*names)
    cache = bridge_home / "cache.sealed"
    resolve(env, *names)
    old = cache.read_bytes()
    vault.put(names[0], "rotated-so-every-run-must-write")
    landed = 0
    for _ in range(300):
        cache.write_bytes(old)
        proc = subprocess.Popen([str(BRIDGE), "resolve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        while proc.poll() is None and not list(bridge_home.glob(".cache.sealed.*.tmp")):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if list(bridge_home.glob(".cache.sealed.*.tmp")):
            landed += 1
            assert cache.read_bytes() == old, "a kill mid-write changed the cache in place"
            if landed == 3:
                break
    assert landed == 3, f"only {landed} kills landed during a cache write in 300 attempts"
    response, stderr = resolve(env, names[0])
    assert response["values"] == {names[0]: "rotated-so-every-run-must-write"}
    assert stderr == ""
    assert not list(bridge_home.glob(".cache.sealed.*.tmp"))
    assert cache_status(env)["problem"] is None


def test_expire_dates_entries_back_and_leaves_a_cache_kept_under_other_credentials_alone(tmp_path: Path) -> None:
    """What `bridge watch` does before a reload with cache_ttl on: the gateway's next resolve asks Supabase, the value
    still covers an outage; and a watcher with other credentials never replaces the gateway's cache."""
    gateway = Credentials("https://abcd.supabase.co", "sb_secret_GATEWAYKEY0000000000")
    watcher = Credentials("https://abcd.supabase.co", "sb_publishable_WATCH00000000", token="gw-token-0000000000")
    here = Identity("1" * 32, "alice")
    path = tmp_path / "cache.sealed"
    now = time.time()
    entries = {"A": Entry(OPENAI, now), "B": Entry("sk-other-000000000000", now)}
    path.write_bytes(seal_snapshot(CacheContents(gateway.url, entries), derive_key(gateway, here)))
    assert CacheFile(path, gateway, here).expire(["A"], now - 600, wait_until=time.monotonic() + 5) is None
    kept = CacheFile(path, gateway, here).load()[0].entries
    assert kept == {"A": Entry(OPENAI, now - 600), "B": entries["B"]}
    before = path.read_bytes()
    problem = CacheFile(path, watcher, here).expire(["A"], now - 1200, wait_until=time.monotonic() + 5)
    assert problem is not None and "other credentials" in problem
    assert path.read_bytes() == before
    assert not CacheFile(path, watcher, here).opens() and CacheFile(path, gateway, here).opens()
