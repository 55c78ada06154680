"""bridge/core/text.py: what the admin's terminal and spreadsheet get from database text."""

from __future__ import annotations

import json

from bridge.core.text import cell, csv_cell, printable


def test_printable_escapes_every_terminal_control_and_keeps_the_rest() -> None:
    hostile = "a\x1b[2J\rb\nc\x07d\x85e\x7ff\u202eg\u2066h\u2028i\ud800"
    assert printable(hostile) == "a\\x1b[2J\\x0db\\x0ac\\x07d\\x85e\\x7ff\\u202eg\\u2066h\\u2028i\\ud800"
    assert printable("OPENAI_API_KEY é 日本 \\x1b") == "OPENAI_API_KEY é 日本 \\x1b"


def test_csv_cells_never_start_a_formula_and_hold_no_control_character() -> None:
    for raw in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(raw).startswith("'"), raw
    assert csv_cell("\x1b]0;x\x07") == "\\x1b]0;x\\x07"
    assert (csv_cell(None), csv_cell("plain"), csv_cell(True)) == ("", "plain", "True")
    assert (cell(None), cell(""), cell("x\ny")) == ("-", "-", "x\\x0ay")


def test_json_output_needs_no_help() -> None:
    text = json.dumps({"name": "a\x1b\r\n\x07\x85\x7f\u202e"})
    assert text.isascii() and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)
