"""`bridge watch` reloads the real OpenClaw gateway whatever its auth is: a token through our provider, an `env` ref,
a token in ~/.openclaw/.env, a token through another exec provider, password mode.

Only the first can the watcher know itself (it holds what the gateway's last resolve got). For the others the
reload must go without `--url`, so that the OpenClaw CLI authenticates with what its own config gives it: with
`--url` it demands explicit credentials. `bridge watch --once` lists every watched name the first time, so each
case is one reload, proved by the gateway's own log of a `secrets.reload` RPC that succeeded.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Vault
from tests.support.bridge_proc import run_bridge
from tests.support.gateway import RELOAD_RPC_LINE, TOKEN_ID, running_gateway
from tests.support.openclaw import OpenClaw, exec_ref, openclaw_on_path
from tests.test_gateway_fixture import BOOTSTRAP, MODEL_KEY, REFS

ENV_NAME = "GW_WATCH_AUTH_TOKEN"
OTHER_PROVIDER = """#!{python} -I
import json, sys
request = json.load(sys.stdin)
print(json.dumps({{"protocolVersion": 1, "values": {{i: {value!r} for i in request["ids"]}}}}))
"""


def other_provider(tmp_path: Path, value: str) -> dict[str, Any]:
    """A second exec provider (1Password's plugin, say), answering every id with `value`."""
    trusted = tmp_path / "other-provider"
    trusted.mkdir(mode=0o700)
    script = trusted / "other"
    script.write_text(OTHER_PROVIDER.format(python=sys.executable, value=value))
    script.chmod(0o700)
    return {"source": "exec", "command": str(script), "args": [], "trustedDirs": [str(trusted)], "jsonOnly": True}


def succeeded_reloads(output: str) -> int:
    return sum(1 for m in RELOAD_RPC_LINE.finditer(output) if m.group(1) == "✓")


@pytest.mark.parametrize("case", ["our-provider", "env-ref", "dotenv", "other-provider", "password"])
def test_the_gateway_is_reloaded_whatever_its_auth(
    case: str, openclaw: OpenClaw, launcher: Path, tmp_path: Path, env_bootstrap: dict[str, str], vault: Vault,
) -> None:
    credential = "gw-" + secrets.token_urlsafe(24)
    vault.put(MODEL_KEY, "sk-proj-" + secrets.token_urlsafe(24))
    home = tmp_path / "gw-home"
    home.mkdir(mode=0o700)
    env_ref = {"source": "env", "provider": "default", "id": ENV_NAME}
    gateway_env: dict[str, str] = {}
    watcher_env: dict[str, str] = {}
    auth: dict[str, Any] | None = None
    providers: dict[str, Any] | None = None
    if case == "our-provider":
        vault.put(TOKEN_ID, credential)
    elif case == "env-ref":
        auth = {"mode": "token", "token": env_ref}
        gateway_env = watcher_env = {ENV_NAME: credential}
    elif case == "dotenv":
        auth = {"mode": "token", "token": env_ref}
        (home / ".openclaw").mkdir(mode=0o700)
        dotenv = home / ".openclaw" / ".env"
        dotenv.write_text(f"{ENV_NAME}={credential}\n")
        dotenv.chmod(0o600)
    elif case == "other-provider":
        auth = {"mode": "token", "token": exec_ref("gateway-token", provider="other")}
        providers = {"other": other_provider(tmp_path, credential)}
    else:
        auth = {"mode": "password", "password": credential}
    bootstrap = {k: v for k, v in env_bootstrap.items() if k in BOOTSTRAP}
    with running_gateway(openclaw, home, launcher, bootstrap, refs=REFS, auth=auth, providers=providers,
                         extra_env=gateway_env) as gw:
        wrapper = openclaw_on_path(openclaw, tmp_path / "bin")
        env = {k: v for k, v in gw.env.items() if k not in gateway_env}
        env = {**env, **bootstrap, **watcher_env, "PATH": f"{wrapper.parent}:{gw.env['PATH']}"}
        before = succeeded_reloads(gw.output())
        done = run_bridge(["watch", "--once"], env)
        assert done.returncode == 0 and "reload ok" in done.stderr, done.stderr
        assert gw.await_output(lambda out: succeeded_reloads(out) > before), "the gateway answered no reload"
        assert credential not in done.all_output()
