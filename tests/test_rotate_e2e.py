"""`bridge secrets rotate --wait` with two real OpenClaw gateways, each with its own gateway token and watcher.

The rotated secret is the gateways' own auth token (both configs ref the same
Vault name), so "holds the new value" is checked where it matters: the old
token refused, the new one admitted. Each gateway resolves through the bridge
with its own gateway token, so the rollout tells them apart (tenant/token).
Every wait is for an event (a watcher's first poll, the gateway admitting a
token) or the command's own --wait; every output, log and audit row is
searched for the values.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import run_bridge
from tests.support.gateway import Gateway, running_gateway
from tests.support.openclaw import OpenClaw, openclaw_on_path
from tests.support.pg import PgCluster, audit_rows_dropped_after
from tests.support.postgrest import Endpoint, ProjectKeys
from tests.test_tokens import created_token
from tests.test_watch_e2e import Journal, await_true, first_poll_done, start_watch, token


@dataclass
class Site:
    """One gateway, its gateway token's name and its watcher."""

    name: str
    gateway: Gateway
    watcher: subprocess.Popen[str]
    journal: Journal

    def stop(self) -> None:
        if self.watcher.poll() is None:
            self.watcher.send_signal(signal.SIGTERM)
            assert self.watcher.wait(timeout=30) == 0
        self.gateway.stop()


@pytest.fixture
def fleet(
    openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault, endpoint: Endpoint,
    keys: ProjectKeys, pg: PgCluster,
) -> Iterator[tuple[str, str, list[Site]]]:
    """Two running gateways whose auth token is the Vault secret `name` (value `old`), each resolving it with its
    own gateway token and watched by its own `bridge watch`."""
    name = "GW_ROTATE_" + secrets.token_hex(4).upper()
    old = token()
    vault.put(name, old)
    tokens: list[str] = []
    with audit_rows_dropped_after(pg), ExitStack() as stack:
        try:
            sites = []
            for label in ("gw-a", "gw-b"):
                token_name = f"{label}-{secrets.token_hex(3)}"
                minted = run_bridge(["tokens", "create", token_name, "--tenant", "default", "--allow", name], env_bootstrap)
                tokens.append(token_name)
                home = tmp_path / label
                bridge_home = tmp_path / f"{label}-bridge"
                for made in (home, bridge_home):
                    made.mkdir(mode=0o700)
                bootstrap = {
                    "BRIDGE_HOME": str(bridge_home), "SUPABASE_URL": endpoint.url,
                    "SUPABASE_PUBLISHABLE_KEY": keys.publishable, "BRIDGE_GATEWAY_TOKEN": created_token(minted),
                }
                gw = stack.enter_context(running_gateway(openclaw, home, launcher, bootstrap, token_id=name))
                wrapper = openclaw_on_path(openclaw, tmp_path / f"{label}-bin")
                watcher = start_watch({**gw.env, "PATH": f"{wrapper.parent}:{gw.env['PATH']}"})
                site = Site(token_name, gw, watcher, Journal(watcher))
                stack.callback(site.stop)
                sites.append(site)
            for site in sites:
                state = Path(site.gateway.env["BRIDGE_HOME"]) / "watch-state.json"
                await_true(partial(first_poll_done, state, site.watcher.pid), "a watcher's first poll")
            yield name, old, sites
        finally:
            with pg.connect("postgres", autocommit=True) as conn:
                conn.execute("DELETE FROM vault_bridge.gateway_tokens WHERE tenant = 'default' AND name = ANY(%s)", (tokens,))
                conn.execute("SET ROLE service_role")
                conn.execute("SELECT public.delete_secret(%s)", (name,))


def rotate(env: dict[str, str], name: str, value: str, *args: str) -> tuple[int, dict[str, Any], str]:
    done = run_bridge(["secrets", "rotate", name, "--wait", args[0] if args else "60s", "--json"], env, value.encode(), timeout=180)
    return done.returncode, json.loads(done.stdout), done.stderr


def test_rotate_waits_for_both_gateways_rollback_restores_and_a_stopped_gateway_is_named(
    fleet: tuple[str, str, list[Site]], env_bootstrap: dict[str, str], pg: PgCluster,
) -> None:
    name, old, sites = fleet
    new, third = token(), token()
    values = [old, new, third]
    for site in sites:
        assert site.gateway.admits(old)

    began = time.monotonic()
    code, report, said = rotate(env_bootstrap, name, new)
    took = time.monotonic() - began
    print(f"rotate --wait: both gateways held the new value {took:.1f}s after the command started")
    assert code == 0, said
    assert report["complete"] is True and report["pending"] == []
    assert {f"default/{s.name}" for s in sites} <= {g["gateway"] for g in report["updated"]}
    assert "next: revoke the old key" in said
    for site in sites:
        assert site.gateway.admits(new) and not site.gateway.admits(old), site.name

    versions = json.loads(run_bridge(["secrets", "history", name, "--json"], env_bootstrap).stdout)
    assert [(v["version"], v["current"], v["kept"]) for v in versions] == [(2, True, False), (1, False, True)]

    back = run_bridge(["secrets", "rollback", name, "--yes"], env_bootstrap)
    assert back.returncode == 0, back.stderr
    for site in sites:
        await_true(partial(site.gateway.admits, old), f"{site.name} to admit the old token again")
        assert not site.gateway.admits(new)

    # One gateway stopped: the wait ends naming it, and only the running one has the new value.
    stopped, running = sites[1], sites[0]
    stopped.stop()
    code, report, said = rotate(env_bootstrap, name, third, "20s")
    assert code == 1 and report["complete"] is False
    assert [g["gateway"] for g in report["pending"]] == [f"default/{stopped.name}"]
    assert report["pending"][0]["last_resolved_at"]
    assert f"default/{stopped.name}" in said and "not yet" in said
    assert running.gateway.admits(third)

    outputs = [said, *(s.journal.text() + s.gateway.output() for s in sites)]
    for log in Path(env_bootstrap["BRIDGE_HOME"]).rglob("*.log"):
        outputs.append(log.read_text(errors="replace"))
    with pg.connect("postgres", autocommit=True) as conn:
        outputs.append(json.dumps([list(map(str, r)) for r in conn.execute("SELECT * FROM public.vault_access_log").fetchall()]))
    for value in values:
        assert all(value not in text for text in outputs)
