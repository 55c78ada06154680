"""The cache's pure rules: what a fresh answer does to the snapshot, and when the file must be rewritten."""

from __future__ import annotations

from bridge.cache import CONFIRM_REFRESH_S, Entry, Snapshot, merge, needs_write

URL = "https://abcd.supabase.co"
NOW = 1_000_000.0


def snap(**entries: tuple[str, float]) -> Snapshot:
    return Snapshot(URL, {name: Entry(value, at) for name, (value, at) in entries.items()})


def test_merge_refreshes_found_drops_deleted_and_keeps_unrequested() -> None:
    before = snap(A=("a", NOW - 10), GONE=("g", NOW - 10), OTHER=("o", NOW - 99))
    after = merge(before, ["A", "GONE", "NEW"], {"A": "a2", "NEW": "n"}, NOW)
    assert after.entries == {"A": Entry("a2", NOW), "NEW": Entry("n", NOW), "OTHER": Entry("o", NOW - 99)}
    assert before.entries["A"] == Entry("a", NOW - 10)


def test_unchanged_and_recently_confirmed_needs_no_write() -> None:
    before = snap(A=("a", NOW - 10))
    assert not needs_write(before, merge(before, ["A"], {"A": "a"}, NOW), NOW)


def test_a_change_a_deletion_or_an_old_confirmation_needs_a_write() -> None:
    before = snap(A=("a", NOW - 10), B=("b", NOW - CONFIRM_REFRESH_S - 1))
    assert needs_write(before, merge(before, ["A"], {"A": "changed"}, NOW), NOW)
    assert needs_write(before, merge(before, ["A"], {}, NOW), NOW)
    assert needs_write(before, merge(before, ["B"], {"B": "b"}, NOW), NOW)
    assert not needs_write(before, merge(before, ["A"], {"A": "a"}, NOW), NOW)
