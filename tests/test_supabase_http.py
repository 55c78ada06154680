"""The HTTP contract with PostgREST, with its real response shapes (respx): headers, status mapping, retries, deadline."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from bridge.core.credentials import Credentials
from bridge.core.deadline import Deadline
from bridge.vault.client import VaultClient
from bridge.vault.errors import NotFound, SetupMissing, SupabaseError, SupabaseUnavailable
from bridge.vault.keys import USER_AGENT
from bridge.vault.transport import HttpxTransport
from tests.conftest import Vault
from tests.support.postgrest import Endpoint, ProjectKeys, make_jwt

URL = "https://abcdefghijklmnop.supabase.co"
RPC_URL = f"{URL}/rest/v1/rpc/resolve_secrets"
SECRET = "sb_secret_TESTKEY1234567890abcd"
LEGACY = make_jwt("service_role")


class FakeClock:
    """Time that moves only when the code sleeps, so retries are tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_rpc(key: str = SECRET, budget: float = 4.0, clock: FakeClock | None = None) -> VaultClient:
    clock = clock or FakeClock()
    return VaultClient(
        Credentials(URL, key), HttpxTransport(URL), provider="supabase", host="gw-host", connect_timeout=1.5,
        read_timeout=3.0, deadline=Deadline.after(budget, clock), sleep=clock.sleep,
    )


def pgrst(status: int, code: str, message: str, hint: str | None = None, details: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "details": details, "hint": hint, "message": message})


@respx.mock
def test_secret_key_goes_in_apikey_only_with_a_bridge_user_agent() -> None:
    route = respx.post(RPC_URL).mock(return_value=httpx.Response(200, json={"A": "v"}))
    assert make_rpc().call("resolve_secrets", {"p_names": ["A"]}) == {"A": "v"}
    sent = route.calls.last.request
    assert sent.headers["apikey"] == SECRET
    assert "authorization" not in sent.headers
    assert sent.headers["user-agent"] == USER_AGENT and "Mozilla" not in USER_AGENT
    assert sent.headers["x-bridge-host"] == "gw-host" and sent.headers["x-bridge-provider"] == "supabase"
    assert json.loads(sent.content) == {"p_names": ["A"]}


@respx.mock
def test_legacy_jwt_goes_in_apikey_and_bearer() -> None:
    route = respx.post(RPC_URL).mock(return_value=httpx.Response(200, json={}))
    make_rpc(LEGACY).call("resolve_secrets", {"p_names": []})
    sent = route.calls.last.request
    assert sent.headers["apikey"] == LEGACY and sent.headers["authorization"] == f"Bearer {LEGACY}"


@respx.mock
def test_void_function_204() -> None:
    respx.post(f"{URL}/rest/v1/rpc/rotate_secret").mock(return_value=httpx.Response(204))
    assert make_rpc().call("rotate_secret", {"p_name": "A", "p_new_secret": "x"}) is None


@pytest.mark.parametrize(
    ("response", "kind", "text"),
    [
        (httpx.Response(401, json={"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}),
         SupabaseError, "rejected the key (HTTP 401: Invalid API key)"),
        (pgrst(401, "PGRST301", "JWSError JWSInvalidSignature"), SupabaseError, "rejected the key"),
        (pgrst(403, "42501", "permission denied for function resolve_secrets"), SupabaseError, "re-run setup.sql"),
        (pgrst(404, "PGRST202", "Could not find the function public.resolve_secrets(p_names) in the schema cache",
               details="Searched for the function public.resolve_secrets with parameter p_names ..."),
         SetupMissing, "setup.sql is not installed"),
        (pgrst(404, "PT404", "secret X not found", hint="list_secrets shows what exists"), NotFound, "secret X not found"),
        (pgrst(400, "P0001", "something raised"), SupabaseError, "HTTP 400, P0001): something raised"),
        (pgrst(409, "23505", "a secret named A already exists"), SupabaseError, "already exists"),
    ],
)
@respx.mock
def test_final_errors_are_mapped_and_not_retried(response: httpx.Response, kind: type, text: str) -> None:
    route = respx.post(RPC_URL).mock(return_value=response)
    with pytest.raises(kind) as raised:
        make_rpc().call("resolve_secrets", {"p_names": ["A"]})
    assert text in str(raised.value)
    assert not isinstance(raised.value, SupabaseUnavailable)
    assert route.call_count == 1
    assert SECRET not in str(raised.value)


@respx.mock
def test_503_is_retried_with_jitter_then_succeeds() -> None:
    clock = FakeClock()
    route = respx.post(RPC_URL).mock(side_effect=[
        pgrst(503, "PGRST001", "Database client error. Retrying the connection."),
        httpx.Response(200, json={"A": "v"}),
    ])
    assert make_rpc(clock=clock).call("resolve_secrets", {"p_names": ["A"]}) == {"A": "v"}
    assert route.call_count == 2 and len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 0.2


@respx.mock
def test_persistent_5xx_gives_up_after_max_attempts_as_unavailable() -> None:
    route = respx.post(RPC_URL).mock(return_value=httpx.Response(500, text="<html>upstream error</html>"))
    with pytest.raises(SupabaseUnavailable, match=r"unavailable \(HTTP 500\)"):
        make_rpc().call("resolve_secrets", {"p_names": ["A"]})
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "TLS verification failed"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "does not resolve"),
    ],
)
@respx.mock
def test_transport_errors_are_retried_then_unavailable(error: Exception, text: str) -> None:
    route = respx.post(RPC_URL).mock(side_effect=error)
    with pytest.raises(SupabaseUnavailable) as raised:
        make_rpc().call("resolve_secrets", {"p_names": ["A"]})
    assert text in str(raised.value)
    assert route.call_count == 3


