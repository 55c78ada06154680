"""Shapes checked before a value is stored (bridge.providers.shapes): one phrase naming the type and the field,
and never any part of the value."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bridge.providers.shapes import check_shape
from tests.support.provider_fakes import leaks, rsa_pem, service_account

OPENAI = "sk-proj-" + "Ab3_-" * 10
ANTHROPIC = "sk-ant-api03-" + "Zz9_-" * 10
OPENROUTER = "sk-or-v1-" + "0123456789abcdef" * 4
GEMINI = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K_-LmNoPqRsTu"
AWS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
AZURE = {"client_id": "0b8e5f4a-1c2d-4e3f-9a8b-7c6d5e4f3a2b", "client_secret": "Q~8xSecretValue.with-odd_chars", "tenant_id": "contoso.onmicrosoft.com"}


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def gcp(rsa_key: rsa.RSAPrivateKey) -> dict[str, object]:
    doc: dict[str, object] = json.loads(service_account(rsa_key, "bridge-test@bridge-test.iam.gserviceaccount.com", "a" * 40))
    return doc


def _with(doc: Mapping[str, object], **changes: object) -> str:
    changed = {**doc, **changes}
    return json.dumps({k: v for k, v in changed.items() if v is not None})


def _assert_fits(secret_type: str, value: str) -> None:
    assert check_shape(secret_type, value) is None


def _assert_refused(secret_type: str, value: str, phrase: str) -> None:
    problem = check_shape(secret_type, value)
    assert problem is not None and problem.startswith(f"{secret_type}: ") and phrase in problem, problem
    assert not leaks(secret_type, value, problem), problem


def test_good_values_of_every_type_fit(gcp: dict[str, object]) -> None:
    for secret_type, value in [("openai", OPENAI), ("anthropic", ANTHROPIC), ("openrouter", OPENROUTER), ("gemini", GEMINI),
                               ("aws", json.dumps(AWS)), ("azure", json.dumps(AZURE)), ("gcp-service-account", json.dumps(gcp)),
                               ("generic", "anything at all")]:
        _assert_fits(secret_type, value)
    _assert_fits("aws", json.dumps({**AWS, "access_key_id": "ASIAIOSFODNN7EXAMPLE", "session_token": "FwoGZXIvYXdzE+/=", "region": "eu-west-2"}))
    _assert_fits("aws", json.dumps({**AWS, "region": "us-gov-west-1", "extra": 1}))
    _assert_fits("azure", json.dumps({**AZURE, "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}))
    _assert_fits("openai", "sk-" + "a" * 17)


@pytest.mark.parametrize(
    ("secret_type", "value", "phrase"),
    [
        ("openai", "", "the value is empty"),
        ("openai", f" {OPENAI}\n", "has surrounding whitespace"),
        ("openai", "pk-" + "a" * 30, "does not start with sk-"),
        ("openai", ANTHROPIC, "looks like an anthropic key (sk-ant-); use --type anthropic"),
        ("openai", OPENROUTER, "looks like an openrouter key (sk-or-); use --type openrouter"),
        ("openai", GEMINI, "looks like a gemini key (AIza); use --type gemini"),
        ("openai", "sk-proj-" + "a" * 20 + "!x", "a character outside A-Z, a-z, 0-9, _ and - after sk-"),
        ("openai", "sk-proj-" + "a" * 20 + " b", "a character outside"),
        ("openai", "sk-abc", "too short (6 characters; at least 20)"),
        ("anthropic", OPENAI, "looks like an openai key (sk-); use --type openai"),
        ("anthropic", "xk-ant-" + "a" * 30, "does not start with sk-ant-"),
        ("anthropic", "sk-ant-" + "é" * 30, "a character outside"),
        ("openrouter", "or-" + "a" * 30, "does not start with sk-or-"),
        ("openrouter", "sk-or-v1", "too short"),
        ("gemini", GEMINI[:-1], "must be AIza and exactly 35 more characters (it has 34)"),
        ("gemini", GEMINI + "x", "(it has 36)"),
        ("gemini", GEMINI[:-1] + ".", "a character outside"),
        ("gemini", OPENAI, "looks like an openai key"),
        ("gemini", "aiza" + "a" * 35, "does not start with AIza"),
        ("aws", "AKIAIOSFODNN7EXAMPLE", "the value is not a JSON object"),
        ("aws", '["AKIAIOSFODNN7EXAMPLE"]', "the value is not a JSON object"),
        ("aws", _with(AWS, access_key_id=None), "access_key_id is missing"),
        ("aws", _with(AWS, access_key_id="AKIA123"), "access_key_id is not an access key id (AKIA or ASIA and 16 capital letters or digits)"),
        ("aws", _with(AWS, access_key_id="akiaiosfodnn7example"), "access_key_id is not an access key id"),
        ("aws", _with(AWS, access_key_id=12345), "access_key_id must be a non-empty string"),
        ("aws", _with(AWS, secret_access_key=None), "secret_access_key is missing"),
        ("aws", _with(AWS, secret_access_key=AWS["secret_access_key"][:-1]), "secret_access_key is not 40 characters of A-Z, a-z, 0-9, / and +"),
        ("aws", _with(AWS, secret_access_key=AWS["secret_access_key"] + " "), "secret_access_key has surrounding whitespace"),
        ("aws", _with(AWS, session_token=""), "session_token must be a non-empty string"),
        ("aws", _with(AWS, session_token="tok\r\nX-Evil: 1"), "session_token is not base64 text"),
        ("aws", _with(AWS, region="US-EAST-1"), "region is not a region name like us-east-1"),
        ("aws", _with(AWS, region="evil.example.com/x"), "region is not a region name"),
        ("aws", _with(AWS, access_key_id="ASIAIOSFODNN7EXAMPLE"), "an ASIA (temporary) access_key_id needs its session_token"),
        ("azure", "{not json", "the value is not a JSON object"),
        ("azure", _with(AZURE, client_id=None), "client_id is missing"),
        ("azure", _with(AZURE, client_id="my-app"), "client_id is not a GUID"),
        ("azure", _with(AZURE, client_secret=None), "client_secret is missing"),
        ("azure", _with(AZURE, client_secret=""), "client_secret must be a non-empty string"),
        ("azure", _with(AZURE, client_secret=" Q~8xSecretValue"), "client_secret has surrounding whitespace"),
        ("azure", _with(AZURE, tenant_id=None), "tenant_id is missing"),
        ("azure", _with(AZURE, tenant_id="../../evil"), "tenant_id is not a GUID or a domain name"),
        ("azure", _with(AZURE, tenant_id="contoso.onmicrosoft.com/oauth2"), "tenant_id is not a GUID or a domain name"),
    ],
)
def test_every_wrong_field_is_named_without_the_value(secret_type: str, value: str, phrase: str) -> None:
    _assert_refused(secret_type, value, phrase)


@pytest.mark.parametrize(
    ("field", "change", "phrase"),
    [
        ("type", "authorized_user", 'type must be "service_account"'),
        ("type", None, "type is missing"),
        ("client_email", None, "client_email is missing"),
        ("client_email", "bridge-test", "client_email is not an email address"),
        ("private_key", None, "private_key is missing"),
        ("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "private_key is not a PEM private key (-----BEGIN PRIVATE KEY-----"),
        ("private_key", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "private_key is not a PEM private key that loads"),
        ("private_key_id", None, "private_key_id is missing"),
        ("private_key_id", "", "private_key_id must be a non-empty string"),
        ("token_uri", None, "token_uri is missing"),
        ("token_uri", 7, "token_uri must be a non-empty string"),
    ],
)
def test_every_service_account_field_is_named(gcp: dict[str, object], field: str, change: object, phrase: str) -> None:
    _assert_refused("gcp-service-account", _with(gcp, **{field: change}) if change is not None else _without(gcp, field), phrase)


def _without(doc: dict[str, object], field: str) -> str:
    return json.dumps({k: v for k, v in doc.items() if k != field})


def test_a_private_key_must_be_an_unencrypted_rsa_key(gcp: dict[str, object], rsa_key: rsa.RSAPrivateKey) -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    encrypted = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    ).decode()
    for pem in (ec_pem, encrypted):
        _assert_refused("gcp-service-account", _with(gcp, private_key=pem), "private_key is not a PEM private key that loads")
    traditional = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    _assert_fits("gcp-service-account", _with(gcp, private_key=traditional))
    assert rsa_pem(rsa_key).startswith("-----BEGIN PRIVATE KEY-----")
