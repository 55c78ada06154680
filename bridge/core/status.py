"""The one vocabulary for a secret's state, shared by `secrets ls` (text and `--json`), doctor and `bridge ui`.

A recorded provider test says whether the key works; these words say it to a person. `not testable` is a type
with no provider check (generic): it says nothing about whether the key is used or switched off, which the old
badge `disabled` suggested. The policy words (expired, overdue, due) stand beside the state, never instead of it:
an overdue key can still be connected. docs/lifecycle.md lists them; a test checks the dashboard shows the same.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.core.secret_types import DEFAULT_TYPE, INVALID, OK, UNREACHABLE

CONNECTED = "connected"
REFUSED = "refused"
UNREACHABLE_STATE = "unreachable"
UNTESTED = "untested"
NOT_TESTABLE = "not testable"
STATES = (CONNECTED, REFUSED, UNREACHABLE_STATE, UNTESTED, NOT_TESTABLE)
"""Every state word, in the order a filter lists them."""
TEST_OUTCOME_OF = {CONNECTED: OK, REFUSED: INVALID, UNREACHABLE_STATE: UNREACHABLE}
"""State word -> the test outcome the database records (`status` in `--json`, unchanged since version 6)."""
DUE_WORDS = ("expired", "overdue", "due")
"""What the rotation policy says of a secret when it says anything; `ok` in `--json` means none of them."""
NOT_DUE = "not due"


def state(secret_type: object, outcome: object) -> str:
    """The state word of a secret of `secret_type` whose last test recorded `outcome` (None: never tested)."""
    if str(secret_type or DEFAULT_TYPE) == DEFAULT_TYPE:
        return NOT_TESTABLE
    for word, recorded in TEST_OUTCOME_OF.items():
        if outcome == recorded:
            return word
    return UNTESTED


def row_state(row: Mapping[str, object]) -> str:
    return state(row.get("type"), row.get("status"))


def due_word(due: object) -> str:
    """`expired`, `overdue` or `due` as the policy says, else `not due`."""
    return str(due) if isinstance(due, str) and due in DUE_WORDS else NOT_DUE
