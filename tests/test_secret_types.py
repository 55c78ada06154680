"""bridge/core/secret_types.py: the types, their rotation defaults, and redaction that leaves no part of a value."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.errors import UsageError
from bridge.core.secret_types import (
    API_KEY_TYPES,
    DAY_S,
    DEFAULT_ROTATE_EVERY_S,
    DEFAULT_TYPE,
    REDACTED,
    SECRET_TYPES,
    SERVICE_TYPES,
    one_line,
    redact,
    secret_parts,
    shape_problem,
)

KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
PROPERTY = settings(max_examples=300, deadline=None)


def test_every_type_has_a_rotation_default_from_the_users_schedule() -> None:
    assert set(DEFAULT_ROTATE_EVERY_S) == set(SECRET_TYPES) == {*API_KEY_TYPES, *SERVICE_TYPES, DEFAULT_TYPE}
    assert all(DEFAULT_ROTATE_EVERY_S[t] == 90 * DAY_S for t in API_KEY_TYPES)
    assert all(DEFAULT_ROTATE_EVERY_S[t] == 180 * DAY_S for t in SERVICE_TYPES)
    assert DEFAULT_ROTATE_EVERY_S[DEFAULT_TYPE] is None
    assert DEFAULT_TYPE == "generic" and SECRET_TYPES[-1] == DEFAULT_TYPE


def test_generic_takes_anything_but_nothing_and_an_unknown_type_is_a_usage_error() -> None:
    assert shape_problem("generic", " any\nthing ") is None
    assert shape_problem("generic", "") == "generic: the value is empty"
    with pytest.raises(UsageError, match="unknown secret type 'gpt'; use one of: openai, anthropic"):
        shape_problem("gpt", "sk-x")


def test_parts_of_a_json_value_are_its_strings_and_the_lines_of_its_pem_key() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
    value = json.dumps({"private_key": pem, "client_email": "a@b.example", "nested": {"x": ["deep-string"]}, "n": 12345})
    parts = secret_parts("gcp-service-account", value)
    assert parts[0] == value
    assert {pem, "a@b.example", "deep-string", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7"} <= set(parts)
    assert "12345" not in parts
    assert secret_parts("openai", value) == (value,)
    assert secret_parts("aws", "not json") == ("not json",)


def test_redaction_covers_quoted_and_escaped_forms() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    for form in (secret, quote(secret, safe=""), json.dumps(secret)[1:-1].replace("/", "\\/")):
        assert redact(f"got {form}!", [secret]) == f"got {REDACTED}!"


def test_plain_words_inside_an_identity_stay_and_masked_tails_go() -> None:
    parts = ["bridge-test@my-project.iam.gserviceaccount.com", "sk-proj-Q9xabcdefghijklmnopwxyz"]
    assert redact("Invalid grant: account not found", parts) == "Invalid grant: account not found"
    assert redact("key sk-proj-Q9...wxyz, or ****wxyz", parts) == f"key {REDACTED}...{REDACTED}, or ****{REDACTED}"


def test_short_parts_are_not_redacted_alone() -> None:
    assert redact("a b abc", ["abc"]) == "a b abc"


def _echoes(key: str) -> list[str]:
    """The ways providers and proxies quote a key they were sent."""
    return [
        f"Incorrect API key provided: {key}.",
        f"<< {key[: max(8, len(key) // 2)]} >>",
        f"<< {key[:5]}{'*' * 20}{key[-4:]} >>",
        f"<< {key[:8]}…{key[-4:]} >>",
        f"<< {key[:3]}...{key[-4:]} >>",
        f"<< ****{key[-4:]} >>",
        f"<< ?key={quote(key, safe='')} >>",
        json.dumps({"error": {"message": f"bad key {key}"}}).replace("/", "\\/"),
    ]


def _assert_no_window(text: str, key: str) -> None:
    left = text.replace(REDACTED, "\x00")
    survivors = [key[i : i + 4] for i in range(len(key) - 3) if key[i : i + 4] in left]
    assert not survivors, (survivors, text)


@PROPERTY
@given(st.sampled_from(["sk-", "sk-proj-", "sk-ant-api03-", "sk-or-v1-", "AIza"]), st.text(KEY_CHARS, min_size=20, max_size=120))
def test_no_four_characters_of_a_key_survive_any_echo(prefix: str, body: str) -> None:
    key = prefix + body
    for echo in _echoes(key):
        _assert_no_window(redact(echo, secret_parts("openai", key)), key)


@PROPERTY
@given(st.text(SECRET_CHARS, min_size=40, max_size=40), st.text(KEY_CHARS, min_size=16, max_size=16))
def test_no_four_characters_of_a_json_secret_survive_any_echo(secret: str, key_id: str) -> None:
    value = json.dumps({"access_key_id": "AKIA" + key_id.upper(), "secret_access_key": secret})
    parts = secret_parts("aws", value)
    for echo in _echoes(secret):
        _assert_no_window(redact(echo, parts), secret)


@PROPERTY
@given(st.text(KEY_CHARS, min_size=30, max_size=80), st.integers(min_value=0, max_value=260), st.text(max_size=300))
def test_one_line_redacts_before_it_cuts(key: str, at: int, noise: str) -> None:
    text = ("x " * 200)[:at] + key + noise
    shown = one_line(text, [key])
    assert len(shown) <= 200 and "\n" not in shown and "\x1b" not in shown
    _assert_no_window(shown.removesuffix("…").replace("[redacted", "\x00"), key)


def test_one_line_collapses_escapes_and_cuts() -> None:
    assert one_line("a\n\n b\x1b[2J\tc", []) == "a b\\x1b[2J c"
    assert one_line("word " * 100, [], limit=20) == "word word word word…"


def test_a_4_kib_body_is_redacted_against_every_line_of_a_service_account_key() -> None:
    pem_lines = [("ABCDEFGHabcdefgh01234567+/" * 3)[i : i + 64] for i in range(0, 26 * 25, 26)]
    value = json.dumps({"private_key": "-----BEGIN PRIVATE KEY-----\n" + "\n".join(pem_lines) + "\n-----END PRIVATE KEY-----\n",
                        "client_email": "bridge@p.iam.gserviceaccount.com", "private_key_id": "f" * 40})
    parts = secret_parts("gcp-service-account", value)
    body = ("Invalid JWT Signature for account bridge@p.iam.gserviceaccount.com, key ffff****ffff. " * 60)[:4096]
    shown = one_line(body, parts)
    assert "bridge@p" not in shown and "ffff" not in shown and shown.startswith("Invalid JWT Signature for account [redacted]")


@pytest.mark.parametrize(
    "echo",
    [
        "key=sk-proj-Zx81KqQQQQQQ****",
        "GET /v1/keys/sk-proj-Zx81KqQQQQQQ failed",
        "token_sk-proj-Zx81KqQQQQQQ is not valid",
    ],
)
def test_a_fragment_glued_to_other_text_goes_too(echo: str) -> None:
    key = "sk-proj-Zx81KqQQQQQQrT5vW9yB3nD7fH1jL"
    shown = redact(echo, [key])
    assert "Zx81Kq" not in shown and "sk-proj" not in shown, shown


def test_lowercase_percent_escapes_are_redacted_too() -> None:
    secret = "Q8/stuVWX+abcDEF_ghiJKL"
    lowered = re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret, safe=""))
    assert lowered != quote(secret, safe="")
    shown = redact("client_secret=" + lowered, [secret])
    assert "stuVWX" not in shown and "abcDEF" not in shown, shown
