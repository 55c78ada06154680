"""Property-based fuzzing of the pure edges that take hostile bytes: the request parser and Supabase's answers.

Whatever arrives, the only outcomes are a value, a refusal of the request as a
whole, or an error for one id; never another exception, never the key.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.errors import BridgeError
from bridge.core.limits import MAX_RESPONSE_BYTES
from bridge.core.protocol import Request, RequestError, Response, encode_response, parse_request
from bridge.core.refs import IdError, parse_ref, select_value
from bridge.resolve.answer import split_answer
from bridge.vault.body import decode_body
from bridge.vault.errors import AnswerTooLarge, SupabaseUnavailable, error_for, parse_json

KEY = "sb_secret_FUZZKEY0123456789abcdefghij"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
any_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()))


@FUZZ
@given(st.binary(max_size=2048))
def test_request_parser_on_arbitrary_bytes(raw: bytes) -> None:
    try:
        request = parse_request(raw)
    except RequestError:
        return
    assert isinstance(request, Request) and all(isinstance(i, str) for i in request.ids)


@FUZZ
@given(st.dictionaries(st.sampled_from(["protocolVersion", "provider", "ids", "x"]), json_values))
def test_request_parser_on_arbitrary_json(doc: dict[str, Any]) -> None:
    with contextlib.suppress(RequestError):
        parse_request(json.dumps(doc).encode())


@FUZZ
@given(st.integers(min_value=1, max_value=100_000))
def test_nesting_of_any_depth_is_a_refusal(depth: int) -> None:
    raw = b"[" * depth + b"]" * depth
    with contextlib.suppress(RequestError):
        parse_request(raw)
    with contextlib.suppress(ValueError):
        parse_json(raw)


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["", "identity", "gzip", "deflate", "br", "x-gzip"]))
def test_body_decoder_on_arbitrary_bytes(raw: bytes, encoding: str) -> None:
    try:
        decoded = decode_body(raw, encoding, limit=1024)
    except (AnswerTooLarge, SupabaseUnavailable):
        return
    assert len(decoded) <= max(1024, len(raw))


@FUZZ
@given(st.integers(min_value=100, max_value=599), json_values, any_text)
def test_error_mapping_never_raises_and_never_holds_the_key(status: int, doc: object, noise: str) -> None:
    body = json.dumps({"code": KEY + noise, "message": f"{noise}{KEY[:-1]}{noise}", "hint": doc}).encode()
    for raw in (body, json.dumps(doc).encode(), noise.encode("utf-8", "surrogatepass")):
        error = error_for(status, raw, "resolve_secrets", KEY)
        assert isinstance(error, BridgeError)
        text = str(error)
        assert "\n" not in text and KEY not in text and KEY[:-1] not in text and KEY[10:26] not in text


@FUZZ
@given(st.dictionaries(any_text, json_values, max_size=8), st.lists(any_text, max_size=8))
def test_answers_of_any_shape_fail_only_their_own_ids(result: dict[str, Any], names: list[str]) -> None:
    good, bad = split_answer(names, result)
    assert not set(good) & set(bad)
    for name in names:
        if name in good:
            assert good[name] == result[name]
    response = Response(values=good, errors=dict(bad))
    body = encode_response(response)
    assert set(json.loads(body)["values"]) == set(good)


@FUZZ
@given(st.text(max_size=64), json_values)
def test_selecting_a_field_of_any_secret_is_a_value_or_an_id_error(selector: str, doc: object) -> None:
    ref_id = f"S#{selector}" if selector else "S"
    try:
        ref = parse_ref(ref_id)
    except IdError:
        return
    try:
        value = select_value(ref, json.dumps(doc))
    except IdError:
        return
    assert isinstance(value, str) and value


@FUZZ
@given(
    st.dictionaries(any_text, any_text, max_size=12),
    st.dictionaries(any_text, any_text, max_size=6),
    st.integers(min_value=0, max_value=3),
)
def test_encoded_responses_are_valid_json_within_the_limit_with_every_id(
    values: dict[str, str], errors: dict[str, str], huge: int
) -> None:
    values = {k: v for k, v in values.items() if k not in errors}
    for i in range(huge):
        values[f"HUGE{i}"] = "x" * (MAX_RESPONSE_BYTES // 2)
    body = encode_response(Response(values=values, errors={k: IdError(m) for k, m in errors.items()}))
    assert len(body) <= MAX_RESPONSE_BYTES
    doc = json.loads(body)
    assert set(doc["values"]) | set(doc["errors"]) == set(values) | set(errors)
