"""`bridge secrets test` against loopback servers that answer as each provider documents (provider_fakes).

Every outcome for every type: ok, invalid (with the fake quoting the
credential back, as real providers do), unreachable for a 5xx, a closed
port, a redirect, a TLS certificate no root vouches for, and a server that
drips its answer past the deadline. No message may hold the value or any
8 characters of any part of it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bridge.core.errors import BridgeError, ConfigError, UsageError
from bridge.core.secret_types import INVALID, OK, ONE_LINE_CHARS, UNREACHABLE
from bridge.providers import check
from bridge.providers.endpoints import default_base_url
from tests.support.provider_fakes import (
    AWS_ARN,
    AZURE_ACCESS_TOKEN,
    GCP_ACCESS_TOKEN,
    GCP_SCOPE,
    AnthropicFake,
    AwsFake,
    AzureFake,
    GcpFake,
    GeminiFake,
    OpenAIFake,
    OpenRouterFake,
    ProviderFake,
    TlsOpenAIFake,
    closed_port_url,
    leaks,
    self_signed_context,
    service_account,
)

DEADLINE_S = 5.0
EMAIL = "bridge-test@bridge-test.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0b8e5f4a-1c2d-4e3f-9a8b-7c6d5e4f3a2b"
TYPES = ("openai", "anthropic", "gemini", "openrouter", "gcp-service-account", "aws", "azure")


def _key(prefix: str, length: int = 64) -> str:
    return (prefix + secrets.token_urlsafe(length))[:length]


def _aws_id() -> str:
    return "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _aws_secret() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode()


class Case(NamedTuple):
    secret_type: str
    fake: ProviderFake
    good: str
    bad: str
    """A value of the right shape that the provider refuses."""


@pytest.fixture(scope="session")
def account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _case(secret_type: str, account_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey) -> Case:
    if secret_type == "gcp-service-account":
        fake: ProviderFake = GcpFake(account_key.public_key(), EMAIL, KEY_ID)
        return Case(secret_type, fake, service_account(account_key, EMAIL, KEY_ID), service_account(stranger_key, EMAIL, KEY_ID))
    if secret_type == "aws":
        key_id, secret = _aws_id(), _aws_secret()
        keys = {"access_key_id": key_id, "secret_access_key": secret}
        return Case(secret_type, AwsFake(key_id, secret), json.dumps(keys), json.dumps({**keys, "secret_access_key": _aws_secret()}))
    if secret_type == "azure":
        secret = "Q8~" + secrets.token_urlsafe(30)
        app = {"client_id": CLIENT, "client_secret": secret, "tenant_id": TENANT}
        return Case(secret_type, AzureFake(TENANT, CLIENT, secret), json.dumps(app), json.dumps({**app, "client_secret": "Q8~" + secrets.token_urlsafe(30)}))
    make: dict[str, Callable[[str], ProviderFake]] = {"openai": OpenAIFake, "anthropic": AnthropicFake, "gemini": GeminiFake, "openrouter": OpenRouterFake}
    prefix = {"openai": "sk-proj-", "anthropic": "sk-ant-api03-", "gemini": "AIza", "openrouter": "sk-or-v1-"}[secret_type]
    length = 39 if secret_type == "gemini" else 64
    good = _key(prefix, length)
    return Case(secret_type, make[secret_type](good), good, _key(prefix, length))


@pytest.fixture(params=TYPES)
def case(request: pytest.FixtureRequest, account_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey) -> Iterator[Case]:
    made = _case(request.param, account_key, stranger_key)
    try:
        yield made
    finally:
        made.fake.stop()


def _test(secret_type: str, value: str, url: str, deadline_s: float = DEADLINE_S, now: Callable[[], float] = time.time) -> check.CheckResult:
    result = check.test_secret(secret_type, value, url, deadline_s, now)
    assert not leaks(secret_type, value, result.message), result.message
    assert "\n" not in result.message and len(result.message) <= ONE_LINE_CHARS
    return result


def test_a_working_credential_is_ok(case: Case) -> None:
    result = _test(case.secret_type, case.good, case.fake.url)
    assert result.status == OK, result.message
    assert result.message.endswith("(HTTP 200)") and " accepted the " in result.message
    assert GCP_ACCESS_TOKEN not in result.message and AZURE_ACCESS_TOKEN not in result.message
    assert len(case.fake.requests) == 1


def test_a_refused_credential_is_invalid_and_nothing_of_it_is_shown(case: Case) -> None:
    result = _test(case.secret_type, case.bad, case.fake.url)
    assert result.status == INVALID, result.message
    assert " refused the " in result.message, result.message
    assert "[redacted]" in result.message or "…" in result.message, result.message  # each fake quotes the value back


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_unreachable_even_when_it_echoes_the_whole_request(case: Case, status: int) -> None:
    case.fake.mode = status
    result = _test(case.secret_type, case.good, case.fake.url)
    assert result.status == UNREACHABLE and result.message.endswith(f"(HTTP {status})"), result.message
    assert " is unavailable: server_error: upstream failed for " in result.message
    seen = case.fake.requests[0]
    form = parse_qs(seen.body.decode())
    carried = [seen.headers.get(h, "") for h in ("authorization", "x-api-key", "x-goog-api-key")] + form.get("assertion", []) + form.get("client_secret", [])
    assert not [c for c in carried if c and c[-16:] in result.message], result.message  # what the request derived from the value, too


@pytest.mark.parametrize("secret_type", TYPES)
def test_a_closed_port_is_unreachable(secret_type: str, account_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey) -> None:
    made = _case(secret_type, account_key, stranger_key)
    made.fake.stop()
    url = closed_port_url()
    result = _test(secret_type, made.good, url)
    assert result.status == UNREACHABLE
    assert result.message.endswith(f"at {url.removeprefix('http://')}: connection refused"), result.message


def test_a_redirect_is_not_followed(case: Case) -> None:
    case.fake.mode = "redirect"
    result = _test(case.secret_type, case.good, case.fake.url)
    assert result.status == UNREACHABLE and "redirect, which is not followed" in result.message
    assert len(case.fake.requests) == 1


def test_a_server_that_drips_its_answer_cannot_hold_the_call_past_the_deadline(case: Case) -> None:
    # The whole answer would take over a hundred drip intervals; the deadline ends the call and says so.
    case.fake.mode = "drip"
    result = _test(case.secret_type, case.good, case.fake.url, deadline_s=0.5)
    assert result.status == UNREACHABLE and result.message.endswith("did not answer within 500 ms (" + case.fake.url.removeprefix("http://") + ")")


def test_openai_quoting_the_whole_key_shows_none_of_it() -> None:
    key, wrong = _key("sk-proj-"), _key("sk-proj-")
    fake = OpenAIFake(key, echo="full")
    try:
        result = _test("openai", wrong, fake.url)
    finally:
        fake.stop()
    assert result == (INVALID, "OpenAI refused the key: invalid_api_key: Incorrect API key provided: [redacted]. "
                               "You can find your API key at https://platform.openai.com/account/api-keys. (HTTP 401)")


def test_gemini_refuses_an_invalid_key_with_a_400_and_a_barred_one_with_a_403() -> None:
    key, wrong, barred = _key("AIza", 39), _key("AIza", 39), _key("AIza", 39)
    fake = GeminiFake(key, barred=barred)
    try:
        invalid = _test("gemini", wrong, fake.url)
        forbidden = _test("gemini", barred, fake.url)
    finally:
        fake.stop()
    assert invalid.status == INVALID and invalid.message.startswith("Gemini refused the key: API_KEY_INVALID: API key not valid.")
    assert invalid.message.endswith("(HTTP 400)")
    assert forbidden.status == INVALID and "PERMISSION_DENIED" in forbidden.message and forbidden.message.endswith("(HTTP 403)")
    assert fake.requests[0].headers["x-goog-api-key"] == wrong and "authorization" not in fake.requests[0].headers




def test_each_provider_is_asked_in_its_documented_way(case: Case) -> None:
    _test(case.secret_type, case.good, case.fake.url)
    seen = case.fake.requests[0]
    expected = {
        "openai": ("GET", "/v1/models"), "anthropic": ("GET", "/v1/models?limit=1"), "gemini": ("GET", "/v1beta/models?pageSize=1"),
        "openrouter": ("GET", "/api/v1/key"), "gcp-service-account": ("POST", "/token"), "aws": ("POST", "/"),
        "azure": ("POST", f"/{TENANT}/oauth2/v2.0/token"),
    }[case.secret_type]
    assert (seen.method, seen.path) == expected
    assert seen.headers["user-agent"].startswith("openclaw-supabase-bridge/") and seen.headers["accept-encoding"] == "identity"
    if case.secret_type == "anthropic":
        assert seen.headers["anthropic-version"] == "2023-06-01" and seen.headers["x-api-key"] == case.good
    if case.secret_type in ("openai", "openrouter"):
        assert seen.headers["authorization"] == f"Bearer {case.good}"


def _gcp(account_key: rsa.RSAPrivateKey) -> GcpFake:
    return GcpFake(account_key.public_key(), EMAIL, KEY_ID)


def test_a_gcp_assertion_carries_googles_claims_and_the_key_id(account_key: rsa.RSAPrivateKey) -> None:
    fake = _gcp(account_key)
    try:
        before = int(time.time())
        assert _test("gcp-service-account", service_account(account_key, EMAIL, KEY_ID), fake.url).status == OK
    finally:
        fake.stop()
    assert fake.header == {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
    claims = fake.claims
    assert (claims["iss"], claims["scope"], claims["aud"]) == (EMAIL, GCP_SCOPE, f"{fake.url}/token")
    assert before <= claims["iat"] <= time.time() and 0 < claims["exp"] - claims["iat"] <= 3600


def test_a_gcp_assertion_signed_by_another_key_is_refused(account_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey) -> None:
    fake = _gcp(account_key)
    try:
        result = _test("gcp-service-account", service_account(stranger_key, EMAIL, KEY_ID), fake.url)
        unknown = _test("gcp-service-account", service_account(account_key, "someone@else.iam.gserviceaccount.com", KEY_ID), fake.url)
    finally:
        fake.stop()
    assert result == (INVALID, "Google OAuth refused the service account: invalid_grant: Invalid JWT Signature. (account [redacted]) (HTTP 400)")
    assert unknown.status == INVALID and "account not found ([redacted])" in unknown.message


def test_a_gcp_key_files_token_uri_is_never_called(account_key: rsa.RSAPrivateKey) -> None:
    decoy = _gcp(account_key)
    fake = _gcp(account_key)
    try:
        value = json.dumps({**json.loads(service_account(account_key, EMAIL, KEY_ID)), "token_uri": f"{decoy.url}/token"})
        assert _test("gcp-service-account", value, fake.url).status == OK
    finally:
        decoy.stop()
        fake.stop()
    assert decoy.requests == [] and len(fake.requests) == 1


def test_aws_signs_for_the_credentials_region_with_the_right_scope() -> None:
    key_id, secret, token = _aws_id(), _aws_secret(), base64.b64encode(secrets.token_bytes(90)).decode()
    fake = AwsFake(key_id, secret, region="eu-west-2", session_token=token)
    value = json.dumps({"access_key_id": key_id, "secret_access_key": secret, "session_token": token, "region": "eu-west-2"})
    at = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    try:
        result = _test("aws", value, fake.url, now=lambda: at)
        wrong_region = _test("aws", json.dumps({**json.loads(value), "region": "us-west-1"}), fake.url, now=lambda: at)
    finally:
        fake.stop()
    assert result == (OK, f"AWS STS accepted the credentials: {AWS_ARN} (HTTP 200)")
    seen = fake.requests[0]
    assert seen.headers["x-amz-date"] == "20231114T221320Z" and seen.headers["x-amz-security-token"] == token
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert seen.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={key_id}/20231114/eu-west-2/sts/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
    )
    assert wrong_region.status == INVALID and "SignatureDoesNotMatch: Credential should be scoped to a valid region" in wrong_region.message


def test_aws_refuses_an_unknown_access_key_id() -> None:
    fake = AwsFake(_aws_id(), _aws_secret())
    value = json.dumps({"access_key_id": _aws_id(), "secret_access_key": _aws_secret()})
    try:
        result = _test("aws", value, fake.url)
    finally:
        fake.stop()
    assert result == (INVALID, "AWS STS refused the credentials: InvalidClientTokenId: The security token included in the request is "
                               "invalid. ([redacted]) (HTTP 403)")


def test_aws_goes_to_the_credentials_region_by_default() -> None:
    value = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
    assert default_base_url("aws", json.dumps(value)) == "https://sts.amazonaws.com"
    assert default_base_url("aws", json.dumps({**value, "region": "ap-southeast-2"})) == "https://sts.ap-southeast-2.amazonaws.com"
    assert default_base_url("openai", "sk-x") == "https://api.openai.com"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [({"tenant_id": "fabrikam.example.org"}, 400, "AADSTS90002"), ({"client_id": "11111111-2222-3333-4444-555555555555"}, 400, "AADSTS700016"),
     ({"client_secret": "wrong~secret"}, 401, "AADSTS7000215")],
)
def test_azure_refusals_name_their_aadsts_code_but_not_the_ids(change: dict[str, str], status: int, code: str) -> None:
    secret = "Q8~" + secrets.token_urlsafe(30)
    fake = AzureFake(TENANT, CLIENT, secret)
    try:
        result = _test("azure", json.dumps({"client_id": CLIENT, "client_secret": secret, "tenant_id": TENANT, **change}), fake.url)
    finally:
        fake.stop()
    assert result.status == INVALID and f": {code}: " in result.message and result.message.endswith(f"(HTTP {status})"), result.message
    assert CLIENT not in result.message and TENANT not in result.message


def test_a_certificate_no_root_vouches_for_is_unreachable(tmp_path: Path) -> None:
    key = _key("sk-proj-")
    fake = TlsOpenAIFake(key, self_signed_context(tmp_path))
    try:
        result = _test("openai", key, fake.url)
    finally:
        fake.stop()
    assert result.status == UNREACHABLE and "TLS verification failed" in result.message, result.message


def test_a_value_that_does_not_fit_its_type_is_invalid_without_a_request() -> None:
    fake = OpenAIFake(_key("sk-proj-"))
    try:
        result = check.test_secret("openai", "sk-ant-api03-" + "x" * 40, fake.url, DEADLINE_S)
    finally:
        fake.stop()
    assert result == (INVALID, "openai: the key looks like an anthropic key (sk-ant-); use --type anthropic")
    assert fake.requests == []


def test_misuse_raises_one_line_naming_the_fix() -> None:
    with pytest.raises(BridgeError, match=r"generic secrets have nothing to test; give it a type with `bridge secrets set NAME --type TYPE --keep-value`"):
        check.test_secret("generic", "x", None, DEADLINE_S)
    with pytest.raises(UsageError, match="unknown secret type 'gpt'"):
        check.test_secret("gpt", "x", None, DEADLINE_S)
    for url, why in [("http://api.example.com", "refusing plain http for api.example.com"), ("https://u:p@x.example", "must not contain credentials"),
                     ("ftp://x.example", "must be a URL like")]:
        with pytest.raises(ConfigError, match=rf"\[providers.openai\] base_url.*{why}"):
            check.test_secret("openai", _key("sk-proj-"), url, DEADLINE_S)
