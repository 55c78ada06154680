"""The cache's pure rules: what a fresh answer does to the snapshot, and when the file must be rewritten."""

from __future__ import annotations

import json

from bridge.cache.store import (
    CONFIRM_REFRESH_S,
    FUTURE_TOLERANCE_S,
    CacheContents,
    Entry,
    bounded,
    merge,
    needs_write,
    trusted,
    worth_caching,
)
from bridge.core.limits import MAX_RESPONSE_BYTES

URL = "https://abcd.supabase.co"
NOW = 1_000_000.0
WEEK = 7 * 86400.0


def snap(**entries: tuple[str, float]) -> CacheContents:
    return CacheContents(URL, {name: Entry(value, at) for name, (value, at) in entries.items()})


def test_merge_refreshes_found_drops_deleted_and_keeps_unrequested() -> None:
    before = snap(A=("a", NOW - 10), GONE=("g", NOW - 10), OTHER=("o", NOW - 99))
    after = merge(before, ["A", "GONE", "NEW"], {"A": "a2", "NEW": "n"}, NOW, WEEK)
    assert after.entries == {"A": Entry("a2", NOW), "NEW": Entry("n", NOW), "OTHER": Entry("o", NOW - 99)}
    assert before.entries["A"] == Entry("a", NOW - 10)


def test_unchanged_and_recently_confirmed_needs_no_write() -> None:
    before = snap(A=("a", NOW - 10))
    assert not needs_write(before, merge(before, ["A"], {"A": "a"}, NOW, WEEK), NOW)


def test_a_change_a_deletion_or_an_old_confirmation_needs_a_write() -> None:
    before = snap(A=("a", NOW - 10), B=("b", NOW - CONFIRM_REFRESH_S - 1))
    assert needs_write(before, merge(before, ["A"], {"A": "changed"}, NOW, WEEK), NOW)
    assert needs_write(before, merge(before, ["A"], {}, NOW, WEEK), NOW)
    assert needs_write(before, merge(before, ["B"], {"B": "b"}, NOW, WEEK), NOW)
    assert not needs_write(before, merge(before, ["A"], {"A": "a"}, NOW, WEEK), NOW)


def test_entries_past_max_stale_are_purged_on_every_merge() -> None:
    before = snap(OLD=("o", NOW - WEEK - 1), FRESH=("f", NOW - 60))
    after = merge(before, ["X"], {"X": "x"}, NOW, WEEK)
    assert set(after.entries) == {"FRESH", "X"}


def test_an_older_answer_never_overwrites_or_drops_a_newer_entry() -> None:
    before = snap(A=("newer", NOW + 5), B=("kept", NOW + 5))
    after = merge(before, ["A", "B"], {"A": "older"}, NOW, WEEK)
    assert after.entries == before.entries


def test_an_answer_from_before_a_refusal_never_comes_back() -> None:
    refused = CacheContents(URL, {}, refused_at=NOW)
    assert merge(refused, ["A"], {"A": "from an answer Supabase gave before it refused"}, NOW - 1, WEEK) is refused
    assert not needs_write(refused, merge(refused, ["A"], {"A": "a"}, NOW, WEEK), NOW)
    lifted = merge(refused, ["A"], {"A": "a"}, NOW + 1, WEEK)
    assert lifted.refused_at is None and lifted.entries == {"A": Entry("a", NOW + 1)}
    assert needs_write(refused, lifted, NOW + 1)


def test_the_refusal_survives_the_file_format_and_the_bound() -> None:
    refused = CacheContents(URL, {}, refused_at=NOW)
    assert CacheContents.from_json(refused.to_json()).refused_at == NOW
    assert bounded(refused).refused_at == NOW and trusted(refused, NOW).refused_at == NOW
    assert trusted(refused, NOW - 3600).refused_at == NOW - 3600, "a refusal from a clock running ahead is clamped"
    assert CacheContents.from_json(snap(A=("a", NOW)).to_json()).refused_at is None


def test_future_stamps_are_not_trusted() -> None:
    loaded = snap(AHEAD=("a", NOW + FUTURE_TOLERANCE_S + 1), SKEW=("s", NOW + 1), PAST=("p", NOW - 1))
    assert set(trusted(loaded, NOW).entries) == {"SKEW", "PAST"}


def test_values_no_id_could_ever_get_are_not_cached() -> None:
    huge = "x" * MAX_RESPONSE_BYTES
    doc_with_small_field = json.dumps({"private_key": "k", "blob": huge})
    assert not worth_caching(huge)
    assert not worth_caching(json.loads('"\\ud800 lone surrogate"'))
    assert worth_caching(doc_with_small_field)
    assert not worth_caching(json.dumps({"blob": huge}))
    after = merge(snap(), ["HUGE", "DOC"], {"HUGE": huge, "DOC": doc_with_small_field}, NOW, WEEK)
    assert set(after.entries) == {"DOC"}


def test_the_file_is_bounded_keeping_the_newest_entries() -> None:
    many = snap(**{f"S{i}": ("v" * 1000, NOW - i) for i in range(100)})
    kept = bounded(many, limit=20_000)
    assert 0 < len(kept.entries) < 100
    assert len(kept.to_json()) <= 20_000
    assert set(kept.entries) == {f"S{i}" for i in range(len(kept.entries))}