@respx.mock
def test_garbage_body_is_unavailable_and_never_echoed() -> None:
    respx.post(RPC_URL).mock(return_value=httpx.Response(200, content=b'{"A": "sk-live-PARTIAL'))
    with pytest.raises(SupabaseUnavailable) as raised:
        make_rpc().call("resolve_secrets", {"p_names": ["A"]})
    assert "not JSON" in str(raised.value) and "sk-live" not in str(raised.value)


@respx.mock
def test_no_attempt_starts_when_the_deadline_is_spent() -> None:
    route = respx.post(RPC_URL).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(SupabaseUnavailable, match="no time left"):
        make_rpc(budget=0.1).call("resolve_secrets", {"p_names": ["A"]})
    assert route.call_count == 0


@respx.mock
def test_retries_stop_when_the_deadline_would_be_passed() -> None:
    clock = FakeClock()

    def slow_failure(request: httpx.Request) -> httpx.Response:
        clock.now += 1.9
        return httpx.Response(503, json={"message": "unavailable"})

    route = respx.post(RPC_URL).mock(side_effect=slow_failure)
    with pytest.raises(SupabaseUnavailable):
        make_rpc(budget=4.0, clock=clock).call("resolve_secrets", {"p_names": ["A"]})
    assert route.call_count == 2
    assert clock.now - 1000.0 <= 4.0


@respx.mock
def test_timeouts_sent_are_capped_by_the_deadline() -> None:
    route = respx.post(RPC_URL).mock(return_value=httpx.Response(200, json={}))
    make_rpc(budget=1.0).call("resolve_secrets", {"p_names": []})
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout["connect"] <= 1.0 and timeout["read"] <= 1.0


def test_tls_is_verified_for_https() -> None:
    rpc = make_rpc()
    try:
        pool = rpc._transport._client._transport._pool  # type: ignore[attr-defined]  # where httpx keeps its TLS context
        import ssl

        assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED and pool._ssl_context.check_hostname
    finally:
        rpc.close()


def test_the_stdlib_transport_verifies_tls_against_the_same_roots_as_httpx() -> None:
    import ssl

    import certifi

    from bridge.local.network import tls_context

    context = tls_context(URL)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    roots = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert context.cert_store_stats()["x509_ca"] == roots > 0
    assert tls_context("http://127.0.0.1:1").verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("lean", [True, False], ids=["stdlib", "httpx"])
def test_both_transports_give_the_same_answers_from_the_real_endpoint(
    lean: bool, endpoint: Endpoint, keys: ProjectKeys, vault: Vault
) -> None:
    from bridge import SCHEMA_VERSION
    from bridge.vault.client import connect

    vault.put("TRANSPORT_A", "value-a")
    with connect(
        Credentials(endpoint.url, keys.secret), provider="supabase", host="gw", connect_timeout=2.0,
        read_timeout=5.0, deadline=Deadline.after(10.0), lean=lean,
    ) as client:
        assert client.resolve_secrets(["TRANSPORT_A", "MISSING"]) == {"TRANSPORT_A": "value-a"}
        assert client.version() == SCHEMA_VERSION
        with pytest.raises(SetupMissing):
            client.call("no_such_function", {})
        with pytest.raises(NotFound):
            client.call("get_secret", {"p_name": "MISSING"})
