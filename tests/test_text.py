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


def test_durations_read_as_people_say_them_never_past_120_of_a_unit() -> None:
    from bridge.core.durations import format_age, format_ago

    said = {0: "0 s", 0.25: "250 ms", 1.5: "1.5 s", 4: "4 s", 119: "119 s", 120: "2 min", 150: "2 min 30 s",
            7199: "119 min 59 s", 7200: "2 h", 86400: "24 h", 172800: "2 days", 604800: "7 days", 7776000: "90 days",
            7776000 + 3600: "90 days 1 h"}
    assert {seconds: format_age(seconds) for seconds in said} == said
    for seconds in range(0, 200 * 86400, 7919):
        number = int(format_age(seconds).split()[0])
        assert number < 120 or format_age(seconds).split()[1] == "days", seconds
    assert [format_ago(s) for s in (5, 180, 7300, 200000, -200000)] == [
        "just now", "3 min ago", "2 h ago", "2 days ago", "in 2 days"]


def test_times_in_one_short_form_to_the_minute_in_utc_whatever_the_server_sent() -> None:
    from bridge.core.text import ago, minute, minute_ago, utc_stamp

    for stamp in ("2026-12-07T12:17:14.515962+00:00", "2026-12-07T12:17:03Z", "2026-12-07T13:17:03+01:00"):
        assert minute(stamp).startswith("2026-12-07 12:17 UTC")
    assert utc_stamp("2026-12-07T12:17:14.515962+00:00") == "2026-12-07T12:17:14Z", "JSON keeps ISO 8601"
    now = 1796646003.0  # 2026-12-07T12:17:03Z + 180 s
    assert ago("2026-12-07T12:17:03Z", now) == "3 min ago"
    assert minute_ago("2026-12-07T12:17:03Z", now) == "2026-12-07 12:17 UTC (3 min ago)"
    assert minute(None) == ago(None, now) == minute_ago("", now) == ""


def test_every_state_has_one_word_and_generic_is_not_testable() -> None:
    from bridge.core.status import STATES, due_word, state

    assert STATES == ("connected", "refused", "unreachable", "untested", "not testable")
    assert [state("openai", s) for s in ("ok", "invalid", "unreachable", None)] == list(STATES[:4])
    assert state("generic", "ok") == state(None, None) == "not testable"
    assert [due_word(d) for d in ("expired", "overdue", "due", "ok", None)] == ["expired", "overdue", "due", "not due", "not due"]
