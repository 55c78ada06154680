"""Redaction catches the encoded forms providers and proxies quote a key in: base64 (standard and URL-safe, with
and without padding, and at each of the three byte offsets inside a longer base64 text such as `Basic
base64(user:key)`), hex in either case, URL-quoted, JSON-escaped, and the `user:key` pair of a Basic header.

A table over every form: once through the core (`one_line`), with a value holding characters every encoding
changes, and once through the command line, where a provider fake quotes an OpenAI key in that form and
`secrets test`, `test --json`, `ls --json` and the stored check_message must all hold none of it.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus

import pytest

from bridge.core.secret_types import REDACTED, one_line, secret_parts
from tests.support.bridge_proc import run_bridge
from tests.support.pg import PgCluster, audit_rows_dropped_after, forget
from tests.support.provider_fakes import OpenAIFake
from tests.test_lifecycle_cli import point_at


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


FORMS: dict[str, Callable[[str], str]] = {
    "base64": b64,
    "base64 unpadded": lambda key: b64(key).rstrip("="),
    "base64url": b64url,
    "base64url unpadded": lambda key: b64url(key).rstrip("="),
    "basic key:": lambda key: "Basic " + b64(key + ":"),
    "basic at offset 0 (abc:key)": lambda key: "Basic " + b64("abc:" + key),
    "basic at offset 1 (:key)": lambda key: "Basic " + b64(":" + key + "x"),
    "basic at offset 2 (u:key)": lambda key: "Basic " + b64("u:" + key + "yz"),
    "basic url-safe unpadded at offset 2": lambda key: "Basic " + b64url("u:" + key).rstrip("="),
    "hex": lambda key: key.encode().hex(),
    "HEX": lambda key: key.encode().hex().upper(),
    "url-quoted": lambda key: quote(key, safe=""),
    "url-quoted plus": lambda key: quote_plus(key),
    "json-escaped": lambda key: json.dumps(key)[1:-1],
    "user:key pair": lambda key: "user:" + key,
}
ODD_VALUE = 'Ab+/=~ "q\\uote"/&?é-0123456789xyz'
"""A value every encoding spells differently from the value itself."""


def encoded_pieces(key: str, form: str) -> list[str]:
    """What of an echo must not be shown: the encoded key with the encoding's prefix taken off."""
    shown = FORMS[form](key).removeprefix("Basic ").removeprefix("user:")
    return [shown.rstrip("="), key]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("value", [ODD_VALUE, "sk-proj-" + "Zx81aB9_cD-2eF" * 4], ids=["odd characters", "api key"])
def test_each_encoded_form_is_redacted_in_one_line(form: str, value: str) -> None:
    echoed = FORMS[form](value)
    shown = one_line(f"upstream said: Authorization: {echoed} was refused", secret_parts("generic", value))
    assert REDACTED in shown and "refused" in shown
    for piece in encoded_pieces(value, form):
        assert piece not in shown, (form, shown)


def test_the_forms_of_each_part_of_a_json_value_are_redacted() -> None:
    secret = "s3cr+t/" + "k" * 33
    key_id = "AKIA" + "Q" * 16
    basic, hexed = b64("x:" + secret), key_id.encode().hex()
    shown = one_line(f"echo {basic} {hexed}", secret_parts("aws", json.dumps({"access_key_id": key_id, "secret_access_key": secret})))
    assert basic[4:-4] not in shown and hexed not in shown and shown.count(REDACTED) == 2, shown


# --- through the command line ----------------------------------------------------------------------------------


@pytest.fixture
def quiet(pg: PgCluster) -> Iterator[None]:
    with audit_rows_dropped_after(pg):
        yield


@pytest.mark.parametrize("form", FORMS)
def test_an_encoded_echo_reaches_no_output_and_no_stored_message(
    form: str, env_bootstrap: dict[str, str], pg: PgCluster, quiet: None
) -> None:
    name = f"ENCODED_{secrets.token_hex(4).upper()}"
    stored, other = ("sk-proj-" + secrets.token_urlsafe(48))[:56], ("sk-proj-" + secrets.token_urlsafe(48))[:56]
    fake = OpenAIFake(other, echo_as=FORMS[form])
    point_at(env_bootstrap, {"openai": fake.url})
    try:
        assert run_bridge(["secrets", "set", name, "--type", "openai"], env_bootstrap, stored.encode()).returncode == 0
        plain = run_bridge(["secrets", "test", name], env_bootstrap)
        as_json = run_bridge(["secrets", "test", name, "--json"], env_bootstrap)
        listed = run_bridge(["secrets", "ls", name, "--json"], env_bootstrap)
        with pg.connect("postgres", autocommit=True) as conn:
            messages = [row[0] for row in conn.execute("SELECT check_message FROM vault_bridge.secret_meta WHERE check_message IS NOT NULL").fetchall()]
    finally:
        fake.stop()
        forget(pg, name)
    assert plain.returncode == 1 and as_json.returncode == 1 and listed.returncode == 0, plain.stderr + as_json.stderr
    assert json.loads(as_json.stdout)["status"] == "invalid" and REDACTED in json.loads(as_json.stdout)["message"]
    (row,) = json.loads(listed.stdout)
    assert REDACTED in row["check_message"]
    for piece in encoded_pieces(stored, form):
        for where, text in (("test", plain.all_output()), ("test --json", as_json.all_output()),
                            ("ls --json", listed.all_output()), ("check_message", "\n".join(messages))):
            assert piece not in text, f"{form}: {where} holds the key"


@pytest.mark.parametrize("form", FORMS)
def test_a_credential_echoed_in_an_error_is_scrubbed_in_every_form(form: str) -> None:
    """The bridge's own credentials (the Supabase key, a gateway token) go through keys.scrub, which spells them
    the same ways: a proxy echoing `Authorization: Basic ...` in a 502 must not carry the key to stderr."""
    from bridge.core.keys import scrub

    key = "sb_secret_" + "Q7x-_" * 8
    shown = scrub(f"502 from proxy: {FORMS[form](key)} refused", key)
    for piece in encoded_pieces(key, form):
        assert piece not in shown, (form, shown)
