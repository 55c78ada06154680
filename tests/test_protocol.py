"""The exec protocol core: pure functions over bytes and dicts."""

from __future__ import annotations

import json

import pytest

from bridge.core.limits import MAX_RESPONSE_BYTES
from bridge.core.protocol import RequestError, Response, encode_response, parse_request
from bridge.core.refs import IdError, Ref, id_problem, parse_ref, select_value
from bridge.resolve.answer import Fetched, answer


def req(ids: list[str]) -> bytes:
    return json.dumps({"protocolVersion": 1, "provider": "supabase", "ids": ids}).encode()


def test_parse_request_dedupes_keeping_order() -> None:
    request = parse_request(req(["B", "A", "B"]))
    assert request.ids == ("B", "A") and request.provider == "supabase"


@pytest.mark.parametrize("version", [True, 1.5, "1", None, 0])
def test_only_protocol_version_1(version: object) -> None:
    with pytest.raises(RequestError, match="unsupported protocolVersion"):
        parse_request(json.dumps({"protocolVersion": version, "ids": []}).encode())


def test_invalid_utf8_is_a_request_error() -> None:
    with pytest.raises(RequestError, match="not valid JSON"):
        parse_request(b"\xff\xfe")


@pytest.mark.parametrize(
    "ref_id", ["A", "openai/api-key", "svc:prod#client_email", "a.b", "x" * 256, "9lives", "a/.../b"]
)
def test_valid_exec_ids(ref_id: str) -> None:
    assert id_problem(ref_id) is None


@pytest.mark.parametrize(
    "ref_id", ["", "/A", "-A", "A B", "x" * 257, "a/./b", "a/..", "..", "é", "A\n"]
)
def test_invalid_exec_ids(ref_id: str) -> None:
    assert id_problem(ref_id) is not None


def test_selector_splits_at_first_hash() -> None:
    assert parse_ref("sa#a#b") == Ref(id="sa#a#b", name="sa", selector="a#b")
    assert parse_ref("plain") == Ref(id="plain", name="plain", selector=None)


def test_select_value_nested_kinds() -> None:
    ref = parse_ref("S#k")
    assert select_value(ref, '{"k": "v"}') == "v"
    for doc, kind in (('{"k": null}', "null"), ('{"k": {"a": 1}}', "dict"), ('{"k": [1]}', "list"), ('{"k": true}', "bool")):
        with pytest.raises(IdError, match=f"is a {kind}, not a string"):
            select_value(ref, doc)
    with pytest.raises(IdError, match="not an object"):
        select_value(ref, "[1, 2]")


def test_answer_covers_every_id_and_fetches_each_name_once() -> None:
    calls: list[list[str]] = []

    def fetch(names: list[str]) -> Fetched:
        calls.append(names)
        return Fetched({"A": "a", "J": '{"x": "jx"}'})

    response, notes = answer(parse_request(req(["A", "J#x", "J#y", "/bad", "M"])), fetch)
    assert calls == [["A", "J", "M"]]
    assert notes == []
    assert response.values == {"A": "a", "J#x": "jx"}
    assert set(response.errors) == {"J#y", "/bad", "M"}
    assert response.errors["M"].code == "NOT_FOUND"
    assert response.errors["J#y"].code is None


def test_answer_with_no_valid_ids_does_not_fetch() -> None:
    def fetch(names: list[str]) -> Fetched:
        raise AssertionError("fetched")

    response, _ = answer(parse_request(req(["/x"])), fetch)
    assert set(response.errors) == {"/x"}


def test_encode_response_shape() -> None:
    body = json.loads(encode_response(Response(values={"A": "v"}, errors={"B": IdError("gone", "NOT_FOUND")})))
    assert body == {"protocolVersion": 1, "values": {"A": "v"}, "errors": {"B": {"message": "gone", "code": "NOT_FOUND"}}}


def test_encode_response_stays_within_openclaw_output_limit() -> None:
    big = "x" * (MAX_RESPONSE_BYTES // 2)
    body = encode_response(Response(values={"A": big, "B": big + "y", "C": "small"}))
    assert len(body) <= MAX_RESPONSE_BYTES
    doc = json.loads(body)
    assert doc["values"].keys() == {"A", "C"}
    assert "too large" in doc["errors"]["B"]["message"]


def test_cache_fallback_note_counts_ids_and_names_the_oldest_age() -> None:
    def fetch(names: list[str]) -> Fetched:
        return Fetched(
            {"A": "a", "J": '{"x": "jx"}', "OLD": IdError("too old")},
            reason="Supabase is unavailable (HTTP 503)",
            cached_ages={"A": 30.0, "J": 7300.0},
        )

    response, notes = answer(parse_request(req(["A", "J#x", "OLD"])), fetch)
    assert response.values == {"A": "a", "J#x": "jx"}
    assert notes == ["Supabase is unavailable (HTTP 503); served 2 of 3 ids from the cache, oldest 2 h 1 min old"]
