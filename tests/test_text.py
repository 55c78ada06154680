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


HOSTILE_CELLS = (
    "x;=2+5;y", "gw;@SUM(1+1);z", "a,=1+1", "a\t=1", 'a;"=1+1";b', "a;  =1", "a; \" -2", "=x;+y,-z\t@w",
    "x;" + " " * 5_000 + "=1", "plain; text, here", "-", ";", "=",
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cells(text: str, separator: str) -> list[str]:
    """The cells a spreadsheet makes of a CSV file opened in a locale that splits on `separator`: quoted fields
    as csv readers take them, and each line also split naively, as a program ignoring quotes would."""
    import csv
    import io

    quoted = [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]
    naive = [cell for line in text.splitlines() for cell in line.split(separator)]
    return quoted + naive


def test_csv_cells_start_no_formula_whichever_separator_the_locale_splits_on() -> None:
    import csv
    import io

    from bridge.admin.audit import COLUMNS, write_csv

    records: list[dict[str, object]] = [dict.fromkeys(COLUMNS, value) for value in HOSTILE_CELLS]
    out = io.StringIO()
    write_csv([records], out)
    text = out.getvalue()
    for separator in (",", ";", "\t"):
        for found in spreadsheet_cells(text, separator):
            assert not found.lstrip(' "').startswith(FORMULA), (separator, found[:40])
    read = list(csv.DictReader(io.StringIO(text)))
    assert [row["secret_name"] for row in read] == [csv_cell(value) for value in HOSTILE_CELLS]
    assert read[0]["secret_name"] == "x;'=2+5;y" and read[1]["host"] == "gw;'@SUM(1+1);z"
